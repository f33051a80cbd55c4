"""core/goal bounds (issue 8, m3): the done count saturates at k and never wraps, k is bounded, and
window_floor is the distance tau must stay below for done never to fire on a non-goal trace."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core import goal as G

FAST = settings(max_examples=60, deadline=None)
I32_MAX = 2**31 - 1
K_MAX = 1000  # the bound core.goal.K_MAX must have


def test_k_beyond_k_max_is_refused() -> None:
    """k = 2^31 compared with the int32 count as -2^31: every step was done (gate m3 passed at step 1)."""
    g = torch.zeros(2, 3, dtype=torch.uint8)
    far = torch.full((1, 2, 3), 3, dtype=torch.uint8)  # dist 1: never a match
    for k in (2**31, K_MAX + 1):
        with pytest.raises(ValueError, match=r"k: must be an int in 1\.\.1000"):
            G.step(G.init_consec(1), far, g, 0.5, k)
    _, _, done = G.step(G.init_consec(1), far, g, 0.5, K_MAX)
    assert not done.any()


@FAST
@given(st.integers(0, I32_MAX), st.integers(1, K_MAX), st.integers(1, 5))
def test_count_saturates_at_k_and_never_wraps(start: int, k: int, steps: int) -> None:
    g = torch.zeros(2, 3, dtype=torch.uint8)
    hit = torch.zeros(1, 2, 3, dtype=torch.uint8)
    c = torch.tensor([start], dtype=torch.int32)
    for i in range(steps):
        c, _, done = G.step(c, hit, g, 0.5, k)
        assert c.dtype == torch.int32 and 0 <= int(c[0]) <= k
        assert int(c[0]) == min(start + i + 1, k) and bool(done[0]) == (int(c[0]) >= k)


@FAST
@given(
    st.lists(st.floats(0, 1, width=32, allow_subnormal=False), min_size=1, max_size=30),
    st.floats(0.0625, 1, width=32, allow_subnormal=False),
    st.integers(1, 4),
)
def test_done_fires_exactly_when_tau_exceeds_the_window_floor(
    curve: list[float], tau: float, k: int
) -> None:
    d = torch.tensor(curve, dtype=torch.float32).reshape(-1, 1)
    floor = G.window_floor(d, k)
    brute = min((max(curve[t : t + k]) for t in range(len(curve) - k + 1)), default=math.inf)
    assert floor == brute
    assert bool(G.done_steps(d, tau, k).any()) == (floor < tau)


def test_recommend_tau_sits_midway_to_the_nearest_non_goal_trace() -> None:
    curve = torch.tensor([0.13, 0.135, 0.0, 0.007, 0.006])
    own = G.recommend_tau(curve)
    assert own["tau"] == pytest.approx((0.007 + 0.13) / 2)  # no other trace: the curve's own prefix
    cal = G.recommend_tau(curve, others=0.094)  # the START menu in room 2 is nearer
    assert cal["tau"] == pytest.approx((0.007 + 0.094) / 2) and cal["nearest_other"] == 0.094
    with pytest.raises(ValueError, match="no tau separates them"):
        G.recommend_tau(curve, others=0.005)
