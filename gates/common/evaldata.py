"""Data and small helpers shared by m1 and m2: frames through shell.datasets.collect, padding to the
models' grid, model names per game, CPU threads, peak memory, timing."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shell import paths
from shell.errors import BadInput

EVAL_SEED = 1_000_003  # held-out levels of m1 and m2: the train verbs refuse this seed
DEFAULT_BACKEND = "builtin"
DEFAULT_GAME = "platformer"


def model_name(kind: str, backend: str, game: str) -> str:
    """The artifact name: "autoencoder" for the built-in platformer, "autoencoder-ale-pong" else."""
    if backend == DEFAULT_BACKEND and game == DEFAULT_GAME:
        return kind
    return f"{kind}-{backend}-{game}"


def checkpoint_path(gate: str, kind: str, given: str, backend: str, game: str) -> Path:
    """The folder named by `given` (relative to the project root), else the golden for the game."""
    if given:
        p = Path(given)
        return p if p.is_absolute() else paths.root() / p
    return paths.golden_dir(gate, model_name(kind, backend, game))


def require_golden(path: Path, given: str, gate: str, backend: str, game: str) -> None:
    """No checkpoint named and no golden for this game yet: a prerequisite missing here (exit 3)."""
    from shell.errors import Unavailable

    if not given and not (path / "meta.json").is_file():
        opts = "" if backend == DEFAULT_BACKEND else f" --backend {backend} --game {game}"
        raise Unavailable(
            f"{path}: no golden yet; train one (gate {gate} train{opts}) and approve it "
            f"(gate approve {gate} --run RUN_ID), or name a checkpoint with --set model=PATH"
        )


def resolve_run_or_path(given: str) -> Path:
    """--resume takes a checkpoint folder or a run id (whose run folder holds the checkpoint)."""
    p = Path(given)
    if p.is_dir():
        return p
    if (paths.run_dir(given)).is_dir():
        return paths.run_dir(given)
    raise BadInput(f"--resume {given}: neither a checkpoint folder nor a run id")


def set_threads(n: int) -> int:
    import torch

    n = n if n > 0 else max(1, min(2, os.cpu_count() or 1))  # the spec's 2-core machine
    torch.set_num_threads(n)
    return n


def collect_frames(
    backend: str,
    game: str,
    episodes: int,
    steps: int,
    seed: int,
    advance: Callable[[int], None] | None = None,
) -> Any:
    """A shell.datasets.Dataset of RGB frames [E, T+1, H, W, 3] (collected on the CPU: bit-exact)."""
    from shell.datasets import collect

    ds = collect(backend, episodes, steps, seed=seed, progress=advance, game=game)
    if ds.frames.ndim != 5 or ds.frames.shape[-1] != 3:
        raise BadInput(
            f"backend {backend}: frames must be RGB [E, T+1, H, W, 3], got {ds.frames.shape}"
        )
    return ds


def pad_to(x: Any, multiple: int) -> Any:
    """float [..., H, W] -> [..., H', W'] padded at the bottom/right (edge values) to a multiple."""
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, h, w)
    out = F.pad(flat, (0, pw, 0, ph), mode="replicate")
    return out.reshape(*lead, h + ph, w + pw)


def peak_memory_gb(device: Any) -> float:
    """Peak allocated VRAM on CUDA, else the process's peak RSS, in GB (1e9 bytes)."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        return torch.cuda.max_memory_allocated(device) / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB


def median_ms(fn: Callable[[], Any], runs: int, device: Any, warmup: int = 3) -> float:
    """Median wall time of fn() in ms (CUDA synchronised around each call)."""
    import torch

    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def check_train_seed(seed: int, eval_seed: int) -> None:
    if seed == eval_seed:
        raise BadInput(f"--seed {seed}: reserved for the gates' held-out evaluation data")
