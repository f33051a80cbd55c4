"""The run ledger: SQLite in WAL mode at .gate/ledger.db, one row per run plus its metrics and criteria.

Every writer opens its own connection and writes a run in one IMMEDIATE transaction, with a busy timeout,
so several `gate` processes at once all land their rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

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
    have = con.execute("PRAGMA user_version").fetchone()[0]
    if have >= SCHEMA_VERSION:
        return
    cols = {r["name"] for r in con.execute("PRAGMA table_info(runs)")}
    con.execute("BEGIN IMMEDIATE")
    try:
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
            row[k] = orjson.dumps(row[k]).decode()
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
            d[k] = orjson.loads(d[k])
    d["passed"] = None if d.get("passed") is None else bool(d["passed"])
    return d


def query_runs(
    path: Path,
    gate: str | None = None,
    verdict: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Runs newest first. verdict: pass (exit 0), fail (exit 1), error (any other exit)."""
    if not path.exists():
        return []
    where, args = [], []
    if gate:
        where.append("gate = ?")
        args.append(gate)
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
    sql += " ORDER BY started_at DESC, id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    con = connect(path)
    try:
        return [_decode(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def get_run(path: Path, run_id: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    con = connect(path)
    try:
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
    finally:
        con.close()


def last_by_gate(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    con = connect(path)
    try:
        rows = con.execute(
            "SELECT r.* FROM runs r JOIN (SELECT gate, MAX(started_at || id) AS k FROM runs"
            " WHERE kind = 'gate' GROUP BY gate) l"
            " ON r.gate = l.gate AND (r.started_at || r.id) = l.k"
        )
        return {r["gate"]: _decode(r) for r in rows}
    finally:
        con.close()


def last_pass(path: Path, gate: str) -> dict[str, Any] | None:
    """The newest passing run of a gate (not a verb's), or None."""
    if not path.exists():
        return None
    con = connect(path)
    try:
        row = con.execute(
            "SELECT * FROM runs WHERE gate = ? AND kind = 'gate' AND exit_code = 0"
            " ORDER BY started_at DESC, id DESC LIMIT 1",
            (gate,),
        ).fetchone()
        return None if row is None else _decode(row)
    finally:
        con.close()
