"""gate all for real projects: -j N in separate processes, --budget stops a gate cleanly, --changed
skips what did not change (and re-runs a gate and its dependants when a golden changes), status marks
stale gates."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.conftest import gate_cli

runner = CliRunner()


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def doc_of(r) -> dict:
    return orjson.loads(r.stdout)


def test_parallel_runs_in_processes_and_keeps_the_order(with_plugin: Path) -> None:
    r = gate("all", "--only", "demo,demo2,demo_slow", "-j", "2", "--json")
    doc = doc_of(r)
    assert r.exit_code == 0, r.output
    assert [x["gate"] for x in doc["results"]] == ["demo", "demo2", "demo_slow"]
    ids = [x["run_id"] for x in doc["results"]]
    assert all(ids) and len(set(ids)) == 3
    for rid in ids:  # each ran as a real run: its own receipt with a verdict
        lines = (with_plugin / ".gate" / "runs" / rid / "receipt.jsonl").read_bytes().splitlines()
        assert orjson.loads(lines[-1])["event"] == "verdict"


def test_budget_stops_a_running_gate_and_reports_it(
    with_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WG_DEMO_SLOW", "60")
    t0 = time.monotonic()
    r = gate("all", "--only", "demo_slow", "--budget", "2", "--json")
    took = time.monotonic() - t0
    res = doc_of(r)["results"][0]
    assert r.exit_code == 1 and not res["passed"]
    assert "over the --budget of 2 s" in res["message"]
    assert took < 30  # stopped, not waited out
    rid = res["run_id"]
    assert rid, "the stopped gate still wrote its verdict (SIGTERM is handled)"
    last = orjson.loads(
        (with_plugin / ".gate" / "runs" / rid / "receipt.jsonl").read_bytes().splitlines()[-1]
    )
    assert last["event"] == "verdict" and last["exit_code"] == 1


def test_changed_skips_unchanged_and_reruns_a_changed_golden_and_dependants(
    with_plugin: Path,
) -> None:
    first = doc_of(gate("all", "--only", "demo,demo2", "--changed", "--json"))
    assert [x["message"] for x in first["results"]] == ["", ""]  # nothing passed before: both ran
    again = doc_of(gate("all", "--only", "demo,demo2", "--changed", "--json"))
    assert all(x["message"].startswith("unchanged") for x in again["results"]), again
    assert again["exit_code"] == 0
    # a new golden for demo: demo runs again, and so does demo2 (its dependant)
    rid = first["results"][0]["run_id"]
    assert gate("approve", "demo", "--run", rid).exit_code == 0
    status = doc_of(gate("status", "--json"))
    row = {g["id"]: g for g in status["gates"]}
    assert row["demo"]["stale"] and "artifacts/demo/" in row["demo"]["stale"]
    third = doc_of(gate("all", "--only", "demo,demo2", "--changed", "--json"))
    assert [x["message"] for x in third["results"]] == ["", ""]
    assert all(x["run_id"] not in {y["run_id"] for y in first["results"]} for x in third["results"])
    status = doc_of(gate("status", "--json"))
    assert not {g["id"]: g for g in status["gates"]}["demo"]["stale"]


def test_go_no_go_composites_follow_their_members(project: Path) -> None:
    from gates.planned import COMPOSITES

    g1 = next(c for c in COMPOSITES if c.id == "G1")
    assert g1.members == ("m1", "m2")
    assert g1.verdict({"m1": "pass", "m2": "pass"}) == "go"
    assert g1.verdict({"m1": "pass", "m2": "fail"}) == "no-go"
    assert g1.verdict({"m1": "pass", "m2": None}) == "pending"
    doc = doc_of(gate("status", "--json"))
    got = {c["id"]: c["verdict"] for c in doc["composites"]}
    assert got == {"G1": "pending", "G2": "pending", "G3": "pending", "G4": "pending",
                   "one-test": "pending"}  # fmt: skip


def test_a_planned_prerequisite_does_not_block_but_a_failed_one_does(project: Path) -> None:
    from dataclasses import replace

    from shell.context import RunOptions, RunResult
    from shell.registry import load_gates
    from shell.scheduler import Plan

    reg = load_gates()
    assert not reg.gates["m6"].built and reg.gates["m10"].built
    reg.gates["m10"] = replace(
        reg.gates["m10"], prerequisites=("m6",)
    )  # a built gate on a planned one
    plan = Plan(reg, RunOptions(), ["m10"], changed=False)
    assert plan.blocked_by("m10", {}) is None  # m6 is only planned
    failed = {"m1": RunResult("r", "m1", 1, False, "failed")}
    assert plan.blocked_by("m2", failed) == "blocked: prerequisite m1 did not pass"
