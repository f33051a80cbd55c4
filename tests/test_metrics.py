"""core/metrics against references: PSNR by hand, SSIM against an independent numpy implementation
(explicit windows, no convolution), palette distance and snapping, the locator wrapper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core import metrics


def _ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. 2004 written out: for every 11x11 window that fits, Gaussian-weighted (sigma 1.5)
    means, variances and covariance; SSIM per window; mean over windows and channels. a, b: [C, H, W]."""
    r = np.arange(11) - 5.0
    g = np.exp(-(r**2) / (2 * 1.5**2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * 1.0) ** 2, (0.03 * 1.0) ** 2
    vals = []
    for ch in range(a.shape[0]):
        wa = np.lib.stride_tricks.sliding_window_view(a[ch], (11, 11))  # [H-10, W-10, 11, 11]
        wb = np.lib.stride_tricks.sliding_window_view(b[ch], (11, 11))
        mx = (wa * w).sum((-1, -2))
        my = (wb * w).sum((-1, -2))
        vx = (w * (wa - mx[..., None, None]) ** 2).sum((-1, -2))
        vy = (w * (wb - my[..., None, None]) ** 2).sum((-1, -2))
        cxy = (w * (wa - mx[..., None, None]) * (wb - my[..., None, None])).sum((-1, -2))
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        vals.append(s.mean())
    return float(np.mean(vals))


def test_psnr_by_hand() -> None:
    a = torch.zeros(1, 3, 4, 4)
    b = a.clone()
    b[0, 0, 0, 0] = 0.5  # one of 48 values off by 0.5: MSE = 0.25 / 48
    want = 10 * math.log10(1 / (0.25 / 48))
    assert metrics.psnr(b, a).item() == pytest.approx(want, rel=1e-6)
    assert metrics.mse(b, a).item() == pytest.approx(0.25 / 48)
    assert math.isinf(metrics.psnr(a, a).item())


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_an_independent_reference(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, 3, 24, 30, generator=g)
    y = (x + 0.15 * torch.randn(2, 3, 24, 30, generator=g)).clamp(0, 1)
    got = metrics.ssim(x, y)
    for i in range(2):
        want = _ssim_reference(x[i].double().numpy(), y[i].double().numpy())
        assert got[i].item() == pytest.approx(want, abs=1e-5)
    assert metrics.ssim(x, x).min().item() == pytest.approx(1.0, abs=1e-6)


def test_frames_roundtrip_and_nan_is_handled() -> None:
    f = torch.randint(0, 256, (2, 5, 6, 3), dtype=torch.uint8)
    assert torch.equal(metrics.to_frames(metrics.to_unit(f)), f)
    x = torch.full((1, 3, 2, 2), float("nan"))
    assert metrics.to_frames(x).sum().item() == 0


def test_palette_distance_fraction_and_snap() -> None:
    pal = torch.tensor([[0, 0, 0], [255, 0, 0]], dtype=torch.uint8)
    x = torch.zeros(1, 3, 1, 3)
    x[0, 0, 0, 1] = 250 / 255  # near red: distance 5
    x[0, :, 0, 2] = 100 / 255  # gray 100: distance sqrt(3) * 100 to black
    d = metrics.palette_distance(x, pal)[0, 0]
    assert d.tolist() == pytest.approx([0.0, 5.0, math.sqrt(3) * 100], abs=1e-3)
    assert metrics.palette_fraction(x, pal, 24).item() == pytest.approx(2 / 3)
    snapped = metrics.snap_to_palette(x, pal)
    assert snapped[0, 0].tolist() == [[0, 0, 0], [255, 0, 0], [0, 0, 0]]
    nan = torch.full((1, 3, 1, 1), float("nan"))
    assert metrics.palette_fraction(nan, pal, 24).item() == 0.0  # NaN is never within palette
    assert metrics.palette_of(snapped).shape == (2, 3)


def test_locator_wrapper_snaps_then_locates() -> None:
    from core.games import get_game

    game = get_game("platformer")
    frame = torch.zeros(1, 8, 8, 3, dtype=torch.uint8)
    frame[0, 2:4, 5:7] = torch.tensor(game.player_rgb, dtype=torch.uint8)
    pal = metrics.palette_of(frame)
    x = metrics.to_unit(frame) + 0.02  # a slightly-off colour: no exact match before snapping
    assert torch.isnan(game.locate_player(metrics.to_frames(x))).all()
    pos = metrics.locate_in(x, pal, game.locate_player)
    assert pos[0].tolist() == pytest.approx([6.0, 3.0])
    hits = metrics.position_hits(pos, torch.tensor([[6.0, 4.9]]), 2.0)
    assert hits.tolist() == [True]
    far = metrics.position_hits(torch.tensor([[float("nan"), 0.0]]), torch.tensor([[0.0, 0.0]]), 2)
    assert far.tolist() == [False]


def test_locate_color_in_a_band() -> None:
    f = torch.zeros(2, 10, 10, 3, dtype=torch.uint8)
    f[0, 1, 1] = torch.tensor([9, 9, 9], dtype=torch.uint8)  # above the band: ignored
    f[0, 6:8, 4] = torch.tensor([9, 9, 9], dtype=torch.uint8)
    pos = metrics.locate_color(f, (9, 9, 9), top=3)
    assert pos[0].tolist() == pytest.approx([4.5, 7.0])
    assert torch.isnan(pos[1]).all()
