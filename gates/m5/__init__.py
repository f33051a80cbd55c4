"""Gate m5 "control" (functional-milestones, Milestone 4): generation that follows the 5 actions.

`gate m5` takes held-out grounded states of the built-in platformer (levels of the evaluation seed),
holds each of the 5 actions for HOLD frames in the game and in the world model (from the state's frame
alone, the m4 golden by default), and judges the generated frames (numbers in gates/m5/spec.py):

- idm_accuracy_true: an inverse-dynamics model (core/models/idm.py: the player's pixels and decoded
  steps in each frame -> the action), trained in the run on true clips of IDM_SEED's levels, reads the
  action back from held-out TRUE clips. Below IDM_TRUSTED the measure is not trusted and the gate fails.
- action_accuracy / min_action_accuracy: the same IDM on the model's clips, overall and for the worst
  of the 5 actions (copy-last's are reported beside: ~1/5).
- delta_psnr: Genie's controllability, PSNR of the model's frames under the true actions minus under
  uniformly random actions, both against the game's frames under the true actions (dB, mean over the
  HOLD frames). The game's own frames under the random actions are measured the same way
  (game_random_actions_psnr): what a perfect model would score for them.
- response_ms: one predicted frame at batch 1 on this device, p95 over LATENCY_FRAMES after warm-up.
- deterministic: two rollouts with the same noise are bit-identical.
- displacement_error_px (reported): |the model's decoded player displacement over the hold - the
  game's|, mean; copy-last's beside.

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from gates.m5.spec import ACCURACY, DELTA_PSNR_DB, IDM_TRUSTED
from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m5",
    "control",
    "functional-milestones, Milestone 4",
    ("m4",),
    (
        C("idm_accuracy_true", ">=", IDM_TRUSTED, "", "the IDM reads the game's own clips (trust)"),
        C("action_accuracy", ">", ACCURACY, "", "actions read back from the model's frames"),
        C("min_action_accuracy", ">", ACCURACY, "", "the worst of the 5 actions"),
        C("delta_psnr", ">", DELTA_PSNR_DB, "dB", "PSNR under true minus random actions"),
        C("response_ms", "<", 50, "ms", "one frame at batch 1, p95"),
        C("deterministic", "==", 1, "", "same seed, same frames, bit for bit"),
    ),
    run=lazy("gates.m5.run:evaluate"),
    config=lazy("gates.m5.config:M5Config"),
    summary="generation that follows the 5 actions",
    default_backend="builtin",
)
