"""gate models: the registered world models and codecs (entry-point group `worldgate.models`).

Torch-free like `gate list`: it reads the entries, never loads a model.
"""

from __future__ import annotations

import typer

from shell import options
from shell.output import console, emit_json, guard


def models(json: options.Json = False) -> None:
    """List the registered models: name, protocol (codec for m1, world_model for m2+), what it loads."""
    from shell.models import KINDS, load_models

    with guard():
        reg = load_models()
        rows = [
            {"name": m.name, "kind": m.kind, "protocol": KINDS[m.kind], "arches": list(m.arches),
             "golden": m.golden or None, "trainer": m.trainer or None, "summary": m.summary}
            for m in reg.entries.values()
        ]  # fmt: skip
        if json:
            emit_json({"models": rows, "problems": reg.problems})
            return
        from rich.table import Table

        t = Table("name", "kind", "loads", "trained by", "summary", box=None, pad_edge=False)
        for r in rows:
            t.add_row(
                r["name"], r["kind"], ",".join(r["arches"]) or "-", r["trainer"] or "-",
                r["summary"],
            )  # fmt: skip
        out = console()
        out.print(t)
        for p in reg.problems:
            out.print(f"[yellow]warning:[/] {p}")


def register(app: typer.Typer) -> None:
    app.command("models")(models)
