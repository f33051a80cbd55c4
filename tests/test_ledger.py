"""The ledger under concurrent writers: every process lands every row."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from shell import ledger


def _writer(path: str, who: int, n: int) -> None:
    for i in range(n):
        ledger.record_run(
            Path(path),
            {
                "id": f"r{who}-{i}",
                "gate": f"g{who % 2}",
                "started_at": f"2026-11-21T00:00:{i:02d}Z",
                "exit_code": i % 2,
            },
            [{"name": "x", "value": float(i), "unit": ""}],
            [{"name": "c", "value": 1.0, "op": ">", "threshold": 0.0, "passed": True}],
        )


def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    rows = ledger.query_runs(db)
    assert len(rows) == 100
    assert (
        len(ledger.query_runs(db, gate="g0", verdict="fail")) == 24
    )  # writers 0 and 2, odd i of 0..24
    run = ledger.get_run(db, "r3-7")
    assert run is not None and run["metrics"][0]["value"] == 7.0 and run["criteria"][0]["passed"]
    con = ledger.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
