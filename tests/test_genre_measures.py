"""Gate m9's genre measures (core/games/measures.py) on the games' own clips (they pass) and on
copy-last clips, every frame the context frame again (they fail)."""

from __future__ import annotations

import pytest
import torch

from core.games import get_game, platformer, puzzle, rpg
from core.games.measures import logic_consistency, physics_accuracy, state_management
from core.games.rpg_decode import FIELDS


def _clip(game_id: str, n: int, steps: int, seed: int = 0):
    """frames uint8 [N, T+1, 256, 256, 3], actions [N, T], infos (list of T+1 dicts) under the game's
    scripted policy mixed with random moves."""
    g = get_game(game_id)
    s = g.reset(seed, n, "cpu")
    info = {"platformer": platformer, "puzzle": puzzle, "rpg": rpg}[game_id].info(s)  # start truth
    frames, actions, infos = [g.render_rgb(s)], [], [info]
    for i in range(steps):
        a = g.random_policy(s, i) if i % 4 == 3 else g.scripted_policy(s, 1)
        s, info = g.step(s, a)
        frames.append(g.render_rgb(s))
        actions.append(a)
        infos.append(info)
    return torch.stack(frames, 1), torch.stack(actions, 1), infos


def _copy_last(frames: torch.Tensor) -> torch.Tensor:
    return frames[:, :1].expand_as(frames).contiguous()


def _no_reset(infos) -> torch.Tensor:
    """bool [N, T]: step t+1 is not the start of a fresh episode (transition t -> t+1 within one)."""
    done = torch.stack([i["done"] for i in infos], 1)  # [N, T+1]
    return ~done[:, 1:]


def test_physics_accuracy_passes_the_game_and_fails_copy_last():
    frames, _, infos = _clip("platformer", 2, 16)
    xy = torch.stack(
        [torch.stack([i["screen_x"], i["screen_y"]], 1) for i in infos], 1
    )  # [N, T+1, 2]
    share, ok = physics_accuracy(frames, xy)
    assert ok.shape == (2, 17) and share == 1.0
    share_cl, _ = physics_accuracy(_copy_last(frames), xy)
    assert share_cl < 0.9, share_cl
    moved = xy.clone()
    moved[:, 4:, 1] += 3.0  # a player 3 px off where the rules put it
    assert physics_accuracy(frames, moved)[0] < 0.9


def test_logic_consistency_passes_the_game_and_fails_copy_last():
    frames, actions, infos = _clip("puzzle", 4, 20)
    valid = _no_reset(infos)
    share, ok = logic_consistency(frames, actions, valid)
    assert ok.shape == (4, 20) and share == 1.0
    share_cl, _ = logic_consistency(_copy_last(frames), actions, valid)
    assert share_cl < 0.95, share_cl
    wrong = frames.clone()
    wrong[:, 5:] = wrong[:, 5:].roll(16, dims=3)  # the whole map shifted one cell: walls move
    assert logic_consistency(wrong, actions, valid)[1][:, 4].sum() == 0


def test_state_management_passes_the_game_and_fails_copy_last():
    frames, _, infos = _clip("rpg", 4, 20, seed=3)
    truth = {f: torch.stack([i[f] for i in infos], 1) for f in FIELDS}  # [N, T+1] each
    share, ok = state_management(frames, truth)
    assert ok.shape == (4, 21) and share == 1.0
    share_cl, _ = state_management(_copy_last(frames), truth)
    assert share_cl < 0.95, share_cl
    off = dict(truth, gold=truth["gold"] + 5)  # a HUD that misses one pile of gold
    assert state_management(frames, off)[0] == 0.0


def test_measures_refuse_frames_of_the_wrong_kind():
    with pytest.raises(ValueError, match="frames"):
        physics_accuracy(torch.zeros(2, 3, 256, 256), torch.zeros(2, 3, 2))
