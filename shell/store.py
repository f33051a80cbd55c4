"""The artifact store: a folder whose files are all listed, with sha256 and size, in its metadata file.

Writes go to a temporary sibling folder that is renamed into place, so a reader (or a writer killed at
any instant) sees the old artifact or the new one, never a mix. Loading verifies every hash, rejects
files that are not listed, validates the metadata strictly and checks it against what the run expects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shell.clock import utc_now
from shell.errors import BadInput

SCHEMA_VERSION = 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(Strict):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class ArtifactMeta(Strict):
    schema_version: Literal[1]
    created_at: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
    gate: str
    run_id: str
    name: str
    worldgate_version: str
    git_commit: str
    inputs: dict[str, str]  # input name -> sha256 of what the artifact was made from
    config: dict[str, Any]
    pipeline_version: int
    files: dict[str, FileEntry]
    metadata_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")  # over every other field, sorted keys


def metadata_digest(fields: dict[str, Any]) -> str:
    body = {k: v for k, v in fields.items() if k != "metadata_sha256"}
    return sha256_bytes(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


def meta_bytes(m: ArtifactMeta) -> bytes:
    return orjson.dumps(m.model_dump(mode="json"), option=orjson.OPT_INDENT_2) + b"\n"


M = TypeVar("M", bound=ArtifactMeta)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def worldgate_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("worldgate")
    except PackageNotFoundError:
        return "0+unknown"


def git_commit(where: Path | None = None) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    fn = getattr(_libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def atomic_replace_dir(tmp: Path, dest: Path) -> None:
    """Put the finished folder tmp at dest; whatever was at dest is gone afterwards."""
    if not dest.exists():
        os.rename(tmp, dest)
    elif _exchange(tmp, dest):
        shutil.rmtree(tmp)
    else:  # no atomic swap here: move the old one aside first; recover() puts it back after a crash
        aside = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(dest, aside)
        os.rename(tmp, dest)
        shutil.rmtree(aside)
    _fsync_dir(dest.parent)


def recover(dest: Path, temporaries: bool = True) -> None:
    """After a crash: drop unfinished temporaries; restore an old folder moved aside if dest is gone.

    A reader passes temporaries=False: a temporary may be a live writer's (an approval in progress)."""
    if not dest.parent.is_dir():
        return
    for p in dest.parent.glob(f".{dest.name}.tmp-*") if temporaries else ():
        shutil.rmtree(p, ignore_errors=True)
    olds = sorted(dest.parent.glob(f".{dest.name}.old-*"))
    if olds and not dest.exists():
        os.rename(olds[-1], dest)
        olds = olds[:-1]
    for p in olds:
        shutil.rmtree(p, ignore_errors=True)


def write_artifact(
    dest: Path,
    files: dict[str, bytes],
    meta: dict[str, Any],
    meta_cls: type[M] = ArtifactMeta,  # type: ignore[assignment]
    meta_name: str = "meta.json",
) -> M:
    """Write files plus their metadata at dest, atomically. meta holds every field but `files`."""
    if meta_name in files:
        raise BadInput(f"{dest}: a file may not be named like the metadata ({meta_name})")
    listing = {n: FileEntry(sha256=sha256_bytes(b), size=len(b)) for n, b in sorted(files.items())}
    try:
        draft = meta_cls.model_construct(**meta, files=listing).model_dump(mode="json")
        m = meta_cls(**meta, files=listing, metadata_sha256=metadata_digest(draft))
    except ValidationError as e:
        raise BadInput(f"{dest / meta_name}: {_first_error(e)}") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    for n, b in files.items():
        _write_file(tmp / n, b)
    _write_file(tmp / meta_name, meta_bytes(m))
    _fsync_dir(tmp)
    atomic_replace_dir(tmp, dest)
    return m


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "(root)"
    return f"field {loc}: {err['msg']}"


def read_meta(path: Path, meta_cls: type[M] = ArtifactMeta, meta_name: str = "meta.json") -> M:  # type: ignore[assignment]
    mf = path / meta_name
    if not mf.is_file():
        raise BadInput(f"{mf}: missing (no artifact at {path})")
    from shell.safety import read_input_file

    text = read_input_file(mf, "metadata file", limit=16 << 20)
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise BadInput(f"{mf}: not valid JSON ({e})") from None
    if not isinstance(raw, dict):
        raise BadInput(f"{mf}: must hold a JSON object")
    try:
        m = meta_cls.model_validate(raw)
    except ValidationError as e:
        raise BadInput(f"{mf}: {_first_error(e)}") from None
    if metadata_digest(m.model_dump(mode="json")) != m.metadata_sha256:
        raise BadInput(f"{mf}: field metadata_sha256: does not match the metadata (it was changed)")
    if meta_bytes(m) != text:
        raise BadInput(f"{mf}: not in the store's canonical form (changed outside the store)")
    return m


def load_artifact(
    path: Path,
    meta_cls: type[M] = ArtifactMeta,  # type: ignore[assignment]
    meta_name: str = "meta.json",
    expect: dict[str, Any] | None = None,
) -> tuple[M, dict[str, bytes]]:
    """Verify and read an artifact -> (metadata, {file name: bytes}). Any mismatch raises BadInput.

    expect maps a metadata field (dotted for nested, e.g. "config.latent_dim") to the value this run needs.
    """
    recover(path, temporaries=False)
    m = read_meta(path, meta_cls, meta_name)
    mf = path / meta_name
    present = {p.name for p in path.iterdir() if p.is_file()} - {meta_name}
    for extra in sorted(present - set(m.files)):
        raise BadInput(f"{path / extra}: file not listed in {mf.name}")
    out: dict[str, bytes] = {}
    for n, entry in m.files.items():
        fp = path / n
        if not fp.is_file():
            raise BadInput(f"{fp}: missing (listed in {mf.name})")
        if fp.stat().st_size != entry.size:  # before reading: a listed file may be huge
            raise BadInput(
                f"{fp}: size {fp.stat().st_size} != {entry.size} in {mf.name} (truncated or changed)"
            )
        data = fp.read_bytes()
        if len(data) != entry.size:
            raise BadInput(
                f"{fp}: size {len(data)} != {entry.size} in {mf.name} (truncated or changed)"
            )
        if sha256_bytes(data) != entry.sha256:
            raise BadInput(f"{fp}: sha256 does not match {mf.name} (file changed)")
        out[n] = data
    for key, want in (expect or {}).items():
        have: Any = m.model_dump(mode="json")
        for part in key.split("."):
            have = have.get(part, _MISSING) if isinstance(have, dict) else _MISSING
        if have is _MISSING or have != want:
            shown = "absent" if have is _MISSING else repr(have)
            raise BadInput(f"{mf}: field {key}: artifact has {shown}, this run needs {want!r}")
    return m, out


_MISSING = object()


def artifact_meta_fields(
    gate: str,
    run_id: str,
    name: str,
    config: dict[str, Any],
    inputs: dict[str, str],
    pipeline_version: int,
) -> dict[str, Any]:
    """The common metadata every artifact carries, for the run that makes it."""
    from shell import paths

    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": utc_now(),
        "gate": gate,
        "run_id": run_id,
        "name": name,
        "worldgate_version": worldgate_version(),
        "git_commit": git_commit(paths.root()),
        "inputs": inputs,
        "config": config,
        "pipeline_version": pipeline_version,
    }
