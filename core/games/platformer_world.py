"""The platformer's constants and levels: everything built once per reset, shared by all envs.

Coordinates: level pixels, x right and y down, (0, 0) the top-left of the level; one tile is 16x16
pixels and the level is `rows` tiles tall (256 px: exactly the height of the 256x256 render). The art
lives in platformer_art.py. Everything here is built on the CPU (so every device gets the same bytes)
and moved to the device at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.games.hashrng import hash_int
from core.games.platformer_art import (
    BRICK,
    COIN_F,
    DIRT,
    EMPTY,
    GROUND,
    N_FRAMES,
    N_PLAYER_FRAMES,
    PALETTE,
    PIPE_L,
    PIPE_R,
    PIPE_TL,
    PIPE_TR,
    STONE,
    C,
    sprite_atlas,
    tile_atlas,
)
from core.pixels import downsample2, rgb_to_shade


@dataclass(frozen=True)
class Params:
    tile: int = 16  # px per tile edge: 16 tiles fill the 256-px render
    rows: int = 16  # level height in tiles: the render's 256 px
    cols: int = 128  # level length in tiles: about 15 s of running at top speed
    pad_top: int = (
        32  # sky rows above the level: the 144x160 screen shows y in [-32, 256) at half scale
    )
    n_levels: int = 8  # procedurally generated levels per seed ("several")
    n_enemies: int = 3  # patrolling enemies per level (unused slots are parked, invalid)
    n_items: int = 12  # coins per level (unused slots invalid)
    sub: int = 16  # subpixels per px: fixed-point physics, integer and bit-exact on every device
    accel: int = 3  # subpx/frame^2 while LEFT/RIGHT is held: ~13 frames from rest to top speed
    max_vx: int = 40  # subpx/frame = 2.5 px/frame top speed, well under a tile (no tunnelling)
    friction: int = 2  # subpx/frame^2 on the ground without LEFT/RIGHT
    brake: int = 6  # subpx/frame^2 on the ground with DOWN (crouch-brake)
    air_drag: int = 0  # subpx/frame^2 in the air without LEFT/RIGHT: momentum carries (classic)
    gravity: int = 8  # subpx/frame^2 = 0.5 px/frame^2
    gravity_held: int = 6  # while rising with JUMP held: ~65 px apex instead of ~49 px
    gravity_fast: int = 14  # falling with DOWN held (fast fall)
    jump_v: int = 112  # subpx/frame launch speed of JUMP: a 3-tile jump, 4 tiles when held
    hop_v: int = 72  # subpx/frame launch speed of UP: a 20 px hop, enough for a 1-tile step
    max_fall: int = 128  # subpx/frame = 8 px/frame terminal speed, half a tile (no tunnelling)
    enemy_speed: int = 1  # px/frame patrol speed
    turn_p16: int = 512  # chance per frame (out of 65536) that an enemy turns on its own: 1/128
    max_t: int = 3000  # frames before an episode is truncated (a 128-tile level takes ~900)
    cam_lo: int = 104  # dead zone: the camera scrolls when the player's centre leaves [104, 152)
    cam_hi: int = 152  #   of the 256-px render, so it rests while the player moves a little
    player_w: int = 12  # hitbox, px; the sprite is drawn in a 16x16 box at x - 2
    player_h: int = 16

    @property
    def level_w(self) -> int:
        return self.cols * self.tile

    @property
    def layer_h(self) -> int:
        return self.rows * self.tile + self.pad_top

    @property
    def cam_min(self) -> int:
        return self.pad_top  # the 160-px screen (320 level px) starts at cam - 32 >= 0

    @property
    def cam_max(self) -> int:
        return self.level_w - 256 - self.pad_top

    @property
    def n_cams(self) -> int:
        return (self.cam_max - self.cam_min) // 4 + 1  # the camera moves in steps of 4 px


PARAMS = Params()


@dataclass(frozen=True)
class LevelPlan:
    """One level as plain Python values, before it becomes tensors."""

    tiles: list[list[int]]  # [rows][cols] tile ids
    items: list[tuple[int, int]]  # (col, row) of each coin
    enemies: list[tuple[int, int, int]]  # (first col, last col, ground row) of each patrol run
    flag_col: int
    spawn_row: int  # ground row under the spawn


def plan_level(seed: int, index: int, p: Params = PARAMS) -> LevelPlan:
    """A solvable level from (seed, index): pits <= 3 tiles, steps <= 2, pipes <= 2 tall."""
    draws = [0]

    def r(n: int) -> int:
        draws[0] += 1
        return hash_int(seed, index, draws[0]) % n

    rows, cols = p.rows, p.cols
    tiles = [[EMPTY] * cols for _ in range(rows)]
    items: list[tuple[int, int]] = []
    runs: list[tuple[int, int, int]] = []

    def ground(c: int, g: int) -> None:
        tiles[g][c] = GROUND
        for y in range(g + 1, rows):
            tiles[y][c] = DIRT

    for c in (0, 1, 2, cols - 3, cols - 2, cols - 1):
        for y in range(rows):
            tiles[y][c] = STONE
    g, col, spawn_row = 12, 3, 12
    for c in range(3, 12):
        ground(c, g)
    col, since_run = 12, 0
    while col < cols - 18:
        k = (
            99 if since_run >= 3 else r(100)
        )  # a flat run at least every 4th piece: enemies need them
        since_run += 1
        if k < 18:  # a pit with a coin over its middle
            w = 2 + r(2)
            items.append((col + w // 2, g - 3))
            col += w
            ground(col, g)
            ground(col + 1, g)
            col += 2
        elif k < 32:  # a step up or down
            g = max(9, min(13, g + (1 if r(2) else -1) * (1 + r(2))))
            for c in range(col, col + 3):
                ground(c, g)
            col += 3
        elif k < 46:  # a pipe
            h = 1 + r(2)
            for c in range(col, col + 5):
                ground(c, g)
            tiles[g - h][col + 1], tiles[g - h][col + 2] = PIPE_TL, PIPE_TR
            for y in range(g - h + 1, g):
                tiles[y][col + 1], tiles[y][col + 2] = PIPE_L, PIPE_R
            items.append((col + 2, g - h - 2))
            col += 5
        elif k < 62:  # a floating brick platform with coins on top
            n = 3 + r(2)
            for c in range(col, col + n + 3):
                ground(c, g)
            for c in range(col + 1, col + 1 + n):
                tiles[g - 3][c] = BRICK if (c - col) % 3 else STONE
            items.append((col + 2, g - 4))
            items.append((col + n, g - 4))
            col += n + 3
        elif k < 72:  # stairs
            for i, h in enumerate((0, 1, 2, 2, 0)):
                ground(col + i, g)
                for y in range(g - h, g):
                    tiles[y][col + i] = BRICK
            col += 5
        else:  # flat ground: room for an enemy patrol and a coin to hop for
            n = 5 + r(4)
            for c in range(col, col + n):
                ground(c, g)
            runs.append((col, col + n - 1, g))
            since_run = 0
            items.append((col + 1 + r(n - 2), g - 2))
            col += n
    for c in range(col, cols - 3):
        ground(c, g)
    for c in range(col + 1, cols - 10, 2):  # top up the coins on the last stretch
        if len(items) < p.n_items:
            items.append((c, g - 2))
    flag_col = cols - 8
    picked_items = _spread(items, p.n_items, r)
    return LevelPlan(tiles, picked_items, _spread(runs, p.n_enemies, r), flag_col, spawn_row)


def patrol_bounds(c0: int, c1: int, p: Params = PARAMS) -> tuple[int, int]:
    """Lowest and highest box x (px) of an enemy patrolling tiles c0..c1: 12 px in from each end,
    so enemies on neighbouring runs stay >= 24 px apart (render_shades relies on it)."""
    return c0 * p.tile + 12, c1 * p.tile - 12


def _spread(xs: list, k: int, r) -> list:
    """At most k of xs, in level order, evenly spread with a random phase."""
    if len(xs) <= k:
        return list(xs)
    step = len(xs) / k
    phase = r(1000) / 1000 * step
    return [xs[int(phase + i * step)] for i in range(k)]


def _sky_bands(p: Params) -> torch.Tensor:
    """uint8 [layer_h, level_w]: four bands of sky, dithered over 6 rows at each seam."""
    yy = torch.arange(p.layer_h, dtype=torch.int16).unsqueeze(1)  # [H, 1] layer row
    xx = torch.arange(p.level_w, dtype=torch.int16).unsqueeze(0)  # [1, W]
    band = (yy + 6 * ((xx + yy) % 2)) // 72  # [H, W] in 0..4
    return (C["sky0"] + band.clamp(0, 3)).to(torch.uint8)


def _arcs(x: torch.Tensor, period: int, height: int) -> torch.Tensor:
    """Integer rounded bumps (parabolic arcs, like |sin|) of the given period and height at x:
    integer math, so the art is the same bytes on every machine."""
    t = x % period
    return (4 * height * t * (period - t)) // (period * period)


def _sky(seed: int, index: int, p: Params, bands: torch.Tensor) -> torch.Tensor:
    """uint8 [layer_h, level_w]: the bands plus level-fixed clouds and two ranges of hills."""
    h, w = p.layer_h, p.level_w
    yy = torch.arange(h, dtype=torch.int16).unsqueeze(1)  # [H, 1] layer row (level y + pad_top)
    xx = torch.arange(w).unsqueeze(0)  # [1, W]
    sky = bands.clone()
    k = 0

    def r(n: int) -> int:
        nonlocal k
        k += 1
        return hash_int(seed, index, 7919, k) % n

    p1, p2 = 190 + r(120), 90 + r(60)  # hill widths (px), per level
    ph1, ph2 = r(1000), r(1000)
    far = 170 - _arcs(xx + ph1, p1, 44) - _arcs(xx + ph2, 53, 8) + 4  # [1, W] top row of the hills
    near = 222 - _arcs(xx + ph2, p2, 26)
    sky = torch.where(yy >= far.to(torch.int16), C["hill_far"], sky)
    sky = torch.where(yy >= near.to(torch.int16), C["hill_near"], sky)
    for x0 in range(0, w, 150):
        cx, cy = x0 + r(110), 36 + r(60)
        y0, y1, xa, xb = cy - 14, cy + 12, max(cx - 32, 0), min(cx + 32, w)
        gy, gx = torch.meshgrid(torch.arange(y0, y1), torch.arange(xa, xb), indexing="ij")
        gx, gy = gx.double(), gy.double()
        blob = torch.zeros_like(gx, dtype=torch.bool)
        for dx, dy, rx, ry in ((-14, 2, 14, 8), (0, -4, 16, 10), (14, 2, 13, 8)):
            blob |= ((gx - cx - dx) / rx) ** 2 + ((gy - cy - dy) / ry) ** 2 <= 1
        shade = blob & (gy > cy + 4)
        patch = sky[y0:y1, xa:xb]
        patch = torch.where(blob, C["cloud"], patch)
        sky[y0:y1, xa:xb] = torch.where(shade, C["cloud_shade"], patch).to(torch.uint8)
    return sky


@dataclass(frozen=True)
class Bank:
    """The level bank of one seed, shared by every env (indexed by each env's `level`)."""

    seed: int
    solid: (
        torch.Tensor
    )  # uint8 [L * (rows + 3) * cols] flat; padded rows: -1 solid, rows, rows+1 empty
    tiles: torch.Tensor  # uint8 [L, rows, cols]
    item_px: torch.Tensor  # int32 [L, K, 2] (x, y) of each coin's cell, level px
    item_valid: torch.Tensor  # bool [L, K]
    item_at: torch.Tensor  # int32 [L * rows * cols] flat: the coin slot in a cell, K if none
    enemy_box: torch.Tensor  # int32 [L, E, 4]: x0, lowest x, highest x, y (px) of each patrol
    enemy_valid: torch.Tensor  # bool [L, E]
    flag_x: torch.Tensor  # int32 [L] px: touching it wins
    spawn: torch.Tensor  # int32 [L, 2] player start (x, y) in subpx
    layer_rgb: torch.Tensor  # uint8 [L, layer_h, level_w, 3]: the level without coins or sprites
    half_rgb: (
        torch.Tensor
    )  # uint8 [L, layer_h/2, level_w/2, 3]: every second px, for the 144x160 screen
    half_s1: torch.Tensor  # uint8 [L * layer_h/2 * level_w/2] flat: the half-scale layer (the
    #   144x160 screen's pixels) as shade + 1 with coins drawn, | (shade + 1 without coins) << 3
    obs_frames: (
        torch.Tensor
    )  # uint8 [L * n_cams, 72 * 80]: the 72x80 shades per camera stop, coins drawn
    obs_bare: torch.Tensor  # uint8 [L, K, 4, 4]: the 72x80 shades of each coin's cell once taken
    atlas: torch.Tensor  # uint8 [N_FRAMES * 32 * 32] flat: each 16x16 sprite in a 32x32 cell of
    #   zeros, so a lookup clamped to row or column 16 reads "clear" (index f*1024 + row*32 + col)
    atlas_rgb: torch.Tensor  # uint8 [N_FRAMES * 32 * 32, 3], the same layout in RGB
    atlas_s1: torch.Tensor  # uint8 [(N_FRAMES + 1) * 64 * 64] flat: shade + 1 + 8 (enemies, coin)
    #   or + 16 (player), 0 where clear, so max() stacks player > enemy > level; sprite f at rows and
    #   cols 24..39 of 64x64 cell f, so any 20-px window that meets it stays in the cell; the last
    #   cell is blank
    palette_rgb: torch.Tensor  # uint8 [P, 3]
    palette_shade: torch.Tensor  # uint8 [P] in 0..3 (rgb_to_shade of the palette)


def _lut(table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """table[idx] for uint8 indices, without widening idx to int64: [*idx.shape, *table.shape[1:]]."""
    flat = table.index_select(0, idx.reshape(-1).to(torch.int32))
    return flat.view(*idx.shape, *table.shape[1:])


def build_bank(seed: int, device: torch.device | str = "cpu", p: Params = PARAMS) -> Bank:
    """Generate the seed's levels and pre-render their static layers (a few tens of ms on a CPU)."""
    L, R, Cn, K, E = p.n_levels, p.rows, p.cols, p.n_items, p.n_enemies
    plans = [plan_level(seed, j, p) for j in range(L)]
    tiles = torch.tensor([pl.tiles for pl in plans], dtype=torch.uint8)  # [L, R, C]
    solid = torch.zeros(L, R + 3, Cn, dtype=torch.uint8)
    solid[:, 0] = 1  # an invisible ceiling above the level
    solid[:, 1 : R + 1] = (tiles != EMPTY).to(torch.uint8)
    item_px = torch.full((L, K, 2), -4096, dtype=torch.int32)  # unused slots parked far away
    item_valid = torch.zeros(L, K, dtype=torch.bool)
    item_at = torch.full((L, R, Cn), K, dtype=torch.int32)
    enemy_box = torch.tensor([-4096, -4096, -4096, 0], dtype=torch.int32).repeat(L, E, 1)
    enemy_valid = torch.zeros(L, E, dtype=torch.bool)
    spawn = torch.zeros(L, 2, dtype=torch.int32)
    for j, pl in enumerate(plans):
        for k, (c, rr) in enumerate(pl.items):
            item_px[j, k] = torch.tensor([c * p.tile, rr * p.tile])
            item_valid[j, k] = True
            item_at[j, rr, c] = k
        for e, (c0, c1, g) in enumerate(pl.enemies):
            lo, hi = patrol_bounds(c0, c1, p)
            enemy_box[j, e] = torch.tensor([(lo + hi) // 2, lo, hi, (g - 1) * p.tile])
            enemy_valid[j, e] = True
        spawn[j] = torch.tensor([(4 * p.tile + 2) * p.sub, (pl.spawn_row - 1) * p.tile * p.sub])
    flag_x = torch.tensor([pl.flag_col * p.tile + 6 for pl in plans], dtype=torch.int32)

    atlas = sprite_atlas()  # [F, 16, 16]
    tl = tile_atlas()[tiles.long()]  # [L, R, C, 16, 16]
    tl = tl.permute(0, 1, 3, 2, 4).reshape(L, R * 16, Cn * 16)  # [L, 256, W]
    bands = _sky_bands(p)
    layer = torch.stack([_sky(seed, j, p, bands) for j in range(L)])  # [L, H, W]
    body = layer[:, p.pad_top :]
    layer[:, p.pad_top :] = torch.where(tl == 0, body, tl)
    for j, pl in enumerate(plans):  # the goal flag: a pole with a pennant, drawn over the sky
        fx = int(flag_x[j])
        gy = next(y for y in range(R) if tiles[j, y, pl.flag_col] != EMPTY) * p.tile + p.pad_top
        top = gy - 8 * p.tile
        layer[j, top:gy, fx : fx + 3] = C["pole"]
        layer[j, top - 4 : top, fx - 1 : fx + 4] = C["coin"]
        for i in range(14):
            layer[j, top + 2 + i // 2 : top + 16 - i // 2, fx - 14 + i] = C["flag"]
    coins = layer.clone()
    for j, pl in enumerate(plans):
        for c, rr in pl.items:
            y0, x0 = rr * p.tile + p.pad_top, c * p.tile
            cell = coins[j, y0 : y0 + 16, x0 : x0 + 16]
            coins[j, y0 : y0 + 16, x0 : x0 + 16] = torch.where(
                atlas[COIN_F] > 0, atlas[COIN_F], cell
            )

    pal = torch.tensor([rgb for _, rgb in PALETTE], dtype=torch.uint8)  # [P, 3]
    shade = rgb_to_shade(pal)  # [P]
    layer_rgb = _lut(pal, layer)  # [L, H, W, 3]
    obs_full = downsample2(_lut(shade, coins[:, ::2, ::2]))  # [L, H/4, W/4]
    obs_frames = obs_full.unfold(2, 80, 1)[
        :, :, : p.n_cams
    ]  # [L, 72, n_cams, 80]; start = (cam-32)/4
    obs_frames = obs_frames.permute(0, 2, 1, 3).reshape(L * p.n_cams, 72 * 80)
    obs_bare_full = downsample2(_lut(shade, layer[:, ::2, ::2]))  # [L, H/4, W/4]
    obs_bare = torch.zeros(L, K, 4, 4, dtype=torch.uint8)
    for j, pl in enumerate(plans):
        for k, (c, rr) in enumerate(pl.items):
            y0 = (rr * p.tile + p.pad_top) // 4
            obs_bare[j, k] = obs_bare_full[j, y0 : y0 + 4, c * 4 : c * 4 + 4]
    padded = torch.zeros(N_FRAMES, 32, 32, dtype=torch.uint8)
    padded[:, :16, :16] = atlas
    wide = torch.zeros(N_FRAMES + 1, 64, 64, dtype=torch.uint8)
    tier = torch.full((N_FRAMES, 1, 1), 8, dtype=torch.uint8)
    tier[:N_PLAYER_FRAMES] = 16
    wide[:N_FRAMES, 24:40, 24:40] = torch.where(atlas > 0, _lut(shade + 1, atlas) + tier, 0)
    half_coin = _lut(shade + 1, coins[:, ::2, ::2])  # [L, H/2, W/2]
    half_bare = _lut(shade + 1, layer[:, ::2, ::2])
    dev = torch.device(device)
    return Bank(
        seed=seed,
        solid=solid.reshape(-1).to(dev),
        tiles=tiles.to(dev),
        item_px=item_px.to(dev),
        item_valid=item_valid.to(dev),
        item_at=item_at.reshape(-1).to(dev),
        enemy_box=enemy_box.to(dev),
        enemy_valid=enemy_valid.to(dev),
        flag_x=flag_x.to(dev),
        spawn=spawn.to(dev),
        layer_rgb=layer_rgb.to(dev),
        half_rgb=layer_rgb[:, ::2, ::2].contiguous().to(dev),
        half_s1=(half_coin | half_bare << 3).reshape(-1).to(dev),
        obs_frames=obs_frames.contiguous().to(dev),
        obs_bare=obs_bare.to(dev),
        atlas=padded.reshape(-1).to(dev),
        atlas_rgb=pal[padded.long()].reshape(-1, 3).to(dev),
        atlas_s1=wide.reshape(-1).to(dev),
        palette_rgb=pal.to(dev),
        palette_shade=shade.to(dev),
    )
