"""The platformer's art: the palette, tile and sprite images (palette indices, uint8).

Palette entry 0 is "clear" in sprites and never appears in a level layer. PLAYER_RGB is used by the
player's shirt and nothing else, so a pixel locator can find the player in an RGB frame.
"""

from __future__ import annotations

import torch

PLAYER_RGB = (228, 20, 88)  # the player's shirt: used by nothing else, so a locator can find it
PALETTE: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("clear", (0, 0, 0)),
    ("sky0", (152, 204, 252)),
    ("sky1", (168, 214, 252)),
    ("sky2", (184, 222, 252)),
    ("sky3", (200, 230, 252)),
    ("cloud", (252, 252, 252)),
    ("cloud_shade", (150, 176, 220)),
    ("hill_far", (128, 192, 152)),
    ("hill_near", (96, 176, 112)),
    ("grass", (56, 160, 40)),
    ("grass_dark", (16, 88, 16)),
    ("dirt", (176, 112, 56)),
    ("dirt_dark", (120, 72, 32)),
    ("brick", (204, 92, 44)),
    ("mortar", (88, 36, 16)),
    ("stone", (156, 156, 168)),
    ("stone_light", (212, 212, 220)),
    ("stone_dark", (84, 84, 100)),
    ("pipe", (32, 168, 72)),
    ("pipe_light", (144, 236, 136)),
    ("pipe_dark", (16, 92, 40)),
    ("coin", (240, 184, 24)),
    ("coin_dark", (176, 104, 0)),
    ("enemy", (132, 64, 180)),
    ("enemy_dark", (64, 24, 96)),
    ("white", (248, 248, 248)),
    ("black", (16, 16, 24)),
    ("flag", (32, 200, 200)),
    ("pole", (232, 232, 232)),
    ("player", PLAYER_RGB),
    ("skin", (252, 196, 148)),
    ("overall", (24, 40, 160)),
    ("hair", (80, 44, 16)),
)
C = {name: i for i, (name, _) in enumerate(PALETTE)}  # colour name -> palette index

# Tile ids. Every tile but EMPTY is solid.
EMPTY, GROUND, DIRT, BRICK, STONE, PIPE_TL, PIPE_TR, PIPE_L, PIPE_R = range(9)
N_TILES = 9

# Player frames (facing right); +6 faces left. Enemy frames follow the player's 12.
STAND, WALK1, WALK2, JUMP_F, UP_F, CROUCH = range(6)
N_PLAYER_FRAMES = 12
ENEMY_F = 12  # 12, 13: walk A/B facing right; 14, 15: facing left
COIN_F = 16
N_FRAMES = 17

_CH = {".": "clear", "R": "player", "S": "skin", "B": "overall", "H": "hair", "K": "black"}
_CH_E = {".": "clear", "E": "enemy", "D": "enemy_dark", "W": "white", "K": "black"}
_HEAD = ["...BBBBBB...", "..BBBBBBBBB.", "..HHSSSKS...", ".HSHSSSKSSS.", ".HSSSSSSSSS."]
_TORSO = ["..SSSSSSS...", "..RRRRRRRR..", ".RRRRRRRRRR.", "SRRRRRRRRRRS", "SRRRRRRRRRRS"]
_LEGS = ["..BBBBBBBB..", "..BBBBBBBB..", "..BBB..BBB..", "..BBB..BBB..", ".KKKK..KKKK."]
_PLAYER_ART = {  # 12x16 each; the shirt (R) is centred on the hitbox so its centroid tracks it
    STAND: _HEAD + _TORSO + _LEGS + [".KKKK..KKKK."],
    WALK1: _HEAD
    + _TORSO
    + ["..BBBBBBBB..", ".BBBB..BBBB.", ".BBB....BBB.", "BBB......BBB"]
    + ["KKK......KKK", "KK........KK"],
    WALK2: _HEAD
    + _TORSO
    + ["..BBBBBBBB..", "...BBBBBB...", "....BBBB....", "....BBBB...."]
    + ["...KKKKKK...", "...KKKKKK..."],
    JUMP_F: _HEAD
    + ["S.SSSSSSS..S", "SRRRRRRRRRRS", ".RRRRRRRRRR.", "..RRRRRRRR..", "..RRRRRRRR.."]
    + [
        "..BBBBBBBBB.",
        ".BBBBBBBBBBB",
        "BBBB....BBB.",
        "KKK.....BBB.",
        "KK......KKK.",
        "........KKK.",
    ],
    UP_F: ["S..BBBBBB..S", "S.BBBBBBBB.S", "S.HHSSKSK..S", "SHSHSSSSSSSS", "S.SSSSSSSS.S"]
    + ["SS.SSSSSS.SS", ".RRRRRRRRRR.", ".RRRRRRRRRR.", "..RRRRRRRR..", "..RRRRRRRR.."]
    + _LEGS
    + [".KKKK..KKKK."],
    CROUCH: ["." * 12, "." * 12]
    + _HEAD[:4]
    + _TORSO[1:]
    + ["..RRRRRRRR..", ".BBBBBBBBBB."]
    + ["BBBBBBBBBBBB", "BBBB....BBBB", "KKKK....KKKK", "KKKK....KKKK"],
}
_ENEMY_BODY = [".....EEEEEE.....", "...EEEEEEEEEE...", "..EEEEEEEEEEEE..", ".EEEWWKEEEEWWKE."]
_ENEMY_BODY += [".EEEWWKEEEEWWKE.", "EEEEEEEEEEEEEEEE", "EEEDDDDDDDDDDEEE", ".EEEEEEEEEEEEEE."]
_ENEMY_BODY += ["..DDDDDDDDDDDD.."]
_ENEMY_ART = [
    ["." * 16] * 4 + _ENEMY_BODY + ["..KKK......KKK..", ".KKKKK....KKKKK.", ".KKKKK....KKKKK."],
    ["." * 16] * 4 + _ENEMY_BODY + ["....KK....KK....", "...KKKK..KKKK...", "...KKKK..KKKK..."],
]


def _art(rows: list[str], chars: dict[str, str]) -> torch.Tensor:
    return torch.tensor([[C[chars[ch]] for ch in row] for row in rows], dtype=torch.uint8)


def sprite_atlas() -> torch.Tensor:
    """uint8 [N_FRAMES, 16, 16] palette indices: player poses, enemy frames, the coin."""
    out = torch.zeros(N_FRAMES, 16, 16, dtype=torch.uint8)
    for f, rows in _PLAYER_ART.items():
        assert len(rows) == 16 and all(len(r) == 12 for r in rows), f
        out[f, :, 2:14] = _art(rows, _CH)  # 2 px margins: the 12-px hitbox sits at box x + 2
        out[f + 6] = out[f].flip(-1)
    for i, rows in enumerate(_ENEMY_ART):
        out[ENEMY_F + i] = _art(rows, _CH_E)
        out[ENEMY_F + 2 + i] = out[ENEMY_F + i].flip(-1)
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    e = ((xx - 7.5) / 5.0) ** 2 + ((yy - 7.5) / 6.5) ** 2  # [16, 16] ellipse radius^2
    coin = torch.where(e <= 1.0, C["coin_dark"], 0)
    coin = torch.where(e <= 0.6, C["coin"], coin)
    coin = torch.where(
        (e <= 0.45) & ((xx == 8) | (xx == 9)) & (yy > 4) & (yy < 11), C["coin_dark"], coin
    )
    coin = torch.where((e <= 0.6) & (xx == 5) & (yy > 4) & (yy < 9), C["white"], coin)
    out[COIN_F] = coin.to(torch.uint8)
    return out


def tile_atlas() -> torch.Tensor:
    """uint8 [N_TILES, 16, 16] palette indices; EMPTY is all clear (the sky shows through)."""
    yy, xx = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")  # [16, 16]
    t = torch.zeros(N_TILES, 16, 16, dtype=torch.int64)
    speck = ((xx * 5 + yy * 3) % 11 == 0) | ((xx * 3 + yy * 7) % 13 == 0)
    dirt = torch.where(speck, C["dirt_dark"], C["dirt"])
    edge = 3 + ((xx // 2) % 3 == 1).long()  # wavy lower edge of the grass
    t[GROUND] = torch.where(yy < edge, C["grass"], torch.where(yy == edge, C["grass_dark"], dirt))
    t[GROUND] = torch.where((yy == 0) & (xx % 4 == 2), C["grass_dark"], t[GROUND])
    t[DIRT] = dirt
    joint = torch.where(yy < 8, xx == 15, xx == 7)
    t[BRICK] = torch.where((yy % 8 == 7) | joint, C["mortar"], C["brick"])
    t[BRICK] = torch.where((yy % 8 == 0) & ~joint, C["stone_light"], t[BRICK])
    t[STONE] = torch.where((yy == 0) | (xx == 0), C["stone_light"], C["stone"])
    t[STONE] = torch.where((yy == 15) | (xx == 15), C["stone_dark"], t[STONE])
    t[STONE] = torch.where((yy - xx).abs() == 8, C["stone_dark"], t[STONE])
    px = torch.cat([xx, xx + 16], dim=1)  # [16, 32]: a pipe is two tiles wide
    body = torch.where(px < 2, C["black"], C["pipe"])
    body = torch.where((px >= 6) & (px < 10), C["pipe_light"], body)
    body = torch.where((px >= 22) & (px < 28), C["pipe_dark"], body)
    body = torch.where((px < 2) | (px >= 30), C["clear"], body)
    body = torch.where((px == 2) | (px == 29), C["black"], body)
    rim = torch.where((px == 0) | (px == 31), C["black"], C["pipe"])
    rim = torch.where((px >= 4) & (px < 8), C["pipe_light"], rim)
    rim = torch.where((px >= 24) & (px < 30), C["pipe_dark"], rim)
    yy2 = yy.repeat(1, 2)
    top = torch.where((yy2 < 12) & ~((yy2 == 0) | (yy2 == 11)), rim, body)
    top = torch.where((yy2 == 0) | (yy2 == 11), C["black"], top)
    t[PIPE_TL], t[PIPE_TR] = top[:, :16], top[:, 16:]
    t[PIPE_L], t[PIPE_R] = body[:, :16], body[:, 16:]
    return t.to(torch.uint8)
