"""Benchmarks of gate m3 (figures go in README.md, "m3: goal detection").

1. Replay: steps/s of the harness (pyboy backend + shade pipeline + matcher + reducer, as `gate m3` runs
   them) against a bare PyBoy loop doing the same ticks (press, 8 frames, release, 16 frames, render the
   last), in the same process, interleaved; target overhead < 10%.
2. Matcher: core.goal.dist on N shade frames [N, 72, 80] on the CPU against a plain copy of the same bytes
   (frames.clone()), N = 1, 1024, 16384; target < 2x the copy.

    uv run python bench/bench_m3.py [--rounds 7] [--replays 8] [--device cpu]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import torch

from core import goal as G
from gates.m3.replay import one_cpu_thread
from shell.backends.pyboy import BUTTONS, FRAMES_PER_STEP, RELEASE_AFTER, PyBoyBackend
from shell.trace import load_actions

REPO = Path(__file__).resolve().parents[1]
ROM, STATE = REPO / "roms/worldgate.gb", REPO / "traces/m3/start.state"
TRACE, TEMPLATE = (
    REPO / "traces/m3/actions.jsonl",
    REPO / "artifacts/m3/goal_template/goal_template.npy",
)


def bare(pb, state: bytes, actions: list[int], replays: int) -> float:
    t = time.perf_counter()
    for _ in range(replays):
        pb.load_state(io.BytesIO(state))
        for a in actions:
            pb.button_press(BUTTONS[a])
            pb.tick(RELEASE_AFTER, False)
            pb.button_release(BUTTONS[a])
            pb.tick(FRAMES_PER_STEP - RELEASE_AFTER, True)
    return time.perf_counter() - t


def harness(b: PyBoyBackend, goal: torch.Tensor, rows: list[list[int]], replays: int) -> float:
    t = time.perf_counter()
    with one_cpu_thread(b.device):
        for _ in range(replays):
            b.reset(0)
            consec = G.init_consec(1, b.device)
            for row in rows:
                frames, _ = b.step(row)
                consec, _, _ = G.step(consec, frames, goal, 0.07, 2)
    if b.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def replay_bench(rounds: int, replays: int, device: str) -> None:
    import numpy as np
    from pyboy import PyBoy

    rows = load_actions(TRACE)
    state = STATE.read_bytes()
    goal = torch.from_numpy(np.load(TEMPLATE)).to(device)
    b = PyBoyBackend(1, device, rom=ROM, state=state)
    pb = PyBoy(str(ROM), window="null", sound_emulated=False)
    steps = replays * len(rows)
    harness(b, goal, rows, 1), bare(pb, state, [r[0] for r in rows], 1)  # warm up
    tb, th = [], []
    for _ in range(rounds):
        tb.append(bare(pb, state, [r[0] for r in rows], replays))
        th.append(harness(b, goal, rows, replays))
    mb, mh = statistics.median(tb), statistics.median(th)
    over = [h / x - 1 for h, x in zip(th, tb, strict=True)]
    print(
        f"replay ({device}, N=1, {steps} steps x {rounds} rounds): bare PyBoy {steps / mb:.0f} steps/s, "
        f"harness {steps / mh:.0f} steps/s, overhead {mh / mb - 1:+.1%} "
        f"(per round: min {min(over):+.1%}, max {max(over):+.1%}); "
        f"{(mh - mb) / steps * 1e6:.0f} us/step on top of {mb / steps * 1e6:.0f} us/step"
    )
    b.close()
    pb.stop(save=False)


def timed(fn, rounds: int) -> float:
    fn()
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def matcher_bench(rounds: int) -> None:
    gen = torch.Generator().manual_seed(0)
    goal = torch.randint(0, 4, (72, 80), generator=gen, dtype=torch.uint8)
    for n in (1, 1024, 16384):
        frames = torch.randint(0, 4, (n, 72, 80), generator=gen, dtype=torch.uint8)
        tc = timed(lambda f=frames: f.clone(), rounds)
        td = timed(lambda f=frames: G.dist(f, goal), rounds)
        mb = frames.numel() / 1e6
        print(
            f"matcher (cpu, {torch.get_num_threads()} threads) N={n:>5}: dist {td * 1e3:8.3f} ms "
            f"({n / td:,.0f} frames/s), copy {tc * 1e3:8.3f} ms ({mb:.1f} MB), ratio {td / tc:.2f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="repeats; the median is reported")
    ap.add_argument("--replays", type=int, default=8, help="trace replays per replay round")
    ap.add_argument("--device", default="cpu", help="where the harness keeps its tensors")
    args = ap.parse_args()
    replay_bench(args.rounds, args.replays, args.device)
    matcher_bench(args.rounds)
    if torch.get_num_threads() > 1:  # OpenMP workers fight other load for the cores: show both
        torch.set_num_threads(1)
        matcher_bench(args.rounds)


if __name__ == "__main__":
    main()
