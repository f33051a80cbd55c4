"""The m2 predictor's fast paths against their plain definitions: shift_mix (a hand-written kernel
and backward) and the stem folded into one strided convolution."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.models.predictor import FramePredictor, PredictorConfig
from core.models.shiftmix import shift_mix


def plain_shift_mix(img: torch.Tensor, prob: torch.Tensor, m: int, dim: int) -> torch.Tensor:
    """The definition: sum over d of prob_d (per cell, widened to pixels) x img shifted by d - m,
    edges replicated; autograd's own backward."""
    c = img.shape[2] // prob.shape[2]
    per_px = prob.repeat_interleave(c, 2).repeat_interleave(c, 3)  # [N, 2m+1, H, W]
    pad = (0, 0, m, m) if dim == 2 else (m, m, 0, 0)
    padded = F.pad(img, pad, mode="replicate")
    size = img.shape[dim]
    return sum(per_px[:, d : d + 1] * padded.narrow(dim, 2 * m - d, size) for d in range(2 * m + 1))


@pytest.mark.parametrize(("m", "dim"), [(8, 2), (5, 3)])
def test_shift_mix_and_its_backward_match_the_definition(m: int, dim: int) -> None:
    g = torch.Generator().manual_seed(m)
    img = torch.rand(2, 3, 32, 48, generator=g, requires_grad=True)
    logits = torch.randn(2, 2 * m + 1, 4, 6, generator=g, requires_grad=True)
    weight = torch.randn(2, 3, 32, 48, generator=g)
    grads = []
    for f in (shift_mix, plain_shift_mix):
        img.grad = logits.grad = None
        y = f(img, logits.softmax(1), m, dim)
        (y * weight).sum().backward()
        grads.append((y.detach(), img.grad.clone(), logits.grad.clone()))
    for ours, plain in zip(*grads, strict=True):
        torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-5)
    # a one-hot distribution is an exact whole-pixel shift: nothing blurred
    one = F.one_hot(torch.full((2, 4, 6), m + 2), 2 * m + 1).permute(0, 3, 1, 2).float()
    moved = shift_mix(img.detach(), one, m, dim)  # shift +2 px
    want = img.detach().narrow(dim, 0, img.shape[dim] - 2)
    assert torch.equal(moved.narrow(dim, 2, img.shape[dim] - 2), want)


@pytest.mark.parametrize("context", [2, 3])
def test_the_folded_stem_equals_the_stem_over_differences_and_the_grid(context: int) -> None:
    torch.manual_seed(context)
    net = FramePredictor(PredictorConfig(context=context))
    ctx = torch.rand(2, context, 3, 64, 64)  # [N, K, 3, H, W]
    last = ctx[:, -1] * 2 - 1
    diffs = [ctx[:, i + 1] - ctx[:, i] for i in range(context - 1)]
    grid = F.pixel_unshuffle(torch.cat([last, *diffs], 1), net.cfg.cell)  # [N, 3K c c, H/c, W/c]
    plain = net.stem(grid)
    w, b = net.stem_weights()
    folded = F.conv2d(ctx.flatten(1, 2), w, b, stride=net.cfg.cell)
    torch.testing.assert_close(folded, plain, rtol=1e-5, atol=1e-5)
