"""Gate m7: the game's own routes, the panorama memory and its negative controls, on short routes.

The inner model of the memory tests is a stand-in with no memory of its own: each frame is its last
frame scrolled by the game's camera step, the columns that reveals painted one flat colour (it
"invents" what it has not seen). Bare, it loses the start view on the way back; inside the panorama
memory it shows it as it was; with the memory reset every few frames it loses it again. The measures
are the gate's own (gates.m7.run.judge)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from core.games import get_game
from core.models import panorama
from core.models.panorama import Panorama
from core.models.protocols import Stepped, as_recurrent, one_frame_context
from gates.common.clips import play
from gates.m7 import measures as ms
from gates.m7 import run, spec
from tests.conftest import gate_cli, save_untrained_predictor

SKY = 0.6  # the stand-in's invented columns


class Scroller:
    """A memoryless stand-in world model: the last frame scrolled by the game's camera step."""

    context_frames, noise_dim, n_actions = 1, 0, 5

    def __init__(self, cams: torch.Tensor) -> None:
        self.steps, self.t = cams[:, 1:] - cams[:, :-1], 0  # [R, T]

    def predict(self, context, actions, noise):
        last, out = context[:, -1], []
        for i, d in enumerate(self.steps[:, self.t].tolist()):
            y = torch.full_like(last[i], SKY)
            w = y.shape[-1]
            if d >= 0:
                y[..., : w - d] = last[i][..., d:]
            else:
                y[..., -d:] = last[i][..., : w + d]
            out.append(y)
        self.t += 1
        return torch.stack(out)


class Forgetful:
    """The panorama memory, wiped every `every` frames (only the current view kept)."""

    def __init__(self, inner: Panorama, every: int) -> None:
        self.inner, self.every, self.t = inner, every, 0
        self.context_frames, self.noise_dim, self.n_actions = 1, 0, 5

    def begin(self, context):
        return self.inner.begin(context)

    def step(self, state, actions, noise):
        self.t += 1
        if self.t % self.every == 0:
            state = self.inner.begin(state.context)
        return self.inner.step(state, actions, noise)


SHORT = {"CANDIDATES": 2, "ROUTES": 2, "FRAMES": 240, "OUT": 100, "BACK": 140, "AWAY_PX": 64,
         "FINAL": 10, "PAIRS": 6}  # fmt: skip


@pytest.fixture(scope="module")
def routes():
    """Two short out-and-back routes (the gate's spec shortened), played in the game once."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SHORT.items():
            mp.setattr(spec, k, v)
        game = get_game("platformer")
        start, acts, cams, pairs = run.routes(game, 1_000_003)
        truth = play(game, start, acts)[0].frames  # [R, T+1, H, W, 3]
        stats = torch.cat([ms.frame_stats(t) for t in truth])
        yield truth, acts, cams, pairs, stats.amin(0), stats.amax(0)


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch, routes):
    for k, v in SHORT.items():
        monkeypatch.setattr(spec, k, v)
    monkeypatch.setattr(
        panorama, "REACH", 512
    )  # these routes go ~160 px: a smaller canvas is as good
    return routes


def _frames(model, truth, acts) -> torch.Tensor:
    return run.generate(model, truth[:, 0], acts, torch.device("cpu"), 0, lambda n=1: None)


def _judge(frames, short) -> dict[str, float]:
    truth, _, cams, pairs, lo, hi = short
    return run.judge(frames, truth, cams, pairs, lo, hi)


def test_the_games_own_routes_score_perfectly(short) -> None:
    truth, acts, cams, *_ = short
    assert all(torch.equal(ms.camera_track(t), c) for t, c in zip(truth, cams, strict=True))
    r = _judge(truth, short)
    assert r["return_match"] == 1.0 and r["revisit_match"] == 1.0 and r["camera_track"] == 0
    assert r["no_teleports"] == 1.0 and r["final_in_range"] == 1.0
    copy = _judge(truth[:, :1].expand_as(truth), short)
    assert copy["camera_track"] > spec.CAMERA_PX  # copy-last never moves


def test_memory_keeps_the_start_view_and_its_absence_or_reset_loses_it(short) -> None:
    truth, acts, cams, *_ = short
    assert isinstance(as_recurrent(Scroller(cams)), Stepped)
    bare = _judge(_frames(Scroller(cams), truth, acts), short)
    kept = _judge(_frames(Panorama(Scroller(cams)), truth, acts), short)
    wiped = _judge(_frames(Forgetful(Panorama(Scroller(cams)), 20), truth, acts), short)
    assert kept["return_match"] >= spec.MATCH and kept["revisit_match"] >= spec.MATCH
    assert bare["return_match"] < spec.MATCH and bare["revisit_match"] < spec.MATCH
    assert wiped["return_match"] < spec.MATCH
    assert kept["camera_track"] == 0  # the stand-in scrolls as the game's camera does


def test_the_panorama_rolls_out_through_the_plain_protocol(short) -> None:
    truth, acts, cams, *_ = short
    ctx = one_frame_context(truth[:, 0].permute(0, 3, 1, 2).float() / 255, 1)
    out = Panorama(Scroller(cams)).rollout(ctx, acts[:, :5], torch.zeros(2, 5, 0))
    assert out.shape == (2, 5, 3, 256, 256)


def test_no_golden_is_exit_3(project: Path) -> None:
    r = CliRunner().invoke(gate_cli(), ["m7"])
    assert r.exit_code == 3 and "gate m4 train" in r.output


def test_an_untrained_predictor_fails_the_gate(
    project: Path, short, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole gate on an untrained, narrow predictor over one short route: exit 1 naming the
    criteria a model that never moves its camera fails, and the pictures written."""
    import orjson

    monkeypatch.setattr(spec, "ROUTES", 1)
    from core.models.predictor import PredictorConfig

    dest = save_untrained_predictor(
        project / "untrained", PredictorConfig(width1=8, width2=8, width3=8)
    )
    args = ["m7", "--model", str(dest), "-s", "device_threads=1", "--json"]
    r = CliRunner().invoke(gate_cli(), args)
    assert r.exit_code == 1, r.output
    out = orjson.loads(r.stdout)
    failed = {c["name"] for c in out["criteria"] if not c["passed"]}
    assert {"camera_track", "revisit_match", "return_match", "permanence"} <= failed
    for name in ("m7_drift.png", "m7_camera.png", "m7_revisit.png", "m7_route.gif"):
        assert (Path(out["run_dir"]) / name).is_file()
