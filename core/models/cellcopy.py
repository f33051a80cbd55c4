"""Gate m9's world model: each cell of the next frame is a cell of the last frame, moved, or painted.

    net = CellCopy(CellCopyConfig(), offsets, palette)   # offsets int64 [M, 2], palette uint8 [P, 3]
    logits, feat = net(ctx, action)   # ctx float [B, K, 3, H, W] in [0, 1], action int64 [B]
    y = net.predict(ctx, action, z)   # float [B, 3, H, W]: the next frame, every pixel exact or painted

A frame is cut into 8x8 cells. Per cell the network chooses one of M whole-pixel moves (content moved
by (dy, dx): the cell is the last frame's pixels at that offset) or "paint", and a painted cell takes
each pixel's colour from the palette. Moves and palette are read off a game's frames (`read_offsets`:
a greedy cover of the cells that change by the moves that reproduce them exactly; `read_palette`: the
most frequent colours), so one architecture serves a grid game whose tiles jump 16 px and a platformer
whose sprites slide 1-8 px; the frames stay crisp (every pixel a copy or a palette colour), which the
genre decoders of gate m9 need. Why cells that copy: history/m9-genres.md.

Targets are exact: a move is right for a cell when it reproduces the cell bit for bit. Where staying
does, only staying is right (a canonical choice); elsewhere several moves can be (a vacated cell of
floor is floor from either side), so the cell loss is -log of the summed probability of the right
choices (as a pointer network sums over every matching position); paint is right only where no move
is, and its pixels are scored against the palette colour nearest the true one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.metrics import pack_rgb


@dataclass(frozen=True)
class CellCopyConfig:
    n_actions: int = 5  # the roadmap's five in every built-in game
    context: int = 2  # frames in: two show a velocity (the platformer's fall), one would not
    cell: int = 8  # px: half a 16-px tile, so a tile game's move is whole cells and a sprite's
    # sub-tile slide still has cells of its own
    reach: int = (
        16  # |dy|, |dx| <= reach px: one tile of a grid game, two frames of the fastest fall
    )
    moves: int = 32  # move classes kept from the greedy cover (the first is always (0, 0))
    palette: int = 96  # colours a painted pixel may take: the three games use 71 together
    width: int = 64  # channels at the cell grid (H/8); twice that at H/16

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> CellCopyConfig:
        return cls(**d)


def to_cells(packed: torch.Tensor, cell: int) -> torch.Tensor:
    """int32 [B, H, W] -> [B, H/c, W/c, c*c]: each cell's pixels, row-major."""
    b, h, w = packed.shape
    x = packed.view(b, h // cell, cell, w // cell, cell).permute(0, 1, 3, 2, 4)
    return x.reshape(b, h // cell, w // cell, cell * cell)


def moved(packed: torch.Tensor, dy: int, dx: int, reach: int) -> torch.Tensor:
    """int32 [B, H, W] with its content moved by (dy, dx): out[y, x] = in[y - dy, x - dx]; -1 where
    that lies outside the frame (no colour packs to -1, so it never matches)."""
    _, h, w = packed.shape
    pad = F.pad(packed, (reach, reach, reach, reach), value=-1)
    return pad[:, reach - dy : reach - dy + h, reach - dx : reach - dx + w]


def all_offsets(reach: int) -> torch.Tensor:
    """int64 [(2r+1)^2, 2]: every (dy, dx) within reach, dy-major."""
    r = torch.arange(-reach, reach + 1)
    return torch.cartesian_prod(r, r)


def _windows(prev: torch.Tensor, where: torch.Tensor, cell: int, reach: int) -> torch.Tensor:
    """prev int32 [B, H, W], where int64 [N, 3] (frame, cell row, cell col) -> int32 [N, (2r+1)^2,
    c*c]: the cell's pixels under every offset of all_offsets(reach)."""
    pad = F.pad(prev, (reach, reach, reach, reach), value=-1)
    b, cy, cx = where.unbind(1)
    span = torch.arange(cell + 2 * reach)
    ys = (cy * cell)[:, None] + span  # [N, c+2r] rows of the padded frame
    xs = (cx * cell)[:, None] + span
    win = pad[b[:, None, None], ys[:, :, None], xs[:, None, :]]  # [N, c+2r, c+2r]
    u = win.unfold(1, cell, 1).unfold(2, cell, 1)  # [N, 2r+1, 2r+1, c, c]: source at (i-r, j-r)
    u = u.flip(1).flip(2)  # index [dy+r, dx+r]: content moved by (dy, dx) comes from -(dy, dx)
    return u.reshape(len(where), (2 * reach + 1) ** 2, cell * cell)


MAX_CELLS = 2048  # changed cells the greedy cover looks at (each holds (2r+1)^2 x 64 int32)


def read_offsets(
    prev: torch.Tensor, nxt: torch.Tensor, m: int, cell: int, reach: int
) -> torch.Tensor:
    """Frames uint8 [N, H, W, 3] before and after a step -> int64 [<=m, 2]: (0, 0), then greedily the
    move that reproduces the most changed cells not yet reproduced, until m or none helps."""
    p, q = pack_rgb(prev), to_cells(pack_rgb(nxt), cell)
    changed = (to_cells(p, cell) != q).any(-1)  # [N, h, w]
    where = changed.nonzero()  # [C, 3]
    where = where[:: max(1, len(where) // MAX_CELLS)]  # evenly spaced: bounded memory, same cover
    offs = all_offsets(reach)
    hit = (_windows(p, where, cell, reach) == q[where.unbind(1)][:, None]).all(-1).T  # [O, C]
    left = torch.ones(len(where), dtype=torch.bool)
    out = [int(((offs == 0).all(1)).nonzero()[0, 0])]
    while len(out) < m:
        gain = (hit & left).sum(1)  # [O]
        j = int(gain.argmax())
        if int(gain[j]) == 0:
            break
        out.append(j)
        left &= ~hit[j]
    return offs[out]


def read_palette(frames: torch.Tensor, p: int) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> uint8 [<=p, 3]: the p most frequent colours, most frequent first."""
    colours, counts = torch.unique(pack_rgb(frames).flatten(), return_counts=True)  # 1-D: cheap
    top = colours[counts.argsort(descending=True)[:p]]
    return torch.stack([(top >> 16) & 255, (top >> 8) & 255, top & 255], -1).to(torch.uint8)


def targets(
    prev: torch.Tensor, nxt: torch.Tensor, offsets: torch.Tensor, cell: int, reach: int
) -> torch.Tensor:
    """uint8 prev, nxt [B, H, W, 3] -> right bool [B, M+1, h, w]: which choices reproduce each cell
    of nxt (offsets[0] must be (0, 0), stay), the last being paint, right only where no move is."""
    p, q = pack_rgb(prev), to_cells(pack_rgb(nxt), cell)
    hits = [(to_cells(moved(p, int(dy), int(dx), reach), cell) == q).all(-1) for dy, dx in offsets]
    right = torch.stack(hits, 1)  # [B, M, h, w]
    right[:, 1:] &= ~right[:, :1]  # where staying is right it is the only right move: a canonical
    # choice (sky is sky under any move, and a model free to move it learns moves it cannot stop)
    return torch.cat([right, ~right.any(1, keepdim=True)], 1)


def nearest_colour(pixels: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3], palette uint8 [P, 3] -> int64 [...]: the index of the nearest colour."""
    d = (pixels[..., None, :].float() - palette.float()).square().sum(-1)  # [..., P]
    return d.argmin(-1)


STAY_BIAS = 4.0  # logit of (0, 0) at init: p(stay) ~ 0.63 against 32 other choices at 0


class CellCopy(nn.Module):
    def __init__(
        self, cfg: CellCopyConfig, offsets: torch.Tensor | None = None,
        palette: torch.Tensor | None = None,
    ):  # fmt: skip
        """offsets int64 [<=M, 2] and palette uint8 [<=P, 3] as read off the data; None (a model
        about to load its checkpoint, whose buffers hold them): stay only, one colour."""
        super().__init__()
        offsets = torch.zeros(1, 2, dtype=torch.int64) if offsets is None else offsets
        palette = torch.zeros(1, 3, dtype=torch.uint8) if palette is None else palette
        self.cfg = cfg
        m, p, c, k = cfg.moves, cfg.palette, cfg.width, cfg.context
        # moves and palette pad to their configured sizes (unused classes masked), so models of one
        # config have one parameter count whatever the game
        offs = torch.zeros(m, 2, dtype=torch.int64)
        offs[: len(offsets)] = offsets
        pal = torch.zeros(p, 3, dtype=torch.uint8)
        pal[: len(palette)] = palette
        self.register_buffer("offsets", offs)  # [M, 2] (dy, dx)
        self.register_buffer("palette_rgb", pal)  # [P, 3]
        self.register_buffer("n_moves", torch.tensor(len(offsets)))
        self.register_buffer("n_colours", torch.tensor(len(palette)))
        self.context_frames, self.noise_dim, self.n_actions = k, 0, cfg.n_actions
        cin = k * 3 * cfg.cell**2 + 2  # every pixel of the context cell, plus its position
        self.stem = nn.Conv2d(cin, c, 1)
        self.act = nn.Embedding(cfg.n_actions, c)
        self.act2 = nn.Embedding(cfg.n_actions, 2 * c)
        self.fine = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(2)])
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.coarse = nn.ModuleList(
            [nn.Conv2d(2 * c, 2 * c, 3, padding=d, dilation=d) for d in (1, 2, 4)]
        )
        self.glob = nn.Linear(2 * c, 2 * c)  # the whole frame's summary: a HUD far from the player
        self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
        self.out = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(2)])
        self.choice = nn.Conv2d(c, m + 1, 1)
        nn.init.zeros_(self.choice.weight)  # untrained, every cell stays put: copy-last-frame, the
        with torch.no_grad():  # baseline; training then only has to learn what changes
            self.choice.bias.zero_()
            self.choice.bias[0] = STAY_BIAS
        self.paint = nn.Linear(c, cfg.cell**2 * p)

    @property
    def colours(self) -> torch.Tensor:
        """uint8 [P', 3]: the palette read off the data (no padding)."""
        return self.palette_rgb[: int(self.n_colours)]

    def forward(self, ctx: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ctx float [B, K, 3, H, W], action int64 [B] -> (logits [B, M+1, h, w], feat [B, C, h, w])."""
        b, _, _, h, w = ctx.shape
        c = self.cfg.cell
        x = F.pixel_unshuffle(ctx.flatten(1, 2), c)  # [B, K*3*c*c, h, w]
        yy = torch.linspace(-1, 1, h // c, device=ctx.device)[:, None].expand(h // c, w // c)
        xx = torch.linspace(-1, 1, w // c, device=ctx.device)[None, :].expand(h // c, w // c)
        pos = torch.stack([yy, xx])[None].expand(b, -1, -1, -1)  # [B, 2, h, w]
        f = self.stem(torch.cat([x, pos], 1)) + self.act(action)[:, :, None, None]  # [B, C, h, w]
        for conv in self.fine:
            f = f + conv(F.gelu(f))
        g = self.down(F.gelu(f)) + self.act2(action)[:, :, None, None]  # [B, 2C, h/2, w/2]
        for conv in self.coarse:
            g = g + conv(F.gelu(g))
            g = g + self.glob(g.mean((2, 3)))[:, :, None, None]
        f = f + self.up(F.gelu(g))  # [B, C, h, w]
        for conv in self.out:
            f = f + conv(F.gelu(f))
        logits = self.choice(F.gelu(f))  # [B, M+1, h, w]
        unused = torch.arange(self.cfg.moves + 1, device=ctx.device) >= self.n_moves
        unused[-1] = False  # paint
        return logits.masked_fill(unused[:, None, None], -1e4), f  # padded moves never chosen

    def paint_logits(self, feat: torch.Tensor) -> torch.Tensor:
        """feat float [N, C] (one painted cell each) -> [N, c*c, P]: each pixel's colour logits."""
        y = self.paint(F.gelu(feat)).view(len(feat), self.cfg.cell**2, self.cfg.palette)
        unused = torch.arange(self.cfg.palette, device=feat.device) >= self.n_colours
        return y.masked_fill(unused, -1e4)

    @torch.no_grad()
    def predict(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """The protocol's step: context float [B, K, 3, H, W] -> float [B, 3, H, W]."""
        logits, feat = self(context, actions)
        return compose(self, context[:, -1], logits.argmax(1), feat)

    def rollout(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        from core.models.protocols import rollout_by_steps

        return rollout_by_steps(self, context, actions, noise)


def compose(
    net: CellCopy, last: torch.Tensor, choice: torch.Tensor, feat: torch.Tensor
) -> torch.Tensor:
    """last float [B, 3, H, W], choice int64 [B, h, w] (a move index, or M for paint), feat [B, C, h,
    w] -> float [B, 3, H, W]: each cell the last frame's pixels under its move, or painted."""
    b, _, h, w = last.shape
    c, m = net.cfg.cell, net.cfg.moves
    off = net.offsets[choice.clamp(max=m - 1)]  # [B, h, w, 2]
    off = off.repeat_interleave(c, 1).repeat_interleave(c, 2)  # [B, H, W, 2]
    ys = (torch.arange(h, device=last.device)[:, None] - off[..., 0]).clamp(0, h - 1)  # [B, H, W]
    xs = (torch.arange(w, device=last.device)[None, :] - off[..., 1]).clamp(0, w - 1)
    idx = (ys * w + xs).view(b, 1, h * w).expand(-1, 3, -1)
    out = last.flatten(2).gather(2, idx).view(b, 3, h, w)  # [B, 3, H, W]
    paint = choice == m  # [B, h, w]
    if paint.any():
        where = paint.nonzero()  # [N, 3]
        col = net.paint_logits(feat.permute(0, 2, 3, 1)[paint]).argmax(-1)  # [N, c*c]
        rgb = net.palette_rgb[col].float().div(255)  # [N, c*c, 3]
        rgb = rgb.view(-1, c, c, 3).permute(0, 3, 1, 2)  # [N, 3, c, c]
        cells = out.unfold(2, c, c).unfold(3, c, c)  # view [B, 3, h, w, c, c]
        bi, cy, cx = where.unbind(1)
        cells[bi, :, cy, cx] = rgb
    return out


def losses(
    net: CellCopy, ctx: torch.Tensor, action: torch.Tensor, last: torch.Tensor, nxt: torch.Tensor,
    changed_weight: float,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """(cell loss, paint loss): ctx float [B, K, 3, H, W], action int64 [B], last and nxt uint8
    [B, H, W, 3] the context's last frame and the true next frame. The cells that do not stay put are ~1 % of all and the only ones that say
    anything about the rules: their mean loss is added to the still cells' mean, times changed_weight."""
    cfg = net.cfg
    right = targets(last, nxt, net.offsets, cfg.cell, cfg.reach)  # [B, M+1, h, w]
    logits, feat = net(ctx, action)  # [B, M+1, h, w], [B, C, h, w]
    per_cell = logits.logsumexp(1) - logits.masked_fill(~right, -1e4).logsumexp(1)  # [B, h, w]
    still = right[:, 0]  # [B, h, w]: (0, 0) reproduces the cell
    moving = per_cell[~still].mean() if (~still).any() else per_cell.new_zeros(())
    cell_loss = per_cell[still].mean() + changed_weight * moving
    paint = right[:, -1]  # [B, h, w]
    if not paint.any():
        return cell_loss, logits.new_zeros(())
    pl = net.paint_logits(feat.permute(0, 2, 3, 1)[paint])  # [N, c*c, P]
    pix = to_cells(pack_rgb(nxt), cfg.cell)[paint]  # [N, c*c] packed
    rgb = torch.stack([(pix >> 16) & 255, (pix >> 8) & 255, pix & 255], -1).to(torch.uint8)
    col = nearest_colour(rgb, net.colours)  # [N, c*c]
    return cell_loss, F.cross_entropy(pl.flatten(0, 1), col.flatten())
