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

from core.games.platformer_world import COIN_F, ENEMY_F, PARAMS, PLAYER_RGB, Params
from core.pixels import downsample2

if TYPE_CHECKING:
    from core.games.platformer import State

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


def _view(state: State, stride: int, h: int, w: int, p: Params) -> torch.Tensor:
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
    buf = torch.empty(
        n * h * w + 1, 3, dtype=torch.uint8, device=dev
    )  # last row: a dump for clipped px
    torch.index_select(runs, 0, idx, out=buf[:-1].view(n * h, w * 3))
    m = 16 // stride
    u = torch.arange(m, device=dev)  # [m]
    env = torch.arange(n, device=dev).view(n, 1, 1, 1)
    for fr, sx, sy, shown in _sprites(s, p):
        i0 = (ox.unsqueeze(1) - sx) % stride  # [N, S] first sprite column that lands on a view px
        j0 = (oy - sy) % stride
        tx = ((sx + i0 - ox.unsqueeze(1)) // stride).unsqueeze(-1).unsqueeze(-1) + u  # [N, S, 1, m]
        ty = ((sy + j0 - oy) // stride).unsqueeze(-1).unsqueeze(-1) + u.unsqueeze(1)  # [N, S, m, 1]
        src = (
            fr.unsqueeze(-1).unsqueeze(-1) * 1024
            + (j0.unsqueeze(-1).unsqueeze(-1) + stride * u.unsqueeze(1)) * 32
            + i0.unsqueeze(-1).unsqueeze(-1)
            + stride * u
        )  # [N, S, m, m]
        ok = (
            shown.unsqueeze(-1).unsqueeze(-1)
            & (b.atlas[src] != 0)
            & (tx >= 0)
            & (tx < w)
            & (ty >= 0)
            & (ty < h)
        )
        dest = torch.where(ok, (env * h + ty) * w + tx, n * h * w)  # [N, S, m, m]
        buf.index_put_((dest.reshape(-1),), b.atlas_rgb[src.reshape(-1)])
    return buf[:-1].view(n, h, w, 3)


def render_rgb(state: State, params: Params = PARAMS) -> torch.Tensor:
    """uint8 [N, 256, 256, 3]: the level around the camera at 1:1."""
    return _view(state, 1, 256, 256, params)


def render_screen(state: State, params: Params = PARAMS) -> torch.Tensor:
    """uint8 [N, 144, 160, 3]: a Game Boy sized half-scale view (see the module docstring)."""
    return _view(state, 2, 144, 160, params)


def render_shades(state: State, params: Params = PARAMS) -> torch.Tensor:
    """uint8 [N, 72, 80] in 0..3: equal to screen_to_obs(render_screen(state)), built directly."""
    p, s, b = params, state, state.bank
    n, dev = s.n, s.x.device
    npx = OBS_H * OBS_W
    c = (s.cam - p.cam_min) >> 2  # [N] camera stop; obs column 0 shows level x = cam - 32
    buf = torch.empty(n * npx + 1, dtype=torch.uint8, device=dev)  # last: a dump for clipped px
    torch.index_select(b.obs_frames, 0, s.level * p.n_cams + c, out=buf[:-1].view(n, npx))
    env = torch.arange(n, device=dev).view(n, 1, 1, 1)
    u = torch.arange(4, device=dev)

    # Coins already taken: their cell goes back to the bare level (cells are 4x4 obs px, aligned).
    ipx = b.item_px[s.level]  # [N, K, 2]
    tx = ((ipx[..., 0] >> 2) - c.unsqueeze(1)).unsqueeze(-1).unsqueeze(-1) + u  # [N, K, 1, 4]
    ty = ((ipx[..., 1] + p.pad_top) >> 2).unsqueeze(-1).unsqueeze(-1) + u.unsqueeze(
        1
    )  # [N, K, 4, 1]
    ok = (
        s.collected.unsqueeze(-1).unsqueeze(-1)
        & (tx >= 0)
        & (tx < OBS_W)
        & (ty >= 0)
        & (ty < OBS_H)
    )
    dest = torch.where(ok, (env * OBS_H + ty) * OBS_W + tx, n * npx)  # [N, K, 4, 4]
    buf.index_put_((dest.reshape(-1),), b.obs_bare[s.level].reshape(-1))

    # Moving sprites: evaluate the whole scene on a 10x10 screen-px window around each, shade it,
    # downsample it with the shared pipeline and write the 5x5 result over the frame.
    groups = [g[:3] for g in _sprites(s, p)[1:]]  # enemies, player: (frame, box x, box y)
    sx = torch.cat([g[1] for g in groups], 1)  # [N, S] box x, level px
    sy = torch.cat([g[2] for g in groups], 1)
    ox = s.cam - p.pad_top  # [N] level x of screen column 0
    wx = ((sx - ox.unsqueeze(1)) >> 1) & ~1  # [N, S] window's first screen column, even
    wy = ((sy + p.pad_top) >> 1) & ~1
    k10 = torch.arange(10, device=dev, dtype=torch.int32)
    lx = (ox.unsqueeze(1) + 2 * wx).unsqueeze(-1).unsqueeze(-1) + 2 * k10  # [N, S, 1, 10] level x
    ly = (2 * wy - p.pad_top).unsqueeze(-1).unsqueeze(-1) + 2 * k10.unsqueeze(1)  # [N, S, 10, 1]
    val = _scene(s, lx, ly, groups, p)  # [N, S, 10, 10] shade + 1
    patch = downsample2(val) - 1  # [N, S, 5, 5]; (sum(v + 1) + 2) // 4 == (sum(v) + 2) // 4 + 1
    u5 = torch.arange(5, device=dev)
    tx = (wx >> 1).unsqueeze(-1).unsqueeze(-1) + u5  # [N, S, 1, 5]
    ty = (wy >> 1).unsqueeze(-1).unsqueeze(-1) + u5.unsqueeze(1)  # [N, S, 5, 1]
    ok = (tx >= 0) & (tx < OBS_W) & (ty >= 0) & (ty < OBS_H)
    dest = torch.where(ok, (env * OBS_H + ty) * OBS_W + tx, n * npx)  # [N, S, 5, 5]
    buf.index_put_((dest.reshape(-1),), patch.reshape(-1))
    return buf[:-1].view(n, OBS_H, OBS_W)


def _take(flat: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """flat[idx] for an index tensor of any shape (int32 or int64): one index_select."""
    return flat.index_select(0, idx.reshape(-1)).view(idx.shape)


def _scene(state: State, lx: torch.Tensor, ly: torch.Tensor, groups, p: Params) -> torch.Tensor:
    """Shade + 1 of the whole scene at level px lx [N, S, 1, w] x ly [N, S, h, 1] -> [N, S, h, w].

    Index arithmetic stays on the separable [.., 1, w] / [.., h, 1] factors; the full-size work is a
    few adds, gathers and selects. Sprites outside a window read the atlas' zero margin (row/col 16).
    """
    s, b = state, state.bank
    n, dev = s.n, s.x.device
    lh, lw, k = p.layer_h, p.level_w, p.n_items
    lv = s.level.to(torch.int32).view(n, 1, 1, 1)
    xc = lx.clamp(0, lw - 1)  # [N, S, 1, w]
    base = (lv * lh + (ly + p.pad_top).clamp(0, lh - 1)) * lw + xc  # [N, S, h, w]
    cell = (lv * p.rows + (ly >> 4).clamp(0, p.rows - 1)) * p.cols + (xc >> 4)  # [N, S, h, w]
    taken = torch.cat([s.collected, s.collected.new_zeros(n, 1)], 1).reshape(-1)  # [N*(K+1)]
    env = torch.arange(n, device=dev, dtype=torch.int32).view(n, 1, 1, 1) * (k + 1)
    taken = _take(taken, env + _take(b.item_at, cell))  # slot K: no coin
    val = torch.where(taken, _take(b.layer_s1, base), _take(b.coin_s1, base))  # [N, S, h, w]
    for fr, sx, sy in groups:
        for q in range(fr.shape[1]):
            dx = lx - sx[:, q].view(n, 1, 1, 1)  # [N, S, 1, w]
            dy = ly - sy[:, q].view(n, 1, 1, 1)  # [N, S, h, 1]
            col = torch.where((dx >= 0) & (dx < 16), dx, 16)
            row = torch.where((dy >= 0) & (dy < 16), dy, 16) * 32 + fr[:, q].view(n, 1, 1, 1) * 1024
            pix = _take(b.atlas_s1, row.to(torch.int32) + col)  # [N, S, h, w]
            val = torch.where(pix != 0, pix, val)
    return val


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
