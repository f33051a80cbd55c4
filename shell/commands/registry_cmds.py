"""gate list, gate status, gate backends: what is registered and how far the roadmap has come.

list and status are rendered by shell/listing.py, which the fast path (shell/fast.py) shares."""

from __future__ import annotations

import typer

from shell import options
from shell.listing import show
from shell.output import console, emit_json, guard


def gate_list(json: options.Json = False) -> None:
    """List every registered gate: id, name, built or planned, prerequisites, source milestone."""
    with guard():
        show("list", json)


def status(json: options.Json = False) -> None:
    """The capability matrix: each gate's last verdict, when, run id, golden version, what it unlocks."""
    with guard():
        show("status", json)


def backends(
    games: str | None = typer.Option(
        None, "--games", help="List every game of this backend (ale, builtin), one a line."
    ),
    json: options.Json = False,
) -> None:
    """Which backends and devices are available here, and why not where not."""
    from shell.registry import load_backends

    if games is not None:
        _games(games, json)
        return
    with guard():
        rows = []
        for name, b in load_backends().items():
            try:
                why = b.available()
            except Exception as e:  # a backend's probe must not take the listing down
                why = f"probe failed: {e}"
            rows.append(
                {"name": name, "available": why is None, "why_not": why, "summary": b.summary}
            )
        import torch

        cuda = torch.cuda.is_available()
        devices = [{"name": "cpu", "available": True, "why_not": None}, {
            "name": "cuda", "available": cuda,
            "why_not": None if cuda else "torch.cuda.is_available() is False (no GPU or driver here)",
            "detail": torch.cuda.get_device_name(0) if cuda else None,
        }]  # fmt: skip
        if json:
            emit_json({"backends": rows, "devices": devices})
            return
        out = console()
        for r in rows:
            state = (
                "[green]available[/]" if r["available"] else f"[red]unavailable[/]: {r['why_not']}"
            )
            out.print(f"{r['name']:<10} {state}  {r['summary']}")
        for d in devices:
            state = (
                "[green]available[/]" if d["available"] else f"[red]unavailable[/]: {d['why_not']}"
            )
            out.print(f"device {d['name']:<5} {state}")


def _games(backend: str, json: bool) -> None:
    from shell.backends.games import games as known
    from shell.errors import BadInput, Unavailable
    from shell.registry import get_backend

    with guard():
        entry = get_backend(backend)
        if (why := entry.available()) is not None:
            raise Unavailable(f"backend {backend}: {why}")
        ids = known(backend)
        if ids is None:
            raise BadInput(
                f"--games {backend}: this backend has no fixed list of games "
                "(pyboy plays any ROM, gym any Gymnasium env id)"
            )
    if json:
        emit_json({"backend": backend, "games": ids})
        return
    print("\n".join(ids), flush=True)


def register(app: typer.Typer) -> None:
    app.command("list")(gate_list)
    app.command("status")(status)
    app.command("backends")(backends)
