"""Golden artifacts: `gate approve` is the only way a candidate becomes golden.

artifacts/<gate>/<name>/ is the golden; versions it replaced are kept at
artifacts/<gate>/.history/<name>/v<N>/ so an approval can be rolled back; artifacts/<gate>/approvals.jsonl
logs every approval and rollback (the golden version is the count of its lines for that name).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import orjson

from shell import paths
from shell.errors import BadInput
from shell.receipt import read_receipt


def verify_files(path: Path, meta_name: str) -> dict[str, Any]:
    """Check every file listed in the metadata against its hash and size; -> the metadata as a dict."""
    from shell.store import sha256_file

    mf = path / meta_name
    if not mf.is_file():
        raise BadInput(f"{mf}: missing")
    try:
        meta = orjson.loads(mf.read_bytes())
        listing = meta["files"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise BadInput(f"{mf}: not artifact metadata (no files listing)") from None
    present = {p.name for p in path.iterdir() if p.is_file()} - {meta_name}
    for extra in sorted(present - set(listing)):
        raise BadInput(f"{path / extra}: file not listed in {meta_name}")
    for name, entry in listing.items():
        fp = path / name
        if not fp.is_file():
            raise BadInput(f"{fp}: missing (listed in {meta_name})")
        if fp.stat().st_size != entry.get("size") or sha256_file(fp) != entry.get("sha256"):
            raise BadInput(f"{fp}: does not match its hash in {meta_name}")
    return meta


def _log(gate: str) -> Path:
    return paths.golden_dir(gate) / "approvals.jsonl"


def approvals(gate: str) -> list[dict[str, Any]]:
    p = _log(gate)
    return [orjson.loads(x) for x in p.read_bytes().splitlines() if x.strip()] if p.exists() else []


def golden_version(gate: str, name: str | None = None) -> int:
    return sum(1 for a in approvals(gate) if name is None or a["name"] == name)


def _append(gate: str, rec: dict[str, Any]) -> None:
    with open(_log(gate), "ab") as f:
        f.write(orjson.dumps(rec) + b"\n")
        f.flush()
        os.fsync(f.fileno())


def _copy_in(src: Path, dest: Path) -> None:
    from shell.store import atomic_replace_dir, recover

    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
    shutil.copytree(src, tmp)
    atomic_replace_dir(tmp, dest)


def _refuse_in_ci() -> None:
    if os.environ.get("CI"):
        raise BadInput("CI is set: approvals are never written in CI")


def run_artifacts(run_id: str) -> tuple[str, list[tuple[str, Path, str]]]:
    """-> (gate id, [(name, path, meta file name)]) for the candidate artifacts a run wrote."""
    rdir = paths.run_dir(run_id)
    rec = rdir / "receipt.jsonl"
    if not rec.is_file():
        raise BadInput(f"unknown run id {run_id!r} (no {rec})")
    events = read_receipt(rec)
    gate = events[0]["gate"] if events else "?"
    found = [
        (e["name"], Path(e["path"]), e.get("meta", "meta.json"))
        for e in events
        if e["event"] == "artifact" and e.get("kind") != "picture"
    ]
    return gate, found


def approve(
    gate: str, run_id: str, name: str | None = None, force: bool = False
) -> list[dict[str, Any]]:
    from shell.clock import utc_now
    from shell.store import sha256_bytes

    _refuse_in_ci()
    run_gate, found = run_artifacts(run_id)
    if run_gate != gate:
        raise BadInput(f"run {run_id} belongs to gate {run_gate}, not {gate}")
    if name is not None:
        found = [f for f in found if f[0] == name]
    if not found:
        raise BadInput(
            f"run {run_id} wrote no artifact{' named ' + repr(name) if name else ''} to approve"
        )
    for n, src, meta_name in found:  # check everything before writing anything
        verify_files(src, meta_name)
        if paths.golden_dir(gate, n).exists() and not force:
            raise BadInput(
                f"{paths.golden_dir(gate, n)}: a golden exists; pass --force to replace it"
            )
    done = []
    for n, src, meta_name in found:
        dest = paths.golden_dir(gate, n)
        version = golden_version(gate, n)
        if dest.exists():
            _copy_in(dest, paths.golden_dir(gate) / ".history" / n / f"v{version}")
        _copy_in(src, dest)
        rec = {
            "ts": utc_now(), "action": "approve", "name": n, "run_id": run_id, "version": version + 1,
            "meta_sha256": sha256_bytes((dest / meta_name).read_bytes()),
        }  # fmt: skip
        _append(gate, rec)
        done.append({**rec, "path": str(dest)})
    return done


def rollback(gate: str, name: str, to: int | None = None) -> dict[str, Any]:
    """Make an earlier version the golden again (as a new version, so the log only grows)."""
    from shell.clock import utc_now

    _refuse_in_ci()
    current = golden_version(gate, name)
    if current == 0:
        raise BadInput(f"{paths.golden_dir(gate, name)}: nothing approved to roll back")
    to = current - 1 if to is None else to
    src = paths.golden_dir(gate) / ".history" / name / f"v{to}"
    if not src.is_dir():
        raise BadInput(f"{src}: no such earlier version of {gate}/{name}")
    dest = paths.golden_dir(gate, name)
    _copy_in(dest, paths.golden_dir(gate) / ".history" / name / f"v{current}")
    _copy_in(src, dest)
    rec = {
        "ts": utc_now(),
        "action": "rollback",
        "name": name,
        "version": current + 1,
        "restored": to,
    }
    _append(gate, rec)
    return {**rec, "path": str(dest)}
