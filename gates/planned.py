"""The roadmap's gates that are not built yet, declared so `gate status` shows the whole matrix.

A built gate registered under the same id supersedes its planned declaration here.
Criteria are the specs' own (../shared/specs), in the units a built gate will report.
"""

from __future__ import annotations

from shell.registry import Criterion as C
from shell.registry import Gate

FM = "functional-milestones"

PLANNED: list[Gate] = [
    Gate(
        "m1",
        "reconstruct",
        f"{FM}, Milestone 1",
        (),
        (
            C("psnr", ">", 30, "dB"),
            C("ssim", ">", 0.85),
            C("latent_ratio", "<", 0.1),
            C("encode_decode_ms", "<", 100, "ms"),
            C("peak_memory_gb", "<", 4, "GB"),
        ),
        summary="encode and decode 256x256 game frames",
    ),  # fmt: skip
    Gate(
        "m2",
        "predict",
        f"{FM}, Milestone 2",
        ("m1",),
        (
            C("mse", "<", 0.01),
            C("trajectory_accuracy", ">", 0.8),
        ),
        summary="predict the 4th frame from 3",
    ),  # fmt: skip
    Gate(
        "m3",
        "goal",
        "simple-rl-m3-plan",
        (),
        (C("done_triggered", "==", 1),),
        summary="goal template capture and done detection from pixels",
    ),  # fmt: skip
    Gate(
        "m4",
        "generate",
        f"{FM}, Milestone 3",
        ("m2",),
        summary="30-frame coherent clips from one frame",
    ),
    Gate(
        "m5",
        "control",
        f"{FM}, Milestone 4",
        ("m4",),
        (
            C("action_accuracy", ">", 0.95),
            C("response_ms", "<", 50, "ms"),
        ),
        summary="generation that follows the 5 actions",
    ),  # fmt: skip
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
    Gate("m7", "horizon", f"{FM}, Milestone 6", ("m6",), summary="coherent for 900+ frames"),
    Gate(
        "m8",
        "perf",
        f"{FM}, Milestone 7",
        ("m7",),
        (
            C("fps", ">=", 8),
            C("vram_gb", "<=", 8, "GB"),
        ),
        summary="consumer-GPU speed and memory",
    ),  # fmt: skip
    Gate("m9", "genres", f"{FM}, Milestone 8", ("m8",), summary="specialised models per genre"),
    Gate("m10", "web", f"{FM}, Milestone 9", ("m9",), summary="playable in a browser"),
    Gate(
        "m11",
        "api",
        f"{FM}, Milestone 10",
        ("m10",),
        (C("p95_ms", "<", 100, "ms"),),
        summary="REST/WebSocket API",
    ),  # fmt: skip
    Gate("m12", "community", f"{FM}, Milestone 11", ("m11",), summary="others can fine-tune it"),
    Gate("m13", "scale", f"{FM}, Milestone 12", ("m12",), summary="1000+ concurrent users"),
]
