"""gate keys: API keys of `gate serve` (create, list, revoke), stored hashed in .gate/server.db."""

from __future__ import annotations

from typing import Annotated

import typer

from shell import options
from shell.errors import BadInput
from shell.output import emit_json, guard


def _store():  # noqa: ANN202
    from shell import paths
    from shell.server.store import Store

    return Store(paths.state_dir() / "server.db")


def _rate(text: str | None) -> float | None:
    if text is None:
        return None
    t = text.strip().removesuffix("/s")
    try:
        v = float(t)
    except ValueError:
        raise BadInput(f"--rate {text}: expected requests per second, e.g. 10/s") from None
    if v <= 0:
        raise BadInput(f"--rate {text}: must be > 0")
    return v


def create(
    name: Annotated[str, typer.Option("--name", help="Who or what the key is for.")],
    rate: Annotated[
        str | None,
        typer.Option("--rate", help="Requests per second, e.g. 10/s (default: no limit)."),
    ] = None,
    quota: Annotated[
        int | None,
        typer.Option("--quota", help="Most writes the key may make (default: no quota)."),
    ] = None,
    json: options.Json = False,
) -> None:
    """Create a key; it is printed once, only its sha256 is stored."""
    with guard():
        if quota is not None and quota < 0:
            raise BadInput(f"--quota {quota}: must be >= 0")
        key = _store().create_key(name, _rate(rate), quota)
        if json:
            emit_json(key)
        else:
            print(key["key"])
            print(f"keys: {key['id']} ({name}) created; the key above is shown once", flush=True)


def list_keys(json: options.Json = False) -> None:
    """List keys: id, name, rate, quota, used, revoked (never the key)."""
    with guard():
        keys = _store().list_keys()
        if json:
            emit_json({"keys": keys})
            return
        from shell.listing import table

        rows = [[k["id"], k["name"], f"{k['rate']:g}/s" if k["rate"] else "-",
                 str(k["quota"]) if k["quota"] is not None else "-", str(k["used"]),
                 "revoked" if k["revoked"] else "active"] for k in keys]  # fmt: skip
        print(table(["id", "name", "rate", "quota", "used", "state"], rows))


def revoke(key: Annotated[str, typer.Argument(help="The key's id or name.")]) -> None:
    """Revoke a key by id or name: it gets 403 from then on."""
    with guard():
        n = _store().revoke_key(key)
        if n == 0:
            raise BadInput(f"keys: no active key with id or name {key!r}")
        print(f"keys: revoked {n} key(s) matching {key}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="keys", help="API keys of gate serve: create, list, revoke (stored hashed).",
                        no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # fmt: skip
    group.command("create")(create)
    group.command("list")(list_keys)
    group.command("revoke")(revoke)
    app.add_typer(group)
