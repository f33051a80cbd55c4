"""Gate m4's pictures: generated vs true strips, samples from one start, the decoded tracks, a GIF."""

from __future__ import annotations

import torch

from core.games.platformer_decode import classify, player_xy
from shell import pictures

SHOW = (0, 5, 10, 15, 20, 25, 30)  # frames shown in a strip


def draw(ctx, truth: torch.Tensor, samples: torch.Tensor, rows: dict) -> None:
    """truth uint8 [2, T+1, H, W, 3] (two starts); samples [2, S, T+1, H, W, 3] (the model's)."""
    cols = [f"frame {t}" for t in SHOW]
    strip, labels = [], []
    for i in range(truth.shape[0]):
        strip += [[truth[i, t].numpy() for t in SHOW], [samples[i, 0, t].numpy() for t in SHOW]]
        strip.append([truth[i, 0].numpy()] * len(SHOW))
        labels += [f"start {i}: game", f"start {i}: model", f"start {i}: copy-last"]
    ctx.picture("m4_clips.png", pictures.labelled_grid(
        strip, "m4: 30 frames from one frame, the game vs the model (same actions)", labels, cols,
        cell_inches=1.6))  # fmt: skip
    s = samples.shape[1]
    grid = [[samples[0, j, t].numpy() for t in SHOW] for j in range(s)]
    ctx.picture("m4_samples.png", pictures.labelled_grid(
        grid, "m4: samples of the model from one start (different noise)",
        [f"sample {j}" for j in range(s)], cols, cell_inches=1.6))  # fmt: skip
    xy_t = player_xy(classify(truth[0]))  # [T+1, 2]
    series = {"game y": xy_t[:, 1].tolist(), "game x": xy_t[:, 0].tolist()}
    for j in range(min(s, 2)):
        xy = player_xy(classify(samples[0, j]))
        series[f"model sample {j} y"] = xy[:, 1].tolist()
        series[f"model sample {j} x"] = xy[:, 0].tolist()
    ctx.picture("m4_tracks.png", pictures.line_plot(
        series, "m4: the player decoded from the pixels (start 0)", x=list(range(truth.shape[1])),
        xlabel="frame", ylabel="screen px"))  # fmt: skip
    ctx.picture("m4_clip.gif", pictures.gif(truth[0].numpy(), samples[0, 0].numpy()))
    table = [[k, *(f"{rows[w].get(k, float('nan')):.3g}" for w in ("model", "copy_last", "truth"))]
             for k in rows["model"]]  # fmt: skip
    ctx.say("m4: measure / model / copy-last / truth\n" + "\n".join("  ".join(r) for r in table))
