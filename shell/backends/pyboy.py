"""The `pyboy` backend: N headless PyBoy emulators of any Game Boy ROM, frames through core/pixels.

One step = press the button for RELEASE_AFTER frames, release it, tick to FRAMES_PER_STEP frames; only the
last frame is rendered. Frames are the shade pipeline's uint8 [N, 72, 80] on the chosen device (the raw
screen, uint8 RGB [N, 144, 160, 3], from screen_rgb() or with rgb=True in every info). reset() loads the
start state (a PyBoy `.state` file) into every env, or without one the state reached by booting the ROM
for boot_frames idle frames. The emulator is deterministic, so reset's seed changes nothing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

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

CODEC = ActionCodec("pokemonred_puffer_v0", ("A", "B", "START", "UP", "DOWN", "LEFT", "RIGHT"))
BUTTONS = ("a", "b", "start", "up", "down", "left", "right")  # PyBoy's names, in CODEC order
FRAMES_PER_STEP = 24  # simple-rl-m3-plan §0: the action frequency stays 24
RELEASE_AFTER = 8  # simple-rl-m3-plan §4.2: held long enough for any game to read it
BOOT_FRAMES = 120  # core/gb/layout.BOOT_FRAMES: our ROM reads input from frame ~75
SCREEN_H, SCREEN_W = 144, 160
MIN_ROM = 0x8000  # the smallest cartridge: two 16 KiB banks
MAX_ROM = 8 << 20  # the largest cartridge (MBC5): 8 MiB
MAX_STATE = (
    4 << 20
)  # a PyBoy .state of a DMG game is about 40 KiB; a colour one with RAM a few hundred
BUDGET_ENV = "GATE_EMULATOR_BUDGET_S"  # wall-clock seconds one emulator call may take (default 10)
BUDGET_S = 10.0  # a step is 24 frames, ~2 ms; a chunk of a boot about 0.1 s on a busy core
BOOT_CHUNK = 600  # frames of a boot per watched call
OPTIONS = ("rom", "state", "boot_frames", "rgb")


def _read_rom(rom: str | os.PathLike[str]) -> bytes:
    from shell.errors import BadInput
    from shell.safety import read_input_file

    p = Path(rom)
    if not p.exists():
        raise BackendUnavailable(
            f"{rom}: no such ROM file (supply a Game Boy ROM, or `gate m3 build-rom`)"
        )
    try:
        data = read_input_file(p, "ROM file", limit=MAX_ROM)
    except BadInput as e:
        raise BackendError(str(e)) from None
    if len(data) < MIN_ROM or len(data) % 0x4000:
        raise BackendError(
            f"{rom}: not a Game Boy ROM ({len(data)} bytes; expected a multiple of 16 KiB)"
        )
    return data


class PyBoyBackend:
    name = "pyboy"
    codec = CODEC

    def __init__(
        self,
        num_envs: int = 1,
        device: Any = "cpu",
        rom: str | os.PathLike[str] | None = None,  # None: the project's own roms/worldgate.gb
        state: str | os.PathLike[str] | bytes | None = None,
        boot_frames: int = BOOT_FRAMES,
        rgb: bool = False,
    ) -> None:
        import warnings

        import torch

        with (
            warnings.catch_warnings()
        ):  # pysdl2 announces its bundled SDL2 on every import; we run headless
            warnings.filterwarnings("ignore", message="Using SDL2 binaries")
            from pyboy import PyBoy

        if not isinstance(num_envs, int) or num_envs < 1:
            raise BackendError(f"num_envs must be an int >= 1, got {num_envs!r}")
        if not isinstance(boot_frames, int) or boot_frames < 0:
            raise BackendError(f"boot_frames must be an int >= 0, got {boot_frames!r}")
        self.num_envs, self.device, self.rgb = num_envs, torch.device(device), rgb
        if rom is None:
            from shell import paths

            rom = paths.root() / "roms" / "worldgate.gb"
        self.rom_path = str(rom)
        rom_bytes = _read_rom(rom)
        self._cgb = bool(rom_bytes[0x143] & 0x80)  # colour ROM: shades need the RGB luma path
        self.frame_spec = FrameSpec(72, 80, 1, 4)
        self._envs: list[Any] = []
        self._dog = _Watchdog(self.rom_path)
        try:
            for _ in range(num_envs):
                self._envs.append(PyBoy(self.rom_path, window="null", sound_emulated=False))
        except Exception as e:  # PyBoy says what is wrong with the cartridge
            self.close()
            raise BackendError(f"{rom}: PyBoy cannot run it: {e}") from None
        self._views = [pb.screen.ndarray for pb in self._envs]  # [144, 160, 4] RGBA, live views
        # DMG screens are gray (R = G = B, where rgb_to_shade's luma is the gray itself): copy one channel
        self._host = np.empty(
            (num_envs, SCREEN_H, SCREEN_W, *((3,) if self._cgb else ())), np.uint8
        )
        if isinstance(state, bytes):
            self._start = state
        elif state is not None:
            from shell.errors import BadInput
            from shell.safety import read_input_file

            try:
                self._start = read_input_file(state, "start-state file", limit=MAX_STATE)
            except BadInput as e:
                self.close()
                raise BackendError(str(e)) from None
        else:
            left = boot_frames  # in chunks, each under the budget: a long boot is not a hang
            while left > 0:
                n = min(left, BOOT_CHUNK)
                with self._watch(f"booting {boot_frames} frames"):  # render only the last frame
                    self._envs[0].tick(n, n == left)
                left -= n
            self._start = self.save_state(0)
        self.frames = 0  # emulated frames since the start state

    def _screens(self) -> Any:
        """-> the screens on the device: uint8 gray [N, 144, 160] (DMG) or RGB [N, 144, 160, 3] (colour)."""
        return self._host_screens().to(self.device, copy=True)  # [N, 144, 160(, 3)]

    def _host_screens(self) -> Any:
        """The screens in the reused host buffer, as a CPU tensor sharing it (valid until the next call)."""
        import torch

        for host, view in zip(self._host, self._views, strict=True):
            np.copyto(host, view[..., 0] if self._host.ndim == 3 else view[..., :3])
        return torch.from_numpy(self._host)  # [N, 144, 160(, 3)]

    def _observe(self) -> tuple[Any, dict[str, Any]]:
        from core.pixels import screen_to_obs

        # on the CPU the shade pipeline reads the host buffer directly (its output is a fresh tensor)
        scr = self._host_screens() if self.device.type == "cpu" else self._screens()
        info: dict[str, Any] = {"frame": self.frames}
        if self.rgb:
            info["rgb"] = self.screen_rgb()  # [N, 144, 160, 3]
        return screen_to_obs(scr), info  # [N, 72, 80]

    def screen_rgb(self) -> Any:
        """The raw screens: uint8 RGB [N, 144, 160, 3] on the device."""
        import torch

        rgb = np.stack([v[..., :3] for v in self._views])  # [N, 144, 160, 3]
        return torch.from_numpy(rgb).to(self.device)

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        for i in range(self.num_envs):
            self.load_state(i, self._start)
        self.frames = 0
        return self._observe()

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        a = _host_actions(actions, self.num_envs)
        dog = self._dog
        for pb, act in zip(self._envs, a, strict=True):
            dog.arm()
            pb.button_press(BUTTONS[act])
            pb.tick(RELEASE_AFTER, False)
            pb.button_release(BUTTONS[act])
            pb.tick(FRAMES_PER_STEP - RELEASE_AFTER, True)
            dog.disarm()
        self.frames += FRAMES_PER_STEP
        return self._observe()

    def _env(self, env: int) -> Any:
        return self._envs[check_env(env, self.num_envs)]

    def save_state(self, env: int) -> bytes:
        buf = io.BytesIO()
        self._env(env).save_state(buf)
        return buf.getvalue()

    def load_state(self, env: int, state: bytes) -> None:
        pb = self._env(env)
        if not isinstance(state, bytes | bytearray) or not state:
            raise BackendError("state must be the non-empty bytes of a PyBoy .state")
        buf = io.BytesIO(bytes(state))
        try:
            with self._watch("loading a state"):
                pb.load_state(buf)
        except Exception as e:
            raise BackendError(f"state: PyBoy cannot load it for {self.rom_path}: {e}") from None
        if buf.tell() != len(state):  # PyBoy reads what it needs: anything after it is not a state
            raise BackendError(
                f"state: {len(state) - buf.tell()} bytes after the end of the PyBoy state "
                f"({buf.tell()} bytes); not a .state written for {self.rom_path}"
            )

    def _watch(self, what: str) -> Any:
        return self._dog.watch(what)

    def close(self) -> None:
        for pb in self._envs:
            pb.stop(save=False)
        self._envs = []
        if getattr(self, "_dog", None) is not None:
            self._dog.stop()


class _Watchdog:
    """A wall-clock budget for emulator calls. PyBoy's compiled loop never returns on some code (a
    HALT no interrupt can end, a jump to itself) and no signal reaches it, so a daemon thread watches a
    deadline set around each call; past it, the run is stopped with exit 2 naming the ROM (the receipt
    gets the error and verdict through shell.deadline's hooks). Arming costs one clock read."""

    def __init__(self, rom: str) -> None:
        import threading
        import time

        self.rom = rom
        self.budget = _budget()
        self.deadline = 0.0  # 0: disarmed
        self.what = "running"
        self._stop = threading.Event()
        self._thread: Any = None
        self._clock = time.monotonic  # arm() runs once per env step: no import or lookup there

    def _start(self) -> None:
        import threading

        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="emulator-watchdog", daemon=True
            )
            self._thread.start()

    def arm(self, what: str = "running") -> None:
        if self._thread is None:
            self._start()
        self.what = what
        self.deadline = self._clock() + self.budget

    def disarm(self) -> None:
        self.deadline = 0.0

    def watch(self, what: str) -> Any:
        import contextlib

        @contextlib.contextmanager
        def cm() -> Any:
            self.arm(what)
            try:
                yield
            finally:
                self.disarm()

        return cm()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        import time

        tick = min(0.25, self.budget / 4)
        while not self._stop.wait(tick):
            d = self.deadline
            if d and time.monotonic() > d:
                from shell import deadline

                deadline.expire(
                    f"{self.rom}: the emulator did not finish {self.what} within "
                    f"{self.budget:g} s of wall-clock time (the ROM's code never returns control; "
                    f"{BUDGET_ENV} sets the budget)"
                )


def _budget() -> float:
    raw = os.environ.get(BUDGET_ENV)
    if not raw:
        return BUDGET_S
    try:
        v = float(raw)
    except ValueError:
        v = -1.0
    if not 0 < v < 1e6:
        raise BackendError(f"{BUDGET_ENV}={raw!r}: expected seconds, a number > 0")
    return v


def _host_actions(actions: Any, num_envs: int) -> list[int]:
    """Actions as Python ints for the emulators; plain lists are checked without a tensor round trip."""
    if (
        isinstance(actions, list | tuple)
        and len(actions) == num_envs
        and all(type(a) is int and 0 <= a < CODEC.n for a in actions)
    ):
        return list(actions)
    try:
        return check_actions(actions, num_envs, CODEC.n, "cpu").tolist()
    except (TypeError, ValueError, RuntimeError) as e:
        if isinstance(e, BackendError):
            raise
        raise BackendError(f"actions must be ints in 0..{CODEC.n - 1}, one per env: {e}") from None


def _available() -> str | None:
    import importlib.util

    return None if importlib.util.find_spec("pyboy") else "the pyboy package is not installed"


def _create(num_envs: int = 1, device: Any = "cpu", **options: Any) -> PyBoyBackend:
    if why := _available():
        raise BackendUnavailable(why)
    check_options("pyboy", options, OPTIONS)
    return PyBoyBackend(num_envs, device, **options)


ENTRY = BackendEntry(
    "pyboy",
    "any Game Boy ROM in headless PyBoy (the project ships roms/worldgate.gb); CPU emulation, frames on any device",
    _create,
    _available,
    OPTIONS,
)
