"""The model registry: entry-point group `worldgate.models`, and `--model NAME_OR_PATH` resolution.

An entry point names a `ModelEntry`: a name, the protocol it speaks (core/models/protocols.py: `codec`
for m1, `world_model` for m2 and later), a loader from an artifact folder, and optionally the command
that trains one. The built-in models register the same way (shell/builtin_models.py). Nothing here
imports torch: `gate models` stays instant; loaders import what they need when called.

`--model` takes:
- nothing: the gate's golden for the game, loaded by the entry whose `arches` include its
  meta.json `model.arch`;
- NAME: that registered model, from its golden for the game if it has one, else from no folder (a
  model that ships its weights in its package, or needs none);
- NAME:PATH: that model from that folder;
- PATH: a folder whose meta.json names its architecture (`model.arch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shell.entrypoints import entry_points
from shell.errors import BadInput

Kind = Literal["codec", "world_model"]
KINDS: dict[str, str] = {"codec": "FrameCodec", "world_model": "WorldModel"}


@dataclass(frozen=True)
class ModelEntry:
    """What a `worldgate.models` entry point names.

    load(path, device, want) -> a model speaking the kind's protocol, on device. path is an artifact
    folder or None; want holds what the run needs (e.g. {"game": "platformer", "n_actions": 5}) for a
    loader that can check it (exit 2 via shell.errors.BadInput on a mismatch).
    """

    name: str
    kind: Kind
    summary: str
    load: Callable[[Path | None, Any, dict[str, Any]], Any]
    arches: tuple[str, ...] = ()  # meta.json `model.arch` values this loader reads
    golden: str = ""  # its golden's name under artifacts/<gate>/ (per game), if it has one
    trainer: str = ""  # the command that trains one, e.g. "gate m1 train"


@dataclass
class Models:
    entries: dict[str, ModelEntry]
    problems: list[str]

    def by_arch(self, arch: str, kind: str) -> ModelEntry | None:
        for e in self.entries.values():
            if e.kind == kind and arch in e.arches:
                return e
        return None


def load_models() -> Models:
    entries: dict[str, ModelEntry] = {}
    problems: list[str] = []
    for ep in entry_points(group="worldgate.models"):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not break the registry
            problems.append(f"entry point {ep.name!r} ({ep.value}) failed to load: {e}")
            continue
        for m in obj if isinstance(obj, list | tuple) else [obj]:
            if not isinstance(m, ModelEntry) or m.kind not in KINDS:
                problems.append(f"entry point {ep.name!r} ({ep.value}) is not a ModelEntry")
            elif m.name in entries:
                problems.append(f"model {m.name!r} is registered twice; the first one is kept")
            else:
                entries[m.name] = m
    return Models(dict(sorted(entries.items())), problems)


def _arch_of(path: Path) -> str:
    import orjson

    meta = path / "meta.json"
    if not meta.is_file():
        raise BadInput(f"{meta}: missing (--model PATH needs an artifact folder with a meta.json)")
    try:
        arch = orjson.loads(meta.read_bytes())["model"]["arch"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise BadInput(
            f"{meta}: field model.arch: missing (name the loader: --model NAME:PATH)"
        ) from None
    if not isinstance(arch, str):
        raise BadInput(f"{meta}: field model.arch: expected a string")
    return arch


def resolve(
    spec: str, kind: str, golden_for: Callable[[str], Path], gate: str, default: str
) -> tuple[ModelEntry, Path | None]:
    """--model SPEC for a gate that judges `kind` -> (entry, artifact folder or None).

    golden_for(name) is the golden folder of the model called `name` for the run's game; default is
    the gate's own model name (its golden is what an empty SPEC judges). A missing golden is exit 3
    (train one), a bad spec exit 2.
    """
    from shell import paths
    from shell.errors import Unavailable

    models = load_models()
    name, sep, rest = spec.partition(":")
    if spec and sep and name in models.entries:
        entry, path = models.entries[name], _abs(rest, paths.root())
    elif spec in models.entries:
        entry = models.entries[spec]
        _check_kind(entry, spec, kind, gate)
        path = golden_for(entry.golden) if entry.golden else None
        if path is not None and not (path / "meta.json").is_file():
            raise Unavailable(
                f"{path}: no golden of {entry.name} for this game yet; train one "
                f"({entry.trainer or 'see gate models'}) or give a folder: --model {entry.name}:PATH"
            )
    elif spec and ("/" in spec or spec.startswith(".") or Path(spec).exists()):
        path = _abs(spec, paths.root())
        if not path.is_dir():
            raise BadInput(f"--model {spec}: no such folder")
        entry = _entry_for(models, _arch_of(path), kind, path)
    elif spec:
        known = ", ".join(n for n, e in models.entries.items() if e.kind == kind) or "none"
        raise BadInput(f"--model {spec}: not a registered {kind} ({known}) nor a folder")
    else:
        path = golden_for(default)
        entry = _entry_for(models, _arch_of(path), kind, path)
    _check_kind(entry, spec, kind, gate)
    return entry, path


def _check_kind(entry: ModelEntry, spec: str, kind: str, gate: str) -> None:
    if entry.kind != kind:
        raise BadInput(
            f"--model {spec}: {entry.name} is a {entry.kind}; gate {gate} needs a {kind}"
        )


def _entry_for(models: Models, arch: str, kind: str, path: Path) -> ModelEntry:
    entry = models.by_arch(arch, kind)
    if entry is None:
        raise BadInput(
            f"{path}/meta.json: field model.arch: no registered {kind} loads {arch!r} "
            "(see gate models)"
        )
    return entry


def entry_for_folder(path: Path, kind: str) -> ModelEntry:
    """The registered model of `kind` that loads the architecture the folder's meta.json names."""
    return _entry_for(load_models(), _arch_of(path), kind, path)


def _abs(p: str, root: Path) -> Path:
    q = Path(p)
    return q if q.is_absolute() else root / q


def load(entry: ModelEntry, path: Path | None, device: Any, want: dict[str, Any]) -> Any:
    """The model, checked against its protocol: exit 2 when it lacks a method the gate will call."""
    from shell.errors import GateError

    try:
        model = entry.load(path, device, want)
    except GateError:
        raise
    except Exception as e:  # the model's own code failed: a crash (exit 4), not bad input
        raise RuntimeError(f"model {entry.name}: loading failed: {type(e).__name__}: {e}") from e
    need = {
        "codec": ("encode", "decode", "latent_bytes"),
        "world_model": ("predict", "rollout", "context_frames", "noise_dim", "n_actions"),
    }[entry.kind]
    missing = [m for m in need if not hasattr(model, m)]
    if missing:
        raise BadInput(
            f"model {entry.name}: does not speak {KINDS[entry.kind]} (missing {', '.join(missing)})"
        )
    return model


def goldens(kind: str) -> list[tuple[ModelEntry, Path]]:
    """Every approved golden (artifacts/<gate>/<name>/) that a registered model of `kind` loads, in
    path order. Folders whose meta.json names no architecture, or one of another kind, are skipped."""
    from shell import paths

    models, out = load_models(), []
    for meta in sorted((paths.root() / "artifacts").glob("*/*/meta.json")):
        try:
            entry = models.by_arch(_arch_of(meta.parent), kind)
        except BadInput:
            continue
        if entry is not None:
            out.append((entry, meta.parent))
    return out
