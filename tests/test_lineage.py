"""gate lineage: a run's inputs and outputs, both ways, from the ledger and the artifacts' metadata."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from tests.conftest import gate_cli

runner = CliRunner()


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def test_lineage_links_a_run_to_its_golden_and_the_runs_that_used_it(with_plugin: Path) -> None:
    first = orjson.loads(gate("demo", "--json").stdout)["run_id"]
    assert gate("approve", "demo", "--run", first).exit_code == 0
    second = orjson.loads(gate("demo", "--json").stdout)["run_id"]

    up = orjson.loads(gate("lineage", first, "--json").stdout)
    assert any(p["path"].endswith("table/table.json") for p in up["produced"])
    assert up["approved"] == [{"gate": "demo", "name": "table", "version": 1, "action": "approve"}]
    assert [u["run_id"] for u in up["used_by"]] == [second]

    down = orjson.loads(gate("lineage", second, "--json").stdout)
    golden = [u for u in down["used"] if u["path"] == "artifacts/demo/table/table.json"]
    assert golden and golden[0]["kind"] == "artifact" and golden[0]["produced_by"] == first
    assert (
        any(u["kind"] == "code" for u in down["used"])
        and any(u["kind"] == "lock" for u in down["used"]) is False
    )  # the scratch project has no uv.lock: nothing invented

    text = gate("lineage", second)
    assert text.exit_code == 0 and f"<- run {first}" in text.stdout


def test_lineage_of_an_unknown_run_is_bad_input(project: Path) -> None:
    r = gate("lineage", "20990101T000000Z-m1-000000")
    assert r.exit_code == 2 and "not in the ledger" in r.stderr
