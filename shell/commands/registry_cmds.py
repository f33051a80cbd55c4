"""gate list, gate status, gate backends: what is registered and how far the roadmap has come."""

from __future__ import annotations

import typer

from shell import ledger, options, paths
from shell.output import console, emit_json, guard
from shell.registry import load_gates


def gate_list(json: options.Json = False) -> None:
    """List every registered gate: id, name, built or planned, prerequisites, source milestone."""
    with guard():
        reg = load_gates()
        rows = [
            {"id": g.id, "name": g.name, "state": "built" if g.built else "planned",
             "prerequisites": list(g.prerequisites), "source": g.source,
             "criteria": [str(c) for c in g.criteria]}
            for g in reg.gates.values()
        ]  # fmt: skip
        if json:
            emit_json({"gates": rows, "problems": reg.problems})
            return
        from rich.table import Table

        t = Table("id", "name", "state", "needs", "source", box=None, pad_edge=False)
        for r in rows:
            t.add_row(
                r["id"], r["name"], r["state"], ",".join(r["prerequisites"]) or "-", r["source"]
            )
        out = console()
        out.print(t)
        for p in reg.problems:
            out.print(f"[yellow]warning:[/] {p}")


def status_doc() -> dict:
    from shell.golden import golden_version

    reg = load_gates()
    last = ledger.last_by_gate(paths.ledger_path())
    rows = []
    for g in reg.gates.values():
        run = last.get(g.id)
        verdict = None if run is None else {0: "pass", 1: "fail"}.get(run["exit_code"], "error")
        rows.append({
            "id": g.id, "name": g.name, "state": "built" if g.built else "planned",
            "last_verdict": verdict, "when": run["started_at"] if run else None,
            "run_id": run["id"] if run else None, "golden_version": golden_version(g.id),
            "unlocks": reg.unlocks(g.id), "prerequisites": list(g.prerequisites),
            "stale": _stale(g, run),
        })  # fmt: skip
    passed = sum(r["last_verdict"] == "pass" for r in rows)
    last = {r["id"]: r["last_verdict"] for r in rows}
    composites = [
        {"id": c.id, "name": c.name, "source": c.source, "members": list(c.members),
         "question": c.question, "verdict": c.verdict(last)}
        for c in reg.composites.values()
    ]  # fmt: skip
    return {
        "gates": rows,
        "composites": composites,
        "passed": passed,
        "total": len(rows),
        "progress": passed / len(rows) if rows else 0.0,
    }


def _stale(gate, run: dict | None) -> str | None:
    """What changed since the gate's last run, in words; None when nothing did (or never run)."""
    if run is None or not run.get("inputs") or not gate.built:
        return None
    from shell import fingerprint

    now = fingerprint.inputs(gate, run.get("config") or {})
    diff = fingerprint.changes(run["inputs"], now)
    return ", ".join(diff) or None


def status(json: options.Json = False) -> None:
    """The capability matrix: each gate's last verdict, when, run id, golden version, what it unlocks."""
    with guard():
        doc = status_doc()
        if json:
            emit_json(doc)
            return
        from rich.table import Table

        mark = {
            "pass": "[green]pass[/]",
            "fail": "[red]fail[/]",
            "error": "[yellow]error[/]",
            None: "-",
        }
        t = Table(
            "id",
            "name",
            "state",
            "last",
            "when",
            "run id",
            "golden",
            "unlocks",
            box=None,
            pad_edge=False,
        )
        for r in doc["gates"]:
            t.add_row(
                r["id"], r["name"], r["state"], mark[r["last_verdict"]], (r["when"] or "-")[:19],
                r["run_id"] or "-", f"v{r['golden_version']}" if r["golden_version"] else "-",
                ",".join(r["unlocks"]) or "-",
            )  # fmt: skip
        out = console()
        out.print(t)
        for c in doc["composites"]:
            mark = {"go": "[green]go[/]", "no-go": "[red]no-go[/]"}.get(c["verdict"], "pending")
            out.print(
                f"{c['id']:<9} {mark:<8} {c['name']}: {c['question']} ({', '.join(c['members'])})"
            )
        for r in doc["gates"]:
            if r["stale"]:
                out.print(
                    f"[yellow]stale[/] {r['id']}: {r['stale']} (gate all --changed re-runs it)"
                )
        out.print(f"progress: {doc['passed']}/{doc['total']} passed ({100 * doc['progress']:.0f}%)")


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
