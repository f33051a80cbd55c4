"""Data and small helpers shared by m1 and m2: frames through shell.datasets.collect, padding to the
models' grid, model names per game, CPU threads, peak memory, timing."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shell import paths
from shell.errors import BadInput
from shell.threads import set_threads  # noqa: F401 - the gates call it from here

EVAL_SEED = 1_000_003  # held-out levels of m1 and m2: the train verbs refuse this seed
DEFAULT_BACKEND = "builtin"
DEFAULT_GAME = "platformer"


def model_name(kind: str, backend: str, game: str) -> str:
    """The artifact name: "autoencoder" for the built-in platformer, "autoencoder-ale-pong" else."""
    if backend == DEFAULT_BACKEND and game == DEFAULT_GAME:
        return kind
    return f"{kind}-{backend}-{game}"


def require_golden(path: Path, given: str, gate: str, backend: str, game: str) -> None:
    """No checkpoint named and no golden for this game yet: a prerequisite missing here (exit 3)."""
    from shell.errors import Unavailable

    if not given and not (path / "meta.json").is_file():
        opts = "" if backend == DEFAULT_BACKEND else f" --backend {backend} --game {game}"
        raise Unavailable(
            f"{path}: no golden yet; train one (gate {gate} train{opts}) and approve it "
            f"(gate approve {gate} --run RUN_ID), or name a checkpoint with --set model=PATH"
        )


def resolve_model(
    ctx: Any, gate: str, kind: str, default: str, golden_gate: str = ""
) -> tuple[Any, Path | None]:
    """The registered entry and artifact folder the run's config names (`model`: --model NAME_OR_PATH;
    empty: the golden for the game of `golden_gate`, default the gate itself: m5 judges m4's)."""
    from shell import models

    cfg, backend = ctx.config, ctx.backend
    owner = golden_gate or gate
    golden = lambda name: paths.golden_dir(owner, model_name(name, backend, cfg.game))  # noqa: E731
    if not cfg.model:
        require_golden(golden(default), "", owner, backend, cfg.game)
    return models.resolve(cfg.model, kind, golden, gate, default)


def load_model(
    ctx: Any, gate: str, kind: str, default: str, want: dict[str, Any], golden_gate: str = ""
) -> tuple[Any, Path | None, dict[str, Any]]:
    """The model resolve_model names, loaded on the run's device -> (model speaking the kind's
    protocol, its folder or None, what the receipt records)."""
    from shell import models

    entry, path = resolve_model(ctx, gate, kind, default, golden_gate)
    model = models.load(entry, path, ctx.device, {"game": ctx.config.game, **want})
    meta = getattr(model, "meta", None)
    steps = meta.training.get("steps", "?") if meta is not None else "?"
    ctx.say(f"{gate}: model {entry.name} from {path or 'its package'} ({steps} steps)")
    about = {
        "name": entry.name,
        "path": str(path) if path else None,
        "meta_sha256": getattr(meta, "metadata_sha256", None),
    }
    return model, path, about


def platformer_world_model(
    ctx: Any, gate: str, want: dict[str, Any], golden_gate: str = ""
) -> tuple[Any, Any, dict[str, Any]]:
    """The built-in platformer (the game whose truth the world-model gates read) and the world model
    the run names (load_model's, `want` beside the game's action count), its actions checked ->
    (game, model, what the receipt records)."""
    from core.games import get_game

    if ctx.config.game != "platformer":
        raise BadInput(f"game {ctx.config.game}: {gate} reads the built-in platformer's truth")
    game = get_game(ctx.config.game)
    na = len(game.actions)
    model, _, about = load_model(ctx, gate, "world_model", "predictor", {"n_actions": na, **want},
                                 golden_gate)  # fmt: skip
    if getattr(model, "n_actions", na) != na:
        raise BadInput(f"--model: takes {model.n_actions} actions, the game has {na}")
    return game, model, about


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
    """core.pixels.pad_to, imported lazily (this module stays light)."""
    from core.pixels import pad_to as pad

    return pad(x, multiple)


def peak_memory_gb(device: Any) -> float:
    """Peak allocated VRAM on CUDA, else the process's peak RSS, in GB (1e9 bytes)."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        return torch.cuda.max_memory_allocated(device) / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB


def timings_ms(fn: Callable[[], Any], runs: int, device: Any, warmup: int = 3) -> list[float]:
    """Wall time of each of `runs` calls of fn() in ms, after `warmup` calls (CUDA synchronised)."""
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
    return times


def median_ms(fn: Callable[[], Any], runs: int, device: Any, warmup: int = 3) -> float:
    """Median wall time of fn() in ms (CUDA synchronised around each call)."""
    return statistics.median(timings_ms(fn, runs, device, warmup))


def check_train_seed(seed: int, eval_seed: int) -> None:
    if seed == eval_seed:
        raise BadInput(f"--seed {seed}: reserved for the gates' held-out evaluation data")
