"""gate play: play a world model live with the keyboard (shell/play.py), or headless with scripted keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shell import options


def play(
    model: options.Model = "",
    seed: options.Seed = 0,
    keys: Annotated[
        str,
        typer.Option("--keys", help="Headless: scripted actions, e.g. RRRRJJJ or RIGHT*8,JUMP*3."),
    ] = "",
    record: Annotated[
        str,
        typer.Option(
            "--record", help="Save the session (frames + actions.jsonl) to this new folder."
        ),
    ] = "",
    max_fps: Annotated[
        float,
        typer.Option(
            "--max-fps", min=1, max=240, help="Live play: at most this many frames a second."
        ),
    ] = 30.0,
    cols: Annotated[
        int, typer.Option("--cols", min=16, max=256, help="Terminal columns to draw.")
    ] = 64,
    device: options.Device = "auto",
    threads: options.Threads = 0,
) -> None:
    """Play a world model live (the latest golden: m4's, else m2's): keyboard in a terminal, or --keys headless."""
    import contextlib
    import sys

    from shell.output import guard

    with guard():
        from shell import play as lib

        actions = lib.parse_keys(keys) if keys else None
        if actions is None and not sys.stdin.isatty():
            from shell.errors import BadInput

            raise BadInput(
                "--keys: no terminal to read keys from; give scripted keys (--keys RRRJJ)"
            )
        rec = lib.Recorder(Path(record)).check() if record else None
        player, first, about = _player(model, seed, device, threads)
        if rec is not None:
            rec.meta = {"model": about, "seed": seed}
        with rec if rec is not None else contextlib.nullcontext():
            if rec is not None:
                rec.frame(first)  # the start: frame 0
            if actions is not None:
                stats = lib.play_scripted(player, actions, rec)
            else:
                stats = lib.play_terminal(player, rec, max_fps, cols)
        where = f"; recorded to {record}" if record else ""
        print(f"play: {stats['frames']} frames in {stats['seconds']:.2f} s "
              f"({stats['fps']:.1f} FPS, {about['name']} from {about['path']}){where}")  # fmt: skip


def _player(spec: str, seed: int, device: str, threads: int):
    from core.games import get_game
    from shell import models, paths
    from shell.context import resolve_device
    from shell.threads import set_threads

    set_threads(threads)
    dev = resolve_device(device)
    entry, path = models.resolve(spec, "world_model", paths.latest_golden, "play", "predictor")
    game = get_game("platformer")
    model = models.load(entry, path, dev, {"game": "platformer", "n_actions": len(game.actions)})
    first = game.render_rgb(game.reset(seed, 1, "cpu"))[0]  # uint8 [H, W, 3]
    from shell.play import Player

    return Player.start(model, first, seed, dev), first, {"name": entry.name, "path": str(path)}


def register(app: typer.Typer) -> None:
    app.command("play")(play)
