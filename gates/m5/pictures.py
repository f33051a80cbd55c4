"""Gate m5's pictures: the IDM's confusion matrix on the model's clips, and what each action does."""

from __future__ import annotations

import torch

from shell import pictures


def draw(ctx, truth: torch.Tensor, ours: torch.Tensor, read: torch.Tensor, want: torch.Tensor,
         names: list[str]) -> None:  # fmt: skip
    """truth, ours uint8 [S A, HOLD+1, H, W, 3] (state-major, action-minor); read, want int64 [S A]."""
    na = len(names)
    conf = torch.zeros(na, na)
    conf.index_put_((want, read), torch.ones_like(want, dtype=torch.float), accumulate=True)
    ctx.picture("m5_confusion.png", pictures.confusion(
        (conf / conf.sum(1, keepdim=True).clamp(min=1)).numpy(), names,
        "m5: the action the IDM reads back from the model's frames\n(share of each held action)"))  # fmt: skip
    rows = [[truth[i, -1].numpy() for i in range(na)], [ours[i, -1].numpy() for i in range(na)]]
    ctx.picture("m5_actions.png", pictures.labelled_grid(
        rows, f"m5: one state, each action held {truth.shape[1] - 1} frames",
        ["game", "model"], [f"{n} held" for n in names], cell_inches=2.0))  # fmt: skip
