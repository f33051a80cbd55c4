"""Gate m9's fixed numbers (definitions in gates/m9/__init__.py); light, imported by the declaration."""

GENRES = ("platformer", "puzzle", "rpg")  # the built-in games, one genre each
GENERAL = "general"  # the model trained on all three
STARTS = 48  # held-out starts per genre
HORIZON = 16  # generated frames per start, each fed back as context
WARM = (8, 40)  # steps of the mixed policy before a start (uniform in this range): varied states
SCRIPTED_SHARE = 0.75  # of the actions (before and during a clip) from the game's scripted policy,
# the rest uniform: the scripted policy gets places (items, pushes, rooms), random moves bump walls
PHYSICS = 0.90  # the thresholds
LOGIC = 0.95
STATE = 0.95
GAIN = 0.20  # each specialised model's error at least this much below the general model's
MARGIN = 0.05  # a model beats copy-last on its measure by at least this much (absolute share)
MEASURES = {
    "platformer": "physics_accuracy",
    "puzzle": "logic_consistency",
    "rpg": "state_management",
}
