"""gate m11's run: a `gate serve` child on a free loopback port, then the contract, the keys, the
load figures and a schemathesis run against it; pictures of latency and throughput."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx

from gates.m11.contract import contract, key_checks, planned_gate
from shell.errors import Unavailable
from shell.server.load import cheap_load, start_server, step_load, stream_load
from shell.server.store import Store


def run(ctx: Any) -> None:
    cfg = ctx.config
    st = _schemathesis()
    db = ctx.run_dir / "server.db"
    store = Store(db)
    admin = store.create_key("m11-admin")["key"]
    planned = planned_gate()
    args = ["--db", str(db), "--job-gates", f"m1,{planned}", "--job-workers", "2",
            "--threads", str(cfg.threads)]  # fmt: skip
    srv = start_server(args)
    ctx.say(f"m11: gate serve at {srv.url}")
    try:
        _measure(ctx, cfg, srv.url, admin, store, st, planned)
    finally:
        srv.stop()
        store.close()


def _measure(ctx: Any, cfg: Any, url: str, admin: str, store: Store, st: str, planned: str) -> None:
    from shell.pictures import histogram, line_plot

    checks = contract(url, admin, planned)
    _report(ctx, "contract", checks)
    with httpx.Client(base_url=url, timeout=30) as c:
        keys = key_checks(c, store)
    _report(ctx, "keys", keys)

    lat = asyncio.run(step_load(url, admin, cfg.sessions, cfg.latency_seconds, rate_hz=cfg.rate_hz))
    server = _stats(url)
    ctx.say(f"m11: latency at {cfg.sessions} sessions x {cfg.rate_hz:g} Hz: "
            f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms "
            f"({lat['steps']} steps)")  # fmt: skip
    ctx.metric("sessions", cfg.sessions)
    ctx.metric("rate_hz", cfg.rate_hz, "Hz")
    ctx.metric("p50_ms", lat["p50_ms"], "ms")
    ctx.metric("p99_ms", lat["p99_ms"], "ms")
    ctx.metric("server_step_p95_ms", server["step_ms_p95"] or float("nan"), "ms")
    ctx.metric("server_step_p99_ms", server["step_ms_p99"] or float("nan"), "ms")
    ws = asyncio.run(stream_load(url, admin, cfg.sessions, cfg.latency_seconds / 2,
                                 rate_hz=cfg.rate_hz))  # fmt: skip
    ctx.metric("ws_p95_ms", ws["p95_ms"], "ms")  # reported beside the REST figure, not judged
    ctx.metric("ws_p99_ms", ws["p99_ms"], "ms")
    ctx.say(f"m11: the same over WebSockets: p50 {ws['p50_ms']:.1f} ms, p95 {ws['p95_ms']:.1f} ms "
            f"({ws['steps']} steps)")  # fmt: skip
    ctx.picture("latency_histogram.png", histogram(
        lat["latencies_ms"], f"step latency, {cfg.sessions} sessions x {cfg.rate_hz:g} Hz",
        xlabel="ms (client side)"))  # fmt: skip

    curve = []
    total, errors = lat["steps"] + ws["steps"], lat["errors"] + ws["errors"]
    for n in cfg.curve:
        before = _stats(url)
        r = asyncio.run(step_load(url, admin, n, cfg.curve_seconds))
        after = _stats(url)
        sizes = {k: v - before["batch_sizes"].get(k, 0) for k, v in after["batch_sizes"].items()}
        sizes = {k: v for k, v in sizes.items() if v}
        mean = sum(int(k) * v for k, v in sizes.items()) / max(1, sum(sizes.values()))
        curve.append((n, r["frames_per_s"], r["p95_ms"], mean))
        total, errors = total + r["steps"], errors + r["errors"]
        ctx.metric(f"frames_per_s_{n}", r["frames_per_s"], "frames/s")
        ctx.metric(f"p95_ms_closed_{n}", r["p95_ms"], "ms")
        ctx.metric(f"mean_batch_{n}", mean)
        ctx.say(f"m11: {n:>3} sessions closed loop: {r['frames_per_s']:.1f} frames/s, "
                f"p95 {r['p95_ms']:.0f} ms, batch sizes {sizes}")  # fmt: skip
    xs = [c[0] for c in curve]
    ctx.picture("throughput_vs_concurrency.png", line_plot(
        {"frames/s": [c[1] for c in curve], "mean batch": [c[3] for c in curve]},
        "batched frames/s vs concurrent sessions (closed loop)", x=xs,
        xlabel="concurrent sessions", ylabel="frames/s | batch size"))  # fmt: skip

    cheap = asyncio.run(cheap_load(url, cfg.cheap_seconds, cfg.cheap_conns))
    total, errors = total + cheap["requests"], errors + cheap["errors"]
    ctx.say(f"m11: GET /v1/health: {cheap['rps']:.0f} req/s over {cheap['conns']} connections")

    fuzz = _fuzz(ctx, st, url, admin, cfg)
    ctx.metric("requests", total)
    ctx.check("contract", float(all(ok for _, ok, _ in checks)))
    ctx.check("keys", float(all(ok for _, ok, _ in keys)))
    ctx.check("p95_ms", lat["p95_ms"])
    ctx.check("success_rate", (total - errors) / total if total else 0.0)
    ctx.check("cheap_rps", cheap["rps"])
    ctx.check("fuzz_failures", fuzz)


def _report(ctx: Any, what: str, checks: list) -> None:
    bad = [(n, d) for n, ok, d in checks if not ok]
    ctx.metric(f"{what}_checks", len(checks))
    ctx.metric(f"{what}_failed", len(bad))
    for n, d in bad:
        ctx.say(f"m11: {what}: FAILED {n}: {d}")
    ctx.receipt.emit("checks", group=what, checks=[{"name": n, "passed": ok, "detail": d}
                                                   for n, ok, d in checks])  # fmt: skip


def _stats(url: str) -> dict:
    doc = httpx.get(url + "/v1/stats", timeout=30).json()
    return doc["models"].get("predictor") or {"batch_sizes": {}, "step_ms_p95": None}


def _schemathesis() -> str:
    exe = Path(sys.executable).with_name("schemathesis")
    found = str(exe) if exe.is_file() else shutil.which("schemathesis")
    if not found:
        raise Unavailable("schemathesis is not installed here: `uv sync` (it is a dev dependency)")
    return found


def _fuzz(ctx: Any, st: str, url: str, key: str, cfg: Any) -> int:
    """schemathesis against /openapi.json: 5xx, responses off their schema, undocumented status
    codes or content types. Returns the number of failing test cases (JUnit report)."""
    report = ctx.run_dir / "schemathesis.xml"
    argv = [st, "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {key}",
            "-n", str(cfg.fuzz_examples), "--max-time", str(max(1, round(cfg.fuzz_seconds))), "--seed", str(ctx.seed),
            "-c", "not_a_server_error,response_schema_conformance,status_code_conformance,"
                  "content_type_conformance",
            "--report", "junit", "--report-junit-path", str(report), "--no-color"]  # fmt: skip
    r = subprocess.run(argv, capture_output=True, text=True, timeout=cfg.fuzz_seconds + 60,
                       cwd=ctx.run_dir)  # its .schemathesis/ example database lands there  # fmt: skip
    (ctx.run_dir / "schemathesis.txt").write_text(r.stdout + r.stderr)
    if not report.is_file():
        raise RuntimeError(f"schemathesis wrote no report (exit {r.returncode}): {r.stderr[-300:]}")
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    ctx.metric("fuzz_operations", cases)
    ctx.say(f"m11: schemathesis: {cases} operations, {failed} failing "
            f"(exit {r.returncode}; {ctx.run_dir / 'schemathesis.txt'})")  # fmt: skip
    return failed if failed or r.returncode == 0 else max(1, failed)
