"""Model checkpoints as artifacts (the built-in models'): safetensors weights (never pickle) in a folder
whose metadata carries the architecture and its configuration, hashed like every artifact.

Loading verifies every hash (a tampered file is exit 2), checks the architecture and its config against
what the run expects (`expect`, exit 2 on a mismatch) and loads the weights strictly (a missing or
misshapen tensor is exit 2, naming the file and the tensor).

Files: model.safetensors (tensors "model.<name>"; with optimizer state "optim.<i>.<key>" and the data
sampler's RNG "rng.sampler" so `--resume` continues exactly), train_log.json (the loss curve).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson

from shell.errors import BadInput
from shell.store import ArtifactMeta, artifact_meta_fields, load_artifact, write_artifact

WEIGHTS = "model.safetensors"
LOG = "train_log.json"
PIPELINE_VERSION = 1  # bump when a checkpoint's files or fields change meaning


class ModelMeta(ArtifactMeta):
    model: dict[str, Any]  # arch, config (the architecture's dataclass), frame shape, game, actions
    training: dict[str, Any]  # steps done, seconds, data description, seed, held-out figures


def pack(model: Any, optimizer: Any = None, rng: Any = None) -> bytes:
    """The model's weights (and optionally the optimizer's state and an RNG state) as safetensors."""
    import torch
    from safetensors.torch import save

    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if optimizer is not None:
        for i, st in optimizer.state_dict()["state"].items():
            for k, v in st.items():
                t = v if isinstance(v, torch.Tensor) else torch.tensor(v)
                tensors[f"optim.{i}.{k}"] = t.detach().cpu().contiguous()
    if rng is not None:
        tensors["rng.sampler"] = rng.get_state()
    return save(tensors)


def save_checkpoint(
    dest: Path,
    gate: str,
    run_id: str,
    config: dict[str, Any],
    weights: bytes,
    model_meta: dict[str, Any],
    training: dict[str, Any],
    log: list[dict[str, Any]],
    inputs: dict[str, str],
) -> Path:
    """Write a checkpoint artifact at dest (atomic: a reader sees the old one or the new one)."""
    files = {WEIGHTS: weights, LOG: orjson.dumps(log)}
    meta = artifact_meta_fields(gate, run_id, dest.name, config, inputs, PIPELINE_VERSION)
    write_artifact(dest, files, {**meta, "model": model_meta, "training": training}, ModelMeta)
    return dest


def load_checkpoint(
    path: Path, arch: str, config: dict[str, Any] | None = None, **fields: Any
) -> tuple[ModelMeta, dict[str, Any]]:
    """-> (metadata, tensors). BadInput (exit 2) on a tampered file, another architecture or config.

    fields: further metadata this run needs, dotted under model ("game" -> model.game); None skips one.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not (path / "meta.json").is_file():
        raise BadInput(f"{path / 'meta.json'}: missing (no checkpoint at {path})")
    expect: dict[str, Any] = {"model.arch": arch}
    if config is not None:
        expect["model.config"] = config
    expect |= {f"model.{k}": v for k, v in fields.items() if v is not None}
    m, files = load_artifact(path, ModelMeta, expect=expect)
    check_model_config(m.model.get("config"), path)
    if WEIGHTS not in files:
        raise BadInput(f"{path / WEIGHTS}: missing (not listed in meta.json)")
    try:
        tensors = load(files[WEIGHTS])
    except (SafetensorError, ValueError, OSError) as e:
        raise BadInput(f"{path / WEIGHTS}: not a readable safetensors file ({e})") from None
    return m, tensors


def restore(model: Any, tensors: dict[str, Any], path: Path) -> None:
    """Load "model.*" tensors into model strictly; BadInput names the first missing/misshapen one."""
    want = model.state_dict()
    have = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    for k, v in want.items():
        if k not in have:
            raise BadInput(f"{path / WEIGHTS}: tensor model.{k} missing")
        if tuple(have[k].shape) != tuple(v.shape):
            raise BadInput(
                f"{path / WEIGHTS}: tensor model.{k} has shape {list(have[k].shape)}, "
                f"the model needs {list(v.shape)}"
            )
    for k in have:
        if k not in want:
            raise BadInput(f"{path / WEIGHTS}: tensor model.{k} is not part of the model")
    model.load_state_dict(have)


def restore_optimizer(optimizer: Any, tensors: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, key = k.split(".", 2)
            state.setdefault(int(i), {})[key] = v
    if state:
        optimizer.load_state_dict(
            {"state": state, "param_groups": optimizer.state_dict()["param_groups"]}
        )


MAX_DIM = 4096  # no size of these models (channels, cells, units) comes near it


def check_model_config(cfg: Any, path: Path) -> None:
    """model.config holds sizes, ints in 0..MAX_DIM (a width of -1 or 10**6 is exit 2, not a crash or
    a 10**12-parameter allocation), and switches, booleans."""
    if not isinstance(cfg, dict):
        raise BadInput(f"{Path(path) / 'meta.json'}: field model.config: expected an object")
    for k, v in cfg.items():
        if isinstance(v, bool):
            continue
        if not isinstance(v, int) or not 0 <= v <= MAX_DIM:
            raise BadInput(
                f"{Path(path) / 'meta.json'}: field model.config.{k}: {v!r} is not a size "
                f"(an int in 0..{MAX_DIM})"
            )


def read_log(path: Path) -> list[dict[str, Any]]:
    """The loss log of a checkpoint: a JSON list of {step, loss, ...}; BadInput naming it otherwise."""
    from shell.safety import read_input_file

    where = Path(path) / LOG
    try:
        log = orjson.loads(read_input_file(where, "training log"))
    except orjson.JSONDecodeError as e:
        raise BadInput(f"{where}: not valid JSON ({e})") from None
    if not isinstance(log, list) or not all(
        isinstance(r, dict) and isinstance(r.get("step"), int) for r in log
    ):
        raise BadInput(f"{where}: expected a JSON list of log records with a step each")
    return log


def resume_from(
    ref: str, names: tuple[str, ...], arch: Any, data: dict[str, Any], from_dict: Any
) -> tuple[Any, int, float, list[dict[str, Any]], dict[str, Any]]:
    """A train verb's --resume: a checkpoint folder, or a run folder/id whose first of `names` holds one.

    -> (model config, steps done, seconds spent, loss log, {"tensors", "path"}); BadInput (exit 2) when
    the checkpoint was trained on other data than this run collects.
    """
    src = resolve_run_or_path(ref)
    for sub in names:
        if (src / sub / "meta.json").is_file():
            src = src / sub
            break
    meta, tensors = load_checkpoint(src, arch)
    if meta.training.get("data") != data:
        raise BadInput(
            f"{src}/meta.json: field training.data: checkpoint was trained on "
            f"{meta.training.get('data')}, this run collects {data}"
        )
    try:
        cfg = from_dict(meta.model["config"])
        start, seconds = int(meta.training["steps"]), float(meta.training["seconds"])
    except (KeyError, TypeError, ValueError) as e:
        raise BadInput(
            f"{src}/meta.json: not a resumable checkpoint ({type(e).__name__}: {e})"
        ) from None
    if start < 0 or not math.isfinite(seconds):
        raise BadInput(f"{src}/meta.json: field training.steps/seconds: {start}, {seconds}")
    return (
        cfg,
        start,
        seconds,
        read_log(src),
        {"tensors": tensors, "path": src, "target": meta.training.get("target_steps")},
    )


def resolve_run_or_path(given: str) -> Path:
    """--resume takes a checkpoint folder or a run id (whose run folder holds the checkpoint)."""
    p = Path(given)
    if p.is_dir():
        return p
    from shell import paths

    if (paths.run_dir(given)).is_dir():
        return paths.run_dir(given)
    raise BadInput(f"--resume {given}: neither a checkpoint folder nor a run id")
