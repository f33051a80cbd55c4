"""Tile-map rendering and decoding shared by the grid games (puzzle, rpg).

A frame of a grid game is a [R, C] map of tile codes; each code is a t x t RGB picture in an atlas.
Rendering is one gather from the atlas; decoding goes the other way, classifying every t x t cell of a
frame by its nearest atlas tile (exact on true renders, where the distance is 0; the nearest tile on a
model's imperfect frames). Small pictures are drawn here from masks over pixel coordinates.
"""

from __future__ import annotations

import torch

from core.pixels import downsample2, rgb_to_shade

SCREEN_H, SCREEN_W = 144, 160  # the Game Boy sized screen the shades come from


def render_tiles(
    codes: torch.Tensor, atlas: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """codes int64 [N, R, C], atlas uint8 [T, t, t, 3] -> uint8 [N, R*t, C*t, 3]: one row gather
    (each output pixel row is C tile rows of t px), written into `out` when it has the shape."""
    n, r, c = codes.shape
    t = atlas.shape[1]
    rows = atlas.reshape(-1, t * 3)  # [T*t, t*3]: every tile row
    idx = codes.unsqueeze(2) * t + torch.arange(t, device=codes.device).view(
        1, 1, t, 1
    )  # [N, R, t, C]
    shape = (n, r * t, c * t, 3)
    if out is None or out.shape != shape or out.device != codes.device:
        out = torch.empty(shape, dtype=torch.uint8, device=codes.device)
    torch.index_select(rows, 0, idx.reshape(-1), out=out.view(-1, t * 3))
    return out


def render_screen_tiles(
    codes: torch.Tensor, atlas_half: torch.Tensor, border: tuple
) -> torch.Tensor:
    """A 144x160 screen: the map at half scale (t/2 px tiles), centred on a border colour.
    codes int64 [N, R, C] with R*t/2 <= 144 and C*t/2 <= 160 -> uint8 [N, 144, 160, 3]."""
    inner = render_tiles(codes, atlas_half)  # [N, h, w, 3]
    n, h, w, _ = inner.shape
    out = torch.tensor(border, dtype=torch.uint8, device=codes.device).expand(
        n, SCREEN_H, SCREEN_W, 3
    )
    out = out.clone()  # [N, 144, 160, 3]
    y0, x0 = (SCREEN_H - h) // 2, (SCREEN_W - w) // 2
    out[:, y0 : y0 + h, x0 : x0 + w] = inner
    return out


def obs_atlas(atlas_half: torch.Tensor) -> torch.Tensor:
    """uint8 [T, t/2, t/2] in 0..3: each half-scale tile through the pixel pipeline (shade, /2)."""
    return downsample2(rgb_to_shade(atlas_half))


def render_obs_tiles(
    codes: torch.Tensor, atlas_obs: torch.Tensor, border: tuple, out: torch.Tensor | None = None
) -> torch.Tensor:
    """uint8 [N, 72, 80]: screen_to_obs(render_screen_tiles(codes, atlas_half, border)), exactly, built
    from pre-shaded tiles: the map sits at even offsets on the screen and its tiles are t/2 px (even),
    so every 2x2 block the downsample averages lies inside one tile or inside the border."""
    n, r, c = codes.shape
    t = atlas_obs.shape[1]
    inner = atlas_obs[codes].permute(0, 1, 3, 2, 4).reshape(n, r * t, c * t)  # [N, h, w]
    shade = int(rgb_to_shade(torch.tensor(border, dtype=torch.uint8).view(1, 1, 3)))
    oh, ow = SCREEN_H // 2, SCREEN_W // 2
    if out is None or out.shape != (n, oh, ow) or out.device != codes.device:
        out = torch.empty(n, oh, ow, dtype=torch.uint8, device=codes.device)
    out.fill_(shade)
    y0, x0 = (oh - r * t) // 2, (ow - c * t) // 2
    out[:, y0 : y0 + r * t, x0 : x0 + c * t] = inner
    return out


def classify_tiles(rgb: torch.Tensor, atlas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [N, R*t, C*t, 3] -> (codes int64 [N, R, C], squared distance float32 [N, R, C]) of the
    nearest atlas tile per cell. Values are centred on 128 so every product and sum stays an exact
    integer in float32 for distances below 2**24 (a true tile's distance is exactly 0)."""
    n, hh, ww, _ = rgb.shape
    t = atlas.shape[1]
    r, c = hh // t, ww // t
    cells = rgb.reshape(n, r, t, c, t, 3).permute(0, 1, 3, 2, 4, 5).reshape(n * r * c, -1)
    x = cells.float() - 128.0  # [N*R*C, t*t*3]
    a = atlas.to(rgb.device).reshape(atlas.shape[0], -1).float() - 128.0  # [T, t*t*3]
    d = (x * x).sum(1, keepdim=True) - 2.0 * (x @ a.T) + (a * a).sum(1)  # [N*R*C, T]
    best, code = d.min(1)
    return code.view(n, r, c), best.clamp(min=0).view(n, r, c)


def grid_xy(size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates of a size x size tile: (x [s, s], y [s, s]) in 0.5 .. size - 0.5."""
    v = torch.arange(size, dtype=torch.float32) + 0.5
    return v.view(1, -1).expand(size, size), v.view(-1, 1).expand(size, size)


def paint(tile: torch.Tensor, mask: torch.Tensor, rgb: tuple[int, int, int]) -> torch.Tensor:
    """A copy of uint8 [t, t, 3] with the pixels of bool [t, t] mask set to rgb."""
    out = tile.clone()
    out[mask] = torch.tensor(rgb, dtype=torch.uint8)
    return out


def solid(rgb: tuple[int, int, int], size: int = 16) -> torch.Tensor:
    """uint8 [size, size, 3] of one colour."""
    return torch.tensor(rgb, dtype=torch.uint8).expand(size, size, 3).clone()


def locate_colour(rgb: torch.Tensor, colour: tuple[int, int, int]) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 [N, 2]: (x, y) centroid of the pixels of exactly `colour` (pixel
    centres at +0.5), NaN where it is absent."""
    r, g, b = colour
    m = (rgb[..., 0] == r) & (rgb[..., 1] == g) & (rgb[..., 2] == b)  # [N, H, W]
    h, w = m.shape[-2:]
    cnt = m.sum((1, 2)).float()  # [N]
    xs = (m.sum(1).float() * (torch.arange(w, device=rgb.device) + 0.5)).sum(1)  # [N]
    ys = (m.sum(2).float() * (torch.arange(h, device=rgb.device) + 0.5)).sum(1)
    out = torch.stack([xs / cnt, ys / cnt], 1)  # [N, 2]
    return torch.where(cnt.unsqueeze(1) > 0, out, torch.full_like(out, float("nan")))


def onehot(r: torch.Tensor, c: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """bool [N, rows, cols]: True at (r[i], c[i]) of each env. r, c: int64 [N]."""
    rr = torch.arange(rows, device=r.device).view(1, -1, 1)
    cc = torch.arange(cols, device=r.device).view(1, 1, -1)
    return (rr == r.view(-1, 1, 1)) & (cc == c.view(-1, 1, 1))  # [N, rows, cols]
