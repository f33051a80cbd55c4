"""Rendering of platformer states: gathers from pre-rendered level layers plus masked sprite pastes.

Three views of the same scene (level coordinates: see platformer_world.py):
    render_rgb    uint8 [N, 256, 256, 3]  level x in [cam, cam + 256), y in [0, 256), 1:1
    render_screen uint8 [N, 144, 160, 3]  a Game Boy sized screen at half scale: pixel (Y, X) shows
                                          level (cam - 32 + 2X, 2Y - 32)
    render_shades uint8 [N, 72, 80]       == core.pixels.screen_to_obs(render_screen(state)), exactly,
                                          but built at 72x80 from pre-shaded frames (one gather per
                                          env) and 10x10-px screen patches around the moving sprites

No Python loop over envs or pixels; the only loops run over the few moving sprites. Draw order: level
(with coins not yet taken), enemies, player on top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from core.games.platformer_art import COIN_F, ENEMY_F, N_FRAMES, PLAYER_RGB
from core.games.platformer_world import PARAMS, Params
from core.pixels import downsample2

if TYPE_CHECKING:
    from core.games.platformer_state import State

OBS_H, OBS_W = 72, 80  # the roadmap's 72x80 shades (exact /2 of the 144x160 screen)


def _sprites(state: State, p: Params) -> list[tuple[torch.Tensor, ...]]:
    """Sprite groups in draw order: (frame [N, S], box x [N, S], box y [N, S], shown [N, S]), px."""
    s, b = state, state.bank
    box = b.enemy_box[s.level]  # [N, E, 4]
    ipx = b.item_px[s.level]  # [N, K, 2]
    coin_f = torch.full_like(ipx[..., 0], COIN_F, dtype=torch.int64)  # [N, K]
    efr = ENEMY_F + ((s.ex >> 3) & 1).to(torch.int64) + torch.where(s.edir < 0, 2, 0)  # [N, E]
    px, py = (s.x >> 4) - 2, s.y >> 4  # the 16-px box around the 12-px hitbox
    return [
        (coin_f, ipx[..., 0], ipx[..., 1], ~s.collected & b.item_valid[s.level]),
        (efr, s.ex, box[..., 3], b.enemy_valid[s.level]),
        (
            s.frame.unsqueeze(1),
            px.unsqueeze(1),
            py.unsqueeze(1),
            torch.ones_like(px.unsqueeze(1), dtype=torch.bool),
        ),
    ]


def _view(
    state: State, stride: int, h: int, w: int, p: Params, out: torch.Tensor | None
) -> torch.Tensor:
    """uint8 [N, h, w, 3]: the scene sampled every `stride` level px from (cam - pad, -pad) or (cam, 0)."""
    s, b = state, state.bank
    n, dev = s.n, s.x.device
    layer = b.layer_rgb if stride == 1 else b.half_rgb  # [L, LH, LW, 3]
    _, lh, lw, _ = layer.shape
    ox = s.cam if stride == 1 else s.cam - p.pad_top  # [N] level x of column 0
    oy = 0 if stride == 1 else -p.pad_top  # level y of row 0
    x0 = ox // stride  # [N] layer column of view column 0
    y0 = (oy + p.pad_top) // stride
    runs = layer.reshape(-1).unfold(0, w * 3, 3)  # [M, w*3]: every run of w pixels
    rows = torch.arange(h, device=dev) + y0  # [h]
    idx = ((s.level.unsqueeze(1) * lh + rows) * lw + x0.unsqueeze(1).long()).reshape(-1)  # [N*h]
    buf = _buffer(out, (n * h * w + 1) * 3, dev).view(-1, 3)  # last px: a dump for clipped ones
    torch.index_select(runs, 0, idx, out=buf[:-1].view(n * h, w * 3))
    m = 16 // stride
    u = torch.arange(m, device=dev)  # [m]
    # Only sprites whose 16-px box meets the view can draw: on the CPU the per-pixel work runs on
    # those (env, sprite) pairs alone, kept in draw order; elsewhere on all of them (no host sync).
    ox1, xend, yend = ox.unsqueeze(1), w * stride, h * stride
    for fr, sx, sy, shown in _sprites(s, p):
        vis = shown & (sx > ox1 - 16) & (sx < ox1 + xend) & (sy > oy - 16) & (sy < oy + yend)
        vis = vis.reshape(-1)  # [N*S]
        if dev.type == "cpu":
            sel = vis.nonzero().squeeze(1)  # [M] flat (env, sprite) indices, ascending
            if sel.numel() == 0:
                continue
        else:
            sel = torch.arange(vis.numel(), device=dev)
        env = (sel // sx.shape[1]).view(-1, 1, 1)  # [M, 1, 1]
        fr, sx, sy = (_take(t.reshape(-1), sel) for t in (fr, sx, sy))  # [M]
        o = _take(ox, env.view(-1))
        i0 = (o - sx) % stride  # [M] first sprite column that lands on a view px
        j0 = (oy - sy) % stride
        tx = ((sx + i0 - o) // stride).view(-1, 1, 1) + u  # [M, 1, m]
        ty = ((sy + j0 - oy) // stride).view(-1, 1, 1) + u.unsqueeze(1)  # [M, m, 1]
        src = (
            fr.view(-1, 1, 1) * 1024
            + (j0.view(-1, 1, 1) + stride * u.unsqueeze(1)) * 32
            + i0.view(-1, 1, 1)
            + stride * u
        )  # [M, m, m]
        ok = (
            _take(vis, sel).view(-1, 1, 1)
            & (_take(b.atlas, src) != 0)
            & (tx >= 0)
            & (tx < w)
            & (ty >= 0)
            & (ty < h)
        )
        dest = torch.where(ok, (env * h + ty) * w + tx, n * h * w).reshape(-1, 1)  # [M*m*m, 1]
        buf.scatter_(0, dest.expand(-1, 3), b.atlas_rgb.index_select(0, src.reshape(-1)))
    return buf[:-1].view(n, h, w, 3)


def render_rgb(
    state: State, params: Params = PARAMS, out: torch.Tensor | None = None
) -> torch.Tensor:
    """uint8 [N, 256, 256, 3]: the level around the camera at 1:1. `out`: see render_shades."""
    return _view(state, 1, 256, 256, params, out)


def render_screen(
    state: State, params: Params = PARAMS, out: torch.Tensor | None = None
) -> torch.Tensor:
    """uint8 [N, 144, 160, 3]: a Game Boy sized half-scale view (see the module docstring)."""
    return _view(state, 2, 144, 160, params, out)


def render_shades(
    state: State, params: Params = PARAMS, out: torch.Tensor | None = None
) -> torch.Tensor:
    """uint8 [N, 72, 80] in 0..3: equal to screen_to_obs(render_screen(state)), built directly.

    out: optionally a frame this function returned earlier for as many envs; its memory is reused
    and overwritten (saves page-faulting a fresh buffer per frame, a large cost on CPUs).

    The frame comes pre-shaded per camera stop (one row gather per env); taken coins get their bare
    4x4 cell back; then each moving sprite gets a 10x10 screen-px window (5x5 obs px) in which the
    whole scene is evaluated at screen resolution, downsampled with core.pixels.downsample2 and
    written over the frame. Windows are clamped inside the screen (their values are exact wherever
    they land), so only windows of sprites that are out of sight need a dump. Layers are stacked
    with max() on tiered values instead of where(), which is several times slower on CPUs.
    Enemies never come within 24 px of each other (their patrol runs are apart), so an enemy's
    window holds at most itself and the player; the player's window is checked against every enemy.
    """
    p, s, b = params, state, state.bank
    n, dev = s.n, s.x.device
    npx = OBS_H * OBS_W
    c = (s.cam - p.cam_min) >> 2  # [N] camera stop; obs column 0 shows level x = cam - 32
    buf = _buffer(out, (n + 1) * npx, dev)  # frame n: a dump
    torch.index_select(b.obs_frames, 0, s.level * p.n_cams + c, out=buf[: n * npx].view(n, npx))
    base = torch.arange(n, device=dev) * npx  # [N] first byte of each frame

    # Coins already taken: their cell goes back to the bare level (cells are 4x4 obs px, aligned,
    # and always inside the frame vertically). Index patterns go first in broadcast adds: torch's
    # CPU kernels vectorize "contiguous + broadcast" but not the other way round.
    ipx = b.item_px[s.level]  # [N, K, 2]
    tx = (ipx[..., 0] >> 2) - c.unsqueeze(1)  # [N, K] obs column of the cell's left edge
    at = base.unsqueeze(1) + ((ipx[..., 1] + p.pad_top) >> 2) * OBS_W + tx  # [N, K]
    at = torch.where(s.collected & (tx > -4) & (tx < OBS_W), at, n * npx)
    u4 = torch.arange(4, device=dev)
    dest = ((u4 * OBS_W).repeat_interleave(4) + u4.repeat(4)) + at.unsqueeze(-1)  # [N, K, 16]
    cols = u4.repeat(4).to(torch.int32) + tx.unsqueeze(-1)  # [N, K, 16] obs column
    dest.masked_fill_(cols.to(torch.uint8) >= OBS_W, n * npx)  # off the frame (< 0 wraps): dump
    buf.scatter_(0, dest.reshape(-1), b.obs_bare[s.level].reshape(-1))

    # Moving sprites: enemies then the player, S = E + 1 windows.
    e = p.n_enemies
    ey = b.enemy_box[s.level][..., 3]  # [N, E]
    efr = ENEMY_F + ((s.ex >> 3) & 1) + (s.edir < 0).to(torch.int32) * 2  # [N, E]
    px, py = (s.x >> 4) - 2, s.y >> 4  # [N] player's 16-px box
    sx = torch.cat([s.ex, px.unsqueeze(1)], 1)  # [N, S] box x, level px
    sy = torch.cat([ey, py.unsqueeze(1)], 1)
    ox = s.cam - p.pad_top  # [N] level x of screen column 0
    bx, by = (sx - ox.unsqueeze(1)) >> 1, (sy + p.pad_top) >> 1  # [N, S] box's first screen px
    seen = (bx > -8) & (bx < 160) & (by > -8) & (by < 144)  # [N, S]
    wx, wy = (bx & ~1).clamp(0, 150), (by & ~1).clamp(0, 134)  # window's first screen px, even
    x0, y0 = ox.unsqueeze(1) + 2 * wx, 2 * wy - p.pad_top  # [N, S] level px of window corners
    k10 = torch.arange(10, device=dev, dtype=torch.int32)
    k100 = torch.arange(100, device=dev, dtype=torch.int32)

    # Background at screen resolution: one 10-px run of the half-scale layer per window row.
    hrow = k10 * (p.level_w // 2) + (
        (s.level.unsqueeze(1) * (p.layer_h // 2) + wy) * (p.level_w // 2)
        + (ox >> 1).unsqueeze(1)
        + wx
    ).unsqueeze(-1)  # [N, S, 10] run starts
    bg = _runs(b.half_s1, hrow, 10).view(n, -1, 100)  # [N, S, 100] coin-drawn | coin-free << 3
    # A window spans at most 2x2 cells (its corner is a multiple of 4 px, it is 20 px wide): which
    # one holds each sample depends only on the corner's phase within a cell (16 patterns).
    cx0, cy0 = x0 >> 4, y0 >> 4  # [N, S] first cell
    lvl = s.level.unsqueeze(1)
    taken_flat = torch.cat([s.collected, s.collected.new_zeros(n, 1)], 1).reshape(
        -1
    )  # slot K: none
    envk = (torch.arange(n, device=dev) * (p.n_items + 1)).unsqueeze(1)

    def taken_at(dy: int, dx: int) -> torch.Tensor:  # int32 [N, S] 0/1
        r, cc = (cy0 + dy).clamp(0, p.rows - 1), (cx0 + dx).clamp(0, p.cols - 1)
        return _take(taken_flat, envk + _take(b.item_at, (lvl * p.rows + r) * p.cols + cc)).int()

    mask4 = taken_at(0, 0) | taken_at(0, 1) << 1 | taken_at(1, 0) << 2 | taken_at(1, 1) << 3
    phase = ((y0 & 15) >> 2) * 4 + ((x0 & 15) >> 2)  # [N, S] in 0..15
    quad = _take(_quadrants(dev), k100 + (phase * 100).unsqueeze(-1))  # [N, S, 100] in 0..3
    bits = ((torch.arange(64, device=dev) >> 2) >> (torch.arange(64, device=dev) & 3)) & 1
    taken = _take(bits.to(torch.uint8), quad + (mask4 * 4).unsqueeze(-1))  # [N, S, 100] 0/1
    val = (bg >> (taken * 3)) & 7  # [N, S, 100] shade + 1, coins taken or not

    # Sprite pixels: 64x64 atlas cells make every window's lookups base + a fixed 10x10 pattern.
    pat = ((k10 * 128).unsqueeze(1) + 2 * k10).reshape(-1)  # [100] offsets of samples in a cell

    def sprite(fr, bxl, byl, wsl) -> torch.Tensor:  # shade + 1 of a sprite, 0 where clear
        dx, dy = x0[:, wsl] - bxl, y0[:, wsl] - byl  # [N, Q] window corner in the sprite's box
        meet = (dx >= -18) & (dx <= 15) & (dy >= -18) & (dy <= 15)
        at = torch.where(meet, fr * 4096 + (dy + 24) * 64 + dx + 24, N_FRAMES * 4096)  # [N, Q]
        return _take(b.atlas_s1, pat + at.to(torch.int32).unsqueeze(-1))  # [N, Q, 100]

    over = torch.maximum  # sprite values carry their tier (+8 enemy, +16 player; 0 clear)

    val_e = over(val[:, :e], sprite(efr, s.ex, ey, slice(0, e)))  # each enemy in its own window
    val_p = val[:, e:]
    for q in range(e):  # the enemies inside the player's window
        qs, ws = slice(q, q + 1), slice(e, e + 1)
        val_p = over(val_p, sprite(efr[:, qs], s.ex[:, qs], ey[:, qs], ws))
    val = torch.cat([val_e, val_p], 1)
    val = over(val, sprite(s.frame.unsqueeze(1), px.unsqueeze(1), py.unsqueeze(1), slice(None)))
    patch = (
        downsample2((val & 7).view(n, -1, 10, 10)) - 1
    )  # [N, S, 5, 5]; (sum(v+1)+2)//4 == (sum(v)+2)//4 + 1

    frame0 = torch.where(seen, base.unsqueeze(1), n * npx)  # [N, S] out of sight: the dump
    at = frame0 + (wy >> 1) * OBS_W + (wx >> 1)  # [N, S]
    pat5 = (
        (torch.arange(5, device=dev) * OBS_W).unsqueeze(1) + torch.arange(5, device=dev)
    ).reshape(-1)
    buf.scatter_(0, (pat5 + at.unsqueeze(-1)).reshape(-1), patch.reshape(-1))
    return buf[: n * npx].view(n, OBS_H, OBS_W)


def _quadrants(dev: torch.device) -> torch.Tensor:
    """int32 [16 * 100]: for a window corner at phase (py, px) = divmod(k, 4) * 4 px within a cell,
    the cell (row * 2 + col, 0..3) of each of its 10x10 samples (2 px apart)."""
    k = torch.arange(16, device=dev)
    s2 = 2 * torch.arange(10, device=dev)
    col = (((k & 3) * 4).view(16, 1, 1) + s2.view(1, 1, 10)) >> 4  # [16, 1, 10]
    row = (((k >> 2) * 4).view(16, 1, 1) + s2.view(1, 10, 1)) >> 4  # [16, 10, 1]
    return (row * 2 + col).reshape(-1).to(torch.int32)


def _buffer(out: torch.Tensor | None, numel: int, device: torch.device) -> torch.Tensor:
    """A flat uint8 buffer of numel: out's memory when it is on device and big enough, else new."""
    if out is not None and out.device == device and out.untyped_storage().nbytes() >= numel:
        return torch.empty(0, dtype=torch.uint8, device=device).set_(
            out.untyped_storage(), 0, (numel,)
        )
    return torch.empty(numel, dtype=torch.uint8, device=device)


def _take(flat: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """flat[idx] for an index tensor of any shape (int32 or int64): one index_select."""
    return flat.index_select(0, idx.reshape(-1)).view(idx.shape)


def _runs(flat: torch.Tensor, start: torch.Tensor, w: int) -> torch.Tensor:
    """flat[start + arange(w)] for starts of any shape -> [*start.shape, w]: one row gather."""
    return flat.unfold(0, w, 1).index_select(0, start.reshape(-1)).view(*start.shape, w)


def locate_player(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 [N, 2]: (x, y) centroid of PLAYER_RGB pixels in px (pixel
    centres at +0.5), NaN where the colour is absent."""
    r, g, bl = PLAYER_RGB
    m = (rgb[..., 0] == r) & (rgb[..., 1] == g) & (rgb[..., 2] == bl)  # [N, H, W]
    h, w = m.shape[-2:]
    cnt = m.sum((1, 2)).float()  # [N]
    xs = (m.sum(1).float() * (torch.arange(w, device=rgb.device) + 0.5)).sum(1)  # [N]
    ys = (m.sum(2).float() * (torch.arange(h, device=rgb.device) + 0.5)).sum(1)
    out = torch.stack([xs / cnt, ys / cnt], 1)  # [N, 2]
    return torch.where(cnt.unsqueeze(1) > 0, out, torch.full_like(out, float("nan")))
