"""Gate m1's measurement: reconstruct held-out frames with any FrameCodec (core/models/protocols.py,
loaded through --model), beside baselines that do not depend on its architecture (JPEG and WebP at the
latent's byte budget, gates/m1/baselines.py), and time, weigh and picture it (see gates/m1/__init__.py).

Frames: from each held-out episode, every `eval_stride`-th step from `eval_start` plus a seeded random
0..`eval_noop_max` (varied starts), so the set spans whole episodes; a set whose frames barely differ
is refused (exit 2). What moves: per episode, the background is the per-pixel median over its frames;
`psnr_moving` is the PSNR over the pixels that differ from it (sprites, a ball, a scrolled landscape)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import torch

from core.metrics import (
    background,
    frame_variety,
    masked_sq_error,
    moving_mask,
    psnr,
    psnr_of_sq_error,
    ssim,
    to_frames,
    to_unit,
)
from core.models.protocols import FrameCodec
from gates.common.evaldata import (
    collect_frames,
    load_model,
    median_ms,
    peak_memory_gb,
    set_threads,
)
from shell import pictures
from shell.errors import BadInput

ARCH = "patch_autoencoder"
BATCH = 16  # frames per forward pass at eval: bounded memory, still dense matmuls
MIN_VARIETY = 0.02  # share of pixels that must change across the set (Ms. Pac-Man's intro: 0.005)
MARGIN_DB = 0.5  # a learned codec must beat the best image codec by 0.5 dB (11% lower MSE)
BG_FRAMES = 64  # at most this many frames of an episode estimate its background (median)
BASELINES = ("jpeg", "jpeg420", "webp")


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


def pick_steps(cfg: Any) -> list[np.ndarray]:
    """Per episode, the steps judged: from eval_start + a seeded 0..eval_noop_max, every eval_stride."""
    for f in ("eval_episodes", "eval_steps", "eval_stride"):
        if getattr(cfg, f) < 1:
            raise BadInput(f"{f}: must be >= 1, got {getattr(cfg, f)}")
    if cfg.eval_start < 0 or cfg.eval_noop_max < 0:
        raise BadInput("eval_start and eval_noop_max: must be >= 0")
    if cfg.eval_start + cfg.eval_noop_max > cfg.eval_steps:
        raise BadInput(
            f"eval_steps {cfg.eval_steps}: must be >= eval_start + eval_noop_max "
            f"({cfg.eval_start} + {cfg.eval_noop_max})"
        )
    offs = np.random.default_rng(cfg.eval_seed).integers(
        0, cfg.eval_noop_max + 1, cfg.eval_episodes
    )
    return [np.arange(cfg.eval_start + o, cfg.eval_steps + 1, cfg.eval_stride) for o in offs]


def select(ds: Any, steps: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """The judged frames uint8 [N, H, W, 3] and each one's episode background uint8 [N, H, W, 3]."""
    frames, bgs = [], []
    for e, idx in enumerate(steps):
        ep = torch.from_numpy(ds.frames[e])  # [T+1, H, W, 3]
        bg = background(ep[:: max(1, ep.shape[0] // BG_FRAMES)])  # [H, W, 3]
        frames.append(ep[idx])
        bgs.append(bg.expand(len(idx), *bg.shape))
    return torch.cat(frames), torch.cat(bgs)


def check_variety(frames: torch.Tensor, cfg: Any, ds: Any) -> float:
    v = frame_variety(frames)
    if v < MIN_VARIETY:
        m = ds.meta
        raise BadInput(
            f"{m.get('backend')}/{m.get('game')} seed {cfg.eval_seed}: the {frames.shape[0]} frames "
            f"judged are near-identical (only {v:.2%} of pixels change across them, need "
            f">= {MIN_VARIETY:.0%}); spread them with eval_steps/eval_start/eval_stride"
        )
    return v


def color_attribute(
    truth: dict[str, np.ndarray], steps: list[np.ndarray]
) -> tuple[str, np.ndarray] | None:
    """The ground truth to colour the latent picture by: the level where it varies, else player x,
    else the frame number (ALE reports no positions)."""
    for key in ("level", "player_x", "screen_x", "frame", "t"):
        if key in truth and truth[key].ndim == 2:
            v = np.concatenate([truth[key][e, idx] for e, idx in enumerate(steps)]).astype(
                np.float64
            )
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


def pca2(z: torch.Tensor) -> torch.Tensor:
    """float [N, D] -> [N, 2]: the first two principal components (exact SVD: deterministic, unlike
    torch.pca_lowrank's random projections)."""
    u, sv, _ = torch.linalg.svd(z - z.mean(0), full_matrices=False)  # [N, K], [K]
    return u[:, :2] * sv[:2]


def judge(y: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> dict[str, Any]:
    """Per-frame PSNR/SSIM and the pooled PSNR over the moving pixels of one reconstruction."""
    p, s = score(y, x)
    return {"p": p, "s": s, "moving": psnr_of_sq_error(*masked_sq_error(y, x, mask))}


def evaluate(ctx) -> None:
    from gates.m1.baselines import code_frames

    cfg = ctx.config
    threads = set_threads(cfg.device_threads)
    dev = ctx.device
    steps = pick_steps(cfg)
    codec, path, about = load_model(ctx, "m1", "codec", "autoencoder", {"config": cfg.arch})

    with ctx.progress(cfg.eval_steps, "m1: collecting held-out frames") as advance:
        ds = collect_frames(
            ctx.backend, cfg.game, cfg.eval_episodes, cfg.eval_steps, cfg.eval_seed, advance
        )
    frames, bgs = select(ds, steps)  # uint8 [N, H, W, 3] x2
    variety = check_variety(frames, cfg, ds)
    mask = moving_mask(frames, bgs)  # bool [N, H, W]
    n, h, w, c = frames.shape
    x = to_unit(frames)  # [N, 3, H, W]

    with torch.no_grad():
        z1 = codec.encode(frames[:1].to(dev))  # what is stored for one frame
    stored = z1[0].numel() * z1.element_size()
    declared = int(codec.latent_bytes(h, w))
    budget = max(stored, declared)  # the larger: a codec cannot under-declare
    ratio = budget / (h * w * c)

    y = reconstruct(codec, frames, dev)
    model = judge(y, x, mask)
    base: dict[str, dict[str, Any]] = {}
    for fmt in BASELINES:
        coded = code_frames(frames.numpy(), fmt, budget)
        base[fmt] = judge(to_unit(torch.from_numpy(coded.frames)), x, mask)
        base[fmt]["bytes"] = float(coded.nbytes.mean())
    best = max(BASELINES, key=lambda f: base[f]["p"].mean().item())  # the strongest on PSNR
    gap = model["p"] - base[best]["p"]  # [N] paired per-frame difference
    one = frames[:1].to(dev)
    with torch.no_grad():
        ms = median_ms(lambda: codec.decode(codec.encode(one), (h, w)), cfg.timing_runs, dev)
    mem = peak_memory_gb(dev)

    p, s = model["p"], model["s"]
    ctx.metric("frames", n)
    ctx.metric("frame_variety", variety)
    ctx.metric("moving_pixel_share", mask.float().mean().item())
    ctx.metric("psnr", p.mean().item(), "dB")
    ctx.metric("psnr_min", p.min().item(), "dB")
    ctx.metric("ssim", s.mean().item())
    ctx.metric("psnr_moving", model["moving"], "dB")
    for fmt in BASELINES:
        ctx.metric(f"{fmt}_psnr", base[fmt]["p"].mean().item(), "dB")
        ctx.metric(f"{fmt}_ssim", base[fmt]["s"].mean().item())
        ctx.metric(f"{fmt}_psnr_moving", base[fmt]["moving"], "dB")
        ctx.metric(f"{fmt}_bytes", base[fmt]["bytes"], "B")
    ctx.say(
        f"m1: PSNR {p.mean().item():.2f} dB, moving {model['moving']:.2f} dB; best baseline {best} "
        f"{base[best]['p'].mean().item():.2f} dB, moving {base[best]['moving']:.2f} dB"
    )
    ctx.metric("psnr_gap_over_best", gap.mean().item(), "dB")
    ctx.metric("psnr_gap_stderr", (gap.std() / max(1, n - 1) ** 0.5).item() if n > 1 else 0.0, "dB")
    ctx.metric("latent_bytes", budget, "B")
    ctx.metric("latent_ratio", ratio)
    ctx.metric("encode_decode_ms", ms, "ms")
    ctx.metric("cpu_threads", threads)
    ctx.metric("peak_memory_gb", mem, "GB")

    _pictures(ctx, codec, frames, x, y, p, mask, ds, steps, dev)
    worst = int(p.argmin())
    ctx.bundle_file(
        "worst_reconstruction.png",
        _recon_grid(x, y, p, mask, [worst], ["worst"], "m1: worst frame"),
    )
    ctx.bundle_file(
        "inputs.json",
        orjson.dumps(
            {
                "model": about,
                "eval": ds.meta,
                "steps": [s_.tolist() for s_ in steps],
                "baseline_best": best,
                "psnr_per_frame": p.tolist(),
            },
            option=orjson.OPT_INDENT_2,
        ),  # fmt: skip
    )
    ctx.check("psnr", p.mean().item())
    ctx.check("ssim", s.mean().item())
    ctx.check("psnr_moving", model["moving"])
    ctx.check("latent_ratio", ratio)
    ctx.check("encode_decode_ms", ms)
    ctx.check("peak_memory_gb", mem)
    top_ssim = max(base[f]["s"].mean().item() for f in BASELINES)
    beats = gap.mean().item() > MARGIN_DB and s.mean().item() >= top_ssim
    ctx.check("beats_baseline", float(beats))


def _recon_grid(x, y, p, mask, idx: list[int], names: list[str], title: str) -> bytes:
    rows, labels = [], []
    for i, name in zip(idx, names, strict=True):
        err = (y[i] - x[i]).abs().mean(0).numpy()  # [H, W]
        rows.append(
            [to_frames(x[i : i + 1])[0].numpy(), to_frames(y[i : i + 1])[0].numpy(),
             pictures.heatmap(err, vmax=0.25), mask[i].numpy().astype(np.uint8) * 255]
        )  # fmt: skip
        labels.append(f"{name} (PSNR {p[i].item():.1f} dB)")
    cols = ["truth", "reconstruction", "|error| (0..0.25)", "moving pixels"]
    return pictures.labelled_grid(rows, title, labels, cols)


def _pictures(ctx, codec, frames, x, y, p, mask, ds, steps, dev) -> None:
    order = p.argsort()
    pick = [int(order[0]), int(order[len(order) // 2]), int(order[-1])]
    ctx.picture(
        "m1_reconstruction.png",
        _recon_grid(
            x, y, p, mask, pick, ["worst", "median", "best"], "m1: held-out reconstructions"
        ),
    )
    z = latents(codec, frames, dev)  # [N, D]
    attr = color_attribute(ds.truth, steps)
    if z.shape[0] < 3 or attr is None:
        return
    xy = pca2(z)  # [N, 2]
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
    if key == "level":  # informative: the same on a PCA of raw pixels says what the latent adds
        ctx.metric("latent_level_1nn", knn_agreement(xy, values))
        ctx.metric("pixels_level_1nn", knn_agreement(pca2(x.flatten(1)), values))
