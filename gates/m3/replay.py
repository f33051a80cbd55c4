"""Replaying an action trace on a backend with the goal matcher on the device, and what people look at.

One replay: reset from the start state, then per trace line one backend step and one reducer step
(core.goal.step), all on the run's device; values come back to the host once, at the end. A stack
template [K, 72, 80] is matched against the newest K frames; the stack starts as K copies of the reset
frame and the newest frame is last (core.pixels.push_stack).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shell.errors import BadInput, Unavailable
from shell.registry import get_backend


@dataclass
class Replay:
    frames: Any  # uint8 [T + 1, N, 72, 80] on the CPU: the reset frame, then one per step
    dist: Any  # float32 [T, N] on the CPU (empty without a goal)
    consec: Any  # int32 [T, N]
    done: Any  # bool [T, N]
    frames_sha256: str
    dist_sha256: str

    @property
    def fingerprint(self) -> tuple[str, str]:
        return self.frames_sha256, self.dist_sha256


def open_backend(name: str, num_envs: int, device: Any, rom: Path, state: bytes) -> Any:
    """A ROM-playing backend (one that takes rom and state options) with every env at the start state."""
    from shell.backends.base import BackendError, BackendUnavailable

    entry = get_backend(name)
    if not {"rom", "state"} <= set(entry.options):
        raise BadInput(
            f"--backend {name}: gate m3 replays a ROM; use a backend with rom and state options (pyboy)"
        )
    if why := entry.available():
        raise Unavailable(f"backend {name}: {why}")
    try:
        return entry.create(num_envs, device, rom=str(rom), state=state)
    except BackendUnavailable as e:
        raise Unavailable(str(e)) from None
    except BackendError as e:
        raise BadInput(str(e)) from None


@contextlib.contextmanager
def one_cpu_thread(device: Any) -> Iterator[None]:
    """Torch on one CPU thread for a replay: a step's tensors are a few screens, too small to split,
    and idle OpenMP workers spin against the emulator for the same cores (6x slower on a busy 2-core box)."""
    import torch

    if torch.device(device).type != "cpu":
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def replay(
    backend: Any,
    actions: list[list[int]],
    goal: Any | None,
    tau: float,
    k: int,
    seed: int,
    state_name: str,
    advance: Callable[[int], None] = lambda n=1: None,
) -> Replay:
    import torch

    from core import goal as G
    from core.pixels import push_stack
    from shell.backends.base import BackendError

    dev, n, steps = backend.device, backend.num_envs, len(actions)
    try:
        frames, _ = backend.reset(seed)  # [N, 72, 80]
    except BackendError as e:
        raise BadInput(f"{state_name}: {e}") from None
    g = goal.to(dev) if goal is not None else None  # [72, 80] or [K, 72, 80]
    stacked = g is not None and g.dim() == 3
    obs = frames.unsqueeze(1).repeat(1, g.shape[0], 1, 1) if stacked else frames  # [N, (K,) 72, 80]
    consec = G.init_consec(n, dev)  # [N]
    dist = torch.zeros(steps, n, dtype=torch.float32, device=dev)  # [T, N]
    cons = torch.zeros(steps, n, dtype=torch.int32, device=dev)  # [T, N]
    done = torch.zeros(steps, n, dtype=torch.bool, device=dev)  # [T, N]
    seen = [frames]
    with one_cpu_thread(dev):
        for t, row in enumerate(actions):
            frames, _ = backend.step(row)  # [N, 72, 80]
            seen.append(frames)
            if g is not None:
                obs = push_stack(obs, frames) if stacked else frames
                consec, dist[t], done[t] = G.step(consec, obs, g, tau, k)
                cons[t] = consec
            advance(1)
    allf = torch.stack(seen).cpu()  # [T + 1, N, 72, 80]: the one device->host copy
    dist, cons, done = dist.cpu(), cons.cpu(), done.cpu()
    return Replay(
        allf, dist, cons, done,
        hashlib.sha256(allf.numpy().tobytes()).hexdigest(),
        hashlib.sha256(dist.numpy().tobytes()).hexdigest(),
    )  # fmt: skip


def curve_json(
    rep: Replay, tau: float, k: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "tau": tau,
        "k_consecutive": k,
        "steps": int(rep.dist.shape[0]),
        "dist": rep.dist.T.tolist(),  # [N][T]
        "consec": rep.consec.T.tolist(),
        "done": rep.done.T.tolist(),
        "frames_sha256": rep.frames_sha256,
        "dist_sha256": rep.dist_sha256,
        **(extra or {}),
    }


def load_negatives(paths: list[str]) -> dict[str, list[list[int]]]:
    """The non-goal traces by their shown path (read and checked before anything is replayed)."""
    from gates.m3.template import resolve, shown
    from shell.trace import load_actions

    return {shown(p): load_actions(resolve(p), shown(p)) for p in paths}


def replay_file(
    ctx: Any, cfg: Any, rows: list[list[int]], goal: Any, tau: float, k: int, state: bytes,
    advance: Callable[[int], None],
) -> Replay:  # fmt: skip
    """One replay of a trace from the run's ROM and start state on a fresh emulator."""
    from gates.m3.template import resolve, shown

    backend = open_backend(ctx.backend, len(rows[0]), ctx.device, resolve(cfg.rom), state)
    try:
        return replay(backend, rows, goal, tau, k, ctx.seed, shown(cfg.state), advance)
    finally:
        backend.close()


def curve_png(
    dist: Any, tau: float, title: str, extra_lines: dict[str, float] | None = None
) -> bytes:
    from shell.pictures import line_plot

    series = {f"env {i}": dist[:, i].tolist() for i in range(min(dist.shape[1], 5))}
    return line_plot(
        series,
        title,
        {"tau": tau, **(extra_lines or {})},
        xlabel="trace step",
        ylabel="dist to the goal (mean |frame - goal| / 3)",
    )


def curves_png(rep: Replay, negatives: dict[str, Replay], tau: float, k: int, trace: str) -> bytes:
    """The judged trace's dist curve (env 0) beside every non-goal trace's (env 0), with the tau line."""
    from shell.pictures import line_plot

    series = {f"{Path(trace).stem} (judged)": rep.dist[:, 0].tolist()}
    series.update(
        {f"{Path(p).stem} (non-goal)": r.dist[:, 0].tolist() for p, r in negatives.items()}
    )
    return line_plot(
        series,
        f"m3: dist to the goal, judged trace vs non-goal traces (k={k})",
        {"tau": tau},
        xlabel="trace step",
        ylabel="dist to the goal (mean |frame - goal| / 3)",
    )


def frames_png(frames: Any, goal: Any | None, last: int = 8) -> bytes:
    """The last frames of env 0 in a row (oldest left, labelled by step), and below them the goal."""
    from shell.pictures import labelled_grid, shades_to_rgb

    pic = lambda f: shades_to_rgb(f.numpy())  # noqa: E731
    t1 = frames.shape[0]  # frames[0] is the reset frame (step 0)
    shown = frames[-last:, 0]
    rows = [[pic(f) for f in shown]]
    labels = ["last frames of env 0"]
    if goal is not None:
        rows.append([pic(f) for f in goal.reshape(-1, *goal.shape[-2:])])
        labels.append("goal template")
    cols = [f"step {t}" for t in range(t1 - shown.shape[0], t1)]
    return labelled_grid(rows, "m3: last frames and the goal", labels, cols)
