"""How commands speak: one JSON document on stdout with --json (text to stderr), else text on stdout.
Errors are one line on stderr and an exit code; no traceback."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import typer

from shell.errors import GateError


def emit_json(doc: Any) -> None:
    sys.stdout.write(
        orjson.dumps(
            doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY, default=str
        ).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def console(json: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if json else sys.stdout
    width = None if stream.isatty() else 200  # piped: never cut run ids to fit 80 columns
    return Console(stderr=json, highlight=False, soft_wrap=True, width=width)


def error_line(message: str) -> None:
    from shell.safety import printable

    print(f"gate: error: {printable(message)}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Turn a GateError into its one-line message and exit code."""
    try:
        yield
    except GateError as e:
        error_line(str(e))
        raise typer.Exit(e.exit_code) from None
    except OSError as e:  # a file the user named cannot be read or written: one line, exit 2
        from shell.safety import os_error_line

        if (msg := os_error_line(e)) is None:
            raise
        error_line(msg)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        error_line("interrupted")
        raise typer.Exit(130) from None
