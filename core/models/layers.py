"""The sprite layer over a still background: what a sprite uncovers, and where it must stop.

What a sprite uncovers (`row_fill`): the background beside it in its row.

Contact: a sprite does not enter solid ground. Which colours are solid is read off the data (the
colours a moving sprite comes next to but never covers), and a sampled move that would carry a
sprite's pixels onto them is cut short at the face, as the game's own axis-separated collision does.

    counts = contact_counts(prev, cur, colours, mg=5)                  # int64 [3, P], from data
    solid, shown = solid_colours(counts), shown_colours(counts)        # bool [P] x 2
    iy, ix = resolve(fg, wall, iy, ix, cell=8, my=8, mx=5)             # shifts that stop at walls

Why (history/m4-m5-model.md): a cell's shift is chosen from features 8 px coarse, and a falling
player's last step before the ground must be exact to the pixel; most of the frames where the
layered model's player overlaps solid tiles had it sunk 1-8 rows into the ground. Pure torch; no IO.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from core.metrics import to_unit
from core.models.cells import shift_cells
from core.models.motion import CHANGED, best_shift, shift_global

MAX_MOVING = 0.1  # a pair of frames that changes in more than a tenth of its pixels is a cut
REACH = 2  # px: a pixel this close to a changed one is "beside" a moving thing
MIN_BESIDE = 16  # a colour needs this many pixels beside moving things to be judged at all
MAX_COVERED = 0.01  # ... and is solid when under 1 % of its contacts with motion covered it (the
# ground is never covered; sky and the hills a sprite walks in front of are, often)
MIN_SHOWN = 4  # pixels: a colour moving things showed fewer times is not one a model paints


COVERED, BESIDE, SHOWN = range(3)  # the rows of contact_counts


def contact_counts(
    prev: torch.Tensor, cur: torch.Tensor, colours: torch.Tensor, mg: int
) -> torch.Tensor:
    """Consecutive frames prev, cur float [N, 3, H, W] in [0, 1] and the palette colours [P, 3] ->
    int64 [3, P]: per colour, the pixels of it in the camera-moved prev that changed (COVERED), that
    did not but are within REACH of a change (BESIDE), and the changed pixels of cur that show it
    (SHOWN). The columns a camera move of up to mg px reveals (and those within REACH of them) are
    left out (their change is new scenery, not motion), and so are cuts (a reset, a respawn: a change
    over more than MAX_MOVING of the frame)."""
    g = best_shift(prev, cur, mg)  # [N]
    base = shift_global(prev, g - mg)  # [N, 3, H, W]
    p = colours.shape[0]

    def nearest(img: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W] -> [N H W] palette indices
        return torch.cdist(img.permute(0, 2, 3, 1).flatten(0, 2), colours).argmin(1)

    changed = (base - cur).abs().amax(1) > CHANGED  # [N, H, W]
    changed &= changed.flatten(1).float().mean(1)[:, None, None] <= MAX_MOVING  # not a cut
    near = F.max_pool2d(changed[:, None].float(), 2 * REACH + 1, 1, REACH)[:, 0] > 0  # [N, H, W]
    valid = torch.ones_like(changed)
    edge = mg + REACH  # the revealed columns, and those beside them
    valid[..., :edge], valid[..., -edge:] = False, False
    was, now = nearest(base), nearest(cur)  # [N H W] x 2
    counts = [
        torch.bincount(was[(changed & valid).flatten()], minlength=p),
        torch.bincount(was[(near & ~changed & valid).flatten()], minlength=p),
        torch.bincount(now[(changed & valid).flatten()], minlength=p),
    ]
    return torch.stack(counts)  # [3, P]


def clip_counts(clips: torch.Tensor, colours: torch.Tensor, mg: int) -> torch.Tensor:
    """contact_counts summed over the consecutive frames of clips uint8 [E, T+1, H, W, 3] (one clip
    at a time: bounded memory) -> int64 [3, P]."""
    total = torch.zeros(3, colours.shape[0], dtype=torch.int64)
    for clip in clips:
        x = to_unit(clip)  # [T+1, 3, H, W]
        total += contact_counts(x[:-1], x[1:], colours.cpu(), mg)
    return total


def solid_colours(counts: torch.Tensor) -> torch.Tensor:
    """contact_counts's int64 [3, P] (summed over any number of frame pairs) -> bool [P]: the colours
    moving sprites come next to but (almost) never cover."""
    covered, beside = counts[COVERED], counts[BESIDE]  # [P] x 2
    return (beside >= MIN_BESIDE) & (covered.float() <= MAX_COVERED * (covered + beside).float())


def shown_colours(counts: torch.Tensor) -> torch.Tensor:
    """contact_counts's int64 [3, P] -> bool [P]: the colours moving things show where they go (a
    model draws new pixels from these only: a pipe's dark green never appears between a walking
    player's legs in the game, whatever colour lies nearest a blend of leg and hill)."""
    return counts[SHOWN] >= MIN_SHOWN


def groups(iy: torch.Tensor, ix: torch.Tensor, my: int, mx: int) -> torch.Tensor:
    """Per-cell shift indices (iy, ix) int64 [N, h, w] -> int64 [N, h, w] group ids (0: no move):
    8-connected cells that move by the same shift (a sprite and the ring that carries it)."""
    n, h, w = iy.shape
    key = iy * (2 * mx + 1) + ix  # [N, h, w]
    moving = (iy != my) | (ix != mx)
    ids = torch.arange(1, n * h * w + 1, device=iy.device).view(n, h, w)
    lab = torch.where(moving, ids, 0)
    pk = F.pad(key, (1, 1, 1, 1), value=-1)  # [N, h+2, w+2]
    for _ in range(h + w):
        pl = F.pad(lab, (1, 1, 1, 1))
        grown = lab
        for oy in (-1, 0, 1):
            for ox in (-1, 0, 1):
                nk = pk[:, 1 + oy : 1 + oy + h, 1 + ox : 1 + ox + w]
                nl = pl[:, 1 + oy : 1 + oy + h, 1 + ox : 1 + ox + w]
                grown = torch.maximum(grown, torch.where(nk == key, nl, 0))
        grown = torch.where(moving, grown, 0)
        if torch.equal(grown, lab):
            break
        lab = grown
    return lab


def _hits(
    fg: torch.Tensor, wall: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, c: int
) -> torch.Tensor:
    """bool [N, h, w]: cells where the sprite pixels (fg bool [N, H, W]) that the per-cell shift (dy,
    dx) int64 [N, h, w] brings land on wall bool [N, H, W]."""
    land = shift_cells(fg[:, None].float(), dy, dx, c)[:, 0] > 0.5  # [N, H, W]
    return F.max_pool2d((land & wall)[:, None].float(), c)[:, 0] > 0  # [N, h, w]


def _stop(hit_at: torch.Tensor, gid: torch.Tensor, idx: torch.Tensor, m: int) -> torch.Tensor:
    """One axis: hit_at bool [N, 2m+1, h, w] (cell collides at each shift index), the cells' groups
    gid [N, h, w] and chosen indices idx [N, h, w] -> the indices cut to the last shift, on the way
    from 0 to the chosen one, at which no cell of the group collides."""
    n, d, h, w = hit_at.shape
    flat = gid.flatten()  # [N h w]
    per = hit_at.permute(0, 2, 3, 1).reshape(-1, d).float()  # [N h w, D]
    at = flat[:, None].expand(-1, d)  # [N h w, D]
    g = per.new_zeros(n * h * w + 1, d).scatter_reduce(0, at, per, "amax")[flat]  # [N h w, D]
    s = idx.flatten() - m  # [N h w]: the chosen shift
    k = torch.arange(m + 1, device=idx.device)  # [m+1]: steps from 0
    path = m + s.sign()[:, None] * k  # [N h w, m+1]: the shift indices on the way
    blocked = g.gather(1, path) > 0  # [N h w, m+1]
    blocked &= k[None] <= s.abs()[:, None]
    first = torch.where(blocked, k, m + 1).amin(1)  # [N h w]: the first blocked step
    cut = torch.where(first <= s.abs(), s.sign() * (first - 1).clamp(min=0), s)
    return torch.where(flat > 0, m + cut, idx.flatten()).view_as(idx)


MIN_BODY = 4  # a sprite pixel collides when 4+ pixels of its 3x3 are sprite (itself included): a
# shoe's bottom row has 5, a stray speck of a trail 1 or 2 (and it must not hold the player up)


def _candidates(
    fg: torch.Tensor,
    wall: torch.Tensor,
    idx: torch.Tensor,
    m: int,
    shifts: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    c: int,
) -> torch.Tensor:
    """bool [N, 2m+1, h, w]: for each shift index of one axis, the cells whose sprite pixels land on
    wall under shifts(that shift as int64 [N, h, w]) -> (dy, dx). Only the shifts between 0 and the
    chosen ones are tested (a path never visits the others)."""
    s = idx - m  # [N, h, w]
    hit = torch.zeros(idx.shape[0], 2 * m + 1, *idx.shape[1:], dtype=torch.bool, device=idx.device)
    for d in range(min(0, int(s.min())), max(0, int(s.max())) + 1):
        hit[:, m + d] = _hits(fg, wall, *shifts(torch.full_like(idx, d)), c)
    return hit


def resolve(
    fg: torch.Tensor,
    wall: torch.Tensor,
    iy: torch.Tensor,
    ix: torch.Tensor,
    c: int,
    my: int,
    mx: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sampled per-cell shift indices (iy, ix) int64 [N, h, w] with every group of cells that moves
    together (`groups`) stopped at the face of the solid pixels wall bool [N, H, W] its sprite
    pixels fg bool [N, H, W] would enter: along x first at the old height, then along y at the new
    x, as the game moves its player (its own place never collides: wall is background only)."""
    gid = groups(iy, ix, my, mx)  # [N, h, w]
    near = F.avg_pool2d(fg[:, None].float(), 3, 1, 1, count_include_pad=False)[:, 0]  # [N, H, W]
    fg = fg & (near * 9 > MIN_BODY - 0.5)  # a sprite's body, not a stray speck the mask caught
    ix2 = _stop(_candidates(fg, wall, ix, mx, lambda d: (torch.zeros_like(iy), d), c), gid, ix, mx)
    iy2 = _stop(_candidates(fg, wall, iy, my, lambda d: (d, ix2 - mx), c), gid, iy, my)
    return iy2, ix2


def row_fill(img: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
    """Each pixel of img [N, C, H, W] replaced by the nearest pixel of its row where bg (bool
    [N, H, W]) beyond its run (the pixels of its colour, within CHANGED, that touch it along the
    row), the left one on a tie -> [N, C, H, W] (unchanged where the row has none). What a sprite
    uncovers, guessed from the background beside it: the game's sky and hills are horizontal bands,
    a colour taken from the frame is in palette, and what is behind a sprite's pixel is not its own
    colour (a flat shirt's inside, which its 1-px move cannot show to be sprite, is not copied into
    the place its edge left). A head taught the colour instead learnt the hills' colours everywhere
    and left a trail in the sky (history/m4-m5-model.md)."""
    n, ch, h, w = img.shape
    col = torch.arange(w, device=img.device).expand(n, h, w)  # [N, H, W]
    far = torch.full_like(col, 2 * w)
    left = torch.where(bg, col, -far).cummax(2).values  # [N, H, W]: nearest bg column at or left
    right = torch.where(bg, col, far).flip(2).cummin(2).values.flip(2)  # ... at or right
    start, end = row_runs(img)  # [N, H, W] x 2
    left = torch.where(start > 0, left.gather(2, (start - 1).clamp(min=0)), -far)
    right = torch.where(end < w - 1, right.gather(2, (end + 1).clamp(max=w - 1)), far)
    src = torch.where(col - left <= right - col, left, right)  # [N, H, W]
    src = torch.where(src.abs() < w, src, col)  # rows without background keep their own
    return img.gather(3, src[:, None].expand(n, ch, h, w))


def row_runs(img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """img [N, C, H, W] -> the first and the last column of each pixel's run, int64 [N, H, W] x 2:
    the pixels of one colour (neighbours within CHANGED) that touch along the row."""
    n, _, h, w = img.shape
    col = torch.arange(w, device=img.device).expand(n, h, w)  # [N, H, W]
    new = torch.ones(n, h, w, dtype=torch.bool, device=img.device)
    new[:, :, 1:] = (img[..., 1:] - img[..., :-1]).abs().amax(1) > CHANGED  # a run starts here
    last = torch.ones_like(new)
    last[:, :, :-1] = new[:, :, 1:]  # a run ends here
    start = torch.where(new, col, 0).cummax(2).values
    end = torch.where(last, col, w - 1).flip(2).cummin(2).values.flip(2)
    return start, end
