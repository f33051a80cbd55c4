"""gate lineage RUN_ID: what a run used (artifacts, traces, ROMs, datasets, the runs that made them)
and what it produced, and which later runs used that."""

from __future__ import annotations

import typer

from shell import options
from shell.output import console, emit_json, guard


def lineage(
    run_id: str = typer.Argument(..., help="A run id (see gate runs)."),
    json: options.Json = False,
    code: bool = typer.Option(False, "--code", help="List the source files it depended on too."),
) -> None:
    """A run's inputs and outputs, both ways: what it used and who made it, what it made and who used it."""
    from shell.lineage import lineage as build

    with guard():
        doc = build(run_id)
    if json:
        emit_json(doc)
        return
    out = console()
    out.print(f"run {doc['run_id']} ({doc['gate']}, {doc['kind']}, exit {doc['exit_code']})")
    out.print("used:")
    shown = [u for u in doc["used"] if code or u["kind"] != "code"]
    for u in shown:
        by = f"  <- run {u['produced_by']}" if u["produced_by"] else ""
        out.print(f"  {u['kind']:<8} {u['path']}  {u['sha256'][:12]}{by}")
    hidden = len(doc["used"]) - len(shown)
    if hidden:
        out.print(f"  ({hidden} source files; --code lists them)")
    out.print("produced:" if doc["produced"] else "produced: nothing")
    for p in doc["produced"]:
        out.print(f"  {p['path']}  {(p['sha256'] or '?')[:12]}")
    for a in doc["approved"]:
        out.print(f"  approved: {a['gate']}/{a['name']} v{a['version']} ({a['action']})")
    out.print("used by:" if doc["used_by"] else "used by: no later run")
    for u in doc["used_by"]:
        out.print(f"  run {u['run_id']} ({u['gate']}) via {', '.join(u['via'][:3])}")


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
