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
