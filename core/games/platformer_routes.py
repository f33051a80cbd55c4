"""Out-and-back routes through a platformer level (gate m7's LoopNav-style A -> B -> A test): the
scripted policy runs right, `back_policy` runs left the same way, and `route_actions` plays one then
the other then the first again. Pure functions of the state, batched."""

from __future__ import annotations

import torch

from core.games.platformer import JUMP, LEFT, PARAMS, Params, _solid, scripted_policy, step
from core.games.platformer_state import State


def back_policy(state: State, params: Params = PARAMS) -> torch.Tensor:
    """int64 [N]: run left; jump over pits and walls ahead on the left and over enemies coming from
    the left; keep jumping while rising (a full jump). The scripted policy's rules, mirrored."""
    p, s, b = params, state, state.bank
    lv = s.level
    px, py = s.x >> 4, s.y >> 4  # [N] level px of the hitbox's top-left
    front = px - 4 - ((-s.vx).clamp(min=0) >> 2)  # look further ahead at speed
    feet = (py + p.player_h) >> 4
    gap = ~_solid(b, lv, feet, front >> 4, p) & ~_solid(b, lv, feet + 1, front >> 4, p)
    wall = _solid(b, lv, (py + p.player_h - 1) >> 4, front >> 4, p) | _solid(
        b, lv, py >> 4, front >> 4, p
    )
    ey = b.enemy_box[lv][..., 3]  # [N, E]
    dx = s.ex - px.unsqueeze(1)  # [N, E]
    level_with = ((ey - py.unsqueeze(1)).abs() < 24) & b.enemy_valid[lv]
    enemy = (level_with & (dx < 8) & (dx > -64) & (s.edir > 0)).any(1)  # coming from the left
    want_jump = (gap | wall | enemy) & s.on_ground
    rising = ~s.on_ground & (s.vy < 0)
    return torch.where(want_jump | rising, JUMP, LEFT).to(torch.int64)


def route_actions(
    state: State, out: int, back: int, total: int, key: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Play the route in the game: `out` frames of the scripted policy (right), `back` frames of
    back_policy (left), then the scripted policy again to `total` frames.
    -> (actions int64 [N, T], camera_x int32 [N, T+1] from the start, done bool [N, T])."""
    acts, cams, dones = [], [state.cam.clone()], []
    s = state
    for t in range(total):
        a = back_policy(s) if out <= t < out + back else scripted_policy(s, key)
        s, inf = step(s, a)
        acts.append(a)
        cams.append(s.cam.clone())
        dones.append(inf["done"])
    return torch.stack(acts, 1), torch.stack(cams, 1), torch.stack(dones, 1)
