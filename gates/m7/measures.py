"""Gate m7's measures over one route's frames, uint8 [T+1, H, W, 3] (definitions in __init__.py).
The game's camera positions choose which frames are compared; everything else is read off pixels."""

from __future__ import annotations

import numpy as np
import torch

from core.games.platformer_art import PALETTE
from core.games.platformer_decode import COIN, classify, player_xy
from core.metrics import pack_rgb
from core.models.motion import CAMERA_STEPS, camera_step
from gates.m7 import spec

CHUNK = 64  # frames converted at once


def camera_track(frames: torch.Tensor) -> torch.Tensor:
    """int64 [T+1]: the camera's x from the first frame, read off each pair of consecutive frames
    uint8 [T+1, H, W, 3] (core.models.motion.camera_step), summed."""
    steps = []
    for i in range(0, frames.shape[0] - 1, CHUNK):
        f = frames[i : i + CHUNK + 1].permute(0, 3, 1, 2)  # [C+1, 3, H, W]
        steps.append(camera_step(f[:-1], f[1:]))
    return torch.cat([torch.zeros(1, dtype=torch.int64), torch.cat(steps).cumsum(0)])


_PALETTE = pack_rgb(torch.tensor([rgb for _, rgb in PALETTE], dtype=torch.uint8))  # [P]


def frame_stats(frames: torch.Tensor) -> torch.Tensor:
    """float [T+1, 6]: mean R, G, B, grey std (0..255), palette share, player decoded (0/1)."""
    out = []
    for i in range(0, frames.shape[0], CHUNK):
        f = frames[i : i + CHUNK]
        x = f.float()
        grey = x.mean(-1)
        share = torch.isin(pack_rgb(f), _PALETTE).float().mean((1, 2))
        present = (~player_xy(classify(f)).isnan().any(1)).float()
        out.append(torch.cat([x.mean((1, 2)), grey.std((1, 2))[:, None], share[:, None],
                              present[:, None]], 1))  # fmt: skip
    return torch.cat(out)


def in_range(stats: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """bool [F]: frames whose colour statistics lie in [lo, hi], palette share at least lo's minus 2
    points, and a player decoded."""
    colour = ((stats[:, :4] >= lo[:4]) & (stats[:, :4] <= hi[:4])).all(1)
    return colour & (stats[:, 4] >= lo[4] - 0.02) & (stats[:, 5] > 0.5)


def revisits(cam: np.ndarray) -> list[tuple[int, int]]:
    """(first visit, revisit) frame pairs: same camera x, the view at least AWAY_PX off in between."""
    away = spec.AWAY_PX
    first: dict[int, int] = {}
    pairs = []
    for t, c in enumerate(cam.tolist()):
        t1 = first.setdefault(c, t)
        if t1 < t and np.abs(cam[t1 + 1 : t] - c).max(initial=0) >= away:
            pairs.append((t1, t))
    return pairs


def went_away(track: torch.Tensor, cams: torch.Tensor):
    """-> went(t1, t2): 1 when the model's camera track int64 [T+1] is the game's `cams` within one
    camera step at t1 and t2 and went at least AWAY_PX from there in between, else 0."""
    step = max(abs(s) for s in CAMERA_STEPS)

    def went(t1: int, t2: int) -> int:
        at = abs(int(track[t1] - cams[t1])) <= step and abs(int(track[t2] - cams[t2])) <= step
        far = int((track[t1 : t2 + 1] - track[t2]).abs().max()) >= spec.AWAY_PX
        return int(at and far)

    return went


def sample(pairs: list, k: int) -> list:
    """At most k of them, evenly spread."""
    if len(pairs) <= k:
        return pairs
    return [pairs[i] for i in np.linspace(0, len(pairs) - 1, k).round().astype(int)]


def still_match(truth_a, truth_b, model_a, model_b) -> tuple[int, int]:
    """Over one pair: (pixels the game keeps still from a to b, of them those the model shows within
    TOL in b of what it is compared with in a). Arrays uint8 [H, W, 3]."""
    still = (truth_a == truth_b).all(-1)
    same = ((model_a.to(torch.int16) - model_b.to(torch.int16)).abs() <= spec.TOL).all(-1)
    return int(still.sum()), int((still & same).sum())


def coin_cells(frame: torch.Tensor) -> torch.Tensor:
    """int64 [H/16, W/16]: coin pixels in each 16x16 cell of a frame uint8 [H, W, 3]."""
    c = (classify(frame[None])[0] == COIN).long()  # [H, W]
    h, w = c.shape
    return c.view(h // 16, 16, w // 16, 16).sum((1, 3))


def player_steps(frames: torch.Tensor) -> torch.Tensor:
    """bool [S]: the player's decoded moves between consecutive frames (both decoded) within STEP_PX."""
    xy = torch.cat(
        [player_xy(classify(frames[i : i + CHUNK])) for i in range(0, len(frames), CHUNK)]
    )
    d = (xy[1:] - xy[:-1]).abs()  # [T, 2]
    ok = ~d.isnan().any(1)
    return (d[ok, 0] <= spec.STEP_PX[0]) & (d[ok, 1] <= spec.STEP_PX[1])
