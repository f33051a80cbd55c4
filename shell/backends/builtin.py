"""Backend `builtin`: any pure-torch game of core.games.GAMES as a batch of N envs on one device.

Options: `game` (default "platformer"; `gate backends --games builtin` lists them all) and `render`:
"rgb" gives uint8 [N, 256, 256, 3] (what people look at), "shades" gives uint8 [N, 72, 80] in 0..3
(what the m3 policy sees). `info` is the game's ground truth, batched tensors on the device (the game's
INFO_KEYS: screen_x/y, obs_x/y, done, ... for every game). `validate=False` skips the action checks (benchmarks); with it on, the checks never make the
host wait for an accelerator: shape and dtype are metadata, host-side actions are range-checked before
they are copied over, and device-side actions fold into a flag on the device that is read at the next
reset, save_state or close (or every `check_every` steps).

save_state(env) is that env's slice of every State tensor as safetensors bytes (never pickle), tagged
with the game and the level bank's seed; load_state refuses a state made for other levels.
"""

from __future__ import annotations

import inspect
import json
from collections import OrderedDict
from dataclasses import fields, replace
from typing import Any

from shell.backends.base import ActionCodec, BackendError, FrameSpec, check_env, check_options
from shell.registry import BackendEntry

RENDERS = ("rgb", "shades")
STATE_FORMAT = "worldgate-builtin-state-v1"  # bump when the saved fields change
RESET_CACHE = (
    2  # fresh states kept per process: building a level bank costs ~1 s, tests reset often
)
CHECK_EVERY = 256  # device-side actions: read the bad-action flag every 256 steps (one sync)


class BuiltinBackend:
    name = "builtin"

    def __init__(
        self,
        num_envs: int = 1,
        device: Any = "cpu",
        game: str = "platformer",  # the first built-in game; any id of core.games.GAMES
        render: str = "rgb",  # what people look at; "shades" for the 72x80 policy view
        validate: bool = True,  # False only for benchmarks: skips every action check
        check_every: int = CHECK_EVERY,
        reuse_frames: bool = False,  # True: each step overwrites the last frame tensor (RL loops that
        # consume a frame before the next step; saves a fresh 800 MB buffer per step at N=4096 RGB)
    ) -> None:
        import torch

        from core.games import GAMES

        if game not in GAMES:
            raise BackendError(f"option game: unknown game {game!r}; known: {', '.join(GAMES)}")
        if render not in RENDERS:
            raise BackendError(f"option render: {render!r}; expected one of {', '.join(RENDERS)}")
        if not isinstance(num_envs, int) or num_envs < 1:
            raise BackendError(f"num_envs must be a positive integer, got {num_envs!r}")
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise BackendError(f"device {device!r}: {e}") from None
        self.game = GAMES[game]
        self.num_envs = num_envs
        self.render_mode = render
        self.validate = validate
        self.check_every = max(1, int(check_every))
        self.reuse_frames = bool(reuse_frames)
        self._frame: Any = None
        self.codec = ActionCodec(f"builtin_{game}_v0", tuple(self.game.actions))
        if render == "rgb":
            h, w, c = self.game.rgb_shape
            self.frame_spec = FrameSpec(h, w, c)
            self._render = self.game.render_rgb
        else:
            h, w = self.game.shade_shape
            self.frame_spec = FrameSpec(h, w, 1, levels=4)
            self._render = self.game.render_shades
        self._info_fn = _info_function(self.game)
        self.seed = 0
        self.state: Any = None  # the game's State, after reset()
        self._bad: Any = None  # bool [] on the device: a device-side action was out of range
        self._steps_since_check = 0

    # -- the protocol ------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        self._flush_checks()
        if seed is not None:
            self.seed = int(seed)
        self.state = _fresh_state(self.game, self.seed, self.num_envs, self.device)
        return self._render(self.state), self._info_fn(self.state)  # uint8 [N, H, W(, 3)]

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        if self.state is None:
            raise BackendError("step() before reset(): call reset(seed) first")
        a = self._actions(actions) if self.validate else _as_device(actions, self.device)
        self.state, info = self.game.step(self.state, a)
        frame = self._render(self.state, out=self._frame)  # uint8 [N, H, W(, 3)]
        if self.reuse_frames:
            self._frame = frame
        return frame, info

    def save_state(self, env: int) -> bytes:
        from safetensors.torch import save

        self._flush_checks()
        i = self._env(env)
        tensors = {
            f.name: getattr(self.state, f.name)[i : i + 1].detach().cpu().contiguous()
            for f in fields(self.state)
            if f.name != "bank"
        }  # each [1, ...]
        meta = {
            "format": STATE_FORMAT,
            "game": self.game.id,
            "bank_seed": str(self.state.bank.seed),
        }
        return save(tensors, metadata=meta)

    def load_state(self, env: int, state: bytes) -> None:
        from safetensors.torch import load

        i = self._env(env)
        meta = _safetensors_metadata(state)
        if meta.get("format") != STATE_FORMAT or meta.get("game") != self.game.id:
            raise BackendError(
                f"state: not a {self.game.id} state of this backend (format {meta.get('format')!r}, "
                f"game {meta.get('game')!r})"
            )
        if meta.get("bank_seed") != str(self.state.bank.seed):
            raise BackendError(
                f"state: made for the levels of seed {meta.get('bank_seed')}, but this batch was "
                f"reset with seed {self.state.bank.seed}; reset(seed) with that seed first"
            )
        tensors = load(state)
        updates = {}
        for f in fields(self.state):
            if f.name == "bank":
                continue
            cur = getattr(self.state, f.name)
            got = tensors.get(f.name)
            if got is None or tuple(got.shape) != (1, *cur.shape[1:]):
                raise BackendError(f"state: field {f.name} missing or of the wrong shape")
            new = cur.clone()
            new[i] = got[0].to(device=cur.device, dtype=cur.dtype)
            updates[f.name] = new
        self.state = replace(self.state, **updates)

    def close(self) -> None:
        self._flush_checks()
        self.state = None

    # -- optional capabilities ---------------------------------------------------------------------

    def policy_actions(self, policy: str, key: int) -> Any:
        """The game's own policies: int64 [N] on the device, a pure function of (state, key)."""
        fn = {"scripted": self.game.scripted_policy, "random": self.game.random_policy}.get(policy)
        if fn is None or self.state is None:
            return None
        return fn(self.state, key)

    def render(self) -> Any:
        """The current frames, uint8 [N, H, W(, 3)] (after load_state, say)."""
        return self._render(self.state)

    # -- checks ------------------------------------------------------------------------------------

    def _env(self, env: int) -> int:
        if self.state is None:
            raise BackendError("no state before reset(): call reset(seed) first")
        return check_env(env, self.num_envs)

    def _actions(self, actions: Any) -> Any:
        import torch

        n, k = self.num_envs, self.codec.n
        on_device = isinstance(actions, torch.Tensor) and actions.device.type != "cpu"
        a = actions if isinstance(actions, torch.Tensor) else _host_tensor(actions)
        if a.dim() != 1 or a.shape[0] != n:
            raise BackendError(f"actions must have shape [{n}], got {list(a.shape)}")
        if a.dtype.is_floating_point or a.dtype.is_complex or a.dtype == torch.bool:
            raise BackendError(f"actions must be integers, got {a.dtype}")
        if not on_device:  # host memory: checking costs no device round trip
            if bool((a < 0).any()) or bool((a >= k).any()):
                raise BackendError(f"actions must lie in 0..{k - 1}, got {a.tolist()}")
            return a.to(device=self.device, dtype=torch.int64)
        a = a.to(device=self.device, dtype=torch.int64)
        bad = ((a < 0) | (a >= k)).any()  # bool [] on the device: no sync
        self._bad = bad if self._bad is None else self._bad | bad
        self._steps_since_check += 1
        if self._steps_since_check >= self.check_every:
            self._flush_checks()
        return a

    def _flush_checks(self) -> None:
        bad, self._bad, self._steps_since_check = self._bad, None, 0
        if bad is not None and bool(bad):
            raise BackendError(
                f"actions must lie in 0..{self.codec.n - 1}: a device-side action batch out of "
                f"range was given since the last check (out-of-range actions act as no input)"
            )


_fresh: OrderedDict[tuple[str, int, int, str], Any] = OrderedDict()


def _fresh_state(game: Any, seed: int, n: int, device: Any) -> Any:
    """game.reset(seed, n, device), remembered for the last RESET_CACHE calls. Safe to share: a game is
    pure functions over a frozen State (step builds new tensors; load_state clones before writing)."""
    key = (game.id, seed, n, str(device))
    if key in _fresh:
        _fresh.move_to_end(key)
        return _fresh[key]
    state = _fresh[key] = game.reset(seed, n, device)
    while len(_fresh) > RESET_CACHE:
        _fresh.popitem(last=False)
    return state


def _host_tensor(actions: Any) -> Any:
    import numpy as np
    import torch

    try:
        arr = np.asarray(actions)
    except (ValueError, TypeError) as e:
        raise BackendError(f"actions: not an array of integers ({e})") from None
    if arr.dtype == object or arr.dtype.kind not in "iubf":
        raise BackendError(f"actions must be integers, got {arr.dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _as_device(actions: Any, device: Any) -> Any:
    import torch

    return torch.as_tensor(actions, device=device).to(torch.int64)  # [N], unchecked


def _info_function(game: Any) -> Any:
    """The game's `info(state)` (ground truth of a fresh state, for reset). GameSpec may carry it; until
    it does, it is the `info` function of the module that defines the game's step."""
    fn = getattr(game, "info", None) or getattr(inspect.getmodule(game.step), "info", None)
    if fn is None:
        return lambda state: {}
    return fn


def _safetensors_metadata(data: bytes) -> dict[str, str]:
    """The __metadata__ of safetensors bytes (8-byte little-endian header length, then JSON)."""
    try:
        n = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + n])
        meta = header.get("__metadata__") or {}
    except (ValueError, TypeError, AttributeError):
        raise BackendError("state: not safetensors bytes made by save_state") from None
    if not isinstance(meta, dict):
        raise BackendError("state: not safetensors bytes made by save_state")
    return meta


def _create(num_envs: int = 1, device: Any = "cpu", **options: Any) -> BuiltinBackend:
    check_options("builtin", options, ENTRY.options)
    return BuiltinBackend(num_envs, device, **options)


ENTRY = BackendEntry(
    name="builtin",
    summary="pure-torch games from core.games (platformer, puzzle, rpg), vectorized on CPU or CUDA, with ground truth",
    create=_create,
    available=lambda: None,
    options=("game", "render", "validate", "check_every", "reuse_frames"),
)
