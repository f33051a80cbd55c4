"""Every registered backend against the protocol of shell/backends/base.py, and the checker against
deliberately broken backends (so it can fail).

check_backend(b) returns a list of problems (empty: compliant): frames are uint8 torch tensors of the
frame spec's shape on the backend's device, info holds per-env values, a seed replays exactly,
save_state/load_state of one env resumes it exactly, and bad actions (out of range, negative, wrong batch
size, floats, 2-D) raise BackendError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch

from shell.backends.base import (
    ActionCodec,
    Backend,
    BackendError,
    BackendUnavailable,
    FrameSpec,
    check_actions,
)
from shell.registry import load_backends

N = 2  # envs per batch: enough to see per-env state, cheap for emulators
STEPS = 4  # steps before the save
AFTER = 3  # steps replayed after the load
SEED = 7

# Options a backend is checked with beyond its defaults (one run per entry).
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "builtin": [
        {"render": "rgb"},
        {"render": "shades"},
        {"game": "puzzle", "render": "rgb"},
        {"game": "puzzle", "render": "shades"},
        {"game": "rpg", "render": "rgb"},
        {"game": "rpg", "render": "shades"},
    ],
}


def _frame_problems(b: Any, frames: Any, where: str) -> list[str]:
    spec: FrameSpec = b.frame_spec
    want = (b.num_envs, spec.height, spec.width) + ((3,) if spec.channels == 3 else ())
    if not isinstance(frames, torch.Tensor):
        return [f"{where}: frames are {type(frames).__name__}, not a torch tensor"]
    out = []
    if frames.dtype != torch.uint8:
        out.append(f"{where}: frames dtype {frames.dtype}, expected torch.uint8")
    if tuple(frames.shape) != want:
        out.append(f"{where}: frames shape {tuple(frames.shape)}, frame_spec says {want}")
    if frames.device.type != torch.device(b.device).type:
        out.append(f"{where}: frames on {frames.device}, backend device is {b.device}")
    if frames.dtype == torch.uint8 and frames.numel() and int(frames.max()) >= spec.levels:
        out.append(f"{where}: a pixel is {int(frames.max())}, frame_spec allows < {spec.levels}")
    return out


def _info_problems(b: Any, info: Any, where: str) -> list[str]:
    if not isinstance(info, Mapping):
        return [f"{where}: info is {type(info).__name__}, not a mapping"]
    out = []
    for k, v in info.items():
        if isinstance(v, torch.Tensor) and (v.dim() == 0 or v.shape[0] != b.num_envs):
            out.append(
                f"{where}: info[{k!r}] has shape {tuple(v.shape)}, not [N={b.num_envs}, ...]"
            )
    if (
        "done" in info
        and isinstance(info["done"], torch.Tensor)
        and info["done"].dtype != torch.bool
    ):
        out.append(f"{where}: info['done'] is {info['done'].dtype}, expected bool")
    return out


def _actions(n_envs: int, n_actions: int, steps: int) -> list[list[int]]:
    """A fixed, varied action sequence: every action shows up, envs differ."""
    return [[(3 * t + 2 * e + 1) % n_actions for e in range(n_envs)] for t in range(steps)]


def check_backend(b: Any, seed: int = SEED) -> list[str]:
    """Problems with backend b (a fresh instance); [] when it follows the protocol."""
    out: list[str] = []
    if not isinstance(b, Backend):
        return [f"{type(b).__name__} lacks part of the Backend protocol"]
    if not isinstance(b.codec, ActionCodec) or b.codec.n < 1:
        out.append(f"codec {b.codec!r}: need an ActionCodec with at least one action")
    if not isinstance(b.frame_spec, FrameSpec) or b.frame_spec.channels not in (1, 3):
        return [*out, f"frame_spec {b.frame_spec!r}: need a FrameSpec with 1 or 3 channels"]
    seq = _actions(b.num_envs, b.codec.n, STEPS + AFTER)

    frames, info = b.reset(seed)
    out += _frame_problems(b, frames, "reset") + _info_problems(b, info, "reset")
    first = [frames.clone() if isinstance(frames, torch.Tensor) else frames]
    for t, a in enumerate(seq):
        frames, info = b.step(a)
        if t == 0:
            out += _frame_problems(b, frames, "step") + _info_problems(b, info, "step")
        first.append(frames.clone() if isinstance(frames, torch.Tensor) else frames)
    if out:
        return out

    frames, _ = b.reset(seed)  # the same seed and actions must give the same frames
    again = [frames.clone()]
    saved = None
    env = b.num_envs - 1
    for t, a in enumerate(seq):
        if t == STEPS:
            saved = b.save_state(env)
        again.append(b.step(a)[0].clone())
    bad_t = [t for t, (x, y) in enumerate(zip(first, again, strict=True)) if not torch.equal(x, y)]
    if bad_t:
        out.append(f"determinism: reset({seed}) and the same actions differ from frame {bad_t[0]}")
    if not isinstance(saved, bytes | bytearray):
        out.append(f"save_state: returned {type(saved).__name__}, expected bytes")
    else:
        b.step(seq[0])  # wander off, then come back
        b.load_state(env, bytes(saved))
        for k, a in enumerate(seq[STEPS:]):
            got = b.step(a)[0]
            if not torch.equal(got[env], again[STEPS + 1 + k][env]):
                out.append(f"save/load: env {env} differs {k + 1} steps after load_state")
                break

    k, n = b.codec.n, b.num_envs
    bad = {
        "out of range": [k] * n,
        "negative": [-1] * n,
        "wrong batch size": [0] * (n + 1),
        "floats": [0.0] * n,
        "2-D": [[0] * n],
    }
    for what, a in bad.items():
        try:
            b.step(a)
            if hasattr(b, "_flush_checks"):  # a backend that defers device-side checks
                b._flush_checks()
        except BackendError:
            continue
        except Exception as e:  # noqa: BLE001 - any other error is the wrong kind
            out.append(f"bad actions ({what}): raised {type(e).__name__}, not BackendError")
            continue
        out.append(f"bad actions ({what}): accepted {a!r}")
    return out


# -- every registered backend ----------------------------------------------------------------------


def _cases() -> list[Any]:
    cases = []
    for name, entry in load_backends().items():
        for opts in VARIANTS.get(name, [{}]):
            label = name + "".join(f"-{v}" for v in opts.values())
            why = entry.available()
            marks = [pytest.mark.skip(reason=f"{name} unavailable here: {why}")] if why else []
            cases.append(pytest.param(name, opts, id=label, marks=marks))
    return cases


@pytest.mark.parametrize(("name", "opts"), _cases())
def test_registered_backend_is_compliant(name: str, opts: dict[str, Any]) -> None:
    entry = load_backends()[name]
    try:
        b = entry.create(num_envs=N, device="cpu", **opts)
    except BackendUnavailable as e:  # e.g. gym's default env needs ale-py, which is an extra
        pytest.skip(f"{name} cannot run here: {e}")
    try:
        assert check_backend(b) == []
    finally:
        b.close()


def test_builtin_and_pyboy_are_registered() -> None:
    names = load_backends()
    assert "builtin" in names and names["builtin"].available() is None
    assert {"ale", "gym"} <= set(names)


# -- a toy backend, correct and broken in chosen ways -----------------------------------------------


class Toy:
    """A tiny correct backend (a dot that moves), with switches that break one rule each."""

    name = "toy"

    def __init__(self, num_envs: int = N, broken: str = "") -> None:
        self.num_envs, self.device, self.broken = num_envs, torch.device("cpu"), broken
        self.codec = ActionCodec("toy_v0", ("LEFT", "RIGHT", "STAY"))
        self.frame_spec = FrameSpec(8, 8, 1)
        self.pos = torch.zeros(num_envs, dtype=torch.int64)  # [N]
        self.calls = 0

    def _frames(self) -> Any:
        f = torch.zeros(self.num_envs, 8, 8, dtype=torch.uint8)  # [N, 8, 8]
        f[torch.arange(self.num_envs), 4, self.pos % 8] = 255
        if self.broken == "float":
            return f.float()
        if self.broken == "shape":
            return f[:, :4]
        if self.broken == "noisy":
            self.calls += 1
            f[:, 0, 0] = self.calls % 256  # differs between two identical runs
        return f

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        self.pos = torch.arange(self.num_envs, dtype=torch.int64) + (seed or 0)
        return self._frames(), {"x": self.pos.clone()}

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        if self.broken == "lax":
            a = torch.as_tensor(actions).flatten()[: self.num_envs].long()
        else:
            a = check_actions(actions, self.num_envs, self.codec.n, self.device)
        self.pos = self.pos + torch.where(a == 0, -1, torch.where(a == 1, 1, 0))
        return self._frames(), {"x": self.pos.clone()}

    def save_state(self, env: int) -> bytes:
        return int(self.pos[env]).to_bytes(8, "little", signed=True)

    def load_state(self, env: int, state: bytes) -> None:
        if self.broken != "forgetful":
            self.pos[env] = int.from_bytes(state, "little", signed=True)

    def close(self) -> None:
        pass


def test_checker_passes_the_correct_toy() -> None:
    assert check_backend(Toy()) == []


@pytest.mark.parametrize(
    ("broken", "expect"),
    [
        ("float", "dtype torch.float32"),
        ("shape", "frames shape"),
        ("noisy", "determinism"),
        ("forgetful", "save/load"),
        ("lax", "bad actions"),
    ],
)
def test_checker_rejects_a_broken_backend(broken: str, expect: str) -> None:
    problems = check_backend(Toy(broken=broken))
    assert any(expect in p for p in problems), problems


# -- builtin specifics -----------------------------------------------------------------------------


def test_builtin_info_is_ground_truth_and_state_is_not_pickle() -> None:
    from safetensors.torch import load, save

    b = load_backends()["builtin"].create(num_envs=N, device="cpu", render="shades")
    frames, info = b.reset(SEED)
    assert frames.shape == (N, 72, 80) and int(frames.max()) <= 3
    assert {"player_x", "player_y", "done"} <= set(info) and info["player_x"].shape == (N,)
    assert b.codec.names == ("UP", "DOWN", "LEFT", "RIGHT", "JUMP")
    x0 = info["player_x"].clone()
    for _ in range(8):
        _, info = b.step([3] * N)  # RIGHT
    assert bool((info["player_x"] > x0).all())  # ground truth follows the action
    blob = b.save_state(1)
    assert blob[8:9] == b"{"  # safetensors: a JSON header, then raw tensors; no pickle anywhere
    with pytest.raises(BackendError, match="env must be"):
        b.save_state(N)
    with pytest.raises(BackendError, match="state"):
        b.load_state(0, b"\x00" * 16)
    meta = {"format": "worldgate-builtin-state-v1", "game": "platformer", "bank_seed": "999"}
    foreign = save(load(blob), metadata=meta)  # the same fields, made for other levels
    with pytest.raises(BackendError, match="seed 999"):
        b.load_state(0, foreign)


def test_builtin_rejects_unknown_options() -> None:
    create = load_backends()["builtin"].create
    for opts, field in [
        ({"game": "nope"}, "game"),
        ({"render": "hd"}, "render"),
        ({"fps": 1}, "fps"),
    ]:
        with pytest.raises(BackendError, match=field):
            create(num_envs=1, device="cpu", **opts)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_builtin_cuda_matches_cpu_and_defers_range_checks() -> None:
    create = load_backends()["builtin"].create
    cpu, gpu = create(4, "cpu"), create(4, "cuda", check_every=1000)
    fc, ic = cpu.reset(3)
    fg, ig = gpu.reset(3)
    for t in range(20):
        a = torch.tensor([(t + e) % 5 for e in range(4)])
        fc, ic = cpu.step(a)
        fg, ig = gpu.step(a.cuda())
        assert fg.is_cuda and torch.equal(fc, fg.cpu())
        assert torch.equal(ic["player_x"], ig["player_x"].cpu())
    gpu.step(torch.full((4,), 9, device="cuda"))  # accepted now, refused at the next check
    with pytest.raises(BackendError, match="out of\\s+range|0..4"):
        gpu.save_state(0)
