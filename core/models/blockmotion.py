"""Block motion: each 8x8 cell of the next frame is a whole-pixel shift of the last frame, chosen hard.

This is a video codec's motion-compensated prediction (MPEG's motion vector per block, plus a
residual), with the vectors predicted by a network instead of searched. A soft mixture of shifts is
a blur, and a small sprite blurred once is gone; a hard shift copies it whole, in palette. The
choices are taught by cross-entropy against the shift that best explains the true next frame (found
here by search, as an encoder does), so the network never has to average.

    iy, ix = cell_shift_labels(base, target, cell=8, my=8, mx=5)   # int64 [N, h, w] each
    moved = shift_cells(base, iy - 8, ix - 5, cell=8)             # float [N, 3, H, W]
    loss = block_unroll_loss(net, window, actions, k=2, gen=g)   # a FramePredictor with hard=True

Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.models.bestofk import motion_weights
from core.models.cells import shift_cells
from core.models.motion import CHANGED, best_shift, cell_shift_labels, consensus, shift_global
from core.models.predictor import FramePredictor
from core.models.protocols import slide, tile
from core.models.unroll import start_context


def block_unroll_loss(
    net: FramePredictor,
    window: torch.Tensor,
    actions: torch.Tensor,
    k: int,
    gen: torch.Generator,
    one_frame: float = 0.25,  # a quarter of windows start as m4 does, from one frame
    ctx_noise: float = 0.0,  # off by default: hard shifts copy pixels, so noise would be copied
    motion_weight: float = 20.0,  # sprites are ~0.5% of a frame: weigh where things move
    camera_weight: float = 0.1,  # the camera decision's cross-entropy, ~ the cells' scale
    res_weight: float = 10.0,  # the residual's weighted MSE (~1e-3) brought to the cross-entropy's
    # scale; with a palette, the painted pixels' colour cross-entropy instead, weight 1
) -> torch.Tensor:
    """Best-of-k over noise samples of (cells' shift and paint cross-entropy + residual MSE), each
    step continuing from the model's own frame (its argmax shifts, its residual where it chose to
    paint), labels searched afresh from that frame: what should move where, given where it went."""
    cfg = net.cfg
    kc, c, my, mx = cfg.context, cfg.cell, cfg.max_dy, cfg.max_dx
    b = window.shape[0]
    ctx = start_context(window, kc, one_frame, ctx_noise, gen)  # [B, K, 3, H, W]
    total = window.new_zeros(())
    steps = window.shape[1] - kc

    def rep(x: torch.Tensor) -> torch.Tensor:  # [B, ...] -> [kB, ...]
        return tile(x, k)

    for t in range(steps):
        target, last = window[:, kc + t], ctx[:, -1]  # [B, 3, H, W] each
        g = best_shift(last, target, cfg.max_global)  # [B] the camera's move
        base = shift_global(last, g - cfg.max_global)  # [B, 3, H, W]
        iy, ix, where, ok = cell_shift_labels(base, target, c, my, mx)  # [B, h, w] each, ...
        iy, ix, ok = consensus(iy, ix, where, ok)  # a sprite's cells all taught its move
        moved = shift_cells(base, iy - my, ix - mx, c)  # [B, 3, H, W]: the best a copy does
        off = (moved - target).abs().amax(1) > CHANGED  # [B, H, W]: the cell's shift is wrong here
        stays = (base - target).abs().amax(1) <= CHANGED  # [B, H, W]: not moving is right here
        keep = off & stays  # background under a moving cell: it keeps its place
        need = off & ~stays  # [B, H, W]: new pixels (poses, revealed edges)
        cw = torch.ones_like(iy, dtype=base.dtype)  # [B, h, w]: 1, and 1 + w where it changed
        cw[where.unbind(1)] += motion_weight
        pw = motion_weights(last, target, motion_weight)  # [B, 1, H, W]
        z = torch.randn(k * b, cfg.noise_dim, generator=gen).to(window.device)  # [kB, Z]
        enc = {n: tile(v, k) for n, v in net.encode(ctx).items()}
        aux: dict[str, torch.Tensor] = {}
        y, glog = net.decode(
            enc,
            rep(actions[:, t]),
            z,
            shift=rep(g),
            cells=(rep(iy), rep(ix), rep(need), rep(keep)),
            aux=aux,
        )  # [kB, 3, H, W]: the searched shifts, plus the residual where needed
        ce = F.cross_entropy(aux["ylog"], rep(iy), reduction="none") + F.cross_entropy(
            aux["xlog"], rep(ix), reduction="none"
        )  # [kB, h, w]
        if where.shape[0]:  # changed cells: the probability of any shift as good as the best
            ks = torch.arange(k, device=where.device).repeat_interleave(where.shape[0])  # [kM]
            rows, cy, cx = (
                ks * b + where[:, 0].repeat(k),
                where[:, 1].repeat(k),
                where[:, 2].repeat(k),
            )
            ly = aux["ylog"][rows, :, cy, cx].log_softmax(1)  # [kM, DY]
            lx = aux["xlog"][rows, :, cy, cx].log_softmax(1)  # [kM, DX]
            joint = (ly[:, :, None] + lx[:, None, :]).masked_fill(~ok.repeat(k, 1, 1), -torch.inf)
            ce = ce.index_put((rows, cy, cx), -joint.flatten(1).logsumexp(1))  # [kB, h, w]
        ce = (ce * rep(cw)).flatten(1).mean(1)  # [kB]
        bce = F.binary_cross_entropy_with_logits(
            aux["paint"], rep(need).to(y.dtype), reduction="none"
        )  # [kB, H, W]
        care = rep(off | ~stays).to(y.dtype)  # where both copies are right, either will do
        bce = bce + care * F.binary_cross_entropy_with_logits(
            aux["keep"], rep(keep).to(y.dtype), reduction="none"
        )  # [kB, H, W]
        ce = ce + (bce * rep(pw[:, 0])).flatten(1).mean(1)  # [kB]
        if cfg.palette:  # painted pixels: the cross-entropy of their colour
            paint = rep(need)  # [kB, H, W]
            rows = paint.nonzero()[:, 0]  # [M] the sample of each painted pixel
            tgt = net.colour_logits(rep(target).permute(0, 2, 3, 1)[paint]).argmax(1)  # [M]
            logits = net.colour_logits(aux["rgb"].permute(0, 2, 3, 1)[paint])  # [M, P]
            ce_px = F.cross_entropy(logits, tgt, reduction="none") * rep(pw[:, 0])[paint]  # [M]
            pix = y.new_zeros(k * b).index_add(0, rows, ce_px) / paint[0].numel()  # [kB]
        else:
            pix = res_weight * (rep(pw) * (y - rep(target)).square()).flatten(1).mean(1)  # [kB]
        err = (ce + pix).view(k, b)  # [k, B]
        best = err.argmin(0)  # [B]
        total = total + err.min(0).values.mean() + camera_weight * F.cross_entropy(glog, rep(g))
        if t + 1 < steps:  # feed back what the model itself would have drawn
            pick = best * b + torch.arange(b, device=best.device)  # [B] rows of the kB batch
            with torch.no_grad():  # each cell its own most likely choices: the sampler of
                # inference (objects, drawn shifts) is left out, so labels stay cell by cell
                mine = tuple(aux[n][pick].argmax(1) for n in ("ylog", "xlog"))  # [B, h, w] x 2
                paint, keep, res = net.pixel_heads(aux["feat"][pick], base, *mine)  # its pixels
                own, _ = net.compose(base, res, (*mine, paint > 0, keep > 0))  # [B, 3, H, W]
            ctx = slide(ctx, own.clamp(0, 1))  # [B, K, 3, H, W]
    return total / max(1, steps)
