"""Gate m3's default inputs; light, imported by the declaration and the verbs."""

TEMPLATE = "artifacts/m3/goal_template"  # the approved golden
ROM = "roms/worldgate.gb"  # the project's own ROM (gate m3 build-rom makes it)
STATE = "traces/m3/start.state"  # recorded by gate m3 record-state
TRACE = "traces/m3/actions.jsonl"  # the route to room 2, then waits (B is inert there)
REPLAYS = 3  # simple-rl-m3-plan §9 risk C: replay repeatedly and compare hashes
