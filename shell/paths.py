"""Where files go. The project root holds artifacts/ (goldens) and traces/; .gate/ holds runs and the ledger.

GATE_ROOT overrides the root (default: the nearest folder upward from the working directory that has a
pyproject.toml or artifacts/, else the working directory). GATE_STATE overrides the .gate/ folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    if env := os.environ.get("GATE_ROOT"):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "pyproject.toml").is_file() or (p / "artifacts").is_dir():
            return p
    return here


def state_dir() -> Path:
    env = os.environ.get("GATE_STATE")
    return Path(env).resolve() if env else root() / ".gate"


def runs_dir() -> Path:
    return state_dir() / "runs"


def run_dir(run_id: str) -> Path:
    return runs_dir() / run_id


def ledger_path() -> Path:
    return state_dir() / "ledger.db"


def golden_dir(gate: str, name: str | None = None) -> Path:
    base = root() / "artifacts" / gate
    return base / name if name else base


def traces_dir(gate: str) -> Path:
    return root() / "traces" / gate


def latest_golden(name: str) -> Path:
    """The golden folder of model `name` from the latest gate that has one (artifacts/m4/predictor
    over artifacts/m2/predictor): what play sessions and `gate play` start from. m2's when none has."""

    def gate_no(p: Path) -> int:  # artifacts/m4/predictor/meta.json -> 4
        digits = p.parent.parent.name.lstrip("m")
        return int(digits) if digits.isdigit() else -1

    found = sorted((root() / "artifacts").glob(f"*/{name}/meta.json"), key=gate_no)
    return found[-1].parent if found else golden_dir("m2", name)
