"""Gate m8's run: the judged world model and every world-model golden played at batch 1 on this CPU
(1 and 2 threads) and on CUDA where present; memory, file size, the m4/m5 verdicts on the same
weights, and a fresh clone's set-up time (definitions in gates/m8/__init__.py)."""

from __future__ import annotations

import gc
import math
import os
import re
from pathlib import Path
from typing import Any

import orjson
import torch
from safetensors import safe_open

from core.games import get_game
from gates.common.evaldata import peak_memory_gb, resolve_model
from gates.m8 import spec
from gates.m8.pictures import draw
from gates.m8.setup import time_setup
from gates.m8.speed import play_speed, tier
from shell import ledger, models, paths
from shell.errors import BadInput
from shell.store import sha256_file


def evaluate(ctx) -> None:
    cfg = ctx.config
    if cfg.game != "platformer":
        raise BadInput(f"game {cfg.game}: m8 plays the built-in platformer")
    if cfg.frames < 1 or cfg.warmup < 0:
        raise BadInput(f"frames {cfg.frames}, warmup {cfg.warmup}: >= 1 timed frame, >= 0 before")
    game = get_game(cfg.game)
    want = {"game": cfg.game, "n_actions": len(game.actions)}
    entry, path = resolve_model(ctx, "m8", "world_model", "predictor", golden_gate="m4")
    first = game.render_rgb(game.reset(cfg.eval_seed, 1, "cpu"))[0]  # uint8 [H, W, 3]
    others = [(e, p) for e, p in models.goldens("world_model") if path is None or p != path]
    cuda = torch.cuda.is_available() and ctx.device.type != "cpu"
    rows: list[dict[str, Any]] = []
    with ctx.progress(1 + len(others), "m8: playing each model") as advance:
        rows += _rows(entry, path, want, first, cfg, cuda, ctx, judged=True)
        advance(1)
        for e, p in others:
            try:
                rows += _rows(e, p, want, first, cfg, cuda, ctx, judged=False)
            except BadInput as err:  # a golden of another game or action set: not a row here
                ctx.say(f"m8: {_name(p, e.name)} left out: {err}")
            advance(1)
    judged = [r for r in rows if r["judged"]]
    for r in rows:
        slug = re.sub(r"[^a-z0-9]+", "_", r["label"].lower()).strip("_")
        ctx.metric(f"fps_{slug}", r["fps"], "FPS")
        ctx.metric(f"p95_ms_{slug}", r["p95_ms"], "ms")
    ctx.check("fps", next(r["fps"] for r in judged if r["device"] == "cpu" and r["threads"] == 2))
    peak = peak_memory_gb(torch.device("cpu"))  # the process's peak RSS
    ctx.metric("peak_rss_gb", peak, "GB")
    vram = max((r["memory_gb"] for r in judged if r["device"] == "cuda"), default=0.0)
    if cuda:
        ctx.metric("cuda_max_memory_gb", vram, "GB")
        ctx.check(
            "cpu_share_on_cuda", next(r for r in judged if r["device"] == "cuda")["cpu_share"]
        )
    ctx.check("memory_gb", max(peak, vram))
    if path is not None:  # a model shipped inside its package has no folder to weigh: unmeasured
        ctx.metric("model_params", _params(path))
        ctx.check("model_file_gb", _folder_bytes(path) / 1e9)
    ctx.check("quality", _quality(ctx, path))
    if cfg.setup:
        budget = 60 * spec.SETUP_MINUTES  # past the threshold the answer is known: stop there
        given = str(path.resolve()) if path is not None else entry.name
        secs, line = time_setup(paths.root(), given, budget)
        ctx.say(f"m8: set-up: {line}")
        if secs is not None:
            ctx.check("setup_minutes", secs / 60)
    else:
        ctx.say("m8: set-up: not measured (setup=false)")
    for r in rows:
        r["tier"] = tier(r["fps"], spec.TIERS)
    _table(ctx, rows)
    draw(ctx, rows)
    ctx.bundle_file(
        "inputs.json", orjson.dumps({"model": entry.name, "path": str(path), "rows": rows})
    )


def _rows(entry, path, want, first, cfg, cuda: bool, ctx, judged: bool) -> list[dict[str, Any]]:
    """One row per setting: CPU at each of spec.THREADS, then CUDA (2 threads) where present; the
    model loaded on each device afresh."""
    name = _name(path, entry.name)
    out = []
    for dev, threads in [("cpu", t) for t in spec.THREADS] + ([("cuda", 2)] if cuda else []):
        device = torch.device(dev)
        model = models.load(entry, path, device, want)
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        s = play_speed(model, first, device, threads, cfg.frames, cfg.warmup, cfg.eval_seed)
        mem = torch.cuda.max_memory_allocated(device) / 1e9 if dev == "cuda" else _rss_gb()
        label = f"{name} {dev}" + (f" {threads}t" if dev == "cpu" else "")
        out.append({"label": label, "name": name, "device": dev, "threads": threads,
                    "memory_gb": mem, "judged": judged, **s})  # fmt: skip
        ctx.say(f"m8: {label}: {s['fps']:.1f} FPS, p95 {s['p95_ms']:.1f} ms, {mem:.2f} GB")
        del model
        gc.collect()
    return out


def _name(path: Path | None, fallback: str) -> str:
    """A row's model: the artifact folder relative to the project (`artifacts/m2/predictor`)."""
    if path is None:
        return fallback
    try:
        return str(path.resolve().relative_to(paths.root().resolve()))
    except ValueError:
        return str(path)


def _rss_gb() -> float:
    """Resident memory now (not the peak), from /proc on Linux; the peak elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (OSError, ValueError, IndexError):
        return peak_memory_gb(torch.device("cpu"))


def _params(path: Path) -> int:
    """Parameters stored in the folder's safetensors files (what the file size is made of)."""
    n = 0
    for f in sorted(path.glob("*.safetensors")):
        with safe_open(str(f), "pt") as t:
            n += sum(math.prod(t.get_slice(k).get_shape()) for k in t.keys())  # noqa: SIM118 (not a dict)
    return n


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _quality(ctx, path: Path | None) -> float:
    """1 when the weights (sha256 of every .safetensors file) are those of a passing m4 run and a
    passing m5 run of the ledger, else 0; says which is missing."""
    if path is None:
        ctx.say(
            "m8: quality: the model has no artifact folder whose weights m4 and m5 could have judged"
        )
        return 0.0
    shas = {sha256_file(f) for f in sorted(path.glob("*.safetensors"))}
    found = {}
    for gate in ("m4", "m5"):
        # the gate's own judgements only: a train or pose verb that wrote these weights passes too
        runs = ledger.query_runs(paths.ledger_path(), gate=gate, verdict="pass", kind="gate")
        found[gate] = next((r["id"] for r in runs if shas <= set(r["inputs"].values())), None)
    for gate, run in found.items():
        ctx.say(f"m8: quality: {gate} " + (f"passed on these weights (run {run})" if run
                else "has no passing run on these weights"))  # fmt: skip
    return float(bool(shas) and all(found.values()))


def _table(ctx, rows: list[dict[str, Any]]) -> None:
    """The settings slider: which model at which setting reaches which of the roadmap's tiers here."""
    lines = ["| model | device | threads | FPS | p95 ms | memory GB | tier reached here |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in sorted(rows, key=lambda r: -r["fps"]):
        lines.append(f"| {r['name']} | {r['device']} | {r['threads']} | {r['fps']:.1f} | "
                     f"{r['p95_ms']:.1f} | {r['memory_gb']:.2f} | {r['tier']} |")  # fmt: skip
    ctx.say("m8: tiers (frames/s at batch 1, 256x256, one frame of context)\n" + "\n".join(lines))
