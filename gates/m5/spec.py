"""Gate m5's fixed measures (definitions in gates/m5/__init__.py); light, imported by the declaration."""

HOLD = 6  # frames each action is held: a hop's rise, a walk's first strides, a crouch settled
STATES = 64  # held-out states (the minimum), each tried under all 5 actions
IDM_STATES = 200  # training-seed states the inverse-dynamics model learns from (x 5 actions)
IDM_SEED = 7  # its levels: neither a train verb's default seed 0 nor the evaluation seed
IDM_TRUSTED = 0.99  # the IDM's accuracy on held-out true clips below this: the measure is void
ACCURACY = 0.95  # the milestone's > 95 %, overall and for each action
DELTA_PSNR_DB = 1.0  # Genie's controllability: true-action minus random-action rollout PSNR
LATENCY_FRAMES = 200  # timed one-frame predictions at batch 1, after LATENCY_WARMUP
LATENCY_WARMUP = 20
