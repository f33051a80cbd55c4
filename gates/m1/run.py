"""Gate m1's measurement: reconstruct held-out frames with any FrameCodec (core/models/protocols.py,
loaded through --model), beside a baseline that does not depend on its architecture, and time, weigh
and picture it (see gates/m1/__init__.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import torch

from core.metrics import psnr, ssim, to_frames, to_unit
from core.models.autoencoder import AEConfig, PatchAutoencoder
from core.models.builtin import PatchCodec
from core.models.protocols import FrameCodec
from gates.common.evaldata import (
    collect_frames,
    load_model,
    median_ms,
    peak_memory_gb,
    set_threads,
)
from shell import pictures

ARCH = "patch_autoencoder"
BATCH = 16  # frames per forward pass at eval: bounded memory, still dense matmuls


@torch.no_grad()
def reconstruct(codec: FrameCodec, frames: torch.Tensor, device: Any) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] on the CPU: through the stored latent, in batches."""
    h, w = frames.shape[1:3]
    out = []
    for i in range(0, frames.shape[0], BATCH):
        z = codec.encode(frames[i : i + BATCH].to(device))  # [B, ...] as stored
        out.append(codec.decode(z, (h, w)).float().cpu())  # [B, 3, H, W]
    return torch.cat(out)


def score(y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """PSNR and SSIM per frame ([N], [N]), in batches (SSIM's window sums are frame-sized)."""
    ps, ss = [], []
    for i in range(0, x.shape[0], BATCH):
        ps.append(psnr(y[i : i + BATCH], x[i : i + BATCH]))
        ss.append(ssim(y[i : i + BATCH], x[i : i + BATCH]))
    return torch.cat(ps), torch.cat(ss)


@torch.no_grad()
def latents(codec: FrameCodec, frames: torch.Tensor, device: Any) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, D]: each frame's stored latent, flattened."""
    out = []
    for i in range(0, frames.shape[0], BATCH):
        out.append(codec.encode(frames[i : i + BATCH].to(device)).float().flatten(1).cpu())
    return torch.cat(out)


def color_attribute(truth: dict[str, np.ndarray], stride: int) -> tuple[str, np.ndarray] | None:
    """The ground truth to colour the latent picture by: the level where it varies, else player x,
    else the frame number (ALE reports no positions)."""
    for key in ("level", "player_x", "screen_x", "frame", "t"):
        if key in truth and truth[key].ndim == 2:
            v = truth[key][:, ::stride].reshape(-1).astype(np.float64)
            if np.ptp(v) > 0:
                return key, v
    return None


def knn_agreement(xy: torch.Tensor, labels: np.ndarray) -> float:
    """Leave-one-out 1-NN: the share of frames whose nearest other frame in the projection has the
    same label (1.0 = labels form clean clusters)."""
    d = torch.cdist(xy, xy)  # [N, N]
    d.fill_diagonal_(float("inf"))
    nn_idx = d.argmin(1).numpy()
    return float((labels[nn_idx] == labels).mean())


def evaluate(ctx) -> None:
    cfg = ctx.config
    threads = set_threads(cfg.device_threads)
    dev = ctx.device
    backend = ctx.backend
    codec, path, about = load_model(ctx, "m1", "codec", "autoencoder", {"config": cfg.arch})

    with ctx.progress(cfg.eval_steps, "m1: collecting held-out frames") as advance:
        ds = collect_frames(
            backend, cfg.game, cfg.eval_episodes, cfg.eval_steps, cfg.eval_seed, advance
        )
    frames = torch.from_numpy(ds.frames[:, :: cfg.eval_stride]).flatten(0, 1)  # [N, H, W, 3]
    n, h, w, c = frames.shape
    x = to_unit(frames)  # [N, 3, H, W]

    y = reconstruct(codec, frames, dev)
    p, s = score(y, x)
    torch.manual_seed(ctx.seed)  # the baseline: a randomly initialised autoencoder (default config)
    base = PatchCodec(PatchAutoencoder(AEConfig()).to(dev).eval())
    bp, bs = score(reconstruct(base, frames, dev), x)

    with torch.no_grad():
        z1 = codec.encode(frames[:1].to(dev))  # what is stored for one frame
    stored = z1[0].numel() * z1.element_size()
    declared = int(codec.latent_bytes(h, w))
    ratio = max(stored, declared) / (h * w * c)  # the larger: a codec cannot under-declare
    one = frames[:1].to(dev)
    with torch.no_grad():
        ms = median_ms(lambda: codec.decode(codec.encode(one), (h, w)), cfg.timing_runs, dev)
    mem = peak_memory_gb(dev)

    ctx.metric("frames", n)
    ctx.metric("psnr", p.mean().item(), "dB")
    ctx.metric("psnr_min", p.min().item(), "dB")
    ctx.metric("ssim", s.mean().item())
    ctx.metric("baseline_psnr", bp.mean().item(), "dB")
    ctx.metric("baseline_ssim", bs.mean().item())
    ctx.metric("latent_bytes", max(stored, declared), "B")
    ctx.metric("latent_ratio", ratio)
    ctx.metric("encode_decode_ms", ms, "ms")
    ctx.metric("cpu_threads", threads)
    ctx.metric("peak_memory_gb", mem, "GB")

    _pictures(ctx, codec, frames, x, y, p, ds, dev)
    worst = int(p.argmin())
    ctx.bundle_file("worst_reconstruction.png", _recon_grid(x, y, [worst]))
    ctx.bundle_file(
        "inputs.json",
        orjson.dumps(
            {
                "model": about,
                "eval": ds.meta,
                "psnr_per_frame": p.tolist(),
            },
            option=orjson.OPT_INDENT_2,
        ),  # fmt: skip
    )
    ctx.check("psnr", p.mean().item())
    ctx.check("ssim", s.mean().item())
    ctx.check("latent_ratio", ratio)
    ctx.check("encode_decode_ms", ms)
    ctx.check("peak_memory_gb", mem)
    beats = p.mean().item() > bp.mean().item() and s.mean().item() > bs.mean().item()
    ctx.check("beats_baseline", float(beats))


def _recon_grid(x: torch.Tensor, y: torch.Tensor, idx: list[int]) -> bytes:
    rows = []
    for i in idx:
        err = (y[i] - x[i]).abs().mean(0).numpy()  # [H, W]
        rows.append(
            [to_frames(x[i : i + 1])[0].numpy(), to_frames(y[i : i + 1])[0].numpy(),
             pictures.heatmap(err, vmax=0.25)]
        )  # fmt: skip
    return pictures.png(pictures.grid(rows))


def _pictures(ctx, codec, frames, x, y, p, ds, dev) -> None:
    order = p.argsort()
    pick = sorted({int(order[0]), int(order[len(order) // 2]), int(order[-1])})
    ctx.picture("m1_reconstruction.png", _recon_grid(x, y, pick))  # worst, median, best
    z = latents(codec, frames, dev)  # [N, D]
    attr = color_attribute(ds.truth, ctx.config.eval_stride)
    if z.shape[0] < 3 or attr is None:
        return
    u, sv, _ = torch.pca_lowrank(z, q=2, center=True)
    xy = u[:, :2] * sv[:2]  # [N, 2]
    key, values = attr
    ctx.picture(
        "m1_latent_pca.png",
        pictures.scatter(
            xy.numpy(),
            values,
            f"m1 latents, PCA 2-D, coloured by {key}",
            label=key,
            categorical=key == "level",
        ),
    )
    if key == "level":
        ctx.metric("latent_level_1nn", knn_agreement(xy, values))
