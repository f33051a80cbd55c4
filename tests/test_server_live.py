"""One real uvicorn on a free 127.0.0.1 port, in a thread of the test process (torch is imported once):
the README's curl, Python and JS examples run against it, the Python client's WebSocket round trip, the
JS client's REST calls and errors. `gate serve` itself starts as a child once (its start line)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from shell.client import APIError, Client
from shell.server.app import ServerConfig, create_app
from shell.server.load import start_server

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "clients" / "js" / "worldgate.mjs"


def _blocks(lang: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Serve and call it", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    import uvicorn

    state = tmp_path_factory.mktemp("live")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GATE_STATE", str(state))
        app = create_app(ServerConfig(db=state / "server.db"))
        key = app.state.store.create_key("live")["key"]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        t0 = time.monotonic()
        while not server.started and time.monotonic() - t0 < 30:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}", key, state
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_gate_serve_prints_a_loopback_url_and_answers(tmp_path: Path) -> None:
    import httpx

    srv = start_server(["--db", str(tmp_path / "server.db")], env={"GATE_STATE": str(tmp_path)})
    try:
        assert re.match(r"^http://127\.0\.0\.1:\d+$", srv.url)
        assert httpx.get(srv.url + "/v1/health").json() == {"ok": True}
    finally:
        srv.stop()


def test_readme_python_example(live, monkeypatch: pytest.MonkeyPatch) -> None:
    url, key, _ = live
    (code,) = _blocks("python")
    monkeypatch.setenv("WORLDGATE_URL", url)
    monkeypatch.setenv("WORLDGATE_KEY", key)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert "predictor" in lines[0]
    assert lines[1].startswith("7 (256, 256, 3) {'frame': 7")


def test_python_client_errors_and_the_socket_timings(live) -> None:
    url, key, _ = live
    with Client(url) as anon, pytest.raises(APIError) as e:
        anon.create_session()
    assert e.value.status == 401 and e.value.problem["field"] == "key"
    with Client(url, key=key) as api, api.session(seed=1) as s:
        frames = s.stream([0, 4], format="raw")
        assert [f.shape for f in frames] == [(256, 256, 3)] * 2
        assert [t["frame"] for t in s.timings] == [1, 2]
        assert all(t["client_ms"] >= t["server_ms"] > 0 for t in s.timings)
        with pytest.raises(APIError) as e:
            s.stream([9])
        assert e.value.status == 422


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_readme_curl_example(live) -> None:
    url, key, _ = live
    (code,) = _blocks("sh")
    env = {**os.environ, "WORLDGATE_URL": url, "WORLDGATE_KEY": key}
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True,
                       env=env, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('{"ok":true}') and '"frame":1' in r.stdout and '"runs":' in r.stdout


def _node(code: str, tmp: Path, url: str, key: str) -> subprocess.CompletedProcess:
    script = tmp / "example.mjs"
    script.write_text(code.replace("./clients/js/worldgate.mjs", JS.as_uri()))
    env = {**os.environ, "WORLDGATE_URL": url, "WORLDGATE_KEY": key}
    return subprocess.run(
        ["node", str(script)], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_readme_js_example(live, tmp_path: Path) -> None:
    url, key, _ = live
    (code,) = _blocks("js")
    r = _node(code, tmp_path, url, key)
    assert r.returncode == 0, r.stderr
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["1", "2", "3"]


JS_ERRORS = """
import { Client, APIError } from "./clients/js/worldgate.mjs";
const url = process.env.WORLDGATE_URL;
const api = new Client(url, { key: process.env.WORLDGATE_KEY });
const out = {};
out.health = await api.health();
out.models = (await api.models()).map((m) => m.name);
out.gates = (await api.gates()).length > 0;
out.runs = Array.isArray(await api.runs({ verdict: "pass", limit: 2 }));
try { await new Client(url).createSession(); } catch (e) { out.anon = [e instanceof APIError, e.status, e.problem.field]; }
const s = await api.createSession({ seed: 2 });
try { await api.step(s.id, 42); } catch (e) { out.bad = [e.status, e.problem.field]; }
const WS = globalThis.WebSocket ?? (process.env.WS_MODULE ? (await import(process.env.WS_MODULE)).default : null);
if (WS) {
  const st = api.stream(s.id, { format: "raw", WebSocket: WS });
  const r = await st.send(1);
  out.ws = [r.meta.frame, r.frame.length];
  st.close();
}
await api.endSession(s.id);
try { await api.step(s.id, 0); } catch (e) { out.ended = e.status; }
console.log(JSON.stringify(out));
"""


WS_MODULE = JS.parent / "node_modules" / "ws" / "wrapper.mjs"  # `npm ci --prefix clients/js`


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_js_client_calls_and_errors(live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node 20 has fetch but no WebSocket: the stream goes through the ws package there (installed
    by .ci/run from clients/js/package-lock.json); Node 22+ and browsers use their own."""
    import json

    url, key, _ = live
    if WS_MODULE.is_file():
        monkeypatch.setenv("WS_MODULE", WS_MODULE.as_uri())
    r = _node(JS_ERRORS, tmp_path, url, key)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["health"] == {"ok": True} and "predictor" in out["models"]
    assert out["gates"] and out["runs"]
    assert out["anon"] == [True, 401, "key"] and out["bad"] == [422, "action"]
    assert out["ended"] == 410
    if WS_MODULE.is_file() or "ws" in out:  # the stream is exercised wherever a WebSocket exists
        assert out["ws"] == [1, 256 * 256 * 3]
