"""Gate m1 "reconstruct" (functional-milestones, Milestone 1): encode and decode 256x256 game frames.

`gate m1` evaluates a trained autoencoder checkpoint (default: the golden artifacts/m1/autoencoder) on
held-out frames regenerated from a fixed seed that training never uses; `gate m1 train` trains one.
Torch is imported only inside the run and the verbs (gates/m1/run.py, gates/m1/train.py), so
`gate list` and `gate status` stay instant.
"""

from __future__ import annotations

from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m1",
    "reconstruct",
    "functional-milestones, Milestone 1",
    (),
    (
        C("psnr", ">", 30, "dB", "mean PSNR of held-out reconstructions (latent stored as fp16)"),
        C("ssim", ">", 0.85, "", "mean SSIM (Gaussian 11x11, sigma 1.5)"),
        C(
            "psnr_moving",
            ">",
            30,
            "dB",
            "PSNR over the pixels that differ from the episode's background",
        ),
        C("latent_ratio", "<", 0.1, "", "latent bytes at the stored dtype / frame bytes"),
        C("encode_decode_ms", "<", 100, "ms", "batch-1 encode+decode, median"),
        C("peak_memory_gb", "<", 4, "GB", "peak RSS on CPU, peak allocated VRAM on CUDA"),
        C(
            "beats_baseline",
            "==",
            1,
            "",
            "PSNR > best of JPEG/WebP at the latent's bytes + 0.5 dB, SSIM >=",
        ),
    ),
    run=lazy("gates.m1.run:evaluate"),
    commands=lazy("gates.m1.train:add_train_verb"),
    config=lazy("gates.m1.config:M1Config"),  # pydantic: imported only when a run needs it
    summary="encode and decode 256x256 game frames",
    default_backend="builtin",
)
