"""Micro benchmark of the built-in platformer: env steps/s for step alone, step + 72x80 shades, and
step + 256x256 RGB, at several batch sizes.

    uv run python bench/bench_platformer.py [--device cpu|cuda] [--n 1,256,4096] [--seconds 2]
        [--threads T]

Frames are rendered into the previous frame's memory (`out=`), as a data-collection loop would.
On a shared machine, other processes' load swings these figures.
"""

from __future__ import annotations

import argparse
import os
import time

# Busy-waiting OpenMP workers collapse throughput (10x and worse) when other processes share the
# cores; set before torch loads its OpenMP runtime. Export OMP_WAIT_POLICY=ACTIVE to compare.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from core.games import get_game  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(game, n: int, mode: str, device: torch.device, seconds: float) -> float:
    """Env steps per second (n envs x frames / wall time) for `mode` in step | shades | rgb."""
    state = game.reset(0, n, device)
    render = {"step": None, "shades": game.render_shades, "rgb": game.render_rgb}[mode]
    gen = torch.Generator(device="cpu").manual_seed(0)
    acts = torch.randint(0, len(game.actions), (64, n), generator=gen).to(device)  # [T, N]

    frame = None

    def run(frames: int) -> None:
        nonlocal state, frame
        for i in range(frames):
            state, _ = game.step(state, acts[i % 64])
            if render is not None:
                frame = render(state, out=frame)  # reuse the frame's memory, as a data loop would

    run(3)  # warm-up: allocator, kernels
    _sync(device)
    frames, t0 = 0, time.perf_counter()
    while True:
        run(4)
        frames += 4
        _sync(device)
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * frames / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", default="1,256,4096", help="comma-separated batch sizes")
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum timed wall time per cell")
    ap.add_argument("--game", default="platformer")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    game = get_game(args.game)
    omp = os.environ["OMP_WAIT_POLICY"]
    print(
        f"{args.game} on {device}: torch {torch.__version__}, {torch.get_num_threads()} threads, {omp=}"
    )
    print(f"{'N':>6} {'step only':>14} {'step+72x80':>14} {'step+256x256':>14}   (env steps/s)")
    for n in (int(x) for x in args.n.split(",")):
        row = [bench(game, n, mode, device, args.seconds) for mode in ("step", "shades", "rgb")]
        print(f"{n:>6} " + " ".join(f"{v:>14,.0f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
