"""Running a gate: the run id, receipt, candidate artifacts, failure bundle and ledger row.

A gate's run(ctx) measures and reports through the RunContext; the harness turns that into the verdict
and the exit code (0 passed, 1 a criterion failed, 2 bad input, 3 a prerequisite missing here).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from shell import fingerprint, ledger, paths
from shell.context import RunContext, RunOptions, RunResult, config_dict
from shell.errors import BadInput, GateCrashed, GateError, OverBudget
from shell.receipt import Receipt, read_receipt
from shell.registry import Gate, Registry
from shell.safety import os_error_line
from shell.store import git_commit

CRASH = (
    GateCrashed.exit_code
)  # an exception in the gate's or a model's code, not a failed criterion


def new_run_id(gate_id: str) -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}Z-{gate_id}-{secrets.token_hex(3)}"


def build_config(gate: Gate, opts: RunOptions) -> Any:
    """The gate's pydantic config from its defaults, a JSON file and key=value overrides."""
    from pydantic import ValidationError

    values: dict[str, Any] = {}
    src = "config"
    if opts.config_file is not None:
        from shell.safety import read_input_file, shown

        src = shown(opts.config_file)
        raw = read_input_file(opts.config_file, "config file", limit=1 << 20)
        try:
            values = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise BadInput(f"{src}: not valid JSON ({e})") from None
        if not isinstance(values, dict):
            raise BadInput(f"{src}: must hold a JSON object")
    from shell.options import parse_assignments

    values.update(parse_assignments(opts.overrides, "--set"))
    if opts.model is not None:
        src = "--model" if src == "config" else src
        values["model"] = opts.model
    if gate.config is None:
        if values:
            raise BadInput(
                f"{src}: field {next(iter(values))}: gate {gate.id} takes no configuration"
            )
        return None
    try:
        cfg = gate.config(**values)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        raise BadInput(f"{src}: field {loc}: {err['msg']}") from None
    except TypeError as e:  # e.g. a key that is not a valid identifier
        raise BadInput(f"{src}: {e}") from None
    for key, val in values.items():  # pydantic reads true as 1: a flag is not a count
        if isinstance(val, bool) and not isinstance(getattr(cfg, key, val), bool):
            raise BadInput(f"{src}: field {key}: expected a number, not {str(val).lower()}")
    return cfg


def _config_hash(config: Any, opts: RunOptions, backend: str | None) -> tuple[str, dict[str, Any]]:
    cfg = config_dict(config)
    full = {"config": cfg, "backend": backend, "seed": opts.seed}
    return hashlib.sha256(orjson.dumps(full, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16], full


def repro_command(
    gate: Gate, opts: RunOptions, backend: str | None, config_path: Path | None
) -> str:
    parts = ["uv", "run", "gate", "run", gate.id, "--seed", str(opts.seed), "--device", opts.device]
    if backend:
        parts += ["--backend", backend]
    if config_path is not None:
        parts += ["--config", str(config_path)]
    return shlex.join(parts)


def run_gate(
    reg: Registry,
    gate_id: str,
    opts: RunOptions,
    verb: str | None = None,
    fn: Any = None,
    params: dict[str, Any] | None = None,
) -> RunResult:
    """Run one gate end to end, or one of its verbs (fn(ctx), with params as its configuration).

    A verb's run has a run id, receipt and ledger row like a gate's, so what it writes can be approved; it
    passes unless it raises. Raises BadInput before anything is written if the request is bad.
    """
    from shell.safety import check_seed

    gate = reg.get(gate_id)
    if not gate.built:
        raise BadInput(f"gate {gate.id} ({gate.name}) is planned, not built yet; see `gate status`")
    if verb is None and not gate.criteria:
        raise BadInput(f"gate {gate.id} declares no criteria: a verdict needs at least one")
    check_seed(opts.seed)
    config = build_config(gate, opts) if verb is None else dict(params or {})
    backend = opts.backend or gate.default_backend
    run_id = new_run_id(gate.id)
    rdir = paths.run_dir(run_id)
    try:
        rdir.mkdir(parents=True, exist_ok=False)
        receipt = Receipt(rdir / "receipt.jsonl", run_id, gate.id)
    except OSError as e:
        raise BadInput(
            f"{paths.state_dir()}: cannot write runs there ({e.strerror}); set GATE_STATE to a "
            "writable folder"
        ) from None
    chash, full_cfg = _config_hash(config, opts, backend)
    found = fingerprint.inputs(gate, full_cfg, goldens=verb is None)  # what the run rests on
    commit = git_commit(paths.root())
    started, t0 = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), time.perf_counter()
    receipt.emit(
        "start",
        config=full_cfg,
        backend=backend,
        device=opts.device,
        commit=commit,
        argv=sys.argv[1:],
        verb=verb,
    )
    ctx = RunContext(gate, run_id, opts, config, receipt)
    if os.environ.get("GATE_ALL_CHILD"):  # gate all --budget stops a child with SIGTERM
        signal.signal(signal.SIGTERM, _over_budget)
    exit_code, message, crash = 0, "", None

    def expired(msg: str) -> None:  # shell.deadline ends the process: record why first
        receipt.emit("error", kind="BadInput", message=msg)
        receipt.emit("verdict", passed=False, exit_code=2,
                     duration_s=round(time.perf_counter() - t0, 4))  # fmt: skip
        receipt.close()
        events = ledger.run_from_receipt(read_receipt(receipt.path))
        if events is not None:
            ledger.record_run_or_warn(paths.ledger_path(), *events)

    from shell import deadline

    unhook = deadline.on_expire(expired)
    try:
        (fn or gate.run)(ctx)
    except GateError as e:
        exit_code, message = e.exit_code, str(e)
        receipt.emit("error", kind=type(e).__name__, message=message)
    except OSError as e:
        if (msg := os_error_line(e)) is None:
            exit_code, message, crash = CRASH, f"{type(e).__name__}: {e}", traceback.format_exc()
            receipt.emit("error", kind="crash", message=message)
        else:  # a file the user named cannot be read or written: bad input, not a crash
            exit_code, message = 2, msg
            receipt.emit("error", kind="BadInput", message=message)
    except Exception as e:  # a crash inside a gate: exit 4, its traceback in the bundle
        exit_code, message, crash = CRASH, f"{type(e).__name__}: {e}", traceback.format_exc()
        receipt.emit("error", kind="crash", message=message)
    finally:
        unhook()
    if exit_code == 0 and verb is None:
        checked = {c["name"]: c for c in ctx.criteria}
        missing = [c.name for c in gate.criteria if c.name not in checked and not c.only_on]
        if missing:
            exit_code, message = 1, f"criteria not measured: {', '.join(missing)}"
            receipt.emit("error", kind="unmeasured", message=message)
        elif not all(c["passed"] for c in ctx.criteria):
            exit_code = 1
            message = "failed: " + ", ".join(
                f"{c['name']}={c['value']:.4g} (needs {c['op']} {c['threshold']:g})"
                for c in ctx.criteria
                if not c["passed"]
            )
    duration = time.perf_counter() - t0
    repro = None
    if exit_code in (1, CRASH):
        repro = _write_bundle(ctx, gate, opts, backend, full_cfg, crash, verb)
    device = str(ctx._device) if ctx._device is not None else opts.device
    receipt.emit(
        "verdict", passed=exit_code == 0, exit_code=exit_code, duration_s=round(duration, 4)
    )
    receipt.close()
    ledger.record_run_or_warn(
        paths.ledger_path(),
        {
            "id": run_id,
            "gate": gate.id,
            "kind": verb or "gate",
            "started_at": started,
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "duration_s": duration,
            "exit_code": exit_code,
            "passed": exit_code == 0,
            "backend": backend,
            "device": device,
            "git_commit": commit,
            "config_hash": chash,
            "config": full_cfg,
            "artifacts": ctx.artifacts,
            "argv": sys.argv[1:],
            "fingerprint": fingerprint.digest(found) if found else None,
            "inputs": found,
        },  # fmt: skip
        ctx.metrics,
        ctx.criteria,
    )
    return RunResult(
        run_id, gate.id, exit_code, exit_code == 0, message, ctx.metrics, ctx.criteria, ctx.artifacts,
        str(rdir), repro, round(duration, 3), verb,
    )  # fmt: skip


def _over_budget(signum: int, frame: Any) -> None:
    raise OverBudget(
        "stopped: over its time budget (gate all --budget, or a served batch's budget_s)"
    )


def _write_bundle(
    ctx: RunContext,
    gate: Gate,
    opts: RunOptions,
    backend: str | None,
    full_cfg: dict[str, Any],
    crash: str | None,
    verb: str | None = None,
) -> str:
    bdir = ctx.run_dir / "bundle"
    bdir.mkdir(exist_ok=True)
    cfg_path = bdir / "config.json"
    cfg_path.write_bytes(orjson.dumps(full_cfg["config"], option=orjson.OPT_INDENT_2))
    if verb is None:
        cmd = repro_command(gate, opts, backend, cfg_path if ctx.config is not None else None)
    else:
        cmd = shlex.join(["uv", "run", "gate", *sys.argv[1:]])
    files = dict(ctx._bundle)
    files["inputs.json"] = orjson.dumps(
        {
            "run_id": ctx.run_id,
            "gate": gate.id,
            "config": full_cfg,
            "metrics": ctx.metrics,
            "criteria": ctx.criteria,
        },
        option=orjson.OPT_INDENT_2,
    )
    if crash:
        files["traceback.txt"] = crash.encode()
    files["repro.sh"] = (
        f"#!/bin/sh\n# reproduces run {ctx.run_id}\ncd {shlex.quote(str(paths.root()))}\n{cmd}\n".encode()
    )
    for name, data in files.items():
        (bdir / name).write_bytes(data)
    os.chmod(bdir / "repro.sh", 0o755)
    return cmd
