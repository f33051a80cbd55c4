"""Gate m2's fixed measures (definitions in gates/m2/__init__.py); light, imported by the declaration."""

TRAJ_TOL_PX = 2.0  # the brief: within 2 px of the true position
PALETTE_TOL = (
    24.0  # RGB distance (0..255): ~5% of the cube's diagonal, below any two palette colours' gap
)
PALETTE_SHARE = 0.95  # share of a frame's pixels that must be within PALETTE_TOL of the palette
ROLLOUT_MSE_BOUND = 0.05  # per-step MSE bound over the rollout: 5x the one-step threshold
ROLLOUT_LEN = 10  # the milestone's "no artifacts for 10 predictions"
DIVERSE_MIN_DIFF = (
    1.0 / 255
)  # two samples "differ": >= one grey level on average where futures differ
DIVERSE_VALID_MSE = 0.01  # and each sample stays as accurate as the one-step criterion asks
# Noise draws per stochastic context; 0: as many as true futures were branched for it (M: 32 RNG keys
# on the built-in game, 16 sticky draws on Atari). A rare outcome is ~1/M (a platformer enemy turns with
# p = 1/64 a frame), so the truth's own sampler needs ~M draws to show it: with 8 it reaches 2 outcomes
# in ~24% of the eval contexts (1 - (31/32)^8 = 0.22), with 32 in ~66%.
DIVERSE_SAMPLES = 0
ORACLE_SEED = 11  # the oracle reference's draws (indices into each context's true futures)
STOCHASTIC_MIN = (
    20  # contexts whose futures differ: fewer and `diverse` rests on a handful of cases
)
COPY_NOISE = (
    3.0 / 255
)  # the noise baseline: copy-last + uniform +-3 grey levels (differs, covers nothing)
OBJ_THR = (
    0.1  # a pixel moved: its largest channel changed by > 0.1 (25 grey levels; above any noise)
)
OBJ_JOIN_PX = 2  # changed pixels within 4 px are one object: a sprite's leading and trailing edges
OBJ_MIN_AREA = 2  # components of fewer pixels are noise
OBJ_MAX_SHARE = (
    1 / 32
)  # components over 1/32 of the frame are background (a scrolling camera), not objects
# beats_baseline, each a margin over copy-last-frame (and over its noisy twin for diversity):
BEAT_MSE_RATIO = 0.5  # one-step MSE at most half copy-last's: it predicts, not just copies
BEAT_TRAJ_POINTS = 0.10  # 10 points more moving objects placed within TRAJ_TOL_PX
BEAT_ROLLOUT_RATIO = 0.8  # after 10 fed-back steps, 20% below copy-last's MSE: the gain survives
BEAT_DIVERSE_POINTS = 0.25  # a quarter of the stochastic contexts covered more than the baselines
