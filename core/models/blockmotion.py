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
from core.models.cells import cell_sources, shift_cells
from core.models.motion import CHANGED, best_shift, cell_shift_labels, consensus, shift_global
from core.models.predictor import FramePredictor
from core.models.protocols import slide, tile
from core.models.unroll import start_context

MOTION_WEIGHT = 20.0  # sprites are ~0.5% of a frame: weigh where things move


def searched_moves(
    net: FramePredictor, last: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """The moves that best explain target from last [N, 3, H, W] (the labels): the camera's g [N],
    the camera-moved last frame base [N, 3, H, W], then each cell's shift indices iy, ix [N, h, w]
    after consensus (a sprite's cells all taught its move), the changed cells where [M, 3] and the
    shifts as good as the best ok [M, DY, DX] -> (g, base, iy, ix, where, ok)."""
    cfg = net.cfg
    g = best_shift(last, target, cfg.max_global)  # [N]
    base = shift_global(last, g - cfg.max_global)  # [N, 3, H, W]
    iy, ix, where, ok = cell_shift_labels(base, target, cfg.cell, cfg.max_dy, cfg.max_dx)
    iy, ix, ok = consensus(iy, ix, where, ok)
    return g, base, iy, ix, where, ok


def block_unroll_loss(
    net: FramePredictor,
    window: torch.Tensor,
    actions: torch.Tensor,
    k: int,
    gen: torch.Generator,
    one_frame: float = 0.25,  # a quarter of windows start as m4 does, from one frame
    ctx_noise: float = 0.0,  # off by default: hard shifts copy pixels, so noise would be copied
    motion_weight: float = MOTION_WEIGHT,
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
        g, base, iy, ix, where, ok = searched_moves(net, last, target)  # [B], [B, 3, H, W], ...
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
        if cfg.layers:  # sprite and background layers: searched labels and a soft composition
            label, known = layer_labels(net, base, target, iy, ix)  # once, not per sample
            lay, paint = layer_loss(
                net, rep(base), rep(target), rep(iy), rep(ix), aux, rep(label), rep(known)
            )
            ce = ce + res_weight * (rep(pw) * lay).flatten(1).mean(1)  # [kB]
        else:  # no shift's copy explains these, and staying does not either
            paint = rep(need)  # [kB, H, W]
        bce = F.binary_cross_entropy_with_logits(
            aux["paint"], paint.to(y.dtype), reduction="none"
        )  # [kB, H, W]
        if not cfg.layers:
            care = rep(off | ~stays).to(y.dtype)  # where both copies are right, either will do
            bce = bce + care * F.binary_cross_entropy_with_logits(
                aux["keep"], rep(keep).to(y.dtype), reduction="none"
            )  # [kB, H, W]
        ce = ce + (bce * rep(pw[:, 0])).flatten(1).mean(1)  # [kB]
        if cfg.palette:  # painted pixels: the cross-entropy of their colour
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
                fg = aux["fg"][pick] > 0 if cfg.layers else None  # [B, H, W]
                paint, keep, res = net.pixel_heads(
                    aux["feat"][pick], base, *mine, action=actions[:, t], fg=fg
                )  # its pixels
                wall = net.walls(base) if cfg.contact else None  # [B, H, W]
                layer = (fg, aux["behind"][pick], wall) if cfg.layers else None
                own, _ = net.compose(base, res, (*mine, paint > 0, keep > 0), layer)  # [B, 3, H, W]
            ctx = slide(ctx, own.clamp(0, 1))  # [B, K, 3, H, W]
    return total / max(1, steps)


PRIOR_WEIGHT = 0.1  # the pull of a pixel whose move shows nothing, toward its colour's majority
# label (background without a palette): without it the sky and hills drift to "sprite" (nothing
# there says otherwise) and then travel with the sprites whose cells they share (measured: 60-90 %
# of sky and hill pixels after 2000 steps)


def layer_loss(
    net: FramePredictor,
    base: torch.Tensor,
    target: torch.Tensor,
    iy: torch.Tensor,
    ix: torch.Tensor,
    aux: dict[str, torch.Tensor],
    label: torch.Tensor,
    known: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`layers`' teacher under the searched shifts (iy, ix) [N, h, w] -> (a loss per pixel
    [N, 1, H, W]; the pixels the hard composition still gets wrong, bool [N, H, W]: the paint head's
    labels). The loss: the cross-entropy of each pixel of base [N, 3, H, W] being sprite, against
    layer_labels' label (float [N, H, W]) at weight 1 where known (bool [N, H, W]), else at
    PRIOR_WEIGHT; the squared error against target [N, 3, H, W] of the frame composed softly (a
    pixel is the moved sprite's with the probability its source is sprite, else the background: the
    pixel itself, or what is behind it if it was sprite)."""
    cfg = net.cfg
    dy, dx = iy - cfg.max_dy, ix - cfg.max_dx
    p = aux["fg"].sigmoid()[:, None]  # [N, 1, H, W]
    mv = shift_cells(torch.cat([base, p], 1), dy, dx, cfg.cell)  # [N, 4, H, W]
    back = p * aux["behind"] + (1 - p) * base  # [N, 3, H, W]
    soft = mv[:, 3:] * mv[:, :3] + (1 - mv[:, 3:]) * back  # [N, 3, H, W]
    err = (soft - target).square().sum(1, keepdim=True)  # [N, 1, H, W]
    with torch.no_grad():
        hard = net.layered(base, aux["fg"] > 0, aux["behind"], iy, ix)  # [N, 3, H, W]
        wrong = (hard - target).abs().amax(1) > CHANGED  # [N, H, W]
    care = torch.where(known, 1.0, PRIOR_WEIGHT)  # [N, H, W]
    bce = F.binary_cross_entropy_with_logits(aux["fg"], label, reduction="none")  # [N, H, W]
    return err + (bce * care)[:, None], wrong  # [N, 1, H, W], [N, H, W]


@torch.no_grad()
def layer_labels(
    net: FramePredictor,
    base: torch.Tensor,
    target: torch.Tensor,
    iy: torch.Tensor,
    ix: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which pixels of base [N, 3, H, W] are a sprite's under the searched shifts (iy, ix)
    [N, h, w] toward target -> (label float [N, H, W], known bool [N, H, W]): sprite_labels' where
    the move shows it, else (with a palette) colour_prior's, the way most known pixels of their
    colour went."""
    cfg = net.cfg
    label, known = sprite_labels(base, target, iy - cfg.max_dy, ix - cfg.max_dx, cfg.cell)
    if cfg.palette:
        label = torch.where(known, label, colour_prior(net, base, label, known))
    return label, known


@torch.no_grad()
def colour_prior(
    net: FramePredictor, base: torch.Tensor, label: torch.Tensor, known: torch.Tensor
) -> torch.Tensor:
    """float [N, H, W]: 1 where the pixel's palette colour (nearest) was labelled sprite more often
    than background among the known pixels of base [N, 3, H, W] (label, known [N, H, W]), else 0.
    An enemy moves 1 px, so only a few of its edge pixels are ever labelled (144 of 5920 in 37
    frame pairs, none background); under a fixed background prior its inside stayed while its edges
    moved, and it shredded. A hill's colour, now and then called sprite, is mostly background."""
    pal = net.colour_logits(base.permute(0, 2, 3, 1)).argmax(-1)  # [N, H, W]
    n = net.cfg.palette
    pos = torch.bincount(pal[known & (label > 0)], minlength=n)  # [P]
    neg = torch.bincount(pal[known & (label == 0)], minlength=n)  # [P]
    return (pos > neg)[pal].to(label.dtype)


@torch.no_grad()
def sprite_labels(
    base: torch.Tensor, target: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, c: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which pixels of base [N, 3, H, W] are a sprite's, as far as the move to target [N, 3, H, W]
    under the per-cell shifts (dy, dx) [N, H/c, W/c] shows -> (label float [N, H, W], known bool
    [N, H, W]). A pixel is sprite when a shifted cell copies it to where the target shows it,
    staying would not, and it left its own place (a flat hill's pixel copied onto the hill the
    sprite uncovered did not); background when it stays in the target itself and a shifted cell
    would copy it where the target does not show it (the ground under a rising sprite). Unknown
    elsewhere."""
    n, _, h, w = base.shape
    src = cell_sources(dy, dx, c, h, w)  # [N, H*W]
    moved = base.flatten(2).gather(2, src[:, None].expand(-1, 3, -1)).view_as(base)
    fits = ((moved - target).abs().amax(1) <= CHANGED).flatten(1)  # [N, H*W]
    stays = ((base - target).abs().amax(1) <= CHANGED).flatten(1)  # [N, H*W]
    active = ((dy != 0) | (dx != 0)).repeat_interleave(c, 1).repeat_interleave(c, 2).flatten(1)
    src_stays = stays.gather(1, src)  # [N, H*W]: the pixel a destination copies stays itself
    brings = (active & fits & ~stays & ~src_stays).to(base.dtype)  # [N, H*W]
    spoils = (active & ~fits & src_stays).to(base.dtype)
    pos = torch.zeros_like(brings).scatter_reduce(1, src, brings, "amax") > 0  # [N, H*W] per source
    neg = torch.zeros_like(spoils).scatter_reduce(1, src, spoils, "amax") > 0
    return pos.view(n, h, w).to(base.dtype), (pos | neg).view(n, h, w)
