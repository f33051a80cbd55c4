"""core/goal: the matcher and the done reducer, as properties over random shade frames (CPU)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core import goal as G

H, W = 6, 5  # small frames: the math does not depend on size
FAST = settings(max_examples=60, deadline=None)


def shades(seed: int, *shape: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 4, shape, generator=g, dtype=torch.uint8)


def ref_dist(frame: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
    return (frame.double() - goal.double()).abs().flatten(1).mean(1) / 3


@FAST
@given(st.integers(0, 2**31), st.integers(1, 9), st.sampled_from([None, 1, 2, 3]))
def test_dist_is_the_normalized_l1_mean(seed: int, n: int, chunk: int | None) -> None:
    f, g = shades(seed, n, H, W), shades(seed + 1, H, W)
    d = G.dist(f, g, chunk)
    assert d.dtype == torch.float32 and d.shape == (n,)
    assert torch.allclose(d.double(), ref_dist(f, g), atol=1e-7)
    assert torch.equal(d, G.dist(f, g))  # chunking never changes a bit
    assert bool(((d >= 0) & (d <= 1)).all())


def test_dist_extremes() -> None:
    g = torch.zeros(H, W, dtype=torch.uint8)
    f = torch.stack([g, g + 3, g + 1])
    assert G.dist(f, g).tolist() == pytest.approx([0.0, 1.0, 1 / 3])


@FAST
@given(st.integers(0, 2**31), st.integers(1, 6), st.integers(1, 4))
def test_stack_goal_is_the_mean_over_the_stack(seed: int, n: int, k: int) -> None:
    f, g = shades(seed, n, k, H, W), shades(seed + 1, k, H, W)
    per = torch.stack([G.dist(f[:, i], g[i]) for i in range(k)], 1)  # [N, K]
    assert torch.allclose(G.dist(f, g), per.mean(1), atol=1e-6)


@FAST
@given(st.integers(0, 2**31), st.integers(2, 8), st.integers(0, 7))
def test_batch_independence(seed: int, n: int, j: int) -> None:
    """An env's dist and done depend on its own frame and count only."""
    j %= n
    f, g = shades(seed, n, H, W), shades(seed + 1, H, W)
    consec = torch.randint(
        0, 5, (n,), dtype=torch.int32, generator=torch.Generator().manual_seed(seed)
    )
    c, d, done = G.step(consec, f, g, 0.3, 2)
    c1, d1, done1 = G.step(consec[j : j + 1], f[j : j + 1], g, 0.3, 2)
    assert torch.equal(c[j : j + 1], c1) and torch.equal(d[j : j + 1], d1)
    assert torch.equal(done[j : j + 1], done1)
    f2 = f.clone()
    f2[(j + 1) % n] = 3 - f2[(j + 1) % n]  # change another env only
    assert G.step(consec, f2, g, 0.3, 2)[1][j] == d[j]


@FAST
@given(
    st.lists(st.floats(0, 1, width=32, allow_subnormal=False), min_size=1, max_size=40),
    st.floats(0.0625, 1, width=32, allow_subnormal=False),  # compared in float32, dist's dtype
    st.integers(1, 5),
)
def test_reducer_counts_consecutive_matches(curve: list[float], tau: float, k: int) -> None:
    """consec = consec + 1 if dist < tau else 0 (reset on a miss); done = consec >= k."""
    d = torch.tensor(curve, dtype=torch.float32).reshape(-1, 1)
    done = G.done_steps(d, tau, k)[:, 0].tolist()
    run = 0
    for t, x in enumerate(curve):
        run = run + 1 if x < tau else 0
        assert done[t] == (run >= k), (t, x, run)


def test_threshold_crossing_is_strict() -> None:
    """dist == tau is a miss; one step below starts the count, k steps below make done."""
    g = torch.zeros(1, 3, dtype=torch.uint8)
    at_tau = torch.tensor([[[1, 0, 0]]], dtype=torch.uint8)  # dist 1/9
    hit = torch.zeros(1, 1, 3, dtype=torch.uint8)
    tau = float(G.dist(at_tau, g)[0])
    c = G.init_consec(1)
    c, d, done = G.step(c, at_tau, g, tau, 2)
    assert c.tolist() == [0] and not done.any()
    c, _, done = G.step(c, hit, g, tau, 2)
    assert c.tolist() == [1] and not done.any()
    c, _, done = G.step(c, hit, g, tau, 2)
    assert c.tolist() == [2] and done.all()
    c, _, done = G.step(c, at_tau, g, tau, 2)  # a miss resets the count and done
    assert c.tolist() == [0] and not done.any()


def test_k1_is_done_on_the_first_match() -> None:
    g = torch.zeros(H, W, dtype=torch.uint8)
    c, _, done = G.step(G.init_consec(2), torch.stack([g, g + 3]), g, 0.1, 1)
    assert c.tolist() == [1, 0] and done.tolist() == [True, False]
    assert c.dtype == torch.int32 and done.dtype == torch.bool


@pytest.mark.parametrize(
    ("frame", "goal", "msg"),
    [
        (
            torch.zeros(2, H, W, dtype=torch.uint8),
            torch.zeros(H, W + 1, dtype=torch.uint8),
            "shape",
        ),
        (torch.zeros(2, H, W, dtype=torch.int16), torch.zeros(H, W, dtype=torch.uint8), "dtype"),
        (torch.zeros(2, H, W, dtype=torch.uint8), torch.zeros(H, W, dtype=torch.float32), "dtype"),
        (torch.zeros(H, W, dtype=torch.uint8), torch.zeros(H, W, dtype=torch.uint8), "shape"),
        (
            torch.zeros(2, 3, H, W, dtype=torch.uint8),
            torch.zeros(2, H, W, dtype=torch.uint8),
            "shape",
        ),
        (torch.zeros(2, H, W, dtype=torch.uint8), torch.zeros(W, dtype=torch.uint8), "shape"),
    ],
)
def test_bad_shapes_and_dtypes_are_refused(frame, goal, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        G.dist(frame, goal)


def test_validation_helpers() -> None:
    ok = torch.zeros(72, 80, dtype=torch.uint8)
    G.check_goal(ok, (72, 80))
    with pytest.raises(ValueError, match=r"values must lie in 0\.\.3, found 4"):
        G.check_goal(ok + 4)
    with pytest.raises(ValueError, match="dtype"):
        G.check_goal(ok.to(torch.int32))
    with pytest.raises(ValueError, match=r"shape must be \[72, 80\]"):
        G.check_goal(torch.zeros(72, 81, dtype=torch.uint8), (72, 80))
    with pytest.raises(ValueError, match="shape"):
        G.check_goal(torch.zeros(1, 2, 72, 80, dtype=torch.uint8))
    for tau in (0.0, -0.1, 1.5, float("nan"), True):
        with pytest.raises(ValueError, match="tau"):
            G.check_params(tau, 2)
    for k in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k"):
            G.check_params(0.1, k)
    with pytest.raises(ValueError, match="consec"):
        G.step(torch.zeros(2, dtype=torch.int64), ok[None].expand(2, -1, -1), ok, 0.1, 2)


def test_recommend_tau_sits_midway_between_goal_and_other_frames() -> None:
    curve = torch.tensor([0.13, 0.3, 0.14, 0.135, 0.0, 0.007, 0.005, 0.0])
    r = G.recommend_tau(curve)
    assert r["goal_max"] == pytest.approx(0.007) and r["nearest_other"] == pytest.approx(0.13)
    assert r["tau"] == pytest.approx((0.007 + 0.13) / 2) and r["floor"] == 0.0
    assert r["tau"] == pytest.approx(r["floor"] + r["margin"]) and r["goal_steps"] == 4
    with pytest.raises(ValueError, match="no gap"):
        G.recommend_tau(torch.tensor([0.0, 0.1, 0.0, 0.2]))  # ends away from the goal


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_equals_cpu_bit_for_bit() -> None:
    f, g = shades(1, 4096, 72, 80), shades(2, 72, 80)
    consec = torch.randint(0, 3, (4096,), dtype=torch.int32)
    cpu = G.step(consec, f, g, 0.66, 2)
    gpu = G.step(consec.cuda(), f.cuda(), g.cuda(), 0.66, 2)
    for a, b in zip(cpu, gpu, strict=True):
        assert torch.equal(a, b.cpu())
    fs, gs = shades(3, 64, 4, 72, 80), shades(4, 4, 72, 80)
    assert torch.equal(G.dist(fs, gs), G.dist(fs.cuda(), gs.cuda()).cpu())
