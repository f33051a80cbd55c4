"""Gate m11's declaration: registered once, light to import, the spec's thresholds; the checks it runs
are exercised against real servers in test_server*.py (the full gate runs in `uv run gate m11`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shell.registry import load_gates

REPO = Path(__file__).resolve().parents[1]


def test_m11_is_declared_once_with_the_spec_thresholds() -> None:
    from gates.planned import PLANNED

    gate = load_gates().get("m11")
    assert gate.built and (gate.id, gate.name) == ("m11", "api")
    assert gate.source == "functional-milestones, Milestone 10" and gate.prerequisites == ("m2",)
    assert "m11" not in {g.id for g in PLANNED}
    c = {x.name: (x.op, x.threshold) for x in gate.criteria}
    assert c["p95_ms"] == ("<", 100) and c["cheap_rps"] == (">=", 1000)
    assert c["success_rate"] == (">=", 0.999) and c["fuzz_failures"] == ("==", 0)
    assert c["contract"] == ("==", 1) and c["keys"] == ("==", 1)


def test_m11_config_refuses_unknown_keys() -> None:
    from pydantic import ValidationError

    gate = load_gates().get("m11")
    assert gate.config().sessions == 4
    with pytest.raises(ValidationError):
        gate.config(sesions=3)


def test_declaring_m11_imports_nothing_heavy() -> None:
    code = (
        "import sys, gates.m11\n"
        "bad = [m for m in ('torch', 'fastapi', 'httpx', 'uvicorn', 'pydantic') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr


def test_a_failed_check_is_reported_not_raised() -> None:
    """The contract turns an exception into a failed check naming it (the gate then exits 1)."""
    from gates.m11.contract import _try

    out: list = []
    _try("boom", lambda: 1 / 0, out)
    _try("false", lambda: False, out)
    _try("value", lambda: [1], out)
    assert [(n, ok) for n, ok, _ in out] == [("boom", False), ("false", False), ("value", True)]
    assert "ZeroDivisionError" in out[0][2]
