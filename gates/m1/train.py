"""`gate m1 train`: train the m1 autoencoder on frames collected through shell.datasets.collect.

Seeded (the data, the initial weights and the crop sampler all follow --seed), resumable (`--resume` a
checkpoint folder or the run id that wrote it) and written as the candidate artifact `autoencoder` of its
run, weights only (`gate approve m1 --run RUN_ID` makes it golden). The loop, checkpoints and resume are
gates/common/training.py's, shared with every train verb.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated

import typer

from gates.common.evaldata import DEFAULT_BACKEND, DEFAULT_GAME, EVAL_SEED
from gates.common.training import RESUME, launch
from shell import options


@dataclass(frozen=True)
class TrainArgs:
    steps: int = 8000  # total optimizer steps (a resumed run continues up to this)
    episodes: int = 16  # envs collected in one batch; a fifth are held out for the report
    episode_steps: int = 320  # frames per episode after the reset frame: the camera scrolls far
    batch: int = 32  # crops per step
    crop: int = 64  # crop edge in px (a multiple of the patch): 1/16 of a frame per sample
    lr: float = 2e-3  # peak AdamW learning rate (5% warm-up, cosine to zero)
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    game: str = DEFAULT_GAME
    threads: int = options.TRAIN_THREADS
    resume: str = ""  # checkpoint folder or run id
    checkpoint_every: int = 250  # steps between checkpoints of a running job
    nproc: int = 1  # data-parallel processes (gates/common/parallel.py)
    log_every: int = 50  # steps between loss records


D = TrainArgs()


def add_train_verb(app) -> None:
    @app.command("train")
    def train(
        steps: options.Steps = D.steps,
        episodes: options.Episodes = D.episodes,
        episode_steps: options.EpisodeSteps = D.episode_steps,
        batch: Annotated[int, typer.Option(help="Crops per optimizer step.")] = D.batch,
        crop: Annotated[int, typer.Option(help="Crop edge in px (a multiple of 8).")] = D.crop,
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
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Train the m1 autoencoder; writes the candidate artifact `autoencoder` (approve it)."""
        args = TrainArgs(
            steps, episodes, episode_steps, batch, crop, lr, seed, backend, game, threads, resume,
            checkpoint_every, nproc=nproc, log_every=log_every,
        )  # fmt: skip
        launch("m1", args, train_autoencoder, device, json, log_jsonl)


def _check(args: TrainArgs) -> None:
    from gates.common.training import check_train_args
    from shell.errors import BadInput

    counts = (
        "steps",
        "episodes",
        "episode_steps",
        "batch",
        "checkpoint_every",
        "log_every",
        "nproc",
    )
    check_train_args(args, counts, EVAL_SEED)
    if args.crop < 8 or args.crop % 8:
        raise BadInput(f"--crop {args.crop}: must be a positive multiple of 8")


def train_autoencoder(ctx, args: TrainArgs) -> None:
    import numpy as np
    import torch

    from core.metrics import psnr, ssim, to_unit
    from core.models.autoencoder import AEConfig, PatchAutoencoder, recon_loss
    from core.models.builtin import PatchCodec
    from gates.common.evaldata import collect_frames, model_name, set_threads
    from gates.common.training import Trainer, resume
    from gates.m1.run import ARCH, reconstruct
    from shell.errors import BadInput
    from shell.store import sha256_bytes

    _check(args)
    threads = set_threads(args.threads)
    dev = ctx.device
    torch.manual_seed(args.seed)
    name = model_name("autoencoder", args.backend, args.game)
    data = {
        "backend": args.backend, "game": args.game, "episodes": args.episodes,
        "episode_steps": args.episode_steps, "seed": args.seed, "policy": "scripted",
    }  # fmt: skip
    resumed = resume(ctx, "m1 train", args.resume, (RESUME, name), ARCH, data, AEConfig.from_dict)
    cfg = resumed.config if resumed else AEConfig()

    with ctx.progress(args.episode_steps, "m1 train: collecting frames") as advance:
        ds = collect_frames(
            args.backend, args.game, args.episodes, args.episode_steps, args.seed, advance
        )
    h, w = ds.frames.shape[2:4]
    ph, pw = (-h) % cfg.patch, (-w) % cfg.patch
    frames = np.pad(ds.frames, ((0, 0), (0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    train = torch.from_numpy(frames[ds.split["train"]]).flatten(0, 1)  # uint8 [N, H', W', 3]
    held = torch.from_numpy(ds.frames[ds.split["heldout"]]).flatten(0, 1)[::4]  # uint8 [M, H, W, 3]
    if min(train.shape[1:3]) < args.crop:
        raise BadInput(f"--crop {args.crop}: larger than the frames ({h}x{w})")

    model = PatchAutoencoder(cfg).to(dev)
    trainer = Trainer(
        ctx, "m1", model, asdict(args),
        model_meta={
            "arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
            "game": args.game, "backend": args.backend, "latent_dtype": "float16",
        },
        inputs={"frames": sha256_bytes(ds.frames.tobytes())},
        lr=args.lr, steps=args.steps, seed=args.seed, resumed=resumed, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, nproc=args.nproc,
        describe=lambda: {
            "data": data, "batch": args.batch, "crop": args.crop, "threads": threads,
            "device": str(dev),
        },
    )  # fmt: skip
    gh, gw = (train.shape[1] - args.crop) // 8 + 1, (train.shape[2] - args.crop) // 8 + 1

    def loss_at(gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, train.shape[0], (args.batch,), generator=gen).tolist()
        oy = (torch.randint(0, gh, (args.batch,), generator=gen) * 8).tolist()
        ox = (torch.randint(0, gw, (args.batch,), generator=gen) * 8).tolist()
        rows = trainer.part(list(zip(idx, oy, ox, strict=True)))  # this process's share (--nproc)
        crops = torch.stack(
            [train[i, y : y + args.crop, x : x + args.crop] for i, y, x in rows]
        )  # uint8 [B / nproc, crop, crop, 3]
        x = to_unit(crops.to(dev))  # [B, 3, crop, crop]
        return recon_loss(model(x), x)

    seconds = trainer.fit(loss_at, "m1 train")
    y = reconstruct(PatchCodec(model), held, dev)
    x = to_unit(held)
    hp, hs = psnr(y, x).mean().item(), ssim(y, x).mean().item()
    ctx.metric("heldout_psnr", hp, "dB")
    ctx.metric("heldout_ssim", hs)
    extra = {"heldout_psnr": round(hp, 3), "heldout_ssim": round(hs, 4)}
    trainer.finish(name, extra, "m1_train_loss.png", "m1 train: reconstruction loss")
    ctx.say(
        f"m1 train: {trainer.done} steps in {seconds:.0f} s; held-out PSNR {hp:.2f} dB, SSIM {hs:.4f}"
    )
