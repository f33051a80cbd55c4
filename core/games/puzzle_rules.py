"""The puzzle's rules as one pure function over batched grids, shared by `step` and the decoders.

A move: the player steps one cell in the action's direction (WAIT: stays). A wall stops it. A box is
pushed one cell on when the cell beyond is free (no wall, box, key or door), else the player is stopped.
A key is picked up by stepping on it. A door opens (and its cell becomes floor) when the player steps
into it holding a key, which is used up; without a key the door stops the player. Nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.games.puzzle_world import DIRS
from core.games.tiles import onehot

WAIT = 4


@dataclass(frozen=True)
class Grid:
    """The logical state of a puzzle map, batched. Walls and targets never change."""

    wall: torch.Tensor  # bool [N, R, C] (the HUD row counts as wall)
    target: torch.Tensor  # bool [N, R, C]
    boxes: torch.Tensor  # bool [N, R, C]
    keys: torch.Tensor  # bool [N, R, C] keys lying on the map
    doors: torch.Tensor  # bool [N, R, C] closed doors
    row: torch.Tensor  # int64 [N] player cell
    col: torch.Tensor  # int64 [N]
    held: torch.Tensor  # int64 [N] keys carried


def move(g: Grid, actions: torch.Tensor) -> tuple[Grid, dict[str, torch.Tensor]]:
    """Apply one action per env (int64 [N] in 0..4). Returns (grid, flags moved/pushed/unlocked/picked)."""
    n, rows, cols = g.boxes.shape
    dev = g.boxes.device
    d = torch.tensor(DIRS, dtype=torch.int64, device=dev)[actions.to(dev)]  # [N, 2]
    r1, c1 = (g.row + d[:, 0]).clamp(0, rows - 1), (g.col + d[:, 1]).clamp(0, cols - 1)  # [N]
    r2, c2 = (g.row + 2 * d[:, 0]).clamp(0, rows - 1), (g.col + 2 * d[:, 1]).clamp(0, cols - 1)
    env = torch.arange(n, device=dev)
    wall1, box1 = g.wall[env, r1, c1], g.boxes[env, r1, c1]  # [N]
    key1, door1 = g.keys[env, r1, c1], g.doors[env, r1, c1]
    busy2 = (g.wall | g.boxes | g.keys | g.doors)[env, r2, c2]  # [N]
    blocked = (actions == WAIT) | wall1 | (box1 & busy2) | (door1 & (g.held <= 0))
    moved = ~blocked
    push, unlock, pick = moved & box1, moved & door1, moved & key1  # [N]
    at1, at2 = onehot(r1, c1, rows, cols), onehot(r2, c2, rows, cols)  # [N, R, C]
    p3 = push.view(-1, 1, 1)
    boxes = (g.boxes & ~(at1 & p3)) | (at2 & p3)
    keys = g.keys & ~(at1 & pick.view(-1, 1, 1))
    doors = g.doors & ~(at1 & unlock.view(-1, 1, 1))
    held = g.held + pick.long() - unlock.long()
    out = Grid(
        g.wall,
        g.target,
        boxes,
        keys,
        doors,
        torch.where(moved, r1, g.row),
        torch.where(moved, c1, g.col),
        held,
    )
    return out, dict(moved=moved, pushed=push, unlocked=unlock, picked=pick)


def solved(g: Grid) -> torch.Tensor:
    """bool [N]: every box stands on a target."""
    return ~(g.boxes & ~g.target).flatten(1).any(1)
