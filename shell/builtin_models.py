"""The built-in models, registered under `worldgate.models` exactly as a third party's are.

`autoencoder` (m1's patch autoencoder, a FrameCodec) and `predictor` (m2's pixel-moving predictor, a
WorldModel), each loaded from a checkpoint artifact (shell/checkpoints.py) and adapted to its protocol
by core/models/builtin.py. Torch is imported only when a model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shell.errors import BadInput
from shell.models import ModelEntry


def _config(path: Path, meta: Any, cls: Any) -> Any:
    try:
        return cls.from_dict(meta.model["config"])
    except (KeyError, TypeError) as e:
        raise BadInput(
            f"{path}/meta.json: field model.config: not a {cls.__name__} ({e})"
        ) from None


def _need_path(path: Path | None, name: str) -> Path:
    if path is None:
        raise BadInput(f"model {name}: needs a checkpoint folder (--model {name}:PATH)")
    return path


def load_autoencoder(path: Path | None, device: Any, want: dict[str, Any]) -> Any:
    """want: game (the checkpoint's must match), config (its architecture config must equal it)."""
    from core.models.autoencoder import AEConfig, PatchAutoencoder
    from core.models.builtin import PatchCodec
    from shell import checkpoints

    path = _need_path(path, "autoencoder")
    meta, tensors = checkpoints.load_checkpoint(
        path, "patch_autoencoder", want.get("config"), game=want.get("game")
    )
    model = PatchAutoencoder(_config(path, meta, AEConfig))
    checkpoints.restore(model, tensors, path)
    codec = PatchCodec(model.to(device).eval())
    codec.meta = meta  # what the gate reports: steps trained, the metadata's digest
    return codec


def load_predictor(path: Path | None, device: Any, want: dict[str, Any]) -> Any:
    """want: game, n_actions (the backend's), config (architecture config must equal it)."""
    from core.models.builtin import PixelWorldModel
    from core.models.predictor import FramePredictor, PredictorConfig
    from shell import checkpoints

    path = _need_path(path, "predictor")
    meta, tensors = checkpoints.load_checkpoint(
        path, "frame_predictor", want.get("config"), game=want.get("game"),
        **{"config.n_actions": want.get("n_actions")},
    )  # fmt: skip
    net = FramePredictor(_config(path, meta, PredictorConfig))
    checkpoints.restore(net, tensors, path)
    wm = PixelWorldModel(net.to(device).eval())
    wm.meta = meta
    return wm


AUTOENCODER = ModelEntry(
    "autoencoder", "codec", "m1's patch autoencoder: fp16 latents on an 8x8 patch grid (0.083 of a frame)",
    load_autoencoder, arches=("patch_autoencoder",), golden="autoencoder", trainer="gate m1 train",
)  # fmt: skip
PREDICTOR = ModelEntry(
    "predictor", "world_model", "m2's predictor: moves the last frame's pixels (camera, sprites, residual)",
    load_predictor, arches=("frame_predictor",), golden="predictor", trainer="gate m2 train",
)  # fmt: skip


def load_cellcopy(path: Path | None, device: Any, want: dict[str, Any]) -> Any:
    """want: config (architecture config must equal it). Any game: gate m9 judges one model on each."""
    from core.models.cellcopy import CellCopy, CellCopyConfig
    from shell import checkpoints

    path = _need_path(path, "cellcopy")
    meta, tensors = checkpoints.load_checkpoint(path, "cellcopy", want.get("config"))
    net = CellCopy(_config(path, meta, CellCopyConfig))
    checkpoints.restore(net, tensors, path)
    net = net.to(device).eval()
    net.meta = meta
    return net


CELLCOPY = ModelEntry(
    "cellcopy", "world_model", "m9's cell-copy model: each 8x8 cell moved whole or painted from the palette",
    load_cellcopy, arches=("cellcopy",), golden="cellcopy", trainer="gate m9 train",
)  # fmt: skip


def load_panorama(path: Path | None, device: Any, want: dict[str, Any]) -> Any:
    """The world model in the folder (whichever registered model loads its arch), with a panorama
    memory around it (core/models/panorama.py); `want` is passed on to that model's loader."""
    from core.models.panorama import Panorama
    from shell import models

    path = _need_path(path, "panorama")
    entry = models.entry_for_folder(path, "world_model")
    return Panorama(models.load(entry, path, device, want))


PANORAMA = ModelEntry(
    "panorama", "world_model",
    "m7's memory: any world model, the columns a scrolling camera reveals drawn from what it has seen",
    load_panorama, trainer="none (wraps: --model panorama:PATH)",
)  # fmt: skip
