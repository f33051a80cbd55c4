"""A run's lineage, both ways, from the ledger and the artifacts' metadata (no file is re-read to
decide anything: hashes recorded at run time are compared).

- used: every file the run's verdict depended on (the ledger's `inputs`, see shell/fingerprint.py),
  grouped by kind (artifact, trace, ROM, dataset, code, lock), with the run that produced each artifact
  (its metadata's `run_id`);
- produced: the artifacts the run wrote (candidates) and the goldens approved from it;
- used_by: later runs whose recorded inputs include a file this run produced, by sha256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from shell import ledger, paths
from shell.errors import BadInput


def _kind(rel: str) -> str:
    parts = Path(rel).parts
    if rel == "config":
        return "config"
    if rel.endswith(".lock"):
        return "lock"
    if parts and parts[0] == "artifacts":
        return "artifact"
    if parts and parts[0] == "traces":
        return "trace"
    if parts and parts[0] == "roms" or rel.endswith((".gb", ".gbc")):
        return "rom"
    if parts and parts[0] == ".gate":
        return "dataset" if "dataset" in rel or rel.endswith(".npy") else "artifact"
    if rel.endswith(".py"):
        return "code"
    return "file"


def _meta_of(folder: Path) -> dict[str, Any] | None:
    """An artifact folder's metadata (meta.json or the one *.meta.json), None when it has none."""
    cands = [folder / "meta.json", *sorted(folder.glob("*.meta.json"))]
    for c in cands:
        if c.is_file():
            try:
                doc = orjson.loads(c.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                return None
            return doc if isinstance(doc, dict) else None
    return None


def _producer(rel: str, root: Path) -> str | None:
    p = root / rel
    meta = _meta_of(p.parent) if p.parent.is_dir() else None
    return meta.get("run_id") if meta else None


def _produced(run: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for folder in run.get("artifacts") or []:
        meta = _meta_of(Path(folder))
        files = (meta or {}).get("files") or {}
        for name, entry in sorted(files.items()):
            sha = entry.get("sha256") if isinstance(entry, dict) else None
            out.append({"path": str(Path(folder) / name), "sha256": sha})
    return out


def _approvals(run_id: str, root: Path) -> list[dict[str, Any]]:
    out = []
    for log in sorted((root / "artifacts").glob("*/approvals.jsonl")):
        for line in log.read_bytes().splitlines():
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and rec.get("run_id") == run_id:
                out.append({"gate": log.parent.name, "name": rec.get("name"),
                            "version": rec.get("version"), "action": rec.get("action")})  # fmt: skip
    return out


def lineage(run_id: str) -> dict[str, Any]:
    db = paths.ledger_path()
    run = ledger.get_run(db, run_id)
    if run is None:
        raise BadInput(f"run {run_id!r}: not in the ledger ({db}); see gate runs")
    root = paths.root()
    inputs: dict[str, str] = run.get("inputs") or {}
    used = [
        {"path": rel, "sha256": sha, "kind": _kind(rel),
         "produced_by": _producer(rel, root) if _kind(rel) == "artifact" else None}
        for rel, sha in sorted(inputs.items())
        if rel != "config"
    ]  # fmt: skip
    produced = _produced(run)
    shas = {p["sha256"] for p in produced if p["sha256"]}
    used_by = []
    for other in ledger.query_runs(db):
        if other["id"] == run_id or not other.get("inputs"):
            continue
        hits = sorted(rel for rel, sha in other["inputs"].items() if sha in shas)
        if hits:
            used_by.append({"run_id": other["id"], "gate": other["gate"], "via": hits})
    return {
        "run_id": run_id, "gate": run["gate"], "kind": run.get("kind"),
        "exit_code": run.get("exit_code"), "used": used, "produced": produced,
        "approved": _approvals(run_id, root), "used_by": used_by,
    }  # fmt: skip
