"""Gate m2: the predictor's contract (an untrained one is exactly copy-last-frame), the best-of-K loss,
RNG-branched stochastic contexts, a tiny training run, and the negative control: the copy-last-frame
predictor fails m2 (exit 1)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import torch
from click.testing import CliRunner

from core.models.bestofk import best_of_k_loss
from core.models.predictor import FramePredictor, PredictorConfig
from tests.conftest import gate_cli

runner = CliRunner()
TINY_EVAL = [
    "--set", "eval_episodes=2", "--set", "eval_steps=13", "--set", "window_stride=4",
    "--set", "rollout_starts=[2]", "--set", "diverse_envs=2", "--set", "diverse_copies=4",
    "--set", "diverse_every=12", "--set", "device_threads=1", "--device", "cpu",
]  # fmt: skip
PROBE = [
    "--set",
    "eval_seed=5",
    "--set",
    "eval_steps=24",
    "--set",
    "diverse_envs=4",
    "--set",
    "diverse_copies=16",
    "--set",
    "diverse_every=3",
]  # fmt: skip  seed 5's first 4 levels: 4 stochastic contexts in 24 steps (few: the criterion fails)


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def test_untrained_predictor_is_copy_last_and_the_loss_trains() -> None:
    torch.manual_seed(0)
    net = FramePredictor(PredictorConfig(n_actions=3, width1=8, width2=8, width3=8))
    ctx = torch.rand(2, 3, 3, 32, 64)
    a = torch.tensor([0, 2])
    y = net(ctx, a, torch.randn(2, net.cfg.noise_dim))
    assert torch.equal(y, ctx[:, -1])
    loss = best_of_k_loss(net, ctx, a, torch.rand(2, 3, 32, 64), k=2)
    loss.backward()
    assert torch.isfinite(loss) and net.head.weight.grad.abs().sum() > 0


def test_branched_contexts_have_different_futures() -> None:
    from gates.m2.diverse import stochastic_contexts

    sc = stochastic_contexts("platformer", 5, 4, 16, (3, 6, 9, 12, 15, 18, 21, 24))
    assert sc.tried == 4 * 8 and sc.frames.shape[0] > 0  # (the eval seed's first 4 levels: none)
    for f in sc.futures:  # every kept context: its futures are not all the same frame
        assert (f != f[:1]).any()
    assert sc.frames.shape[1:] == (3, 256, 256, 3) and sc.actions.shape[0] == sc.frames.shape[0]


def test_train_smoke_and_copy_last_fails_m2(project: Path) -> None:
    base = ["m2", "train", "--episodes", "2", "--episode-steps", "4", "--batch", "1"]
    base += ["--threads", "1", "--device", "cpu", "--json", "--branch-envs", "2"]
    r = gate(*base, "--steps", "2")
    assert r.exit_code == 0, r.output
    ckpt = Path(orjson.loads(r.stdout)["artifacts"][0])
    meta = orjson.loads((ckpt / "meta.json").read_bytes())
    assert meta["model"]["arch"] == "frame_predictor" and meta["training"]["steps"] == 2
    assert meta["model"]["config"]["n_actions"] == 5
    copy_last = gate(*base, "--steps", "0")  # zero steps: the head is still zero = copy-last-frame
    path = orjson.loads(copy_last.stdout)["artifacts"][0]
    res = gate("m2", "--set", f"model={path}", *TINY_EVAL, *PROBE, "--json")
    assert res.exit_code == 1, res.output
    doc = orjson.loads(res.stdout)
    m = {x["name"]: x["value"] for x in doc["metrics"]}
    assert m["mse"] == m["baseline_mse"]  # it is copy-last, exactly
    failed = {c["name"] for c in doc["criteria"] if not c["passed"]}
    # It moves nothing, its samples are one frame, and it is no better than itself; the absolute
    # bounds on error and stability it meets (copy-last meets them: beats_baseline is what stops it).
    assert failed == {"trajectory_accuracy", "stochastic_contexts", "diverse", "beats_baseline"}
    assert m["trajectory_accuracy"] == 0 and m["moving_objects"] > 0
    assert m["diverse"] == 0 and m["stochastic_contexts"] > 0
    assert m["beats_mse"] == m["beats_trajectory"] == m["beats_diverse"] == 0
    run_dir = Path(doc["run_dir"])
    for name in ("m2_prediction.png", "m2_rollout_mse.png", "m2_diversity.png"):
        assert (run_dir / name).is_file(), name
    assert (Path(doc["run_dir"]) / "bundle" / "repro.sh").is_file()


def test_an_unknown_game_is_exit_2(project: Path) -> None:
    r = gate(
        "m2", "train", "--episodes", "2", "--episode-steps", "4", "--steps", "0", "--json",
        "--branch-envs", "0",
    )  # fmt: skip
    ckpt = Path(orjson.loads(r.stdout)["artifacts"][0])
    bad = gate("m2", "--set", f"model={ckpt}", "--set", "game=nosuchgame", *TINY_EVAL)
    assert bad.exit_code == 2, bad.output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    from core.models.autoencoder import PatchAutoencoder

    torch.manual_seed(0)
    net = FramePredictor(PredictorConfig(width1=8, width2=8, width3=8)).eval()
    with torch.no_grad():
        for p in net.head.parameters():
            p.normal_(0, 0.1)  # not copy-last: exercise the shifts
    ctx, a, z = torch.rand(2, 3, 3, 32, 64), torch.tensor([0, 2]), torch.randn(2, 8)
    ae = PatchAutoencoder().eval()
    x = torch.rand(2, 3, 32, 64)
    with torch.no_grad():
        want, want_ae = net(ctx, a, z), ae.roundtrip(x)
        got = net.cuda()(ctx.cuda(), a.cuda(), z.cuda()).cpu()
        got_ae = ae.cuda().roundtrip(x.cuda()).cpu()
    assert torch.allclose(got, want, atol=1e-4) and torch.allclose(got_ae, want_ae, atol=1e-3)
