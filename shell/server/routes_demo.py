"""Live demos beyond a gate's last run: m1 reconstructs a screenshot the visitor uploads (the golden
codec, its reconstruction and the error heatmap)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
from typing import Any

from fastapi import APIRouter, Depends, Request

from shell.server.deps import writer
from shell.server.problems import Problem
from shell.server.schemas import ImageIn, ReconstructOut

router = APIRouter(prefix="/v1/demo", tags=["demo"])
SIZE = 256  # frames are resized to the codec's training size
MAX_PIXELS = 4096 * 4096  # a small PNG can claim a huge canvas: refused before it is decoded


@router.post("/m1/reconstruct", response_model=ReconstructOut)
async def reconstruct(body: ImageIn, request: Request, key: dict = Depends(writer)) -> Any:
    """An image (base64 PNG or JPEG) through m1's golden codec: the frame it saw (resized to 256x256),
    its reconstruction, an error heatmap, PSNR and the latent's size."""
    try:
        raw = base64.b64decode(body.image, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(422, "image: not base64", "image") from None
    st = request.app.state
    if getattr(st, "codec_lock", None) is None:
        st.codec_lock, st.codec = asyncio.Lock(), None
    async with st.codec_lock:
        if st.codec is None:
            st.codec = await asyncio.to_thread(_load_codec)
        return await asyncio.to_thread(_reconstruct, st.codec, raw)


def _load_codec() -> Any:
    import torch

    from shell import models, paths
    from shell.errors import BadInput, Unavailable

    try:
        entry, path = models.resolve("autoencoder", "codec",
                                     lambda n: paths.golden_dir("m1", n), "m1", "autoencoder")  # fmt: skip
        return models.load(entry, path, torch.device("cpu"), {"game": "platformer"})
    except Unavailable as e:
        raise Problem(409, str(e), "model") from None
    except BadInput as e:
        raise Problem(422, str(e), "model") from None


def _png(arr: Any) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _reconstruct(codec: Any, raw: bytes) -> dict[str, Any]:
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(raw))
        if img.width * img.height > MAX_PIXELS:
            raise Problem(
                422, f"image: {img.width}x{img.height} is over {MAX_PIXELS} pixels", "image"
            )
        img = img.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Problem(422, "image: not a PNG or JPEG image (or too large)", "image") from None
    x = np.asarray(img, dtype=np.uint8).copy()
    with torch.no_grad():
        z = codec.encode(torch.from_numpy(x)[None])
        y = codec.decode(z, (SIZE, SIZE))[0].clamp(0, 1).permute(1, 2, 0).numpy()
    rec = (y * 255.0).round().astype(np.uint8)
    err = np.abs(x.astype(np.float32) / 255.0 - y).mean(2)  # [H, W] in 0..1
    mse = float(((x.astype(np.float32) / 255.0 - y) ** 2).mean())
    e = np.clip(err * 4.0, 0, 1)  # x4: errors of a quarter of the range are already white-hot
    heat = (np.stack([np.clip(3 * e, 0, 1), np.clip(3 * e - 1, 0, 1), np.clip(3 * e - 2, 0, 1)], 2)
            * 255).astype(np.uint8)  # fmt: skip
    psnr = float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))
    return {"width": SIZE, "height": SIZE, "mse": mse, "psnr_db": min(psnr, 99.0),
            "latent_bytes": int(codec.latent_bytes(SIZE, SIZE)), "frame_bytes": SIZE * SIZE * 3,
            "input": _png(x), "reconstruction": _png(rec), "heatmap": _png(heat)}  # fmt: skip
