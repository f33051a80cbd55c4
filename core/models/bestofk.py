"""The soft predictor's losses (m2's, and m12's fine-tune): best-of-K over noise samples, and coverage of
known distinct futures, both weighted toward the pixels that move.

    loss = best_of_k_loss(net, ctx, action, target, k=2)            # a FramePredictor, scalar
    loss = coverage_loss(net, ctx, action, outcomes, k=4)            # outcomes [N, J, 3, H, W]

Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.models.motion import best_shift
from core.models.predictor import FramePredictor
from core.models.protocols import tile


def motion_weights(last: torch.Tensor, target: torch.Tensor, weight: float) -> torch.Tensor:
    """float [N, 1, H, W]: 1 + weight near pixels that change from the last frame to the target
    (a 5x5 neighbourhood), so the few pixels of moving sprites are not drowned by the static rest."""
    changed = (target - last).abs().amax(1, keepdim=True) > 0.5 / 255  # [N, 1, H, W]
    near = F.max_pool2d(changed.float(), 5, stride=1, padding=2)  # [N, 1, H, W]
    return 1.0 + weight * near


def best_of_k_loss(
    net: FramePredictor,
    ctx: torch.Tensor,
    action: torch.Tensor,
    target: torch.Tensor,
    k: int,
    generator: torch.Generator | None = None,
    motion_weight: float = 20.0,  # sprites are ~0.5% of a frame: weigh where things move
    camera_weight: float = 0.01,  # cross-entropy of the camera decision, ~ the pixel loss's scale
) -> torch.Tensor:
    """Winner-takes-all weighted MSE over k noise samples per context (each sample only learns from
    the futures it is closest to, so different z come to mean different futures), with the camera
    decision taught by the shift that best explains the target (teacher forcing). Scalar."""
    n = ctx.shape[0]
    w = motion_weights(ctx[:, -1], target, motion_weight).repeat(k, 1, 1, 1)  # [kN, 1, H, W]
    z = torch.randn(k * n, net.cfg.noise_dim, generator=generator).to(ctx.device)  # [kN, Z]
    enc = {name: tile(t, k) for name, t in net.encode(ctx).items()}
    g = best_shift(ctx[:, -1], target, net.cfg.max_global).repeat(k)  # [kN] the camera's move
    y, glog = net.decode(enc, action.repeat(k), z, shift=g)  # [kN, 3, H, W], [kN, G]
    err = (w * (y - target.repeat(k, 1, 1, 1)).square()).flatten(1).mean(1).view(k, n)  # [k, N]
    return err.min(0).values.mean() + camera_weight * F.cross_entropy(glog, g)


def coverage_loss(
    net: FramePredictor,
    ctx: torch.Tensor,
    action: torch.Tensor,
    outcomes: torch.Tensor,
    k: int,
    generator: torch.Generator | None = None,
    motion_weight: float = 20.0,
) -> torch.Tensor:
    """For contexts whose true futures are known to differ (outcomes [N, J, 3, H, W], each a distinct
    future of the same state and action): every outcome must be reached by one of k noise samples,
    sum over outcomes of the nearest sample's weighted MSE. Best-of-K on single futures rarely sees a
    rare outcome and lets all samples collapse on the common one; this teaches z to index them all."""
    n, j = outcomes.shape[:2]
    z = torch.randn(k * n, net.cfg.noise_dim, generator=generator).to(ctx.device)  # [kN, Z]
    enc = {name: tile(t, k) for name, t in net.encode(ctx).items()}
    g = best_shift(ctx[:, -1], outcomes[:, 0], net.cfg.max_global).repeat(k)  # [kN]
    y, _ = net.decode(enc, action.repeat(k), z, shift=g)  # [kN, 3, H, W]
    y = y.view(k, n, *y.shape[1:])  # [k, N, 3, H, W]
    total = y.new_zeros(n)
    for i in range(j):
        t = outcomes[:, i]  # [N, 3, H, W]
        w = motion_weights(ctx[:, -1], t, motion_weight)  # [N, 1, H, W]
        total = total + (w * (y - t).square()).flatten(2).mean(2).min(0).values  # [N]
    return total.mean()
