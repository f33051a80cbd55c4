"""Gate m8's pictures: frames/s and peak memory per row of the tiers table, the roadmap's tiers drawn."""

from __future__ import annotations

from gates.m8.spec import MEMORY_GB, TIERS
from shell import pictures


def draw(ctx, rows: list[dict]) -> None:
    """rows: {"label", "fps", "memory_gb", ...} per (model, device, threads)."""
    fps = {r["label"]: {"frames/s at batch 1": r["fps"]} for r in rows}
    ctx.picture("m8_tiers.png", pictures.bars(
        fps, "m8: interactive play per model and setting (this machine)", ylabel="frames per second",
        lines={f"{name}: {need:g} FPS": need for name, need in TIERS}))  # fmt: skip
    mem = {r["label"]: {"peak memory": r["memory_gb"]} for r in rows}
    ctx.picture("m8_memory.png", pictures.bars(
        mem, "m8: peak memory while playing (RSS on the CPU, VRAM on CUDA)", ylabel="GB",
        lines={f"budget {MEMORY_GB:g} GB": MEMORY_GB}))  # fmt: skip
