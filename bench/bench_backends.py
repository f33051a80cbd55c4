"""Backend throughput: the built-in game through the `builtin` backend (env steps/s at several batch
sizes, rendering 256x256 RGB and 72x80 shades) beside ALE's single-env rate measured in the same run.

    uv run --extra ale python bench/bench_backends.py [--device cpu] [--n 1,256,4096] [--seconds 3]

ALE is timed two ways: the raw emulator (ALEInterface.act + getScreenRGB, frameskip 1: one emulated and
one returned frame per step, sticky actions off) and the `ale` backend at N=1 (the same plus the 256x256
resize and the torch tensor). Targets (on 2 cores): builtin at 72x80 >= 10x the raw ALE rate, at 256x256
>= the raw ALE rate. Without ale-py (`uv sync --extra ale`) the ALE columns say so.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import torch

from shell.registry import get_backend


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step, seconds: float, sync=lambda: None) -> float:
    """Calls of step() per second over at least `seconds` of wall time (after 3 warm-up calls)."""
    for _ in range(3):
        step()
    sync()
    calls, t0 = 0, time.perf_counter()
    while True:
        for _ in range(4):
            step()
        calls += 4
        sync()
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return calls / dt


def bench_builtin(n: int, render: str, device: torch.device, seconds: float) -> float:
    """Env steps/s of the builtin backend: n envs x steps / wall time, frames rendered every step."""
    b = get_backend("builtin").create(
        num_envs=n, device=device, render=render, validate=False, reuse_frames=True
    )
    b.reset(0)
    gen = torch.Generator(device="cpu").manual_seed(0)
    acts = torch.randint(0, b.codec.n, (64, n), generator=gen).to(device)  # int64 [64, N]
    i = 0

    def step() -> None:
        nonlocal i
        b.step(acts[i % 64])
        i += 1

    rate = n * timed(step, seconds, lambda: _sync(device))
    b.close()
    return rate


def bench_ale_raw(game: str, seconds: float) -> float:
    """Frames/s of one ALE emulator: act (frameskip 1, sticky off) + getScreenRGB per frame."""
    import ale_py
    from ale_py import roms

    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    ale = ale_py.ALEInterface()
    ale.setInt("random_seed", 0)
    ale.setFloat("repeat_action_probability", 0.0)
    ale.setInt("frame_skip", 1)
    ale.loadROM(roms.get_rom_path(game))
    actions = ale.getMinimalActionSet()
    i = 0

    def step() -> None:
        nonlocal i
        ale.act(actions[i % len(actions)])
        ale.getScreenRGB()
        if ale.game_over():
            ale.reset_game()
        i += 1

    return timed(step, seconds)


def bench_ale_backend(game: str, seconds: float) -> float:
    b = get_backend("ale").create(num_envs=1, device="cpu", game=game, frameskip=1)
    b.reset(0)
    i = 0

    def step() -> None:
        nonlocal i
        b.step([i % b.codec.n])
        i += 1

    rate = timed(step, seconds)
    b.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", default="1,256,4096", help="comma-separated batch sizes")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum timed wall time per cell")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--ale-game", default="pong")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"builtin on {device} (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    ale_raw = ale_be = None
    if importlib.util.find_spec("ale_py") is None:
        print("ALE: ale-py is not installed here (uv sync --extra ale): no ALE figures")
    else:
        ale_raw = bench_ale_raw(args.ale_game, args.seconds)
        ale_be = bench_ale_backend(args.ale_game, args.seconds)
        print(f"ALE {args.ale_game}, one env, frameskip 1: raw emulator {ale_raw:,.0f} frames/s; "
              f"ale backend (256x256 tensor) {ale_be:,.0f} frames/s")  # fmt: skip
    head = f"{'N':>6} {'72x80 steps/s':>16} {'256x256 steps/s':>16}"
    if ale_raw:
        head += f" {'72x80 / ALE':>12} {'256x256 / ALE':>14}"
    print(head)
    for n in (int(x) for x in args.n.split(",")):
        shades = bench_builtin(n, "shades", device, args.seconds)
        rgb = bench_builtin(n, "rgb", device, args.seconds)
        row = f"{n:>6} {shades:>16,.0f} {rgb:>16,.0f}"
        if ale_raw:
            row += f" {shades / ale_raw:>11.1f}x {rgb / ale_raw:>13.1f}x"
        print(row, flush=True)


if __name__ == "__main__":
    main()
