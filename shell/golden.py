"""Golden artifacts: `gate approve` is the only way a candidate becomes golden.

artifacts/<gate>/<name>/ is the golden; versions it replaced are kept at
artifacts/<gate>/.history/<name>/v<N>/ so an approval can be rolled back; artifacts/<gate>/approvals.jsonl
logs every approval and rollback (the golden version is the count of its lines for that name).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shell import paths
from shell.errors import BadInput
from shell.receipt import read_receipt


def verify_files(path: Path, meta_name: str) -> dict[str, Any]:
    """Check every file listed in the metadata against its hash and size; -> the metadata as a dict."""
    from shell.safety import read_input_file
    from shell.store import sha256_file

    mf = path / meta_name
    if not mf.is_file():
        raise BadInput(f"{mf}: missing")
    for p in path.iterdir():  # approving copies contents: a link would bring in whatever it names
        if p.is_symlink() or not p.is_file():
            raise BadInput(f"{p}: not a plain file (a link or folder in a candidate artifact)")
    try:
        meta = json.loads(read_input_file(mf, "metadata file", limit=16 << 20))
        listing = meta["files"]
    except (ValueError, KeyError, TypeError):
        listing = None
    if not isinstance(listing, dict) or not all(isinstance(e, dict) for e in listing.values()):
        raise BadInput(f"{mf}: not artifact metadata (no files listing)")
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
    from shell.safety import read_jsonl_records

    p = _log(gate)
    if not p.exists():
        return []
    return read_jsonl_records(p, "approvals log", "name")


def golden_version(gate: str, name: str | None = None) -> int:
    return sum(1 for a in approvals(gate) if name is None or a["name"] == name)


LOCK = ".approve.lock"  # artifacts/.approve.lock: held by one approval or rollback at a time


@contextlib.contextmanager
def approval_lock() -> Iterator[None]:
    """Serialize approvals across processes: version numbering, history and the swap happen under an
    exclusive flock of artifacts/.approve.lock (released by the kernel if the process dies)."""
    import fcntl

    base = paths.root() / "artifacts"
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(base / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise BadInput(f"{base}: cannot write the approval lock there: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _append(gate: str, rec: dict[str, Any]) -> None:
    with open(_log(gate), "ab") as f:
        f.write(json.dumps(rec, separators=(",", ":")).encode() + b"\n")
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
    from shell.safety import inside, plain_name

    plain_name(run_id, "run id")
    rdir = paths.run_dir(run_id)
    rec = rdir / "receipt.jsonl"
    if not rec.is_file():
        raise BadInput(f"unknown run id {run_id!r} (no {rec})")
    events = read_receipt(rec)
    gate = events[0].get("gate", "?") if events else "?"
    found = []
    for e in events:
        if e.get("event") != "artifact" or e.get("kind") == "picture":
            continue
        name, path, meta = e.get("name"), e.get("path"), e.get("meta", "meta.json")
        if not isinstance(path, str):
            raise BadInput(f"{rec}: artifact event without a path")
        plain_name(name, f"{rec}: artifact name")
        plain_name(meta, f"{rec}: artifact metadata file")
        found.append((name, inside(Path(path), rdir, f"{rec}: artifact path"), meta))
    return gate, found


def approve(
    gate: str, run_id: str, name: str | None = None, force: bool = False
) -> list[dict[str, Any]]:
    from shell.safety import plain_name

    _refuse_in_ci()
    # what is wrong with the request (run id, receipt, names, the candidate's files, approvals.jsonl)
    # is refused before the lock file is touched; under the lock it is all checked again
    if name is not None:
        plain_name(name, "--name")
    for n, src, meta_name in run_artifacts(run_id)[1]:
        if name is None or n == name:
            verify_files(src, meta_name)
    approvals(gate)
    with approval_lock():
        return _approve(gate, run_id, name, force)


def _approve(gate: str, run_id: str, name: str | None, force: bool) -> list[dict[str, Any]]:
    from shell.clock import utc_now
    from shell.store import sha256_bytes

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

    from shell.safety import plain_name

    _refuse_in_ci()
    plain_name(name, "artifact name")
    if to is not None and to < 1:
        raise BadInput(f"--to {to}: versions start at 1")
    with approval_lock():
        return _rollback(gate, name, to)


def _rollback(gate: str, name: str, to: int | None) -> dict[str, Any]:
    from shell.clock import utc_now

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
