"""Long work when stderr is not a terminal: a progress line every few seconds and `progress` events."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from shell import context
from shell.receipt import Receipt, read_receipt
from shell.registry import Gate


def test_progress_off_a_terminal_prints_lines_and_writes_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()  # not a TTY, like output redirected to a file
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr(context, "PROGRESS_EVERY", 0.0)
    receipt = Receipt(tmp_path / "receipt.jsonl", "r1", "g")
    ctx = context.RunContext(Gate("g", "g", "src"), "r1", context.RunOptions(), None, receipt)
    with ctx.progress(3, "training") as advance:
        for _ in range(3):
            advance(1)
    receipt.close()
    assert err.getvalue().splitlines()[-1].startswith("gate: training: 3/3 (")
    events = [e for e in read_receipt(tmp_path / "receipt.jsonl") if e["event"] == "progress"]
    assert [e["done"] for e in events] == [1, 2, 3] and events[-1]["total"] == 3


def test_progress_is_quiet_between_intervals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    receipt = Receipt(tmp_path / "receipt.jsonl", "r1", "g")
    ctx = context.RunContext(Gate("g", "g", "src"), "r1", context.RunOptions(), None, receipt)
    with ctx.progress(1000, "fast") as advance:
        for _ in range(1000):
            advance()
    receipt.close()
    assert err.getvalue() == ""  # a run shorter than PROGRESS_EVERY says nothing
