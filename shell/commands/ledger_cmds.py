"""gate runs, gate show, gate export: read the run ledger (.gate/ledger.db)."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from shell import ledger, options, paths
from shell.errors import BadInput
from shell.output import console, emit_json, guard


def runs(
    gate: str | None = typer.Option(None, "--gate", help="Only this gate's runs."),
    verdict: str | None = typer.Option(None, "--verdict", help="pass, fail or error."),
    since: str | None = typer.Option(
        None, "--since", help="Runs started at or after this date (ISO, e.g. 2026-11-01)."
    ),
    until: str | None = typer.Option(None, "--until", help="Runs started before this date (ISO)."),
    limit: int = typer.Option(
        50, "--limit", min=0, max=10**9, help="At most this many, newest first (0: all)."
    ),
    json: options.Json = False,
) -> None:
    """List runs from the ledger, newest first, filtered by gate, verdict and date."""
    with guard():
        if verdict not in (None, "pass", "fail", "error"):
            raise BadInput(f"--verdict {verdict!r}: expected pass, fail or error")
        rows = ledger.query_runs(paths.ledger_path(), gate, verdict, since, until, limit or None)
    if json:
        emit_json({"runs": rows})
        return
    from rich.table import Table

    t = Table(
        "run id",
        "gate",
        "verdict",
        "exit",
        "started",
        "s",
        "backend",
        "device",
        box=None,
        pad_edge=False,
    )
    for r in rows:
        v = {0: "pass", 1: "fail"}.get(r["exit_code"], "error")
        t.add_row(r["id"], r["gate"], v, str(r["exit_code"]), r["started_at"][:19], f"{r['duration_s'] or 0:.1f}",
                  r["backend"] or "-", r["device"] or "-")  # fmt: skip
    console().print(t)


def show(
    run_id: str = typer.Argument(..., help="Run id (see `gate runs`)."),
    json: options.Json = False,
) -> None:
    """Show one run: its row, metrics, criteria and where its receipt is."""
    with guard():
        from shell.safety import plain_name

        plain_name(run_id, "run id")
        row = ledger.get_run(paths.ledger_path(), run_id)
        if row is None:
            raise BadInput(f"unknown run id {run_id!r}")
    row["receipt"] = str(paths.run_dir(run_id) / "receipt.jsonl")
    bundle = paths.run_dir(run_id) / "bundle"
    row["bundle"] = str(bundle) if bundle.is_dir() else None
    if json:
        emit_json(row)
        return
    out = console()
    for k in (
        "id",
        "gate",
        "started_at",
        "duration_s",
        "exit_code",
        "backend",
        "device",
        "git_commit",
        "config_hash",
    ):
        out.print(f"{k:<12} {row[k]}")
    for m in row["metrics"]:
        out.print(f"metric      {m['name']} = {m['value']:.6g} {m['unit'] or ''}")
    for c in row["criteria"]:
        out.print(
            f"criterion   {c['name']} = {c['value']:.6g} {c['op']} {c['threshold']:g}: {'ok' if c['passed'] else 'FAILED'}"
        )
    for a in row["artifacts"] or []:
        out.print(f"artifact    {a}")
    out.print(f"receipt     {row['receipt']}")
    if row["bundle"]:
        out.print(f"bundle      {row['bundle']}")


def export(
    fmt: str = typer.Option(
        "jsonl",
        "--format",
        help="Output format: jsonl (one run a line, with metrics and criteria).",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write here (atomically) instead of stdout."
    ),
) -> None:
    """Export every run with its metrics and criteria."""
    with guard():
        if fmt != "jsonl":
            raise BadInput(f"--format {fmt!r}: only jsonl is supported")
        if out is not None:
            from shell.safety import check_out

            check_out(out, "--out")
        rows = ledger.query_runs(paths.ledger_path())
        full = [ledger.get_run(paths.ledger_path(), r["id"]) for r in reversed(rows)]
        data = b"".join(orjson.dumps(r) + b"\n" for r in full)
        if out is None:
            typer.echo(data.decode(), nl=False)
            return
        from shell.atomic import write_bytes_atomic

        write_bytes_atomic(out, data)
    console(True).print(f"exported {len(full)} runs to {out}")


def rebuild(json: options.Json = False) -> None:
    """Rebuild .gate/ledger.db from the runs' receipts (.gate/runs/*/receipt.jsonl), atomically."""
    with guard():
        try:
            n, skipped = ledger.rebuild(paths.ledger_path(), paths.runs_dir())
        except OSError as e:
            raise BadInput(
                f"{paths.ledger_path()}: cannot rebuild it there: {e.strerror}"
            ) from None
    if json:
        emit_json({"runs": n, "skipped": skipped, "ledger": str(paths.ledger_path())})
        return
    out = console()
    for line in skipped:
        out.print(f"skipped {line}")
    out.print(f"ledger: {n} runs from receipts into {paths.ledger_path()}")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.command("show")(show)
    app.command("export")(export)
    group = typer.Typer(
        name="ledger",
        help="The run ledger (.gate/ledger.db): rebuild it from the receipts.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    group.command("rebuild")(rebuild)
    app.add_typer(group)
