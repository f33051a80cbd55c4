"""`gate m9 train --game GAME`: a cell-copy world model (core/models/cellcopy.py) for one built-in game,
or with `--game all` the general model on all three, same architecture, steps and batch.

Frames come from the games themselves under the mixed policy (gates/m9/data.py) on the training seed's
levels (the evaluation seed is refused). The moves and the palette are read off the training frames;
each step draws `batch` windows (two frames in, the next one the target), for `all` from the three
games at random. Seeded, resumable, written as the candidate artifact
`cellcopy-GAME` (`cellcopy-general` for all) of its run: approve it with `gate approve m9 --run ID`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

import typer

from gates.common.evaldata import EVAL_SEED
from gates.common.training import RESUME
from gates.m9.spec import GENERAL, GENRES
from shell import options

ARCH = "cellcopy"
ALL = "all"


@dataclass(frozen=True)
class TrainArgs:
    steps: int = 1500  # optimizer steps (each of the four models gets the same)
    episodes: int = 64  # envs per game, played in one batch
    episode_steps: int = 80  # long enough for pushes, pickups and room changes
    batch: int = 16  # windows per step
    lr: float = 2e-3  # peak AdamW learning rate (5% warm-up, cosine to zero)
    changed_weight: float = 1.0  # the changing cells' mean loss beside the still cells' mean
    seed: int = 0
    game: str = "puzzle"  # a built-in game, or "all" for the general model
    threads: int = options.TRAIN_THREADS
    resume: str = ""
    checkpoint_every: int = 250
    log_every: int = 25
    backend: str = "builtin"  # the games are the built-in backend's


D = TrainArgs()


def add_train_verb(app) -> None:
    @app.command("train")
    def train(
        game: Annotated[
            str, typer.Option(help="platformer, puzzle or rpg; all: the general model.")
        ] = D.game,
        steps: options.Steps = D.steps,
        episodes: options.Episodes = D.episodes,
        episode_steps: options.EpisodeSteps = D.episode_steps,
        batch: Annotated[int, typer.Option(help="Windows per optimizer step.")] = D.batch,
        lr: options.Lr = D.lr,
        changed_weight: Annotated[
            float, typer.Option(help="Weight of the cells that change, beside the still ones.")
        ] = D.changed_weight,
        seed: options.Seed = D.seed,
        device: options.Device = "auto",
        threads: options.Threads = D.threads,
        resume: options.Resume = "",
        checkpoint_every: options.CheckpointEvery = D.checkpoint_every,
        log_every: options.LogEvery = D.log_every,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Train gate m9's world model for one game (or all); writes the candidate cellcopy-GAME."""
        if game not in (*GENRES, ALL):
            from shell.errors import BadInput
            from shell.output import guard

            with guard():
                raise BadInput(f"--game {game}: one of {', '.join(GENRES)}, or {ALL}")
        args = TrainArgs(
            steps, episodes, episode_steps, batch, lr, changed_weight, seed, game, threads,
            resume, checkpoint_every, log_every,
        )  # fmt: skip
        _launch(args, device, json, log_jsonl)


def _launch(args: TrainArgs, device: str, json: bool, log_jsonl: bool) -> None:
    """gates.common.training.launch without its --game check (`all` is no backend game; the
    names were checked above)."""
    from shell.commands.run_cmds import execute_verb
    from shell.context import RunOptions

    opts = RunOptions(backend="builtin", device=device, seed=args.seed, json=json,
                      log_jsonl=log_jsonl)  # fmt: skip
    execute_verb("m9", "train", lambda ctx: train_cellcopy(ctx, args), asdict(args), opts)


def _check(args: TrainArgs) -> None:
    from gates.common.training import check_train_args
    from shell.errors import BadInput

    counts = ("steps", "episodes", "episode_steps", "batch", "checkpoint_every", "log_every")
    check_train_args(args, counts, EVAL_SEED)
    if args.episode_steps < 3:
        raise BadInput(f"--episode-steps {args.episode_steps}: a window needs 3 frames")
    if not args.changed_weight >= 0:
        raise BadInput(f"--changed-weight {args.changed_weight}: must be >= 0")


def train_cellcopy(ctx, args: TrainArgs) -> None:
    import torch

    from core.games import get_game
    from core.models.cellcopy import CellCopy, CellCopyConfig, losses, read_offsets, read_palette
    from gates.common.evaldata import set_threads
    from gates.common.training import Trainer, resume
    from gates.m9.data import as_context, play_mixed, windows
    from shell.store import sha256_bytes

    _check(args)
    threads = set_threads(args.threads)
    dev = ctx.device
    torch.manual_seed(args.seed)
    games = GENRES if args.game == ALL else (args.game,)
    name = f"cellcopy-{GENERAL if args.game == ALL else args.game}"
    data = {"games": list(games), "episodes": args.episodes, "episode_steps": args.episode_steps,
            "seed": args.seed, "policy": "mixed"}  # fmt: skip
    played, wins = [], []
    with ctx.progress(len(games), "m9 train: playing the games") as advance:
        for g in games:
            p = play_mixed(g, args.seed, args.episodes, args.episode_steps)
            played.append(p)
            wins.append(windows(p.fresh))  # with the steps where nothing moves: a move into a
            # wall, WAIT (a model trained without them moves the player whatever blocks it)
            advance(1)
    resumed = resume(
        ctx, "m9 train", args.resume, (RESUME, name), ARCH, data, CellCopyConfig.from_dict
    )
    cfg = resumed.config if resumed else CellCopyConfig()
    # moves and colours from the first 8 envs of each game (~640 transitions a game: the cover and
    # the palette no longer change; all of them would take gigabytes), the games pooled equally
    k = min(8, args.episodes)
    prev = torch.cat([p.frames[:k, :-1].flatten(0, 1) for p in played])
    nxt = torch.cat([p.frames[:k, 1:].flatten(0, 1) for p in played])
    offsets = read_offsets(prev, nxt, cfg.moves, cfg.cell, cfg.reach)
    palette = read_palette(torch.cat([p.frames[:k] for p in played]).flatten(0, 1), cfg.palette)
    del prev, nxt
    net = CellCopy(cfg, offsets, palette).to(dev)
    ctx.say(f"m9 train: {len(offsets)} moves, {len(palette)} colours read off {', '.join(games)}")
    n_params = sum(p.numel() for p in net.parameters())
    trainer = Trainer(
        ctx, "m9", net, asdict(args),
        model_meta={"arch": ARCH, "config": cfg.to_dict(), "frame_shape": [256, 256, 3],
                    "game": args.game, "backend": "builtin",
                    "action_names": list(get_game(games[0]).actions)},  # the five, in every game
        inputs={f"frames_{g}": sha256_bytes(p.frames.numpy().tobytes()) for g, p in zip(games, played, strict=True)},
        lr=args.lr, steps=args.steps, seed=args.seed, resumed=resumed, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every,
        describe=lambda: {"data": data, "batch": args.batch, "threads": threads, "device": str(dev),
                          "windows": sum(len(w) for w in wins), "params": n_params,
                          "moves": offsets.tolist(), "colours": len(palette)},
    )  # fmt: skip

    def loss_at(gen: torch.Generator) -> torch.Tensor:
        gi = torch.randint(0, len(games), (args.batch,), generator=gen)  # which game each row is
        ctxs, acts, nexts = [], [], []
        for j in range(len(games)):
            n = int((gi == j).sum())
            if n == 0:
                continue
            w = wins[j][torch.randint(0, len(wins[j]), (n,), generator=gen)]
            e, t = w[:, 0], w[:, 1]
            f = played[j].frames
            ctxs.append(torch.stack([f[e, t - 1], f[e, t]], 1))  # uint8 [n, 2, H, W, 3]
            acts.append(played[j].actions[e, t])
            nexts.append(f[e, t + 1])
        c = torch.cat(ctxs).to(dev)  # uint8 [B, 2, H, W, 3]
        a, y = torch.cat(acts).to(dev), torch.cat(nexts).to(dev)
        lc, lp = losses(net, as_context(c), a, c[:, -1], y, args.changed_weight)
        return lc + lp

    seconds = trainer.fit(loss_at, f"m9 train {args.game}")
    trainer.finish(
        name, {}, f"m9_train_{args.game}_loss.png", f"m9 train {args.game}: cell + paint loss"
    )
    ctx.say(f"m9 train: {trainer.done} steps in {seconds:.0f} s -> candidate {name}")
