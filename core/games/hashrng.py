"""Counter-based random numbers: a 32-bit integer hash of (env key, frame counter, stream).

Randomness is a pure function of tensors already in a game's state, so a step is reproducible from the
state alone, batch size does not matter (env i's key depends only on the seed and i), and CPU and CUDA
give the same bits. Values are 32-bit unsigned numbers carried in int64 tensors; every product stays
below 2**63 (a value < 2**32 times a multiplier < 2**31), so nothing overflows on any device.
"""

from __future__ import annotations

import torch

M32 = 0xFFFFFFFF  # the hash works on 32-bit words
_M1 = 0x7FEB352D  # multipliers of the "lowbias32" family, both < 2**31 to keep int64 products exact
_M2 = 0x5BD1E995


def hash32(x: torch.Tensor) -> torch.Tensor:
    """int64 [...] -> int64 [...] in [0, 2**32): a bijective avalanche mix of the low 32 bits."""
    x = x & M32
    x = x ^ (x >> 16)
    x = (x * _M1) & M32
    x = x ^ (x >> 15)
    x = (x * _M2) & M32
    return x ^ (x >> 16)


def hash_int(*words: int) -> int:
    """The same mix on Python ints, folding several words: for set-up code (level generation)."""
    h = 0x9E3779B9
    for w in words:
        h = _mix((h ^ w) & M32)
    return h


def _mix(x: int) -> int:
    x ^= x >> 16
    x = (x * _M1) & M32
    x ^= x >> 15
    x = (x * _M2) & M32
    return x ^ (x >> 16)


def env_keys(seed: int, n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """int64 [n]: one key per env, a function of (seed, env index) only, so independent of n."""
    s = hash_int(seed & M32, (seed >> 32) & M32)
    idx = torch.arange(n, dtype=torch.int64, device=device)  # [n]
    return hash32(hash32(idx + 0x632BE5AB) ^ s)  # [n]


def rand_u32(key: torch.Tensor, counter: torch.Tensor, stream: int) -> torch.Tensor:
    """key int64 [N] (or [N, ...] broadcastable), counter int64 [N] -> int64 uniform in [0, 2**32)."""
    return hash32(key ^ hash32(counter * 64 + stream))


def start_draw(
    seed: int, n: int, device: torch.device, stream: int, count: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What every game's reset begins with -> (each env's key int64 [n], its tick, zeros int64 [n],
    a draw in 0..count-1 from `stream` at tick 0: the level or world it starts in)."""
    key = env_keys(int(seed), n, device)  # [n]
    tick = torch.zeros(n, dtype=torch.int64, device=device)  # [n]
    return key, tick, rand_u32(key, tick, stream) % count
