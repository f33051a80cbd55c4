"""The pixel pipeline shared by every backend: RGB or gray -> 4 shades -> exact /2 downsample -> stack.

Shade 0 is the lightest and 3 the darkest, as on the Game Boy's DMG palette. Integer math only, so the
CPU and CUDA give the same bytes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SHADE_LEVELS = 4  # the DMG's four grays
SRC_H, SRC_W = 144, 160  # the Game Boy's screen
DOWN_H, DOWN_W = 72, 80  # exact /2 of the screen (simple-rl-m3-plan §4.1)
STACK_K = 4  # frames in the policy's stack; the newest is last: stack[:, -1]


def gray_to_shade(gray: torch.Tensor) -> torch.Tensor:
    """uint8 gray [..., H, W] -> uint8 shade [..., H, W] in 0..3 (0 = white): (255 - g) * 4 // 256."""
    if gray.dtype == torch.uint8:  # 255 - g is ~g in uint8: one op, then the shift in place
        return torch.bitwise_not(gray).bitwise_right_shift_(6)
    return (255 - gray) >> 6


def rgb_to_shade(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 RGB [..., H, W, 3] -> uint8 shade [..., H, W] via integer BT.601 luma."""
    c = rgb.to(torch.int32)
    luma = (299 * c[..., 0] + 587 * c[..., 1] + 114 * c[..., 2]) // 1000  # [..., H, W] 0..255
    return gray_to_shade(luma.to(torch.uint8))


def downsample2(shade: torch.Tensor) -> torch.Tensor:
    """[..., H, W] -> [..., H/2, W/2] uint8: the rounded mean of each 2x2 block.

    uint8 input must hold shade-like values (at most 63); wider integer dtypes take any value.
    """
    h, w = shade.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f"downsample2 needs even height and width, got {h}x{w}")
    if (
        shade.dtype == torch.uint8
    ):  # shades (<= 63): four of them plus 2 fit in a uint8, no widening
        # rows then columns: two adds instead of three over four strided slices (uint8 addition wraps
        # the same in any order, so the bytes equal the four-slice sum's for any input)
        s = shade[..., 0::2, :] + shade[..., 1::2, :]  # [..., H/2, W]
        s = s[..., 0::2] + s[..., 1::2]  # [..., H/2, W/2]
        return s.add_(2).bitwise_right_shift_(2)
    x = shade.to(torch.int32).reshape(*shade.shape[:-2], h // 2, 2, w // 2, 2)
    return ((x.sum(dim=(-3, -1)) + 2) // 4).to(torch.uint8)  # [..., H/2, W/2]


def screen_to_obs(screen: torch.Tensor) -> torch.Tensor:
    """A Game Boy screen, uint8 RGB [N, 144, 160, 3] or gray [N, 144, 160] -> shades [N, 72, 80]."""
    shade = (
        rgb_to_shade(screen)
        if screen.shape[-1] == 3 and screen.dim() == 4
        else gray_to_shade(screen)
    )
    return downsample2(shade)


def push_stack(stack: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """[N, K, H, W] stack and [N, H, W] frame -> the stack with the oldest dropped, frame last."""
    return torch.cat([stack[:, 1:], frame.unsqueeze(1)], dim=1)  # [N, K, H, W]


def pad_to(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """float [..., H, W] -> [..., H', W'] padded at the bottom/right (edge values) to a multiple."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    flat = x.reshape(-1, 1, h, w)  # [M, 1, H, W]: replicate-padding wants a channel dim
    out = F.pad(flat, (0, pw, 0, ph), mode="replicate")  # [M, 1, H', W']
    return out.reshape(*x.shape[:-2], h + ph, w + pw)
