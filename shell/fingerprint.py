"""What a gate's verdict depends on, as {name: sha256}, and one digest of it (as DVC stages do).

A gate's inputs: the project code its declaration imports (the static import closure of its module and
of the registered model and backend modules, read from source: shell/imports.py), a third-party gate's
own package files, its goldens (`artifacts/<gate>/`), its traces (`traces/<gate>/`), every file or
folder its configuration names, the lock file, and the configuration itself. `gate all --changed`
skips a gate whose digest equals that of its last passing run; `gate status` names what changed.

File hashes are cached by (size, mtime) in `.gate/fingerprints.json`, and the import closure by the
stat signature of the project's sources, so an unchanged tree is fingerprinted from stats alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from shell import paths
from shell.entrypoints import entry_points
from shell.imports import PACKAGES, closure, imports_of, module_files

CACHE_VERSION = 1


class _Cache:
    def __init__(self, path: Path) -> None:
        self.path, self.dirty = path, False
        try:
            doc = json.loads(path.read_bytes())
            ok = isinstance(doc, dict) and doc.get("version") == CACHE_VERSION
        except (OSError, ValueError):
            ok = False
        self.files: dict[str, list] = doc.get("files", {}) if ok else {}
        self.modules: dict[str, list] = doc.get("imports", {}) if ok else {}

    def sha(self, f: Path) -> str:
        st = f.stat()
        key, sig = str(f), [st.st_size, st.st_mtime_ns]
        hit = self.files.get(key)
        if hit and hit[:2] == sig:
            return hit[2]
        h = hashlib.sha256()
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        self.files[key] = [*sig, h.hexdigest()]
        self.dirty = True
        return h.hexdigest()

    def imports(self, name: str, f: Path, known: set[str]) -> set[str]:
        st = f.stat()
        sig = [st.st_size, st.st_mtime_ns]
        hit = self.modules.get(name)
        if hit and hit[:2] == sig:
            return {m for m in hit[2] if m in known}
        found = imports_of(name, f, known)
        self.modules[name] = [*sig, sorted(found)]
        self.dirty = True
        return found

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            doc = {"version": CACHE_VERSION, "files": self.files, "imports": self.modules}
            tmp.write_text(json.dumps(doc, separators=(",", ":")))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _entry_modules() -> list[str]:
    """Modules the registries load at run time (models, backends): part of every model gate's code."""
    mods = []
    for group in ("worldgate.models", "worldgate.backends"):
        mods += [ep.value.partition(":")[0] for ep in entry_points(group=group)]
    return mods


def _walk(p: Path) -> list[Path]:
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    return []


MAX_CONFIG_FILES = 1000  # a folder a config value names (a model, a template) holds a few files
MAX_CONFIG_BYTES = 4 << 30


def _walk_bounded(p: Path) -> list[Path] | None:
    """_walk for a path a user wrote in a configuration: None (not hashed) when it is a folder of more
    than MAX_CONFIG_FILES files or MAX_CONFIG_BYTES (`--set template=/usr` would hash 5 GB before the
    gate could refuse it), or cannot be read; the gate then judges the value itself."""
    out: list[Path] = []
    size = 0
    try:
        for f in _walk(p) if p.is_file() else _iter_files(p):
            out.append(f)
            size += f.stat().st_size
            if len(out) > MAX_CONFIG_FILES or size > MAX_CONFIG_BYTES:
                return None
    except OSError:
        return None
    return out


def _iter_files(p: Path):  # noqa: ANN202 - a generator of Paths, stopped early by the caller
    import os

    for d, dirs, names in os.walk(p, onerror=_raise):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for n in sorted(names):
            f = Path(d) / n
            if f.is_file():
                yield f


def _raise(e: OSError) -> None:
    raise e


def _rel(f: Path, root: Path) -> str:
    try:
        return str(f.relative_to(root))
    except ValueError:
        return str(f)


def _config_paths(config: Any, root: Path) -> list[Path]:
    """Existing files and folders a configuration's string values name (ROMs, traces, models)."""
    out: list[Path] = []
    values = (
        config.values() if isinstance(config, dict) else config if isinstance(config, list) else []
    )
    for v in values:
        if isinstance(v, dict | list):
            out += _config_paths(v, root)
        elif isinstance(v, str) and v and len(v) < 4096 and ("/" in v or "." in v):
            p = Path(v) if Path(v).is_absolute() else root / v
            try:
                if p.exists():
                    out.append(p)
            except OSError:
                continue
    return out


_memo: dict[str, Any] = {}  # one walk of the sources per process and root (status asks per gate)


def _project(root: Path) -> tuple[_Cache, dict[str, Path], dict[str, set[str]]]:
    key = f"{root}|{paths.state_dir()}"
    if key not in _memo:
        cache = _Cache(paths.state_dir() / "fingerprints.json")
        mods = module_files(root, PACKAGES)
        known = set(mods)
        _memo.clear()
        _memo[key] = (cache, mods, {m: cache.imports(m, f, known) for m, f in mods.items()})
    return _memo[key]


def inputs(
    gate: Any, config: dict[str, Any], goldens: bool = True, with_config: bool = True
) -> dict[str, str]:
    """{relative path or "config": sha256} of everything the gate's verdict depends on. goldens=False
    for a verb's run (a train verb reads no golden): only what its configuration names counts."""
    root = paths.root()
    cache, mods, g = _project(root)
    module = getattr(gate.run, "__module__", "") or ""
    files: list[Path] = [mods[m] for m in sorted(closure(g, [module, *_entry_modules()]))]
    if module.split(".")[0] not in PACKAGES and module in sys.modules:  # a third party's gate
        mfile = getattr(sys.modules[module], "__file__", None)
        if mfile:
            pkg = Path(mfile).parent if Path(mfile).name == "__init__.py" else Path(mfile)
            files += [f for f in _walk(pkg) if f.suffix == ".py"]
    if goldens:
        files += _walk(paths.golden_dir(gate.id)) + _walk(paths.traces_dir(gate.id))
    files += _walk(root / "uv.lock")
    unhashed: list[Path] = []
    for p in _config_paths(config, root):
        got = _walk_bounded(p)
        files += got if got is not None else []
        unhashed += [p] if got is None else []
    out = {_rel(f, root): cache.sha(f) for f in dict.fromkeys(files)}
    out |= {_rel(p, root): "unhashed: too large to be an input" for p in unhashed}
    if with_config:
        out["config"] = hashlib.sha256(_sorted_json(config)).hexdigest()
    cache.save()
    return out


def digest(found: dict[str, str]) -> str:
    return hashlib.sha256(_sorted_json(found)).hexdigest()[:16]


def _sorted_json(obj: Any) -> bytes:
    import orjson  # the ledger's hashes were made with it: the same bytes every time

    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def changes(before: dict[str, str], now: dict[str, str], most: int = 3) -> list[str]:
    """What differs, in words: 'artifacts/m1/autoencoder/meta.json changed', '... added', '... gone'."""
    out = [f"{k} changed" for k in sorted(now) if k in before and before[k] != now[k]]
    out += [f"{k} added" for k in sorted(now) if k not in before]
    out += [f"{k} gone" for k in sorted(before) if k not in now]
    return out[:most] + ([f"and {len(out) - most} more"] if len(out) > most else [])
