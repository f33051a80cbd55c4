"""A vectorized side-scrolling platformer as pure torch functions (gymnax style).

    state = reset(seed, n, device)                  # State: one batched tensor per field
    state, info = step(state, actions)              # actions int64 [N] in 0..4; info: INFO_KEYS
    render_rgb(state)       -> uint8 [N, 256, 256, 3]
    render_screen(state)    -> uint8 [N, 144, 160, 3]   a Game Boy sized half-scale view
    render_shades(state)    -> uint8 [N, 72, 80] in 0..3 == core.pixels.screen_to_obs(render_screen)
    locate_player(rgb)      -> float32 [N, 2] centroid of PLAYER_RGB px, NaN if absent
    scripted_policy(state, key), random_policy(state, key) -> int64 [N]
    take_envs(state, idx), put_envs(state, idx, sub)   # per-env save/load, as States

All N envs live in one `State` (each field one batched tensor); `step` advances every env at once with
no Python loop over envs, on any device, with integer fixed-point physics (1 px = 16 subpx), so CPU and
CUDA give bit-identical trajectories.

Actions (the roadmap's five; there is no no-op, every action has a visible, deterministic effect):
    0 UP    on the ground: a small hop (20 px, enough for a one-tile step); always the arms-up pose.
    1 DOWN  crouch pose; on the ground brakes hard, in the air falls faster.
    2 LEFT  accelerate left (face left, walk cycle).
    3 RIGHT accelerate right (face right, walk cycle).
    4 JUMP  on the ground: jump (~3 tiles); held while rising: higher (~4 tiles); jump pose in the air.
Without LEFT/RIGHT the player slows down on the ground (friction) and keeps momentum in the air.

World: a 16-row tile map per level (`params.n_levels` levels generated from the seed; each env has a
`level` index), gravity, solid tiles with axis-separated collisions, pits, pipes, brick platforms,
coins that stay collected (`collected` mask per env), patrolling enemies that turn at the ends of their
run and, at random with probability 1/128 per frame, on their own (the stochasticity), a goal flag near
the end, and a camera that follows the player horizontally with a dead zone, in steps of 4 px.

Episode end (`info["done"]`): touching an enemy or falling into a pit (died), touching the flag (won), or
`params.max_t` frames (timeout). A finished env is reset inside `step` to the start of a level drawn from
its RNG; the returned state and all of `info` but the done/died/won/timeout/reward flags describe that
fresh start.

Randomness is counter-based (core/games/hashrng.py): hash(env key, tick, stream), where the key depends
only on (seed, env index) and `tick` counts frames since `reset`. A step is therefore a pure function of
(state, actions), and env i's trajectory does not depend on how many envs run beside it.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from core.games.hashrng import M32, rand_u32, start_draw
from core.games.platformer_art import CROUCH, JUMP_F, PALETTE, PLAYER_RGB, STAND, UP_F, WALK1
from core.games.platformer_render import (
    locate_player,
    render_rgb,
    render_screen,
    render_shades,
)
from core.games.platformer_state import State, put_envs, take_envs
from core.games.platformer_world import PARAMS, Bank, Params, build_bank

__all__ = [
    "ACTIONS",
    "INFO_KEYS",
    "PARAMS",
    "PALETTE",
    "PLAYER_RGB",
    "Params",
    "State",
    "locate_player",
    "random_policy",
    "render_rgb",
    "render_screen",
    "render_shades",
    "reset",
    "reset_level",
    "scripted_policy",
    "step",
    "put_envs",
    "take_envs",
]

ACTIONS = ("UP", "DOWN", "LEFT", "RIGHT", "JUMP")
UP, DOWN, LEFT, RIGHT, JUMP = range(5)
_S_LEVEL, _S_ENEMY, _S_POLICY = 1, 8, 32  # RNG streams (enemy e uses _S_ENEMY + e)


def _spawn(bank: Bank, level: torch.Tensor, p: Params) -> dict[str, torch.Tensor]:
    """Per-env start-of-level fields for levels [N]."""
    n = level.shape[0]
    sp = bank.spawn[level]  # [N, 2]
    box = bank.enemy_box[level]  # [N, E, 4]
    z = torch.zeros(n, dtype=torch.int32, device=level.device)
    return dict(
        x=sp[:, 0].contiguous(),
        y=sp[:, 1].contiguous(),
        vx=z,
        vy=z,
        on_ground=torch.ones(n, dtype=torch.bool, device=level.device),
        facing=z + 1,
        frame=torch.full((n,), STAND, dtype=torch.int64, device=level.device),
        ex=box[..., 0].contiguous(),
        edir=torch.full_like(box[..., 0], -1),  # toward the player
        collected=torch.zeros(n, p.n_items, dtype=torch.bool, device=level.device),
        cam=z + p.cam_min,
        t=z,
    )


def reset(
    seed: int,
    n: int,
    device: torch.device | str = "cpu",
    params: Params = PARAMS,
    bank: Bank | None = None,
) -> State:
    """N envs at the start of levels drawn from the seed; the same seed gives the same state.

    Building the level bank takes a fraction of a second; pass `bank` (a previous state's
    `.bank` for the same seed, params and device) to skip it."""
    dev = torch.device(device)
    if bank is None or bank.seed != int(seed):
        bank = build_bank(int(seed), dev, params)
    key, tick, level = start_draw(seed, n, dev, _S_LEVEL, params.n_levels)  # [N] each
    return State(
        **_spawn(bank, level, params),
        level=level,
        tick=tick,
        key=key,
        episode=torch.zeros(n, dtype=torch.int32, device=dev),
        bank=bank,
    )


def reset_level(seed: int, level: int, device: torch.device | str = "cpu", params: Params = PARAMS):
    """One env at the start of level `level` (0..n_levels-1) of the seed's level bank."""
    s = reset(seed, 1, device, params)
    lv = torch.full_like(s.level, int(level) % params.n_levels)
    return replace(s, **_spawn(s.bank, lv, params), level=lv)


def _solid(bank: Bank, level: torch.Tensor, row: torch.Tensor, col: torch.Tensor, p: Params):
    """bool [N]: is tile (row, col) solid? Rows above the level are solid, rows below empty."""
    r = (row + 1).clamp(0, p.rows + 2)
    c = col.clamp(0, p.cols - 1)
    return bank.solid[(level * (p.rows + 3) + r) * p.cols + c].bool()  # [N]


def step(
    state: State, actions: torch.Tensor, params: Params = PARAMS
) -> tuple[State, dict[str, torch.Tensor]]:
    """Advance all envs one frame. actions: int64 [N] in 0..4. Returns (state, info)."""
    p, s, b = params, state, state.bank
    sub, tile = p.sub, p.tile
    a = actions.to(device=s.x.device, dtype=torch.int64)
    up, down, jump = a == UP, a == DOWN, a == JUMP
    dirx = (a == RIGHT).to(torch.int32) - (a == LEFT).to(torch.int32)  # [N] -1, 0, +1
    grounded = s.on_ground

    # Horizontal speed: accelerate with LEFT/RIGHT, otherwise slow down toward 0.
    drag = torch.where(grounded, torch.where(down, p.brake, p.friction), p.air_drag)  # [N]
    slowed = torch.sign(s.vx) * (s.vx.abs() - drag).clamp(min=0)
    vx = torch.where(dirx != 0, s.vx + dirx * p.accel, slowed).clamp(-p.max_vx, p.max_vx)

    # Vertical speed: launch from the ground, then gravity (lighter while JUMP is held and rising).
    launch = torch.where(jump, -p.jump_v, torch.where(up, -p.hop_v, 0))
    vy = torch.where(grounded, launch, s.vy)
    g = torch.where(jump & (vy < 0), p.gravity_held, torch.where(down, p.gravity_fast, p.gravity))
    vy = torch.where(grounded & (launch == 0), 0, vy + g).clamp(max=p.max_fall).to(torch.int32)

    # Move along x, then y; stop at the face of any solid tile the hitbox would enter.
    lv = s.level
    nx = s.x + vx
    left = nx >> 4
    col = torch.where(vx > 0, (left + p.player_w - 1) >> 4, left >> 4)
    top = s.y >> 4
    hit = (vx != 0) & (
        _solid(b, lv, top >> 4, col, p) | _solid(b, lv, (top + p.player_h - 1) >> 4, col, p)
    )
    stop_x = torch.where(vx > 0, col * tile - p.player_w, (col + 1) * tile) * sub
    nx = torch.where(hit, stop_x, nx)
    vx = torch.where(hit, 0, vx)

    ny = s.y + vy
    top = ny >> 4
    row = torch.where(vy > 0, (top + p.player_h - 1) >> 4, top >> 4)
    cl, cr = (nx >> 4) >> 4, ((nx >> 4) + p.player_w - 1) >> 4
    hit = (vy != 0) & (_solid(b, lv, row, cl, p) | _solid(b, lv, row, cr, p))
    stop_y = torch.where(vy > 0, row * tile - p.player_h, (row + 1) * tile) * sub
    ny = torch.where(hit, stop_y, ny)
    vy = torch.where(hit, 0, vy)
    below = ((ny >> 4) + p.player_h) >> 4
    aligned = (ny & (tile * sub - 1)) == 0
    on_ground = aligned & (_solid(b, lv, below, cl, p) | _solid(b, lv, below, cr, p))

    facing = torch.where(dirx != 0, dirx, s.facing)
    walk = WALK1 + (((nx >> 4) >> 3) & 1).to(torch.int64)
    pose = torch.where(on_ground, torch.where(vx != 0, walk, STAND), JUMP_F)
    pose = torch.where(up, UP_F, torch.where(down, CROUCH, pose))
    frame = pose + torch.where(facing < 0, 6, 0)

    # Enemies patrol their run, turning at its ends or at random.
    box = b.enemy_box[lv]  # [N, E, 4]: x0, lo, hi, y
    tick = s.tick + 1
    streams = torch.arange(p.n_enemies, device=lv.device) + _S_ENEMY  # [E]
    r = rand_u32(s.key.unsqueeze(1) ^ streams, tick.unsqueeze(1), _S_ENEMY)  # [N, E]
    ahead = s.ex + s.edir * p.enemy_speed
    turn = (ahead < box[..., 1]) | (ahead > box[..., 2]) | ((r & 0xFFFF) < p.turn_p16)
    edir = torch.where(turn, -s.edir, s.edir)
    ex = torch.where(turn, s.ex, ahead)

    # Contacts: enemies (a slightly shrunk box), coins, the flag, the bottom of the level.
    px, py = nx >> 4, ny >> 4  # [N] px
    ey = box[..., 3]  # [N, E]
    touch = (
        (px.unsqueeze(1) < ex + 14)
        & (px.unsqueeze(1) + p.player_w > ex + 2)
        & (py.unsqueeze(1) < ey + 16)
        & (py.unsqueeze(1) + p.player_h > ey + 5)
        & b.enemy_valid[lv]
    )  # [N, E]
    ipx = b.item_px[lv]  # [N, K, 2]
    grab = (
        (px.unsqueeze(1) < ipx[..., 0] + 13)
        & (px.unsqueeze(1) + p.player_w > ipx[..., 0] + 3)
        & (py.unsqueeze(1) < ipx[..., 1] + 14)
        & (py.unsqueeze(1) + p.player_h > ipx[..., 1] + 2)
    )  # [N, K]
    collected = s.collected | grab
    gained = (collected & ~s.collected).sum(1)  # [N]
    fell = py > p.rows * tile - p.player_h
    died = touch.any(1) | fell
    won = ~died & (px + p.player_w > b.flag_x[lv])
    t = s.t + 1
    timeout = ~died & ~won & (t >= p.max_t)
    done = died | won | timeout

    # Camera: keep the player's centre in the dead zone, in 4-px steps, inside the level.
    centre = px + p.player_w // 2
    cam = torch.minimum(torch.maximum(s.cam, centre - p.cam_hi), centre - p.cam_lo)
    cam = ((cam >> 2) << 2).clamp(p.cam_min, p.cam_max)

    i32 = torch.int32
    nxt = dict(
        x=nx.to(i32), y=ny.to(i32), vx=vx.to(i32), vy=vy.to(i32), on_ground=on_ground,
        facing=facing.to(i32), frame=frame, ex=ex, edir=edir, collected=collected,
        cam=cam.to(i32), t=t,
    )  # fmt: skip
    new_level = rand_u32(s.key, tick, _S_LEVEL) % p.n_levels
    fresh = _spawn(b, new_level, p)
    d1, d2 = done, done.unsqueeze(1)
    merged = {k: torch.where(d2 if v.dim() == 2 else d1, fresh[k], v) for k, v in nxt.items()}
    out = replace(
        s,
        **merged,
        level=torch.where(done, new_level, lv),
        tick=tick,
        episode=s.episode + done.to(torch.int32),
    )
    reward = gained.float() + 10.0 * won.float() - 1.0 * died.float()
    flags = dict(done=done, died=died, fell=fell, won=won, timeout=timeout, reward=reward)
    return out, info(out, params=p, **flags)


INFO_KEYS = {  # what `step` reports every frame, all batched tensors on the state's device
    "player_x": "float32 [N] player hitbox centre, level px (subpixel precision)",
    "player_y": "float32 [N]",
    "screen_x": "float32 [N] centre of the drawn player in the 256x256 render (what locate_player finds)",
    "screen_y": "float32 [N]",
    "obs_x": "float32 [N] the same in px of the 72x80 shades",
    "obs_y": "float32 [N]",
    "vx": "float32 [N] px/frame",
    "vy": "float32 [N] px/frame, down is positive",
    "on_ground": "bool [N]",
    "enemy_x": "float32 [N, E] enemy box centres, level px",
    "enemy_y": "float32 [N, E]",
    "enemy_screen_x": "float32 [N, E] the same in the 256x256 render (y: as enemy_y)",
    "enemy_valid": "bool [N, E] slots the level uses",
    "collected": "bool [N, K] coins taken this episode",
    "item_valid": "bool [N, K] slots the level uses",
    "n_collected": "int64 [N]",
    "level": "int64 [N] level index in the seed's bank",
    "camera_x": "int32 [N] level x of the 256x256 render's left edge",
    "t": "int32 [N] frames into the episode",
    "done": "bool [N] the episode ended this step (the state is already the next episode's start)",
    "died": "bool [N] by an enemy or a fall",
    "fell": "bool [N] into a pit",
    "won": "bool [N] reached the flag",
    "timeout": "bool [N] max_t frames",
    "reward": "float32 [N] +1 a coin, +10 the flag, -1 death",
}


def info(state: State, params: Params = PARAMS, **flags: torch.Tensor) -> dict[str, torch.Tensor]:
    """Ground truth of a state, batched: the keys of INFO_KEYS. Flags not given are False/0."""
    p, s, b = params, state, state.bank
    cx = s.x.float() / p.sub + p.player_w / 2  # [N]
    cy = s.y.float() / p.sub + p.player_h / 2
    box = b.enemy_box[s.level]  # [N, E, 4]
    ecx, ecy = s.ex.float() + 8, box[..., 3].float() + 8  # [N, E]
    cam = s.cam.float()
    dx = (s.x >> 4).float() + p.player_w / 2  # [N] centre of the drawn sprite (whole px)
    dy = (s.y >> 4).float() + p.player_h / 2
    n = s.n
    no = torch.zeros(n, dtype=torch.bool, device=s.x.device)
    out = {
        "player_x": cx,
        "player_y": cy,
        "screen_x": dx - cam,
        "screen_y": dy,
        "obs_x": (dx - cam + p.pad_top) / 4,
        "obs_y": (dy + p.pad_top) / 4,
        "vx": s.vx.float() / p.sub,
        "vy": s.vy.float() / p.sub,
        "on_ground": s.on_ground,
        "enemy_x": ecx,
        "enemy_y": ecy,
        "enemy_screen_x": ecx - cam.unsqueeze(1),
        "enemy_valid": b.enemy_valid[s.level],
        "collected": s.collected,
        "item_valid": b.item_valid[s.level],
        "n_collected": s.collected.sum(1),
        "level": s.level,
        "camera_x": s.cam,
        "t": s.t,
        "done": flags.get("done", no),
        "died": flags.get("died", no),
        "fell": flags.get("fell", no),
        "won": flags.get("won", no),
        "timeout": flags.get("timeout", no),
        "reward": flags.get("reward", torch.zeros(n, device=s.x.device)),
    }
    return out


def _rand(state: State, key: int | torch.Tensor, stream: int) -> torch.Tensor:
    k = torch.as_tensor(key, dtype=torch.int64, device=state.x.device) & M32
    return rand_u32(state.key ^ k, state.tick, stream)  # [N]


def random_policy(state: State, key: int | torch.Tensor = 0) -> torch.Tensor:
    """int64 [N]: uniform actions, a pure function of (state, key)."""
    return _rand(state, key, _S_POLICY) % len(ACTIONS)


def scripted_policy(
    state: State, key: int | torch.Tensor = 0, params: Params = PARAMS
) -> torch.Tensor:
    """int64 [N]: run right, jump over pits and walls, jump over enemies coming closer and wait for
    those walking away, jump for coins overhead, steer away from enemies when falling; on calm
    frames ~10% something else (a random action, a hop, a crouch) so data covers every action.
    A pure function of (state, key): the randomness is hash(env key ^ key, tick)."""
    p, s, b = params, state, state.bank
    lv = s.level
    px, py = s.x >> 4, s.y >> 4  # [N]
    front = px + p.player_w + 4 + (s.vx.clamp(min=0) >> 2)  # look further ahead at speed
    feet = (py + p.player_h) >> 4  # the row under the feet
    gap = ~_solid(b, lv, feet, front >> 4, p) & ~_solid(b, lv, feet + 1, front >> 4, p)
    wall = _solid(b, lv, (py + p.player_h - 1) >> 4, front >> 4, p) | _solid(
        b, lv, py >> 4, front >> 4, p
    )
    ey = b.enemy_box[lv][..., 3]  # [N, E]
    dx = s.ex - px.unsqueeze(1)  # [N, E]
    level_with = ((ey - py.unsqueeze(1)).abs() < 24) & b.enemy_valid[lv]  # [N, E]
    enemy = (level_with & (dx > -8) & (dx < 64) & (s.edir < 0)).any(1)  # coming: jump over it
    wait = (level_with & (dx > 0) & (dx < 72) & (s.edir > 0)).any(1)  # going: let it turn first
    ipx = b.item_px[lv]  # [N, K, 2]
    idx = ipx[..., 0] - px.unsqueeze(1)  # [N, K]
    coin = ((idx > -4) & (idx < 24) & (ipx[..., 1] < py.unsqueeze(1)) & ~s.collected).any(1)
    danger = ((dx > -24) & (dx < 120) & b.enemy_valid[lv]).any(1)  # no coin hunting near enemies
    for ahead in (16, 32, 48, 64):  # no random moves with a pit coming up
        c = (front + ahead) >> 4
        danger |= ~_solid(b, lv, feet, c, p) & ~_solid(b, lv, feet + 1, c, p)
    want_jump = (gap | wall | enemy | (coin & ~danger)) & s.on_ground
    rising = ~s.on_ground & (s.vy < 0)
    act = torch.where(want_jump | rising, JUMP, RIGHT)
    act = torch.where(wait & ~enemy & s.on_ground & ~gap, DOWN, act)  # crouch-brake and wait
    # Falling toward an enemy: steer away from it (back off if it is ahead, push on if behind).
    below = (dx > -28) & (dx < 28) & (ey > py.unsqueeze(1)) & b.enemy_valid[lv]  # [N, E]
    steer = torch.where((below & (dx > 0)).any(1), LEFT, RIGHT)
    act = torch.where(~s.on_ground & (s.vy >= 0) & below.any(1), steer, act)
    r = _rand(s, key, _S_POLICY + 1)  # [N]
    roll = r & 0xFF
    calm = s.on_ground & ~want_jump & ~danger
    act = torch.where(calm & (roll < 10), (r >> 8) % len(ACTIONS), act)  # ~4%: anything
    act = torch.where(calm & (roll >= 10) & (roll < 18), UP, act)  # ~3%: hop
    act = torch.where(calm & (roll >= 18) & (roll < 24), DOWN, act)  # ~2%: crouch
    return act.to(torch.int64)
