"""A vectorized top-down RPG as pure torch functions (gymnax style): rooms, doors, items, chests, an NPC,
and a HUD whose stats and inventory persist from room to room.

    state = reset(seed, n, device)                  # State: one batched tensor per field
    state, info = step(state, actions)              # actions int64 [N] in 0..4; info: INFO_KEYS
    render_rgb(state)       -> uint8 [N, 256, 256, 3]   HUD (rows 0..2) over the room (rows 3..15)
    render_screen(state)    -> uint8 [N, 144, 160, 3]   the same map at 8 px per cell, centred
    render_shades(state)    -> uint8 [N, 72, 80] in 0..3 == core.pixels.screen_to_obs(render_screen)
    locate_player(rgb)      -> float32 [N, 2] centroid of PLAYER_RGB px, NaN if absent
    scripted_policy(state, key), random_policy(state, key) -> int64 [N]   (core/games/rpg_policy.py)

Why pure torch and not the project's Game Boy ROM grown into an RPG: a torch game runs thousands of
envs at once on any device, bit-identical on CPU and CUDA, with exact ground truth from its state and
pure-function decoders of its frames; an SM83 RPG would need a hand-written assembler program, PyBoy
for every frame (one env per emulator) and RAM maps for the truth, for no gain in what gate m9 measures.

World (core/games/rpg_world.py): 3 x 3 rooms of 13 x 16 cells, doorways between neighbours, some of
them locked; pillars, spikes (-1 HP per step onto them), items lying about (gold piles, keys,
potions: picked up once by walking onto them), chests (solid; JUMP while facing one opens it for
gold, once) and a healer NPC in the start room (solid; JUMP while facing it restores every heart).
A locked doorway opens when the player walks into it holding a key, which is used up; it stays open
from both sides. Movement is one cell per step; walking into something solid only turns the player.

Actions: 0 UP, 1 DOWN, 2 LEFT, 3 RIGHT walk (and face) one cell; 4 JUMP is "use": open the chest or
talk to the NPC the player faces, otherwise drink a potion when hurt (else nothing happens).

HUD (rows 0..2 of the map): hearts (HP of max_hp), a coin and 3 digits of gold, a key and a digit of
keys, a potion and a digit of potions, and a 3 x 3 minimap (the current room lit, visited rooms grey).
HP, gold, keys, potions and the visited rooms persist across rooms for the whole episode.

Episode end (`info["done"]`): HP 0 (died), every chest opened (won), or max_t steps (timeout); the
env restarts inside `step` in a world drawn from its counter-based RNG (core/games/hashrng.py), so
env i's trajectory does not depend on N and CPU and CUDA give identical bits (integer logic only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from core.games.hashrng import rand_u32, start_draw
from core.games.rpg_art import (
    CHEST,
    CHEST_OPEN,
    DIGIT,
    GOLD,
    HEART,
    HEART_EMPTY,
    HUD_BG,
    HUD_RGB,
    ICON_COIN,
    ICON_KEY,
    ICON_POTION,
    KEY,
    LOCK,
    MAP_HERE,
    MAP_ROOM,
    NPC,
    PLAYER,
    PLAYER_RGB,
    POTION,
    SPIKES,
    WALL,
)
from core.games.rpg_policy import random_policy, scripted_policy
from core.games.rpg_world import PARAMS, ROOM_C, ROOM_CELLS, ROOM_R, Bank, Params, build_bank
from core.games.tiles import locate_colour, render_obs_tiles, render_screen_tiles, render_tiles

__all__ = ["ACTIONS", "INFO_KEYS", "PARAMS", "PLAYER_RGB", "State", "info", "locate_player",
           "put_envs", "random_policy", "render_rgb", "render_screen", "render_shades", "reset",
           "scripted_policy", "step", "take_envs", "tile_codes"]  # fmt: skip

ACTIONS = ("UP", "DOWN", "LEFT", "RIGHT", "JUMP")  # JUMP = use
DIRS = ((-1, 0), (1, 0), (0, -1), (0, 1), (0, 0))
_S_WORLD = 1  # RNG stream


@dataclass(frozen=True)
class State:
    world: torch.Tensor  # int64 [N] index into bank
    room: torch.Tensor  # int64 [N] 0..8, row-major in the 3 x 3 world
    row: torch.Tensor  # int64 [N] player cell in the room, 0..12
    col: torch.Tensor  # int64 [N] 0..15
    facing: torch.Tensor  # int64 [N] 0 UP, 1 DOWN, 2 LEFT, 3 RIGHT
    hp: torch.Tensor  # int64 [N] 0..max_hp
    gold: torch.Tensor  # int64 [N] 0..999
    keys: torch.Tensor  # int64 [N] 0..9 carried
    potions: torch.Tensor  # int64 [N] 0..9 carried
    collected: torch.Tensor  # bool [N, K] items picked up
    opened: torch.Tensor  # bool [N, C] chests opened
    unlocked: torch.Tensor  # bool [N, D] locked doorways opened
    visited: torch.Tensor  # bool [N, rooms]
    t: torch.Tensor  # int64 [N] steps into this episode
    tick: torch.Tensor  # int64 [N] steps since reset(): the RNG counter
    key: torch.Tensor  # int64 [N] per-env RNG key
    episode: torch.Tensor  # int64 [N] episodes finished
    bank: Bank  # shared by all envs

    @property
    def n(self) -> int:
        return self.row.shape[0]


def _start(world: torch.Tensor, p: Params) -> dict[str, torch.Tensor]:
    """Per-env start-of-episode fields for worlds [N]."""
    n, dev = world.shape[0], world.device
    z = torch.zeros_like(world)
    no = torch.zeros(n, 1, dtype=torch.bool, device=dev)
    return dict(
        room=z + p.start_room,
        row=z + p.start_cell[0],
        col=z + p.start_cell[1],
        facing=z + 1,
        hp=z + p.start_hp,
        gold=z,
        keys=z,
        potions=z,
        collected=no.expand(n, p.n_items).clone(),
        opened=no.expand(n, p.n_chests).clone(),
        unlocked=no.expand(n, p.n_keys).clone(),
        visited=torch.arange(p.n_rooms, device=dev).view(1, -1) == p.start_room + z.view(-1, 1),
        t=z,
    )


def reset(
    seed: int,
    n: int,
    device: torch.device | str = "cpu",
    params: Params = PARAMS,
    bank: Bank | None = None,
) -> State:
    """N envs at the start of worlds drawn from the seed; `bank`: a previous state's, to skip building."""
    dev = torch.device(device)
    if bank is None or bank.seed != int(seed) or bank.base.device != dev:
        bank = build_bank(int(seed), dev, params)
    key, tick, world = start_draw(seed, n, dev, _S_WORLD, params.n_worlds)  # [N] each
    return State(
        world=world, **_start(world, params), tick=tick, key=key, episode=tick.clone(), bank=bank
    )


def step(
    state: State, actions: torch.Tensor, params: Params = PARAMS
) -> tuple[State, dict[str, torch.Tensor]]:
    """Advance all envs one step. actions: int64 [N] in 0..4. Returns (state, info)."""
    p, s, b = params, state, state.bank
    a = actions.to(device=s.row.device, dtype=torch.int64)
    d = torch.tensor(DIRS, dtype=torch.int64, device=a.device)
    walk = a < 4
    facing = torch.where(walk, a, s.facing)
    r1, c1 = s.row + d[a, 0], s.col + d[a, 1]  # [N]
    leave = (r1 < 0) | (r1 >= ROOM_R) | (c1 < 0) | (c1 >= ROOM_C)
    beyond = b.neighbour[s.room, facing]  # [N] -1 where the world ends
    room1 = torch.where(leave, beyond.clamp(min=0), s.room)
    r1, c1 = r1.remainder(ROOM_R), c1.remainder(ROOM_C)  # out of a doorway: the matching one
    cell1 = room1 * ROOM_CELLS + r1 * ROOM_C + c1  # [N]
    w = s.world
    wall1 = b.base[w, cell1] == WALL
    chest1 = (b.chest_cell[w] == cell1.unsqueeze(1)).any(1)
    npc1 = b.npc_cell[w] == cell1
    at_lock = (b.lock_cell[w] == cell1.view(-1, 1, 1)).any(2) & ~s.unlocked  # [N, D]
    lock1 = at_lock.any(1)
    blocked = ~walk | wall1 | chest1 | npc1 | (lock1 & (s.keys <= 0)) | (leave & (beyond < 0))
    moved = ~blocked
    unlock = moved & lock1
    unlocked = s.unlocked | (at_lock & unlock.unsqueeze(1))
    keys = s.keys - unlock.long()
    room = torch.where(moved, room1, s.room)
    row, col = torch.where(moved, r1, s.row), torch.where(moved, c1, s.col)
    cell = room * ROOM_CELLS + row * ROOM_C + col
    hit = (b.item_cell[w] == cell.unsqueeze(1)) & ~s.collected & moved.unsqueeze(1)  # [N, K]
    kind = b.item_kind[w]
    gold = s.gold + p.gold_per_pile * (hit & (kind == GOLD)).sum(1)
    keys = (keys + (hit & (kind == KEY)).sum(1)).clamp(max=9)
    potions = s.potions + (hit & (kind == POTION)).sum(1)
    hurt = moved & (b.base[w, cell] == SPIKES)
    hp = s.hp - hurt.long()

    use = a == 4  # open the chest or talk to the NPC faced, else drink a potion when hurt
    fr, fc = row + d[facing, 0], col + d[facing, 1]
    inside = (fr >= 0) & (fr < ROOM_R) & (fc >= 0) & (fc < ROOM_C)
    fcell = torch.where(inside, room * ROOM_CELLS + fr * ROOM_C + fc, -1)
    chest_f = b.chest_cell[w] == fcell.unsqueeze(1)  # [N, C]
    opens = chest_f & ~s.opened & use.unsqueeze(1)
    gold = (gold + p.chest_gold * opens.sum(1)).clamp(max=999)
    talk = use & ~chest_f.any(1) & (b.npc_cell[w] == fcell)
    drink = use & ~chest_f.any(1) & ~talk & (potions > 0) & (hp < p.max_hp)
    hp = torch.where(talk, p.max_hp, torch.where(drink, (hp + p.potion_hp).clamp(max=p.max_hp), hp))
    potions = (potions - drink.long()).clamp(max=9)
    opened = s.opened | opens
    visited = s.visited | (torch.arange(p.n_rooms, device=a.device) == room.unsqueeze(1))

    died = hp <= 0
    won = ~died & opened.all(1)
    t = s.t + 1
    timeout = ~died & ~won & (t >= p.max_t)
    done = died | won | timeout
    tick = s.tick + 1
    new_world = rand_u32(s.key, tick, _S_WORLD) % p.n_worlds
    fresh = _start(new_world, p)
    nxt = dict(room=room, row=row, col=col, facing=facing, hp=hp, gold=gold, keys=keys,
               potions=potions, collected=s.collected | hit, opened=opened, unlocked=unlocked,
               visited=visited, t=t)  # fmt: skip
    merged = {
        k: torch.where(done.view(-1, *([1] * (v.dim() - 1))), fresh[k], v) for k, v in nxt.items()
    }
    out = replace(s, **merged, world=torch.where(done, new_world, w), tick=tick,
                  episode=s.episode + done.long())  # fmt: skip
    reward = (hit.sum(1) + 2 * opens.sum(1) - hurt.long()).float() + 10.0 * won.float()
    flags = dict(done=done, died=died, won=won, timeout=timeout, reward=reward, moved=moved,
                 room_changed=moved & leave, picked=hit.any(1), opened_chest=opens.any(1),
                 talked=talk, drank=drink, hurt=hurt, unlocked_door=unlock)  # fmt: skip
    return out, info(out, params=p, **flags)


INFO_KEYS = {  # what `step` reports every step, all batched tensors on the state's device
    "world": "int64 [N] world index in the seed's bank",
    "room": "int64 [N] 0..8, row-major in the 3 x 3 world (lit in the HUD's minimap)",
    "player_row": "int64 [N] cell row in the room, 0..12 (map row 3 + this)",
    "player_col": "int64 [N] 0..15",
    "facing": "int64 [N] 0 UP, 1 DOWN, 2 LEFT, 3 RIGHT",
    "screen_x": "float32 [N] centre of the player's cell in the 256x256 render (what locate_player finds)",
    "screen_y": "float32 [N]",
    "obs_x": "float32 [N] the same in px of the 72x80 shades",
    "obs_y": "float32 [N]",
    "hp": "int64 [N] hearts, 0..max_hp (HUD)",
    "gold": "int64 [N] 0..999 (HUD)",
    "keys": "int64 [N] carried (HUD)",
    "potions": "int64 [N] carried (HUD)",
    "collected": "bool [N, K] items picked up this episode",
    "chests_opened": "bool [N, C]",
    "unlocked": "bool [N, D] locked doorways opened",
    "visited": "bool [N, 9] rooms entered this episode (grey in the minimap)",
    "moved": "bool [N] the player changed cell (before any episode reset)",
    "room_changed": "bool [N] through a doorway",
    "picked": "bool [N] an item was picked up",
    "opened_chest": "bool [N]",
    "talked": "bool [N] to the healer NPC (HP to max)",
    "drank": "bool [N] a potion",
    "hurt": "bool [N] stepped onto spikes (-1 HP)",
    "unlocked_door": "bool [N] a key opened a locked doorway",
    "t": "int64 [N] steps into the episode",
    "done": "bool [N] the episode ended this step (the state is already the next episode's start)",
    "died": "bool [N] HP reached 0",
    "won": "bool [N] every chest opened",
    "timeout": "bool [N] max_t steps",
    "reward": "float32 [N] +1 an item, +2 a chest, -1 spikes, +10 won",
}


def info(state: State, params: Params = PARAMS, **flags: torch.Tensor) -> dict[str, torch.Tensor]:
    """Ground truth of a state, batched: the keys of INFO_KEYS. Flags not given are False/0."""
    p, s = params, state
    no = torch.zeros(s.n, dtype=torch.bool, device=s.row.device)
    sx = s.col.float() * p.tile + p.tile / 2
    sy = (s.row + p.hud_rows).float() * p.tile + p.tile / 2
    ox, oy = (160 - 16 * p.tile // 2) // 2, (144 - 16 * p.tile // 2) // 2  # the map on the screen
    out = {
        "world": s.world, "room": s.room, "player_row": s.row, "player_col": s.col,
        "facing": s.facing, "screen_x": sx, "screen_y": sy, "obs_x": (ox + sx / 2) / 2,
        "obs_y": (oy + sy / 2) / 2, "hp": s.hp, "gold": s.gold, "keys": s.keys,
        "potions": s.potions, "collected": s.collected, "chests_opened": s.opened,
        "unlocked": s.unlocked, "visited": s.visited, "t": s.t,
    }  # fmt: skip
    for k in INFO_KEYS:
        if k not in out:
            out[k] = flags.get(k, torch.zeros(s.n, device=s.row.device) if k == "reward" else no)
    return out


def tile_codes(state: State, params: Params = PARAMS) -> torch.Tensor:
    """int64 [N, 16, 16]: the HUD (rows 0..2) over the current room (rows 3..15)."""
    p, s, b = params, state, state.bank
    n, dev = s.n, s.row.device
    w, at = s.world, s.room * ROOM_CELLS  # [N]
    local = torch.arange(ROOM_CELLS, device=dev)  # [208]
    spare = torch.zeros(n, 1, dtype=torch.int64, device=dev)
    buf = torch.cat([b.base[w.unsqueeze(1), at.unsqueeze(1) + local], spare], 1)  # [N, 209]
    dump = ROOM_CELLS  # column 208: things in other rooms land here

    def put(cells: torch.Tensor, shown: torch.Tensor, code: torch.Tensor | int) -> None:
        here = shown & (cells // ROOM_CELLS == s.room.view(-1, *([1] * (cells.dim() - 1))))
        pos = torch.where(here, cells - at.view(-1, *([1] * (cells.dim() - 1))), dump)
        val = torch.as_tensor(code, device=dev).expand_as(pos)
        buf.scatter_(1, pos.reshape(n, -1), val.reshape(n, -1))

    put(b.item_cell[w], ~s.collected, b.item_kind[w])
    put(b.chest_cell[w], torch.ones_like(s.opened), torch.where(s.opened, CHEST_OPEN, CHEST))
    put(b.npc_cell[w].unsqueeze(1), torch.ones(n, 1, dtype=torch.bool, device=dev), NPC)
    put(b.lock_cell[w], (~s.unlocked).unsqueeze(2).expand(-1, -1, 2), LOCK)
    me = s.row * ROOM_C + s.col  # [N]
    under = buf.gather(1, me.unsqueeze(1)).squeeze(1)
    buf.scatter_(1, me.unsqueeze(1), (PLAYER + s.facing + 4 * (under == SPIKES)).unsqueeze(1))
    room = buf[:, :ROOM_CELLS].view(n, ROOM_R, ROOM_C)

    col = torch.arange(16, device=dev).view(1, -1)  # [1, 16]
    hud = torch.full((n, p.hud_rows, 16), HUD_BG, dtype=torch.int64, device=dev)
    hud[:, 0] = torch.where(col < p.max_hp, torch.where(col < s.hp.view(-1, 1), HEART, HEART_EMPTY),
                            HUD_BG)  # fmt: skip
    hud[:, 0, 7] = ICON_COIN
    for i, div in enumerate((100, 10, 1)):  # three digits of gold
        hud[:, 0, 8 + i] = DIGIT + (s.gold // div) % 10
    hud[:, 1, 0], hud[:, 1, 1] = ICON_KEY, DIGIT + s.keys
    hud[:, 1, 3], hud[:, 1, 4] = ICON_POTION, DIGIT + s.potions
    k = torch.arange(p.n_rooms, device=dev)
    mini = torch.where(k == s.room.view(-1, 1), MAP_HERE, torch.where(s.visited, MAP_ROOM, HUD_BG))
    hud[:, :, 13:16] = mini.view(n, p.world_h, p.world_w)
    return torch.cat([hud, room], 1)  # [N, 16, 16]


def render_rgb(state: State, params: Params = PARAMS, out: torch.Tensor | None = None):
    """uint8 [N, 256, 256, 3]; written into `out` (a frame this function returned before) when given."""
    return render_tiles(tile_codes(state, params), state.bank.atlas, out)


def render_screen(state: State, params: Params = PARAMS, out: torch.Tensor | None = None):
    """uint8 [N, 144, 160, 3]: the map at 8 px per cell (128 x 128), centred on the HUD colour."""
    return render_screen_tiles(tile_codes(state, params), state.bank.atlas_half, HUD_RGB)


def render_shades(state: State, params: Params = PARAMS, out: torch.Tensor | None = None):
    """uint8 [N, 72, 80] in 0..3: equal to screen_to_obs(render_screen(state)), built from pre-shaded
    4x4 tiles (core/games/tiles.render_obs_tiles); written into `out` when given."""
    return render_obs_tiles(tile_codes(state, params), state.bank.atlas_obs, HUD_RGB, out)


def locate_player(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 [N, 2] (x, y) centroid of PLAYER_RGB px, NaN if absent."""
    return locate_colour(rgb, PLAYER_RGB)


def _fields(state: State) -> dict[str, torch.Tensor]:
    return {k: v for k, v in vars(state).items() if isinstance(v, torch.Tensor)}


def take_envs(state: State, idx: torch.Tensor) -> State:
    """The envs idx (int64 [M]) of a state, as a state of M envs sharing its bank."""
    return replace(state, **{k: v[idx] for k, v in _fields(state).items()})


def put_envs(state: State, idx: torch.Tensor, sub: State) -> State:
    """A copy of state with envs idx (int64 [M]) replaced by the M envs of sub (same bank)."""
    return replace(
        state, **{k: v.index_copy(0, idx, getattr(sub, k)) for k, v in _fields(state).items()}
    )
