"""Gate m1: the autoencoder's shapes and budget, a tiny training run (and its resume), and the negative
controls: a randomly initialised autoencoder fails (exit 1), a tampered or mismatched checkpoint is
bad input (exit 2)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import torch
from click.testing import CliRunner

from core.models.autoencoder import AEConfig, PatchAutoencoder, latent_bytes
from tests.conftest import gate_cli

runner = CliRunner()
TINY_TRAIN = ["--episodes", "2", "--episode-steps", "3", "--batch", "2", "--crop", "16"]
TINY_EVAL = ["--set", "eval_episodes=2", "--set", "eval_steps=100", "--set", "eval_start=40"]
TINY_EVAL += ["--set", "eval_noop_max=4", "--set", "eval_stride=30"]
TINY_EVAL += ["--set", "timing_runs=1", "--set", "device_threads=1", "--device", "cpu"]


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def test_latent_is_under_a_tenth_of_the_frame() -> None:
    cfg = AEConfig()
    ae = PatchAutoencoder(cfg)
    x = torch.rand(2, 3, 64, 32)
    z = ae.encode(x)
    assert z.shape == (2, cfg.latent_channels, 8, 4)
    assert ae.decode(z).shape == x.shape
    assert ae.roundtrip(x).min() >= 0 and ae.roundtrip(x).max() <= 1
    assert latent_bytes(cfg, 256, 256) == 16_384 < 256 * 256 * 3 / 10


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One tiny `gate m1 train` (3 steps, then resumed to 5) in a scratch project root."""
    root = tmp_path_factory.mktemp("m1root")
    mp = pytest.MonkeyPatch()
    mp.setenv("GATE_ROOT", str(root))
    mp.delenv("GATE_STATE", raising=False)
    try:
        args = ["m1", "train", *TINY_TRAIN, "--threads", "1", "--device", "cpu", "--json"]
        r = gate(*args, "--steps", "3", "--checkpoint-every", "2")
        assert r.exit_code == 0, r.output
        first = orjson.loads(r.stdout)
        r2 = gate(*args, "--steps", "5", "--resume", first["run_id"])
        assert r2.exit_code == 0, r2.output
        assert "scheduled for 3 steps and this run for 5" in r2.stderr  # the LR rises again: said
        second = orjson.loads(r2.stdout)
    finally:
        mp.undo()
    return root, second["artifacts"][0]


def test_train_writes_a_resumable_safetensors_checkpoint(tiny_run, monkeypatch) -> None:
    root, ckpt = tiny_run
    meta = orjson.loads((Path(ckpt) / "meta.json").read_bytes())
    assert meta["model"]["arch"] == "patch_autoencoder"
    assert meta["model"]["config"] == AEConfig().to_dict()
    assert meta["training"]["steps"] == 5  # resumed from 3 and continued
    assert set(meta["files"]) == {"model.safetensors", "train_log.json"}
    assert (Path(ckpt) / "model.safetensors").read_bytes()[8:9] == b"{"  # safetensors header


def test_a_random_autoencoder_fails_m1(project: Path) -> None:
    r = gate("m1", "train", *TINY_TRAIN, "--steps", "0", "--threads", "1", "--json")
    assert r.exit_code == 0, r.output
    ckpt = orjson.loads(r.stdout)["artifacts"][0]
    res = gate("m1", "--set", f"model={ckpt}", *TINY_EVAL, "--json")
    assert res.exit_code == 1, res.output
    crit = {c["name"]: c for c in orjson.loads(res.stdout)["criteria"]}
    assert not crit["psnr"]["passed"] and not crit["beats_baseline"]["passed"]
    assert crit["latent_ratio"]["passed"]


def test_a_tampered_checkpoint_is_exit_2(tiny_run, monkeypatch, tmp_path: Path) -> None:
    import shutil

    root, ckpt = tiny_run
    monkeypatch.setenv("GATE_ROOT", str(root))
    bad = tmp_path / "autoencoder"
    shutil.copytree(ckpt, bad)
    w = bad / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the last weight
    w.write_bytes(bytes(data))
    r = gate("m1", "--set", f"model={bad}", *TINY_EVAL)
    assert r.exit_code == 2, r.output
    assert "model.safetensors" in r.stderr and r.stderr.strip().count("\n") == 0
    assert "Traceback" not in r.output


def test_an_other_architecture_is_exit_2(tiny_run, monkeypatch) -> None:
    root, ckpt = tiny_run
    monkeypatch.setenv("GATE_ROOT", str(root))
    other = orjson.dumps({**AEConfig().to_dict(), "width": 64}).decode()
    r = gate("m1", "--set", f"model={ckpt}", "--set", f"arch={other}", *TINY_EVAL)
    assert r.exit_code == 2 and "model.config" in r.stderr, r.output


def test_train_refuses_the_evaluation_seed(project: Path) -> None:
    r = gate("m1", "train", "--seed", "1000003", "--steps", "0")
    assert r.exit_code == 2 and "--seed 1000003" in r.stderr


def test_no_golden_is_exit_3(project: Path) -> None:
    r = gate("m1", "--set", "device_threads=1")
    assert r.exit_code == 3 and "gate m1 train" in r.stderr, r.output
