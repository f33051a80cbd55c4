"""The `gate` command: composes the command groups; each lives in shell/commands/."""

from __future__ import annotations

import sys

import typer

from shell.commands import (
    data_cmds,
    golden_cmds,
    keys_cmds,
    ledger_cmds,
    lineage_cmds,
    model_cmds,
    registry_cmds,
    run_cmds,
    schema_cmds,
    serve_cmds,
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="gate",
        help="Executable milestone gates for game world models and pixels-only RL agents. "
        "Exit codes: 0 passed, 1 a criterion failed, 2 bad input, 3 a prerequisite missing here, "
        "4 the gate crashed.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.1 s per call
    )
    registry_cmds.register(app)
    model_cmds.register(app)
    golden_cmds.register(app)
    ledger_cmds.register(app)
    lineage_cmds.register(app)
    schema_cmds.register(app)
    run_cmds.register(app)
    data_cmds.register(app)
    serve_cmds.register(app), keys_cmds.register(app)
    return app


app = build_app()


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors become one line on stderr and exit 2."""
    import click

    try:
        rv = typer.main.get_command(app).main(args=argv, prog_name="gate", standalone_mode=False)
    except click.exceptions.Abort:
        print("gate: error: aborted", file=sys.stderr)
        sys.exit(130)
    except click.exceptions.ClickException as e:  # usage errors: one line, not click's usage block
        print(f"gate: error: {e.format_message()}", file=sys.stderr)
        sys.exit(e.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
