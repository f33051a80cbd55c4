"""Gate m9's frames: a built-in game played under its mixed policy, for training and for held-out clips.

    play = play_mixed(game_id, seed, n, steps)      # Played: frames [N, T+1, 256, 256, 3], actions,
                                                    # fresh [N, T+1], truth per frame
    clips = heldout(game_id, seed, n, horizon)      # n starts after a varied warm-up, 2 + horizon frames

Torch is imported by the callers (this module is only imported inside runs and train verbs).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gates.m9.spec import SCRIPTED_SHARE, WARM

CONTEXT = 2  # true frames a model gets before a clip (core/models/cellcopy.py: a velocity)
TRUTH = {  # the game's truth the measures read, per frame
    "platformer": ("screen_x", "screen_y"),
    "puzzle": (),
    "rpg": ("hp", "gold", "keys", "potions", "room", "player_row", "player_col"),
}


@dataclass
class Played:
    frames: torch.Tensor  # uint8 [N, T+1, H, W, 3]
    actions: torch.Tensor  # int64 [N, T]: action t leads from frame t to frame t+1
    fresh: torch.Tensor  # bool [N, T+1]: frame t starts a new episode (the game reset the env)
    truth: dict[str, torch.Tensor]  # key -> [N, T+1]


def _module(game_id: str):
    from core.games import platformer, puzzle, rpg

    return {"platformer": platformer, "puzzle": puzzle, "rpg": rpg}[game_id]


def play_mixed(
    game_id: str, seed: int, n: int, steps: int, scripted: float = SCRIPTED_SHARE
) -> Played:
    """n envs of the game's `seed` levels, each step the scripted policy's action with probability
    `scripted`, else a uniform one (a seeded stream of its own)."""
    from core.games import get_game

    g, mod = get_game(game_id), _module(game_id)
    state = g.reset(seed, n, "cpu")
    gen = torch.Generator().manual_seed(seed)
    keys = TRUTH[game_id]
    info = mod.info(state)
    frames = [g.render_rgb(state)]
    truth = {k: [info[k]] for k in keys}
    fresh, acts = [torch.ones(n, dtype=torch.bool)], []
    for t in range(steps):
        use = torch.rand(n, generator=gen) < scripted
        a = torch.where(use, g.scripted_policy(state, seed), g.random_policy(state, seed + t + 1))
        state, info = g.step(state, a)
        acts.append(a)
        fresh.append(info["done"].bool())
        for k in keys:
            truth[k].append(info[k])
        frames.append(g.render_rgb(state))
    return Played(
        torch.stack(frames, 1),
        torch.stack(acts, 1),
        torch.stack(fresh, 1),
        {k: torch.stack(v, 1) for k, v in truth.items()},
    )


def windows(fresh: torch.Tensor) -> torch.Tensor:
    """fresh bool [N, T+1] -> int64 [W, 2] (episode, t): frames t-1, t -> t+1 inside one episode."""
    ok = ~(fresh[:, 1:-1] | fresh[:, 2:])  # [N, T-1]: index j is t = j + 1
    return ok.nonzero() + torch.tensor([0, 1])


def as_context(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [B, K, H, W, 3] -> float [B, K, 3, H, W] in [0, 1]: what the protocol's models take."""
    from core.metrics import to_unit

    b, k, h, w = frames.shape[:4]
    return to_unit(frames.flatten(0, 1)).view(b, k, 3, h, w)


def heldout(game_id: str, seed: int, n: int, horizon: int) -> Played:
    """n clips of CONTEXT + horizon frames, each starting after a warm-up drawn in WARM (a seeded
    choice per env), actions [n, horizon] those of the generated steps; `fresh` marks resets."""
    total = WARM[1] + CONTEXT + horizon
    p = play_mixed(game_id, seed, n, total)
    gen = torch.Generator().manual_seed(seed + 1)
    start = torch.randint(WARM[0], WARM[1] + 1, (n,), generator=gen)  # first context frame
    span = start[:, None] + torch.arange(CONTEXT + horizon)  # [n, 2 + H]
    rows = torch.arange(n)[:, None]
    return Played(
        p.frames[rows, span],
        p.actions[rows, span[:, CONTEXT - 1 : -1]],  # action t leads to generated frame t
        p.fresh[rows, span],
        {k: v[rows, span] for k, v in p.truth.items()},
    )
