"""Gate m7's pictures: drift curves over the route, first visit vs revisit vs the game, a GIF."""

from __future__ import annotations

import torch

from core.metrics import psnr, to_unit
from gates.m7 import measures as ms
from gates.m7 import spec
from shell import pictures

EVERY = 10  # frames between the drift curves' points
GIF_EVERY = 15  # frames between the GIF's frames (2 per second of the route)


def _psnr_curve(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """uint8 [R, T+1, H, W, 3] x2 -> mean PSNR over routes at every EVERY-th frame (60 dB cap)."""
    idx = range(0, a.shape[1], EVERY)
    return [float(psnr(to_unit(a[:, t]), to_unit(b[:, t])).clamp(max=60).mean()) for t in idx]


def draw(ctx, truth: torch.Tensor, ours: torch.Tensor, cams: torch.Tensor, pairs: list,
         rows: dict) -> None:  # fmt: skip
    xs = list(range(0, truth.shape[1], EVERY))
    copy = truth[:, :1].expand_as(truth)
    share = [float(ms.frame_stats(ours[:, t])[:, 4].mean()) for t in xs]
    ctx.picture("m7_drift.png", pictures.line_plot(
        {"model: PSNR vs the game (dB)": _psnr_curve(ours, truth),
         "copy-last: PSNR vs the game (dB)": _psnr_curve(copy, truth),
         "model: palette share x 40": [40 * s for s in share]},
        f"m7: drift over {spec.FRAMES} frames (mean of {len(cams)} routes)", x=xs,
        xlabel="frame", ylabel="dB (share x 40)"))  # fmt: skip
    track = {}
    for r in range(min(2, len(cams))):
        track[f"route {r}: the game"] = cams[r, ::EVERY].tolist()
        track[f"route {r}: the model"] = ms.camera_track(ours[r])[::EVERY].tolist()
    ctx.picture("m7_camera.png", pictures.line_plot(
        track, "m7: the camera's x from the start, read off the frames", x=xs, xlabel="frame",
        ylabel="px"))  # fmt: skip
    grid, labels = [], []
    for r in range(min(2, len(cams))):
        if not pairs[r]:
            continue
        t1, t2 = pairs[r][len(pairs[r]) // 2]
        grid.append([ours[r, t1].numpy(), ours[r, t2].numpy(), truth[r, t2].numpy()])
        labels.append(f"route {r}: frames {t1} / {t2}")
    if grid:
        ctx.picture("m7_revisit.png", pictures.labelled_grid(
            grid, "m7: a view revisited after the camera went a screen away", labels,
            ["model, first visit", "model, revisit", "the game, revisit"], cell_inches=2.2))  # fmt: skip
    t = slice(0, truth.shape[1], GIF_EVERY)
    ctx.picture("m7_route.gif", pictures.gif(truth[0, t].numpy(), ours[0, t].numpy(), ms=100))
    table = [
        [k, *(f"{rows[w][k]:.3g}" for w in ("model", "copy_last", "truth"))] for k in rows["model"]
    ]
    ctx.say("m7: measure / model / copy-last / the game\n" + "\n".join("  ".join(r) for r in table))
