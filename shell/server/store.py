"""The server's embedded SQLite store (WAL): API keys (only their sha256 is kept) and jobs.

Plain sqlite3, no FastAPI: `gate keys` uses it without starting a server.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, rate REAL,
    quota INTEGER, used INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, batch_id TEXT, gate TEXT NOT NULL, request TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
    run_id TEXT, result TEXT, error TEXT, key_id TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, budget_s REAL, key_id TEXT, created_at REAL NOT NULL
);
"""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    """One connection shared by the server's threads, serialised by a lock (SQLite in WAL mode)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA busy_timeout=5000")
        self._con.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _q(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    # keys ---------------------------------------------------------------------------------------
    def create_key(self, name: str, rate: float | None = None, quota: int | None = None) -> dict:
        """A new key: the secret is returned here once and never stored (only its sha256)."""
        secret = "wg_" + secrets.token_urlsafe(24)
        kid = secrets.token_hex(4)
        self._q(
            "INSERT INTO keys (id, name, hash, rate, quota, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (kid, name, key_hash(secret), rate, quota, time.time()),
        )
        return {**self.get_key(kid), "key": secret}

    def get_key(self, kid: str) -> dict | None:
        rows = self._q("SELECT * FROM keys WHERE id = ?", (kid,))
        return _key(rows[0]) if rows else None

    def key_by_secret(self, secret: str) -> dict | None:
        rows = self._q("SELECT * FROM keys WHERE hash = ?", (key_hash(secret),))
        return _key(rows[0]) if rows else None

    def list_keys(self) -> list[dict]:
        return [_key(r) for r in self._q("SELECT * FROM keys ORDER BY created_at")]

    def revoke_key(self, kid_or_name: str) -> int:
        with self._lock:
            cur = self._con.execute(
                "UPDATE keys SET revoked = 1 WHERE (id = ? OR name = ?) AND revoked = 0",
                (kid_or_name, kid_or_name),
            )
            return cur.rowcount

    def use_key(self, kid: str) -> bool:
        """Count one write against the key's quota; False when the quota is spent."""
        with self._lock:
            cur = self._con.execute(
                "UPDATE keys SET used = used + 1 WHERE id = ? AND (quota IS NULL OR used < quota)",
                (kid,),
            )
            return cur.rowcount == 1

    # jobs ---------------------------------------------------------------------------------------
    def add_batch(self, bid: str, budget_s: float | None, key_id: str | None) -> None:
        self._q(
            "INSERT INTO batches (id, budget_s, key_id, created_at) VALUES (?, ?, ?, ?)",
            (bid, budget_s, key_id, time.time()),
        )

    def add_job(self, jid: str, batch_id: str | None, gate: str, request: dict, key_id: str | None):
        now = time.time()
        self._q(
            "INSERT INTO jobs (id, batch_id, gate, request, state, key_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
            (jid, batch_id, gate, orjson.dumps(request).decode(), key_id, now, now),
        )

    def update_job(self, jid: str, **fields: Any) -> None:
        if "result" in fields and fields["result"] is not None:
            fields["result"] = orjson.dumps(fields["result"]).decode()
        cols = ", ".join(f"{k} = ?" for k in fields)
        self._q(f"UPDATE jobs SET {cols}, updated_at = ? WHERE id = ?",
                (*fields.values(), time.time(), jid))  # fmt: skip

    def get_job(self, jid: str) -> dict | None:
        rows = self._q("SELECT * FROM jobs WHERE id = ?", (jid,))
        return _job(rows[0]) if rows else None

    def batch_jobs(self, bid: str) -> list[dict]:
        return [
            _job(r) for r in self._q("SELECT * FROM jobs WHERE batch_id = ? ORDER BY rowid", (bid,))
        ]

    def get_batch(self, bid: str) -> dict | None:
        rows = self._q("SELECT * FROM batches WHERE id = ?", (bid,))
        return dict(rows[0]) if rows else None

    def unfinished_jobs(self) -> list[dict]:
        return [_job(r) for r in self._q("SELECT * FROM jobs WHERE state IN ('queued', 'running')")]


def _key(r: sqlite3.Row) -> dict:
    d = dict(r)
    d.pop("hash")
    d["revoked"] = bool(d["revoked"])
    return d


def _job(r: sqlite3.Row) -> dict:
    d = dict(r)
    d["request"] = orjson.loads(d["request"])
    d["result"] = orjson.loads(d["result"]) if d["result"] else None
    return d
