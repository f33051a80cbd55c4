"""`gate all`: every built gate in prerequisite order; a gate whose built prerequisite did not pass is
reported blocked and not run (a prerequisite that is only planned does not block). Each gate keeps its
own exit code (3 stays 3: missing here is not a failure), and a gate blocked only by prerequisites
missing here (no golden yet, no browser) is itself missing here: 3, not 1.

- `jobs > 1` or a `budget`: each gate runs as `gate run ID --json` in a process of its own, up to `jobs`
  at once as prerequisites allow; past the budget, running gates get SIGTERM (they write their verdict
  as stopped), then SIGKILL after a grace period, and gates not yet started are reported not run.
- `changed`: a gate whose inputs (shell/fingerprint.py) equal those of its last passing run is skipped
  as unchanged, unless a prerequisite ran again in this invocation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shell import fingerprint, ledger, paths
from shell.errors import GateError, OverBudget
from shell.registry import Registry
from shell.runner import RunOptions, RunResult, build_config, config_dict, run_gate

GRACE_S = 5.0  # seconds between SIGTERM and SIGKILL: a gate's verdict and bundle are small writes
POLL_S = 0.05
STOPPED = OverBudget.exit_code  # a gate stopped over budget did not show its criteria


@dataclass
class Plan:
    reg: Registry
    opts: RunOptions
    order: list[str]
    changed: bool

    def blocked_by(self, gate_id: str, results: dict[str, RunResult]) -> str | None:
        """Why gate_id cannot run given the verdicts so far, or None when it can."""
        gate = self.reg.gates[gate_id]
        bad = [p for p in gate.prerequisites if p in results and not results[p].passed]
        if bad:
            return f"blocked: prerequisite {', '.join(bad)} did not pass"
        return None  # a planned (unbuilt) prerequisite does not block: the roadmap is built out of order

    def unchanged(self, gate_id: str, results: dict[str, RunResult]) -> RunResult | None:
        """With --changed: the gate's last pass when nothing it depends on changed since, else None."""
        if not self.changed:
            return None
        gate = self.reg.gates[gate_id]
        if any(
            p in results and not results[p].message.startswith("unchanged")
            for p in gate.prerequisites
        ):
            return None  # a prerequisite ran again: so do its dependants
        last = ledger.last_pass(paths.ledger_path(), gate_id)
        if last is None or not last.get("fingerprint"):
            return None
        backend = self.opts.backend or gate.default_backend
        cfg = {"config": config_dict(build_config(gate, self.opts)), "backend": backend,
               "seed": self.opts.seed}  # fmt: skip
        if fingerprint.digest(fingerprint.inputs(gate, cfg)) != last["fingerprint"]:
            return None
        return RunResult(
            last["id"],
            gate_id,
            0,
            True,
            f"unchanged since run {last['id']} (passed); not run",
            run_dir=str(paths.run_dir(last["id"])),
        )


def _ordered(reg: Registry, only: list[str] | None) -> list[str]:
    return [
        g.id
        for g in reg.order(
            [g.id for g in reg.gates.values() if g.built and (only is None or g.id in only)]
        )
    ]


def run_all(
    reg: Registry,
    opts: RunOptions,
    only: list[str] | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    jobs: int = 1,
    budget: float | None = None,
    changed: bool = False,
) -> list[RunResult]:
    """Every built gate (or those in only) in prerequisite order; dependants of a failure are blocked."""
    plan = Plan(reg, opts, _ordered(reg, only), changed)
    if jobs > 1 or budget is not None:
        results = _in_processes(plan, jobs, budget, on_result)
    else:
        results = _in_order(plan, on_result)
    return [results[g] for g in plan.order if g in results]


def _settle(plan: Plan, gid: str, results: dict[str, RunResult]) -> RunResult | None:
    """A verdict without running: blocked, or skipped as unchanged; None when the gate must run."""
    if why := plan.blocked_by(gid, results):
        bad = [results[p] for p in plan.reg.gates[gid].prerequisites if p in results]
        missing = all(r.exit_code == 3 for r in bad if not r.passed)  # missing here propagates
        return RunResult(None, gid, 3 if missing else 1, False, why)
    try:
        return plan.unchanged(gid, results)
    except GateError as e:
        return RunResult(None, gid, e.exit_code, False, str(e))


def _in_order(plan: Plan, on_result: Any) -> dict[str, RunResult]:
    results: dict[str, RunResult] = {}
    for gid in plan.order:
        res = _settle(plan, gid, results)
        if res is None:
            try:
                res = run_gate(plan.reg, gid, plan.opts)
            except GateError as e:
                res = RunResult(None, gid, e.exit_code, False, str(e))
        results[gid] = res
        if on_result:
            on_result(res)
    return results


def _argv(gid: str, opts: RunOptions) -> list[str]:
    argv = [sys.executable, "-m", "shell", "run", gid, "--json", "--seed", str(opts.seed)]
    argv += ["--device", opts.device] + (["--backend", opts.backend] if opts.backend else [])
    return argv + (["--log-jsonl"] if opts.log_jsonl else [])


@dataclass
class _Child:
    proc: subprocess.Popen
    out: Any  # temporary files, not pipes, so a chatty gate never blocks on a full pipe
    err: Any


def _collect(gid: str, child: _Child, note: str = "") -> RunResult:
    proc = child.proc
    proc.wait()
    out, err = (f.seek(0) or f.read() for f in (child.out, child.err))
    child.out.close()
    child.err.close()
    try:
        doc = orjson.loads(out)
        res = RunResult(**{k: doc.get(k) for k in RunResult.__dataclass_fields__ if k in doc})
    except (orjson.JSONDecodeError, TypeError):
        tail = (err or b"").decode(errors="replace").strip().splitlines()
        res = RunResult(None, gid, proc.returncode or 1, False, tail[-1] if tail else "no output")
    if note:
        res.passed, res.message = False, f"{note}; {res.message}".rstrip("; ")
        res.exit_code = res.exit_code or STOPPED
    return res


def _in_processes(
    plan: Plan, jobs: int, budget: float | None, on_result: Any
) -> dict[str, RunResult]:
    t0 = time.monotonic()
    deadline = t0 + budget if budget is not None else None
    results: dict[str, RunResult] = {}
    running: dict[str, _Child] = {}
    pending = list(plan.order)
    env = {**os.environ, "GATE_ALL_CHILD": "1"}

    def done(res: RunResult) -> None:
        results[res.gate] = res
        if on_result:
            on_result(res)

    while pending or running:
        for gid, child in list(running.items()):
            if child.proc.poll() is not None:
                done(_collect(gid, running.pop(gid)))
        if deadline is not None and time.monotonic() >= deadline:
            _stop(running, pending, budget or 0, t0, done)
            break
        for gid in list(pending):
            prereqs = plan.reg.gates[gid].prerequisites
            if any(p in pending or p in running for p in prereqs):
                continue  # wait for its prerequisites' verdicts
            if (res := _settle(plan, gid, results)) is not None:
                pending.remove(gid)
                done(res)
            elif len(running) < jobs:
                pending.remove(gid)
                out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
                proc = subprocess.Popen(_argv(gid, plan.opts), stdout=out, stderr=err, env=env)
                running[gid] = _Child(proc, out, err)  # _collect closes the files
        time.sleep(POLL_S)
    return results


def _stop(
    running: dict[str, _Child], pending: list[str], budget: float, t0: float, done: Any
) -> None:
    """The budget is spent: SIGTERM each running gate (it writes its verdict), SIGKILL after a grace
    period; gates not started yet are reported not run."""
    for child in running.values():
        child.proc.send_signal(signal.SIGTERM)
    end = time.monotonic() + GRACE_S
    for gid, child in running.items():
        try:
            child.proc.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.proc.kill()
        why = f"stopped: over the --budget of {budget:g} s ({time.monotonic() - t0:.1f} s)"
        done(_collect(gid, child, why))
    running.clear()
    for gid in pending:
        done(
            RunResult(None, gid, STOPPED, False, f"not run: the --budget of {budget:g} s was spent")
        )


def overall_exit(results: list[RunResult]) -> int:
    """0 when every gate passed; else the worst code by severity: 4 crash, 2 bad input, 1 failed, 3
    missing here (only when nothing failed outright)."""
    codes = {r.exit_code for r in results}
    for code in (4, 2, 1, 3):
        if code in codes:
            return code
    return 0
