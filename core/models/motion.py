"""Searched motion: the camera's whole-frame shift and each cell's whole-pixel shift that best explain
one frame from the one before, as a video encoder's motion search finds them.

    g = best_shift(last, target, m=5)                                 # int64 [N]: the camera's move
    base = shift_global(last, g - 5)                                  # the last frame, camera moved
    iy, ix, where, ok = cell_shift_labels(base, target, 8, 8, 5)      # each cell's move after that
    feats = past_motion(ctx, cell=8, my=8, mx=5, mg=5)                # the context's own moves, one-hot

The block-motion loss (core/models/blockmotion.py) teaches a predictor's shift choices with these
labels; `past_motion` hands a predictor the motion its context already shows (a codec's temporal
motion-vector prediction), so the next move is the last one plus what changed it. Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift_global(img: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Each image [N, C, H, W] shifted right by its dx int64 [N] px (left when negative), edges
    replicated: out[..., x] = img[..., x - dx]."""
    m = int(dx.abs().max()) if dx.numel() else 0
    if m == 0:
        return img
    padded = F.pad(img, (m, m, 0, 0), mode="replicate")  # [N, C, H, W + 2m]
    w = img.shape[3]
    return torch.stack([padded[i, :, :, m - d : m - d + w] for i, d in enumerate(dx.tolist())])


def best_shift(last: torch.Tensor, target: torch.Tensor, m: int) -> torch.Tensor:
    """int64 [N] in 0..2m: the whole-frame horizontal shift (index; shift = index - m) of the last
    frame that best explains the target (least MSE): the camera's move, read off the data."""
    w = last.shape[3]
    padded = F.pad(last, (m, m, 0, 0), mode="replicate")  # [N, C, H, W + 2m], once for every shift
    errs = []
    for d in range(-m, m + 1):  # the window is shift_global's output for shift d, as a view
        errs.append((padded[..., m - d : m - d + w] - target).square().flatten(1).mean(1))  # [N]
    return torch.stack(errs, 1).argmin(1)  # [N]


CHANGED = 24 / 255  # a cell whose largest change is below this is unchanged: a residual's haze or
# noise is not content; a sprite edge against sky or ground differs by far more


def changed_cells(base: torch.Tensor, target: torch.Tensor, c: int) -> torch.Tensor:
    """bool [N, H/c, W/c]: cells where the target differs from the base by more than CHANGED."""
    diff = (base - target).abs().amax(1, keepdim=True)  # [N, 1, H, W]
    return F.max_pool2d(diff, c)[:, 0] > CHANGED  # [N, h, w]


SAME = 1e-5  # squared error over a cell below which two shifts give the same pixels


def cell_shift_labels(
    base: torch.Tensor, target: torch.Tensor, c: int, my: int, mx: int
) -> tuple[torch.Tensor, ...]:
    """The whole-pixel shift of `base` that best explains each c x c cell of `target` (least squared
    error; ties go to the smallest shift, so static sky says "no motion") -> (iy, ix) int64 [N, h, w],
    indices in 0..2my and 0..2mx (shift = index - m); and, for the cells that changed (where [M, 3]:
    sample, cell row, cell col), every shift as good as the best, bool [M, 2my+1, 2mx+1]: a cell the
    player leaves shows sky under many shifts, and any of them is right."""
    n, ch, hh, ww = base.shape
    iy = torch.full((n, hh // c, ww // c), my, dtype=torch.int64, device=base.device)
    ix = torch.full_like(iy, mx)
    where = changed_cells(base, target, c).nonzero()  # [M, 3]: (n, cell row, cell col)
    if where.shape[0] == 0:
        return iy, ix, where, torch.zeros(0, 2 * my + 1, 2 * mx + 1, dtype=torch.bool)
    b, cy, cx = where.unbind(1)  # [M] each
    padded = F.pad(base, (mx, mx, my, my), mode="replicate").permute(0, 2, 3, 1)  # [N, H', W', C]
    rows = cy[:, None] * c + torch.arange(c + 2 * my, device=base.device)  # [M, c + 2my]
    cols = cx[:, None] * c + torch.arange(c + 2 * mx, device=base.device)  # [M, c + 2mx]
    win = padded[b[:, None, None], rows[:, :, None], cols[:, None, :]]  # [M, c+2my, c+2mx, C]
    cand = win.permute(0, 3, 1, 2).unfold(2, c, 1).unfold(3, c, 1)  # [M, C, 2my+1, 2mx+1, c, c]
    tr = target.permute(0, 2, 3, 1)  # [N, H, W, C]
    cell = tr[b[:, None, None], rows[:, :c, None], cols[:, None, :c]].permute(0, 3, 1, 2)
    sse = (cand - cell[:, :, None, None]).square().sum((1, 4, 5))  # [M, 2my+1, 2mx+1]
    sse = sse.flip(1, 2)  # window offset o = m - shift, so flipped: index = shift + m
    ok = sse <= sse.flatten(1).amin(1)[:, None, None] + SAME  # [M, 2my+1, 2mx+1]
    ay = (torch.arange(2 * my + 1, device=base.device) - my).abs()  # [2my+1]
    ax = (torch.arange(2 * mx + 1, device=base.device) - mx).abs()  # [2mx+1]
    sse = sse + 1e-7 * (ay[:, None] + ax[None, :])  # ties: the smallest motion
    best = sse.flatten(1).argmin(1)  # [M]
    iy[b, cy, cx] = best // (2 * mx + 1)
    ix[b, cy, cx] = best % (2 * mx + 1)
    return iy, ix, where, ok


NEIGHBOURS = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]  # sides first


def consensus(
    iy: torch.Tensor, ix: torch.Tensor, where: torch.Tensor, ok: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ties settled toward the neighbours: a changed cell whose label is a set (the sky a sprite
    leaves, a flat shirt) takes, among its equally good shifts, the shift of an 8-neighbour whose
    label is unique (a sprite's textured cell), so every cell of a moving sprite is taught the
    sprite's own move and a sampler drawing from the cells draws the sprite's moves, not the sky's
    indifference. cell_shift_labels's (iy, ix, where, ok) -> (iy, ix, ok), the settled cells' sets
    narrowed to that one shift."""
    m = where.shape[0]
    if m == 0:
        return iy, ix, ok
    b, cy, cx = where.unbind(1)  # [M] each
    unique = ok.flatten(1).sum(1) == 1  # [M]
    uy, ux = torch.full_like(iy, -1), torch.full_like(ix, -1)  # [N, h, w]: -1 where not unique
    uy[b[unique], cy[unique], cx[unique]] = iy[b[unique], cy[unique], cx[unique]]
    ux[b[unique], cy[unique], cx[unique]] = ix[b[unique], cy[unique], cx[unique]]
    h, w = iy.shape[1:]
    py = torch.full((m,), -1, dtype=iy.dtype, device=iy.device)  # [M] the settled shift, or -1
    px = torch.full_like(py, -1)
    for oy, ox in NEIGHBOURS:
        ny, nx = cy + oy, cx + ox  # [M]
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        vy = uy[b, ny.clamp(0, h - 1), nx.clamp(0, w - 1)]  # [M]
        vx = ux[b, ny.clamp(0, h - 1), nx.clamp(0, w - 1)]
        fits = ok[torch.arange(m, device=ok.device), vy.clamp(min=0), vx.clamp(min=0)]  # [M]
        take = inside & (vy >= 0) & fits & (py < 0) & ~unique
        py, px = torch.where(take, vy, py), torch.where(take, vx, px)
    got = (py >= 0).nonzero().flatten()  # [G]
    iy, ix, ok = iy.clone(), ix.clone(), ok.clone()
    iy[b[got], cy[got], cx[got]] = py[got]
    ix[b[got], cy[got], cx[got]] = px[got]
    ok[got] = False
    ok[got, py[got], px[got]] = True
    return iy, ix, ok


@torch.no_grad()
def past_motion(ctx: torch.Tensor, cell: int, my: int, mx: int, mg: int) -> torch.Tensor:
    """The moves the context shows: for each pair of consecutive frames of ctx [N, K, 3, H, W], the
    camera's searched shift (one-hot, the same in every cell) and each cell's searched (dy, dx)
    after it (one-hot) -> float [N, (K-1) (2mg+1 + 2my+1 + 2mx+1), H/c, W/c]. A repeated frame (a
    one-frame start) shows no motion: the player at rest, which the game allows everywhere."""
    n, k, _, h, w = ctx.shape
    feats = []
    for i in range(k - 1):
        prev, cur = ctx[:, i], ctx[:, i + 1]  # [N, 3, H, W] each
        g = best_shift(prev, cur, mg)  # [N]
        iy, ix, _ = consensus(*cell_shift_labels(shift_global(prev, g - mg), cur, cell, my, mx))
        cam = F.one_hot(g, 2 * mg + 1).to(ctx.dtype)[:, :, None, None]  # [N, G, 1, 1]
        feats += [
            cam.expand(-1, -1, h // cell, w // cell),  # [N, G, h, w]
            F.one_hot(iy, 2 * my + 1).permute(0, 3, 1, 2).to(ctx.dtype),  # [N, DY, h, w]
            F.one_hot(ix, 2 * mx + 1).permute(0, 3, 1, 2).to(ctx.dtype),  # [N, DX, h, w]
        ]
    return torch.cat(feats, 1)  # [N, (K-1)(G + DY + DX), h, w]


CAMERA_STEPS = (0, 4, -4, 8, -8)  # px: a side-scroller's camera steps (the platformer's: 4 px);
# ties go to the first listed, so a still view is read as no move
ROW_STRIDE = 4  # a horizontal move shows in every row band: a quarter of the rows read it as well


def camera_step(prev: torch.Tensor, cur: torch.Tensor, steps=CAMERA_STEPS) -> torch.Tensor:
    """int64 [N]: how far the camera moved right from prev to cur [N, C, H, W] (any C, any dtype):
    the candidate step whose whole-frame shift explains cur best (mean absolute difference over the
    overlap: cur[..., x] = prev[..., x + d]), on every ROW_STRIDE-th row."""
    a = prev[..., ::ROW_STRIDE, :].float().sum(1)  # [N, H / ROW_STRIDE, W] grey
    b = cur[..., ::ROW_STRIDE, :].float().sum(1)
    w = a.shape[-1]
    errs = []
    for d in steps:
        now = b[..., : w - d] if d >= 0 else b[..., -d:]
        was = a[..., d:] if d >= 0 else a[..., : w + d]
        errs.append((now - was).abs().mean((1, 2)))  # [N]
    return torch.tensor(steps, device=prev.device)[torch.stack(errs, 1).argmin(1)]
