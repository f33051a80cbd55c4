"""The RPG's tiles: 16 x 16 px pictures drawn from masks, in code order (the atlas), and the HUD font.

Room tiles first, then the player (4 facings, on floor or on spikes), then the HUD's tiles. The player's
body is a diamond symmetric about the cell centre in PLAYER_RGB, a colour no other tile uses; the facing
is a small mark outside the body, so the body's centroid is the cell centre whatever the facing.
"""

from __future__ import annotations

import torch

from core.games.tiles import grid_xy, paint, solid

FLOOR, WALL, SPIKES, GOLD, KEY, POTION, CHEST, CHEST_OPEN, NPC, LOCK = range(10)
PLAYER = 10  # + facing (0 UP, 1 DOWN, 2 LEFT, 3 RIGHT), on floor
PLAYER_ON_SPIKES = 14  # + facing
HUD_BG, HEART, HEART_EMPTY, ICON_COIN, ICON_KEY, ICON_POTION = range(18, 24)
DIGIT = 24  # + 0..9
MAP_ROOM, MAP_HERE = 34, 35
N_TILES = 36
PLAYER_RGB = (40, 90, 220)
HUD_RGB = (25, 25, 35)

FONT = (  # 3 x 5 digits, rows top to bottom
    ("111", "101", "101", "101", "111"),
    ("010", "110", "010", "010", "111"),
    ("111", "001", "111", "100", "111"),
    ("111", "001", "111", "001", "111"),
    ("101", "101", "111", "001", "001"),
    ("111", "100", "111", "001", "111"),
    ("111", "100", "111", "101", "111"),
    ("111", "001", "001", "001", "001"),
    ("111", "101", "111", "101", "111"),
    ("111", "101", "111", "001", "111"),
)


def _digit_mask(d: int) -> torch.Tensor:
    """bool [16, 16]: digit d at 2x scale (6 x 10 px) in the middle of the tile."""
    m = torch.zeros(16, 16, dtype=torch.bool)
    for r, line in enumerate(FONT[d]):
        for c, ch in enumerate(line):
            if ch == "1":
                m[3 + 2 * r : 5 + 2 * r, 5 + 2 * c : 7 + 2 * c] = True
    return m


def tile_atlas(size: int = 16) -> torch.Tensor:
    """uint8 [36, size, size, 3]: every tile in code order (size 8: every other pixel)."""
    x, y = grid_xy(16)
    floor = paint(solid((110, 160, 90)), ((x * 7 + y * 3) % 11 < 1), (95, 145, 75))
    mortar = ((y % 8) < 1) | ((((y // 8) % 2) * 8 + x) % 16 < 1)
    wall = paint(solid((105, 105, 115)), mortar, (70, 70, 80))
    tri = ((y % 8) > 2) & (((x % 8) - 3.5).abs() < ((y % 8) - 2) * 0.7)
    spikes = paint(floor, tri, (200, 200, 210))
    coin = (x - 8) ** 2 + (y - 8) ** 2 < 20
    gold = paint(paint(floor, coin, (240, 200, 40)), ((x - 8).abs() < 1) & ((y - 8).abs() < 3),
                 (180, 140, 20))  # fmt: skip
    bow = (x - 5) ** 2 + (y - 8) ** 2 < 10
    shaft = ((y - 8).abs() < 1) & (x > 6) & (x < 14) | ((x - 12).abs() < 1) & (y > 8) & (y < 12)
    key = paint(floor, bow | shaft, (230, 190, 30))
    flask = ((x - 8) ** 2 + (y - 10) ** 2 < 16) | (((x - 8).abs() < 1.5) & (y > 2) & (y < 8))
    potion = paint(floor, flask, (210, 40, 60))
    rim = (x < 2) | (x > 14) | (y < 3) | (y > 14)
    chest = paint(paint(solid((150, 90, 40)), rim, (90, 50, 20)), (x - 8).abs() + (y - 8).abs() < 2,
                  (240, 210, 60))  # fmt: skip
    chest_open = paint(paint(solid((150, 90, 40)), rim, (90, 50, 20)), ~rim, (40, 25, 15))
    robe = ((x - 8).abs() < (y - 2) * 0.45) & (y > 4)
    head = (x - 8) ** 2 + (y - 4) ** 2 < 6
    npc = paint(paint(floor, robe, (150, 60, 160)), head, (240, 200, 170))
    hole = ((x - 8) ** 2 + (y - 7) ** 2 < 4) | (((x - 8).abs() < 1) & (y > 7) & (y < 12))
    lock = paint(paint(solid((120, 70, 30)), rim, (70, 40, 15)), hole, (20, 10, 5))
    body = ((x - 8).abs() + (y - 8).abs()) <= 5.5  # symmetric about the cell centre
    marks = [  # the facing, outside the body
        ((y < 3) & ((x - 8).abs() < 2)),
        ((y > 13) & ((x - 8).abs() < 2)),
        ((x < 3) & ((y - 8).abs() < 2)),
        ((x > 13) & ((y - 8).abs() < 2)),
    ]
    players = [paint(paint(base, body, PLAYER_RGB), m, (250, 220, 170))
               for base in (floor, spikes) for m in marks]  # fmt: skip
    hud = solid(HUD_RGB)
    heart_m = (((x - 5.5) ** 2 + (y - 6) ** 2 < 9) | ((x - 10.5) ** 2 + (y - 6) ** 2 < 9)
               | (((x - 8).abs() + (y - 7)) < 6) & (y >= 6))  # fmt: skip
    heart = paint(hud, heart_m, (230, 40, 50))
    heart_empty = paint(hud, heart_m & ~(((x - 8).abs() + (y - 7) < 4) & (y >= 5)), (110, 40, 50))
    icon_coin = paint(hud, coin, (240, 200, 40))
    icon_key = paint(hud, bow | shaft, (230, 190, 30))
    icon_potion = paint(hud, flask, (210, 40, 60))
    digits = [paint(hud, _digit_mask(d), (240, 240, 240)) for d in range(10)]
    cell = (x > 2) & (x < 14) & (y > 2) & (y < 14)
    map_room = paint(hud, cell, (80, 80, 100))
    map_here = paint(hud, cell, (240, 240, 120))
    tiles = [floor, wall, spikes, gold, key, potion, chest, chest_open, npc, lock, *players, hud,
             heart, heart_empty, icon_coin, icon_key, icon_potion, *digits, map_room, map_here]  # fmt: skip
    atlas = torch.stack(tiles)
    assert atlas.shape[0] == N_TILES
    step = 16 // size
    return atlas[:, ::step, ::step].contiguous()  # [36, size, size, 3]
