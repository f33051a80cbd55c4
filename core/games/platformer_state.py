"""The platformer's state: a frozen dataclass of batched tensors (one row per env) and per-env take/put."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from core.games.platformer_world import Bank


@dataclass(frozen=True)
class State:
    x: torch.Tensor  # int32 [N] player hitbox left, subpx, level coordinates
    y: torch.Tensor  # int32 [N] player hitbox top, subpx
    vx: torch.Tensor  # int32 [N] subpx/frame
    vy: torch.Tensor  # int32 [N] subpx/frame, down is positive
    on_ground: torch.Tensor  # bool [N]
    facing: torch.Tensor  # int32 [N] +1 right, -1 left
    frame: torch.Tensor  # int64 [N] player sprite frame (pose + facing)
    ex: torch.Tensor  # int32 [N, E] enemy 16x16 box left, px
    edir: torch.Tensor  # int32 [N, E] +1 / -1
    collected: torch.Tensor  # bool [N, K]
    level: torch.Tensor  # int64 [N] index into bank
    cam: torch.Tensor  # int32 [N] left edge of the 256-px render, level px, a multiple of 4
    t: torch.Tensor  # int32 [N] frames since this episode began
    tick: torch.Tensor  # int64 [N] frames since reset(): the RNG counter
    key: torch.Tensor  # int64 [N] per-env RNG key
    episode: torch.Tensor  # int32 [N] episodes finished
    bank: Bank  # shared by all envs: levels and pre-rendered layers

    @property
    def n(self) -> int:
        return self.x.shape[0]


def take_envs(state: State, idx: torch.Tensor) -> State:
    """The envs idx (int64 [M]) of a state, as a state of M envs sharing its bank."""
    return replace(state, **{k: v[idx] for k, v in _fields(state).items()})


def put_envs(state: State, idx: torch.Tensor, sub: State) -> State:
    """A copy of state with envs idx (int64 [M]) replaced by the M envs of sub (same bank)."""
    return replace(
        state, **{k: v.index_copy(0, idx, getattr(sub, k)) for k, v in _fields(state).items()}
    )


def _fields(state: State) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(state).items() if isinstance(v, torch.Tensor)}
