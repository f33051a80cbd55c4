"""The built-in platformer (core/games): shapes, determinism, physics, episodes, renders, registry."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.games import GAMES, get_game
from core.games import platformer as P
from core.games.platformer_art import sprite_atlas
from core.games.platformer_world import PARAMS, patrol_bounds, plan_level
from core.pixels import screen_to_obs

SUB = PARAMS.sub
_BANKS: dict[int, object] = {}  # level banks by seed: building one is the slow part of a reset


def _reset(seed: int, n: int) -> P.State:
    s = P.reset(seed, n, bank=_BANKS.get(seed))
    _BANKS[seed] = s.bank
    return s


def _run(seed: int, n: int, steps: int, policy=P.scripted_policy, fresh: bool = False):
    """(final state, list of info dicts) of `steps` frames under `policy`."""
    s = P.reset(seed, n) if fresh else _reset(seed, n)
    infos = []
    for _ in range(steps):
        s, info = P.step(s, policy(s, 7))
        infos.append(info)
    return s, infos


def _tensors(s: P.State) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(s).items() if isinstance(v, torch.Tensor)}


def _ground_state(n: int = 4, seed: int = 0) -> P.State:
    """Envs standing still on the ground at the start of their level."""
    s = _reset(seed, n)
    assert bool(s.on_ground.all())
    return s


def test_shapes_and_dtypes():
    s = _reset(0, 3)
    e, k = PARAMS.n_enemies, PARAMS.n_items
    assert s.x.shape == (3,) and s.x.dtype == torch.int32
    assert s.ex.shape == (3, e) and s.collected.shape == (3, k) and s.collected.dtype == torch.bool
    s2, info = P.step(s, torch.tensor([0, 3, 4]))
    for name, v in _tensors(s2).items():  # a step keeps every field's shape and dtype
        assert v.shape == getattr(s, name).shape and v.dtype == getattr(s, name).dtype, name
    assert info["player_x"].shape == (3,) and info["enemy_x"].shape == (3, e)
    assert info["collected"].shape == (3, k) and info["done"].dtype == torch.bool
    assert set(info) == set(P.INFO_KEYS)
    rgb, scr, sh = P.render_rgb(s2), P.render_screen(s2), P.render_shades(s2)
    assert rgb.shape == (3, 256, 256, 3) and rgb.dtype == torch.uint8
    assert scr.shape == (3, 144, 160, 3) and scr.dtype == torch.uint8
    assert sh.shape == (3, 72, 80) and sh.dtype == torch.uint8 and int(sh.max()) <= 3


def test_deterministic_for_a_seed():
    a, ia = _run(1, 6, 100)
    b, ib = _run(1, 6, 100, fresh=True)  # the level bank rebuilt too
    for name, v in _tensors(a).items():
        assert torch.equal(v, getattr(b, name)), name
    assert all(torch.equal(x["player_x"], y["player_x"]) for x, y in zip(ia, ib, strict=True))
    assert torch.equal(P.render_rgb(a), P.render_rgb(b))
    c, _ = _run(0, 6, 100)
    assert not torch.equal(a.x, c.x)  # another seed, another game


def test_batch_independence():
    small, i_small = _run(0, 2, 120)
    big, i_big = _run(0, 7, 120)
    for name, v in _tensors(small).items():
        assert torch.equal(v, getattr(big, name)[:2]), name
    for x, y in zip(i_small, i_big, strict=True):
        assert torch.equal(x["player_x"], y["player_x"][:2]) and torch.equal(
            x["done"], y["done"][:2]
        )
    assert torch.equal(P.render_shades(small), P.render_shades(big)[:2])


def test_envs_can_be_taken_and_put_back():
    a, _ = _run(0, 5, 40)
    b, _ = _run(1, 5, 40)  # another bank: fine, only the batched fields move
    idx = torch.tensor([3, 1])
    part = P.take_envs(a, idx)
    assert part.n == 2 and torch.equal(part.x, a.x[idx]) and part.bank is a.bank
    mixed = P.put_envs(b, idx, part)
    assert torch.equal(mixed.x[idx], a.x[idx]) and torch.equal(mixed.x[0], b.x[0])
    s1, _ = P.step(part, torch.tensor([4, 3]))  # taken envs step on like the originals
    s2, _ = P.step(a, torch.tensor([0, 3, 0, 4, 0]))
    assert torch.equal(s1.x, s2.x[idx]) and torch.equal(s1.ex, s2.ex[idx])


def test_gravity_pulls_an_unsupported_player_down():
    s = _ground_state()
    s = replace(
        s, y=s.y - 48 * SUB, on_ground=torch.zeros_like(s.on_ground)
    )  # 3 tiles up in the air
    ys, vys = [], []
    for _ in range(6):
        s, info = P.step(s, torch.full((s.n,), P.DOWN))
        ys.append(info["player_y"])
        vys.append(info["vy"])
    assert all(bool((b > a).all()) for a, b in zip(ys, ys[1:], strict=False))  # falling
    assert all(bool((b > a).all()) for a, b in zip(vys, vys[1:], strict=False))  # faster and faster


def test_solid_tiles_stop_the_player():
    s = _ground_state()
    for _ in range(60):  # run into the wall at the left end of the level
        s, info = P.step(s, torch.full((s.n,), P.LEFT))
    assert bool((info["player_x"] - PARAMS.player_w / 2 == 3 * PARAMS.tile).all())  # flush with it
    assert bool(info["on_ground"].all()) and bool((info["vx"] == 0).all())


def test_never_inside_a_solid_tile():
    s = _reset(1, 32)
    t = s.bank.tiles  # [L, R, C]
    for i in range(240):
        pol = P.random_policy if i % 3 else P.scripted_policy
        s, _ = P.step(s, pol(s, i))
        px, py = s.x >> 4, s.y >> 4  # [N]
        for dx in (0, PARAMS.player_w - 1):
            for dy in (0, PARAMS.player_h - 1):
                row, col = (py + dy) >> 4, (px + dx) >> 4
                inside = (row >= 0) & (row < PARAMS.rows)
                tile = t[s.level, row.clamp(0, PARAMS.rows - 1), col]
                assert not bool((inside & (tile != 0)).any()), f"step {i}"


def test_jump_leaves_the_ground_and_holding_it_goes_higher():
    heights = {}
    for name, first, then in (
        ("hop", P.UP, P.UP),
        ("tap", P.JUMP, P.DOWN),
        ("held", P.JUMP, P.JUMP),
    ):
        s = _ground_state()
        y0 = s.y.clone()
        s, info = P.step(s, torch.full((s.n,), first))
        assert (
            not bool(info["on_ground"].any())
            and bool((info["vy"] < 0).all())
            and bool((s.y < y0).all())
        )
        top = s.y
        for _ in range(24):
            s, _ = P.step(s, torch.full((s.n,), then))
            top = torch.minimum(top, s.y)
        heights[name] = float((y0 - top).float().mean()) / SUB
    assert 16 < heights["hop"] < heights["tap"] < heights["held"]


def test_coins_stay_collected_within_an_episode():
    s = _reset(0, 48)
    prev = s.collected
    total = 0
    for i in range(400):
        s, info = P.step(s, P.scripted_policy(s, i))
        lost = prev & ~s.collected
        assert not bool((lost.any(1) & ~info["done"]).any())  # only a new episode clears coins
        total += int((info["reward"] > 0).sum())
        prev = s.collected
    assert total > 0 and bool(info["n_collected"].max() > 0)


def test_touching_an_enemy_resets_the_env():
    s = _ground_state()
    ey = s.bank.enemy_box[s.level][:, 0, 3]  # [N] top of enemy 0's box, standing on its run
    x = ((s.ex[:, 0] + 2) * SUB).to(torch.int32)  # the player on the ground right on top of it
    s = replace(s, x=x, y=(ey * SUB).to(torch.int32), t=s.t + 50)
    s2, info = P.step(s, torch.full((s.n,), P.UP))
    assert bool(info["done"].all()) and bool(info["died"].all()) and not bool(info["won"].any())
    assert bool((s2.t == 0).all()) and bool((s2.episode == 1).all())
    spawn = s2.bank.spawn[s2.level]
    assert torch.equal(s2.x, spawn[:, 0]) and torch.equal(s2.y, spawn[:, 1])
    assert not bool(s2.collected.any())


def test_falling_into_a_pit_resets_the_env():
    s = _ground_state()
    s = replace(s, y=torch.full_like(s.y, 250 * SUB), on_ground=torch.zeros_like(s.on_ground))
    s = replace(s, x=torch.full_like(s.x, -100 * SUB))  # below the level, clear of any tile
    s2, info = P.step(s, torch.full((s.n,), P.RIGHT))
    assert bool(info["done"].all()) and bool(info["died"].all()) and bool(info["fell"].all())
    assert bool((s2.t == 0).all()) and bool(s2.on_ground.all())


def test_every_action_has_a_distinct_visible_effect():
    s = _ground_state(n=2)
    for _ in range(20):  # get moving, mid-screen
        s, _ = P.step(s, torch.full((s.n,), P.RIGHT))
    frames = [P.render_rgb(P.step(s, torch.full((s.n,), a))[0]) for a in range(5)]
    for i in range(5):
        for j in range(i + 1, 5):
            assert not torch.equal(frames[i], frames[j]), (P.ACTIONS[i], P.ACTIONS[j])


def test_locate_player_matches_ground_truth():
    s = _reset(1, 16)
    worst = 0.0
    for i in range(120):
        s, info = P.step(s, P.scripted_policy(s, i) if i % 4 else P.random_policy(s, i))
        if i % 20 == 5:
            loc = P.locate_player(P.render_rgb(s))  # [N, 2]
            truth = torch.stack([info["screen_x"], info["screen_y"]], 1)
            assert not bool(loc.isnan().any())
            worst = max(worst, float((loc - truth).abs().max()))
    assert worst <= 1.0
    assert bool(P.locate_player(torch.zeros(2, 256, 256, 3, dtype=torch.uint8)).isnan().all())


def test_player_colour_is_unique_and_every_pose_centred():
    pal = [rgb for _, rgb in P.PALETTE]
    assert pal.count(P.PLAYER_RGB) == 1
    atlas = sprite_atlas()
    player = [i for i, (n, _) in enumerate(P.PALETTE) if n == "player"][0]
    for f in range(12):
        m = atlas[f] == player  # [16, 16]
        assert int(m.sum()) >= 30, f
        ys, xs = m.nonzero().float().T + 0.5
        assert abs(float(xs.mean()) - 8) <= 0.5 and abs(float(ys.mean()) - 8) <= 0.6, f
    assert not bool((atlas[12:] == player).any())  # enemies and coins never use it


def test_fast_shades_equal_the_pixel_pipeline():
    s = _reset(0, 24)
    out = None
    for i in range(120):
        s, _ = P.step(s, P.scripted_policy(s, i) if i % 5 else P.random_policy(s, i))
        if i % 20 == 19:
            out = P.render_shades(s, out=out)  # reusing the previous frame's memory
            assert torch.equal(out, screen_to_obs(P.render_screen(s))), f"step {i}"


def test_fast_shades_on_odd_states():
    """Random cameras, sprites at the screen's edges and overlapping, coins taken at random."""
    s = _reset(1, 128)
    g = torch.Generator().manual_seed(0)
    n = s.n
    for _ in range(3):
        box = s.bank.enemy_box[s.level]  # [N, E, 4]
        span = (box[..., 2] - box[..., 1] + 1).clamp(min=1)
        ex = box[..., 1] + (torch.rand(n, 3, generator=g) * span).int()
        ex = torch.where(s.bank.enemy_valid[s.level], ex, s.ex).int()
        cam = (torch.randint(PARAMS.cam_min, PARAMS.cam_max + 1, (n,), generator=g) >> 2 << 2).int()
        near = torch.randint(-20, 22, (n,), generator=g) + ex[:, 0]  # often right by enemy 0
        x = torch.where(
            torch.rand(n, generator=g) < 0.5, near, cam + torch.randint(0, 244, (n,), generator=g)
        )
        x = x.clamp(cam, cam + 243)  # the camera always has the player in view
        odd = replace(
            s,
            x=(x * SUB).int(),
            y=(torch.randint(0, 241, (n,), generator=g) * SUB).int(),
            cam=cam,
            ex=ex,
            edir=torch.where(torch.rand(n, 3, generator=g) < 0.5, 1, -1).int(),
            frame=torch.randint(0, 12, (n,), generator=g),
            collected=torch.rand(n, PARAMS.n_items, generator=g) < 0.5,
        )
        assert torch.equal(P.render_shades(odd), screen_to_obs(P.render_screen(odd)))


def test_levels_are_sane():
    for j in range(PARAMS.n_levels):
        plan = plan_level(1, j)
        assert len(plan.items) == PARAMS.n_items and len(plan.enemies) == PARAMS.n_enemies
        for c, r in plan.items:
            assert plan.tiles[r][c] == 0 and r >= 1
    tiles = _reset(1, 4).bank.tiles  # [L, R, C]
    assert len({t.numpy().tobytes() for t in tiles}) == PARAMS.n_levels  # all different


def test_enemy_patrols_stay_24px_apart():
    """render_shades relies on it: an enemy's window never holds another enemy."""
    for seed in range(40):  # plans, not banks: cheap
        for j in range(PARAMS.n_levels):
            runs = sorted(patrol_bounds(c0, c1) for c0, c1, _ in plan_level(seed, j).enemies)
            gaps = [b0 - (a1 + 16) for (_, a1), (b0, _) in zip(runs, runs[1:], strict=False)]
            assert all(g >= 24 for g in gaps), (seed, j, gaps)
    box = _reset(0, 1).bank.enemy_box  # [L, E, 4]: x0, lo, hi, y
    assert bool((box[..., 1] <= box[..., 0]).all()) and bool((box[..., 0] <= box[..., 2]).all())


@pytest.mark.parametrize("game_id", sorted(GAMES))
def test_every_registered_game_runs(game_id):
    g = get_game(game_id)
    s = g.reset(0, 2, "cpu")
    for i in range(5):
        s, info = g.step(s, g.random_policy(s, i))
        assert set(info) == set(g.info_keys)
    assert g.render_rgb(s).shape == (2, *g.rgb_shape)
    assert g.render_shades(s).shape == (2, *g.shade_shape)
    assert g.scripted_policy(s, 0).shape == (2,)
    assert not bool(g.locate_player(g.render_rgb(s)).isnan().any())


def test_unknown_game_lists_known_ids():
    with pytest.raises(KeyError, match="platformer"):
        get_game("nope")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    sc, sg = P.reset(9, 64, "cpu"), P.reset(9, 64, "cuda")
    for i in range(100):
        sc, _ = P.step(sc, P.scripted_policy(sc, i))
        sg, _ = P.step(sg, P.scripted_policy(sg, i))
    for name, v in _tensors(sc).items():
        assert torch.equal(v, getattr(sg, name).cpu()), name
    assert torch.equal(P.render_rgb(sc), P.render_rgb(sg).cpu())
    assert torch.equal(P.render_shades(sc), P.render_shades(sg).cpu())
