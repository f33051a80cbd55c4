"""The pose slot (core/models/poses.py), fitted on the built-in platformer's frames (core/models/posefit.py),
and `gate m4 pose`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load

from core.games import get_game
from core.games.platformer_art import PALETTE, PLAYER_RGB
from core.models.posefit import boxes, fit_dictionary, fit_solid, pose_loss, pose_samples
from core.models.poses import PoseConfig, PoseSlot
from core.models.predictor import PredictorConfig
from gates.common.clips import play
from tests.conftest import gate_cli, save_untrained_predictor


@pytest.fixture(scope="module")
def episodes():
    game = get_game("platformer")
    clip, _ = play(game, game.reset(0, 8, "cpu"), None, 60, 0)
    xy = torch.stack([clip.info["screen_x"], clip.info["screen_y"]], -1)
    return clip, boxes(xy, 16)


@pytest.fixture(scope="module")
def fitted(episodes):
    clip, box = episodes
    torch.manual_seed(0)
    slot = PoseSlot(PoseConfig())
    counts = fit_dictionary(slot, clip.frames[2:], box[2:])
    fit_solid(slot, clip.frames[2:], box[2:], clip.info["on_ground"][2:])
    return slot, counts


def _rgb(name_or_rgb) -> list[float]:
    rgb = dict(PALETTE)[name_or_rgb] if isinstance(name_or_rgb, str) else name_or_rgb
    return [c / 255 for c in rgb]


def test_the_dictionary_holds_the_games_sprites_found_by_the_shirt(fitted) -> None:
    slot, counts = fitted
    assert 6 <= int(slot.n_poses) <= 12 and len(counts) == int(slot.n_poses)  # 12 frames drawn
    assert bool((counts[:-1] >= counts[1:]).all())  # commonest first
    assert torch.allclose(slot.colours[slot.anchor], torch.tensor(_rgb(PLAYER_RGB)))
    solid = slot.solid[: int(slot.n_solid)]
    assert (solid - torch.tensor(_rgb("grass"))).abs().amax(1).min() < 1e-6  # it stands on grass
    for behind in ("sky0", "sky3", "hill_far", "hill_near"):  # what it passes in front of
        assert (solid - torch.tensor(_rgb(behind))).abs().amax(1).min() > 0.05


def test_locate_finds_the_box_and_pose_the_game_drew(episodes, fitted) -> None:
    clip, box = episodes
    slot, _ = fitted
    frames = clip.frames[0, :40].permute(0, 3, 1, 2).float() / 255
    pose, at, found = slot.locate(frames)
    inside = (box[0, :40, 0] >= 0) & (box[0, :40, 0] <= 240)
    assert bool(found.all()) and int(inside.sum()) >= 30
    assert torch.equal(at[inside], box[0, :40][inside])
    drawn = slot.paste(frames, at, pose)  # the entry found, drawn where it was: the same frame
    assert torch.equal(drawn[inside], frames[inside])


def test_the_slot_learns_the_next_pose_and_the_fall_and_redraws_the_player(
    episodes, fitted
) -> None:
    clip, box = episodes
    slot, _ = fitted
    gen = torch.Generator().manual_seed(0)
    rows = pose_samples(slot, clip.frames[2:], clip.actions[2:], clip.done[2:], box[2:], gen)
    held = pose_samples(slot, clip.frames[:2], clip.actions[:2], clip.done[:2], box[:2], gen)
    opt = torch.optim.AdamW(slot.parameters(), lr=3e-3)
    for _ in range(300):  # full batch: a few hundred rows
        loss = pose_loss(slot, rows)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pose_acc = (slot.logits(held["pose_x"]).argmax(1) == held["pose"]).float().mean()
        dy = slot.move_net(rows["move_x"]).argmax(1)
    commonest = torch.bincount(held["pose"]).max() / len(held["pose"])
    assert pose_acc > commonest + 0.2  # it reads the action and the moves, not the prior
    at = slot.cfg.poses + slot.cfg.n_actions + 1  # the last move's dy / 4 among move_features
    last = (rows["move_x"][:, at] * 4 + slot.cfg.max_dy).round().long()
    # the moves are learnt (on 8 short episodes they do not yet generalise better than the last
    # move again: `gate m4 pose` reports both on held-out episodes at scale, 0.61 against 0.51)
    assert (dy == rows["dy"]).float().mean() > (last == rows["dy"]).float().mean() + 0.1
    # a "world model" that left the frame as it was: the slot moves the player and may repaint it,
    # and outside the player's band nothing changes
    frames = clip.frames[0].permute(0, 3, 1, 2).float() / 255  # [T+1, 3, H, W]
    ctx = frames[:3][None]  # [1, 3, 3, H, W]
    out = slot.apply(ctx, torch.tensor([4]), frames[2:3].clone())
    _, at, _ = slot.locate(frames[2:3])
    rows_changed = (out != frames[2:3]).any(1).any(2)[0].nonzero().flatten()  # [R]
    if rows_changed.numel():
        assert rows_changed.min() >= at[0, 1] - 8 - slot.cfg.margin
        assert rows_changed.max() < at[0, 1] + 16 + 8 + slot.cfg.margin


def test_choose_samples_the_move_at_the_noises_quantile() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.45, 0.05]]))  # the tail (< MIN_P) is never drawn
    lo, hi = torch.tensor([[-3.0]]), torch.tensor([[3.0]])
    assert PoseSlot.choose(logits, None).item() == 0
    assert PoseSlot.choose(logits, lo).item() == 0
    assert PoseSlot.choose(logits, hi).item() == 1


def test_gate_m4_pose_puts_a_fitted_slot_on_a_predictor(project: Path) -> None:
    init = save_untrained_predictor(project / "init", PredictorConfig(hard=True))
    args = ["m4", "pose", "--init", str(init), "--steps", "5", "--episodes", "3"]
    args += ["--episode-steps", "30", "--threads", "1", "--device", "cpu", "--json"]
    r = CliRunner().invoke(gate_cli(), args)
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.stdout)
    ckpt = Path(out["artifacts"][0])
    meta = orjson.loads((ckpt / "meta.json").read_bytes())
    assert meta["model"]["config"]["poses"] == 16
    tensors = load((ckpt / "model.safetensors").read_bytes())
    assert int(tensors["model.pose.n_poses"]) >= 3
    assert tensors["model.head.weight"].abs().sum() == 0  # the predictor's own weights unchanged
    assert {m["name"] for m in out["metrics"]} >= {"pose_accuracy", "move_accuracy"}


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        (["--poses", "0"], "--poses"),
        (["--init", "nowhere"], "nowhere"),
        (["--seed", "1000003"], "seed"),
    ],
)
def test_gate_m4_pose_refuses_bad_input(project: Path, extra: list[str], names: str) -> None:
    init = save_untrained_predictor(project / "init", PredictorConfig(hard=True))
    r = CliRunner().invoke(gate_cli(), ["m4", "pose", "--init", str(init), *extra])
    assert r.exit_code == 2, r.output
    assert names in r.output and "Traceback" not in r.output
