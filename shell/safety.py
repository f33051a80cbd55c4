"""Inputs a hostile but fair user can give, checked at the boundary (DESIGN.md: exit 2, one line naming
the file, field or line; nothing overwritten):

- `read_input_file`: the one bounded reader of a user's file. Refuses what is not a regular file (a
  folder, a FIFO, a device such as /dev/zero) before opening it, and anything over a size limit.
- `plain_name`: run ids and artifact names are plain names (no `/`, no `..`), so a path built from one
  stays inside its root; `inside` checks a resolved path against its root.
- `check_out`: an output path given with `--out` is writable, not a folder where a file goes, and not under
  `artifacts/` (only `gate approve` writes goldens).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from shell.errors import BadInput

MiB = 1 << 20
LIMIT = (
    64 * MiB
)  # no input of a gate (trace, config, ROM, state, receipt, metadata) comes near this
SEED_MAX = 2**63 - 1  # torch.manual_seed and numpy's default_rng both take 0..2**63-1
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def shown(p: str | os.PathLike[str]) -> str:
    """A path for a message: printable even when it is not UTF-8 (undecodable bytes as \\xNN)."""
    return printable(os.fspath(p))


def printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_input_file(
    path: str | os.PathLike[str], what: str = "file", limit: int = LIMIT, name: str | None = None
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; BadInput naming it otherwise."""
    where = name or shown(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{where}: no such {what}") from None
    except NotADirectoryError:
        raise BadInput(f"{where}: no such {what} (a parent is not a folder)") from None
    except OSError as e:
        raise BadInput(f"{where}: cannot read the {what}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{where}: is a folder, expected a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{where}: not a regular file (a FIFO, socket or device), expected a {what}")
    if st.st_size > limit:
        raise BadInput(f"{where}: {st.st_size} bytes, more than the {limit} a {what} may have")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise BadInput(f"{where}: cannot read the {what}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the stat
            raise BadInput(f"{where}: not a regular file, expected a {what}")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BadInput(f"{where}: more than the {limit} bytes a {what} may have")
    return data


def plain_name(value: str, what: str) -> str:
    """A run id or artifact name: letters, digits, `.`, `_`, `-`, not starting with a dot or dash."""
    if not isinstance(value, str) or not _PLAIN.fullmatch(value) or value in (".", ".."):
        raise BadInput(
            f"{what} '{printable(str(value))}': not a plain name (letters, digits, '.', '_', '-'; "
            "no '/' or '..')"
        )
    return value


def inside(path: Path, root: Path, what: str) -> Path:
    """`path` resolved; BadInput unless it lies inside `root`."""
    p, r = Path(path).resolve(), Path(root).resolve()
    if p != r and r not in p.parents:
        raise BadInput(f"{what} {shown(path)}: outside {shown(r)}")
    return p


def under_artifacts(path: str | os.PathLike[str]) -> bool:
    from shell import paths

    p, a = Path(path).resolve(), (paths.root() / "artifacts").resolve()
    return p == a or a in p.parents


def check_out(
    path: str | os.PathLike[str], flag: str = "--out", folder: bool = False, name: str | None = None
) -> Path:
    """An output path: not under artifacts/, its parent writable (or creatable), the right kind."""
    p = Path(path)
    where = f"{flag} {name or shown(path)}"
    if under_artifacts(p):
        raise BadInput(
            f"{where}: under artifacts/, where only `gate approve` writes (write elsewhere, then "
            "approve the run)"
        )
    if p.is_dir() and not folder:
        raise BadInput(f"{where}: is a folder, expected a file path")
    if p.exists() and not p.is_dir() and folder:
        raise BadInput(f"{where}: is a file, expected a folder")
    parent = p.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise BadInput(f"{where}: cannot write in {shown(parent)} (not a folder)")
    try:  # os.access says yes to root even on a read-only mount: try it
        import tempfile

        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as e:
        raise BadInput(f"{where}: cannot write in {shown(parent)} ({e.strerror})") from None
    if p.exists() and not os.access(p, os.W_OK) and not p.is_dir():
        raise BadInput(f"{where}: cannot replace it (permission denied)")
    return p


def check_seed(seed: int, flag: str = "--seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise BadInput(f"{flag} {seed}: must be an int in 0..2**63-1")
    return seed


_USER_ERRNOS = {"EACCES", "EPERM", "EROFS", "EISDIR", "ENOTDIR", "EEXIST", "ENAMETOOLONG", "ELOOP",
                "ENOENT", "ENOSPC", "EDQUOT"}  # fmt: skip


def os_error_line(e: OSError) -> str | None:
    """One line for an OSError about a file the user named (read-only target, a folder where a file
    goes, a full disk), naming the file; None when it is not that kind of error."""
    import errno

    name = errno.errorcode.get(e.errno or 0, "")
    if name not in _USER_ERRNOS or e.filename is None:
        return None
    return f"{shown(e.filename)}: {e.strerror or name}"


def read_jsonl_records(path: Path, what: str, key: str) -> list[dict[str, Any]]:
    """A JSONL file of objects that each carry a string `key` (receipts: event; approvals: name),
    read bounded; BadInput naming the file and line of one that is not such an object."""
    import json

    out = []
    for i, line in enumerate(read_input_file(path, what).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:  # JSONDecodeError, and bytes that are not UTF-8
            rec = None
        if not isinstance(rec, dict) or not isinstance(rec.get(key), str):
            raise BadInput(
                f"{path}: line {i}: not a {what} record (a JSON object with a string {key!r})"
            )
        out.append(rec)
    return out
