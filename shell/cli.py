"""The `gate` command: composes the command groups; each lives in shell/commands/."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

import typer

from shell.commands import (
    data_cmds,
    golden_cmds,
    keys_cmds,
    ledger_cmds,
    lineage_cmds,
    model_cmds,
    play_cmds,
    registry_cmds,
    run_cmds,
    schema_cmds,
    serve_cmds,
    zoo_cmds,
)

if TYPE_CHECKING:
    import click


def _plain_defaults() -> None:
    """typer escapes `[default: ...]` for rich whenever rich is installed, even with rich markup off,
    so plain help showed `\\[default: 3000]`: undo that escape in every option's and argument's help."""
    import typer.core

    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        if getattr(cls.get_help_record, "_plain", False):
            continue
        orig = cls.get_help_record

        def get_help_record(self, ctx, _orig=orig):  # type: ignore[no-untyped-def]
            rec = _orig(self, ctx)
            return rec if rec is None else (rec[0], rec[1].replace("\\[", "["))

        get_help_record._plain = True  # type: ignore[attr-defined]
        cls.get_help_record = get_help_record  # type: ignore[method-assign]


def _not_utf8(args: list[str]) -> str | None:
    """Receipts, the ledger and messages are UTF-8: an argument or GATE_* path that is not (a file name
    in another encoding) is refused up front, naming it with its bytes escaped."""
    import os

    from shell.safety import printable

    for where, text in [*((f"argument {i}", a) for i, a in enumerate(args, 1)),
                        *((k, os.environ.get(k, "")) for k in ("GATE_ROOT", "GATE_STATE"))]:  # fmt: skip
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where} '{printable(text)}': not valid UTF-8 (rename the file, or give a UTF-8 path)"
    return None


def build_app() -> typer.Typer:
    _plain_defaults()
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
    play_cmds.register(app)
    zoo_cmds.register(app)
    return app


app = build_app()


@functools.cache
def _command() -> click.Command:
    """app as a click command: typer reads every command's signature to convert it (~30 ms), so it is
    converted once per process, not on each main() call (the corpus and the guide call main in-process)."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors become one line on stderr and exit 2; an unexpected exception one line
    and exit 4 (GATE_DEBUG=1 shows its traceback)."""
    import os

    import click

    from shell.output import error_line

    args = sys.argv[1:] if argv is None else list(argv)
    if bad := _not_utf8(args):
        error_line(bad)
        sys.exit(2)
    try:
        rv = _command().main(args=args, prog_name="gate", standalone_mode=False)
    except click.exceptions.Abort:
        error_line("aborted")
        sys.exit(130)
    except click.exceptions.ClickException as e:  # usage errors: one line, not click's usage block
        error_line(e.format_message().replace("\n", " ").replace(" (env var: 'None')", ""))
        sys.exit(e.exit_code)
    except OSError as e:
        from shell.safety import os_error_line

        if os.environ.get("GATE_DEBUG") or (msg := os_error_line(e)) is None:
            raise
        error_line(msg)
        sys.exit(2)
    except Exception as e:
        if os.environ.get("GATE_DEBUG"):
            raise
        error_line(f"crashed: {type(e).__name__}: {e} (GATE_DEBUG=1 shows the traceback)")
        sys.exit(4)
    sys.exit(rv if isinstance(rv, int) else 0)
