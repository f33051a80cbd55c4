"""Decode the puzzle's logical state from its frames, and judge decoded transitions by the rules.

    g, ok = decode_grid(rgb)                         # uint8 [N, 256, 256, 3] -> Grid, bool [N]
    legal_transition(before, after, actions)         # bool [N]: after == the rules applied to before
    legal_transition(before, after)                  #   ... for some action (the action unknown)
    violations(before, after)                        # dict of bool [N]: which rule a transition breaks

Every 16 x 16 cell is classified as its nearest tile of the puzzle's atlas (core/games/tiles.py), exact
on true renders; `ok` is False where a frame does not decode to one well-formed map (no player or more
than one, or a cell far from every tile). For gate m9's logic consistency: a generated transition is
legal when its decoded grids are one move of the rules apart. Episode resets (a new level) are not
moves; callers leave out the transitions whose truth says `done`.
"""

from __future__ import annotations

import torch

from core.games.puzzle_rules import Grid, move
from core.games.puzzle_world import (
    BOX,
    BOX_T,
    DOOR,
    HUD_KEY,
    KEY,
    PLAYER,
    PLAYER_T,
    TARGET,
    WALL,
    tile_atlas,
)
from core.games.tiles import classify_tiles

MAX_CELL_DIST = 16 * 16 * 3 * 40**2  # a cell further than ~40 levels per channel from every tile


def decode_codes(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [N, 256, 256, 3] -> (tile codes int64 [N, 16, 16], squared distance float32 [N, 16, 16])."""
    return classify_tiles(rgb, tile_atlas(16))


def grid_from_codes(code: torch.Tensor) -> tuple[Grid, torch.Tensor]:
    """int64 [N, R, C] tile codes -> (Grid, bool [N] exactly one player on the map)."""
    n, rows, cols = code.shape
    hud_row = torch.zeros_like(code, dtype=torch.bool)
    hud_row[:, 0] = True
    me = ((code == PLAYER) | (code == PLAYER_T)) & ~hud_row  # [N, R, C]
    one = me.flatten(1).sum(1) == 1  # [N]
    at = me.flatten(1).float().argmax(1)  # [N] first player cell
    row = torch.where(one, at // cols, -1)
    col = torch.where(one, at % cols, -1)
    target = ((code == TARGET) | (code == BOX_T) | (code == PLAYER_T)) & ~hud_row
    g = Grid(
        wall=(code == WALL) | hud_row,
        target=target,
        boxes=((code == BOX) | (code == BOX_T)) & ~hud_row,
        keys=(code == KEY) & ~hud_row,
        doors=(code == DOOR) & ~hud_row,
        row=row,
        col=col,
        held=(code[:, 0] == HUD_KEY).sum(1),
    )
    return g, one


def decode_grid(rgb: torch.Tensor) -> tuple[Grid, torch.Tensor]:
    """uint8 [N, 256, 256, 3] -> (Grid, ok bool [N]). Exact on the game's own renders."""
    code, dist = decode_codes(rgb)
    g, one = grid_from_codes(code)
    return g, one & (dist.flatten(1).amax(1) <= MAX_CELL_DIST)


def same_grid(a: Grid, b: Grid) -> torch.Tensor:
    """bool [N]: every field equal, per env."""
    eq = torch.ones_like(a.row, dtype=torch.bool)
    for f in ("wall", "target", "boxes", "keys", "doors"):
        eq &= (getattr(a, f) == getattr(b, f)).flatten(1).all(1)
    return eq & (a.row == b.row) & (a.col == b.col) & (a.held == b.held)


def legal_transition(
    before: Grid, after: Grid, actions: torch.Tensor | None = None
) -> torch.Tensor:
    """bool [N]: `after` is what the rules make of `before` under `actions` (int64 [N]); with no
    actions, under any of the five. A map without exactly one player is never legal."""
    valid = (before.row >= 0) & (after.row >= 0)
    if actions is not None:
        return valid & same_grid(move(before, actions)[0], after)
    ok = torch.zeros_like(valid)
    for a in range(5):
        ok |= same_grid(move(before, torch.full_like(before.row, a))[0], after)
    return valid & ok


def violations(before: Grid, after: Grid) -> dict[str, torch.Tensor]:
    """Named rule breaks of a transition, each bool [N] (for reports; legal_transition decides)."""
    n_b = before.boxes.flatten(1).sum(1)
    n_a = after.boxes.flatten(1).sum(1)
    gone = (before.boxes & ~after.boxes).flatten(1).sum(1)  # boxes that left a cell
    step = (after.row - before.row).abs() + (after.col - before.col).abs()
    keys_b = before.keys.flatten(1).sum(1) + before.held
    keys_a = after.keys.flatten(1).sum(1) + after.held
    opened = (before.doors & ~after.doors).flatten(1).sum(1)
    return {
        "walls_changed": (before.wall != after.wall).flatten(1).any(1),
        "targets_changed": (before.target != after.target).flatten(1).any(1),
        "box_count_changed": n_a != n_b,
        "box_in_wall": (after.boxes & (after.wall | after.doors | after.keys)).flatten(1).any(1),
        "boxes_moved_too_far": (gone > 1) | ((gone == 1) & (step != 1)),
        "player_jumped": (step > 1) | (before.row < 0) | (after.row < 0),
        "keys_not_conserved": keys_a + opened != keys_b,
        "door_appeared": (after.doors & ~before.doors).flatten(1).any(1),
    }
