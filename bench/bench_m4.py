"""Interactive speed of the m4/m5 world model: frames/s of live play at batch 1 (256x256, one frame in,
each prediction fed back, as `gate play` and `gate serve` step it) at 1 and 2 CPU threads, and batch-N
throughput; beside it, in the same run, the built-in game itself rendering the same frames (the
peer: the ratio is what a noisy machine cannot fake).

    uv run python bench/bench_m4.py [--frames 200] [--model artifacts/m4/predictor] [--without-pose]

--without-pose steps the same weights with their pose slot (core/models/poses.py) switched off: the
two runs side by side price the slot.

Prints a Markdown table. The target (issue 11): >= 30 frames/s at batch 1 on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from core.metrics import to_unit
from core.models.protocols import one_frame_context, slide

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path):
    from shell.builtin_models import load_predictor

    return load_predictor(path, torch.device("cpu"), {})


@torch.no_grad()
def model_fps(model, first: torch.Tensor, batch: int, frames: int) -> float:
    x = to_unit(first[None]).expand(batch, -1, -1, -1)  # [B, 3, H, W]
    ctx = one_frame_context(x, model.context_frames)  # [B, K, 3, H, W]
    gen = torch.Generator().manual_seed(0)
    for i in range(frames + 10):  # 10 warm-up steps
        if i == 10:
            t0 = time.perf_counter()
        a = torch.randint(0, 5, (batch,), generator=gen)
        y = model.predict(ctx, a, torch.randn(batch, model.noise_dim, generator=gen))
        ctx = slide(ctx, y)
    return frames * batch / (time.perf_counter() - t0)


def game_fps(batch: int, frames: int) -> float:
    from core.games import get_game

    g = get_game("platformer")
    s = g.reset(0, batch, "cpu")
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(frames):
        s, _ = g.step(s, torch.randint(0, 5, (batch,), generator=gen))
        g.render_rgb(s)
    return frames * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--model", default=str(ROOT / "artifacts/m4/predictor"))
    ap.add_argument("--without-pose", action="store_true", help="switch the pose slot off")
    args = ap.parse_args()
    model = load(Path(args.model))
    if args.without_pose:
        from dataclasses import replace

        model.cfg = replace(model.cfg, poses=0)
    from core.games import get_game

    g = get_game("platformer")
    first = g.render_rgb(g.reset(0, 1, "cpu"))[0]
    slot = "off" if args.without_pose or not model.cfg.poses else "on"
    print(
        f"model: {args.model} (pose slot {slot}); {args.frames} frames per row (after 10 warm-up)\n"
    )
    print(
        "| threads | batch | model frames/s | ms per step (the batch) | game frames/s | model / game |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for threads, batch in ((1, 1), (2, 1), (2, 4), (2, 16)):
        torch.set_num_threads(threads)
        n = max(20, args.frames // batch)
        m, gm = model_fps(model, first, batch, n), game_fps(batch, n)
        print(
            f"| {threads} | {batch} | {m:.1f} | {1000 / m * batch:.1f} | {gm:.0f} | {m / gm:.3f} |"
        )


if __name__ == "__main__":
    main()
