"""The painter: new pixels drawn from what the sprite around them looks like, to the pixel.

Block motion copies a sprite whole; what no copy explains (a new pose: arms up, a crouch, a flip to
face left, the next stride of a walk) must be painted. A cell's paint and colour come from its
decoder features through a 1x1 conv, and those features would have to encode where inside the 8x8
cell the sprite's edge lies (64 offsets x every pose) for a linear map to put an arm on the right
pixel: measured, the m4 candidate never paints the arms-up pose, and its crouch and strides tear
(history/m4-m5-model.md, "m5"). The painter sees the pixels themselves: per cell where a sprite is,
the moved frame's 24x24 window around it (the cell and its 8 neighbours), the cell's features and
the action, through a small MLP, and adds to the cell's paint logits and colour residual. It runs
only on cells near sprite pixels (a few dozen of 1024), so it is cheap at inference.

    painter = Painter(feat=48, n_actions=5, cell=8, hidden=192)
    dpaint, dres = painter(feat, moved, action, active)   # [N, H, W], [N, 3, H, W]

Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Painter(nn.Module):
    def __init__(self, feat: int, n_actions: int, cell: int, hidden: int) -> None:
        super().__init__()
        self.cell, self.n_actions = cell, n_actions
        d = 3 * (3 * cell) ** 2 + feat + n_actions
        self.net = nn.Sequential(
            nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
            nn.Linear(hidden, 4 * cell * cell),
        )  # fmt: skip
        nn.init.zeros_(self.net[-1].weight)  # zero at first: a start from weights without it
        nn.init.zeros_(self.net[-1].bias)  # behaves exactly as they did

    def inputs(
        self, feat: torch.Tensor, moved: torch.Tensor, action: torch.Tensor, active: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """feat [N, F, h, w], the moved frame [N, 3, H, W], action int64 [N], active bool [N, h, w]
        -> (the MLP's input per active cell [M, 27c^2 + F + A], which cell int64 [M, 3])."""
        c = self.cell
        at = active.nonzero()  # [M, 3]: (frame, cell row, cell column)
        padded = F.pad(moved * 2 - 1, (c, c, c, c))  # [N, 3, H + 2c, W + 2c]
        wins = padded.unfold(2, 3 * c, c).unfold(3, 3 * c, c)  # [N, 3, h, w, 3c, 3c], a view
        i, y, x = at.unbind(1)
        x_in = torch.cat(
            [
                wins[i, :, y, x].flatten(1),  # [M, 27c^2]
                feat[i, :, y, x],  # [M, F]
                F.one_hot(action[i], self.n_actions).to(feat.dtype),  # [M, A]
            ],
            1,
        )
        return x_in, at

    def forward(
        self, feat: torch.Tensor, moved: torch.Tensor, action: torch.Tensor, active: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As inputs' -> (paint logits to add [N, H, W], RGB residual to add [N, 3, H, W]); zero
        outside the active cells."""
        n, _, h, w = feat.shape
        x_in, at = self.inputs(feat, moved, action, active)
        i, y, x = at.unbind(1)
        out = feat.new_zeros(n, h, w, 4 * self.cell**2).index_put((i, y, x), self.net(x_in))
        out = F.pixel_shuffle(out.permute(0, 3, 1, 2), self.cell)  # [N, 4, H, W]
        return out[:, 0], out[:, 1:]


def near_sprites(fg: torch.Tensor, c: int) -> torch.Tensor:
    """bool [N, h, w]: cells within one cell of a sprite pixel of fg bool [N, H, W] (a cell's
    shift moves it at most one cell, so a sprite's new pixels lie there)."""
    has = F.max_pool2d(fg[:, None].float(), c)  # [N, 1, h, w]
    return F.max_pool2d(has, 3, 1, 1)[:, 0] > 0
