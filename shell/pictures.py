"""PNG pictures for people: grids of frames, error heatmaps, line plots, histograms, scatter plots.

Frames are composed with numpy and Pillow; plots (curves, histograms, scatters, labelled grids) are
drawn with matplotlib on the Agg canvas, imported inside the functions so listing commands stay light.
Every function returns PNG bytes or a uint8 RGB array [H, W, 3].
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

DMG = np.array(
    [[224, 248, 208], [136, 192, 112], [52, 104, 86], [8, 24, 32]], dtype=np.uint8
)  # shade 0..3


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


def _figure(title: str, size: tuple[float, float] = (7.0, 4.0)) -> tuple[Any, Any]:
    """A matplotlib figure on the Agg canvas (no display), imported only when a picture is drawn."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def _png_of(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def line_plot(
    series: dict[str, Sequence[float]],
    title: str,
    hlines: dict[str, float] | None = None,
    x: Sequence[float] | None = None,
    xlabel: str = "step",
    ylabel: str = "value",
    logy: bool = False,
) -> bytes:
    """Curves on shared axes with a legend. A horizontal line (a bound) far above the data is named in
    the legend instead of drawn, so it does not flatten the curves."""
    fig, ax = _figure(title)
    top = 0.0
    for name, ys in series.items():
        ys = [float(v) for v in ys]
        xs = list(x) if x is not None else list(range(1, len(ys) + 1))
        ax.plot(xs, ys, marker="o" if len(ys) < 40 else None, ms=3, label=name)
        top = max([top, *[v for v in ys if math.isfinite(v)]])
    for name, hv in (hlines or {}).items():
        if top and hv > 3 * top:
            ax.plot([], [], ls="--", color="grey", label=f"{name} = {hv:g} (off the scale)")
        else:
            ax.axhline(hv, ls="--", color="grey", label=f"{name} = {hv:g}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return _png_of(fig)


def histogram(
    values: Sequence[float],
    title: str,
    bins: int = 30,
    vline: float | None = None,
    xlabel: str = "value",
    vline_label: str = "tau",
) -> bytes:
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    fig, ax = _figure(title)
    ax.hist(v, bins=bins, label=f"{v.size} values")
    if vline is not None:
        ax.axvline(vline, color="tab:red", label=f"{vline_label} = {vline:.4g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.legend()
    return _png_of(fig)


def scatter(
    xy: np.ndarray,
    color_by: np.ndarray,
    title: str,
    label: str = "value",
    categorical: bool = True,
    xlabel: str = "PC 1",
    ylabel: str = "PC 2",
) -> bytes:
    """Points [N, 2]; categorical labels [N] get one colour each and a legend, values a colour bar."""
    fig, ax = _figure(title, (6.0, 5.0))
    if categorical:
        for k in np.unique(color_by):
            m = color_by == k
            name = int(k) if float(k).is_integer() else k
            ax.scatter(xy[m, 0], xy[m, 1], s=12, label=f"{label} {name}")
        ax.legend(fontsize="small", markerscale=1.5)
    else:
        sc = ax.scatter(xy[:, 0], xy[:, 1], s=12, c=color_by, cmap="viridis")
        fig.colorbar(sc, ax=ax, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _png_of(fig)


def labelled_grid(
    rows: Sequence[Sequence[np.ndarray]],
    title: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cell_inches: float = 2.4,
) -> bytes:
    """Images in rows, each row and column named (nearest-neighbour, so pixels stay pixels)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    nr, nc = len(rows), max(len(r) for r in rows)
    fig = Figure(figsize=(cell_inches * nc + 0.6, cell_inches * nr + 0.6), layout="constrained")
    fig.suptitle(title)
    axes = fig.subplots(nr, nc, squeeze=False)
    for i, r in enumerate(rows):
        for j in range(nc):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(r):
                ax.imshow(as_rgb(r[j]), interpolation="nearest")
            else:
                ax.axis("off")
            if i == 0 and j < len(col_labels):
                ax.set_title(col_labels[j], fontsize="small")
            if j == 0 and i < len(row_labels):
                ax.set_ylabel(row_labels[i], fontsize="small")
    return _png_of(fig)


def confusion(share: np.ndarray, names: Sequence[str], title: str) -> bytes:
    """A confusion matrix [true, read] of shares in 0..1, each cell labelled."""
    fig, ax = _figure(title, (5.5, 4.8))
    im = ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=30)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("action read back by the IDM")
    ax.set_ylabel("action held")
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            ax.text(j, i, f"{share[i, j]:.2f}", ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black", fontsize="small")  # fmt: skip
    fig.colorbar(im, ax=ax, label="share of clips")
    return _png_of(fig)


def bars(
    groups: dict[str, dict[str, float]],
    title: str,
    ylabel: str = "value",
    lines: dict[str, float] | None = None,
) -> bytes:
    """Grouped bars: one group per outer key (a measure), one bar per inner key (a model) in it;
    `lines` draws a labelled horizontal reference (a threshold) at each value."""
    fig, ax = _figure(title, (max(6.0, 1.6 * len(groups) + 3), 4.0))
    names = sorted({k for g in groups.values() for k in g})
    width = 0.8 / max(1, len(names))
    for j, n in enumerate(names):
        xs = [i + j * width for i in range(len(groups))]
        ys = [float(g.get(n, float("nan"))) for g in groups.values()]
        ax.bar(xs, ys, width, label=n)
    for k, (label, y) in enumerate((lines or {}).items()):
        ax.axhline(y, color="0.3", lw=0.8, ls=(0, (4, 2 + k)))
        ax.annotate(label, (1.0, y), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                    fontsize=7, color="0.3")  # fmt: skip
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(groups))], list(groups), rotation=15)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    return _png_of(fig)


def gif(left: np.ndarray, right: np.ndarray, ms: int = 66) -> bytes:
    """uint8 [T, H, W, 3] x2 -> an animated GIF, the two side by side (default 15 fps)."""
    from PIL import Image

    frames = [Image.fromarray(np.concatenate([a, b], 1)) for a, b in zip(left, right, strict=True)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=ms, loop=0)
    return buf.getvalue()
