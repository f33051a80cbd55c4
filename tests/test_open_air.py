"""layers.open_air: in the columns a camera move reveals, the ground continues and a floating solid
does not stretch into a band; columns the move did not reveal are untouched."""

from __future__ import annotations

import torch

from core.models.layers import open_air
from core.models.motion import shift_global

SKY, BRICK, GROUND = (0.6, 0.8, 1.0), (0.7, 0.3, 0.1), (0.4, 0.25, 0.1)


def _walls(img: torch.Tensor) -> torch.Tensor:
    solid = torch.tensor([BRICK, GROUND]).view(2, 1, 3, 1, 1)
    return (img[None] - solid).abs().amax(2).lt(1e-6).any(0)  # [N, H, W]


def test_the_ground_continues_and_a_floating_brick_does_not() -> None:
    img = torch.tensor(SKY).view(1, 3, 1, 1).expand(1, 3, 16, 16).clone()
    img[:, :, 12:] = torch.tensor(GROUND).view(1, 3, 1, 1)  # ground rows 12..15
    img[:, :, 5:7, 14:] = torch.tensor(BRICK).view(1, 3, 1, 1)  # a brick at the right edge
    moved = torch.tensor([-4])  # the camera moved right by 4: the content moves left
    base = shift_global(img, moved)  # the edge column repeated into columns 12..15
    assert _walls(base)[0, 5, 12:].all()  # the band a plain repeat makes
    out, wall = open_air(base, moved, _walls)
    assert not wall[0, 5:7, 12:].any()  # no band where the camera revealed
    assert torch.equal(out[0, :, 5, 12:], base[0, :, 4, 12:])  # the air above shows instead
    assert wall[0, 12:, 12:].all()  # the ground continues
    assert torch.equal(out[:, :, :, :12], base[:, :, :, :12])  # what was on screen is untouched
    still, _ = open_air(img, torch.tensor([0]), _walls)
    assert torch.equal(still, img)  # no move, nothing revealed
