"""JSONL receipts: one JSON object a line, each with ts, run_id, gate, event (DESIGN.md "Files")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from shell.clock import utc_now


class Receipt:
    def __init__(self, path: Path, run_id: str, gate: str) -> None:
        self.path, self.run_id, self.gate = path, run_id, gate
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "ab")  # noqa: SIM115 - held open for the run's lifetime
        import orjson  # here, not at module level: `gate status` reads receipts' neighbours only

        self._dumps = orjson.dumps
        self._opt = orjson.OPT_SERIALIZE_NUMPY

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        rec = {"ts": utc_now(), "run_id": self.run_id, "gate": self.gate, "event": event, **fields}
        self._f.write(self._dumps(rec, option=self._opt, default=str) + b"\n")
        self._f.flush()
        return rec

    def close(self) -> None:
        if not self._f.closed:
            os.fsync(self._f.fileno())
            self._f.close()


def read_receipt(path: Path) -> list[dict[str, Any]]:
    """Every event of a receipt; BadInput naming the file and line of one that is not an event."""
    from shell.safety import read_jsonl_records

    return read_jsonl_records(path, "receipt", "event")
