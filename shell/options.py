"""Shared Annotated option aliases, so every command spells a common option the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Backend = Annotated[
    str | None,
    typer.Option(
        "--backend", "-b", help="Backend to run on (see `gate backends`); default: the gate's."
    ),
]
Device = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu or cuda.")]
Seed = Annotated[
    int,
    typer.Option(
        "--seed", min=0, max=2**63 - 1, help="Seed for every random choice of the run (0..2**63-1)."
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print exactly one JSON document on stdout; text goes to stderr."),
]
LogJsonl = Annotated[
    bool, typer.Option("--log-jsonl", help="Add per-step events to the run's receipt.")
]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="JSON file of configuration values (unknown keys are refused)."),
]
Set = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override one configuration value: key=value (repeatable)."),
]
Force = Annotated[bool, typer.Option("--force", help="Replace what exists.")]
Model = Annotated[
    str | None,
    typer.Option(
        "--model", "-m",
        help="Model to judge: a registered name (gate models), NAME:PATH, or an artifact folder.",
    ),
]  # fmt: skip


def parse_assignments(items: list[str], flag: str) -> dict[str, object]:
    """KEY=VALUE strings -> a dict; VALUE is read as JSON when it parses (1, true, [1,2]), else a string."""
    import orjson

    from shell.errors import BadInput

    out: dict[str, object] = {}
    for item in items:
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise BadInput(f"{flag} {item!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = orjson.loads(val)
        except orjson.JSONDecodeError:
            out[key.strip()] = val
    return out


# The train verbs' common options (`gate m1 train`, `gate m2 train`, ...).
TRAIN_THREADS = 1  # one thread: on a shared 2-core box two OpenMP workers spin against other jobs
Steps = Annotated[int, typer.Option("--steps", help="Total optimizer steps (a resume continues).")]
Episodes = Annotated[
    int, typer.Option("--episodes", help="Episodes to collect (a fifth held out).")
]
EpisodeSteps = Annotated[int, typer.Option("--episode-steps", help="Steps per episode.")]
Lr = Annotated[float, typer.Option("--lr", help="Peak learning rate (warm-up, cosine to zero).")]
TrainBackend = Annotated[str, typer.Option("--backend", "-b", help="Backend to collect from.")]
Game = Annotated[str, typer.Option("--game", help="Game of the backend (pong with --backend ale).")]
Threads = Annotated[int, typer.Option("--threads", help="Torch CPU threads (0: min(2, cores)).")]
Resume = Annotated[
    str, typer.Option("--resume", help="Checkpoint folder or run id to continue from.")
]
CheckpointEvery = Annotated[
    int, typer.Option("--checkpoint-every", help="Steps between resumable checkpoints.")
]
Nproc = Annotated[
    int,
    typer.Option("--nproc", help="Data-parallel processes on the CPU (torch.distributed, gloo)."),
]
LogEvery = Annotated[int, typer.Option("--log-every", help="Steps between loss records.")]
