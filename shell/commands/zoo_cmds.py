"""gate zoo: model cards, local (.gate/zoo/) by default, a shared folder or URL with --zoo / GATE_ZOO.

`list` the entries (the project's goldens first), `show NAME` one card with the gates it passed (from
the ledger), `add PATH_OR_RUN --name NAME` a model artifact (a folder, or a run id whose run holds one)
with its card, `compare NAME...` a table of their figures and a picture of it (matplotlib PNG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shell import options
from shell.output import console, emit_json, guard

Zoo = Annotated[
    str | None,
    typer.Option("--zoo", help="Zoo folder or URL (default: GATE_ZOO, else .gate/zoo/)."),
]


def _full(card: dict[str, Any]) -> dict[str, Any]:
    from shell import zoo

    return {**card, "gates": zoo.gates(card)}


def list_(zoo: Zoo = None, json: options.Json = False) -> None:
    """List the zoo's model cards: the project's goldens first, then the zoo's entries."""
    from shell import zoo as z

    with guard():
        cards = [_full(c) for c in z.entries(zoo)]
    if json:
        emit_json({"zoo": z.location(zoo), "models": cards})
        return
    say = console()
    say.print(f"zoo: {z.location(zoo)} ({len(cards)} models, goldens first)")
    say.print(f"  {'name':<26}{'kind':<12}{'params':>10}  {'game':<12}{'steps':>7}  gates")
    for c in cards:
        gates = " ".join(f"{g}:{r['verdict']}" for g, r in c["gates"].items()) or "-"
        params = f"{c['parameters']:,}" if c.get("parameters") else "?"
        steps = c.get("training", {}).get("steps") or "?"
        say.print(f"  {c['name']:<26}{c['kind']:<12}{params:>10}  {c.get('game', ''):<12}"
                  f"{steps!s:>7}  {gates}")  # fmt: skip


def show(name: Annotated[str, typer.Argument(help="A zoo entry.")], zoo: Zoo = None,
         json: options.Json = False) -> None:  # fmt: skip
    """Show one model card: what it is, parameters, data and its hash, budget, license, gates, files."""
    import orjson

    from shell import zoo as z

    with guard():
        card = _full(z.get(name, zoo))
    if json:
        emit_json(card)
        return
    print(orjson.dumps(card, option=orjson.OPT_INDENT_2).decode())


def add(
    path: Annotated[
        str, typer.Argument(help="A model artifact folder, or RUN_ID (its candidate).")
    ],
    name: Annotated[str, typer.Option("--name", help="The entry's name in the zoo.")],
    summary: Annotated[str, typer.Option("--summary", help="What it is, in one line.")] = "",
    license: Annotated[
        str, typer.Option("--license", help="The weights' license.")
    ] = "unspecified",
    zoo: Zoo = None,
    force: options.Force = False,
) -> None:
    """Add a model artifact (folder or run id) to the zoo with its card."""
    from shell import zoo as z
    from shell.safety import plain_name

    with guard():
        plain_name(name, "--name")
        folder = _model_of(path)
        card = z.add(folder, name, summary, license, zoo, force)
    console().print(
        f"zoo: added {card['name']} ({card['arch']}, {card['parameters']:,} parameters)"
    )
    print(Path(z.location(zoo)) / name)


def _model_of(given: str) -> Path:
    """A folder with meta.json, or a run id whose run folder holds exactly one model artifact."""
    from shell import paths
    from shell.errors import BadInput
    from shell.safety import plain_name

    p = Path(given)
    if (p / "meta.json").is_file():
        return p
    if p.exists() or "/" in given:
        raise BadInput(f"{given}: no such model artifact folder (with a meta.json), nor a run id")
    run = paths.run_dir(plain_name(given, "run id"))
    found = [
        m.parent for m in sorted(run.glob("*/meta.json")) if not m.parent.name.startswith("resume")
    ]
    found = [f for f in found if f.name != "dataset"]
    if len(found) != 1:
        what = ", ".join(f.name for f in found) or "none"
        raise BadInput(
            f"{given}: needs one model artifact in {run} (found: {what}); name the folder"
        )
    return found[0]


def compare(
    names: Annotated[list[str], typer.Argument(help="Zoo entries to compare (two or more).")],
    out: Annotated[Path | None, typer.Option("--out", help="The picture (PNG).")] = None,
    zoo: Zoo = None,
    json: options.Json = False,
) -> None:
    """Compare zoo entries: a table of their parameters, budgets and figures, and its picture."""
    from shell import pictures
    from shell import zoo as z
    from shell.atomic import write_bytes_atomic
    from shell.errors import BadInput

    with guard():
        if len(names) < 2:
            raise BadInput("gate zoo compare: name two or more entries")
        if out is not None:
            from shell.safety import check_out

            check_out(out, "--out")
        cards = [_full(z.get(n, zoo)) for n in names]
        rows = {c["name"]: _figures(c) for c in cards}
        keys = sorted({k for r in rows.values() for k in r})
        dest = (
            out or Path(z.location(zoo) if not z.is_url(z.location(zoo)) else ".") / "compare.png"
        )
        if z.is_url(str(dest)):
            raise BadInput("--out: a file here (the zoo is a URL)")
        shown = [k for k in keys if "psnr" in k] or [k for k in keys if k.endswith("mse")]
        groups = {k: {n: r[k] for n, r in rows.items() if k in r} for k in shown}
        pic = pictures.bars(groups or {"parameters (M)": {n: r.get("parameters_M", 0) for n, r in rows.items()}},
                            "zoo compare: " + " vs ".join(names))  # fmt: skip
        write_bytes_atomic(dest, pic)
    if json:
        emit_json({"models": rows, "picture": str(dest)})
        return
    width = max(len(k) for k in keys) + 2 if keys else 10
    print(f"{'':<{width}}" + "".join(f"{n[:22]:>24}" for n in rows))
    games = "".join(f"{str(c.get('game', ''))[:22]:>24}" for c in cards)
    print(f"{'game (held-out figures are its)':<{width}}{games}")
    for k in keys:
        cells = "".join(f"{_fmt(r.get(k)):>24}" for r in rows.values())
        print(f"{k:<{width}}{cells}")
    console().print(f"picture: {dest}")


def _figures(card: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    if card.get("parameters"):
        out["parameters_M"] = card["parameters"] / 1e6
    steps = card.get("training", {}).get("steps")
    if isinstance(steps, int | float):
        out["train_steps"] = float(steps)
    for k, v in card.get("heldout", {}).items():
        if isinstance(v, int | float):
            out[k] = float(v)
    for g, r in card.get("gates", {}).items():
        out[f"{g}_passed"] = 1.0 if r["verdict"] == "pass" else 0.0
        for k, v in r.get("figures", {}).items():
            if isinstance(v, int | float):
                out[f"{g}.{k}"] = float(v)
    return out


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}"


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name="zoo",
        help="The model zoo: model cards (goldens first), local, a shared folder or a URL.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    group.command("list")(list_)
    group.command("show")(show)
    group.command("add")(add)
    group.command("compare")(compare)
    app.add_typer(group)
