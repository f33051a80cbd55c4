"""Gate m12 "community" (functional-milestones, Milestone 11): others can fine-tune the models.

On a game none of the shipped models was trained on (the project's own Game Boy ROM through the pyboy
backend), `gate m12` fine-tunes the shipped autoencoder and predictor (the zoo's first entries) with a
small fixed budget and trains the same architectures from scratch with the same budget, then judges all
of them, and the shipped models untouched, on the new game's held-out episodes with m1's and m2's
measures (gates/common/heldout.py). It also runs the training guide's own commands (docs/TRAINING.md,
read from the guide) in a clean temporary project with tiny budgets, and checks the guide is there.
`gate m12 finetune --from MODEL --data DATASET` fine-tunes any zoo entry or registered model.

The spec's "10+ community models" is adoption, not something a gate can measure here.
Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from shell.registry import Criterion as C
from shell.registry import Gate, lazy

MARGIN_DB = 1.0  # fine-tuned PSNR over the shipped codec's and over scratch's (m1), in dB
MSE_RATIO = 0.9  # fine-tuned one-step MSE at most 0.9x the shipped predictor's and scratch's (m2)

GATE = Gate(
    "m12",
    "community",
    "functional-milestones, Milestone 11",
    ("m11",),
    (
        C("reproducibility", "==", 1, "", "the guide's commands, read from docs/TRAINING.md, ran in a clean temporary project and produced a judged model"),
        C("documentation", "==", 1, "", "docs/TRAINING.md goes from data to an approved model, README links it"),
        C("m1_gain_vs_shipped_db", ">", MARGIN_DB, "dB", "held-out PSNR: fine-tuned autoencoder - shipped autoencoder"),
        C("m1_gain_vs_scratch_db", ">", MARGIN_DB, "dB", "held-out PSNR: fine-tuned - from scratch, same budget"),
        C("m2_ratio_vs_shipped", "<", MSE_RATIO, "", "held-out one-step MSE: fine-tuned predictor / shipped predictor"),
        C("m2_ratio_vs_scratch", "<", MSE_RATIO, "", "held-out one-step MSE: fine-tuned / from scratch, same budget"),
    ),
    run=lazy("gates.m12.run:evaluate"),
    commands=lazy("gates.m12.verbs:add_verbs"),
    config=lazy("gates.m12.config:config"),
    summary="fine-tune on a new game, a training guide CI runs, a model zoo",
    default_backend="pyboy",
)  # fmt: skip
