"""Gate m4 "generate" (functional-milestones, Milestone 3): 30-frame clips from one frame.

`gate m4` plays held-out starts (levels of the evaluation seed, which training refuses) under scripted
actions, in the game and in the world model (from the start's frame alone, several noise samples
each), and judges the generated frames from the pixels: the player, enemies, coins and solid ground are
decoded from each frame (core/games/platformer_decode.py), never read from the model. Each measure is
taken the same way on the true clips (which must pass: the measure is trusted only then) and on
copy-last-frame, reported beside the model. Definitions (gates/m4/spec.py holds the numbers):

- coherence: share of generated steps with no flicker (the frame's change within the true clips'
  largest step change), in palette (PALETTE_SHARE of pixels within PALETTE_TOL of the game's colours)
  and no player jump (the decoded player moves no farther than the true clips' largest step + JUMP_TOL
  px, and is there: a frame whose player cannot be found, e.g. smeared away, is not coherent).
- consistency: share of generated steps whose coins and enemies change only as the rules allow: a
  coin or enemy that disappears was touched by the player or was at the screen's edge; one that
  appears does so at the edge.
- gravity_error: |a_model / a_true - 1| where a is the mean vertical acceleration of the decoded
  player over airborne steps (no ground under the feet for three frames), model over its clips, truth
  over the same starts and actions.
- solid_overlap: share of generated frames where ground or wall pixels show inside the player's body.
- floating: share of generated frames where the player has rested vertically for REST_FRAMES frames
  with nothing under its feet.
- diversity: where the game's own RNG makes the futures of a start differ (its key branched
  BRANCHES times, a visible enemy moving differently: the candidates are probed unrendered and such
  starts are taken first), the samples of the model are matched to the nearest distinct-looking true
  future (4x-pooled frames); coverage = distinct futures reached / min(futures, samples), mean over
  such starts, at least STOCHASTIC_MIN of them.
- beats_baseline: diversity beats copy-last's by DIVERSE_MARGIN and the model's gravity_error is
  below copy-last's (copy-last is coherent and consistent by construction; it fails physics).

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from gates.m4.spec import STOCHASTIC_MIN
from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m4",
    "generate",
    "functional-milestones, Milestone 3",
    ("m2",),
    (
        C(
            "coherence",
            ">=",
            0.95,
            "",
            "generated steps with no flicker, palette break or player jump",
        ),
        C("consistency", ">=", 0.95, "", "steps whose coins and enemies change only by the rules"),
        C("gravity_error", "<", 0.10, "", "airborne vertical acceleration vs the game's, relative"),
        C("solid_overlap", "<=", 0.02, "", "frames with ground showing inside the player"),
        C("floating", "<=", 0.02, "", "frames with the player resting in mid-air"),
        C("stochastic_starts", ">=", STOCHASTIC_MIN, "", "starts whose true futures differ"),
        C("diversity", ">", 0.5, "", "distinct true futures reached by the samples"),
        C("beats_baseline", "==", 1, "", "beats copy-last on diversity and gravity"),
    ),
    run=lazy("gates.m4.run:evaluate"),
    commands=lazy("gates.m4.verbs:add_verbs"),
    config=lazy("gates.m4.config:M4Config"),
    summary="30-frame coherent clips from one frame",
    default_backend="builtin",
)
