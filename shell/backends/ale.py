"""Backend `ale`: Atari 2600 games through ale-py (the optional extra: `uv sync --extra ale`; ale-py ships
its ROMs, so nothing else is downloaded).

N envs are N ALEInterface emulators stepped in turn on the CPU; frames go to the device as uint8 torch
tensors. Choices, each the usual one for world-model data:
- sticky actions OFF (repeat_action_probability = 0): a step is a pure function of state and action.
- frameskip 4 (option `frameskip`): each action is held for 4 emulator frames and the last one is
  returned, rewards summed (Machado et al. 2018, and Gymnasium's ALE v5); `frameskip=1` gives every frame.
- the minimal action set of the game, by ALE's names (NOOP, FIRE, RIGHT, ...), as the codec.
- frames: RGB 210x160 brought to 256x256 (`render="rgb"`) by padding the width with black to 210x210
  (25 columns each side, so nothing is cropped and the aspect ratio is kept) and a nearest-neighbour
  resize 210 -> 256 (pixel centres; every source pixel survives, some twice); `render="native"` keeps
  210x160.
- a finished game (game over) is reset inside step(): that frame starts the new game and info["done"]
  is True for it.
info: "reward" float [N], "lives" int64 [N], "done" bool [N], "frame" int64 [N] (frame in the episode).
"""

from __future__ import annotations

import importlib.util
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

NATIVE_H, NATIVE_W = 210, 160  # the Atari 2600 screen as ALE returns it
OUT = 256  # the side of the square "rgb" render, like the built-in game's
FRAMESKIP = 4  # Machado et al. 2018 / Gymnasium ALE v5
RENDERS = ("rgb", "native")
STATE_MAGIC = b"WGALE1\n"  # our header before ALE's own serialized state (never pickle)
SEED_MIX = 1_000_003  # env i of seed s is seeded s * SEED_MIX + i: distinct per env and per seed


def _available() -> str | None:
    if importlib.util.find_spec("ale_py") is None:
        return "ale-py is not installed (uv sync --extra ale)"
    return None


def resize_index(device: Any) -> tuple[Any, Any, Any]:
    """Index maps for 210x160 -> 256x256: rows [256], cols [256] into the native frame, and a bool [256]
    mask of the columns that fall in the black side bars of the 210x210 padding."""
    import torch

    side = (NATIVE_H - NATIVE_W) // 2  # 25 black columns each side
    centres = (torch.arange(OUT, device=device) * 2 + 1) * NATIVE_H // (2 * OUT)  # [256] in 0..209
    cols = centres - side  # [256] into the native width, out of range in the bars
    inside = (cols >= 0) & (cols < NATIVE_W)  # [256]
    return centres, cols.clamp(0, NATIVE_W - 1), inside


class AleBackend:
    name = "ale"

    def __init__(
        self,
        num_envs: int = 1,
        device: Any = "cpu",
        game: str = "pong",  # the classic first Atari game; any of ale_py.roms.get_all_rom_ids()
        frameskip: int = FRAMESKIP,
        render: str = "rgb",  # 256x256 like the built-in game; "native" for 210x160
    ) -> None:
        why = _available()
        if why is not None:
            raise BackendUnavailable(why)
        import ale_py
        import torch
        from ale_py import roms

        if not isinstance(num_envs, int) or num_envs < 1:
            raise BackendError(f"num_envs must be a positive integer, got {num_envs!r}")
        if not isinstance(frameskip, int) or frameskip < 1:
            raise BackendError(f"option frameskip: must be an integer >= 1, got {frameskip!r}")
        if render not in RENDERS:
            raise BackendError(f"option render: {render!r}; expected one of {', '.join(RENDERS)}")
        known = roms.get_all_rom_ids()
        if game not in known:
            from shell.backends.games import unknown

            raise BackendError(unknown(game, sorted(known), "ale", "Atari game"))
        self.device = torch.device(device)
        self.num_envs, self.game, self.frameskip, self.render_mode = (
            num_envs,
            game,
            frameskip,
            render,
        )
        self._rom = roms.get_rom_path(game)
        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
        self._ales = [ale_py.ALEInterface() for _ in range(num_envs)]
        self.seed = 0
        self._load(0)
        self._actions = self._ales[0].getMinimalActionSet()
        self.codec = ActionCodec(f"ale_{game}_minimal_v0", tuple(a.name for a in self._actions))
        if render == "rgb":
            self.frame_spec = FrameSpec(OUT, OUT, 3)
            self._rows, self._cols, inside = resize_index(self.device)
            self._bars = inside.view(1, 1, OUT, 1).to(torch.uint8)  # [1, 1, 256, 1] 0 in the bars
        else:
            self.frame_spec = FrameSpec(NATIVE_H, NATIVE_W, 3)

    def _load(self, seed: int) -> None:
        for i, ale in enumerate(self._ales):
            ale.setInt("random_seed", (seed * SEED_MIX + i) % (2**31 - 1))
            ale.setFloat("repeat_action_probability", 0.0)  # sticky actions off
            ale.setInt("frame_skip", self.frameskip)
            ale.loadROM(self._rom)

    def _frames(self, screens: Any = None) -> Any:
        import numpy as np
        import torch

        if screens is None:
            screens = np.stack([a.getScreenRGB() for a in self._ales])
        native = torch.from_numpy(screens)  # [N, 210, 160, 3]
        native = native.to(self.device)
        if self.render_mode == "native":
            return native
        out = native.index_select(1, self._rows).index_select(2, self._cols)  # [N, 256, 256, 3]
        return out * self._bars  # black side bars

    def _info(self, reward: list[float], done: list[bool]) -> dict[str, Any]:
        import torch

        dev = self.device
        return {
            "reward": torch.tensor(reward, dtype=torch.float32, device=dev),  # [N]
            "lives": torch.tensor([a.lives() for a in self._ales], device=dev),  # int64 [N]
            "done": torch.tensor(done, dtype=torch.bool, device=dev),  # [N]
            "frame": torch.tensor([a.getEpisodeFrameNumber() for a in self._ales], device=dev),
        }

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self.seed = int(seed)
        self._load(self.seed)
        n = self.num_envs
        return self._frames(), self._info([0.0] * n, [False] * n)

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        a = check_actions(actions, self.num_envs, self.codec.n, "cpu").tolist()
        reward, done = [], []
        for ale, k in zip(self._ales, a, strict=True):
            reward.append(float(ale.act(self._actions[k])))
            over = ale.game_over()
            if over:
                ale.reset_game()
            done.append(over)
        return self._frames(), self._info(reward, done)

    def save_state(self, env: int) -> bytes:
        ale = self._ales[self._env(env)]
        head = json.dumps({"game": self.game, "frameskip": self.frameskip}).encode()
        body = ale.cloneState(include_rng=True).serialize()
        return STATE_MAGIC + len(head).to_bytes(4, "little") + head + bytes(body)

    def load_state(self, env: int, state: bytes) -> None:
        import ale_py

        i = self._env(env)
        if not isinstance(state, bytes | bytearray) or not state.startswith(STATE_MAGIC):
            raise BackendError("state: not bytes made by the ale backend's save_state")
        k = len(STATE_MAGIC)
        n = int.from_bytes(state[k : k + 4], "little")
        try:
            head = json.loads(state[k + 4 : k + 4 + n])
        except ValueError:
            raise BackendError("state: damaged header") from None
        if head != {"game": self.game, "frameskip": self.frameskip}:
            raise BackendError(f"state: made for {head}, this backend runs game {self.game!r}")
        try:
            self._ales[i].restoreState(ale_py.ALEState(bytes(state[k + 4 + n :])))
        except (RuntimeError, ValueError) as e:
            raise BackendError(f"state: ALE refused it ({e})") from None

    def render(self) -> Any:
        return self._frames()

    def branch_sticky(
        self, env: int, prev: int, action: int, copies: int, p: float, seed: int
    ) -> Any:
        """The next frame of `env` under `copies` draws of sticky actions (Machado et al. 2018, the ALE's
        standard stochasticity; this backend steps with it off): from a clone of the emulator, each
        emulator frame of the step repeats the previously executed action (`prev` before the first) with
        probability p, else takes `action`. -> uint8 [copies, H, W, 3]; the env itself is not moved."""
        import ale_py
        import numpy as np

        if getattr(self, "_scratch", None) is None:
            self._scratch = ale_py.ALEInterface()
            self._scratch.setFloat("repeat_action_probability", 0.0)  # the draws are ours
            self._scratch.setInt("frame_skip", 1)
            self._scratch.loadROM(self._rom)
        state = self._ales[self._env(env)].cloneState()
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(copies):
            self._scratch.restoreState(state)
            cur = prev
            for _ in range(self.frameskip):
                cur = cur if rng.random() < p else action
                self._scratch.act(self._actions[cur])
            out.append(self._scratch.getScreenRGB())
        return self._frames(np.stack(out))

    def close(self) -> None:
        self._ales = []

    def _env(self, env: int) -> int:
        return check_env(env, self.num_envs)


def _create(num_envs: int = 1, device: Any = "cpu", **options: Any) -> AleBackend:
    check_options("ale", options, ENTRY.options)
    return AleBackend(num_envs, device, **options)


ENTRY = BackendEntry(
    name="ale",
    summary="Atari 2600 through ale-py (extra `ale`): sticky actions off, frameskip 4, 256x256 RGB",
    create=_create,
    available=_available,
    options=("game", "frameskip", "render"),
)
