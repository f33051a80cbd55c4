"""Frame datasets: collect -> write -> load is the identity, the split is by episode and disjoint, any
changed byte is caught naming the file, and `gate data collect` speaks the exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import torch
from click.testing import CliRunner

from shell.backends.base import (
    ActionCodec,
    BackendError,
    BackendUnavailable,
    FrameSpec,
    check_actions,
)
from shell.datasets import Dataset, collect, load_dataset, split_episodes, write_dataset
from shell.errors import BadInput
from shell.receipt import read_receipt
from shell.registry import BackendEntry
from tests.conftest import gate_cli

E, T, SEED = 2, 5, 7  # the compliance suite's batch and seed: the builtin's level bank is reused
runner = CliRunner()


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


@pytest.fixture(scope="module")
def shades() -> Dataset:
    return collect("builtin", E, T, policy="scripted", seed=SEED, render="shades")


def test_collect_shapes_truth_and_meta(shades: Dataset) -> None:
    ds = shades
    assert ds.frames.shape == (E, T + 1, 72, 80) and ds.frames.dtype == np.uint8
    assert ds.actions.shape == (E, T) and ds.actions.dtype == np.int64
    assert int(ds.actions.max()) < 5 and int(ds.actions.min()) >= 0
    for k, v in ds.truth.items():
        assert v.shape[:2] == (E, T + 1), k
    done = ds.truth["done"]
    assert done.dtype == bool and not done[:, 0].any()
    assert (ds.truth["t"][done] == 0).all()  # a done frame starts a fresh episode
    assert ds.meta["action_names"] == ["UP", "DOWN", "LEFT", "RIGHT", "JUMP"]
    assert ds.meta["game"] == "platformer" and ds.meta["policy_source"] == "backend"
    again = collect("builtin", E, T, policy="scripted", seed=SEED, render="shades")
    assert np.array_equal(again.frames, ds.frames) and np.array_equal(again.actions, ds.actions)


def test_write_load_identity_and_flipped_byte(shades: Dataset, tmp_path: Path) -> None:
    path = write_dataset(tmp_path / "ds", shades, {})
    got = load_dataset(path)
    assert np.array_equal(got.frames, shades.frames) and np.array_equal(got.actions, shades.actions)
    assert got.truth.keys() == shades.truth.keys()
    assert all(np.array_equal(got.truth[k], shades.truth[k]) for k in shades.truth)
    assert got.split == shades.split and got.meta == shades.meta
    assert orjson.loads((path / "split.json").read_bytes()) == shades.split
    frames = path / "frames.npy"
    raw = bytearray(frames.read_bytes())
    raw[-1] ^= 1  # one pixel, one bit
    frames.write_bytes(bytes(raw))
    with pytest.raises(BadInput, match="frames.npy"):
        load_dataset(path)
    frames.write_bytes(bytes(raw[:-1]))
    with pytest.raises(BadInput, match="frames.npy.*size"):
        load_dataset(path)


def test_split_is_by_episode_disjoint_and_seeded() -> None:
    s = split_episodes(50, 3, 0.2)
    assert len(s["heldout"]) == 10 and not set(s["train"]) & set(s["heldout"])
    assert sorted(s["train"] + s["heldout"]) == list(range(50))
    assert s == split_episodes(50, 3, 0.2) and s != split_episodes(50, 4, 0.2)
    assert all(len(split_episodes(2, k, 0.2)["heldout"]) == 1 for k in range(5))
    with pytest.raises(BadInput, match="heldout_fraction"):
        split_episodes(4, 0, 1.0)


def test_action_out_of_range_is_a_backend_error() -> None:
    from shell.registry import get_backend

    b = get_backend("builtin").create(num_envs=E, device="cpu", render="shades")
    b.reset(SEED)
    with pytest.raises(BackendError, match="0..4"):
        b.step([5] * E)
    with pytest.raises(BackendError, match="shape"):
        b.step([0] * (E + 1))


class Sticky:
    """A backend without policies of its own: collect must fall back to its sticky-random policy."""

    name = "sticky"

    def __init__(self, num_envs: int = 1, device: Any = "cpu") -> None:
        self.num_envs, self.device = num_envs, torch.device(device)
        self.codec = ActionCodec("sticky_v0", ("A", "B", "C", "D"))
        self.frame_spec = FrameSpec(4, 4, 3)

    def reset(self, seed: int | None = None) -> tuple[Any, dict[str, Any]]:
        return torch.zeros(self.num_envs, 4, 4, 3, dtype=torch.uint8), {}

    def step(self, actions: Any) -> tuple[Any, dict[str, Any]]:
        a = check_actions(actions, self.num_envs, self.codec.n, self.device)
        f = a.to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 4, 4, 3).clone()  # [N, 4, 4, 3]
        return f, {"done": a == 3, "a": a}

    def save_state(self, env: int) -> bytes:
        return b""

    def load_state(self, env: int, state: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def test_fallback_policy_is_sticky(monkeypatch: pytest.MonkeyPatch) -> None:
    import shell.registry

    entry = BackendEntry("sticky", "test", Sticky)
    monkeypatch.setattr(shell.registry, "get_backend", lambda name: entry)
    ds = collect("sticky", 8, 200, policy="scripted", seed=1)
    assert ds.meta["policy_source"].startswith("fallback")
    repeats = float((ds.actions[:, 1:] == ds.actions[:, :-1]).mean())
    assert 0.7 < repeats < 0.9  # 0.75 kept + 0.25 * 1/4 drawn again = 0.81
    assert np.array_equal(ds.truth["a"][:, 1:], ds.actions)  # truth t+1 is what action t did
    assert np.array_equal(ds.truth["done"][:, 1:], ds.actions == 3)
    rand = collect("sticky", 8, 200, policy="random", seed=1)
    assert float((rand.actions[:, 1:] == rand.actions[:, :-1]).mean()) < 0.4


def test_cli_collect_writes_a_dataset_run(project: Path) -> None:
    out = project / "data" / "plat"
    r = gate("data", "collect", "--backend", "builtin", "--game", "platformer",
             "--episodes", str(E), "--steps", "3", "--policy", "random", "--seed", str(SEED),
             "--opt", "render=shades", "--out", str(out), "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = orjson.loads(r.stdout)
    assert doc["dataset"] == str(out) and doc["gate"] == "data"
    ds = load_dataset(out)
    assert ds.frames.shape == (E, 4, 72, 80) and ds.meta["policy"] == "random"
    events = read_receipt(Path(doc["run_dir"]) / "receipt.jsonl")
    assert any(e["event"] == "artifact" and e["path"] == str(out) for e in events)
    again = gate("data", "collect", "--episodes", str(E), "--steps", "3", "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert load_dataset(out).meta["policy"] == "random"  # nothing overwritten


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--backend", "nope"], "unknown backend 'nope'"),
        (["--game", "nope", "--episodes", "1", "--steps", "1"], "unknown game 'nope'"),
        (["--policy", "clever"], "--policy"),
        (["--opt", "render"], "KEY=VALUE"),
    ],
)
def test_cli_bad_input_is_exit_2_one_line(project: Path, args: list[str], needle: str) -> None:
    r = gate("data", "collect", *args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.output


def test_cli_unavailable_backend_is_exit_3(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import shell.backends.ale as ale
    import shell.backends.gym as gym

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda n, *a: None if n in ("ale_py", "gymnasium") else real(n, *a),
    )
    assert "uv sync --extra ale" in (ale.ENTRY.available() or "")
    assert "uv sync --extra gym" in (gym.ENTRY.available() or "")
    doc = orjson.loads(gate("backends", "--json").stdout)
    why = {b["name"]: b["why_not"] for b in doc["backends"]}
    assert "ale-py is not installed" in why["ale"] and "gymnasium is not installed" in why["gym"]
    assert why["builtin"] is None
    r = gate("data", "collect", "--backend", "ale", "--episodes", "1", "--steps", "1")
    assert r.exit_code == 3 and len(r.stderr.strip().splitlines()) == 1 and "ale-py" in r.stderr
    with pytest.raises(BackendUnavailable, match="ale-py"):
        ale.AleBackend(1, "cpu")
