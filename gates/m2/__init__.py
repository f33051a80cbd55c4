"""Gate m2 "predict" (functional-milestones, Milestone 2): from 3 frames (and the action) predict the 4th.

`gate m2` evaluates a trained predictor checkpoint (default: the golden artifacts/m2/predictor) beside
the copy-last-frame baseline on held-out episodes regenerated from a fixed seed; `gate m2 train` trains
one. Windows that cross an episode reset are excluded. Definitions (history/m1-m2-models.md):

- mse: pixels in [0, 1], one-step, mean over held-out windows.
- trajectory_accuracy: the player found in the predicted frame (snapped to the model's palette, the
  colours of its training frames, then the game's locate_player) within TRAJ_TOL_PX of the player found in the true frame; windows where the true frame
  shows no player are left out.
- stable_10: 10 autoregressive predictions (true actions; each fed back as a frame drawn in the model's
  palette) stay finite, have >= PALETTE_SHARE of their raw pixels within PALETTE_TOL of the game's
  palette (the held-out frames' colours) at every step, and keep the per-step MSE <= ROLLOUT_MSE_BOUND.
- diverse: on contexts whose true futures differ (same state, other RNG keys), the share where two
  samples differ by > DIVERSE_MIN_DIFF (mean abs, over the pixels where the true futures differ) and both
  stay within MSE 0.01 of one of the true futures.
- beats_baseline: better than copy-last-frame on mse, trajectory_accuracy, rollout_mse_10 and diverse.
"""

from __future__ import annotations

from gates.m2.spec import PALETTE_SHARE, ROLLOUT_MSE_BOUND, STOCHASTIC_MIN, TRAJ_TOL_PX
from shell.registry import Criterion as C
from shell.registry import Gate


def config(**values: object) -> object:
    """The gate's configuration (pydantic, unknown keys refused), built lazily so listing stays fast."""
    from gates.m2.config import M2Config

    return M2Config(**values)


def run(ctx) -> None:
    from gates.m2.run import evaluate

    evaluate(ctx)


def commands(app) -> None:
    from gates.m2.train import add_train_verb

    add_train_verb(app)


GATE = Gate(
    "m2",
    "predict",
    "functional-milestones, Milestone 2",
    ("m1",),
    (
        C("mse", "<", 0.01, "", "one-step MSE, pixels in [0, 1]"),
        C("trajectory_accuracy", ">", 0.8, "", f"moving objects placed within {TRAJ_TOL_PX:g} px"),
        C("rollout_mse_10", "<", ROLLOUT_MSE_BOUND, "", "MSE after 10 autoregressive steps"),
        C("palette_fraction_10", ">=", PALETTE_SHARE, "", "worst rollout frame's in-palette share"),
        C("stable_10", "==", 1, "", "its own rollout finite, in palette and bounded, 10 steps"),
        C("stochastic_contexts", ">=", STOCHASTIC_MIN, "", "contexts with differing true futures"),
        C("diverse", ">", 0.5, "", "share of stochastic contexts whose samples reach 2+ outcomes"),
        C("beats_baseline", "==", 1, "", "beats copy-last (and its noisy twin) by each margin"),
    ),
    run=run,
    commands=commands,
    config=config,
    summary="predict the 4th frame from 3",
    default_backend="builtin",
)
