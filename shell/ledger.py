"""The run ledger: SQLite in WAL mode at .gate/ledger.db, one row per run plus its metrics and criteria.

Every writer opens its own connection and writes a run in one IMMEDIATE transaction, with a busy timeout,
so several `gate` processes at once all land their rows.
"""

from __future__ import annotations

import contextlib
import json  # reads: the std parser (orjson costs ~8 ms to import; status only reads)
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, gate TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'gate', started_at TEXT NOT NULL, finished_at TEXT,
  duration_s REAL, exit_code INTEGER, passed INTEGER, backend TEXT, device TEXT, git_commit TEXT,
  config_hash TEXT, config TEXT, artifacts TEXT, argv TEXT
);
CREATE INDEX IF NOT EXISTS runs_gate ON runs(gate, started_at);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL, value REAL, unit TEXT
);
CREATE TABLE IF NOT EXISTS criteria (
  run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL, value REAL, op TEXT,
  threshold REAL, passed INTEGER
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id);
CREATE INDEX IF NOT EXISTS criteria_run ON criteria(run_id);
"""
SCHEMA_VERSION = 2  # PRAGMA user_version; 2 added fingerprint and inputs (gate all --changed)
_MIGRATIONS = {
    2: ("ALTER TABLE runs ADD COLUMN fingerprint TEXT", "ALTER TABLE runs ADD COLUMN inputs TEXT"),
}

RUN_COLUMNS = (
    "id", "gate", "kind", "started_at", "finished_at", "duration_s", "exit_code", "passed", "backend",
    "device", "git_commit", "config_hash", "config", "artifacts", "argv", "fingerprint", "inputs",
)  # fmt: skip
JSON_COLUMNS = ("config", "artifacts", "argv", "inputs")


REBUILD = "gate ledger rebuild"


def damaged(path: Path, e: BaseException) -> str:
    """The one line that reports a ledger that cannot be read or written, and how to rebuild it."""
    why = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return f"{path}: ledger unreadable ({why}); rebuild it from the receipts: {REBUILD}"


def _open(path: Path) -> sqlite3.Connection:
    """connect(), with a damaged or unwritable ledger as BadInput (exit 2) naming it and the rebuild."""
    from shell.errors import BadInput

    try:
        return connect(path)
    except (sqlite3.DatabaseError, OSError) as e:
        raise BadInput(damaged(path, e)) from None


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one read; a damaged ledger is BadInput (exit 2) naming it and the rebuild."""
    from shell.errors import BadInput

    con = _open(path)
    try:
        yield con
    except sqlite3.DatabaseError as e:
        raise BadInput(damaged(path, e)) from None
    finally:
        con.close()


def record_run_or_warn(
    path: Path, run: dict[str, Any], metrics: list[dict[str, Any]], criteria: list[dict[str, Any]]
) -> bool:
    """record_run, but a damaged ledger never changes a run's verdict: one warning line on stderr."""
    import sys

    try:
        record_run(path, run, metrics, criteria)
        return True
    except (sqlite3.DatabaseError, OSError) as e:
        print(f"gate: warning: {damaged(path, e)}", file=sys.stderr, flush=True)
        return False


def _dumps(obj: Any, sort: bool = False) -> bytes:
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS if sort else 0)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA busy_timeout=60000")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(_SCHEMA)
    _migrate(con)
    return con


def _migrate(con: sqlite3.Connection) -> None:
    """Bring an older ledger up to SCHEMA_VERSION in place (columns are only ever added)."""
    if con.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    con.execute("BEGIN IMMEDIATE")
    try:  # read what is there under the write lock: another process may have migrated meanwhile
        have = con.execute("PRAGMA user_version").fetchone()[0]
        cols = {r["name"] for r in con.execute("PRAGMA table_info(runs)")}
        for v in range(have + 1, SCHEMA_VERSION + 1):
            for stmt in _MIGRATIONS.get(v, ()):
                col = stmt.split("ADD COLUMN ")[1].split()[0]
                if col not in cols:
                    con.execute(stmt)
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        con.execute("COMMIT")
    except sqlite3.Error:
        con.execute("ROLLBACK")
        raise


def record_run(
    path: Path, run: dict[str, Any], metrics: list[dict[str, Any]], criteria: list[dict[str, Any]]
) -> None:
    row = {k: run.get(k) for k in RUN_COLUMNS}
    row["kind"] = row["kind"] or "gate"
    for k in JSON_COLUMNS:
        if row[k] is not None and not isinstance(row[k], str):
            row[k] = _dumps(row[k]).decode()
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            f"INSERT OR REPLACE INTO runs ({','.join(RUN_COLUMNS)}) VALUES ({','.join('?' * len(RUN_COLUMNS))})",
            [row[k] for k in RUN_COLUMNS],
        )
        con.executemany(
            "INSERT INTO metrics (run_id, name, value, unit) VALUES (?, ?, ?, ?)",
            [(run["id"], m["name"], m["value"], m.get("unit", "")) for m in metrics],
        )
        con.executemany(
            "INSERT INTO criteria (run_id, name, value, op, threshold, passed) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (run["id"], c["name"], c["value"], c["op"], c["threshold"], int(c["passed"]))
                for c in criteria
            ],
        )
        con.execute("COMMIT")
    finally:
        con.close()


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    for k in JSON_COLUMNS:
        if d.get(k):
            d[k] = json.loads(d[k])
    d["passed"] = None if d.get("passed") is None else bool(d["passed"])
    return d


def query_runs(
    path: Path,
    gate: str | None = None,
    verdict: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Runs newest first. verdict: pass (exit 0), fail (exit 1), error (any other exit); kind: "gate"
    (a gate's judgement) or a verb's name (train, pose, ...)."""
    if not path.exists():
        return []
    where, args = [], []
    for col, val in (("gate", gate), ("kind", kind)):
        if val:
            where.append(f"{col} = ?")
            args.append(val)
    if verdict:
        where.append(
            {"pass": "exit_code = 0", "fail": "exit_code = 1", "error": "exit_code NOT IN (0, 1)"}[
                verdict
            ]
        )
    if since:
        where.append("started_at >= ?")
        args.append(since)
    if until:
        where.append("started_at < ?")
        args.append(until)
    sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY started_at DESC, id DESC" + (" LIMIT ?" if limit else "")
    if limit:
        args.append(int(limit))
    with _reading(path) as con:
        return [_decode(r) for r in con.execute(sql, args)]


def get_run(path: Path, run_id: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with _reading(path) as con:
        row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        d = _decode(row)
        d["metrics"] = [
            dict(r)
            for r in con.execute(
                "SELECT name, value, unit FROM metrics WHERE run_id = ?", (run_id,)
            )
        ]
        d["criteria"] = [
            {**dict(r), "passed": bool(r["passed"])}
            for r in con.execute(
                "SELECT name, value, op, threshold, passed FROM criteria WHERE run_id = ?",
                (run_id,),
            )
        ]
        return d


def last_by_gate(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    with _reading(path) as con:
        rows = con.execute(
            "SELECT r.* FROM runs r JOIN (SELECT gate, MAX(started_at || id) AS k FROM runs"
            " WHERE kind = 'gate' GROUP BY gate) l"
            " ON r.gate = l.gate AND (r.started_at || r.id) = l.k"
        )
        return {r["gate"]: _decode(r) for r in rows}


def last_pass(path: Path, gate: str) -> dict[str, Any] | None:
    """The newest passing run of a gate (not a verb's), or None."""
    if not path.exists():
        return None
    with _reading(path) as con:
        row = con.execute(
            "SELECT * FROM runs WHERE gate = ? AND kind = 'gate' AND exit_code = 0"
            " ORDER BY started_at DESC, id DESC LIMIT 1",
            (gate,),
        ).fetchone()
        return None if row is None else _decode(row)


def run_from_receipt(events: list[dict[str, Any]]) -> tuple[dict, list, list] | None:
    """A ledger row, metrics and criteria from a run's receipt events; None without a start event."""
    import hashlib

    start = next((e for e in events if e.get("event") == "start"), None)
    if start is None:
        return None
    verdict = next((e for e in reversed(events) if e.get("event") == "verdict"), None)
    full = start.get("config") or {}
    metrics = [
        {"name": e["name"], "value": e["value"], "unit": e.get("unit", "")}
        for e in events
        if e.get("event") == "metric" and "name" in e and "value" in e
    ]
    crit: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.get("event") == "criterion" and {"name", "value", "op", "threshold"} <= e.keys():
            crit[e["name"]] = e  # the last check of a name counts, as in the run
    artifacts = [
        e["path"]
        for e in events
        if e.get("event") == "artifact" and e.get("kind") != "picture" and "path" in e
    ]
    run = {
        "id": start["run_id"], "gate": start["gate"], "kind": start.get("verb") or "gate",
        "started_at": start["ts"], "finished_at": verdict["ts"] if verdict else None,
        "duration_s": verdict.get("duration_s") if verdict else None,
        "exit_code": verdict.get("exit_code") if verdict else None,
        "passed": verdict.get("passed") if verdict else None,
        "backend": start.get("backend"), "device": start.get("device"),
        "git_commit": start.get("commit"),
        "config_hash": hashlib.sha256(_dumps(full, sort=True)).hexdigest()[:16],
        "config": full, "artifacts": artifacts, "argv": start.get("argv"),
    }  # fmt: skip
    criteria = [
        {k: c[k] for k in ("name", "value", "op", "threshold")} | {"passed": bool(c.get("passed"))}
        for c in crit.values()
    ]
    return run, metrics, criteria


def rebuild(path: Path, runs_dir: Path) -> tuple[int, list[str]]:
    """Rebuild the ledger from every runs_dir/*/receipt.jsonl, into a temporary file renamed over
    `path`. -> (runs recorded, one line per receipt skipped and why)."""
    import os
    import tempfile

    from shell.errors import GateError
    from shell.receipt import read_receipt

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".ledger.", suffix=".db", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    skipped: list[str] = []
    n = 0
    try:
        for rec in sorted(runs_dir.glob("*/receipt.jsonl")) if runs_dir.is_dir() else []:
            try:
                got = run_from_receipt(read_receipt(rec))
                if got is None:
                    skipped.append(f"{rec}: no start event")
                    continue
                record_run(tmp, *got)
                n += 1
            except (GateError, KeyError, TypeError, ValueError) as e:
                skipped.append(f"{rec}: {e}")
        con = sqlite3.connect(tmp, isolation_level=None)  # fold the WAL back in before the rename
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        for side in ("-wal", "-shm"):
            Path(str(path) + side).unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        for side in ("-wal", "-shm"):
            Path(str(tmp) + side).unlink(missing_ok=True)
    return n, skipped
