"""Clips of a built-in game and of a world model from the same state, shared by the world-model gates
(m4, m5) and their train verb.

    state = warm_starts(game, seed, n, warm)            # n varied states of the seed's levels
    acts = held_actions(n, steps, seed)                  # each action held 2..8 frames
    truth = play(game, state, acts)                      # Clip: frames [N, T+1, H, W, 3], done, info
    gen = generate(model, truth.frames[:, 0], acts, z)   # the model's clip from the first frame alone

Torch is imported by the callers (this module is only imported inside runs and train verbs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

HOLD = (2, 8)  # frames an action is held: a tap to a run-up (the game has no no-op)
SCRIPTED_SHARE = 0.5  # share of segments that follow the game's scripted policy (it gets places)
BATCH = 16  # clips per forward pass


@dataclass
class Clip:
    frames: torch.Tensor  # uint8 [N, T+1, H, W, 3]: the start, then one frame per action
    actions: torch.Tensor  # int64 [N, T]
    done: torch.Tensor  # bool [N, T]: the episode ended at that step (the game reset the env)
    info: dict[str, torch.Tensor]  # the game's truth per frame: key -> [N, T+1, ...]


def held_actions(
    n: int, steps: int, seed: int, hold: tuple[int, int] = HOLD, actions: int = 5
) -> torch.Tensor:
    """int64 [N, T]: uniform actions, each held for a uniform 2..8 frames (scripted, seeded)."""
    gen = torch.Generator().manual_seed(seed)
    out = torch.empty(n, steps, dtype=torch.int64)
    for i in range(n):
        t = 0
        while t < steps:
            length = int(torch.randint(hold[0], hold[1] + 1, (1,), generator=gen))
            out[i, t : t + length] = int(torch.randint(0, actions, (1,), generator=gen))
            t += length
    return out


def play(
    game: Any, state: Any, actions: torch.Tensor | None, steps: int = 0, seed: int = 0,
    render: bool = True,
) -> tuple[Clip, Any]:  # fmt: skip
    """Step the game from `state` under `actions` [N, T], or, when None, `steps` frames of the mixed
    policy (segments of 2..8 frames, each either the scripted policy or one held uniform action)
    -> (the clip, the final state). render=False leaves frames empty (truth only)."""
    n = state.x.shape[0]
    steps = actions.shape[1] if actions is not None else steps
    gen = torch.Generator().manual_seed(seed)
    seg_left = torch.zeros(n, dtype=torch.int64)
    seg_act = torch.zeros(n, dtype=torch.int64)
    seg_scripted = torch.zeros(n, dtype=torch.bool)
    frames = [game.render_rgb(state)] if render else []
    infos = [_info(game, state)]
    acts, dones = [], []
    for t in range(steps):
        if actions is None:
            new = seg_left <= 0
            seg_left = torch.where(
                new, torch.randint(HOLD[0], HOLD[1] + 1, (n,), generator=gen), seg_left
            )
            seg_act = torch.where(
                new, torch.randint(0, len(game.actions), (n,), generator=gen), seg_act
            )
            seg_scripted = torch.where(
                new, torch.rand(n, generator=gen) < SCRIPTED_SHARE, seg_scripted
            )
            seg_left = seg_left - 1
            a = torch.where(seg_scripted, game.scripted_policy(state, seed).cpu(), seg_act)
        else:
            a = actions[:, t]
        state, info = game.step(state, a.to(state.x.device))
        acts.append(a)
        dones.append(info["done"].cpu())
        infos.append({k: info[k].cpu() for k in INFO})
        if render:
            frames.append(game.render_rgb(state))
    clip = Clip(
        torch.stack(frames, 1).cpu() if render else torch.empty(0, dtype=torch.uint8),
        torch.stack(acts, 1) if acts else torch.zeros(n, 0, dtype=torch.int64),
        torch.stack(dones, 1) if dones else torch.zeros(n, 0, dtype=torch.bool),
        {k: torch.stack([i[k] for i in infos], 1) for k in INFO},
    )
    return clip, state


INFO = ("on_ground", "enemy_screen_x", "screen_x", "screen_y")  # the truth the gates read per frame
# (m5: grounded starts; m4: which RNG branches move a visible enemy differently; the pose verb: where
# the player is drawn)


def _info(game: Any, state: Any) -> dict[str, torch.Tensor]:
    from core.games import platformer

    if game.id != "platformer":
        raise ValueError(f"game {game.id}: the world-model gates read the platformer's truth")
    i = platformer.info(state)
    return {k: i[k].cpu() for k in INFO}


def warm_starts(game: Any, seed: int, n: int, warm: int) -> Any:
    """n states `warm` frames into the seed's levels under the mixed policy (varied positions, poses,
    speeds and camera offsets), no env mid-reset."""
    state = game.reset(seed, n, "cpu")
    _, state = play(game, state, None, warm, seed, render=False)
    return state


def branch(state: Any, copies: int, salt: int = 0x9E3779B1) -> Any:
    """Each env repeated `copies` times (env-major), copy j with its RNG key changed (j = 0 keeps the
    original): the same state whose random events (an enemy turning) unfold differently."""
    from core.games.hashrng import M32
    from core.games.platformer_state import take_envs

    n = state.x.shape[0]
    rep = take_envs(state, torch.arange(n).repeat_interleave(copies))
    j = torch.arange(copies, dtype=torch.int64).repeat(n)  # [N * copies]
    return replace(rep, key=(rep.key ^ (j * salt)) & M32)


@torch.no_grad()
def generate(
    model: Any, first: torch.Tensor, actions: torch.Tensor, noise: torch.Tensor, device: Any
) -> torch.Tensor:
    """The model's clip from one frame: uint8 first [N, H, W, 3], actions [N, T], noise [N, T, Z]
    -> uint8 [N, T+1, H, W, 3] (the first frame, then T generated; NaN shows as black)."""
    from core.metrics import to_frames, to_unit
    from core.models.protocols import one_frame_context

    out = []
    k = model.context_frames
    for i in range(0, first.shape[0], BATCH):
        ctx = one_frame_context(to_unit(first[i : i + BATCH]).to(device), k)  # [B, K, 3, H, W]
        a, z = actions[i : i + BATCH].to(device), noise[i : i + BATCH].to(device)
        y = model.rollout(ctx, a, z).float().cpu()  # [B, T, 3, H, W]
        frames = to_frames(y.flatten(0, 1)).view(y.shape[0], y.shape[1], *first.shape[1:])
        out.append(torch.cat([first[i : i + BATCH, None], frames], 1))
    return torch.cat(out)
