"""`gate all`: every built gate in prerequisite order; a gate whose prerequisite did not pass is reported
blocked and not run. Each gate keeps its own exit code (3 stays 3: missing here is not a failure)."""

from __future__ import annotations

from typing import Any

from shell.errors import GateError
from shell.registry import Registry
from shell.runner import RunOptions, RunResult, run_gate


def blocked_by(reg: Registry, gate_id: str, results: dict[str, RunResult]) -> str | None:
    """Why gate_id cannot run given the verdicts so far, or None when it can."""
    gate = reg.gates[gate_id]
    bad = [p for p in gate.prerequisites if p in results and not results[p].passed]
    if bad:
        return f"blocked: prerequisite {', '.join(bad)} did not pass"
    unbuilt = [p for p in gate.prerequisites if p in reg.gates and not reg.gates[p].built]
    if unbuilt:
        return f"blocked: prerequisite {', '.join(unbuilt)} is not built"
    return None


def run_all(
    reg: Registry, opts: RunOptions, only: list[str] | None = None, on_result: Any = None
) -> list[RunResult]:
    """Every built gate (or those in only) in prerequisite order; dependants of a failure are blocked."""
    results: dict[str, RunResult] = {}
    for gate in reg.order(
        [g.id for g in reg.gates.values() if g.built and (only is None or g.id in only)]
    ):
        if why := blocked_by(reg, gate.id, results):
            res = RunResult(None, gate.id, 1, False, why)
        else:
            try:
                res = run_gate(reg, gate.id, opts)
            except GateError as e:
                res = RunResult(None, gate.id, e.exit_code, False, str(e))
        results[gate.id] = res
        if on_result:
            on_result(res)
    return list(results.values())


def overall_exit(results: list[RunResult]) -> int:
    """0 when every gate passed; else the worst code by severity: 4 crash, 2 bad input, 1 failed, 3
    missing here (only when nothing failed outright)."""
    codes = {r.exit_code for r in results}
    for code in (4, 2, 1, 3):
        if code in codes:
            return code
    return 0
