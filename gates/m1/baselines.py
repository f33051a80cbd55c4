"""m1's baselines: the image codecs anyone has (JPEG, WebP through Pillow), each given the judged
model's latent byte budget per frame. A learned codec must beat the best of them by a margin; neither
depends on the judged model's architecture.

For each frame and format: the highest quality whose encoded size fits the budget (binary search on
quality; sizes grow with quality, near enough monotonically), decoded back to pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

# format -> (Pillow format name, quality range, extra save options)
FORMATS: dict[str, tuple[str, int, int, dict]] = {
    "jpeg": ("JPEG", 1, 95, {"subsampling": 0, "optimize": True}),  # 4:4:4: pixel-art colours
    "jpeg420": ("JPEG", 1, 95, {"subsampling": 2, "optimize": True}),  # the web's default
    "webp": ("WEBP", 0, 100, {"method": 4}),
}


@dataclass(frozen=True)
class Coded:
    frames: np.ndarray  # uint8 [N, H, W, 3] decoded
    nbytes: np.ndarray  # int [N] encoded size
    quality: np.ndarray  # int [N] quality used (the lowest when even that exceeds the budget)


def _encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    name, _, _, opts = FORMATS[fmt]
    buf = io.BytesIO()
    img.save(buf, format=name, quality=quality, **opts)
    return buf.getvalue()


def best_under(frame: np.ndarray, fmt: str, budget: int) -> tuple[np.ndarray, int, int]:
    """uint8 [H, W, 3] -> (decoded uint8 [H, W, 3], bytes, quality): the best quality within budget."""
    img = Image.fromarray(np.ascontiguousarray(frame))
    _, lo, hi, _ = FORMATS[fmt]
    best_q, best = lo, _encode(img, fmt, lo)
    if len(best) <= budget:
        while lo < hi:  # invariant: quality lo fits
            mid = (lo + hi + 1) // 2
            data = _encode(img, fmt, mid)
            if len(data) <= budget:
                lo, best_q, best = mid, mid, data
            else:
                hi = mid - 1
    out = np.asarray(Image.open(io.BytesIO(best)).convert("RGB"))
    return out, len(best), best_q


def code_frames(frames: np.ndarray, fmt: str, budget: int) -> Coded:
    """uint8 [N, H, W, 3] through `fmt` at <= budget bytes each."""
    res = [best_under(f, fmt, budget) for f in frames]
    return Coded(
        np.stack([r[0] for r in res]),
        np.array([r[1] for r in res]),
        np.array([r[2] for r in res]),
    )
