"""What a model must do to be judged by a gate. Any object with these methods plugs in: the built-in
models (core/models/builtin.py) are adapted to them the same way a third party's are.

Frames cross the protocol as uint8 [N, H, W, 3] (what backends produce) or float [N, 3, H, W] in [0, 1]
(what models compute on); tensors arrive on the model's device and may leave on it. No IO here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class FrameCodec(Protocol):
    """m1: a frame in, a latent out, the frame back. The latent is what is stored, so its bytes at the
    returned dtype are what the compression criterion counts."""

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [N, H, W, 3] -> latent [N, ...] at its stored dtype (fp16, int8, ...)."""
        ...

    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """latent [N, ...] -> float [N, 3, H, W] in [0, 1], (H, W) = size."""
        ...

    def latent_bytes(self, h: int, w: int) -> int:
        """Bytes one H x W frame's latent takes as stored."""
        ...


@runtime_checkable
class WorldModel(Protocol):
    """m2 and every later world-model gate: context frames + action + noise -> the next frame."""

    context_frames: int  # K frames of context, oldest first
    noise_dim: int  # Z: the noise input's width (0 for a deterministic model)
    n_actions: int  # actions are 0..n_actions-1, the backend's codec order

    def predict(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """context float [B, K, 3, H, W] in [0, 1], actions int64 [B], noise float [B, Z]
        -> the next frame, float [B, 3, H, W] in [0, 1] (NaN passes through: stability must see it)."""
        ...

    def rollout(
        self, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        """context [B, K, 3, H, W], actions int64 [B, T], noise [B, T, Z] -> frames [B, T, 3, H, W]:
        each prediction becomes context for the next, as the model itself chooses to feed it back."""
        ...


def one_frame_context(frame: torch.Tensor, k: int) -> torch.Tensor:
    """float [N, 3, H, W] -> [N, K, 3, H, W]: one frame repeated as the whole context (a start from
    a single frame: m4's input, a play session's first step)."""
    return frame[:, None].expand(-1, k, -1, -1, -1).contiguous()


def slide(context: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """[N, K, 3, H, W], the next frame [N, 3, H, W] -> the context without its oldest frame, plus it."""
    return torch.cat([context[:, 1:], frame[:, None]], 1)


def tile(x: torch.Tensor, k: int) -> torch.Tensor:
    """[B, ...] -> [kB, ...]: the batch repeated k times, copy-major (row j * B + i is sample i's copy
    j): one row per noise sample of best-of-K."""
    return x.repeat(k, *([1] * (x.dim() - 1)))


def rollout_by_steps(
    model: WorldModel, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """The plain rollout: predict, append the raw prediction to the context, drop the oldest frame."""
    return rollout_recurrent(Stepped(model), context, actions, noise)


@runtime_checkable
class RecurrentWorldModel(Protocol):
    """A world model with memory beyond its K context frames (gate m7), as a reducer:
    begin(context) -> state, then step(state, actions, noise) -> (state, the next frame). Whatever it
    remembers lives in the state; a plain WorldModel is one whose state is its context (`Stepped`)."""

    def begin(self, context: torch.Tensor) -> object:
        """context float [B, K, 3, H, W] in [0, 1] -> the state."""
        ...

    def step(
        self, state: object, actions: torch.Tensor, noise: torch.Tensor
    ) -> tuple[object, torch.Tensor]:
        """actions int64 [B], noise float [B, Z] -> (state, next frame float [B, 3, H, W] in [0, 1])."""
        ...


class Stepped:
    """A plain WorldModel as a reducer whose state is its context: memory ends at K frames."""

    def __init__(self, model: WorldModel) -> None:
        self.model = model

    def begin(self, context: torch.Tensor) -> torch.Tensor:
        return context

    def step(
        self, state: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.model.predict(state, actions, noise)  # [B, 3, H, W]
        return slide(state, y), y


def as_recurrent(model: object) -> RecurrentWorldModel:
    """The model itself when it speaks the recurrent protocol, else its context-only reducer."""
    return model if isinstance(model, RecurrentWorldModel) else Stepped(model)  # type: ignore[arg-type]


def rollout_recurrent(
    model: RecurrentWorldModel, context: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """begin, then one step per action: [B, K, 3, H, W], [B, T], [B, T, Z] -> [B, T, 3, H, W]."""
    state, out = model.begin(context), []
    for t in range(actions.shape[1]):
        state, y = model.step(state, actions[:, t], noise[:, t])  # y [B, 3, H, W]
        out.append(y)
    return torch.stack(out, 1)
