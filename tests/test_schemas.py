"""The published schemas (gate schema NAME) describe what the code really writes: every receipt line of
passing, failing and crashing runs, every ledger row, and the committed goldens' metadata."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from shell import ledger
from shell.schemas import SCHEMAS, adapter
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def test_receipts_and_ledger_rows_match_their_schemas(with_plugin: Path) -> None:
    ok = orjson.loads(gate("demo", "--log-jsonl", "--json").stdout)
    bad = orjson.loads(gate("demo", "--set", "score=0.1", "--json").stdout)
    crash = orjson.loads(gate("demo", "--set", "crash=true", "--json").stdout)
    receipt = adapter("receipt")
    events = set()
    for res in (ok, bad, crash):
        for line in (Path(res["run_dir"]) / "receipt.jsonl").read_bytes().splitlines():
            ev = receipt.validate_json(line)
            events.add(ev.event)
    assert {"start", "step", "metric", "criterion", "artifact", "verdict", "error"} <= events
    rows = ledger.query_runs(with_plugin / ".gate" / "ledger.db")
    assert len(rows) == 3
    for row in rows:
        adapter("ledger-run").validate_python(row)


def test_a_receipt_line_that_breaks_the_schema_is_refused() -> None:
    line = b'{"ts":"2026-12-01T00:00:00Z","run_id":"r","gate":"g","event":"verdict","passed":true}'
    with pytest.raises(ValueError, match="exit_code"):
        adapter("receipt").validate_json(line)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("model-meta", "artifacts/m1/autoencoder/meta.json"),
        ("model-meta", "artifacts/m2/predictor/meta.json"),
    ],
)
def test_committed_goldens_match_their_schema(name: str, path: str) -> None:
    adapter(name).validate_json((REPO / path).read_bytes())


def test_gate_schema_prints_each_schema_and_refuses_unknown_names() -> None:
    for name in SCHEMAS:
        r = gate("schema", name)
        doc = orjson.loads(r.stdout)
        assert r.exit_code == 0 and doc["$schema"].endswith("2020-12/schema") and doc["description"]
    r = gate("schema", "nope")
    assert r.exit_code == 2 and "unknown schema" in r.stderr
