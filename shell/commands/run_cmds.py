"""gate run ID, the shortcut gate ID (with the gate's own verbs under it), and gate all."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shell import options
from shell.output import console, emit_json, guard
from shell.registry import Gate, Registry, load_gates

if TYPE_CHECKING:  # the runner pulls in pydantic; commands that only list must not pay for it
    from shell.context import RunOptions, RunResult


def _print_result(res: RunResult, json: bool) -> None:
    out = console(json)
    if res.exit_code == 0 and res.message.startswith("unchanged"):
        out.print(f"{res.gate}: [green]PASS[/]  ({res.message})")
        return
    ok = "[green]DONE[/]" if res.verb else "[green]PASS[/]"  # a verb did its work; only gates pass
    verdict = {0: ok, 1: "[red]FAIL[/]"}.get(res.exit_code, f"[yellow]EXIT {res.exit_code}[/]")
    head = f"{res.gate}{' ' + res.verb if res.verb else ''}: {verdict}"
    if res.run_id:
        head += f"  ({res.duration_s:.1f} s, run {res.run_id})"
    out.print(head)
    for m in res.metrics:
        out.print(f"  {m['name']:<28} {m['value']:.6g} {m['unit']}")
    for c in res.criteria:
        ok = "[green]ok[/]" if c["passed"] else "[red]no[/]"
        out.print(f"  {ok} {c['name']:<25} {c['value']:.6g} {c['op']} {c['threshold']:g}")
    if res.message and res.exit_code:
        print(f"gate: {res.gate}: {res.message}", file=sys.stderr, flush=True)
    if res.run_dir:
        out.print(f"  receipt: {Path(res.run_dir) / 'receipt.jsonl'}")
    if res.repro:
        print(f"gate: repro: {res.repro}", file=sys.stderr, flush=True)


def _opts(backend, device, seed, json, log_jsonl, config, set_, model) -> RunOptions:
    from shell.context import RunOptions

    return RunOptions(backend, device, seed, json, log_jsonl, config, list(set_ or []), model)


def execute(reg: Registry, gate_id: str, opts: RunOptions) -> None:
    from shell.runner import run_gate

    with guard():
        res = run_gate(reg, gate_id, opts)
    if opts.json:
        emit_json(res.to_json())
    _print_result(res, opts.json)
    raise typer.Exit(res.exit_code)


def execute_verb(gate_id: str, verb: str, fn, params: dict, opts: RunOptions) -> None:
    """Run a gate verb (`gate m3 capture`) as a run of its own: receipt, ledger row, approvable output."""
    from shell.runner import run_gate

    with guard():
        res = run_gate(load_gates(), gate_id, opts, verb=verb, fn=fn, params=params)
    if opts.json:
        emit_json(res.to_json())
    _print_result(res, opts.json)
    raise typer.Exit(res.exit_code)


def run(
    gate_id: str = typer.Argument(..., help="Gate id, e.g. m1 (see `gate list`)."),
    backend: options.Backend = None,
    device: options.Device = "auto",
    seed: options.Seed = 0,
    json: options.Json = False,
    log_jsonl: options.LogJsonl = False,
    config: options.ConfigFile = None,
    set_: options.Set = None,
    model: options.Model = None,
) -> None:
    """Run one gate: exit 0 if it passes, 1 if a criterion fails, 2 on bad input, 3 if not runnable here."""
    with guard():
        reg = load_gates()
    execute(reg, gate_id, _opts(backend, device, seed, json, log_jsonl, config, set_, model))


def all_gates(
    backend: options.Backend = None,
    device: options.Device = "auto",
    seed: options.Seed = 0,
    json: options.Json = False,
    log_jsonl: options.LogJsonl = False,
    only: str | None = typer.Option(
        None, "--only", help="Comma-separated gate ids: run just these (in order)."
    ),
    jobs: int = typer.Option(
        1, "--jobs", "-j", min=1, max=64, help="Gates at once, each in its own process."
    ),
    budget: float | None = typer.Option(
        None,
        "--budget",
        min=1,
        max=86400,
        help="Seconds for the whole run; a gate still running then is stopped and reported.",
    ),
    changed: bool = typer.Option(
        False, "--changed", help="Skip a gate whose inputs are unchanged since it last passed."
    ),
) -> None:
    """Run every built gate in prerequisite order; a gate whose prerequisite failed is blocked, not run."""
    from shell.context import RunOptions
    from shell.scheduler import overall_exit, run_all

    with guard():
        reg = load_gates()
        opts = RunOptions(backend, device, seed, json, log_jsonl)
        ids = [x.strip() for x in only.split(",") if x.strip()] if only else None
        for gid in ids or []:
            reg.get(gid)
        if budget is not None and budget != budget:  # nan passes click's range check
            from shell.errors import BadInput

            raise BadInput("--budget nan: expected seconds, a number in 1..86400")
        results = run_all(reg, opts, ids, lambda r: _print_result(r, json), jobs, budget, changed)
    passed = sum(r.passed for r in results)
    code = overall_exit(results)  # no built gate selected: nothing failed
    if json:
        emit_json(
            {
                "results": [r.to_json() for r in results],
                "passed": passed,
                "total": len(results),
                "exit_code": code,
            }
        )
    skipped = sum(r.message.startswith("unchanged") for r in results)
    note = f" ({skipped} unchanged, not run)" if skipped else ""
    console(json).print(f"all: {passed}/{len(results)} built gates passed{note}")
    raise typer.Exit(code)


def gate_group(reg: Registry, gate: Gate) -> typer.Typer:
    """`gate m1` runs the gate; `gate m1 VERB` runs one of its own verbs."""
    state = "" if gate.built else " [planned, not built yet]"
    group = typer.Typer(
        name=gate.id,
        help=f"{gate.name}: {gate.summary or gate.source}{state}. Without a verb, runs the gate.",
        invoke_without_command=True,
        add_completion=False,
        rich_markup_mode=None,
    )

    @group.callback()
    def _run(
        ctx: typer.Context,
        backend: options.Backend = None,
        device: options.Device = "auto",
        seed: options.Seed = 0,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
        config: options.ConfigFile = None,
        set_: options.Set = None,
        model: options.Model = None,
    ) -> None:
        if ctx.invoked_subcommand is None:
            opts = _opts(backend, device, seed, json, log_jsonl, config, set_, model)
            execute(reg, gate.id, opts)

    if gate.commands is not None:
        gate.commands(group)
    return group


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("all")(all_gates)
    reg = load_gates()
    for gate in reg.gates.values():
        app.add_typer(gate_group(reg, gate))
