"""Contexts where the game's true future is uncertain, for m2's diversity criterion.

Two sources: a built-in game's RNG (below), and the ALE's sticky actions (`ale_contexts`).

A built-in game's randomness is counter-based: hash(env key, tick, stream). Stepping copies of one state
that differ only in their RNG key, with the same action, gives the futures the game could have produced
from that exact context (in the platformer: an enemy turning on its own, or not). A context is
*stochastic* when those futures are not all identical; only those are used to judge diversity.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import torch

from core.games import get_game
from core.games.hashrng import M32

GOLDEN = 0x9E3779B1  # key offsets for the copies: an odd 32-bit constant spreads them apart


@dataclass
class Contexts:
    frames: torch.Tensor  # uint8 [C, 3, H, W, 3]: the context, oldest first
    actions: torch.Tensor  # int64 [C]: the action taken after the last context frame
    futures: torch.Tensor  # uint8 [C, M, H, W, 3]: the next frame under M RNG keys
    tried: int  # contexts examined (stochastic or not)


def _take(state: Any, idx: torch.Tensor) -> Any:
    """The envs idx of a batched State (every per-env tensor indexed; shared fields kept)."""
    n = state.key.shape[0]
    kw = {
        f.name: getattr(state, f.name)[idx]
        for f in fields(state)
        if isinstance(getattr(state, f.name), torch.Tensor)
        and getattr(state, f.name).shape[:1] == (n,)
    }
    return replace(state, **kw)


def supported(game: str) -> bool:
    try:
        g = get_game(game)
    except KeyError:
        return False
    return hasattr(g.reset(0, 1, "cpu"), "key")


STICKY_P = 0.25  # the ALE's standard repeat_action_probability (Machado et al. 2018)
KEEP_P = 0.0  # the ALE probe's policy: keep the last action with this probability (0: uniform)
ALE_COPIES = 16  # sticky draws per context: a step of 4 frames has at most 5 outcomes (switch at 0..3, never)
ALE_LIMIT = (
    40  # contexts kept: twice STOCHASTIC_MIN; most Atari contexts differ, memory stays bounded
)


def unsupported(backend: str, game: str) -> str | None:
    """Why the game offers no source of true futures to branch, or None."""
    if backend == "ale":
        return None
    if backend == "builtin" and supported(game):
        return None
    return (f"backend {backend} game {game}: no way to branch its randomness here (the built-in "
            "games' RNG and the ALE's sticky actions are)")  # fmt: skip


def contexts(
    backend: str, game: str, seed: int, envs: int, copies: int, times: tuple[int, ...]
) -> Contexts:
    if backend == "ale":
        return ale_contexts(game, seed, envs, copies, times)
    return stochastic_contexts(game, seed, envs, copies, times)


def ale_contexts(game: str, seed: int, envs: int, copies: int, times: tuple[int, ...]) -> Contexts:
    """Atari: `envs` emulators under a uniformly random policy (sticky actions off, as the backend
    steps); at each step in `times`, each env's next frame is drawn min(copies, ALE_COPIES) times with
    sticky actions on (p = STICKY_P, from a clone of the emulator) and the contexts whose draws differ
    are kept, up to ALE_LIMIT."""
    import numpy as np

    from shell.backends.ale import AleBackend

    env = AleBackend(num_envs=envs, game=game)
    frames, info = env.reset(seed)
    n_act = env.codec.n
    rng = np.random.default_rng(seed)
    act = rng.integers(0, n_act, envs)
    prev = act.copy()
    hist, fresh = [frames], [torch.ones(envs, dtype=torch.bool)]
    keep_f, keep_a, keep_y, tried = [], [], [], 0
    for t in range(1, max(times) + 1):
        new = np.where(rng.random(envs) < KEEP_P, act, rng.integers(0, n_act, envs))
        prev, act = act, new
        if t in times and len(hist) >= 3:
            for e in range(envs):
                if fresh[-1][e] or fresh[-2][e]:
                    continue
                if len(keep_f) >= ALE_LIMIT:
                    break
                fut = env.branch_sticky(e, int(prev[e]), int(act[e]), min(copies, ALE_COPIES), STICKY_P,
                                        seed * 7919 + t * 131 + e)  # fmt: skip
                tried += 1
                if (fut != fut[:1]).any():
                    keep_f.append(torch.stack([h[e] for h in hist[-3:]]))
                    keep_a.append(int(act[e]))
                    keep_y.append(fut)
        frames, info = env.step(torch.from_numpy(act))
        hist = [*hist[-2:], frames]
        fresh = [*fresh[-2:], info["done"].bool()]
    env.close()
    h, w = hist[-1].shape[1:3]
    if not keep_f:
        empty = torch.zeros(0, 3, h, w, 3, dtype=torch.uint8)
        return Contexts(empty, torch.zeros(0, dtype=torch.int64), empty[:, :0], tried)
    return Contexts(torch.stack(keep_f), torch.tensor(keep_a), torch.stack(keep_y), tried)


def stochastic_contexts(
    game: str, seed: int, envs: int, copies: int, times: tuple[int, ...]
) -> Contexts:
    """Run `envs` envs under the scripted policy; at each step in `times`, branch every env into
    `copies` RNG keys, step them with the same action and keep the contexts whose futures differ."""
    g = get_game(game)
    state = g.reset(seed, envs, "cpu")
    hist = [g.render_rgb(state)]  # uint8 [N, H, W, 3] per step
    fresh = [torch.ones(envs, dtype=torch.bool)]  # frame starts an episode
    offs = (torch.arange(copies, dtype=torch.int64) * GOLDEN) & M32  # [M]; copy 0 keeps the key
    keep_f, keep_a, keep_y, tried = [], [], [], 0
    for t in range(1, max(times) + 1):
        act = g.scripted_policy(state, seed)  # int64 [N]
        if t in times and len(hist) >= 3:
            ok = ~(fresh[-1] | fresh[-2])  # the 3 context frames lie in one episode
            idx = torch.arange(envs).repeat_interleave(copies)  # [N*M]
            rep = _take(state, idx)
            rep = replace(rep, key=rep.key ^ offs.repeat(envs))
            nxt, info = g.step(rep, act[idx])
            fut = g.render_rgb(nxt).view(envs, copies, *hist[-1].shape[1:])  # [N, M, H, W, 3]
            ok &= ~info["done"].view(envs, copies).any(1)
            differ = (fut != fut[:, :1]).flatten(1).any(1)  # [N]
            tried += int(ok.sum())
            pick = ok & differ
            if pick.any():
                ctx = torch.stack(hist[-3:], 1)[pick]  # [c, 3, H, W, 3]
                keep_f.append(ctx)
                keep_a.append(act[pick])
                keep_y.append(fut[pick])
        state, info = g.step(state, act)
        hist = [*hist[-2:], g.render_rgb(state)]
        fresh = [*fresh[-2:], info["done"].bool()]
    if not keep_f:
        h, w = hist[-1].shape[1:3]
        empty = torch.zeros(0, 3, h, w, 3, dtype=torch.uint8)
        return Contexts(empty, torch.zeros(0, dtype=torch.int64), empty[:, :0], tried)
    return Contexts(torch.cat(keep_f), torch.cat(keep_a), torch.cat(keep_y), tried)


class Futures:
    """uint8 futures [C, M, H, W, 3] seen as C float [M, 3, H, W] in [0, 1], one at a time (all at
    once would take C x M x 0.8 MB)."""

    def __init__(self, u8: torch.Tensor) -> None:
        self.u8 = u8

    def __len__(self) -> int:
        return self.u8.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.u8[i].permute(0, 3, 1, 2).float() / 255.0

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def outcome_counts(fut: torch.Tensor) -> list[int]:
    """One context's true futures [M, ...] (any dtype) -> how many of them show each distinct outcome
    (exactly equal futures are one outcome), in order of first appearance."""
    reps: list[torch.Tensor] = []
    counts: list[int] = []
    for f in fut:
        k = next((i for i, r in enumerate(reps) if torch.equal(r, f)), len(reps))
        if k == len(reps):
            reps.append(f)
            counts.append(0)
        counts[k] += 1
    return counts


def oracle_expected(counts: list[int], samples: int) -> float:
    """The chance that `samples` draws from the truth's own sampler (outcome o with its empirical
    frequency p_o among the branched futures) reach >= 2 outcomes: 1 - sum_o p_o ** samples."""
    m = sum(counts)
    return 1.0 - sum((c / m) ** samples for c in counts)


def oracle_samples(fut: torch.Tensor, samples: int, gen: torch.Generator) -> torch.Tensor:
    """The oracle reference's samples: `samples` of the context's own true futures [M, ...], drawn
    uniformly with replacement (so each outcome at its empirical frequency)."""
    return fut[torch.randint(0, fut.shape[0], (samples,), generator=gen)]
