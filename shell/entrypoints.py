"""Entry points of worldgate's plugin groups, fast: `importlib.metadata` costs ~50 ms to import and
more to scan every installed distribution, which the listing commands cannot afford.

The scan's result is cached in `.gate/entrypoints.json`, keyed by the interpreter and every import
path with its modification time: installing or removing a package changes a site-packages folder's
mtime (a dist-info folder appears or goes), so the cache is rebuilt exactly when it could be wrong.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

GROUPS = ("worldgate.gates", "worldgate.backends", "worldgate.models")
CACHE_VERSION = 1
KEEP = 8  # keys kept: `gate`, `python -m shell`, test runs each see another sys.path


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str  # "module:attribute"
    group: str

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for part in attr.strip().split(".") if attr else ():
            obj = getattr(obj, part)
        return obj


def _key() -> list[Any]:
    dirs = []
    for p in sys.path:
        try:
            dirs.append([p, os.stat(p or ".").st_mtime_ns])
        except OSError:
            dirs.append([p, None])
    return [CACHE_VERSION, sys.executable, sys.prefix, dirs]


def _scan() -> dict[str, list[list[str]]]:
    from importlib.metadata import entry_points

    return {g: [[ep.name, ep.value] for ep in entry_points(group=g)] for g in GROUPS}


def _cache_path() -> str:
    from shell import paths

    return str(paths.state_dir() / "entrypoints.json")


_memo: tuple[list[Any], dict[str, list[list[str]]]] | None = None  # (key, groups) of this process


def _groups() -> dict[str, list[list[str]]]:
    global _memo
    key = _key()
    if _memo is not None and _memo[0] == key:
        return _memo[1]
    path, groups, entries = _cache_path(), None, []
    try:
        with open(path, encoding="utf-8") as f:
            entries = [e for e in json.load(f) if isinstance(e, dict)]
        groups = next((e["groups"] for e in entries if e.get("key") == key), None)
    except (OSError, ValueError, TypeError, KeyError):
        entries = []
    if groups is None:
        groups = _scan()
        entries = [{"key": key, "groups": groups}, *entries][:KEEP]
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(entries, f)
            os.replace(tmp, path)
        except OSError:
            pass  # an unwritable state folder only costs the scan
    _memo = (key, groups)
    return groups


def entry_points(group: str) -> list[EntryPoint]:
    return [EntryPoint(n, v, group) for n, v in _groups().get(group, [])]
