"""The built-in puzzle (core/games/puzzle*.py): shapes, determinism, rules, solvable levels, renders,
and the decoders gate m9 will use (exact on true frames, illegal transitions flagged)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.games import get_game
from core.games import puzzle as P
from core.games.puzzle_decode import decode_grid, legal_transition, same_grid, violations
from core.games.puzzle_rules import Grid, move, solved
from core.games.puzzle_world import BORDER_RGB, PARAMS, plan_level
from core.pixels import screen_to_obs

_BANKS: dict[int, object] = {}
UP, DOWN, LEFT, RIGHT, WAIT = range(5)


def _reset(seed: int, n: int) -> P.State:
    s = P.reset(seed, n, bank=_BANKS.get(seed))
    _BANKS[seed] = s.bank
    return s


def _run(seed: int, n: int, steps: int, mix: bool = True):
    s = _reset(seed, n)
    infos = []
    for i in range(steps):
        pol = P.random_policy if mix and i % 3 == 0 else P.scripted_policy
        s, info = P.step(s, pol(s, 5))
        infos.append(info)
    return s, infos


def _tensors(s: P.State) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(s).items() if isinstance(v, torch.Tensor)}


def _empty_room(n: int = 1) -> Grid:
    """A 16 x 16 map: walls round the edge and on row 0, the player at (8, 8), nothing else."""
    wall = torch.zeros(n, 16, 16, dtype=torch.bool)
    wall[:, :2] = wall[:, -1] = wall[:, :, 0] = wall[:, :, -1] = True
    z = torch.zeros_like(wall)
    e = torch.full((n,), 8, dtype=torch.int64)
    return Grid(wall, z.clone(), z.clone(), z.clone(), z.clone(), e, e.clone(), e * 0)


def _with(g: Grid, field: str, cells: list[tuple[int, int]]) -> Grid:
    m = getattr(g, field).clone()
    for r, c in cells:
        m[:, r, c] = True
    return replace(g, **{field: m})


def test_shapes_dtypes_and_info_keys():
    s = _reset(0, 3)
    s2, info = P.step(s, torch.tensor([0, 3, 4]))
    for name, v in _tensors(s2).items():
        assert v.shape == getattr(s, name).shape and v.dtype == getattr(s, name).dtype, name
    assert set(info) == set(P.INFO_KEYS)
    assert info["boxes"].shape == (3, 16, 16) and info["done"].dtype == torch.bool
    assert P.render_rgb(s2).shape == (3, 256, 256, 3)
    assert P.render_screen(s2).shape == (3, 144, 160, 3)
    sh = P.render_shades(s2)
    assert sh.shape == (3, 72, 80) and sh.dtype == torch.uint8 and int(sh.max()) <= 3


def test_deterministic_and_batch_independent():
    a, ia = _run(1, 3, 60)
    b, ib = _run(1, 6, 60)
    for name, v in _tensors(a).items():
        assert torch.equal(v, getattr(b, name)[:3]), name
    assert all(torch.equal(x["boxes"], y["boxes"][:3]) for x, y in zip(ia, ib, strict=True))
    fresh = P.reset(1, 3)  # the bank rebuilt from the seed gives the same levels
    assert torch.equal(fresh.bank.wall, a.bank.wall) and torch.equal(
        fresh.boxes, _reset(1, 3).boxes
    )
    c, _ = _run(2, 3, 60)
    assert not torch.equal(c.bank.wall, a.bank.wall)


def test_every_level_is_solved_by_its_stored_solution():
    s = _reset(3, 1)
    b, n = s.bank, PARAMS.n_levels
    lv = torch.arange(n)
    g = Grid(b.wall, b.target, b.boxes, b.keys, b.doors, b.start[:, 0], b.start[:, 1], lv * 0)
    assert not solved(g).any() and bool((b.solution_len < PARAMS.max_t).all())
    for t in range(int(b.solution_len.max())):
        g, _ = move(g, b.solution[:, t])  # padded with WAIT past each solution's end
        assert not bool((solved(g) & (t + 1 < b.solution_len)).any())  # solved at its last move
    assert bool(solved(g).all())
    assert int(b.doors.flatten(1).sum(1).min()) >= 1  # every level has a locked door
    assert not g.doors.any() and not g.keys.any()  # ... and its solution opens them all


def test_levels_start_unsolved_with_keys_for_every_door():
    for j in range(8):
        plan = plan_level(5, j)
        assert len(set(plan.boxes) - set(plan.targets)) >= 2
        assert len(plan.keys) == len(plan.doors) and len(plan.boxes) == PARAMS.n_boxes
        assert not set(plan.keys) & set(plan.doors) and plan.start not in plan.boxes


def test_boxes_stop_at_walls_and_other_boxes():
    g = _with(_with(_empty_room(), "boxes", [(8, 9), (7, 8)]), "wall", [(8, 10)])
    g2, f = move(g, torch.tensor([RIGHT]))  # box against a wall: nothing moves
    assert same_grid(g, g2).all() and not f["moved"].any()
    g = _with(g, "boxes", [(6, 8)])  # two boxes in a row upward: stuck
    assert same_grid(g, move(g, torch.tensor([UP]))[0]).all()
    g3, f = move(g, torch.tensor([LEFT]))  # free: the player walks
    assert f["moved"].all() and int(g3.col) == 7 and torch.equal(g3.boxes, g.boxes)
    g4, f = move(_with(_empty_room(), "boxes", [(8, 9)]), torch.tensor([RIGHT]))  # a push
    assert f["pushed"].all() and bool(g4.boxes[0, 8, 10]) and int(g4.boxes.sum()) == 1


def test_doors_need_keys_and_keys_are_used_up():
    g = _with(_with(_empty_room(), "doors", [(8, 9)]), "keys", [(8, 7)])
    g1, f = move(g, torch.tensor([RIGHT]))
    assert not f["moved"].any() and same_grid(g, g1).all()  # locked, no key
    g2, f = move(g, torch.tensor([LEFT]))  # pick the key up
    assert f["picked"].all() and int(g2.held) == 1 and not g2.keys.any()
    g3, _ = move(g2, torch.tensor([RIGHT]))
    g4, f = move(g3, torch.tensor([RIGHT]))  # into the door: it opens, the key is spent
    assert f["unlocked"].all() and int(g4.held) == 0 and not g4.doors.any() and int(g4.col) == 9
    g5 = _with(_with(replace(g3, doors=torch.zeros_like(g3.doors)), "boxes", [(8, 9)]), "doors",
               [(8, 10)])  # fmt: skip
    assert not move(g5, torch.tensor([RIGHT]))[1]["moved"].any()  # no box into a door, key or not
    g6 = _with(replace(g5, doors=torch.zeros_like(g5.doors)), "keys", [(8, 10)])
    assert not move(g6, torch.tensor([RIGHT]))[1]["moved"].any()  # nor onto a key


def test_wait_changes_nothing_but_time():
    s = _reset(0, 4)
    s2, info = P.step(s, torch.full((4,), WAIT))
    assert not info["moved"].any() and torch.equal(s2.boxes, s.boxes) and bool((s2.t == 1).all())
    assert torch.equal(P.render_rgb(s2), P.render_rgb(s))


def test_renders_agree_and_locate_player_is_exact():
    s = _reset(2, 6)
    for i in range(40):
        s, info = P.step(s, P.random_policy(s, i) if i % 2 else P.scripted_policy(s))
    assert torch.equal(P.render_shades(s), screen_to_obs(P.render_screen(s)))
    out = P.render_shades(s, out=torch.empty(6, 72, 80, dtype=torch.uint8))
    assert torch.equal(out, screen_to_obs(P.render_screen(s)))
    loc = P.locate_player(P.render_rgb(s))
    assert torch.equal(loc, torch.stack([info["screen_x"], info["screen_y"]], 1))
    g = get_game("puzzle")
    assert g.player_rgb not in [tuple(px) for px in s.bank.atlas[[0, 1, 2, 3, 4, 7, 8, 9, 10]]
                                .reshape(-1, 3).tolist()]  # fmt: skip


def test_pre_shaded_tiles_equal_the_pixel_pipeline_for_every_tile():
    from core.games import rpg_world
    from core.games.tiles import render_obs_tiles, render_screen_tiles

    g = torch.Generator().manual_seed(0)
    for bank, border in (
        (_reset(0, 1).bank, BORDER_RGB),
        (rpg_world.build_bank(0, "cpu"), (25, 25, 35)),
    ):
        t = bank.atlas.shape[0]
        codes = torch.randint(0, t, (6, 16, 16), generator=g)
        codes[0].view(-1)[:t] = torch.arange(t)  # every tile at least once
        screen = render_screen_tiles(codes, bank.atlas_half, border)
        assert torch.equal(render_obs_tiles(codes, bank.atlas_obs, border), screen_to_obs(screen))


def test_decoding_true_frames_gives_the_true_grid_and_legal_moves():
    s = _reset(4, 5)
    g0, ok0 = decode_grid(P.render_rgb(s))
    assert ok0.all() and same_grid(g0, P.grid(s)).all()
    legal = 0
    for i in range(24):
        a = P.random_policy(s, i) if i % 2 else P.scripted_policy(s)
        s, info = P.step(s, a)
        g1, ok1 = decode_grid(P.render_rgb(s))
        assert ok1.all() and same_grid(g1, P.grid(s)).all(), i
        keep = ~info["done"]
        assert legal_transition(g0, g1, a)[keep].all()
        if i % 4 == 0:  # the action unknown: some action explains it
            assert legal_transition(g0, g1)[keep].all()
        assert not any(v[keep].any() for v in violations(g0, g1).values())
        legal += int(keep.sum())
        g0 = g1
    assert legal > 100


def test_illegal_transitions_are_flagged():
    g = _with(_with(_empty_room(4), "boxes", [(5, 5)]), "target", [(3, 3)])
    teleport = _with(replace(g, boxes=torch.zeros_like(g.boxes)), "boxes", [(10, 12)])
    into_wall = _with(replace(g, boxes=torch.zeros_like(g.boxes)), "boxes", [(5, 0)])
    extra = _with(g, "boxes", [(12, 12)])
    jump = replace(g, row=g.row - 3)
    for bad, flag in [(teleport, "boxes_moved_too_far"), (into_wall, "box_in_wall"),
                      (extra, "box_count_changed"), (jump, "player_jumped")]:  # fmt: skip
        assert not legal_transition(g, bad).any(), flag
        assert violations(g, bad)[flag].all(), flag
    assert legal_transition(g, g).all()  # WAIT (or walking into nothing) is legal
    assert not legal_transition(g, move(g, torch.full((4,), UP))[0], torch.full((4,), DOWN)).any()
    frame = P.render_rgb(_reset(0, 1))
    frame[:, 100:140, 100:140] = 255  # a smear no tile explains
    assert not decode_grid(frame)[1].any()


def test_envs_can_be_taken_and_put_back():
    a, _ = _run(0, 5, 20)
    idx = torch.tensor([3, 1])
    part = P.take_envs(a, idx)
    assert part.n == 2 and torch.equal(part.boxes, a.boxes[idx]) and part.bank is a.bank
    b, _ = _run(0, 5, 7)
    mixed = P.put_envs(b, idx, part)
    assert torch.equal(mixed.row[idx], a.row[idx]) and torch.equal(mixed.boxes[0], b.boxes[0])
    acts = torch.tensor([0, 3, 1, 2, 4])
    s1, _ = P.step(part, acts[idx])
    s2, _ = P.step(a, acts)
    assert torch.equal(s1.boxes, s2.boxes[idx]) and torch.equal(s1.col, s2.col[idx])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    sc, sg = P.reset(9, 32, "cpu"), P.reset(9, 32, "cuda")
    for i in range(100):
        sc, _ = P.step(sc, P.scripted_policy(sc, i) if i % 3 else P.random_policy(sc, i))
        sg, _ = P.step(sg, P.scripted_policy(sg, i) if i % 3 else P.random_policy(sg, i))
    for name, v in _tensors(sc).items():
        assert torch.equal(v, getattr(sg, name).cpu()), name
    assert torch.equal(P.render_rgb(sc), P.render_rgb(sg).cpu())
    assert torch.equal(P.render_shades(sc), P.render_shades(sg).cpu())
    g, _ = decode_grid(P.render_rgb(sg))
    assert same_grid(g, P.grid(sg)).all()
