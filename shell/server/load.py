"""A load generator for gate m11 and bench/bench_server.py: start a `gate serve` child on a free
loopback port, then drive it from asyncio (httpx over keep-alive connections).

step_load: N play sessions stepping as fast as their replies come back (closed loop), each step timed
by the client. cheap_load: GET /v1/health from C connections for a fixed time.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Server:
    proc: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # our own child, by its handle
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 60.0
) -> Server:
    """`gate serve --port 0 ARGS` on 127.0.0.1; returns once it printed its URL."""
    argv = [sys.executable, "-m", "shell", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})  # fmt: skip
    t0 = time.monotonic()
    assert proc.stdout is not None
    while time.monotonic() - t0 < timeout:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("gate serve: http://"):
            return Server(proc, line.split()[2].rstrip("/"))
    proc.kill()
    raise RuntimeError(f"gate serve did not start (exit {proc.poll()})")


def quantile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


async def _paced(deadline: float, rate_hz: float, rng: random.Random) -> AsyncIterator[None]:
    """Yield when a player's next step is due until the deadline: at once (closed loop, rate 0), or
    every 1/rate_hz s from a random phase; a late step is not made up for."""
    tick = time.monotonic() + rng.random() / rate_hz if rate_hz else 0.0
    while time.monotonic() < deadline:
        if rate_hz:
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            tick = max(tick + 1.0 / rate_hz, time.monotonic())
        yield


async def step_load(url: str, key: str, sessions: int, seconds: float, fmt: str = "png",
                    rate_hz: float = 0.0, seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """rate_hz 0: closed loop, every session steps again as soon as its frame arrives; else each
    session sends one action every 1/rate_hz s (a player at that frame rate; late replies are not
    made up for)."""
    import httpx

    rng = random.Random(seed)
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=sessions + 4, max_keepalive_connections=sessions + 4)
    hdr = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=hdr, limits=limits, timeout=120) as c:
        made = await asyncio.gather(
            *(c.post("/v1/sessions", json={"seed": seed + i}) for i in range(sessions)),
            return_exceptions=True,
        )
        ids = [
            r.json()["id"] for r in made if isinstance(r, httpx.Response) and r.status_code == 201
        ]
        errors += sessions - len(ids)
        # one warm-up step each: the first forward passes are not what a player sees later
        await asyncio.gather(
            *(c.post(f"/v1/sessions/{s}/step", json={"action": 0}) for s in ids),
            return_exceptions=True,
        )
        deadline = time.monotonic() + seconds

        async def player(sid: str) -> None:
            nonlocal errors
            async for _ in _paced(deadline, rate_hz, rng):
                t0 = time.perf_counter()
                try:
                    r = await c.post(f"/v1/sessions/{sid}/step",
                                     json={"action": rng.randrange(5), "format": fmt})  # fmt: skip
                except httpx.HTTPError:  # a dropped connection counts against the success rate
                    errors += 1
                    continue
                if r.status_code != 200:
                    errors += 1
                    continue
                lat.append((time.perf_counter() - t0) * 1000.0)

        t0 = time.perf_counter()
        await asyncio.gather(*(player(s) for s in ids))
        wall = time.perf_counter() - t0
        await asyncio.gather(*(c.delete(f"/v1/sessions/{s}") for s in ids), return_exceptions=True)
    return {"sessions": sessions, "steps": len(lat), "errors": errors, "seconds": wall,
            "frames_per_s": len(lat) / wall if wall else 0.0, "p50_ms": quantile(lat, 0.5),
            "p95_ms": quantile(lat, 0.95), "p99_ms": quantile(lat, 0.99), "latencies_ms": lat}  # fmt: skip


async def cheap_load(url: str, seconds: float, conns: int = 16) -> dict[str, Any]:
    """GET /v1/health over `conns` keep-alive HTTP/1.1 connections for `seconds`.

    A bare asyncio client (one request in flight per connection, no pipelining): httpx costs more
    CPU per request than the server does, and on a shared 2-core machine the client would measure
    itself."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    req = f"GET /v1/health HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode()
    done = errors = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        try:
            while time.monotonic() < deadline:
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                done += 1
                errors += not head.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    wall = time.perf_counter() - t0
    return {"requests": done, "errors": errors, "seconds": wall, "rps": done / wall, "conns": conns}


async def stream_load(url: str, key: str, sessions: int, seconds: float, fmt: str = "png",
                      rate_hz: float = 0.0, seed: int = 0) -> dict[str, Any]:  # fmt: skip
    """As step_load, over each session's WebSocket stream (one connection per session)."""
    import httpx
    import orjson
    from websockets.asyncio.client import connect

    rng = random.Random(seed)
    lat: list[float] = []
    errors = 0
    hdr = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=hdr, timeout=120) as c:
        made = [await c.post("/v1/sessions", json={"seed": seed + i}) for i in range(sessions)]
        ids = [r.json()["id"] for r in made if r.status_code == 201]
        deadline = time.monotonic() + seconds
        ws_url = url.replace("http", "ws", 1)

        async def player(sid: str) -> None:
            nonlocal errors
            q = f"{ws_url}/v1/sessions/{sid}/stream?format={fmt}&key={key}"
            async with connect(q, max_size=None) as ws:
                async for _ in _paced(deadline, rate_hz, rng):
                    t0 = time.perf_counter()
                    await ws.send(orjson.dumps({"action": rng.randrange(5)}).decode())
                    meta = orjson.loads(await ws.recv())
                    if "error" in meta:
                        errors += 1
                        continue
                    await ws.recv()
                    lat.append((time.perf_counter() - t0) * 1000.0)

        t0 = time.perf_counter()
        got = await asyncio.gather(*(player(s) for s in ids), return_exceptions=True)
        errors += sum(isinstance(g, Exception) for g in got) + sessions - len(ids)
        wall = time.perf_counter() - t0
        await asyncio.gather(*(c.delete(f"/v1/sessions/{s}") for s in ids), return_exceptions=True)
    return {"sessions": sessions, "steps": len(lat), "errors": errors, "seconds": wall,
            "p50_ms": quantile(lat, 0.5), "p95_ms": quantile(lat, 0.95),
            "p99_ms": quantile(lat, 0.99), "latencies_ms": lat}  # fmt: skip
