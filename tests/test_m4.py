"""Gate m4's measures on the game's own clips (which must pass) and on known-bad clips (which must fail
the named criterion): copy-last, a jittering model, one that ignores its noise."""

from __future__ import annotations

import pytest
import torch

from core.games import get_game
from gates.common.clips import held_actions, play, warm_starts
from gates.m4 import measure, spec
from gates.m4.run import coverage, pool

EVAL = 1_000_003


@pytest.fixture(scope="module")
def clips():
    torch.set_num_threads(1)
    game = get_game("platformer")
    state = warm_starts(game, EVAL, 12, 40)
    clip, _ = play(game, state, held_actions(12, spec.CLIP, EVAL))
    keep = ~clip.done.any(1)
    return clip.frames[keep][:8]


@pytest.fixture(scope="module")
def truth(clips):
    tr = measure.tracks(clips)
    b = measure.bounds(tr)
    v = measure.judge(tr, b)
    return tr, b, v, measure.summary(v, float(v["acc"].mean()))


def test_the_games_own_clips_pass_every_measure(truth):
    _, b, v, s = truth
    assert s["coherence"] == 1.0 and s["consistency"] == 1.0
    assert s["solid_overlap"] == 0.0 and s["floating"] == 0.0
    assert s["airborne_steps"] > 20  # the clips jump: gravity is measured on something
    assert 0.3 < s["gravity"] < 0.9  # px/frame^2: the game's 0.5 (0.375 held, 0.875 fast fall)
    assert b.step_px < 12  # no true step moves the player farther than a fall and a scroll


def test_copy_last_fails_gravity(clips, truth):
    *_, b, _, s = truth
    copy = clips[:, :1].expand_as(clips)
    c = measure.summary(measure.judge(measure.tracks(copy), b), s["gravity"])
    assert c["coherence"] == 1.0  # copying is coherent by construction...
    assert c["gravity_error"] >= spec_threshold("gravity_error")  # ...and has no physics


def test_a_jittering_model_fails_coherence(clips, truth):
    _, b, _, s = truth
    gen = torch.Generator().manual_seed(0)
    shifts = torch.randint(-3, 4, (clips.shape[0], clips.shape[1], 2), generator=gen)
    jit = torch.stack([torch.stack([f.roll((int(dy), int(dx)), (0, 1)) for f, (dy, dx) in zip(c, sh, strict=True)])
                       for c, sh in zip(clips, shifts, strict=True)])  # fmt: skip
    j = measure.summary(measure.judge(measure.tracks(jit), b), s["gravity"])
    assert j["coherence"] < spec_threshold("coherence")


def test_objects_that_pop_in_and_out_fail_consistency(clips, truth):
    _, b, _, s = truth
    purple = torch.tensor([132, 64, 180], dtype=torch.uint8)  # the enemy's colour
    once = clips.clone()
    once[:, 15:, 100:116, 120:136] = purple  # an enemy appears mid-screen at frame 15
    v = measure.judge(measure.tracks(once), b)
    assert not v["consistent"][:, 14].any() and v["consistent"][:, 15:].all()  # that step only
    blink = clips.clone()
    blink[:, 1::2, 100:116, 120:136] = purple  # one that blinks every other frame
    c = measure.summary(measure.judge(measure.tracks(blink), b), s["gravity"])
    assert c["consistency"] < spec_threshold("consistency")


def test_noise_blind_samples_cover_one_future_only():
    from core.games.platformer_state import take_envs
    from gates.m4.run import probe

    game = get_game("platformer")
    acts = held_actions(24, 12, EVAL)
    rep, done, differs = probe(game, warm_starts(game, EVAL, 24, 40), acts)
    picked = (~done & differs).nonzero().flatten()[:3].tolist()
    assert picked, "no start among 24 whose futures differ: the probe finds none"
    futures = []
    for c in picked:
        rows = torch.arange(c * spec.BRANCHES, (c + 1) * spec.BRANCHES)
        clip, _ = play(game, take_envs(rep, rows), acts[c : c + 1].expand(spec.BRANCHES, -1))
        futures.append(pool(clip.frames).unique(dim=0))  # the distinct-looking futures
    same = [f[:1].expand(spec.SAMPLES, -1, -1, -1, -1) for f in futures]  # one future, 4 times
    cov, n = coverage(same, futures)
    assert n >= 1 and cov <= 0.5
    spread = [f[torch.arange(spec.SAMPLES) % f.shape[0]] for f in futures]  # the futures themselves
    cov2, n2 = coverage(spread, futures)
    assert n2 == n and cov2 == 1.0


def spec_threshold(name: str) -> float:
    from gates.m4 import GATE

    return next(c.threshold for c in GATE.criteria if c.name == name)
