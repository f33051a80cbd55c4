"""Gate m9's pictures: per genre the game, the specialised and the general model from one start; the
table of measures as bars."""

from __future__ import annotations

import torch

from gates.m9.spec import MEASURES
from shell import pictures

EVERY = 4  # frames shown: the last context frame, then every 4th generated one


def draw(ctx, firsts: dict[str, list[torch.Tensor]], rows: dict[str, dict[str, float]]) -> None:
    """firsts: genre -> [truth, specialised, general], each uint8 [2, 1 + H, 256, 256, 3] (two starts)."""
    for genre, (truth, spec_gen, gen_gen) in firsts.items():
        show = range(0, truth.shape[1], EVERY)
        cols = ["start" if t == 0 else f"frame {t}" for t in show]
        grid, labels = [], []
        for i in range(truth.shape[0]):
            for who, clip in (("game", truth), ("specialised", spec_gen), ("general", gen_gen)):
                grid.append([clip[i, t].numpy() for t in show])
                labels.append(f"start {i}: {who}")
        ctx.picture(f"m9_{genre}.png", pictures.labelled_grid(
            grid, f"m9 {genre}: the game vs the specialised and the general model (same actions)",
            labels, cols, cell_inches=1.4))  # fmt: skip
    groups = {f"{g}: {MEASURES[g]}": {w: r[w] for w in ("truth", "specialised", "general", "copy_last")}
              for g, r in rows.items()}  # fmt: skip
    ctx.picture(
        "m9_measures.png",
        pictures.bars(
            groups, "m9: each genre's measure on held-out clips", ylabel="share of steps right"
        ),
    )
    table = [[f"{g:<10}", *(f"{r[w]:.3f}" for w in ("specialised", "general", "copy_last", "truth"))]
             for g, r in rows.items()]  # fmt: skip
    ctx.say("m9: genre / specialised / general / copy-last / game\n"
            + "\n".join("  ".join(r) for r in table))  # fmt: skip
