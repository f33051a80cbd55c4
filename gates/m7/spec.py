"""Gate m7's fixed measures (definitions in gates/m7/__init__.py); light, imported by the declaration."""

ROUTES = (
    6  # held-out levels, each one route: 6 x 901 frames of 256x256 are 1.1 GB as uint8, per side
)
CANDIDATES = (
    32  # levels tried: routes where the player dies or never leaves the start view are dropped
)
FRAMES = 900  # 30 s at 30 fps, the milestone's horizon
OUT, BACK = 300, 400  # frames running right, then left (back to the start), then right again
AWAY_PX = 256  # a revisit counts when the camera went at least a screen away in between
FINAL = 30  # the last second: where drift is judged
PAIRS = 24  # revisit pairs sampled per route, evenly
TOL = (
    16  # a pixel matches when every channel is within this (of 255): copies are exact, paint is not
)
COIN_PX = 4  # a 16x16 cell of the start view holds a coin when at least this many coin pixels show
STEP_PX = (
    9.0,
    10.0,
)  # the player's largest decoded move in a frame (x: 2.5 px + a 4 px camera step
# + decoding jitter; y: the fastest fall 8 px + jitter); the game's own clips never exceed it
IN_RANGE = 0.90  # share of final frames whose statistics lie in the game's range
CAMERA_PX = 16.0  # mean |camera track - the game's|, px: one tile
MATCH = 0.90  # revisit and return: share of the truth's still pixels matched
PERMANENCE = 0.95  # start-view coin cells present or gone as in the game
NO_TELEPORT = 0.99  # share of the player's decoded steps within STEP_PX
