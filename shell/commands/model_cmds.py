"""gate models: the registered world models and codecs (entry-point group `worldgate.models`).

Torch-free like `gate list`: it reads the entries, never loads a model.
"""

from __future__ import annotations

import typer

from shell import options
from shell.output import guard


def models(json: options.Json = False) -> None:
    """List the registered models: name, protocol (codec for m1, world_model for m2+), what it loads."""
    from shell.listing import show

    with guard():
        show("models", json)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
