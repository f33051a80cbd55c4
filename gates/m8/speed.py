"""Interactive speed as a player gets it: shell.play.Player stepping one generated frame per action at
batch 1 (predict, feed back, a uint8 frame on the host), timed frame by frame."""

from __future__ import annotations

import resource
import time
from typing import Any

import torch

from shell.play import Player
from shell.threads import set_threads


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def play_speed(model: Any, first: Any, device: Any, threads: int, frames: int, warmup: int,
               seed: int) -> dict[str, float]:  # fmt: skip
    """-> fps (frames / wall seconds), p95_ms of one frame, cpu_share (CPU seconds per wall second)."""
    set_threads(threads)
    player = Player.start(model, first, seed, device)
    gen = torch.Generator().manual_seed(seed)
    acts = torch.randint(0, model.n_actions, (warmup + frames,), generator=gen).tolist()
    for a in acts[:warmup]:
        player.step(a)
    times, c0, t0 = [], _cpu_seconds(), time.perf_counter()
    for a in acts[warmup:]:
        s = time.perf_counter()
        player.step(a)  # returns the frame on the host: a CUDA step is waited for
        times.append(time.perf_counter() - s)
    wall = time.perf_counter() - t0
    times.sort()
    return {
        "fps": frames / wall,
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
        "cpu_share": (_cpu_seconds() - c0) / wall,
    }


def tier(fps: float, tiers: tuple[tuple[str, float], ...]) -> str:
    """The best of the roadmap's tiers whose FPS this reaches, else "below every tier"."""
    return next((name for name, need in tiers if fps >= need), "below every tier")
