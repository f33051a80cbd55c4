"""Reading the platformer's objects back from RGB pixels alone (for judging generated frames).

    cls = classify(frames)                 # uint8 [N, H, W]: SHIRT, COIN, ENEMY, SHOE, SOLID_C, OTHER
    xy = player_xy(cls)                    # float [N, 2] shirt centroid, NaN where no player
    box = player_box(cls, xy)              # PlayerBox: feet row, ground under the feet, solid inside

Frames are uint8 [N, H, W, 3] at the 256x256 render (1 px = 1 level px). Colours are matched within a
tolerance (L-infinity, 0..255) through a lookup table, so a model's near-palette pixels count as the colour they approximate.
The sprite geometry it relies on (core/games/platformer_art.py): the player is 12 px wide with the
shirt centred on the hitbox; the shoes (black) are the sprite's lowest pixels in every pose; ground
and wall tiles use the SOLID colours and nothing else does (the hair is near "mortar", so mortar is
left out: bricks are found by their brick colour).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from core.games.platformer_art import PALETTE, PLAYER_RGB

RGB = dict(PALETTE)
SOLID = ("grass", "grass_dark", "dirt", "dirt_dark", "brick", "stone", "stone_light", "stone_dark",
         "pipe", "pipe_light", "pipe_dark")  # fmt: skip
COIN_RGB = RGB["coin"]
ENEMY_RGB = RGB["enemy"]
SHOE_RGB = RGB["black"]
TOL = 24  # colour tolerance: half the smallest gap between the colours read here
SOLID_TOL = 16  # tighter for ground: stone_light and the flag pole are 20 apart
MIN_PLAYER_PX = 6  # fewer shirt pixels is noise, not a player
HALF_W = 6  # the player's hitbox half-width, px
UP, DOWN = 10, 12  # rows above / below the shirt centroid searched for the body and the feet


QUANT = 2  # colour bits dropped for the lookup table: 64 levels a channel, +-2 of the exact value
OTHER, SHIRT, COIN, ENEMY, SHOE, SOLID_C = range(6)  # pixel classes of `classify`
CLASSES = ((SHIRT, PLAYER_RGB, TOL), (COIN, COIN_RGB, TOL), (ENEMY, ENEMY_RGB, TOL),
           (SHOE, SHOE_RGB, TOL), *((SOLID_C, RGB[n], SOLID_TOL) for n in SOLID))  # fmt: skip


def _centres(device: torch.device) -> torch.Tensor:
    """int64 [64**3, 3]: the colour at the centre of each lookup-table bin, in table order."""
    q = (torch.arange(256 >> QUANT, device=device) << QUANT) + (1 << QUANT) // 2  # [64]
    return torch.stack(torch.meshgrid(q, q, q, indexing="ij"), -1).view(-1, 3)


@functools.cache
def _lut(table: tuple, device: torch.device) -> torch.Tensor:
    """uint8 [64**3]: each quantised colour's class (the first whose tolerance it is within)."""
    rgb = _centres(device)  # [64**3, 3]
    out = torch.zeros(rgb.shape[0], dtype=torch.uint8, device=device)
    for cls, ref, tol in reversed(table):  # the first listed wins
        hit = (rgb - torch.tensor(ref, device=device)).abs().amax(1) <= tol
        out[hit] = cls
    return out


def lookup(q: torch.Tensor, table: tuple = CLASSES) -> torch.Tensor:
    """quantised colours int32 [...] (`quantised`) -> uint8 [...]: each pixel's class under `table`
    ((class, rgb, tol), ...), one table gather per pixel (index_select takes the int32 indices as they
    are: ~10x faster on a CPU than indexing with them, which widens them to int64 first)."""
    return _lut(table, q.device).index_select(0, q.reshape(-1)).view(q.shape)


def quantised(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3] -> int32 [...]: the index of each pixel's colour in a 64**3 lookup table,
    (r << 12) | (g << 6) | b of the 6-bit channels, summed in place into one int32 tensor (half the
    time of widening all three channels and or-ing them)."""
    f = frames >> QUANT
    return f[..., 0].to(torch.int32).mul_(64).add_(f[..., 1]).mul_(64).add_(f[..., 2])


def palette_table(palette: torch.Tensor, tol: float) -> torch.Tensor:
    """bool [64**3]: quantised colours within Euclidean `tol` (0..255) of a palette uint8 [K, 3]."""
    rgb = _centres(palette.device).float()  # [64**3, 3]
    return torch.cdist(rgb, palette.float()).amin(1) <= tol


def classify(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> uint8 [N, H, W]: OTHER, SHIRT, COIN, ENEMY, SHOE or SOLID_C per pixel."""
    return lookup(quantised(frames))


def player_xy(cls: torch.Tensor) -> torch.Tensor:
    """class map uint8 [N, H, W] -> float [N, 2]: (x, y) centroid of the shirt's pixels (pixel
    centres at +0.5); NaN where fewer than MIN_PLAYER_PX shirt pixels show."""
    m = (cls == SHIRT).view(torch.uint8)  # [N, H, W] 0/1, counted in int32 (3x faster than bools)
    h, w = m.shape[-2:]
    cols, rows = m.sum(1, dtype=torch.int32), m.sum(2, dtype=torch.int32)  # [N, W], [N, H]
    cnt = cols.sum(1).float()  # [N]
    xs = (cols.float() * (torch.arange(w, device=m.device) + 0.5)).sum(1)  # [N]
    ys = (rows.float() * (torch.arange(h, device=m.device) + 0.5)).sum(1)  # [N]
    out = torch.stack([xs / cnt.clamp(min=1), ys / cnt.clamp(min=1)], 1)  # [N, 2]
    return torch.where((cnt >= MIN_PLAYER_PX)[:, None], out, torch.full_like(out, float("nan")))


@dataclass(frozen=True)
class PlayerBox:
    feet: torch.Tensor  # float [N]: the lowest row of the shoes (NaN where no player)
    supported: torch.Tensor  # bool [N]: ground pixels in the two rows under the feet
    inside: torch.Tensor  # int64 [N]: ground pixels showing inside the body (overlap)


def _patch(cls: torch.Tensor, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """class map [N, H, W] -> [N, UP+DOWN+3, 2*HALF_W] around each centroid (edge-clamped) and bool
    [N, rows] for rows inside the frame."""
    n, h, w = cls.shape
    cx = torch.nan_to_num(xy[:, 0], nan=-1e4).floor().long()  # [N]
    cy = torch.nan_to_num(xy[:, 1], nan=-1e4).floor().long()
    rows = cy[:, None] + torch.arange(-UP, DOWN + 3, device=cls.device)  # [N, R]
    cols = cx[:, None] + torch.arange(-HALF_W, HALF_W, device=cls.device)  # [N, C]
    valid = (rows >= 0) & (rows < h)  # [N, R]
    idx = torch.arange(n, device=cls.device)[:, None, None]
    patch = cls[idx, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    return patch, valid  # [N, R, C], [N, R]


def player_box(cls: torch.Tensor, xy: torch.Tensor) -> PlayerBox:
    """The player's feet, whether ground is under them, and ground pixels inside the body."""
    patch, valid = _patch(cls, xy)  # [N, R, C], [N, R]
    n, r = valid.shape
    present = ~xy[:, 0].isnan()  # [N]
    rows = torch.arange(r, device=cls.device)  # [R]: row i is centroid row - UP + i
    below = rows >= UP  # shoes are under the shirt
    shoe = (patch == SHOE).any(2) & below & valid  # [N, R]
    has = shoe.any(1)  # [N]
    feet_i = torch.where(has, (shoe * rows).amax(1), torch.full_like(rows[0].expand(n), UP + 7))
    solid = (patch == SOLID_C) & valid[:, :, None]  # [N, R, C]
    inner = solid[:, :, 1:-1].sum(2)  # [N, R]: the hitbox less a 1-px margin for anti-aliasing
    under = (rows[None] > feet_i[:, None]) & (rows[None] <= feet_i[:, None] + 2)  # [N, R]
    supported = ((inner * under).sum(1) >= 2) & present
    body = (rows[None] >= UP - 4) & (rows[None] < feet_i[:, None])  # shirt to shoes
    inside = torch.where(present, (inner * body).sum(1), torch.zeros_like(feet_i))
    cy = xy[:, 1].floor()
    feet = torch.where(present, cy - UP + feet_i.float(), torch.full_like(cy, float("nan")))
    return PlayerBox(feet, supported, inside)


CROP_H, CROP_W = 24, 16  # the player's 16x16 box plus the rows a crouch or a jump pose moves


def player_crop(frames: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3], centroids [N, 2] -> float [N, 3, CROP_H, CROP_W] in [0, 1]: the pixels
    around each player (edge-clamped); zeros where no player was found."""
    n, h, w, _ = frames.shape
    ok = ~xy[:, 0].isnan()  # [N]
    cx = torch.nan_to_num(xy[:, 0], nan=w / 2).floor().long()  # [N]
    cy = torch.nan_to_num(xy[:, 1], nan=h / 2).floor().long()
    rows = (cy[:, None] + torch.arange(-CROP_H // 2, CROP_H // 2, device=frames.device)).clamp(
        0, h - 1
    )
    cols = (cx[:, None] + torch.arange(-CROP_W // 2, CROP_W // 2, device=frames.device)).clamp(
        0, w - 1
    )
    idx = torch.arange(n, device=frames.device)[:, None, None]
    crop = frames[idx, rows[:, :, None], cols[:, None, :]]  # [N, CROP_H, CROP_W, 3]
    return crop.permute(0, 3, 1, 2).float() / 255.0 * ok[:, None, None, None]
