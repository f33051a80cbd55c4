"""m2's soft motion: a per-cell mixture of whole-pixel shifts of a frame, with a hand-written backward.

    y = shift_mix(img, prob, m=8, dim=2)   # img [N, C, H, W]; prob [N, 2m+1, H/c, W/c] per cell

Pure torch; no IO.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift_mix(img: torch.Tensor, prob: torch.Tensor, m: int, dim: int) -> torch.Tensor:
    """sum_d prob_d * img shifted by d - m px along dim (2: rows, 3: columns), edges replicated:
    out[y] = sum_d prob_d[y] * img[y - (d - m)]. img float [N, C, H, W]; prob [N, 2m+1, H/c, W/c],
    one distribution per c x c cell (c = H / prob's height), applied to every pixel of its cell."""
    pad = (0, 0, m, m) if dim == 2 else (m, m, 0, 0)
    padded = F.pad(img, pad, mode="replicate")  # [N, C, H(+2m), W(+2m)]: autograd sums the edges
    return _ShiftMix.apply(padded, prob, m, dim, img.shape[2] // prob.shape[2])


def _rows(prob: torch.Tensor, c: int) -> torch.Tensor:
    """prob [N, D, h, w] -> [N, D, 1, h, 1, W]: each cell's weight widened to its c columns, to
    broadcast over [N, C, h, c, W] views of an image. A cell's own c-long inner loop under a
    broadcast is several times slower on a CPU than a whole row's; the products are the same."""
    return prob.repeat_interleave(c, 3)[:, :, None, :, None, :]


class _ShiftMix(torch.autograd.Function):
    """shift_mix's sum with a hand-written backward: autograd's own would zero-fill a padded-size
    gradient for every shift (most of the step's time on a CPU)."""

    @staticmethod
    def forward(ctx, padded, prob, m, dim, c):  # noqa: ANN001, ANN205
        size = padded.shape[dim] - 2 * m
        shape = list(padded.shape)
        shape[dim] = size
        out = padded.new_zeros(shape)  # [N, C, H, W]
        rows = _rows(prob, c)  # [N, 2m+1, 1, h, 1, W]
        o5 = out.unflatten(2, (-1, c))  # [N, C, h, c, W]
        for d in range(2 * m + 1):
            src = padded.narrow(dim, 2 * m - d, size).unflatten(2, (-1, c))  # shifted by d - m
            o5.addcmul_(src, rows[:, d])
        ctx.save_for_backward(padded, prob)
        ctx.m, ctx.dim, ctx.c = m, dim, c
        return out

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        padded, prob = ctx.saved_tensors
        m, dim, c = ctx.m, ctx.dim, ctx.c
        size = padded.shape[dim] - 2 * m
        g5 = grad.contiguous().unflatten(2, (-1, c))  # [N, C, h, c, W]
        rows = _rows(prob, c) if ctx.needs_input_grad[0] else None  # [N, 2m+1, 1, h, 1, W]
        gprob = torch.empty_like(prob) if ctx.needs_input_grad[1] else None
        gpad = torch.zeros_like(padded) if ctx.needs_input_grad[0] else None
        for d in range(2 * m + 1):
            if gprob is not None:  # sum over channels, then over each c x c cell (contiguous: fast)
                prod = (grad * padded.narrow(dim, 2 * m - d, size)).sum(1, keepdim=True)
                gprob[:, d] = F.avg_pool2d(prod, c)[:, 0] * (c * c)  # [N, h, w]
            if gpad is not None:
                dst = gpad.narrow(dim, 2 * m - d, size).unflatten(2, (-1, c))
                dst.addcmul_(g5, rows[:, d])
        return gpad, gprob, None, None, None
