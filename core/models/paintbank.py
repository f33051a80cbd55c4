"""Teaching the painter alone, from a bank of its inputs and labels computed once.

With the rest of the predictor frozen, the painter's problem is a fixed supervised one: per cell
near a sprite, its inputs (the moved frame's window, the cell's features, the action) and what the
cell's own heads already say (paint logits, the RGB painted pixels start from) do not change while
it learns. So they are computed once per window, teacher-forced on the game's frames as
block_unroll_loss labels them, and the painter then trains on minibatches of cells: thousands of
pose changes a second instead of the few a whole-frame step holds (measured: 1000 whole-frame steps
of 16 windows taught half the pixels of a first frame's new pose, history/m4-m5-model.md).

    bank = painter_bank(net, ctx, action, target)   # dict of [M, ...] tensors, M cells
    loss = painter_loss(net, take(bank, rows))      # scalar: paint BCE + colour CE, weighted

Pure torch; no IO.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F

from core.models.bestofk import motion_weights
from core.models.blockmotion import MOTION_WEIGHT, layer_labels, layer_loss, searched_moves
from core.models.cells import shift_cells
from core.models.painter import near_sprites
from core.models.predictor import FramePredictor
from core.models.protocols import slide
from core.models.unroll import start_context


@torch.no_grad()
def painter_bank(
    net: FramePredictor, ctx: torch.Tensor, action: torch.Tensor, target: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Contexts [N, K, 3, H, W], actions int64 [N] and true next frames [N, 3, H, W] -> per cell
    near a sprite (M of them): "x" the painter's input [M, D]; per pixel of the cell (c*c of
    them), "paint0" the cell head's paint logit [M, c*c], "rgb0" the RGB a painted pixel starts
    from [M, 3, c*c], "label" paint or not [M, c*c], "colour" the target's palette index
    [M, c*c], "weight" [M, c*c]."""
    cfg, c = net.cfg, net.cfg.cell
    last = ctx[:, -1]  # [N, 3, H, W]
    g, base, iy, ix, _, _ = searched_moves(net, last, target)  # [N], [N, 3, H, W], [N, h, w] x 2
    aux: dict[str, torch.Tensor] = {}
    net.decode(net.encode(ctx), action, torch.zeros(len(action), cfg.noise_dim, device=ctx.device),
               shift=g, cells=(iy, ix), aux=aux)  # fmt: skip
    feat, fg = aux["feat"], aux["fg"] > 0  # [N, F, h, w], [N, H, W]
    label, known = layer_labels(net, base, target, iy, ix)
    _, paint = layer_loss(net, base, target, iy, ix, aux, label, known)  # [N, H, W] the labels
    wall = net.walls(base) if cfg.contact else None
    layered = net.layered(base, fg, aux["behind"], iy, ix, wall)  # [N, 3, H, W]
    paint0, _, res0 = net.cell_heads(feat)  # [N, H, W], _, [N, 3, H, W]: without the painter
    moved = shift_cells(base, iy - cfg.max_dy, ix - cfg.max_dx, c)  # [N, 3, H, W]
    x, at = net.painter.inputs(feat, moved, action, near_sprites(fg, c))  # [M, D], [M, 3]
    colour = net.colour_logits(target.permute(0, 2, 3, 1)).argmax(-1)[:, None]  # [N, 1, H, W]
    weight = motion_weights(last, target, MOTION_WEIGHT)  # [N, 1, H, W]
    per_pixel = torch.cat(
        [paint0[:, None], layered + res0, paint[:, None].float(), colour.float(), weight], 1
    )
    cells = F.pixel_unshuffle(per_pixel, c)  # [N, 7 c c, h, w]
    i, y, xx = at.unbind(1)
    v = cells[i, :, y, xx].view(-1, 7, c * c)  # [M, 7, c c]
    return {"x": x, "paint0": v[:, 0], "rgb0": v[:, 1:4], "label": v[:, 4],
            "colour": v[:, 5].long(), "weight": v[:, 6]}  # fmt: skip


@torch.no_grad()
def bank_windows(
    net: FramePredictor,
    chunks: Iterable[tuple[torch.Tensor, torch.Tensor]],
    horizon: int,
    one_frame: float,
    gen: torch.Generator,
) -> dict[str, torch.Tensor]:
    """painter_bank over windows (frames [B, K + T, 3, H, W], actions [B, T]; a few at a time:
    whole frames) at each of `horizon` steps: the first from the window's context (one repeated
    frame for a `one_frame` share), the rest from the model's own frames, drawn as at inference."""
    k, parts = net.cfg.context, []
    for x, a in chunks:
        start = start_context(x, k, one_frame, 0.0, gen)  # [B, K, 3, H, W]
        for t in range(horizon):
            parts.append(painter_bank(net, start, a[:, t], x[:, k + t]))
            if t + 1 < horizon:
                z = torch.randn(len(a), net.cfg.noise_dim, generator=gen).to(x.device)  # [B, Z]
                start = slide(start, net(start, a[:, t], z).clamp(0, 1))
    return {name: torch.cat([p[name] for p in parts]) for name in parts[0]}


def take(bank: dict[str, torch.Tensor], rows: torch.Tensor) -> dict[str, torch.Tensor]:
    return {k: v[rows] for k, v in bank.items()}


def painter_loss(net: FramePredictor, b: dict[str, torch.Tensor]) -> torch.Tensor:
    """The painter's part of block_unroll_loss on a minibatch of banked cells: the paint decision's
    BCE and the painted pixels' colour cross-entropy, each weighted as there."""
    y = net.painter.net(b["x"]).view(b["x"].shape[0], 4, -1)  # [M, 4, c c]: paint, R, G, B
    bce = F.binary_cross_entropy_with_logits(b["paint0"] + y[:, 0], b["label"], reduction="none")
    on = b["label"] > 0  # [M, c c]
    rgb = (b["rgb0"] + y[:, 1:]).permute(0, 2, 1)[on]  # [P, 3]
    ce = F.cross_entropy(net.colour_logits(rgb), b["colour"][on], reduction="none")  # [P]
    return ((bce * b["weight"]).sum() + (ce * b["weight"][on]).sum()) / b["weight"].numel()
