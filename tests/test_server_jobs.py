"""The harness over HTTP (TestClient): jobs run real `gate run` children (the demo plugin's gate):
results, retries after a crash, a batch's budget, cancel; then the runs they left, read back."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from shell import cli
from shell.server.app import ServerConfig, create_app


def _wait(c, jid: str, timeout: float = 60) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        job = c.get(f"/v1/jobs/{jid}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {jid} did not finish")


def test_jobs_and_the_runs_they_leave(with_plugin: Path) -> None:
    app = create_app(ServerConfig(db=with_plugin / "server.db", job_workers=2))
    key = app.state.store.create_key("jobs")["key"]
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        ok = c.post("/v1/jobs", json={"gate": "demo", "config": {"score": 0.9}})
        assert ok.status_code == 202
        crash = c.post("/v1/jobs", json={"gate": "demo", "config": {"crash": True}, "retries": 1})
        batch = c.post("/v1/batches", json={"runs": [{"gate": "demo"}] * 2, "budget_s": 0.001})
        assert batch.status_code == 202 and len(batch.json()["jobs"]) == 2
        done = _wait(c, ok.json()["id"])
        assert (done["state"], done["exit_code"], done["attempts"]) == ("passed", 0, 1)
        crashed = _wait(c, crash.json()["id"])
        assert (crashed["state"], crashed["exit_code"], crashed["attempts"]) == ("error", 4, 2)
        for j in c.get(f"/v1/batches/{batch.json()['id']}").json()["jobs"]:
            j = _wait(c, j["id"])
            assert j["state"] in ("skipped", "failed") and "budget" in j["error"], j
        assert c.get(f"/v1/batches/{batch.json()['id']}").json()["state"] == "done"

        rid = done["run_id"]
        runs = c.get("/v1/runs", params={"gate": "demo", "verdict": "pass"}).json()["runs"]
        assert rid in [r["id"] for r in runs]
        assert c.get("/v1/runs", params={"verdict": "pass", "since": "2999-01-01"}).json() == {
            "runs": []
        }
        run = c.get(f"/v1/runs/{rid}").json()
        assert {m["name"] for m in run["metrics"]} == {"score"} and run["criteria"][0]["passed"]
        lines = c.get(f"/v1/runs/{rid}/receipt").json()["lines"]
        assert lines[0]["event"] == "start" and lines[-1]["event"] == "verdict"
        import numpy as np

        from shell import paths
        from shell.pictures import png

        (paths.run_dir(rid) / "look.png").write_bytes(png(np.zeros((4, 4, 3), np.uint8)))
        assert c.get(f"/v1/runs/{rid}").json()["pictures"] == ["look.png"]
        pic = c.get(f"/v1/runs/{rid}/pictures/look.png")
        assert pic.headers["content-type"] == "image/png" and pic.content[:4] == b"\x89PNG"
        assert c.get(f"/v1/runs/{rid}/pictures/..%2Fx.png").status_code in (404, 422)
        gates = {g["id"] for g in c.get("/v1/gates").json()["gates"]}
        assert {"demo", "m11"} <= gates
        assert c.get("/v1/status").status_code == 200


def test_cancel_stops_a_running_job(with_plugin: Path) -> None:
    app = create_app(ServerConfig(db=with_plugin / "server.db"))
    key = app.state.store.create_key("jobs")["key"]
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        jid = c.post("/v1/jobs", json={"gate": "demo", "config": {"steps": 10**8}}).json()["id"]
        assert c.post(f"/v1/jobs/{jid}/cancel").json()["state"] == "cancelled"
        assert _wait(c, jid)["state"] == "cancelled"


def test_job_gates_allowlist(with_plugin: Path) -> None:
    app = create_app(ServerConfig(db=with_plugin / "s.db", job_gates=frozenset({"m12"})))
    key = app.state.store.create_key("k")["key"]
    with TestClient(app) as c:
        r = c.post("/v1/jobs", json={"gate": "demo"}, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 403 and r.json()["field"] == "gate"


def test_gate_keys_create_list_revoke(project: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli.app, ["keys", "create", "--name", "ci", "--rate", "10/s", "--json"])
    assert r.exit_code == 0, r.output
    made = orjson.loads(r.stdout)
    assert made["key"].startswith("wg_") and made["rate"] == 10.0
    listed = orjson.loads(runner.invoke(cli.app, ["keys", "list", "--json"]).stdout)["keys"]
    assert [k["name"] for k in listed] == ["ci"] and "key" not in listed[0]
    assert runner.invoke(cli.app, ["keys", "revoke", "ci"]).exit_code == 0
    assert runner.invoke(cli.app, ["keys", "revoke", "ci"]).exit_code == 2
    bad = runner.invoke(cli.app, ["keys", "create", "--name", "x", "--rate", "fast"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("argv", [["serve", "--help"], ["keys", "--help"]])
def test_help(argv: list[str]) -> None:
    assert CliRunner().invoke(cli.app, argv).exit_code == 0
