"""The one protocol every backend speaks (DESIGN.md "Backends").

A backend is a batch of N environments on one device. Frames are uint8 torch tensors: [N, H, W] shades or
[N, H, W, 3] RGB, as its FrameSpec says. Backends are registered through the entry-point group
`worldgate.backends` (name -> a class or factory taking keyword options); built-ins register the same way.

Episodes: a backend whose episodes end resets that env inside step(); the frame it returns is the fresh
start and info["done"] (bool [N]) is True for it. A backend that knows no episode end leaves "done" out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class FrameSpec:
    height: int
    width: int
    channels: int  # 1: shades/gray [N, H, W]; 3: RGB [N, H, W, 3]
    levels: int = 256  # distinct values a pixel can take (4 for shades)


@dataclass(frozen=True)
class ActionCodec:
    id: str  # e.g. "pokemonred_puffer_v0"
    names: tuple[str, ...]  # index -> name, in order

    @property
    def n(self) -> int:
        return len(self.names)


@runtime_checkable
class Backend(Protocol):
    name: str
    num_envs: int
    device: Any  # torch.device
    codec: ActionCodec
    frame_spec: FrameSpec

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        """-> (frames uint8 [N, ...], info). Info holds ground truth where the backend knows it."""
        ...

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        """actions: int64 [N] (tensor or sequence) in 0..codec.n-1 -> (frames, info)."""
        ...

    def save_state(self, env: int) -> bytes: ...

    def load_state(self, env: int, state: bytes) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class HasPolicies(Protocol):
    """Optional: a backend that knows its game's own policies (the built-in games do). Data collection
    (shell.datasets) asks it first and falls back to generic policies when it returns None."""

    def policy_actions(self, policy: str, key: int) -> Any:
        """-> int64 [N] on the backend's device for policy "random" or "scripted"; None if unknown."""
        ...


class BackendError(ValueError):
    """Bad input at the backend's boundary (wrong batch size, action out of range, bad state)."""


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (optional package missing, CUDA absent); says why."""


def check_actions(actions: Any, num_envs: int, n_actions: int, device: Any) -> Any:
    """Validate and convert actions to an int64 tensor [N] on device; raise BackendError naming the fault."""
    import torch

    a = torch.as_tensor(actions, device=device)
    if a.dim() != 1 or a.shape[0] != num_envs:
        raise BackendError(f"actions must have shape [{num_envs}], got {list(a.shape)}")
    if a.dtype.is_floating_point or a.dtype == torch.bool:
        raise BackendError(f"actions must be integers, got {a.dtype}")
    a = a.to(torch.int64)
    if num_envs and (bool((a < 0).any()) or bool((a >= n_actions).any())):
        raise BackendError(f"actions must lie in 0..{n_actions - 1}, got {a.tolist()}")
    return a


def check_env(env: Any, num_envs: int) -> int:
    """An env index in 0..num_envs-1, or BackendError naming the fault."""
    if isinstance(env, bool) or not isinstance(env, int) or not 0 <= env < num_envs:
        raise BackendError(f"env must be an integer in 0..{num_envs - 1}, got {env!r}")
    return env


def check_options(backend: str, options: dict[str, Any], known: tuple[str, ...]) -> None:
    """Refuse an option the backend does not take, naming the ones it does."""
    for k in options:
        if k not in known:
            raise BackendError(f"option {k}: {backend} takes {', '.join(known)}")
