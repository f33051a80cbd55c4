"""Gate m1 "reconstruct" (functional-milestones, Milestone 1): encode and decode 256x256 game frames.

`gate m1` evaluates a trained autoencoder checkpoint (default: the golden artifacts/m1/autoencoder) on
held-out frames regenerated from a fixed seed that training never uses; `gate m1 train` trains one.
Torch is imported only inside the run and the verbs (gates/m1_run.py, gates/m1_train.py), so
`gate list` and `gate status` stay instant.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shell.registry import Criterion as C
from shell.registry import Gate

EVAL_SEED = 1_000_003  # held-out levels: the train verbs refuse this seed


class M1Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = ""  # checkpoint folder; "" = the golden artifacts/m1/<default name for the game>
    game: str = "platformer"  # the built-in game; "pong" with --backend ale
    arch: dict | None = None  # when set, the checkpoint's architecture config must equal it
    eval_seed: int = EVAL_SEED  # levels and episodes no training run has seen
    eval_episodes: int = 8  # 8 envs: several levels, so the latent picture has clusters
    eval_steps: int = 32  # frames per episode after the reset frame; ~1.5 s of play each
    eval_stride: int = 3  # every 3rd frame: 88 frames, enough for stable means, fast on a CPU
    timing_runs: int = 20  # batch-1 encode+decode runs timed (median), after 3 warm-ups
    device_threads: int = (
        1  # torch CPU threads (0 = min(2, cores)); 1: an upper bound on the spec's
    )
    # 2-core machine that does not depend on other work (OpenMP workers spin on a shared box)


def run(ctx) -> None:
    from gates.m1_run import evaluate

    evaluate(ctx)


def commands(app) -> None:
    from gates.m1_train import add_train_verb

    add_train_verb(app)


GATE = Gate(
    "m1",
    "reconstruct",
    "functional-milestones, Milestone 1",
    (),
    (
        C("psnr", ">", 30, "dB", "mean PSNR of held-out reconstructions (latent stored as fp16)"),
        C("ssim", ">", 0.85, "", "mean SSIM (Gaussian 11x11, sigma 1.5)"),
        C("latent_ratio", "<", 0.1, "", "latent bytes at the stored dtype / frame bytes"),
        C("encode_decode_ms", "<", 100, "ms", "batch-1 encode+decode, median"),
        C("peak_memory_gb", "<", 4, "GB", "peak RSS on CPU, peak allocated VRAM on CUDA"),
        C("beats_baseline", "==", 1, "", "PSNR and SSIM above a randomly initialised autoencoder"),
    ),
    run=run,
    commands=commands,
    config=M1Config,
    summary="encode and decode 256x256 game frames",
    default_backend="builtin",
)
