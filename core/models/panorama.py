"""Panorama memory: an explicit spatial memory of what a side-scroller's camera has shown, around any
world model (gate m7).

The wrapped model predicts each frame from its K context frames, as always. The memory follows the
camera (core.models.motion.camera_step between the last frame and the prediction) and keeps a
canvas of the level as last seen, in level columns. When the camera moves, the columns it reveals
at the screen's edge are what the inner model has to invent; where the canvas has seen them, they
are drawn from it instead, so a place looks as it looked when the view left it (a collected coin
stays collected, a pit stays a pit). Every frame is then written to the canvas. A reducer:
begin(context) -> state, step(state, action, noise) -> (state, frame). Pure torch; no IO.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from core.models.motion import camera_step
from core.models.protocols import WorldModel, rollout_recurrent, slide

REACH = 2304  # px of level the canvas holds on each side of the start: 900 frames at the
# platformer's top speed (2.5 px/frame) go 2250 px; beyond it the canvas's edge column is reused


@dataclass(frozen=True)
class PanoramaState:
    context: torch.Tensor  # float [B, K, 3, H, W]: the inner model's context
    canvas: torch.Tensor  # uint8 [B, 3, H, W + 2 REACH]: the level as last seen
    seen: torch.Tensor  # bool [B, W + 2 REACH]: canvas columns ever on screen
    cam: torch.Tensor  # int64 [B]: the camera's x from the start, px


def _columns(cam: torch.Tensor, w: int) -> torch.Tensor:
    """int64 [B, W]: the canvas column under each screen column."""
    return REACH + cam[:, None] + torch.arange(w, device=cam.device)  # [B, W]


def remember(state: PanoramaState, frame: torch.Tensor) -> PanoramaState:
    """Write frame float [B, 3, H, W] in [0, 1] into the canvas at the camera's columns."""
    cols = _columns(state.cam, frame.shape[-1]).clamp(0, state.seen.shape[1] - 1)  # [B, W]
    idx = cols[:, None, None, :].expand_as(frame)  # [B, 3, H, W]
    canvas = state.canvas.scatter(3, idx, (frame * 255).round().to(torch.uint8))
    seen = state.seen.scatter(1, cols, True)
    return replace(state, canvas=canvas, seen=seen)


def recall(state: PanoramaState, frame: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
    """frame [B, 3, H, W] with the columns the camera's move `moved` [B] just revealed drawn from the
    canvas where it has seen them."""
    w = frame.shape[-1]
    x = torch.arange(w, device=frame.device)[None]  # [1, W]
    revealed = ((moved[:, None] > 0) & (x >= w - moved[:, None])) | (
        (moved[:, None] < 0) & (x < -moved[:, None])
    )  # [B, W]
    cols = _columns(state.cam, w).clamp(0, state.seen.shape[1] - 1)  # [B, W]
    use = revealed & state.seen.gather(1, cols)  # [B, W]
    old = (
        state.canvas.gather(3, cols[:, None, None, :].expand_as(frame)).float() / 255
    )  # [B, 3, H, W]
    return torch.where(use[:, None, None, :], old, frame)


class Panorama:
    """RecurrentWorldModel: `inner` (any WorldModel) with a panorama memory."""

    def __init__(self, inner: WorldModel) -> None:
        self.inner = inner
        self.context_frames, self.noise_dim = inner.context_frames, inner.noise_dim
        self.n_actions = inner.n_actions

    def begin(self, context: torch.Tensor) -> PanoramaState:
        b, _, c, h, w = context.shape
        dev = context.device
        state = PanoramaState(
            context=context,
            canvas=torch.zeros(b, c, h, w + 2 * REACH, dtype=torch.uint8, device=dev),
            seen=torch.zeros(b, w + 2 * REACH, dtype=torch.bool, device=dev),
            cam=torch.zeros(b, dtype=torch.int64, device=dev),
        )
        return remember(state, context[:, -1])

    @torch.no_grad()
    def step(
        self, state: PanoramaState, actions: torch.Tensor, noise: torch.Tensor
    ) -> tuple[PanoramaState, torch.Tensor]:
        y = self.inner.predict(state.context, actions, noise).float()  # [B, 3, H, W]
        moved = camera_step(state.context[:, -1], y)  # [B] px
        state = replace(state, cam=state.cam + moved)
        y = recall(state, y, moved)
        state = remember(replace(state, context=slide(state.context, y)), y)
        return state, y

    def predict(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """One step from a bare context (no memory yet): the inner model's prediction."""
        return self.inner.predict(context, actions, noise)

    def rollout(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """[B, K, 3, H, W], [B, T], [B, T, Z] -> [B, T, 3, H, W], the memory kept across the T steps."""
        return rollout_recurrent(self, context, actions, noise)
