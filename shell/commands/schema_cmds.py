"""gate schema NAME: the JSON Schema of a file worldgate writes (receipts, artifact metadata, ledger rows)."""

from __future__ import annotations

import typer

from shell.output import emit_json, guard


def schema(
    name: str = typer.Argument(
        None, help="receipt, artifact-meta, model-meta or ledger-run; none: list them."
    ),
) -> None:
    """Print the JSON Schema (draft 2020-12) of one published file format."""
    from shell.errors import BadInput
    from shell.schemas import SCHEMAS, json_schema

    with guard():
        if name is None:
            for k, (what, _) in SCHEMAS.items():
                print(f"{k:<14} {what}")
            return
        if name not in SCHEMAS:
            raise BadInput(f"unknown schema {name!r}; known: {', '.join(SCHEMAS)}")
        emit_json(json_schema(name))


def register(app: typer.Typer) -> None:
    app.command("schema")(schema)
