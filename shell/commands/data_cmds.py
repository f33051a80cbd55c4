"""gate data collect: a frame dataset from any backend, written as a hashed artifact.

A collection is a run of its own, like a gate verb: a run id, a receipt and a ledger row (gate "data",
kind "collect"), so `gate runs --gate data` lists them and `gate show RUN_ID` tells how one was made.
It reuses the harness unchanged: the group is a Gate that only this command's registry holds (it is not
an entry point, so `gate list` and `gate status` do not show it). The dataset goes to `--out DIR`, or to
`.gate/runs/<run_id>/dataset/` without it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shell import options
from shell.output import console, emit_json, guard
from shell.registry import Gate, Registry

GROUP = "data"


def _data_registry(run: Any) -> Registry:
    gate = Gate(GROUP, "frame datasets", "worldgate datasets (shell/datasets.py)", run=run)
    return Registry(gates={GROUP: gate})


def collect(
    backend: options.Backend = None,
    game: Annotated[
        str | None,
        typer.Option("--game", help="The backend's game (builtin, ale) or env id (gym)."),
    ] = None,
    episodes: Annotated[
        int, typer.Option("--episodes", "-e", help="Envs run side by side, one episode each.")
    ] = 16,
    steps: Annotated[int, typer.Option("--steps", "-t", help="Steps per episode.")] = 200,
    policy: Annotated[str, typer.Option("--policy", help="random or scripted.")] = "scripted",
    seed: options.Seed = 0,
    device: options.Device = "auto",
    heldout: Annotated[
        float, typer.Option("--heldout", help="Fraction of episodes held out (by episode).")
    ] = 0.2,
    opt: Annotated[
        list[str] | None,
        typer.Option(
            "--opt", "-o", help="A backend option KEY=VALUE, e.g. render=shades (repeatable)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the dataset here (default: in the run folder)."),
    ] = None,
    force: options.Force = False,
    json: options.Json = False,
) -> None:
    """Collect a frame dataset (frames, actions, ground truth, train/heldout split) and print its path."""
    from shell.errors import BadInput, Unavailable
    from shell.registry import get_backend
    from shell.runner import RunOptions, run_gate

    with guard():
        name = backend or "builtin"
        entry = get_backend(name)  # unknown backend: exit 2 before any run starts
        why = entry.available()
        if why is not None:
            raise Unavailable(f"backend {name}: {why}")
        if policy not in ("random", "scripted"):
            raise BadInput(f"--policy {policy!r}: expected random or scripted")
        if out is not None:
            from shell.safety import check_out

            check_out(out, "--out", folder=True)
        if out is not None and out.exists() and any(out.iterdir()) and not force:
            raise BadInput(f"--out {out}: exists and is not empty (add --force to replace it)")
        bopts = options.parse_assignments(opt or [], "--opt")
        if game is not None:
            bopts["game"] = game
        if isinstance(bopts.get("game"), str):
            from shell.backends.games import check_game

            check_game(name, bopts["game"])
        params = {"backend": name, "episodes": episodes, "steps": steps, "policy": policy,
                  "seed": seed, "heldout_fraction": heldout, "backend_options": bopts,
                  "out": str(out) if out else None}  # fmt: skip
        written: list[Path] = []

        def run(ctx: Any) -> None:
            written.append(_collect_run(ctx, params, out))

        run_opts = RunOptions(backend=name, device=device, seed=seed, json=json)
        res = run_gate(_data_registry(run), GROUP, run_opts, verb="collect", fn=run, params=params)
    path = str(written[0]) if written and res.exit_code == 0 else None
    if json:
        emit_json({**res.to_json(), "dataset": path})
    else:
        say = console()
        if path:
            say.print(f"data collect: {episodes} episodes x {steps} steps ({res.duration_s:.1f} s)")
            say.print(f"  receipt: {Path(res.run_dir or '') / 'receipt.jsonl'}")
            print(path, flush=True)
    if res.exit_code:
        print(f"gate: error: {res.message}", file=sys.stderr, flush=True)
    raise typer.Exit(res.exit_code)


def _collect_run(ctx: Any, params: dict[str, Any], out: Path | None) -> Path:
    """Inside the run: collect, write the artifact, report metrics and the artifact to the receipt."""
    import time

    from shell.datasets import PIPELINE_VERSION, collect, write_dataset
    from shell.store import artifact_meta_fields, sha256_bytes

    dest = out if out is not None else ctx.run_dir / "dataset"
    t0 = time.perf_counter()
    with ctx.progress(params["steps"], "collecting") as advance:
        ds = collect(
            params["backend"], params["episodes"], params["steps"], params["policy"],
            params["seed"], str(ctx.device), params["heldout_fraction"], progress=advance,
            **params["backend_options"],
        )  # fmt: skip
    dt = time.perf_counter() - t0
    ctx.metric("env_steps_per_s", params["episodes"] * params["steps"] / max(dt, 1e-9), "1/s")
    ctx.metric("episodes_ended", float(ds.truth["done"].sum()), "")
    meta = artifact_meta_fields(GROUP, ctx.run_id, dest.name, params, {}, PIPELINE_VERSION)
    write_dataset(dest, ds, meta)
    meta_sha = sha256_bytes((dest / "meta.json").read_bytes())
    ctx.receipt.emit("artifact", path=str(dest), sha256=meta_sha, name="dataset", meta="meta.json")
    ctx.artifacts.append(str(dest))
    return dest


def import_(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A folder of PNG frames and an actions.jsonl (or sub-folders of such)."
        ),
    ],
    episode_steps: Annotated[
        int,
        typer.Option(
            "--episode-steps", help="Cut recordings into episodes of N steps (0: one each)."
        ),
    ] = 0,
    game: Annotated[
        str, typer.Option("--game", help="The game's name, recorded in the dataset.")
    ] = "",
    action_names: Annotated[
        str, typer.Option("--action-names", help="The actions' names in order, comma separated.")
    ] = "",
    seed: options.Seed = 0,
    heldout: Annotated[
        float, typer.Option("--heldout", help="Fraction of episodes held out (by episode).")
    ] = 0.2,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the dataset here (default: in the run folder)."),
    ] = None,
    force: options.Force = False,
    json: options.Json = False,
) -> None:
    """Import recorded frames (PNG) and actions (actions.jsonl) as a hashed dataset; print its path."""
    from shell.errors import BadInput

    with guard():
        if out is not None:
            from shell.safety import check_out

            check_out(out, "--out", folder=True)
        if out is not None and out.exists() and any(out.iterdir()) and not force:
            raise BadInput(f"--out {out}: exists and is not empty (add --force to replace it)")
        if not 0.0 <= heldout < 1.0:
            raise BadInput(f"--heldout {heldout}: must lie in [0, 1)")
        names = [n.strip() for n in action_names.split(",") if n.strip()]
        params = {"folder": str(folder), "episode_steps": episode_steps, "game": game,
                  "action_names": names, "seed": seed, "heldout_fraction": heldout,
                  "out": str(out) if out else None}  # fmt: skip
        from shell.recordings import import_frames

        ds = import_frames(folder, episode_steps, seed, heldout, game, names)  # bad input: exit 2

    def make(ctx: Any, advance: Any) -> Any:
        advance(ds.steps)
        return ds

    _dataset_run(params, out, "import", make, ds.steps, "cpu", seed, json, "import")


def _dataset_run(params: dict[str, Any], out: Path | None, verb: str, make: Any, total: int,
                 device: str, seed: int, json: bool, backend: str) -> None:  # fmt: skip
    """A dataset-making verb as a run of its own; prints the dataset's path (or --json)."""
    from shell.runner import RunOptions, run_gate

    written: list[Path] = []

    def run(ctx: Any) -> None:
        written.append(_write_run(ctx, params, out, make, total))

    with guard():
        run_opts = RunOptions(backend=backend, device=device, seed=seed, json=json)
        res = run_gate(_data_registry(run), GROUP, run_opts, verb=verb, fn=run, params=params)
    path = str(written[0]) if written and res.exit_code == 0 else None
    if json:
        emit_json({**res.to_json(), "dataset": path})
    elif path:
        say = console()
        say.print(f"data {verb}: done ({res.duration_s:.1f} s)")
        say.print(f"  receipt: {Path(res.run_dir or '') / 'receipt.jsonl'}")
        print(path, flush=True)
    if res.exit_code:
        print(f"gate: error: {res.message}", file=sys.stderr, flush=True)
    raise typer.Exit(res.exit_code)


def _write_run(ctx: Any, params: dict[str, Any], out: Path | None, make: Any, total: int) -> Path:
    from shell.datasets import PIPELINE_VERSION, write_dataset
    from shell.store import artifact_meta_fields, sha256_bytes

    dest = out if out is not None else ctx.run_dir / "dataset"
    with ctx.progress(total, "data: frames") as advance:
        ds = make(ctx, advance)
    ctx.metric("episodes", float(ds.episodes), "")
    ctx.metric("frames", float(ds.frames.shape[0] * ds.frames.shape[1]), "")
    meta = artifact_meta_fields(GROUP, ctx.run_id, dest.name, params, {}, PIPELINE_VERSION)
    write_dataset(dest, ds, meta)
    meta_sha = sha256_bytes((dest / "meta.json").read_bytes())
    ctx.receipt.emit("artifact", path=str(dest), sha256=meta_sha, name="dataset", meta="meta.json")
    ctx.artifacts.append(str(dest))
    return dest


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        name=GROUP,
        help="Frame datasets: collect episodes from a backend, or import recorded frames, into a hashed artifact.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    group.command("collect")(collect)
    group.command("import")(import_)
    app.add_typer(group)
