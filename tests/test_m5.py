"""Gate m5's judge and its negative controls: the inverse-dynamics model reads the game's own clips; a
model that ignores its actions fails accuracy and controllability; `gate play` records a session that
`gate data import` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.games import get_game
from gates.common.clips import Clip, generate
from gates.m5 import spec
from gates.m5.run import _delta_psnr, held_clips, read_actions, train_idm

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = next(
    p
    for p in (ROOT / "artifacts/m4/predictor", ROOT / "artifacts/m2/predictor")
    if (p / "meta.json").is_file()
)  # the latest world model with a golden
EVAL = 1_000_003


@pytest.fixture(scope="module")
def idm_and_truth():
    torch.set_num_threads(1)
    game = get_game("platformer")
    train, _ = held_clips(game, spec.IDM_SEED, 96, 40, 24)
    idm = train_idm(train, 5, spec.IDM_SEED, steps=120)
    truth, starts = held_clips(game, EVAL, 32, 40, 6)
    return game, idm, truth, starts


def test_the_idm_reads_the_games_own_clips(idm_and_truth):
    _, idm, truth, _ = idm_and_truth
    acc = (read_actions(idm, truth.frames) == truth.actions[:, 0]).float().mean()
    assert acc >= 0.95  # 24 training states here; the gate's 200 reach its 0.99 (README)


def test_copy_last_reads_as_one_action(idm_and_truth):
    _, idm, truth, _ = idm_and_truth
    copy = truth.frames[:, :1].expand_as(truth.frames)
    acc = (read_actions(idm, copy) == truth.actions[:, 0]).float().mean()
    assert acc <= 0.4  # every action's clip looks the same: ~1/5 right


class ActionBlind:
    """A world model that always takes the same action, whatever it is given."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.context_frames, self.noise_dim, self.n_actions = (
            inner.context_frames, inner.noise_dim, inner.n_actions)  # fmt: skip

    def predict(self, context, actions, noise):
        return self.inner.predict(context, torch.full_like(actions, 3), noise)

    def rollout(self, context, actions, noise):
        return self.inner.rollout(context, torch.full_like(actions, 3), noise)


def test_an_action_blind_model_fails_accuracy_and_delta_psnr(idm_and_truth):
    from shell.builtin_models import load_predictor

    _, idm, truth, _ = idm_and_truth
    truth = Clip(truth.frames[:10], truth.actions[:10], truth.done[:10], {})  # 2 states x 5 actions
    blind = ActionBlind(load_predictor(GOLDEN, torch.device("cpu"), {}))
    acts = truth.actions
    z = torch.randn(
        acts.shape[0], spec.HOLD, blind.noise_dim, generator=torch.Generator().manual_seed(0)
    )
    ours = generate(blind, truth.frames[:, 0], acts, z, "cpu")
    acc = (read_actions(idm, ours) == acts[:, 0]).float().mean()
    assert acc < spec.ACCURACY
    rand = torch.randint(0, 5, acts.shape, generator=torch.Generator().manual_seed(1))
    ours_rand = generate(blind, truth.frames[:, 0], rand, z, "cpu")
    d = _delta_psnr(truth.frames, ours, ours_rand, truth.frames)
    assert d["delta_psnr"] < spec.DELTA_PSNR_DB  # the same frames either way: 0 dB


def test_play_records_a_session_that_data_import_reads(tmp_path, project):
    from typer.testing import CliRunner

    from shell import cli

    app = cli.build_app()
    rec = tmp_path / "session"
    r = CliRunner().invoke(app, ["play", "--keys", "RIGHT*3,J", "--record", str(rec), "--threads", "1",
                     "--model", str(GOLDEN)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in rec.glob("*.png")) == [f"{i:06d}.png" for i in range(5)]
    lines = [json.loads(x) for x in (rec / "actions.jsonl").read_text().splitlines()]
    assert [x["action"] for x in lines] == [3, 3, 3, 4]
    out = tmp_path / "ds"
    r = CliRunner().invoke(
        app, ["data", "import", str(rec), "--out", str(out), "--episode-steps", "2"]
    )
    assert r.exit_code == 0, r.output
