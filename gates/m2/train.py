"""`gate m2 train`: train the m2 next-frame predictor on windows of 4 frames (3 in, the 4th the target)
collected through shell.datasets.collect; windows that cross an episode reset are excluded.

Seeded, resumable (`--resume` a checkpoint folder or its run id) and written as the candidate artifact
`predictor` of its run, like `gate m1 train` (gates/m1/train.py). The loss is best-of-K MSE over K noise
samples (core.models.bestofk.best_of_k_loss), so the noise input comes to mean different futures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from gates.common.evaldata import DEFAULT_BACKEND, DEFAULT_GAME, EVAL_SEED
from gates.common.training import RESUME, launch
from shell import options


@dataclass(frozen=True)
class TrainArgs:
    steps: int = 3000  # total optimizer steps (a resumed run continues up to this)
    episodes: int = 16  # envs collected in one batch; a fifth held out for the report
    episode_steps: int = 128  # long enough to see the camera scroll (from ~50 frames in)
    batch: int = 4  # windows per step (full frames: the camera decision needs the whole frame)
    k: int = 2  # noise samples per window for the best-of-K loss
    lr: float = 1e-3  # peak AdamW learning rate (5% warm-up, cosine to zero)
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    game: str = DEFAULT_GAME
    threads: int = options.TRAIN_THREADS
    resume: str = ""  # checkpoint folder or run id
    checkpoint_every: int = 100  # steps between checkpoints of a running job
    nproc: int = 1  # data-parallel processes (gates/common/parallel.py)
    log_every: int = 25  # steps between loss records
    branch_envs: int = 0  # envs RNG-branched for the coverage loss; 0: none, the golden's recipe
    # (48 made the issue-8 candidate over-sample rare outcomes: it failed trajectory by one object)
    branch_batch: int = 2  # stochastic contexts per step, trained with the coverage loss


D = TrainArgs()


def add_train_verb(app) -> None:
    @app.command("train")
    def train(
        steps: options.Steps = D.steps,
        episodes: options.Episodes = D.episodes,
        episode_steps: options.EpisodeSteps = D.episode_steps,
        batch: Annotated[int, typer.Option(help="Windows per optimizer step.")] = D.batch,
        k: Annotated[int, typer.Option("--k", help="Noise samples per window (best-of-K).")] = D.k,
        lr: options.Lr = D.lr,
        seed: options.Seed = D.seed,
        backend: options.TrainBackend = D.backend,
        game: options.Game = D.game,
        device: options.Device = "auto",
        threads: options.Threads = D.threads,
        resume: options.Resume = "",
        checkpoint_every: options.CheckpointEvery = D.checkpoint_every,
        nproc: options.Nproc = D.nproc,
        log_every: options.LogEvery = D.log_every,
        branch_envs: Annotated[
            int, typer.Option(help="Envs RNG-branched for the coverage loss (0: none).")
        ] = D.branch_envs,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Train the m2 predictor; writes the candidate artifact `predictor` (approve it)."""
        args = TrainArgs(
            steps, episodes, episode_steps, batch, k, lr, seed, backend, game, threads, resume,
            checkpoint_every, nproc=nproc, log_every=log_every, branch_envs=branch_envs,
        )  # fmt: skip
        launch("m2", args, train_predictor, device, json, log_jsonl)


def _check(args: TrainArgs) -> None:
    from gates.common.training import check_train_args
    from shell.errors import BadInput

    check_train_args(
        args,
        (
            "steps",
            "episodes",
            "episode_steps",
            "batch",
            "k",
            "checkpoint_every",
            "log_every",
            "nproc",
        ),
        EVAL_SEED,
    )
    if args.episode_steps < 4:
        raise BadInput(f"--episode-steps {args.episode_steps}: a window needs 4 frames")


def train_predictor(ctx, args: TrainArgs) -> None:
    import torch

    from core.metrics import mse, palette_of, to_unit
    from core.models.bestofk import best_of_k_loss, coverage_loss
    from core.models.builtin import PixelWorldModel
    from core.models.predictor import FramePredictor, PredictorConfig
    from gates.common.evaldata import collect_frames, model_name, pad_to, set_threads
    from gates.common.training import Trainer, resume
    from gates.m2.run import ARCH, context, noise, predict, windows
    from shell.errors import BadInput
    from shell.store import sha256_bytes

    _check(args)
    threads = set_threads(args.threads)
    dev = ctx.device
    torch.manual_seed(args.seed)
    name = model_name("predictor", args.backend, args.game)
    data = {
        "backend": args.backend, "game": args.game, "episodes": args.episodes,
        "episode_steps": args.episode_steps, "seed": args.seed, "policy": "scripted",
    }  # fmt: skip

    with ctx.progress(args.episode_steps, "m2 train: collecting frames") as advance:
        ds = collect_frames(
            args.backend, args.game, args.episodes, args.episode_steps, args.seed, advance
        )
    n_actions = len(ds.meta["action_names"])
    resumed = resume(
        ctx, "m2 train", args.resume, (RESUME, name), ARCH, data, PredictorConfig.from_dict
    )
    cfg = resumed.config if resumed else PredictorConfig(n_actions=n_actions)

    frames = torch.from_numpy(ds.frames)  # uint8 [E, T+1, H, W, 3]
    actions = torch.from_numpy(ds.actions)  # int64 [E, T]
    done = ds.truth["done"]
    train = windows(done, ds.split["train"], 1, 2)
    held = windows(done, ds.split["heldout"], 4, 3)
    if not train:
        raise BadInput("--episode-steps: no 4-frame window inside one episode to train on")
    h, w = frames.shape[2:4]

    net = FramePredictor(cfg).to(dev)
    sto = _branched(
        args, ctx
    )  # (context [S, 3, 3, H, W], action [S], two outcomes [S, 2, 3, H, W])
    palette = palette_of(frames[ds.split["train"]])  # uint8 [K, 3]: the colours frames are made of
    trainer = Trainer(
        ctx, "m2", net, asdict(args),
        model_meta={
            "arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
            "game": args.game, "backend": args.backend, "action_names": ds.meta["action_names"],
            "palette": palette.tolist(),
        },
        inputs={
            "frames": sha256_bytes(ds.frames.tobytes()),
            "actions": sha256_bytes(ds.actions.tobytes()),
        },
        lr=args.lr, steps=args.steps, seed=args.seed, resumed=resumed, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, nproc=args.nproc,
        describe=lambda: {
            "data": data, "batch": args.batch, "k": args.k, "threads": threads,
            "device": str(dev), "windows": len(train),
            "branched_contexts": 0 if sto is None else int(sto[0].shape[0]),
            "branch_envs": args.branch_envs, "branch_batch": args.branch_batch,
        },
    )  # fmt: skip

    def loss_at(gen: torch.Generator) -> torch.Tensor:
        pick = torch.randint(0, len(train), (args.batch,), generator=gen).tolist()
        ws = [train[i] for i in trainer.part(pick)]  # this process's share (--nproc)
        c = pad_to(context(frames, ws), cfg.multiple).to(dev)  # [B, 3, 3, H', W']
        a = torch.stack([actions[e, t] for e, t in ws]).to(dev)  # [B]
        y = pad_to(to_unit(torch.stack([frames[e, t + 1] for e, t in ws])), cfg.multiple).to(dev)
        loss = best_of_k_loss(net, c, a, y, args.k, gen)
        if sto is not None and args.branch_batch > 0:
            pick = torch.randint(0, sto[0].shape[0], (args.branch_batch,), generator=gen)
            sc, sa, so = sto[0][pick], sto[1][pick], sto[2][pick]
            sc = _pad5(sc, cfg.multiple)
            so = _pad5(so, cfg.multiple)
            loss = loss + coverage_loss(net, sc.to(dev), sa.to(dev), so.to(dev), args.k, gen)
        return loss

    seconds = trainer.fit(loss_at, "m2 train")
    extra: dict[str, Any] = {}
    if held:
        c = context(frames, held)
        a = torch.stack([actions[e, t] for e, t in held])
        y = to_unit(torch.stack([frames[e, t + 1] for e, t in held]))
        p = predict(PixelWorldModel(net), c, a, noise(len(held), cfg.noise_dim, args.seed), dev)
        extra = {
            "heldout_mse": round(mse(p, y).mean().item(), 6),
            "heldout_baseline_mse": round(mse(c[:, -1], y).mean().item(), 6),
        }
        ctx.metric("heldout_mse", extra["heldout_mse"])
        ctx.metric("heldout_baseline_mse", extra["heldout_baseline_mse"])
    trainer.finish(name, extra, "m2_train_loss.png", "m2 train: best-of-K loss")
    held_txt = "; ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in extra.items()) or "no held-out"
    ctx.say(f"m2 train: {trainer.done} steps in {seconds:.0f} s; {held_txt}")


def _pad5(x, multiple: int):
    """float [N, J, 3, H, W] padded to the model's grid like pad_to does per frame."""
    from gates.common.evaldata import pad_to

    n, j = x.shape[:2]
    y = pad_to(x.flatten(0, 1), multiple)
    return y.view(n, j, *y.shape[1:])


def _branched(args: TrainArgs, ctx):
    """Stochastic contexts of the training seed (gates/m2/diverse.py: the game's RNG branched): the
    context, its action and two distinct true futures each; None where the game cannot branch."""
    import torch

    from gates.m2 import diverse

    if args.branch_envs <= 0 or args.backend != "builtin" or not diverse.supported(args.game):
        return None
    times = tuple(range(3, args.episode_steps + 1, 3))
    sc = diverse.stochastic_contexts(args.game, args.seed, args.branch_envs, 32, times)
    if sc.frames.shape[0] == 0:
        return None
    two = []
    for f in sc.futures:  # [M, H, W, 3] -> the first two distinct futures
        other = int((f != f[:1]).flatten(1).any(1).nonzero()[0])
        two.append(torch.stack([f[0], f[other]]))
    c = sc.frames.permute(0, 1, 4, 2, 3).float() / 255.0  # [S, 3, 3, H, W]
    o = torch.stack(two).permute(0, 1, 4, 2, 3).float() / 255.0  # [S, 2, 3, H, W]
    ctx.say(f"m2 train: {c.shape[0]} stochastic contexts of {sc.tried} for the coverage loss")
    return c, sc.actions, o
