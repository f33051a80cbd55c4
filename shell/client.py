"""The Python client of `gate serve` (synchronous, httpx + websockets).

    from shell.client import Client

    with Client("http://127.0.0.1:8000", key="wg_...") as api:
        with api.session(seed=0) as s:
            frames = s.rollout([1, 1, 3, 0])  # uint8 [H, W, 3] each, over REST
            frames += s.stream([1, 2, 2])     # the same over the WebSocket

Errors are APIError(status, problem): the server's problem+json, field named.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import httpx
import orjson


class APIError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('detail', problem)}")
        self.status, self.problem = status, problem


def decode_frame(data: bytes, fmt: str, height: int, width: int) -> Any:
    """PNG or raw RGB bytes -> numpy uint8 [H, W, 3]."""
    import numpy as np

    if fmt == "raw":
        return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


class Client:
    def __init__(self, url: str = "http://127.0.0.1:8000", key: str | None = None,
                 timeout: float = 60.0) -> None:  # fmt: skip
        self.url, self.key = url.rstrip("/"), key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _do(self, method: str, path: str, **kw: Any) -> Any:
        r = self.http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text[:200]}
            raise APIError(r.status_code, problem)
        return r.json() if "json" in r.headers.get("content-type", "") else r.content

    # models and harness (reads)
    def health(self) -> dict:
        return self._do("GET", "/v1/health")

    def models(self) -> list[dict]:
        return self._do("GET", "/v1/models")["models"]

    def gates(self) -> list[dict]:
        return self._do("GET", "/v1/gates")["gates"]

    def status(self) -> dict:
        return self._do("GET", "/v1/status")

    def stats(self) -> dict:
        return self._do("GET", "/v1/stats")

    def runs(self, **filters: Any) -> list[dict]:
        """filters: gate, verdict (pass|fail|error), since, until (ISO dates), limit."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._do("GET", "/v1/runs", params=params)["runs"]

    def run(self, run_id: str) -> dict:
        return self._do("GET", f"/v1/runs/{run_id}")

    def receipt(self, run_id: str) -> list[dict]:
        return self._do("GET", f"/v1/runs/{run_id}/receipt")["lines"]

    def picture(self, run_id: str, name: str) -> bytes:
        return self._do("GET", f"/v1/runs/{run_id}/pictures/{name}")

    # jobs
    def submit(self, gate: str, **kw: Any) -> dict:
        """kw: seed, model, config (dict), retries."""
        return self._do("POST", "/v1/jobs", json={"gate": gate, **kw})

    def submit_batch(self, runs: list[dict], budget_s: float | None = None) -> dict:
        return self._do("POST", "/v1/batches", json={"runs": runs, "budget_s": budget_s})

    def job(self, job_id: str) -> dict:
        return self._do("GET", f"/v1/jobs/{job_id}")

    def batch(self, batch_id: str) -> dict:
        return self._do("GET", f"/v1/batches/{batch_id}")

    def cancel(self, job_id: str) -> dict:
        return self._do("POST", f"/v1/jobs/{job_id}/cancel")

    def wait(self, job_id: str, timeout: float = 120.0, poll: float = 0.2) -> dict:
        """Poll a job until it is final (passed, failed, error, cancelled, skipped)."""
        t0 = time.monotonic()
        while True:
            job = self.job(job_id)
            if job["state"] not in ("queued", "running"):
                return job
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout:g} s")
            time.sleep(poll)

    # play
    def create_session(self, model: str = "predictor", seed: int = 0,
                       start_png: bytes | None = None) -> dict:  # fmt: skip
        body: dict[str, Any] = {"model": model, "seed": seed}
        if start_png is not None:
            body["start_png"] = base64.b64encode(start_png).decode()
        return self._do("POST", "/v1/sessions", json=body)

    def step(self, session_id: str, action: int, format: str = "png") -> dict:
        """The server's step reply, with `frame_bytes` decoded from base64."""
        out = self._do("POST", f"/v1/sessions/{session_id}/step",
                       json={"action": action, "format": format})  # fmt: skip
        out["frame_bytes"] = base64.b64decode(out["data"]) if out.get("data") else None
        return out

    def end_session(self, session_id: str) -> dict:
        return self._do("DELETE", f"/v1/sessions/{session_id}")

    def session(self, model: str = "predictor", seed: int = 0,
                start_png: bytes | None = None) -> PlaySession:  # fmt: skip
        return PlaySession(self, self.create_session(model, seed, start_png))


class PlaySession:
    """A session that ends itself: step/rollout over REST, stream over the WebSocket."""

    def __init__(self, client: Client, info: dict) -> None:
        self.client, self.info, self.id = client, info, info["id"]
        self.timings: list[dict] = []  # per streamed frame: client and server ms

    def __enter__(self) -> PlaySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

    def step(self, action: int, format: str = "png") -> Any:
        r = self.client.step(self.id, action, format)
        return decode_frame(r["frame_bytes"], format, r["height"], r["width"])

    def rollout(self, actions: list[int], format: str = "png") -> list[Any]:
        return [self.step(a, format) for a in actions]

    def stream(self, actions: list[int], format: str = "png") -> list[Any]:
        """Play the actions over /v1/sessions/{id}/stream: one frame back per action."""
        from websockets.sync.client import connect

        ws_url = self.client.url.replace("http", "ws", 1) + f"/v1/sessions/{self.id}/stream"
        q = f"?format={format}" + (f"&key={self.client.key}" if self.client.key else "")
        frames = []
        with connect(ws_url + q, max_size=None) as ws:
            for a in actions:
                t0 = time.perf_counter()
                ws.send(orjson.dumps({"action": a}).decode())
                meta = orjson.loads(ws.recv())
                if "error" in meta:
                    raise APIError(meta["error"]["status"], meta["error"])
                data = ws.recv()
                ms = (time.perf_counter() - t0) * 1000.0
                self.timings.append({"frame": meta["frame"], "client_ms": ms,
                                     "server_ms": meta["server_ms"]})  # fmt: skip
                frames.append(decode_frame(data, format, self.info["height"], self.info["width"]))
        return frames

    def end(self) -> None:
        try:
            self.client.end_session(self.id)
        except APIError as e:
            if e.status not in (404, 410):
                raise
