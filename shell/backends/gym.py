"""Backend `gym`: any Gymnasium env with pixel observations, as N envs stepped in turn on the CPU.

Option `env_id` (alias `game`): a registered Gymnasium id, made with render_mode="rgb_array"; frames are
what env.render() returns (uint8 [H, W, 3] at the env's native size, not resized), batched as a uint8
torch tensor [N, H, W, 3] on the device. `kwargs`: a dict passed on to gymnasium.make. The action space
must be Discrete; the codec names come from the env's get_action_meanings() where it has one, else
"0".."n-1". A finished episode (terminated or truncated) is reset inside step(); that frame starts the new
episode and info["done"] is True for it. Env i is reset with seed + i.

save_state/load_state work where the env exposes its state: ALE envs (clone_state/restore_state) and
envs whose state is a numeric array in `unwrapped.state` (classic control), plus the env's RNG and its
step counter; other envs raise BackendError saying so. Never pickle.

The default env id, ALE/Pong-v5, needs ale-py (the `ale` extra); classic-control ids such as CartPole-v1
need pygame to render.
"""

from __future__ import annotations

import importlib.util
import io
import json
from typing import Any

from shell.backends.base import (
    ActionCodec,
    BackendError,
    BackendUnavailable,
    FrameSpec,
    check_actions,
    check_env,
    check_options,
)
from shell.registry import BackendEntry

DEFAULT_ENV = "ALE/Pong-v5"  # a pixel env that installs with `uv sync --extra ale` (no pygame)
STATE_MAGIC = b"WGGYM1\n"


def _available() -> str | None:
    if importlib.util.find_spec("gymnasium") is None:
        return "gymnasium is not installed (uv sync --extra gym)"
    return None


def _make(env_id: str, kwargs: dict[str, Any]) -> Any:
    import gymnasium as gym

    if env_id.startswith("ALE/"):
        if importlib.util.find_spec("ale_py") is None:
            raise BackendUnavailable(f"env_id {env_id}: needs ale-py (uv sync --extra ale)")
        import ale_py

        gym.register_envs(ale_py)
        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner on stderr
    try:
        return gym.make(env_id, render_mode="rgb_array", **kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise BackendUnavailable(f"env_id {env_id}: {e}") from None
    except (gym.error.Error, TypeError, ValueError) as e:
        raise BackendError(f"option env_id: cannot make {env_id!r}: {e}") from None


class GymBackend:
    name = "gym"

    def __init__(
        self,
        num_envs: int = 1,
        device: Any = "cpu",
        env_id: str = DEFAULT_ENV,
        kwargs: dict[str, Any] | None = None,  # None: the env's own defaults
    ) -> None:
        why = _available()
        if why is not None:
            raise BackendUnavailable(why)
        import gymnasium as gym
        import torch

        if not isinstance(num_envs, int) or num_envs < 1:
            raise BackendError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.device = torch.device(device)
        self.num_envs, self.game = num_envs, env_id
        self._envs = [_make(env_id, dict(kwargs or {})) for _ in range(num_envs)]
        space = self._envs[0].action_space
        if not isinstance(space, gym.spaces.Discrete):
            raise BackendError(f"option env_id: {env_id} has action space {space}; need Discrete")
        meanings = getattr(self._envs[0].unwrapped, "get_action_meanings", None)
        names = tuple(meanings()) if callable(meanings) else tuple(str(i) for i in range(space.n))
        self.codec = ActionCodec(f"gym_{env_id}_v0", names)
        self._start = int(space.start)
        self.seed = 0
        try:
            frame = self._reset_all(0)  # the first render tells the frame size
        except gym.error.DependencyNotInstalled as e:  # e.g. pygame, to render classic control
            raise BackendUnavailable(f"env_id {env_id}: {e}") from None
        if frame.dim() != 4 or frame.shape[-1] != 3:
            raise BackendError(f"option env_id: {env_id} renders {list(frame.shape[1:])}, not RGB")
        self.frame_spec = FrameSpec(int(frame.shape[1]), int(frame.shape[2]), 3)

    def _frames(self) -> Any:
        import numpy as np
        import torch

        shots = [np.asarray(e.render(), dtype=np.uint8) for e in self._envs]  # each [H, W, 3]
        return torch.from_numpy(np.stack(shots)).to(self.device)  # [N, H, W, 3]

    def _reset_all(self, seed: int) -> Any:
        for i, e in enumerate(self._envs):
            e.reset(seed=seed + i)
        return self._frames()

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        import torch

        if seed is not None:
            self.seed = int(seed)
        frames = self._reset_all(self.seed)
        n, dev = self.num_envs, self.device
        info = {
            "reward": torch.zeros(n, device=dev),
            "done": torch.zeros(n, dtype=torch.bool, device=dev),
        }
        return frames, info

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        import torch

        a = check_actions(actions, self.num_envs, self.codec.n, "cpu").tolist()
        reward, done = [], []
        for e, k in zip(self._envs, a, strict=True):
            _, r, term, trunc, _ = e.step(k + self._start)
            if term or trunc:
                e.reset()
            reward.append(float(r))
            done.append(bool(term or trunc))
        dev = self.device
        info = {
            "reward": torch.tensor(reward, dtype=torch.float32, device=dev),  # [N]
            "done": torch.tensor(done, dtype=torch.bool, device=dev),  # [N]
        }
        return self._frames(), info

    def save_state(self, env: int) -> bytes:
        import numpy as np

        e = self._envs[self._env(env)]
        u = e.unwrapped
        head: dict[str, Any] = {"env_id": self.game, "steps": _elapsed(e)}
        rng = getattr(u, "_np_random", None)
        head["rng"] = rng.bit_generator.state if rng is not None else None
        if callable(getattr(u, "clone_state", None)):
            body = bytes(u.clone_state(include_rng=True).serialize())
            head["kind"] = "ale"
        elif isinstance(getattr(u, "state", None), np.ndarray | tuple | list):
            buf = io.BytesIO()
            np.save(buf, np.asarray(u.state, dtype=np.float64), allow_pickle=False)
            body, head["kind"] = buf.getvalue(), "array"
        else:
            raise BackendError(f"save_state: {self.game} does not expose its state")
        raw = json.dumps(head).encode()
        return STATE_MAGIC + len(raw).to_bytes(4, "little") + raw + body

    def load_state(self, env: int, state: bytes) -> None:
        import numpy as np

        e = self._envs[self._env(env)]
        u = e.unwrapped
        if not isinstance(state, bytes | bytearray) or not state.startswith(STATE_MAGIC):
            raise BackendError("state: not bytes made by the gym backend's save_state")
        k = len(STATE_MAGIC)
        n = int.from_bytes(state[k : k + 4], "little")
        try:
            head = json.loads(state[k + 4 : k + 4 + n])
        except ValueError:
            raise BackendError("state: damaged header") from None
        if head.get("env_id") != self.game:
            raise BackendError(
                f"state: made for {head.get('env_id')!r}, this backend runs {self.game!r}"
            )
        body = bytes(state[k + 4 + n :])
        if head.get("kind") == "ale":
            import ale_py

            u.restore_state(ale_py.ALEState(body))
        elif head.get("kind") == "array":
            arr = np.load(io.BytesIO(body), allow_pickle=False)
            u.state = (
                arr.astype(np.asarray(u.state).dtype) if isinstance(u.state, np.ndarray) else arr
            )
        else:
            raise BackendError(f"state: unknown kind {head.get('kind')!r}")
        if head.get("rng") is not None and getattr(u, "_np_random", None) is not None:
            u._np_random.bit_generator.state = head["rng"]
        _set_elapsed(e, head.get("steps"))

    def render(self) -> Any:
        return self._frames()

    def close(self) -> None:
        for e in self._envs:
            e.close()
        self._envs = []

    def _env(self, env: int) -> int:
        return check_env(env, self.num_envs)


def _elapsed(env: Any) -> int | None:
    """The TimeLimit wrapper's step counter, if the env has one."""
    while env is not None:
        if hasattr(env, "_elapsed_steps"):
            return env._elapsed_steps
        env = getattr(env, "env", None)
    return None


def _set_elapsed(env: Any, steps: int | None) -> None:
    while env is not None and steps is not None:
        if hasattr(env, "_elapsed_steps"):
            env._elapsed_steps = steps
            return
        env = getattr(env, "env", None)


def _create(num_envs: int = 1, device: Any = "cpu", **options: Any) -> GymBackend:
    if "game" in options:  # `gate data collect --game` names the env id here
        options["env_id"] = options.pop("game")
    check_options("gym", options, ENTRY.options)
    return GymBackend(num_envs, device, **options)


ENTRY = BackendEntry(
    name="gym",
    summary="any Gymnasium env with pixel observations (extra `gym`), render_mode rgb_array, Discrete actions",
    create=_create,
    available=_available,
    options=("env_id", "kwargs"),
)
