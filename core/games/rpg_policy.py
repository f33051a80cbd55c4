"""The RPG's policies: pure functions of (state, key), randomness from hash(env key ^ key, tick)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from core.games.hashrng import M32, rand_u32
from core.games.rpg_art import SPIKES, WALL
from core.games.rpg_world import PARAMS, ROOM_C, ROOM_CELLS, ROOM_R, SIDES, Params

if TYPE_CHECKING:
    from core.games.rpg import State

_S_POLICY = 32  # RNG streams
UP, DOWN, LEFT, RIGHT, USE = range(5)
_D = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _rand(state: State, key: int | torch.Tensor, stream: int) -> torch.Tensor:
    k = torch.as_tensor(key, dtype=torch.int64, device=state.row.device) & M32
    return rand_u32(state.key ^ k, state.tick, stream)  # [N]


def random_policy(state: State, key: int | torch.Tensor = 0) -> torch.Tensor:
    """int64 [N]: uniform actions."""
    return _rand(state, key, _S_POLICY) % 5


def _closed(state: State, cell: torch.Tensor) -> torch.Tensor:
    """bool [N]: a locked doorway still closed at flat cell [N]."""
    b = state.bank
    return ((b.lock_cell[state.world] == cell.view(-1, 1, 1)).any(2) & ~state.unlocked).any(1)


def _avoid(state: State, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(blocked, spiky) bool [N]: what the cell beyond action a (0..3) holds, within the room."""
    b, s, w = state.bank, state, state.world
    d = torch.tensor(_D, device=a.device)[a]  # [N, 2]
    r, c = s.row + d[:, 0], s.col + d[:, 1]
    inside = (r >= 0) & (r < ROOM_R) & (c >= 0) & (c < ROOM_C)
    cell = s.room * ROOM_CELLS + r.clamp(0, ROOM_R - 1) * ROOM_C + c.clamp(0, ROOM_C - 1)
    base = b.base[w, cell]
    solid = (base == WALL) | (b.chest_cell[w] == cell.unsqueeze(1)).any(1) | (b.npc_cell[w] == cell)
    solid |= _closed(s, cell) & (s.keys <= 0)
    return inside & solid, inside & (base == SPIKES)


def scripted_policy(
    state: State, key: int | torch.Tensor = 0, params: Params = PARAMS
) -> torch.Tensor:
    """int64 [N]: head for the nearest item or unopened chest in the room (and the healer when hurt),
    face a chest or the NPC and USE it, drink a potion at 2 HP or less; with nothing left in the room,
    leave by a doorway drawn every 48 steps (not a locked one without a key). Greedy steps, around
    pillars and spikes when the other axis is free; ~8% random actions so data covers every action."""
    p, s, b = params, state, state.bank
    w, dev = s.world, s.row.device
    big = torch.full_like(s.row, 10_000)
    ic, cc, nc = (
        b.item_cell[w],
        b.chest_cell[w],
        b.npc_cell[w].unsqueeze(1),
    )  # [N, K], [N, C], [N, 1]
    room = s.room.unsqueeze(1)
    hurt = (s.hp <= p.max_hp - 2).unsqueeze(1)
    cells = torch.cat([ic, cc, nc], 1)  # [N, M]
    want = torch.cat([~s.collected & (ic // ROOM_CELLS == room),
                      ~s.opened & (cc // ROOM_CELLS == room),
                      hurt & (nc // ROOM_CELLS == room)], 1)  # fmt: skip
    solid_t = torch.cat([torch.zeros_like(ic, dtype=torch.bool), torch.ones_like(cc, dtype=torch.bool),
                         torch.ones_like(nc, dtype=torch.bool)], 1)  # fmt: skip
    tr, tc = (cells % ROOM_CELLS) // ROOM_C, cells % ROOM_C
    dist = torch.where(
        want, (tr - s.row.unsqueeze(1)).abs() + (tc - s.col.unsqueeze(1)).abs(), big[0]
    )
    best = dist.argmin(1, keepdim=True)  # [N, 1]
    has = want.any(1)
    gr, gc = tr.gather(1, best).squeeze(1), tc.gather(1, best).squeeze(1)
    g_solid = solid_t.gather(1, best).squeeze(1)

    # No target here: a doorway, drawn among the usable ones (hash of the room and t // 48).
    sides = torch.tensor(SIDES, device=dev)  # [4, 2]
    door_cell = s.room.unsqueeze(1) * ROOM_CELLS + sides[:, 0] * ROOM_C + sides[:, 1]  # [N, 4]
    usable = b.neighbour[s.room] >= 0  # [N, 4]
    for k in range(4):
        usable[:, k] &= ~(_closed(s, door_cell[:, k]) & (s.keys <= 0))
    standing = (s.row.unsqueeze(1) == sides[:, 0]) & (s.col.unsqueeze(1) == sides[:, 1])  # [N, 4]
    inward = s.facing.unsqueeze(1) == (torch.arange(4, device=dev) ^ 1)  # facing away from side k
    onward = usable & ~(standing & inward)  # not back out the way the player just came in
    usable = torch.where(onward.any(1, keepdim=True), onward, usable)
    h = rand_u32(s.key ^ (s.room * 977 + s.episode * 7919), s.t // 48, _S_POLICY + 2)
    pick = h % usable.sum(1).clamp(min=1)  # [N] the pick-th usable side
    side = ((usable.cumsum(1) - 1) == pick.unsqueeze(1)) & usable
    side = side.float().argmax(1)  # [N]
    gr, gc = torch.where(has, gr, sides[side, 0]), torch.where(has, gc, sides[side, 1])
    g_solid &= has
    at_door = ~has & (s.row == gr) & (s.col == gc)

    dr, dc = gr - s.row, gc - s.col
    vert = torch.where(dr < 0, UP, DOWN)
    horiz = torch.where(dc < 0, LEFT, RIGHT)
    first = torch.where(dr.abs() >= dc.abs(), vert, horiz)
    second = torch.where(dr.abs() >= dc.abs(), horiz, vert)
    has_second = torch.where(dr.abs() >= dc.abs(), dc != 0, dr != 0)
    blk1, spk1 = _avoid(s, first)
    blk2, spk2 = _avoid(s, second)
    adjacent = (dr.abs() + dc.abs()) == 1
    act = first
    swap = has_second & ((blk1 & ~blk2) | (spk1 & ~spk2 & ~blk2)) & ~(g_solid & adjacent)
    act = torch.where(swap, second, act)
    r = _rand(s, key, _S_POLICY + 1)
    stuck = blk1 & ~swap & ~(g_solid & adjacent)
    across = torch.where(first < 2, LEFT, UP) + (r >> 9) % 2  # a perpendicular step
    act = torch.where(stuck, across, act)  # sidestep a pillar
    act = torch.where(g_solid & adjacent & (s.facing == first), USE, act)  # facing it: use it
    act = torch.where(at_door, side, act)  # out through the doorway
    act = torch.where((s.hp <= 2) & (s.potions > 0), USE, act)
    act = torch.where((r & 0xFF) < 20, (r >> 8) % 5, act)  # ~8%: anything
    return act.to(torch.int64)
