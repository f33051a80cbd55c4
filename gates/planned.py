"""The roadmap's gates that are not built yet, declared so `gate status` shows the whole matrix.

Built gates (m1-m5, m7-m12) are declared once, in their own packages; a built gate registered under the
same id as a planned one here supersedes it.
Criteria are the specs' own (../shared/specs), in the units a built gate will report.
"""

from __future__ import annotations

from shell.registry import Composite, Gate
from shell.registry import Criterion as C

FM = "functional-milestones"

PLANNED: list[Gate | Composite] = [
    Gate(
        "m6",
        "distill",
        f"{FM}, Milestone 5",
        ("m5",),
        (
            C("similarity", ">", 0.6),
            C("param_reduction", ">=", 40),
        ),
        summary="a student matching a pluggable teacher",
    ),  # fmt: skip
    Gate("m13", "scale", f"{FM}, Milestone 12", ("m12",), summary="1000+ concurrent users"),
]


# The roadmap's go/no-go gates and "the one test that matters" (functional-milestones), computed by
# `gate status` from their members' last verdicts.
COMPOSITES: list[Composite] = [
    Composite("G1", "core technology", f"{FM}, Gate 1", ("m1", "m2"),
              "can reconstruct and can predict the next frame"),
    Composite("G2", "interactivity", f"{FM}, Gate 2", ("m5",),
              "responds to all actions with latency < 100 ms"),
    Composite("G3", "quality", f"{FM}, Gate 3", ("m6", "m7"),
              "distillation quality > 0.5 and stable over a long horizon"),
    Composite("G4", "performance", f"{FM}, Gate 4", ("m8",), "runs on an RTX 3060 at >= 8 FPS"),
    Composite("one-test", "the one test that matters", f"{FM}, The One Test That Matters",
              ("m8",), "model < 2 GB, VRAM <= 8 GB, >= 8 FPS, good enough, set up in < 10 min"),
]  # fmt: skip

PLANNED.extend(COMPOSITES)
