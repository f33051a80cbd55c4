"""Training a next-frame predictor on its own rollouts (m4's fight against autoregressive drift).

    loss = unroll_loss(net, window, actions, k=2, horizon=4)

window float [B, K + T, 3, H, W] in [0, 1]: K context frames then T targets; actions int64 [B, T]
(action t leads from frame K-1+t to K+t). Each step is a best-of-K prediction (the sample nearest the
truth is the one that learns, so the noise input keeps meaning different futures); that best sample,
detached, is fed back as context for the next step, so from the second step on the network learns to
continue from frames it made itself (the exposure bias of teacher forcing). Two augmentations of the
starting context, both in the spirit of GameNGen's noise augmentation:
- ctx_noise: Gaussian noise of a per-window level U(0, ctx_noise) on the context frames, so small
  errors in fed-back frames look like something seen in training;
- one_frame: with this probability a window starts from one frame repeated K times, the m4 milestone's
  input (no motion cue yet).
Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.models.bestofk import motion_weights
from core.models.motion import best_shift
from core.models.predictor import FramePredictor
from core.models.protocols import one_frame_context, slide, tile


def start_context(
    window: torch.Tensor, k_ctx: int, one_frame: float, ctx_noise: float, gen: torch.Generator
) -> torch.Tensor:
    """[B, K + T, 3, H, W] -> the augmented starting context [B, K, 3, H, W]."""
    b = window.shape[0]
    ctx = window[:, :k_ctx]  # [B, K, 3, H, W]
    one = (torch.rand(b, generator=gen) < one_frame).to(window.device)  # [B]
    rep = one_frame_context(window[:, k_ctx - 1], k_ctx)  # [B, K, 3, H, W]: the last one repeated
    ctx = torch.where(one[:, None, None, None, None], rep, ctx)
    level = torch.rand(b, generator=gen).to(window.device) * ctx_noise  # [B]
    noise = torch.randn(ctx.shape, generator=gen).to(window.device)  # [B, K, 3, H, W]
    return (ctx + level[:, None, None, None, None] * noise).clamp(0, 1)


def unroll_loss(
    net: FramePredictor,
    window: torch.Tensor,
    actions: torch.Tensor,
    k: int,
    gen: torch.Generator,
    one_frame: float = 0.25,  # a quarter of windows start as m4 does, from one frame
    ctx_noise: float = 0.03,  # ~8 grey levels at most: an off-palette pixel, not a new scene
    motion_weight: float = 20.0,  # sprites are ~0.5% of a frame: weigh where things move
    camera_weight: float = 0.01,  # the camera decision's cross-entropy, ~ the pixel loss's scale
    sharp_weight: float = 0.0,  # entropy of the per-cell shift choices: > 0 pushes each cell to
    # move by one whole shift (an average of shifts is a blur, and a blur fed back becomes a smear)
) -> torch.Tensor:
    """Mean over the T steps of the best-of-k weighted MSE, each step from the previous best sample."""
    kc = net.cfg.context
    b, t_all = window.shape[:2]
    ctx = start_context(window, kc, one_frame, ctx_noise, gen)  # [B, K, 3, H, W]
    total = window.new_zeros(())
    steps = t_all - kc
    for t in range(steps):
        target = window[:, kc + t]  # [B, 3, H, W]
        last = ctx[:, -1]  # [B, 3, H, W]
        w = motion_weights(last, target, motion_weight).repeat(k, 1, 1, 1)  # [kB, 1, H, W]
        z = torch.randn(k * b, net.cfg.noise_dim, generator=gen).to(window.device)  # [kB, Z]
        enc = {n: tile(v, k) for n, v in net.encode(ctx).items()}
        g = best_shift(last, target, net.cfg.max_global).repeat(k)  # [kB] the camera's move
        aux: dict[str, torch.Tensor] = {}
        y, glog = net.decode(enc, actions[:, t].repeat(k), z, shift=g, aux=aux)  # [kB, 3, H, W]
        err = (w * (y - target.repeat(k, 1, 1, 1)).square()).flatten(1).mean(1).view(k, b)
        best = err.argmin(0)  # [B]
        total = total + err.min(0).values.mean() + camera_weight * F.cross_entropy(glog, g)
        if sharp_weight:
            ent = sum(-(p * p.clamp_min(1e-8).log()).sum(1).mean() for p in (aux["px"], aux["py"]))
            total = total + sharp_weight * ent
        pick = y.view(k, b, *y.shape[1:])[best, torch.arange(b, device=y.device)]  # [B, 3, H, W]
        ctx = slide(ctx, pick.detach().clamp(0, 1))  # [B, K, 3, H, W]
    return total / max(1, steps)
