"""The contract of `gate serve`, checked through the Python client against a live server: each check is
(name, passed, detail). Also the key checks (401, 403, 429 over the rate and over the quota)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from shell.client import APIError, Client

Check = tuple[str, bool, str]
BUDGET_S = 8.0  # m1 is stopped by it: long enough to start and write its row on a loaded machine


def _try(name: str, fn: Callable[[], Any], out: list[Check]) -> Any:
    try:
        got = fn()
    except Exception as e:  # a failed expectation or an unexpected error: the check fails
        out.append((name, False, f"{type(e).__name__}: {e}"))
        return None
    if isinstance(got, tuple):
        ok, detail = got
    else:  # a bool is the verdict; any other value means the call worked
        ok, detail = (got if isinstance(got, bool) else got is not None), ""
    out.append((name, ok, detail))
    return got


def _status(fn: Callable[[], Any], status: int, field: str | None = None) -> tuple[bool, str]:
    try:
        fn()
    except APIError as e:
        ok = e.status == status and (field is None or e.problem.get("field") == field)
        return ok, f"{e.status} field={e.problem.get('field')}"
    return False, "no error"


def planned_gate() -> str:
    """A gate declared but not built: what the job contract submits to see exit 2 "not built". Read
    from the registry, so a gate landing does not turn the contract's job into a real run."""
    from shell.registry import load_gates

    return next(g.id for g in load_gates().gates.values() if not g.built)


def contract(url: str, key: str, planned: str) -> list[Check]:
    out: list[Check] = []
    api = Client(url, key=key)
    raw = httpx.Client(base_url=url, timeout=30)
    try:
        _try("health", lambda: api.health() == {"ok": True}, out)
        _try("openapi", lambda: "/v1/sessions" in raw.get("/openapi.json").json()["paths"], out)
        _try("docs page, no external resource", lambda: _docs_offline(raw), out)
        _try("models", lambda: any(m["name"] == "predictor" for m in api.models()), out)
        _try("gates", lambda: any(g["id"] == "m11" for g in api.gates()), out)
        _try("status", lambda: "gates" in api.status() or bool(api.status()), out)
        _try("runs filter", lambda: isinstance(api.runs(verdict="pass", limit=5), list), out)
        _play(api, out)
        _errors(api, raw, key, out)
        _jobs(api, out, planned)
    finally:
        api.close()
        raw.close()
    return out


def _docs_offline(raw: httpx.Client) -> tuple[bool, str]:
    html = raw.get("/docs").text
    external = [
        m for m in ("http://", "https://", "//cdn") if m in html.replace("/openapi.json", "")
    ]
    return "/openapi.json" in html and not external, f"external references: {external}"


def _play(api: Client, out: list[Check]) -> None:
    s = _try("session create", lambda: api.session(seed=3), out)
    if s is None:
        return
    with s:
        _try("session get", lambda: api._do("GET", f"/v1/sessions/{s.id}")["frame"] == 0, out)
        frames = _try("step x3 (REST, PNG)", lambda: s.rollout([1, 1, 3]), out)
        _try("frame shape", lambda: frames is not None and frames[0].shape == (256, 256, 3), out)
        raw = _try("step (raw bytes)", lambda: s.step(2, format="raw"), out)
        _try("raw shape", lambda: raw is not None and raw.shape == (256, 256, 3), out)
        streamed = _try("WebSocket round trip x4", lambda: s.stream([0, 1, 2, 4]), out)
        _try(
            "WebSocket frame counter",
            lambda: streamed is not None and [t["frame"] for t in s.timings] == [5, 6, 7, 8],
            out,
        )
        _try("invalid action -> 422 action",
             lambda: _status(lambda: s.step(7), 422, "action"), out)  # fmt: skip
    _try("ended session -> 410",
         lambda: _status(lambda: api.step(s.id, 0), 410, "session_id"), out)  # fmt: skip
    _try("stats: batch sizes",
         lambda: sum(api.stats()["models"]["predictor"]["batch_sizes"].values()) > 0, out)  # fmt: skip


def _errors(api: Client, raw: httpx.Client, key: str, out: list[Check]) -> None:
    auth = {"Authorization": f"Bearer {key}"}

    def send(body: bytes, status: int, field: str) -> tuple[bool, str]:
        r = raw.post(
            "/v1/sessions", content=body, headers={**auth, "Content-Type": "application/json"}
        )
        doc = r.json()
        ok = r.status_code == status and doc.get("field") == field
        return ok and r.headers["content-type"].startswith(
            "application/problem+json"
        ), f"{r.status_code} {doc}"

    _try("malformed JSON -> 400 body", lambda: send(b"{nope", 400, "body"), out)
    _try("oversized body -> 413", lambda: send(b" " * (2 << 20), 413, "body"), out)
    _try("unknown field -> 422", lambda: send(b'{"modle": "x"}', 422, "body.modle"), out)
    _try("unknown model -> 404 model",
         lambda: _status(lambda: api.create_session("nope"), 404, "model"), out)  # fmt: skip
    _try("unknown run -> 404",
         lambda: _status(lambda: api.run("20000101T000000Z-x-000000"), 404, "run_id"), out)  # fmt: skip


def _jobs(api: Client, out: list[Check], planned: str) -> None:
    j = _try(f"job submit (planned gate {planned})", lambda: api.submit(planned), out)
    if j is not None:
        _try("job result: exit 2, not built",
             lambda: (lambda d: (d["exit_code"] == 2 and d["state"] == "error", str(d["error"])))(
                 api.wait(j["id"], 60)), out)  # fmt: skip
    t0 = time.monotonic()
    b = _try("batch submit, budget 8 s",
             lambda: api.submit_batch([{"gate": "m1"}], BUDGET_S), out)  # fmt: skip
    c = _try("job submit (m1) and cancel", lambda: api.cancel(api.submit("m1")["id"]), out)
    if c is not None:
        _try("cancelled", lambda: (api.wait(c["id"], 60)["state"] == "cancelled", ""), out)
    if b is not None:
        job = _try("batch job final", lambda: api.wait(b["jobs"][0]["id"], 90), out)
        took = time.monotonic() - t0
        _try("batch budget honoured", lambda: (took < BUDGET_S + 30, f"{took:.1f} s"), out)
        _try("batch status done", lambda: api.batch(b["id"])["state"] == "done", out)
        rid = (job or {}).get("run_id")
        out.append(
            (
                "batch job ran m1",
                rid is not None,
                f"{(job or {}).get('state')}: {(job or {}).get('error')}",
            )
        )
        _try("run of the job in the ledger", lambda: (api.run(rid)["id"] == rid, str(rid)), out)
        _try("its receipt", lambda: api.receipt(rid)[0]["event"] == "start", out)
        _try("picture name checked -> 404",
             lambda: _status(lambda: api.picture(rid, "none.png"), 404, "name"), out)  # fmt: skip


def key_checks(c: httpx.Client, store: Any) -> list[Check]:
    """c: an httpx client on the server (a FastAPI TestClient works too); store: its key store."""
    out: list[Check] = []
    revoked = store.create_key("m11-revoked")
    store.revoke_key(revoked["id"])
    slow = store.create_key("m11-rate", rate=2.0)
    small = store.create_key("m11-quota", quota=2)

    def post(key: str | None) -> httpx.Response:
        h = {"Authorization": f"Bearer {key}"} if key else {}
        return c.post("/v1/jobs", json={"gate": "nope"}, headers=h)  # a write that does no work

    r = post(None)
    out.append(("no key -> 401", r.status_code == 401, str(r.status_code)))
    r = post("wg_not-a-key")
    out.append(("unknown key -> 401", r.status_code == 401, str(r.status_code)))
    r = post(revoked["key"])
    out.append(("revoked -> 403", r.status_code == 403, str(r.status_code)))
    codes = [post(slow["key"]) for _ in range(6)]
    limited = [r for r in codes if r.status_code == 429]
    ok = bool(limited) and all(r.headers.get("retry-after", "").isdigit() for r in limited)
    out.append(("over the rate -> 429 + Retry-After", ok, str([r.status_code for r in codes])))
    codes = [post(small["key"]).status_code for _ in range(3)]
    out.append(("over the quota -> 429", codes[-1] == 429 and 429 not in codes[:2], str(codes)))
    r = c.get("/v1/gates")
    out.append(("open reads on localhost", r.status_code == 200, str(r.status_code)))
    return out
