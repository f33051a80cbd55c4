"""The RPG's constants and worlds: built once per reset on the CPU, shared by all envs.

A world is 3 x 3 rooms; a room is 13 x 16 cells of 16 px (rows 3..15 of the 256x256 render, under a
3-row HUD). Rooms are walled, with a doorway in the middle of each side that has a neighbour: row 6 at
the left and right edges, column 8 at the top and bottom; walking out of a doorway enters the next room
at its matching doorway. Cells are addressed flat within a world: room * 208 + row * 16 + col.

Connectivity by construction: the only solid things inside a room (pillars, chests, the NPC) stand on
cells with even row and even column in rows 2..10, columns 2..12, so no two touch, every odd row is open
and every doorway's inner neighbour is free: each room's free cells are one connected region. Keys for
the locked doorways lie in rooms reachable from the start without passing a lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import torch

from core.games.hashrng import hash_int
from core.games.rpg_art import FLOOR, GOLD, KEY, POTION, SPIKES, WALL, tile_atlas
from core.games.tiles import obs_atlas

ROOM_R, ROOM_C = 13, 16  # cells per room
ROOM_CELLS = ROOM_R * ROOM_C
SIDES = ((0, 8), (12, 8), (6, 0), (6, 15))  # doorway cell of the UP, DOWN, LEFT, RIGHT side


@dataclass(frozen=True)
class Params:
    world_w: int = 3  # rooms across
    world_h: int = 3  # rooms down: 9 rooms, a few minutes of exploring
    hud_rows: int = 3  # map rows above the room: hearts, gold, keys, potions, minimap
    tile: int = 16  # px per cell in render_rgb (8 in render_screen)
    n_worlds: int = 8  # generated worlds per seed: held-out episodes can see unseen ones
    n_items: int = 12  # item slots per world: keys for every lock, potions, gold piles
    n_keys: int = 2  # = locked doorways per world (one key each)
    n_potions: int = 3
    n_chests: int = 3  # solid, opened with JUMP while facing them: +chest_gold
    max_hp: int = 6  # hearts in the HUD
    start_hp: int = 4  # below max, so the healer and potions matter from the start
    gold_per_pile: int = 5
    chest_gold: int = 10
    potion_hp: int = 2
    pillar_p256: int = 60  # chance (out of 256) of a pillar on each even-even cell
    spike_p256: int = 10  # chance of spikes on each free floor cell: -1 HP each step onto them
    max_t: int = 2000  # steps before an episode is cut (no death and no win)
    start_room: int = 4  # the middle room
    start_cell: tuple[int, int] = (7, 7)  # row, col in the start room: an odd row, always free

    @property
    def n_rooms(self) -> int:
        return self.world_w * self.world_h


PARAMS = Params()


@dataclass(frozen=True)
class WorldPlan:
    base: list[int]  # [rooms * 208] FLOOR / WALL / SPIKES
    items: list[tuple[int, int]]  # (flat cell, kind GOLD / KEY / POTION)
    chests: list[int]  # flat cells
    npc: int  # flat cell (in the start room)
    locks: list[tuple[int, int]]  # (flat cell, flat cell): the two sides of a locked doorway


def _neighbour(room: int, side: int, p: Params) -> int | None:
    ry, rx = divmod(room, p.world_w)
    dy, dx = ((-1, 0), (1, 0), (0, -1), (0, 1))[side]
    ny, nx = ry + dy, rx + dx
    if 0 <= ny < p.world_h and 0 <= nx < p.world_w:
        return ny * p.world_w + nx
    return None


def plan_world(seed: int, index: int, p: Params = PARAMS) -> WorldPlan:
    draws = [0]

    def r(n: int) -> int:
        draws[0] += 1
        return hash_int(seed, index, draws[0], 0x5EED) % n

    base = [FLOOR] * (p.n_rooms * ROOM_CELLS)
    free: list[list[int]] = []  # per room: floor cells things may lie on
    spots: list[list[int]] = []  # per room: even-even cells for solid things
    start = p.start_room * ROOM_CELLS + p.start_cell[0] * ROOM_C + p.start_cell[1]
    for room in range(p.n_rooms):
        at = room * ROOM_CELLS
        doors = {SIDES[s] for s in range(4) if _neighbour(room, s, p) is not None}
        for y in range(ROOM_R):
            for x in range(ROOM_C):
                edge = y in (0, ROOM_R - 1) or x in (0, ROOM_C - 1)
                if edge and (y, x) not in doors:
                    base[at + y * ROOM_C + x] = WALL
        room_spots = []
        for y in range(2, 11, 2):
            for x in range(2, 13, 2):
                if r(256) < p.pillar_p256:
                    base[at + y * ROOM_C + x] = WALL
                else:
                    room_spots.append(at + y * ROOM_C + x)
        near_door = {(y + dy, x + dx) for y, x in doors for dy, dx in ((0, 0), (1, 0), (-1, 0),
                                                                       (0, 1), (0, -1))}  # fmt: skip
        room_free = []
        for y in range(1, ROOM_R - 1):
            for x in range(1, ROOM_C - 1):
                c = at + y * ROOM_C + x
                if base[c] != FLOOR or (y, x) in near_door or c == start:
                    continue
                if r(256) < p.spike_p256:
                    base[c] = SPIKES
                else:
                    room_free.append(c)
        free.append(room_free)
        spots.append(room_spots)
    # Locked doorways: distinct edges between rooms; keys where the start reaches without them.
    edges = [(a, s) for a in range(p.n_rooms) for s in (1, 3) if _neighbour(a, s, p) is not None]
    locks: list[tuple[int, int]] = []
    locked_pairs: set[tuple[int, int]] = set()
    for _ in range(p.n_keys):
        a, s = edges.pop(r(len(edges)))
        b = _neighbour(a, s, p)
        assert b is not None
        ya, xa = SIDES[s]
        yb, xb = SIDES[s - 1]  # the opposite side: DOWN(1) <-> UP(0), RIGHT(3) <-> LEFT(2)
        locks.append((a * ROOM_CELLS + ya * ROOM_C + xa, b * ROOM_CELLS + yb * ROOM_C + xb))
        locked_pairs |= {(a, b), (b, a)}
    reach, q = {p.start_room}, deque([p.start_room])
    while q:
        a = q.popleft()
        for s in range(4):
            b = _neighbour(a, s, p)
            if b is not None and b not in reach and (a, b) not in locked_pairs:
                reach.add(b)
                q.append(b)
    taken: set[int] = set()

    def place(rooms: list[int], pool: list[list[int]]) -> int:
        while True:
            room = rooms[r(len(rooms))]
            if not pool[room]:
                continue
            c = pool[room].pop(r(len(pool[room])))
            if c not in taken:
                taken.add(c)
                return c

    all_rooms = list(range(p.n_rooms))
    npc = place([p.start_room], spots)
    chests = [place(all_rooms, spots) for _ in range(p.n_chests)]
    for c in [npc, *chests]:  # a solid thing's cell never holds an item
        for room_free in free:
            if c in room_free:
                room_free.remove(c)
    items = [(place(sorted(reach), free), KEY) for _ in range(p.n_keys)]
    items += [(place(all_rooms, free), POTION) for _ in range(p.n_potions)]
    items += [(place(all_rooms, free), GOLD) for _ in range(p.n_items - len(items))]
    return WorldPlan(base, items, chests, npc, locks)


@dataclass(frozen=True)
class Bank:
    """Every world of a seed as tensors [W, ...] on the device, and the tile atlases."""

    seed: int
    base: torch.Tensor  # int64 [W, rooms * 208] FLOOR / WALL / SPIKES
    item_cell: torch.Tensor  # int64 [W, K] flat cell
    item_kind: torch.Tensor  # int64 [W, K] GOLD / KEY / POTION
    chest_cell: torch.Tensor  # int64 [W, C]
    npc_cell: torch.Tensor  # int64 [W]
    lock_cell: torch.Tensor  # int64 [W, D, 2] both sides of each locked doorway
    neighbour: torch.Tensor  # int64 [rooms, 4] the room beyond each side, -1 where none
    atlas: torch.Tensor  # uint8 [T, 16, 16, 3]
    atlas_half: torch.Tensor  # uint8 [T, 8, 8, 3]
    atlas_obs: torch.Tensor  # uint8 [T, 4, 4] in 0..3: atlas_half shaded and halved (render_shades)


def build_bank(seed: int, device: torch.device, p: Params = PARAMS) -> Bank:
    plans = [plan_world(seed, j, p) for j in range(p.n_worlds)]
    nb = [
        [-1 if (b := _neighbour(a, s, p)) is None else b for s in range(4)]
        for a in range(p.n_rooms)
    ]
    t = dict(
        base=torch.tensor([pl.base for pl in plans]),
        item_cell=torch.tensor([[c for c, _ in pl.items] for pl in plans]),
        item_kind=torch.tensor([[k for _, k in pl.items] for pl in plans]),
        chest_cell=torch.tensor([pl.chests for pl in plans]),
        npc_cell=torch.tensor([pl.npc for pl in plans]),
        lock_cell=torch.tensor([pl.locks for pl in plans]).view(p.n_worlds, p.n_keys, 2),
        neighbour=torch.tensor(nb),
        atlas=tile_atlas(16),
        atlas_half=tile_atlas(8),
        atlas_obs=obs_atlas(tile_atlas(8)),
    )
    return Bank(seed=seed, **{k: v.to(device) for k, v in t.items()})
