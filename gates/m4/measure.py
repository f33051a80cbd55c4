"""Gate m4's measures over clips, uint8 [N, T+1, H, W, 3], from the pixels alone (definitions in
gates/m4/__init__.py). The same functions judge the true clips, copy-last and the model."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.games.platformer_art import PALETTE
from core.games.platformer_decode import (
    COIN,
    ENEMY,
    lookup,
    palette_table,
    player_box,
    player_xy,
    quantised,
)
from gates.m4 import spec

GAME_PALETTE = torch.tensor(
    [rgb for _, rgb in PALETTE[1:]], dtype=torch.uint8
)  # "clear" is not drawn


@dataclass
class Tracks:
    xy: torch.Tensor  # float [N, T+1, 2] decoded player centroid (NaN: none)
    feet: torch.Tensor  # float [N, T+1]
    supported: torch.Tensor  # bool [N, T+1]
    inside: torch.Tensor  # int64 [N, T+1] ground pixels inside the body
    change: torch.Tensor  # float [N, T] mean |frame_t - frame_t-1| in [0, 1]
    palette: torch.Tensor  # float [N, T+1] in-palette share
    vanished: torch.Tensor  # bool [N, T] a coin or enemy vanished away from the player and edges
    appeared: torch.Tensor  # bool [N, T] one appeared away from the edges


@functools.cache
def _in_palette() -> torch.Tensor:
    """bool [64**3]: the game's colours within PALETTE_TOL, built once per process."""
    return palette_table(GAME_PALETTE, spec.PALETTE_TOL)


def tracks(clips: torch.Tensor) -> Tracks:
    """Decode every frame of clips uint8 [N, T+1, H, W, 3] (one clip at a time: bounded memory)."""
    parts = []
    for clip in clips:
        q = quantised(clip)  # [T+1, H, W]
        cls = lookup(q)
        xy = player_xy(cls)  # [T+1, 2]
        box = player_box(cls, xy)
        pal = _in_palette().index_select(0, q.flatten()).view(q.shape)  # like lookup: int32 q
        pal = pal.flatten(1).float().mean(1)  # [T+1]
        c = clip[:, ::2, ::2].to(torch.int16)  # every other pixel: a mean needs no more
        change = (c[1:] - c[:-1]).abs().float().mean((1, 2, 3)) / 255.0  # [T]
        van, app = _objects(cls, xy)
        parts.append((xy, box.feet, box.supported, box.inside, change, pal, van, app))
    return Tracks(*(torch.stack(p) for p in zip(*parts, strict=True)))


CELL = 4  # objects are compared on a grid of 4x4-px cells: 16x less work than pixels
MIN_CELL_PX = 2  # a cell holds a class when 2+ of its 16 pixels are of it (not an edge's stray px)
MIN_OBJ_CELLS = 2  # fewer changed cells is noise, not an object (a coin covers ~6)


def _objects(cls: torch.Tensor, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Coins and enemies from one frame to the next, on the cell grid: cells of a class with none of
    that class within one cell (4-8 px: the camera's 4-px step, an enemy's 1 px) in the other frame
    are a vanished or appeared object; allowed at the screen's left and right edges (scrolling,
    walking off), near the player (touched, or hidden behind it) and, for coins, next to an enemy
    (drawn over them). -> bool [T] x2."""
    t1, h, w = cls.shape
    gh, gw = h // CELL, w // CELL
    ys = (torch.arange(gh).view(1, gh, 1).float() + 0.5) * CELL
    xs = (torch.arange(gw).view(1, 1, gw).float() + 0.5) * CELL
    edge = (xs < spec.EDGE_PX) | (xs > w - spec.EDGE_PX)  # [1, 1, gw]
    near = ((xs - xy[:, 0:1, None]).square() + (ys - xy[:, 1:2, None]).square()) < spec.TOUCH_PX**2
    near = near[1:] | near[:-1]  # [T, gh, gw]: NaN (no player) compares False
    coin, enemy = (_cells(cls == c) for c in (COIN, ENEMY))  # [T+1, gh, gw]
    hide = _dilate(enemy, 3)
    van = torch.zeros(t1 - 1, dtype=torch.bool)
    app = torch.zeros(t1 - 1, dtype=torch.bool)
    for m, extra in ((coin, hide[1:] | hide[:-1]), (enemy, torch.zeros_like(near))):
        grown = _dilate(m, 3)
        gone = m[:-1] & ~grown[1:] & ~edge & ~near & ~extra  # [T, gh, gw]
        new = m[1:] & ~grown[:-1] & ~edge & ~near & ~extra
        van |= gone.flatten(1).sum(1) >= MIN_OBJ_CELLS
        app |= new.flatten(1).sum(1) >= MIN_OBJ_CELLS
    return van, app


def _cells(m: torch.Tensor) -> torch.Tensor:
    """bool [T, H, W] -> bool [T, H/CELL, W/CELL]: cells with MIN_CELL_PX or more pixels set."""
    t, h, w = m.shape
    return m.view(t, h // CELL, CELL, w // CELL, CELL).sum((2, 4)) >= MIN_CELL_PX


def _dilate(m: torch.Tensor, k: int) -> torch.Tensor:
    """bool [T, H, W] -> bool [T, H, W]: any cell of m within a k x k window."""
    return F.max_pool2d(m[:, None].float(), k, stride=1, padding=k // 2)[:, 0] > 0


@dataclass
class Bounds:
    """What the true clips allow, measured on them: a step's largest frame change and player move."""

    change: float
    step_px: float


def bounds(truth: Tracks) -> Bounds:
    d = (truth.xy[:, 1:] - truth.xy[:, :-1]).norm(dim=2)  # [N, T]
    return Bounds(float(truth.change.max()), float(d.nan_to_num(0).max()))


def judge(tr: Tracks, b: Bounds) -> dict[str, torch.Tensor]:
    """Per-step and per-frame verdicts: coherent [N, T], consistent [N, T], overlap [N, T+1],
    floating [N, T+1], and the airborne accelerations (a flat tensor)."""
    d = (tr.xy[:, 1:] - tr.xy[:, :-1]).norm(dim=2)  # [N, T]; NaN where either frame lacks a player
    present = ~tr.xy[..., 0].isnan()  # [N, T+1]
    jump = (d > b.step_px + spec.JUMP_TOL) | ~present[:, 1:] | ~present[:, :-1]  # moved too far, or
    # no player to be found (a smear of the sprite is not a player; the true clips always show one)
    flicker = tr.change > b.change * 1.25  # a quarter above the truth's largest step change
    off = tr.palette[:, 1:] < spec.PALETTE_SHARE
    coherent = ~(jump | flicker | off)
    consistent = ~(tr.vanished | tr.appeared)
    y = tr.xy[..., 1]  # [N, T+1]
    air = ~tr.supported & present  # [N, T+1]
    trip = air[:, :-2] & air[:, 1:-1] & air[:, 2:]  # [N, T-1]
    acc = (y[:, 2:] - 2 * y[:, 1:-1] + y[:, :-2])[trip]  # px/frame^2 where airborne three frames
    still = (y[:, 1:] - y[:, :-1]).abs() < 0.5  # [N, T]
    r = spec.REST_FRAMES - 1
    rest = torch.stack([still[:, i : still.shape[1] - r + 1 + i] for i in range(r)]).all(0)
    unsup = torch.stack([air[:, i : air.shape[1] - r + i] for i in range(r + 1)]).all(0)
    floating = torch.zeros_like(present)
    floating[:, r:] = rest & unsup  # [N, T+1]: resting in mid-air for REST_FRAMES frames
    return {"coherent": coherent, "consistent": consistent, "overlap": tr.inside > 0,
            "floating": floating, "acc": acc}  # fmt: skip


def summary(v: dict[str, torch.Tensor], true_acc: float) -> dict[str, float]:
    acc = float(v["acc"].mean()) if v["acc"].numel() else 0.0
    return {
        "coherence": float(v["coherent"].float().mean()),
        "consistency": float(v["consistent"].float().mean()),
        "gravity": acc,
        "gravity_error": abs(acc / true_acc - 1) if true_acc else float("nan"),
        "airborne_steps": int(v["acc"].numel()),
        "solid_overlap": float(v["overlap"].float().mean()),
        "floating": float(v["floating"].float().mean()),
    }
