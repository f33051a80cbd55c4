"""Gate m4's fixed measures (definitions in gates/m4/__init__.py); light, imported by the declaration."""

CLIP = 30  # the milestone's 30 frames
STARTS = 32  # held-out starts (the minimum)
SAMPLES = 4  # noise samples per start
BRANCHES = 16  # RNG keys per start for the true futures: an enemy turns with p = 1/128 a frame, so
# over 30 frames with ~2 enemies on screen ~37% of keys turn one: 16 keys show 2+ futures most times
STOCHASTIC_MIN = 8  # starts whose true futures differ: fewer and diversity rests on a handful
PALETTE_TOL = 24.0  # as m2: RGB distance below any two palette colours' gap
PALETTE_SHARE = 0.95  # as m2
JUMP_TOL = 2.0  # px beyond the true clips' largest player step (pose changes move the centroid)
EDGE_PX = 20  # an object may enter or leave within this many px of the screen's left/right edge
TOUCH_PX = 20  # a coin or enemy may vanish within this many px of the player's centre
REST_FRAMES = 6  # the player rests: the same decoded height for this many frames (a jump's apex
# holds one height for up to 4-5 frames at 0.375 px/frame^2)
DIVERSE_MARGIN = 0.2  # diversity above copy-last's by this much
