"""Contact (core/models/layers.py): solid colours read off frames, moves stopped at their face."""

from __future__ import annotations

import torch

from core.models.layers import (
    BESIDE,
    COVERED,
    SHOWN,
    contact_counts,
    groups,
    resolve,
    shown_colours,
    solid_colours,
)
from core.models.predictor import FramePredictor, PredictorConfig

MY, MX, C = 8, 5, 8  # the predictor's shift ranges and cell
SMALL_CONTACT = PredictorConfig(hard=True, width1=8, width2=8, width3=8, max_dx=3, max_dy=4,
                                max_global=2, palette=3, layers=True, contact=True)  # fmt: skip


def _shifts(dy: dict[tuple[int, int], int], dx: dict[tuple[int, int], int], h: int, w: int):
    """Per-cell shift indices int64 [1, h, w] (no motion but where given)."""
    iy = torch.full((1, h, w), MY)
    ix = torch.full((1, h, w), MX)
    for (r, c), v in dy.items():
        iy[0, r, c] = MY + v
    for (r, c), v in dx.items():
        ix[0, r, c] = MX + v
    return iy, ix


def test_a_falling_sprite_stops_on_the_ground_and_all_its_cells_agree() -> None:
    fg = torch.zeros(1, 32, 32, dtype=torch.bool)
    fg[0, 4:12, 10:14] = True  # a sprite over cell rows 0-1, column 1
    wall = torch.zeros_like(fg)
    wall[0, 16:] = True  # ground from row 16: 4 px under the sprite's feet
    cells = {(0, 1): 6, (1, 1): 6, (2, 1): 6}  # the sprite and the cell it falls into: down 6
    iy, ix = _shifts(cells, {}, 4, 4)
    oy, ox = resolve(fg, wall, iy, ix, C, MY, MX)
    assert [int(oy[0, r, 1]) - MY for r in range(3)] == [4, 4, 4]  # feet on row 15, the ground 16
    assert torch.equal(ox, ix)


def test_a_walking_sprite_stops_at_a_wall_and_a_free_one_keeps_its_move() -> None:
    fg = torch.zeros(1, 32, 32, dtype=torch.bool)
    fg[0, 2:6, 2:6] = True  # sprite A in cell (0, 0), walking right into a wall at column 8
    fg[0, 18:22, 2:6] = True  # sprite B in cell (2, 0), nothing in its way
    wall = torch.zeros_like(fg)
    wall[0, :8, 8:16] = True
    iy, ix = _shifts({}, {(0, 0): 3, (0, 1): 3, (2, 0): 3, (2, 1): 3}, 4, 4)
    oy, ox = resolve(fg, wall, iy, ix, C, MY, MX)
    assert int(ox[0, 0, 0]) - MX == 2 and int(ox[0, 0, 1]) - MX == 2  # columns 6, 7: at the face
    assert int(ox[0, 2, 0]) - MX == 3 and int(ox[0, 2, 1]) - MX == 3
    assert torch.equal(oy, iy)


def test_groups_are_touching_cells_with_one_move() -> None:
    iy, ix = _shifts({(0, 0): 2, (0, 1): 2, (1, 1): 2, (3, 3): 2, (0, 3): -1}, {}, 4, 4)
    g = groups(iy, ix, MY, MX)[0]
    assert g[0, 0] == g[0, 1] == g[1, 1] > 0  # one sprite
    assert g[3, 3] > 0 and g[3, 3] != g[0, 0]  # apart: its own group
    assert g[0, 3] > 0 and g[0, 3] != g[0, 0]  # another move: its own group
    assert g[2, 0] == 0  # still: none


def test_solid_colours_are_those_sprites_come_next_to_and_never_cover() -> None:
    sky, ground, player = torch.tensor([[0.6, 0.8, 1.0], [0.2, 0.6, 0.2], [0.9, 0.1, 0.1]]).unbind(
        0
    )
    colours = torch.stack([sky, ground, player])  # [3, 3]
    frames = torch.zeros(6, 3, 32, 32) + sky[None, :, None, None]  # a player walking on the ground
    frames[:, :, 24:] = ground[None, :, None, None]
    frames[:, :, 2:24, 4:7] = ground[None, :, None, None]  # a post: the camera is seen not to move
    for t in range(6):
        frames[t, :, 16:24, 10 + t : 14 + t] = player[None, :, None, None]
    counts = contact_counts(frames[:-1], frames[1:], colours, mg=1)  # [3, P]
    assert counts[COVERED, 1] == 0 and counts[BESIDE, 1] >= 16  # the ground: beside, never covered
    assert counts[COVERED, 0] > 0 and counts[SHOWN, 0] > 0  # the sky: covered and uncovered
    assert solid_colours(counts).tolist() == [False, True, False]
    assert shown_colours(counts).tolist() == [True, False, True]


def test_a_contact_predictor_paints_no_wall_and_no_colour_motion_never_shows() -> None:
    cfg = SMALL_CONTACT
    net = FramePredictor(cfg)
    net.colours.copy_(torch.tensor([[0.6, 0.8, 1.0], [0.2, 0.6, 0.2], [0.3, 0.3, 0.3]]))
    net.solid.copy_(torch.tensor([0.0, 1.0, 0.0]))  # the ground
    net.shown.copy_(torch.tensor([1.0, 0.0, 0.0]))  # only the sky is ever shown by motion
    with torch.no_grad():
        net.paint_head.bias.fill_(5.0)  # every pixel paints ...
        net.head.bias[: net.n_res] = -0.35  # ... a colour nearest the grey (0.3), or the ground's
    ctx = torch.zeros(1, cfg.context, 3, 32, 32) + net.colours[0][None, :, None, None]
    ctx[:, :, :, 24:] = net.colours[1][None, :, None, None]
    y = net(ctx, torch.tensor([0]), torch.zeros(1, cfg.noise_dim))[0]  # [3, 32, 32]
    inner = y[:, :, cfg.max_global : 32 - cfg.max_global]  # the camera reveals none of these
    assert torch.equal(inner[:, 24:], ctx[0, -1, :, 24:, cfg.max_global : 32 - cfg.max_global])
    sky = net.colours[0][:, None, None]
    assert torch.equal(inner[:, :24], sky.expand(3, 24, inner.shape[2]))  # only the sky is drawn


def test_no_sprite_pixel_is_drawn_over_a_solid_one() -> None:
    cfg = SMALL_CONTACT
    net = FramePredictor(cfg)
    base = torch.zeros(1, 3, 32, 32)
    base[:, 0, 4:12, 8:16] = 1.0  # a red sprite in cell (0, 1) and (1, 1)
    base[:, 1, 14:, :] = 1.0  # green ground from row 14
    fg = base[:, 0] > 0.5  # [1, 32, 32]
    wall = base[:, 1] > 0.5
    dy = torch.zeros(1, 4, 4, dtype=torch.int64) + cfg.max_dy
    dy[0, :, 1] += 4  # column 1 of cells moves down 4: the sprite's last 2 rows would enter
    out = net.layered(base, fg, base, dy, torch.full((1, 4, 4), cfg.max_dx), wall)
    assert torch.equal(out[:, :, 14:], base[:, :, 14:])  # the ground shows, whole
    assert bool((out[0, 0, 8:14, 8:16] == 1).all())  # the rest of the sprite moved down
