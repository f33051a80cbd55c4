"""Gate m3's default inputs; light, imported by the declaration and the verbs."""

TEMPLATE = "artifacts/m3/goal_template"  # the approved golden
ROM = "roms/worldgate.gb"  # the project's own ROM (gate m3 build-rom makes it)
STATE = "traces/m3/start.state"  # recorded by gate m3 record-state
TRACE = "traces/m3/actions.jsonl"  # the route to room 2, then waits (B is inert there)
REPLAYS = 3  # simple-rl-m3-plan §9 risk C: replay repeatedly and compare hashes
# simple-rl-m3-plan §9 Risk B: traces on which done must never fire (the committed non-goal traces)
NEGATIVES = tuple(
    f"traces/m3/negatives/{n}.jsonl"
    for n in ("wander_room1", "at_door", "menu_in_room2", "enter_and_leave")
)
# The nearest non-goal distance must be at least this many taus: tau sits at most 2/3 of the way to it,
# so a non-goal screen would have to come a third closer to the goal before it could match. With §6's
# midway tau this holds exactly when the nearest non-goal distance is at least 3x the worst goal frame's.
TAU_MARGIN = 1.5
