"""The pyboy backend on the project's ROM: protocol shapes, determinism, states, bad input, devices."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.gb import layout
from core.pixels import screen_to_obs
from shell.backends.base import Backend, BackendError, BackendUnavailable
from shell.backends.pyboy import CODEC, PyBoyBackend
from shell.registry import load_backends

REPO = Path(__file__).resolve().parents[1]
ROM = REPO / "roms" / "worldgate.gb"
STATE = REPO / "traces" / "m3" / "start.state"
A, B, START, UP, DOWN, LEFT, RIGHT = range(7)


@pytest.fixture
def pb():
    b = PyBoyBackend(2, "cpu", rom=ROM, state=STATE)
    yield b
    b.close()


def test_protocol_shapes_and_dtypes(pb) -> None:
    assert isinstance(pb, Backend) and pb.codec is CODEC and CODEC.id == "pokemonred_puffer_v0"
    assert CODEC.names == ("A", "B", "START", "UP", "DOWN", "LEFT", "RIGHT")  # no NOOP
    frames, info = pb.reset(0)
    assert (
        frames.shape == (2, 72, 80) and frames.dtype == torch.uint8 and frames.device.type == "cpu"
    )
    assert set(frames.unique().tolist()) == {0, 1, 2, 3} and info["frame"] == 0
    frames, info = pb.step([RIGHT, LEFT])
    assert frames.shape == (2, 72, 80) and info["frame"] == 24
    assert not torch.equal(frames[0], frames[1])  # envs move independently
    rgb = pb.screen_rgb()
    assert rgb.shape == (2, 144, 160, 3) and rgb.dtype == torch.uint8
    assert torch.equal(
        screen_to_obs(rgb), frames
    )  # the gray fast path is the RGB pipeline, bit for bit


def test_rgb_info_on_request() -> None:
    b = PyBoyBackend(1, "cpu", rom=ROM, state=STATE, rgb=True)
    try:
        frames, info = b.reset()
        assert info["rgb"].shape == (1, 144, 160, 3) and torch.equal(
            screen_to_obs(info["rgb"]), frames
        )
    finally:
        b.close()


def test_booting_gives_the_recorded_start_state() -> None:
    b = PyBoyBackend(1, "cpu", rom=ROM, boot_frames=layout.BOOT_FRAMES)
    try:
        assert b.save_state(0) == STATE.read_bytes()  # PyBoy states are deterministic bytes
    finally:
        b.close()


def test_same_state_same_frames_and_save_load_round_trip(pb) -> None:
    route = [[a, a] for a in layout.ROUTE_TO_ROOM2[:6]]
    runs = []
    for _ in range(2):
        pb.reset(123)  # the seed changes nothing: the emulator is deterministic
        runs.append(torch.stack([pb.step(a)[0] for a in route]))
    assert torch.equal(runs[0], runs[1])
    pb.reset()
    for a in route[:3]:
        pb.step(a)
    saved = pb.save_state(1)
    after = [pb.step(a)[0][1] for a in route[3:]]
    pb.step([UP, UP])
    pb.load_state(1, saved)
    assert all(torch.equal(pb.step(a)[0][1], x) for a, x in zip(route[3:], after, strict=True))


@pytest.mark.parametrize("bad", [[7, 0], [-1, 0], [0], [0, 0, 0], [0.0, 1.0], [[0, 0]], "ab"])
def test_bad_actions_are_rejected(pb, bad) -> None:
    pb.reset()
    with pytest.raises(BackendError):
        pb.step(bad)


def test_bad_inputs_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="no such ROM"):
        PyBoyBackend(1, "cpu", rom=tmp_path / "missing.gb")
    junk = tmp_path / "junk.gb"
    junk.write_bytes(b"\0" * 1000)
    with pytest.raises(BackendError, match="not a Game Boy ROM"):
        PyBoyBackend(1, "cpu", rom=junk)
    with pytest.raises(BackendError, match="no such start-state"):
        PyBoyBackend(1, "cpu", rom=ROM, state=tmp_path / "none.state")
    b = PyBoyBackend(1, "cpu", rom=ROM, state=b"not a state")
    try:
        with pytest.raises(BackendError, match="cannot load"):
            b.reset()
        with pytest.raises(BackendError, match="env must be"):
            b.save_state(1)
    finally:
        b.close()
    with pytest.raises(BackendError, match="num_envs"):
        PyBoyBackend(0, "cpu", rom=ROM)


def test_registered_entry_creates_it() -> None:
    entry = load_backends()["pyboy"]
    assert entry.available() is None and {"rom", "state"} <= set(entry.options)
    b = entry.create(1, "cpu", rom=str(ROM))
    try:
        assert b.reset()[0].shape == (1, 72, 80)
    finally:
        b.close()
    with pytest.raises(BackendError, match="option colour"):
        entry.create(1, "cpu", colour=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu_bit_for_bit() -> None:
    out = {}
    for dev in ("cpu", "cuda"):
        b = PyBoyBackend(1, dev, rom=ROM, state=STATE)
        try:
            seen = [b.reset()[0]] + [b.step([a])[0] for a in layout.ROUTE_TO_ROOM2]
            assert seen[-1].device.type == dev
            out[dev] = torch.stack(seen).cpu()
        finally:
            b.close()
    assert torch.equal(out["cpu"], out["cuda"])
