"""The built-in RPG (core/games/rpg*.py): shapes, determinism, batch independence, rules (walls, locked
doors, items once, chests, healer, spikes), HUD persistence across rooms, renders, and the HUD decoder
gate m9 will use (exact on true frames, wrong on wrong ones)."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import pytest
import torch

from core.games import rpg as R
from core.games.rpg_art import GOLD, KEY, WALL
from core.games.rpg_decode import decode_frame, hud_matches
from core.games.rpg_world import PARAMS, ROOM_C, ROOM_CELLS, plan_world
from core.pixels import screen_to_obs

_BANKS: dict[int, object] = {}
UP, DOWN, LEFT, RIGHT, USE = range(5)


def _reset(seed: int, n: int) -> R.State:
    s = R.reset(seed, n, bank=_BANKS.get(seed))
    _BANKS[seed] = s.bank
    return s


def _run(seed: int, n: int, steps: int):
    s = _reset(seed, n)
    infos = []
    for i in range(steps):
        pol = R.random_policy if i % 4 == 0 else R.scripted_policy
        s, info = R.step(s, pol(s, 3))
        infos.append(info)
    return s, infos


def _tensors(s: R.State) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(s).items() if isinstance(v, torch.Tensor)}


def _at(s: R.State, cell: int, facing: int = DOWN) -> R.State:
    """Every env moved to flat cell `cell` of its world (same for all envs: one world)."""
    room, rest = divmod(cell, ROOM_CELLS)
    z = torch.zeros_like(s.row)
    return replace(
        s, room=z + room, row=z + rest // ROOM_C, col=z + rest % ROOM_C, facing=z + facing
    )


def _one_world(n: int = 2, world: int = 0) -> R.State:
    s = _reset(0, n)
    return replace(s, world=torch.full_like(s.world, world))


def test_shapes_dtypes_and_info_keys():
    s = _reset(0, 3)
    s2, info = R.step(s, torch.tensor([0, 3, 4]))
    for name, v in _tensors(s2).items():
        assert v.shape == getattr(s, name).shape and v.dtype == getattr(s, name).dtype, name
    assert set(info) == set(R.INFO_KEYS) and info["collected"].shape == (3, PARAMS.n_items)
    assert R.render_rgb(s2).shape == (3, 256, 256, 3)
    assert R.render_screen(s2).shape == (3, 144, 160, 3)
    sh = R.render_shades(s2)
    assert sh.shape == (3, 72, 80) and sh.dtype == torch.uint8 and int(sh.max()) <= 3


def test_deterministic_and_batch_independent():
    a, ia = _run(1, 3, 80)
    b, ib = _run(1, 5, 80)
    for name, v in _tensors(a).items():
        assert torch.equal(v, getattr(b, name)[:3]), name
    assert all(torch.equal(x["gold"], y["gold"][:3]) for x, y in zip(ia, ib, strict=True))
    assert torch.equal(R.reset(1, 3).bank.base, a.bank.base)  # the worlds rebuilt from the seed
    assert not torch.equal(_reset(2, 3).bank.base, a.bank.base)
    assert sum(int(i["room_changed"].sum()) for i in ia) > 0  # the policy does explore


def test_walls_stop_and_locked_doors_need_keys():
    s = _one_world()
    lock = int(s.bank.lock_cell[0, 0, 0])  # the DOWN or RIGHT doorway of some room
    r = (lock % ROOM_CELLS) // ROOM_C
    toward, inner = (DOWN, lock - ROOM_C) if r == 12 else (RIGHT, lock - 1)
    s = _at(s, inner, facing=UP)
    s1, info = R.step(s, torch.full((2,), toward))
    assert not info["moved"].any() and bool((s1.facing == toward).all())  # locked: only turns
    s = replace(s, keys=torch.tensor([0, 1]))
    s2, info = R.step(s, torch.full((2,), toward))
    assert info["moved"].tolist() == [False, True] and s2.keys.tolist() == [0, 0]
    assert s2.unlocked[1, 0] and not s2.unlocked[0, 0]
    s3, info = R.step(s2, torch.full((2,), toward))  # env 1 walks on into the next room
    assert bool(info["room_changed"][1]) and int(s3.room[1]) != int(s.room[1])
    s4, info = R.step(s3, torch.full((2,), toward ^ 1))  # and back: open from both sides
    assert bool(info["room_changed"][1]) and int(s4.room[1]) == int(s.room[1])
    wall = int(s.room[0]) * ROOM_CELLS + 0 * ROOM_C + 1  # top-left corner area: walls
    s5, info = R.step(_at(s, wall + ROOM_C), torch.full((2,), UP))
    assert int(s.bank.base[0, wall]) == WALL and not info["moved"].any()


def test_items_are_picked_up_once_and_chests_open_once():
    s = _one_world(1)
    b = s.bank
    things = set(b.chest_cell[0].tolist()) | set(b.item_cell[0].tolist()) | {int(b.npc_cell[0])}
    k = next(k for k in range(PARAMS.n_items) if int(b.item_kind[0, k]) == GOLD
             and int(b.base[0, int(b.item_cell[0, k]) - 1]) == 0
             and int(b.item_cell[0, k]) - 1 not in things)  # fmt: skip
    item = int(b.item_cell[0, k])
    s = _at(s, item - 1, facing=RIGHT)  # a free floor cell left of a gold pile
    s1, info = R.step(s, torch.tensor([RIGHT]))
    assert bool(info["picked"][0]) and int(s1.gold) == PARAMS.gold_per_pile and s1.collected[0, k]
    s2, _ = R.step(s1, torch.tensor([LEFT]))
    s3, info = R.step(s2, torch.tensor([RIGHT]))
    assert not info["picked"].any() and int(s3.gold) == PARAMS.gold_per_pile
    chest = int(s.bank.chest_cell[0, 0])
    s = _at(s, chest - ROOM_C, facing=DOWN)  # chests stand on even rows: the cell above is free
    s1, info = R.step(s, torch.tensor([USE]))
    assert bool(info["opened_chest"][0]) and int(s1.gold) == PARAMS.chest_gold
    s2, info = R.step(s1, torch.tensor([USE]))
    assert not info["opened_chest"].any() and int(s2.gold) == PARAMS.chest_gold
    s3, info = R.step(s2, torch.tensor([DOWN]))  # solid: only turns
    assert not info["moved"].any()


def test_healer_potions_and_spikes_change_hp():
    s = _one_world(1)
    npc = int(s.bank.npc_cell[0])
    s = replace(_at(s, npc - ROOM_C, facing=DOWN), hp=torch.tensor([2]), potions=torch.tensor([1]))
    s1, info = R.step(s, torch.tensor([USE]))
    assert bool(info["talked"][0]) and int(s1.hp) == PARAMS.max_hp and int(s1.potions) == 1
    s2, info = R.step(replace(s, facing=torch.tensor([LEFT])), torch.tensor([USE]))  # nothing faced
    assert bool(info["drank"][0]) and int(s2.hp) == 2 + PARAMS.potion_hp and int(s2.potions) == 0
    base = s.bank.base[0]
    solid = set(s.bank.chest_cell[0].tolist()) | {npc}
    spike, d, off = next(
        (int(c), d, off)
        for c in (base == 2).nonzero()[:, 0]
        for d, off in ((RIGHT, -1), (LEFT, 1), (DOWN, -ROOM_C), (UP, ROOM_C))
        if int(base[int(c) + off]) == 0 and int(c) + off not in solid
    )  # spikes with a free floor cell beside them
    s3, info = R.step(_at(s, spike + off), torch.tensor([d]))
    assert bool(info["hurt"][0]) and int(s3.hp) == 1
    s4, info = R.step(s3, torch.tensor([d ^ 1]))  # off again: no damage
    assert not info["hurt"].any() and int(s4.hp) == 1
    s5, info = R.step(s4, torch.tensor([d]))  # back on: -1 again, then dead at 0
    assert bool(info["died"][0]) and int(s5.hp) == PARAMS.start_hp  # a fresh episode


def test_hud_persists_across_rooms_and_decodes_exactly():
    s = _reset(3, 6)
    changes = 0
    prev = R.info(s)
    for i in range(80):
        s, info = R.step(s, R.scripted_policy(s, 1) if i % 5 else R.random_policy(s, i))
        moved_room = info["room_changed"] & ~info["done"]
        for f in ("hp", "gold", "keys", "potions"):  # a doorway changes none of them
            assert torch.equal(info[f][moved_room], prev[f][moved_room]), f
        changes += int(moved_room.sum())
        if i % 8 == 0:
            d = decode_frame(R.render_rgb(s))
            assert hud_matches(d, info).all(), i
            assert torch.equal(d["visited"], info["visited"]) and torch.equal(
                d["facing"], info["facing"]
            )
        prev = info
    assert changes >= 5


def test_wrong_frames_do_not_match_the_truth():
    s = _reset(0, 4)
    s1 = replace(s, gold=s.gold + 37, hp=s.hp - 1, room=(s.room + 1) % 9)
    d = decode_frame(R.render_rgb(s1))
    assert d["ok"].all() and not hud_matches(d, R.info(s)).any()
    assert d["gold"].tolist() == [37] * 4
    frame = R.render_rgb(s)
    frame[:, 0:16, 128:176] = 0  # the gold digits blacked out
    assert not decode_frame(frame)["ok"].any()


def test_renders_agree_and_locate_player_is_exact():
    s, infos = _run(2, 5, 30)
    assert torch.equal(R.render_shades(s), screen_to_obs(R.render_screen(s)))
    loc = R.locate_player(R.render_rgb(s))
    assert torch.equal(loc, torch.stack([infos[-1]["screen_x"], infos[-1]["screen_y"]], 1))


def _reach(plan, through_locks: bool) -> set[int]:
    """Flat cells a walk from the start reaches (through locked doorways or not)."""
    solid = {c for c, b in enumerate(plan.base) if b == WALL} | set(plan.chests) | {plan.npc}
    locks = {c for pair in plan.locks for c in pair}
    start = PARAMS.start_room * ROOM_CELLS + PARAMS.start_cell[0] * ROOM_C + PARAMS.start_cell[1]
    seen, q = {start}, deque([start])
    while q:
        c = q.popleft()
        room, rest = divmod(c, ROOM_CELLS)
        r, col = divmod(rest, ROOM_C)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            nr, nc, nroom = r + dr, col + dc, room
            if not (0 <= nr < 13 and 0 <= nc < 16):  # through a doorway
                ry, rx = divmod(room, 3)
                ry, rx = ry + dr, rx + dc
                if not (0 <= ry < 3 and 0 <= rx < 3):
                    continue
                nroom, nr, nc = ry * 3 + rx, nr % 13, nc % 16
            n = nroom * ROOM_CELLS + nr * ROOM_C + nc
            if n not in seen and n not in solid and (through_locks or n not in locks):
                seen.add(n)
                q.append(n)
    return seen


def test_worlds_are_connected_and_keys_reachable_without_locks():
    for j in range(PARAMS.n_worlds):
        plan = plan_world(4, j)
        without, everything = _reach(plan, False), _reach(plan, True)
        assert all(c in without for c, kind in plan.items if kind == KEY), j
        assert all(c in everything for c, _ in plan.items), j
        assert len(everything) > len(without)  # the locks do shut something off
        for c in [*plan.chests, plan.npc]:  # something solid is usable from a free side
            assert any(c + o in everything for o in (-1, 1, -ROOM_C, ROOM_C)), j


def test_envs_can_be_taken_and_put_back():
    a, _ = _run(0, 5, 20)
    idx = torch.tensor([4, 0])
    part = R.take_envs(a, idx)
    assert part.n == 2 and torch.equal(part.collected, a.collected[idx]) and part.bank is a.bank
    acts = torch.tensor([4, 3, 1, 2, 0])
    s1, _ = R.step(part, acts[idx])
    s2, _ = R.step(a, acts)
    assert torch.equal(s1.row, s2.row[idx]) and torch.equal(s1.gold, s2.gold[idx])
    mixed = R.put_envs(s2, idx, part)
    assert torch.equal(mixed.row[idx], a.row[idx]) and torch.equal(mixed.row[1], s2.row[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    sc, sg = R.reset(9, 32, "cpu"), R.reset(9, 32, "cuda")
    for i in range(150):
        sc, _ = R.step(sc, R.scripted_policy(sc, i) if i % 3 else R.random_policy(sc, i))
        sg, _ = R.step(sg, R.scripted_policy(sg, i) if i % 3 else R.random_policy(sg, i))
    for name, v in _tensors(sc).items():
        assert torch.equal(v, getattr(sg, name).cpu()), name
    assert torch.equal(R.render_rgb(sc), R.render_rgb(sg).cpu())
    assert torch.equal(R.render_shades(sc), R.render_shades(sg).cpu())
    assert hud_matches(decode_frame(R.render_rgb(sg)), R.info(sg)).all()
