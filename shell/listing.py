"""What `gate list`, `gate status` and `gate models` show, as documents and as plain text tables.

Shared by the Typer commands and the fast path (shell/fast.py), which answers these before any CLI
framework loads; nothing here imports typer, rich, pydantic or torch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def list_doc() -> dict[str, Any]:
    from shell.registry import load_gates

    reg = load_gates()
    rows = [
        {"id": g.id, "name": g.name, "state": "built" if g.built else "planned",
         "prerequisites": list(g.prerequisites), "source": g.source,
         "criteria": [str(c) for c in g.criteria]}
        for g in reg.gates.values()
    ]  # fmt: skip
    return {"gates": rows, "problems": reg.problems}


def list_text(doc: dict[str, Any]) -> str:
    rows = [
        [r["id"], r["name"], r["state"], ",".join(r["prerequisites"]) or "-", r["source"]]
        for r in doc["gates"]
    ]
    out = table(["id", "name", "state", "needs", "source"], rows)
    return out + "".join(f"\nwarning: {p}" for p in doc["problems"])


def _stale(gate: Any, run: dict | None) -> str | None:
    """What changed since the gate's last run, in words; None when nothing did (or never run)."""
    if run is None or not run.get("inputs") or not gate.built:
        return None
    from shell import fingerprint

    now = fingerprint.inputs(
        gate, run.get("config") or {}, with_config=False
    )  # the run's own config
    before = {k: v for k, v in run["inputs"].items() if k != "config"}
    return ", ".join(fingerprint.changes(before, now)) or None


def status_doc() -> dict[str, Any]:
    from shell import ledger, paths
    from shell.golden import golden_version
    from shell.registry import load_gates

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
    verdicts = {r["id"]: r["last_verdict"] for r in rows}
    composites = [
        {"id": c.id, "name": c.name, "source": c.source, "members": list(c.members),
         "question": c.question, "verdict": c.verdict(verdicts)}
        for c in reg.composites.values()
    ]  # fmt: skip
    return {
        "gates": rows,
        "composites": composites,
        "passed": passed,
        "total": len(rows),
        "progress": passed / len(rows) if rows else 0.0,
    }


def status_text(doc: dict[str, Any]) -> str:
    rows = [
        [r["id"], r["name"], r["state"], r["last_verdict"] or "-", (r["when"] or "-")[:19],
         r["run_id"] or "-", f"v{r['golden_version']}" if r["golden_version"] else "-",
         ",".join(r["unlocks"]) or "-"]
        for r in doc["gates"]
    ]  # fmt: skip
    out = [table(["id", "name", "state", "last", "when", "run id", "golden", "unlocks"], rows), ""]
    out += [
        f"{c['id']:<9} {c['verdict']:<8} {c['name']}: {c['question']} ({', '.join(c['members'])})"
        for c in doc["composites"]
    ]
    out += [
        f"stale {r['id']}: {r['stale']} (gate all --changed re-runs it)"
        for r in doc["gates"]
        if r["stale"]
    ]
    out.append(f"progress: {doc['passed']}/{doc['total']} passed ({100 * doc['progress']:.0f}%)")
    return "\n".join(out)


def models_doc() -> dict[str, Any]:
    from shell.models import KINDS, load_models

    reg = load_models()
    rows = [
        {"name": m.name, "kind": m.kind, "protocol": KINDS[m.kind], "arches": list(m.arches),
         "golden": m.golden or None, "trainer": m.trainer or None, "summary": m.summary}
        for m in reg.entries.values()
    ]  # fmt: skip
    return {"models": rows, "problems": reg.problems}


def models_text(doc: dict[str, Any]) -> str:
    rows = [
        [r["name"], r["kind"], ",".join(r["arches"]) or "-", r["trainer"] or "-", r["summary"]]
        for r in doc["models"]
    ]
    out = table(["name", "kind", "loads", "trained by", "summary"], rows)
    return out + "".join(f"\nwarning: {p}" for p in doc["problems"])


LISTINGS = {  # command -> (document, text)
    "list": (list_doc, list_text),
    "status": (status_doc, status_text),
    "models": (models_doc, models_text),
}


def show(command: str, json: bool) -> None:
    """Print one listing command's answer: the JSON document, or the text table."""
    doc_of, text_of = LISTINGS[command]
    doc = doc_of()
    if json:
        import orjson

        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(text_of(doc) + "\n")
