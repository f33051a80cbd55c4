"""The goal matcher and its done reducer (simple-rl-m3-plan §5 Slice A): pixels only, batched, any device.

dist(frame, goal) = mean(|frame - goal|) / 3 over uint8 shade frames, so 0 is identical and 1 is every
pixel at the opposite end of the scale. A step matches when dist < tau; an env is done once it has matched
k consecutive steps. The hot path never reads a tensor's value on the host (no .item(), no branching on
values), so it queues on CUDA without a sync. Integer sums make CPU and CUDA agree bit for bit.
"""

from __future__ import annotations

import math

import torch

SHADE_MAX = 3  # the darkest shade (core/pixels.py); dividing by it keeps dist in [0, 1]
DIST_METRIC = "l1_mean_norm"  # the name simple-rl-m3-plan §4.2 gives this matcher
CPU_CHUNK = 256  # frames per CPU pass: 2 x 256 x 5760 B = 2.9 MB of uint8 scratch stays in cache
K_MAX = (
    1000  # the most consecutive matches done may wait for: 1000 steps of 24 frames = 400 s at 60 Hz
)


def check_shades(x: torch.Tensor, name: str) -> None:
    """A uint8 tensor of shades 0..3, else ValueError. Reads the maximum: call at a boundary, not per step."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a torch tensor, got {type(x).__name__}")
    if x.dtype != torch.uint8:
        raise ValueError(f"{name}: dtype must be uint8 shades, got {x.dtype}")
    if x.numel() and int(x.max()) > SHADE_MAX:
        raise ValueError(f"{name}: values must lie in 0..{SHADE_MAX}, found {int(x.max())}")


def check_goal(goal: torch.Tensor, shape: tuple[int, ...] | None = None) -> None:
    """A goal template: uint8 shades [H, W] (one frame) or [K, H, W] (a stack), of `shape` when given."""
    if not isinstance(goal, torch.Tensor):
        raise ValueError(f"goal: expected a torch tensor, got {type(goal).__name__}")
    if goal.dim() not in (2, 3) or 0 in goal.shape:
        raise ValueError(f"goal: shape must be [H, W] or [K, H, W], got {list(goal.shape)}")
    if shape is not None and tuple(goal.shape) != tuple(shape):
        raise ValueError(f"goal: shape must be {list(shape)}, got {list(goal.shape)}")
    check_shades(goal, "goal")


def check_pair(frame: torch.Tensor, goal: torch.Tensor) -> None:
    """Shapes, dtypes and devices of a batch of frames (or stacks) against one goal; no values read."""
    for name, t in (("frame", frame), ("goal", goal)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name}: expected a torch tensor, got {type(t).__name__}")
        if t.dtype != torch.uint8:
            raise ValueError(f"{name}: dtype must be uint8 shades, got {t.dtype}")
    if goal.dim() not in (2, 3):
        raise ValueError(f"goal: shape must be [H, W] or [K, H, W], got {list(goal.shape)}")
    if frame.dim() != goal.dim() + 1 or tuple(frame.shape[1:]) != tuple(goal.shape):
        want = "[N, " + ", ".join(str(s) for s in goal.shape) + "]"
        raise ValueError(
            f"frame: shape must be {want} for goal {list(goal.shape)}, got {list(frame.shape)}"
        )
    if frame.device != goal.device:
        raise ValueError(f"frame is on {frame.device} but goal is on {goal.device}")


def check_params(tau: float, k: int) -> None:
    if isinstance(tau, bool) or not isinstance(tau, int | float) or not math.isfinite(tau):
        raise ValueError(f"tau: must be a finite number, got {tau!r}")
    if not 0 < tau <= 1:
        raise ValueError(f"tau: must lie in (0, 1] (dist is normalized to [0, 1]), got {tau}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= K_MAX:
        raise ValueError(f"k: must be an int in 1..{K_MAX}, got {k!r}")


def dist(frame: torch.Tensor, goal: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """frame uint8 [N, H, W] vs goal [H, W], or stacks [N, K, H, W] vs [K, H, W] -> float32 [N] in [0, 1].

    chunk: frames per pass; default CPU_CHUNK on the CPU (the scratch stays in cache) and the whole batch
    elsewhere (one kernel per op on CUDA).
    """
    check_pair(frame, goal)
    n, per = frame.shape[0], goal.numel()
    step = chunk or (CPU_CHUNK if frame.device.type == "cpu" else max(n, 1))
    if n <= step:  # one pass (N=1 in a replay): no scratch for the sums, a few torch ops fewer
        d = frame - goal  # [N, (K,) H, W] uint8, wrapping as below
        d = torch.minimum(d, d.neg())  # [N, (K,) H, W] |f - g|
        total = d.reshape(n, per).sum(dim=1, dtype=torch.int32)  # [N]
        return total.to(torch.float32).div_(float(per * SHADE_MAX))  # [N]; the same one rounding
    total = torch.empty(n, dtype=torch.int32, device=frame.device)  # [N] sum of |frame - goal|
    for s in range(0, n, step):
        d = (
            frame[s : s + step] - goal
        )  # [C, (K,) H, W] uint8: f - g wraps to 256 - |f - g| when g > f
        d = torch.minimum(d, d.neg())  # |f - g| in 0..3: the smaller of d and 256 - d
        torch.sum(d.reshape(d.shape[0], per), dim=1, dtype=torch.int32, out=total[s : s + step])
    return total.to(torch.float32) / float(per * SHADE_MAX)  # [N]; exact integer sum, one rounding


def step(
    consec: torch.Tensor, frame: torch.Tensor, goal: torch.Tensor, tau: float, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The done reducer: (consec int32 [N], frame) -> (consec' int32 [N], dist float32 [N], done bool [N]).

    consec' = min(consec + 1, k) where dist < tau else 0; done = consec' >= k. tau is compared in
    float32. The count saturates at k (<= K_MAX), so it never wraps however long an env stays at the goal.
    """
    if consec.dtype != torch.int32 or consec.dim() != 1 or consec.shape[0] != frame.shape[0]:
        raise ValueError(
            f"consec: must be int32 [{frame.shape[0]}] (one count per env), got {consec.dtype} {list(consec.shape)}"
        )
    check_params(tau, k)
    d = dist(frame, goal)  # [N]
    nxt = (
        consec.clamp(max=k - 1).add_(1).mul_(d < tau)
    )  # [N] int32: the count + 1, or 0 off the goal
    return nxt, d, nxt >= k  # [N], [N], [N] bool


def init_consec(n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    return torch.zeros(n, dtype=torch.int32, device=device)  # [N] no env has matched yet


def done_steps(d: torch.Tensor, tau: float, k: int) -> torch.Tensor:
    """The reducer folded over a whole curve: dist float32 [T, N] -> done bool [T, N] (offline use)."""
    consec = init_consec(d.shape[1], d.device)  # [N]
    out = []
    for t in range(d.shape[0]):
        consec = torch.where(d[t] < tau, consec.clamp(max=k - 1) + 1, torch.zeros_like(consec))
        out.append(consec >= k)
    return torch.stack(out) if out else torch.zeros(d.shape, dtype=torch.bool, device=d.device)


def window_floor(d: torch.Tensor, k: int) -> float:
    """dist [T, N] of a trace that must not reach the goal -> min over envs and windows of k consecutive
    steps of the window's largest dist: done fires on it (core.goal.step) exactly when tau exceeds this.
    inf when T < k (no window: done cannot fire). Reads a value (host): offline use."""
    if d.shape[0] < k or d.numel() == 0:
        return math.inf
    return float(d.unfold(0, k, 1).amax(dim=-1).min())  # [T - k + 1, N, k] -> [T - k + 1, N] -> min


def recommend_tau(
    curve: torch.Tensor, tail: int = 10, others: float = math.inf
) -> dict[str, float]:
    """simple-rl-m3-plan §6 on a goal-reaching dist curve [T]: tau = min(last `tail` steps) + margin.

    The curve splits into a prefix away from the goal and a suffix at it, where the gap between the
    suffix's largest and the prefix's smallest distance is widest. margin = the suffix's spread above the
    floor + half that gap, so tau sits midway between the worst goal frame (animation, fades) and the
    nearest non-goal frame: the most slack against both a miss and a false done. others: the nearest
    distance of non-goal traces (window_floor; simple-rl-m3-plan §9 Risk B); when it is closer than the
    curve's own prefix, tau sits midway between the worst goal frame and it. Reads values (host).
    """
    d = [float(x) for x in curve.reshape(-1).tolist()]
    if len(d) < 2:
        raise ValueError(f"calibration needs a curve of at least 2 steps, got {len(d)}")
    floor = min(d[-tail:])
    best = max(
        ((min(d[:s]) - max(d[s:]), s) for s in range(1, len(d))), key=lambda gs: (gs[0], -gs[1])
    )
    gap, s = best
    if gap <= 0:
        raise ValueError("the curve has no gap between the goal and the steps before it")
    goal_max, prefix = max(d[s:]), min(d[:s])
    nearest = min(prefix, others)
    if nearest <= goal_max:
        raise ValueError(
            f"a non-goal trace comes within {nearest:.4g} of the goal, no farther than the goal "
            f"frames themselves ({goal_max:.4g}): no tau separates them"
        )
    tau = goal_max + (nearest - goal_max) / 2
    return {
        "tau": tau,
        "floor": floor,
        "margin": tau - floor,
        "goal_max": goal_max,
        "nearest_other": nearest,
        "nearest_prefix": prefix,
        "nearest_negative": others,
        "goal_steps": float(len(d) - s),
    }
