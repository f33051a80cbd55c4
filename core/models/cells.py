"""Hard per-cell motion: whole-pixel shifts per cell, how a cell's shift is chosen, and objects.

Pure tensor code shared by the predictor's hard mode (core/models/predictor.py) and its training
(core/models/blockmotion.py); no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FOLLOW_LOGP = -7.0  # a cell takes its object's shift unless it gives it p < e^-7 (0.1 %): the sky a
# sprite leaves does (any shift explains it), ground beside it does not (it stays put)


def _objects(still: torch.Tensor, join: float) -> torch.Tensor:
    """Each cell's p(no motion) [N, h, w] -> int64 [N h w] object ids (0: not in one): 8-connected
    cells with p(no motion) < join (labels spread by max-pooling until they settle)."""
    moving = still < join
    n, h, w = moving.shape
    ids = torch.arange(1, n * h * w + 1, device=still.device, dtype=still.dtype).view(n, h, w)
    lab = torch.where(moving, ids, 0.0)  # [N, h, w]
    for _ in range(h + w):
        grown = torch.where(moving, F.max_pool2d(lab[:, None], 3, 1, 1)[:, 0], 0.0)
        if torch.equal(grown, lab):
            break
        lab = grown
    return lab.long().flatten()


def per_object(
    ylog: torch.Tensor,
    xlog: torch.Tensor,
    my: int,
    mx: int,
    pool: bool = False,
    ring: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-cell shift log-probabilities [N, DY, h, w], [N, DX, h, w] -> the same with every object's
    cells given one shared distribution. An object: 8-connected cells likely to move. Its
    distribution: that of its surest mover (the cell least likely to stay: a sprite's body, not the
    sky it leaves, which any shift explains) or, with `pool`, the mean of its cells' distributions
    weighted by how sure each is that it moves (members: p(no motion) < 0.9). `ring`: the cells
    around an object take its distribution too (with sprite layers a cell moves only its sprite
    pixels, so the sky a sprite rises into can take its move, and must, to show it whole)."""
    ly, lx = ylog.log_softmax(1), xlog.log_softmax(1)
    n, _, h, w = ly.shape
    still = (ly[:, my] + lx[:, mx]).exp()  # [N, h, w]: each cell's p(no motion)
    flat = _objects(still, 0.9 if pool else 0.5)  # [N h w]
    s = still.flatten()  # [N h w]
    if pool:
        wgt = 1 - s  # [N h w]
    else:
        low = s.new_ones(n * h * w + 1).scatter_reduce(0, flat, s, "amin")  # [ids]
        lead = torch.zeros(n * h * w + 1, dtype=torch.long, device=ylog.device)
        lead.index_copy_(0, flat[s == low[flat]], (s == low[flat]).nonzero().flatten())
        wgt = (lead[flat] == torch.arange(flat.numel(), device=ylog.device)).to(s.dtype)
    out = []
    to = _grow(flat.view(n, h, w)).flatten() if ring else flat  # [N h w]: whose distribution
    for logp in (ly, lx):
        d = logp.shape[1]
        cells = logp.permute(0, 2, 3, 1).reshape(-1, d)  # [N h w, D]
        mass = cells.new_zeros(n * h * w + 1, d).index_add(0, flat, cells.exp() * wgt[:, None])
        mixed = (mass / mass.sum(1, keepdim=True).clamp(min=1e-12)).clamp(min=1e-12).log()
        mine = torch.where((to > 0)[:, None], mixed[to], cells)  # [N h w, D]
        out.append(mine.view(n, h, w, d).permute(0, 3, 1, 2))  # [N, D, h, w]
    return out[0], out[1]


def _grow(lab: torch.Tensor) -> torch.Tensor:
    """Object ids int64 [N, h, w] (0: none) -> the same with each cell outside an object given the
    largest id among its 8 neighbours."""
    grown = F.max_pool2d(lab[:, None].float(), 3, 1, 1)[:, 0].long()  # [N, h, w]
    return torch.where(lab > 0, lab, grown)


def shift_cells(img: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, c: int) -> torch.Tensor:
    """img float [N, C, H, W] with each c x c cell shifted whole by its own (dy, dx) int64 [N, H/c,
    W/c] px, edges replicated: out[y, x] = img[y - dy, x - dx] (one gather)."""
    n, ch, h, w = img.shape
    idx = cell_sources(dy, dx, c, h, w)[:, None].expand(-1, ch, -1)  # [N, C, H*W]
    return img.flatten(2).gather(2, idx).view(n, ch, h, w)


def cell_sources(dy: torch.Tensor, dx: torch.Tensor, c: int, h: int, w: int) -> torch.Tensor:
    """Per-cell shifts (dy, dx) int64 [N, H/c, W/c] -> int64 [N, H*W]: the flat index of the pixel
    each pixel is copied from by shift_cells (edges replicated)."""
    n, gh, gw = dy.shape

    def up(v: torch.Tensor) -> torch.Tensor:  # [N, h, w] -> [N, H, W]: a cell's value on its pixels
        return v[:, :, None, :, None].expand(n, gh, c, gw, c).reshape(n, h, w)

    ys = (torch.arange(h, device=dy.device).view(1, h, 1) - up(dy)).clamp_(0, h - 1)  # [N, H, W]
    xs = (torch.arange(w, device=dy.device).view(1, 1, w) - up(dx)).clamp_(0, w - 1)  # [N, H, W]
    return ys.mul_(w).add_(xs).view(n, h * w)


def choose(logits: torch.Tensor, u: torch.Tensor, min_p: int) -> torch.Tensor:
    """Per-cell shift logits [N, D, h, w] and a uniform u [N] -> indices int64 [N, h, w]: the argmax
    (min_p 0) or the u-quantile of the distribution cut to shifts of p >= min_p % (every cell at the
    same quantile: one sprite's cells, alike, agree)."""
    if not min_p or logits.shape[0] == 0:
        return logits.argmax(1)
    p = logits.softmax(1)  # [N, D, h, w]
    keep = (p >= min_p / 100) | (p == p.amax(1, keepdim=True))  # the argmax stays
    p = torch.where(keep, p, 0.0)
    cdf = (p / p.sum(1, keepdim=True)).cumsum(1)  # [N, D, h, w]
    idx = (cdf < u.view(-1, 1, 1, 1)).sum(1)  # [N, h, w]: the first index whose cdf reaches u
    return idx.clamp(max=logits.shape[1] - 1)


def sample_shifts(
    ylog: torch.Tensor,
    xlog: torch.Tensor,
    z: torch.Tensor,
    min_p: int,
    objects: bool,
    my: int,
    mx: int,
    pool: bool = False,
    ring: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The hard predictor's sampler: per-cell shift logits [N, 2my+1|2mx+1, h, w] and the noise
    [N, Z] -> the shift indices (iy, ix) int64 [N, h, w]: `choose` at one uniform per frame (from
    the noise), and with `objects`, each cell follows its object's shift where that is plausible
    (`pool`: the object's distribution is its cells' weighted mean; `ring`: the cells around an
    object follow it whatever their own distribution, see per_object)."""
    u = 0.5 * (1 + torch.erf(z[:, 0] / 2**0.5))  # [N] uniform, from the noise
    iy, ix = choose(ylog, u, min_p), choose(xlog, u, min_p)  # [N, h, w] each
    if not objects:
        return iy, ix
    oy, ox = per_object(ylog, xlog, my, mx, pool, ring)
    jy, jx = choose(oy, u, min_p), choose(ox, u, min_p)  # [N, h, w] each
    lp = ylog.log_softmax(1).gather(1, jy[:, None]) + xlog.log_softmax(1).gather(1, jx[:, None])
    follow = (lp[:, 0] > FOLLOW_LOGP) | ring  # [N, h, w]: the cell's own log-probability of its
    return torch.where(follow, jy, iy), torch.where(follow, jx, ix)


def cell_coords(h: torch.Tensor) -> torch.Tensor:
    """[1, 2, h, w]: each cell's (x, y) centre in [-1, 1]."""
    gh, gw = h.shape[-2:]
    ys = (torch.arange(gh, device=h.device, dtype=h.dtype) + 0.5) / gh * 2 - 1  # [h]
    xs = (torch.arange(gw, device=h.device, dtype=h.dtype) + 0.5) / gw * 2 - 1  # [w]
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), 0)[None]  # [1, 2, h, w]
