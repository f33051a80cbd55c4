"""Decode the RPG's HUD and the player's room and cell from its frames (for gate m9's state management).

    d = decode_frame(rgb)      # uint8 [N, 256, 256, 3] -> dict of int64 [N] (and ok bool [N])
    hud_matches(d, truth)      # bool [N]: HP, gold, keys, potions, room and cell all as in the truth

Every 16 x 16 cell is classified as its nearest tile of the RPG's atlas (core/games/tiles.py), exact on
true renders. HP is the count of full hearts, gold three digits, keys and potions a digit each, the
room the lit cell of the minimap, the player the one cell holding a player tile (its facing from the
tile). `ok` is False where the frame does not read as one well-formed HUD and one player.
"""

from __future__ import annotations

import torch

from core.games.rpg_art import (
    DIGIT,
    HEART,
    HEART_EMPTY,
    MAP_HERE,
    MAP_ROOM,
    PLAYER,
    tile_atlas,
)
from core.games.tiles import classify_tiles

HUD_ROWS = 3
FIELDS = ("hp", "gold", "keys", "potions", "room", "player_row", "player_col")


def decode_codes(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 256, 256, 3] -> int64 [N, 16, 16] nearest tile codes."""
    return classify_tiles(rgb, tile_atlas(16))[0]


def decode_frame(rgb: torch.Tensor, max_hp: int = 6) -> dict[str, torch.Tensor]:
    """uint8 [N, 256, 256, 3] -> {hp, gold, keys, potions, room, player_row, player_col, facing:
    int64 [N]; visited: bool [N, 9]; ok: bool [N]}. Values where `ok` is False are meaningless."""
    code = decode_codes(rgb)  # [N, 16, 16]
    hearts = code[:, 0, :max_hp]  # [N, max_hp]
    digit = code - DIGIT  # [N, 16, 16]; 0..9 on digit tiles
    places = [digit[:, 0, 8], digit[:, 0, 9], digit[:, 0, 10], digit[:, 1, 1], digit[:, 1, 4]]
    digits_ok = torch.stack([(v >= 0) & (v <= 9) for v in places], 1).all(1)
    mini = code[:, :HUD_ROWS, 13:16].reshape(-1, 9)  # [N, 9]
    here = mini == MAP_HERE
    room_area = code[:, HUD_ROWS:]  # [N, 13, 16]
    me = (room_area >= PLAYER) & (room_area < PLAYER + 8)
    flat = me.flatten(1)
    at = flat.float().argmax(1)  # [N]
    pcode = room_area.flatten(1).gather(1, at.unsqueeze(1)).squeeze(1)
    ok = (
        ((hearts == HEART) | (hearts == HEART_EMPTY)).all(1)
        & digits_ok
        & (here.sum(1) == 1)
        & (flat.sum(1) == 1)
    )
    return {
        "hp": (hearts == HEART).sum(1),
        "gold": places[0] * 100 + places[1] * 10 + places[2],
        "keys": places[3],
        "potions": places[4],
        "room": here.float().argmax(1),
        "visited": here | (mini == MAP_ROOM),
        "player_row": at // 16,
        "player_col": at % 16,
        "facing": (pcode - PLAYER) % 4,
        "ok": ok,
    }


def hud_matches(decoded: dict[str, torch.Tensor], truth: dict[str, torch.Tensor]) -> torch.Tensor:
    """bool [N]: the frame decoded well and every FIELDS value equals the truth (the game's info)."""
    eq = decoded["ok"].clone()
    for f in FIELDS:
        eq &= decoded[f] == truth[f].to(decoded[f].device)
    return eq
