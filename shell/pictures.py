"""PNG pictures for people: grids of frames, error heatmaps, line plots, histograms, scatter plots.

Plain numpy and Pillow; every function returns PNG bytes or a uint8 RGB array [H, W, 3].
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

DMG = np.array(
    [[224, 248, 208], [136, 192, 112], [52, 104, 86], [8, 24, 32]], dtype=np.uint8
)  # shade 0..3
SERIES = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, format="PNG")
    return buf.getvalue()


def shades_to_rgb(shades: np.ndarray) -> np.ndarray:
    """uint8 [H, W] in 0..3 -> uint8 [H, W, 3] in DMG greens."""
    return DMG[np.clip(shades, 0, 3)]


def upscale(img: np.ndarray, k: int) -> np.ndarray:
    return img.repeat(k, axis=0).repeat(k, axis=1)


def as_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=-1) if img.ndim == 2 else img


def grid(rows: Sequence[Sequence[np.ndarray]], pad: int = 4) -> np.ndarray:
    """Same-sized RGB (or gray) images in rows -> one RGB image with a light gap between them."""
    cells = [[as_rgb(c) for c in r] for r in rows]
    h, w = cells[0][0].shape[:2]
    ncol = max(len(r) for r in cells)
    out = np.full((len(cells) * (h + pad) + pad, ncol * (w + pad) + pad, 3), 250, np.uint8)
    for i, r in enumerate(cells):
        for j, c in enumerate(r):
            out[
                pad + i * (h + pad) : pad + i * (h + pad) + h,
                pad + j * (w + pad) : pad + j * (w + pad) + w,
            ] = c
    return out


def heatmap(err: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """float [H, W] >= 0 -> RGB, black (0) through red to yellow (vmax)."""
    vmax = float(vmax if vmax is not None else max(float(err.max()), 1e-8))
    t = np.clip(err / vmax, 0, 1)
    r = np.clip(t * 2, 0, 1)
    g = np.clip(t * 2 - 1, 0, 1)
    return (np.stack([r, g, np.zeros_like(t)], -1) * 255).astype(np.uint8)


def _frame(
    width: int, height: int, title: str
) -> tuple[Image.Image, ImageDraw.ImageDraw, tuple[int, int, int, int]]:
    im = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.text((8, 4), title, fill=(0, 0, 0))
    box = (50, 22, width - 12, height - 24)
    d.rectangle(box, outline=(120, 120, 120))
    return im, d, box


def _ticks(
    d: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    lo: float,
    hi: float,
    xlo: float,
    xhi: float,
) -> None:
    x0, y0, x1, y1 = box
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        y = y1 - (y1 - y0) * k / 4
        d.text((2, y - 6), f"{v:.3g}", fill=(80, 80, 80))
    d.text((x0, y1 + 6), f"{xlo:.3g}", fill=(80, 80, 80))
    d.text((x1 - 30, y1 + 6), f"{xhi:.3g}", fill=(80, 80, 80))


def line_plot(
    series: dict[str, Sequence[float]],
    title: str,
    hlines: dict[str, float] | None = None,
    width: int = 640,
    height: int = 360,
) -> bytes:
    im, d, box = _frame(width, height, title)
    x0, y0, x1, y1 = box
    vals = [v for s in series.values() for v in s if math.isfinite(v)] + list(
        (hlines or {}).values()
    )
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    n = max((len(s) for s in series.values()), default=1)
    fx = lambda i: x0 + (x1 - x0) * (i / max(n - 1, 1))  # noqa: E731
    fy = lambda v: y1 - (y1 - y0) * ((v - lo) / (hi - lo))  # noqa: E731
    for k, (name, hv) in enumerate((hlines or {}).items()):
        d.line([(x0, fy(hv)), (x1, fy(hv))], fill=(150, 150, 150), width=1)
        d.text((x1 - 120, fy(hv) - 12 - 10 * k), f"{name}={hv:.3g}", fill=(100, 100, 100))
    for k, (name, s) in enumerate(series.items()):
        col = SERIES[k % len(SERIES)]
        pts = [(fx(i), fy(v)) for i, v in enumerate(s) if math.isfinite(v)]
        if len(pts) > 1:
            d.line(pts, fill=col, width=2)
        for p in pts if len(pts) < 80 else []:
            d.ellipse([p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2], fill=col)
        d.text((x0 + 8 + 140 * k, y0 + 4), name, fill=col)
    _ticks(d, box, lo, hi, 0, n - 1)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def histogram(
    values: Sequence[float], title: str, bins: int = 30, vline: float | None = None
) -> bytes:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    im, d, box = _frame(640, 360, title)
    x0, y0, x1, y1 = box
    if v.size:
        lo, hi = float(v.min()), float(v.max())
        if vline is not None:
            lo, hi = min(lo, vline), max(hi, vline)
        hi = hi if hi > lo else lo + 1e-6
        counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
        top = max(int(counts.max()), 1)
        bw = (x1 - x0) / bins
        for i, c in enumerate(counts):
            d.rectangle(
                [x0 + i * bw + 1, y1 - (y1 - y0) * c / top, x0 + (i + 1) * bw - 1, y1],
                fill=SERIES[0],
            )
        if vline is not None:
            x = x0 + (x1 - x0) * (vline - lo) / (hi - lo)
            d.line([(x, y0), (x, y1)], fill=SERIES[1], width=2)
            d.text((x + 4, y0 + 4), f"tau={vline:.4g}", fill=SERIES[1])
        _ticks(d, box, 0, top, lo, hi)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def scatter(xy: np.ndarray, color_by: np.ndarray, title: str, size: int = 480) -> bytes:
    """Points [N, 2] colored by a scalar attribute [N] (blue low -> red high)."""
    im, d, box = _frame(size + 62, size + 46, title)
    x0, y0, x1, y1 = box
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    c = (color_by - color_by.min()) / max(float(np.ptp(color_by)), 1e-8)
    for (px, py), t in zip((xy - lo) / span, c, strict=True):
        x, y = x0 + 4 + px * (x1 - x0 - 8), y1 - 4 - py * (y1 - y0 - 8)
        d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(int(255 * t), 60, int(255 * (1 - t))))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
