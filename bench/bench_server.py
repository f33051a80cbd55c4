"""Benchmark of `gate serve` (figures go in docs/serve.md): frames/s served vs concurrent play sessions,
with and without dynamic batching, side by side in one run, p95 step latency at each.

Two `gate serve` children on free 127.0.0.1 ports (one --batching, one --no-batching, both one torch
thread), driven in turn by the same asyncio load client (closed loop: every session steps again as soon
as its frame arrives; frames come back as PNG). Levels are interleaved: batched then unbatched at each N.

    uv run python bench/bench_server.py [--sessions 1,8,64,256] [--seconds 6] [--format png]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from shell.server.load import start_server, step_load
from shell.server.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="1,8,64,256")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--format", default="png", choices=["png", "raw", "none"])
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    a = ap.parse_args()
    levels = [int(x) for x in a.sessions.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    db = tmp / "server.db"
    key = Store(db).create_key("bench")["key"]
    common = ["--db", str(db), "--threads", str(a.threads), "--max-batch", str(a.max_batch)]
    env = {"GATE_STATE": str(tmp)}
    servers = {
        "batched": start_server([*common, "--batching"], env),
        "unbatched": start_server([*common, "--no-batching"], env),
    }
    rows = []
    try:
        for srv in servers.values():  # load the model in each before timing
            asyncio.run(step_load(srv.url, key, 1, 0.5, a.format))
        print(f"# {a.seconds:g} s per level, frames as {a.format}, {a.threads} torch thread(s)")
        print("| sessions | mode | frames/s | p50 ms | p95 ms | mean batch | steps |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for n in levels:
            for mode, srv in servers.items():
                before = _sizes(srv.url)
                t0 = time.perf_counter()
                r = asyncio.run(step_load(srv.url, key, n, a.seconds, a.format))
                after = _sizes(srv.url)
                d = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
                mean = sum(int(k) * v for k, v in d.items()) / max(1, sum(d.values()))
                row = {"sessions": n, "mode": mode, "frames_per_s": r["frames_per_s"],
                       "p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"], "mean_batch": mean,
                       "steps": r["steps"], "errors": r["errors"], "batch_sizes": d,
                       "wall_s": time.perf_counter() - t0}  # fmt: skip
                rows.append(row)
                print(f"| {n} | {mode} | {r['frames_per_s']:.1f} | {r['p50_ms']:.0f} | "
                      f"{r['p95_ms']:.0f} | {mean:.1f} | {r['steps']} |", flush=True)  # fmt: skip
    finally:
        for srv in servers.values():
            srv.stop()
    by = {(r["sessions"], r["mode"]): r for r in rows}
    for n in levels:
        b, u = by[(n, "batched")], by[(n, "unbatched")]
        gain = b["frames_per_s"] / u["frames_per_s"] if u["frames_per_s"] else float("nan")
        print(f"# {n} sessions: batching x{gain:.2f} frames/s")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


def _sizes(url: str) -> dict[str, int]:
    doc = httpx.get(url + "/v1/stats", timeout=30).json()
    return (doc["models"].get("predictor") or {}).get("batch_sizes", {})


if __name__ == "__main__":
    main()
