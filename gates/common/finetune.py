"""Fine-tuning a registered model on a dataset (`gate m12 finetune`), or training its architecture from
scratch on it with the same budget (m12's baseline), through the shared Trainer loop.

The model comes from `--from`: a zoo entry, a registered model's name (its golden), NAME:PATH or an
artifact folder. Fine-tuning needs the weights as a torch module and the architecture's loss; the
built-in architectures are known here (`ARCHES`: the m1 patch autoencoder with its crop reconstruction
loss, the m2 frame predictor with its best-of-K loss). A model of another architecture is exit 3: it can
be judged (`gate m1 --model`) but not fine-tuned by this harness. A predictor fine-tuned on a game with
another action set keeps what it learned for the first actions and starts the new ones at zero
(`adapt_actions`). Light at import: torch inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shell.errors import BadInput, Unavailable

ARCHES = {"patch_autoencoder": ("m1", "autoencoder"), "frame_predictor": ("m2", "predictor")}


@dataclass(frozen=True)
class FinetuneArgs:
    source: str  # --from: zoo entry, model name, NAME:PATH or folder; "" with scratch
    data: str  # dataset folder (gate data collect / import)
    arch: str = ""  # with scratch: the architecture to build fresh
    scratch: bool = False  # fresh weights (the same architecture and budget): the baseline
    steps: int = 200
    batch: int = 8  # crops (autoencoder) or windows (predictor) per step
    crop: int = 64
    k: int = 2
    lr: float = 1e-3
    seed: int = 0
    threads: int = 1
    resume: str = ""
    checkpoint_every: int = 100
    log_every: int = 10
    nproc: int = 1


def source_folder(spec: str) -> Path:
    """--from SPEC -> the artifact folder of the weights to start from (exit 2/3 naming what is wrong)."""
    from shell import models, paths, zoo

    card = zoo.find(spec) if spec and "/" not in spec and ":" not in spec else None
    if card is not None:
        return zoo.model_folder(card)
    reg = models.load_models()
    name, sep, rest = spec.partition(":")
    if sep and name in reg.entries:
        p = Path(rest)
        return p if p.is_absolute() else paths.root() / p
    if spec in reg.entries:
        entry = reg.entries[spec]
        gate = "m1" if entry.kind == "codec" else "m2"
        p = paths.golden_dir(gate, entry.golden or spec)
        if not (p / "meta.json").is_file():
            raise Unavailable(f"{p}: model {spec} has no golden to fine-tune from")
        return p
    p = Path(spec)
    p = p if p.is_absolute() else paths.root() / p
    if not (p / "meta.json").is_file():
        raise BadInput(f"--from {spec}: not a zoo entry, a registered model nor an artifact folder")
    return p


def rgb_frames(ds: Any, where: str) -> Any:
    """A dataset's frames as RGB uint8 [E, T+1, H, W, 3]: the frames, the recorded `rgb` truth
    (pyboy with --opt rgb=true), or shades spread over 0..255 in grey."""
    import numpy as np

    f = ds.frames
    if f.ndim == 5 and f.shape[-1] == 3:
        return f
    if "rgb" in ds.truth and ds.truth["rgb"].ndim == 5:
        return ds.truth["rgb"]
    if f.ndim == 4:
        levels = int(ds.meta.get("frame_spec", {}).get("levels", 4) or 4)
        g = (f.astype(np.uint16) * 255 // max(1, levels - 1)).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=-1)
    raise BadInput(f"{where}/frames.npy: frames of shape {f.shape} are neither RGB nor shades")


def adapt_actions(net: Any, tensors: dict[str, Any], old_n: int) -> dict[str, Any]:
    """Checkpoint tensors of a FramePredictor with old_n actions -> tensors for `net` (n_actions new):
    every weight whose input dimension holds the one-hot action gets the first min(old, new) action
    columns kept and new ones at zero; the columns after the action (noise, keypoints) are kept."""
    import torch

    new_n = net.cfg.n_actions
    out = {}
    want = net.state_dict()
    for k, v in tensors.items():
        if not k.startswith("model."):
            out[k] = v
            continue
        w = want.get(k[6:])
        if w is None or w.shape == v.shape:
            out[k] = v
            continue
        if v.ndim != 2 or w.shape[0] != v.shape[0] or w.shape[1] - v.shape[1] != new_n - old_n:
            raise BadInput(f"{k}: shape {tuple(v.shape)} cannot be adapted to {tuple(w.shape)}")
        keep = min(old_n, new_n)
        pad = torch.zeros(v.shape[0], max(0, new_n - old_n), dtype=v.dtype)
        out[k] = torch.cat([v[:, :keep], pad, v[:, old_n:]], 1)
    return out


def build(args: FinetuneArgs, n_actions: int, where: str) -> tuple[str, Any, dict, Path | None]:
    """-> (arch, torch module, its config dict, the folder its weights came from or None)."""
    from core.models.autoencoder import AEConfig, PatchAutoencoder
    from core.models.predictor import FramePredictor, PredictorConfig
    from shell import checkpoints

    if args.scratch:
        if args.arch not in ARCHES:
            raise BadInput(f"--arch {args.arch!r}: one of {', '.join(ARCHES)}")
        if args.arch == "patch_autoencoder":
            return args.arch, PatchAutoencoder(AEConfig()), AEConfig().to_dict(), None
        cfg = PredictorConfig(n_actions=n_actions)
        return args.arch, FramePredictor(cfg), cfg.to_dict(), None
    src = source_folder(args.source)
    from shell.models import _arch_of

    arch = _arch_of(src)
    if arch not in ARCHES:
        raise Unavailable(
            f"{src}: architecture {arch!r} is judged by the gates but cannot be fine-tuned here "
            f"(known: {', '.join(ARCHES)})"
        )
    meta, tensors = checkpoints.load_checkpoint(src, arch)
    if arch == "patch_autoencoder":
        model = PatchAutoencoder(AEConfig.from_dict(meta.model["config"]))
    else:
        old = PredictorConfig.from_dict(meta.model["config"])
        model = FramePredictor(PredictorConfig.from_dict({**old.to_dict(), "n_actions": n_actions}))
        tensors = adapt_actions(model, tensors, old.n_actions)
    checkpoints.restore(model, tensors, src)
    return arch, model, model.cfg.to_dict(), src
