"""`gate m1 train`: train the m1 autoencoder on frames collected through shell.datasets.collect.

Seeded (the data, the initial weights and the crop sampler all follow --seed), resumable (`--resume` a
checkpoint folder or the run id that wrote it: weights, optimizer state, sampler RNG and step count are
in the checkpoint; the learning rate is a pure function of the step), and written as the candidate
artifact `autoencoder` of its run, weights only (`gate approve m1 --run RUN_ID` makes it golden). The
resumable checkpoint (weights, optimizer state, sampler RNG) is `.gate/runs/RUN_ID/resume/`, written
every --checkpoint-every steps and at the end, so a killed or finished run can be continued.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from gates.m1 import EVAL_SEED
from gates.m1_data import DEFAULT_BACKEND, DEFAULT_GAME

RESUME = "resume"  # the run's resumable checkpoint (not a candidate: approving copies weights only)


@dataclass(frozen=True)
class TrainArgs:
    steps: int = 3000  # total optimizer steps (a resumed run continues up to this)
    episodes: int = 16  # envs collected in one batch; a fifth are held out for the report
    episode_steps: int = 96  # frames per episode after the reset frame
    batch: int = 32  # crops per step
    crop: int = 64  # crop edge in px (a multiple of the patch): 1/16 of a frame per sample
    lr: float = 2e-3  # peak AdamW learning rate (5% warm-up, cosine to zero)
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    game: str = DEFAULT_GAME
    threads: int = 0  # torch CPU threads; 0 = min(2, cores)
    resume: str = ""  # checkpoint folder or run id
    checkpoint_every: int = 250  # steps between checkpoints of a running job
    log_every: int = 50  # steps between loss records


def lr_at(step: int, total: int, peak: float) -> float:
    """5% linear warm-up, then cosine to zero: a pure function of the step, so a resume continues it."""
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def add_train_verb(app) -> None:
    import typer

    d = TrainArgs()

    @app.command("train")
    def train(
        steps: int = typer.Option(d.steps, help="Total optimizer steps."),
        episodes: int = typer.Option(d.episodes, help="Episodes to collect (a fifth held out)."),
        episode_steps: int = typer.Option(d.episode_steps, help="Steps per episode."),
        batch: int = typer.Option(d.batch, help="Crops per optimizer step."),
        crop: int = typer.Option(d.crop, help="Crop edge in px (a multiple of 8)."),
        lr: float = typer.Option(d.lr, help="Peak learning rate."),
        seed: int = typer.Option(d.seed, "--seed", help="Seed for data, weights and sampling."),
        backend: str = typer.Option(d.backend, "--backend", help="Backend to collect from."),
        game: str = typer.Option(d.game, "--game", help="Game of the backend (pong for ale)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
        threads: int = typer.Option(d.threads, help="Torch CPU threads (0: min(2, cores))."),
        resume: str = typer.Option("", "--resume", help="Checkpoint folder or run id to resume."),
        checkpoint_every: int = typer.Option(d.checkpoint_every, help="Steps between checkpoints."),
        json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
        log_jsonl: bool = typer.Option(
            False, "--log-jsonl", help="Per-step events in the receipt."
        ),
    ) -> None:
        """Train the m1 autoencoder; writes the candidate artifact `autoencoder` (approve it)."""
        from shell.commands.run_cmds import execute_verb
        from shell.runner import RunOptions

        args = TrainArgs(
            steps, episodes, episode_steps, batch, crop, lr, seed, backend, game, threads, resume,
            checkpoint_every,
        )  # fmt: skip
        opts = RunOptions(backend=backend, device=device, seed=seed, json=json, log_jsonl=log_jsonl)
        _refuse_early(backend, game)
        execute_verb("m1", "train", lambda ctx: train_autoencoder(ctx, args), asdict(args), opts)


def _refuse_early(backend: str, game: str) -> None:
    """A typo in --game is exit 2 before a run starts (with the nearest names), not after torch loads."""
    from shell.backends.games import check_game
    from shell.output import guard

    with guard():
        check_game(backend, game)


def _check(args: TrainArgs) -> None:
    from gates.m1_data import check_train_seed
    from shell.errors import BadInput

    check_train_seed(args.seed, EVAL_SEED)
    if not math.isfinite(args.lr) or args.lr <= 0:
        raise BadInput(f"--lr {args.lr}: must be a finite number > 0")
    for name in ("steps", "episodes", "episode_steps", "batch", "checkpoint_every", "log_every"):
        if getattr(args, name) < (0 if name == "steps" else 1):
            raise BadInput(f"--{name.replace('_', '-')} {getattr(args, name)}: too small")
    if args.batch > 4096 or args.steps > 10**8:  # a typo, not a workload: refused before collecting
        raise BadInput(f"--batch {args.batch} / --steps {args.steps}: at most 4096 / 10**8")
    if args.crop < 8 or args.crop % 8:
        raise BadInput(f"--crop {args.crop}: must be a positive multiple of 8")
    if args.episodes < 2:
        raise BadInput(f"--episodes {args.episodes}: needs 2 or more (one is held out)")


def train_autoencoder(ctx, args: TrainArgs) -> None:
    import numpy as np
    import torch

    from core.metrics import psnr, ssim, to_unit
    from core.models.autoencoder import AEConfig, PatchAutoencoder, recon_loss
    from gates import m1_ckpt
    from gates.m1_data import collect_frames, model_name, set_threads
    from gates.m1_run import ARCH, reconstruct
    from shell import pictures
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

    cfg, start, seconds, log = AEConfig(), 0, 0.0, []
    resumed: dict[str, Any] | None = None
    if args.resume:  # a run folder: its resumable checkpoint, else its weights
        cfg, start, seconds, log, resumed = m1_ckpt.resume_from(
            args.resume, (RESUME, name), ARCH, data, AEConfig.from_dict
        )
        ctx.say(f"m1 train: resuming {resumed['path']} at step {start}")

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
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    if resumed is not None:
        m1_ckpt.restore(model, resumed["tensors"], resumed["path"])
        m1_ckpt.restore_optimizer(opt, resumed["tensors"])
        if "rng.sampler" in resumed["tensors"]:
            gen.set_state(resumed["tensors"]["rng.sampler"])

    model_meta = {
        "arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
        "game": args.game, "backend": args.backend, "latent_dtype": "float16",
    }  # fmt: skip
    inputs = {"frames": sha256_bytes(ds.frames.tobytes())}
    dest = ctx.run_dir / RESUME  # weights + optimizer + sampler RNG: what --resume continues

    def training(step: int, secs: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "steps": step, "target_steps": args.steps, "seconds": round(secs, 2),
            "data": data, "batch": args.batch, "crop": args.crop, "lr": args.lr,
            "threads": threads, "device": str(dev), **(extra or {}),
        }  # fmt: skip

    def checkpoint(step: int, secs: float) -> None:
        m1_ckpt.save_checkpoint(
            dest, "m1", ctx.run_id, asdict(args), m1_ckpt.pack(model, opt, gen), model_meta,
            training(step, secs), log, inputs,
        )  # fmt: skip

    gh, gw = (train.shape[1] - args.crop) // 8 + 1, (train.shape[2] - args.crop) // 8 + 1
    t0 = time.perf_counter()
    model.train()
    with ctx.progress(max(0, args.steps - start), "m1 train") as advance:
        for step in range(start, args.steps):
            idx = torch.randint(0, train.shape[0], (args.batch,), generator=gen).tolist()
            oy = (torch.randint(0, gh, (args.batch,), generator=gen) * 8).tolist()
            ox = (torch.randint(0, gw, (args.batch,), generator=gen) * 8).tolist()
            crops = torch.stack(
                [
                    train[i, y : y + args.crop, x : x + args.crop]
                    for i, y, x in zip(idx, oy, ox, strict=True)
                ]
            )  # uint8 [B, crop, crop, 3]
            x = to_unit(crops.to(dev))  # [B, 3, crop, crop]
            lr = lr_at(step, args.steps, args.lr)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = recon_loss(model(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            advance(1)
            if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
                el = seconds + time.perf_counter() - t0
                log.append(
                    {"step": step + 1, "loss": loss.item(), "lr": lr, "seconds": round(el, 2)}
                )
                ctx.step(step=step + 1, loss=loss.item(), lr=lr)
            if (step + 1) % args.checkpoint_every == 0 and step + 1 < args.steps:
                checkpoint(step + 1, seconds + time.perf_counter() - t0)
    seconds += time.perf_counter() - t0
    done = max(start, args.steps)
    checkpoint(done, seconds)  # resumable to more steps later

    model.eval()
    y = reconstruct(model, held, dev)
    x = to_unit(held)
    hp, hs = psnr(y, x).mean().item(), ssim(y, x).mean().item()
    ctx.metric("train_seconds", seconds, "s")
    ctx.metric("steps", done)
    ctx.metric("heldout_psnr", hp, "dB")
    ctx.metric("heldout_ssim", hs)
    if log:
        ctx.metric("final_loss", log[-1]["loss"])
        ctx.picture(
            "m1_train_loss.png",
            pictures.line_plot({"loss": [r["loss"] for r in log]}, "m1 train: loss per log step"),
        )
    files = {m1_ckpt.WEIGHTS: m1_ckpt.pack(model), m1_ckpt.LOG: _json(log)}  # weights only
    extra = {"heldout_psnr": round(hp, 3), "heldout_ssim": round(hs, 4)}
    ctx.write_artifact(
        name, files, inputs, m1_ckpt.PIPELINE_VERSION, m1_ckpt.ModelMeta,
        extra_meta={"model": model_meta, "training": training(done, seconds, extra)},
    )  # fmt: skip
    ctx.say(f"m1 train: {done} steps in {seconds:.0f} s; held-out PSNR {hp:.2f} dB, SSIM {hs:.4f}")


def _json(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)
