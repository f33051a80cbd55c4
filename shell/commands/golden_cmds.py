"""gate approve: promote a candidate artifact to golden, or roll an approval back."""

from __future__ import annotations

import typer

from shell import options
from shell.output import console, emit_json, guard
from shell.registry import load_gates


def approve(
    gate_id: str = typer.Argument(..., help="Gate id whose artifacts to approve."),
    run: str | None = typer.Option(
        None, "--run", help="Run id whose candidate artifacts become golden."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Only this artifact of the run (default: all)."
    ),
    force: options.Force = False,
    rollback: str | None = typer.Option(
        None, "--rollback", help="Restore the previous golden of this artifact name."
    ),
    to: int | None = typer.Option(
        None, "--to", help="With --rollback: the version to restore (default: the one before)."
    ),
    json: options.Json = False,
) -> None:
    """Promote a run's candidate artifacts to artifacts/<gate>/<name>/ (refused in CI; --force to replace)."""
    from shell import golden

    with guard():
        load_gates().get(gate_id)
        if rollback:
            done = [golden.rollback(gate_id, rollback, to)]
        elif run:
            done = golden.approve(gate_id, run, name, force)
        else:
            from shell.errors import BadInput

            raise BadInput("approve needs --run RUN_ID (or --rollback NAME)")
    if json:
        emit_json({"approved": done})
        return
    out = console()
    for d in done:
        out.print(f"{d['action']}: {gate_id}/{d['name']} is now v{d['version']} at {d['path']}")
    if done and done[0]["action"] == "approve":
        out.print(f"to undo: gate approve {gate_id} --rollback {done[0]['name']}")


def register(app: typer.Typer) -> None:
    app.command("approve")(approve)
