"""gate serve through FastAPI's TestClient: keys, limits, problems, play sessions (REST and WebSocket),
OpenAPI and the offline docs page, the dynamic batcher. Jobs and the harness reads: test_server_jobs."""

from __future__ import annotations

import asyncio
import sqlite3
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from gates.m11.contract import key_checks
from shell.server.app import ServerConfig, create_app
from shell.server.batcher import Batcher


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GATE_STATE", str(state))  # the ledger and server.db; goldens stay the repo's
        app = create_app(ServerConfig(db=state / "server.db", max_body=4096))
        key = app.state.store.create_key("test")["key"]
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            yield app, client, key


def test_keys_are_stored_hashed(served) -> None:
    app, _, key = served
    con = sqlite3.connect(app.state.store.path)
    dump = "\n".join(con.iterdump())
    assert key not in dump and "wg_" not in dump
    listed = app.state.store.list_keys()
    assert listed and all("hash" not in k and "key" not in k for k in listed)


def test_keys_401_403_429(served) -> None:
    app, client, _ = served
    anon = TestClient(app)  # no key header
    checks = key_checks(anon, app.state.store)
    assert all(ok for _, ok, _ in checks), [c for c in checks if not c[1]]


def test_open_writes_turn_the_key_checks_red(tmp_path: Path) -> None:
    """Negative control: a server that lets every write through fails gate m11's key checks."""
    app = create_app(ServerConfig(db=tmp_path / "s.db"))
    app.state.keys.check = lambda secret, write: None
    with TestClient(app) as c:
        failed = {n for n, ok, _ in key_checks(c, app.state.store) if not ok}
    assert {"no key -> 401", "revoked -> 403", "over the quota -> 429"} <= failed


def _problem(r, status: int, field: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["status"] == status and doc["field"] == field, doc
    return doc


def test_bad_input_gets_a_4xx_problem_naming_the_field(served) -> None:
    _, c, _ = served
    js = {"Content-Type": "application/json"}
    _problem(c.post("/v1/sessions", content=b"{nope", headers=js), 400, "body")
    _problem(c.post("/v1/sessions", content=b" " * 5000, headers=js), 413, "body")
    _problem(c.post("/v1/sessions", json={"seed": -1}), 422, "body.seed")
    _problem(c.post("/v1/sessions", json={"modle": "x"}), 422, "body.modle")
    _problem(c.post("/v1/sessions", json={"model": "nope"}), 404, "model")
    _problem(c.post("/v1/sessions", json={"start_png": "!!"}), 422, "start_png")
    _problem(c.get("/v1/sessions/0123456789abcdef"), 404, "session_id")
    _problem(c.get("/v1/sessions/NOT-AN-ID"), 422, "path.session_id")
    _problem(c.get("/v1/runs/20000101T000000Z-x-1"), 404, "run_id")
    _problem(c.get("/v1/runs?verdict=maybe"), 422, "query.verdict")
    _problem(c.get("/v1/jobs/j_000000000000"), 404, "job_id")
    _problem(c.post("/v1/jobs", json={"gate": "nope"}), 404, "gate")
    assert c.get("/v1/nowhere").status_code == 404


def test_play_session_rest_and_websocket(served) -> None:
    _, c, key = served
    s = c.post("/v1/sessions", json={"seed": 5}).json()
    assert (s["frame"], s["height"], s["width"], s["n_actions"]) == (0, 256, 256, 5)
    sid = s["id"]
    png = c.post(f"/v1/sessions/{sid}/step", json={"action": 1}).json()
    assert png["frame"] == 1 and png["format"] == "png" and png["data"]
    raw = c.post(f"/v1/sessions/{sid}/step", json={"action": 2, "format": "raw"}).json()
    import base64

    assert len(base64.b64decode(raw["data"])) == 256 * 256 * 3
    _problem(c.post(f"/v1/sessions/{sid}/step", json={"action": 5}), 422, "action")
    with c.websocket_connect(f"/v1/sessions/{sid}/stream?format=raw&key={key}") as ws:
        ws.send_text('{"action": 3}')
        meta = ws.receive_json()
        assert meta["frame"] == 3 and meta["bytes"] == 256 * 256 * 3
        assert len(ws.receive_bytes()) == meta["bytes"]
        ws.send_text("9")
        assert ws.receive_json()["error"]["field"] == "action"
    assert c.delete(f"/v1/sessions/{sid}").json()["frame"] == 3
    _problem(c.post(f"/v1/sessions/{sid}/step", json={"action": 0}), 410, "session_id")
    stats = c.get("/v1/stats").json()["models"]["predictor"]
    assert stats["frames"] >= 3 and stats["step_ms_p95"] > 0


def test_websocket_refuses_a_bad_key(served) -> None:
    from starlette.websockets import WebSocketDisconnect

    _, c, _ = served
    sid = c.post("/v1/sessions", json={}).json()["id"]
    url = f"/v1/sessions/{sid}/stream?key=wg_bad"
    with pytest.raises(WebSocketDisconnect) as e, c.websocket_connect(url) as ws:
        ws.receive_text()
    assert e.value.code == 1008
    c.delete(f"/v1/sessions/{sid}")


def test_openapi_declares_problems_and_the_docs_page_is_offline(served) -> None:
    _, c, _ = served
    spec = c.get("/openapi.json").json()
    step = spec["paths"]["/v1/sessions/{session_id}/step"]["post"]
    assert {"401", "404", "410", "413", "422", "429"} <= set(step["responses"])
    assert "application/problem+json" in step["responses"]["422"]["content"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    html = c.get("/docs").text
    assert "/openapi.json" in html and "http://" not in html and "https://" not in html
    assert c.get("/redoc").status_code == 404  # FastAPI's CDN pages are off


class _Echo:
    """A WorldModel that returns the last context frame: the batcher test needs no weights."""

    context_frames, noise_dim, n_actions = 2, 1, 5

    def predict(self, context, actions, noise):
        return context[:, -1]


def test_the_batcher_forms_batches_only_when_on() -> None:
    import torch

    async def go(enabled: bool) -> Batcher:
        b = Batcher(_Echo(), max_batch=8, max_wait_ms=20, enabled=enabled)
        ctx = [torch.full((2, 3, 4, 4), float(i)) for i in range(8)]
        outs = await asyncio.gather(*(b.submit(x, 0, torch.zeros(1)) for x in ctx))
        assert [float(o[0, 0, 0]) for o in outs] == [float(i) for i in range(8)]
        b.close()
        return b

    on, off = asyncio.run(go(True)), asyncio.run(go(False))
    assert max(on.stats.batch_sizes) > 1 and on.stats.frames == 8
    assert set(off.stats.batch_sizes) == {1} and off.stats.frames == 8


def test_a_lone_session_does_not_wait_for_a_batch_to_fill() -> None:
    import time

    import torch

    async def go() -> float:
        b = Batcher(_Echo(), max_batch=8, max_wait_ms=2000, expected=lambda: 1)
        t0 = time.perf_counter()
        await b.submit(torch.zeros(2, 3, 4, 4), 0, torch.zeros(1))
        b.close()
        return time.perf_counter() - t0

    assert asyncio.run(go()) < 1.0  # max_wait_ms is 2 s: it did not wait for company


def test_an_expired_session_is_gone_not_missing() -> None:
    import time

    import torch

    from shell.server.problems import Problem
    from shell.server.sessions import Session, Sessions

    live = Sessions(ttl_s=0.05)
    live.live["0123456789abcdef"] = Session(
        "0123456789abcdef", "echo", torch.zeros(2, 3, 4, 4), torch.Generator(), 1, 5, 0.05
    )
    time.sleep(0.1)
    with pytest.raises(Problem) as e:
        live.get("0123456789abcdef")
    assert (e.value.status, e.value.field) == (410, "session_id")
    with pytest.raises(Problem) as e:
        live.get("fedcba9876543210")
    assert e.value.status == 404
