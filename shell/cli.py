"""The `gate` command: composes the command groups; each lives in shell/commands/."""

from __future__ import annotations

import sys

import typer

from shell.commands import golden_cmds, ledger_cmds, registry_cmds, run_cmds


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="gate",
        help="Executable milestone gates for game world models and pixels-only RL agents. "
        "Exit codes: 0 passed, 1 a criterion failed, 2 bad input, 3 a prerequisite missing here.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    registry_cmds.register(app)
    golden_cmds.register(app)
    ledger_cmds.register(app)
    run_cmds.register(app)
    return app


app = build_app()


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors become one line on stderr and exit 2."""
    try:
        rv = typer.main.get_command(app).main(args=argv, prog_name="gate", standalone_mode=False)
    except typer.Abort:
        print("gate: error: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as e:  # click's usage errors, vendored by typer
        msg = e.format_message() if hasattr(e, "format_message") else str(e)
        print(f"gate: error: {msg}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 2))
    sys.exit(rv if isinstance(rv, int) else 0)
