"""`gate m2 train`: train the m2 next-frame predictor on windows of 4 frames (3 in, the 4th the target)
collected through shell.datasets.collect; windows that cross an episode reset are excluded.

Seeded, resumable (`--resume` a checkpoint folder or its run id) and written as the candidate artifact
`predictor` of its run, like `gate m1 train` (gates/m1_train.py). The loss is best-of-K MSE over K noise
samples (core.models.predictor.best_of_k_loss), so the noise input comes to mean different futures.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from gates.m1 import EVAL_SEED
from gates.m1_data import DEFAULT_BACKEND, DEFAULT_GAME
from gates.m1_train import RESUME, lr_at


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
    threads: int = 0  # torch CPU threads; 0 = min(2, cores)
    resume: str = ""  # checkpoint folder or run id
    checkpoint_every: int = 100  # steps between checkpoints of a running job
    log_every: int = 25  # steps between loss records


def add_train_verb(app) -> None:
    import typer

    d = TrainArgs()

    @app.command("train")
    def train(
        steps: int = typer.Option(d.steps, help="Total optimizer steps."),
        episodes: int = typer.Option(d.episodes, help="Episodes to collect (a fifth held out)."),
        episode_steps: int = typer.Option(d.episode_steps, help="Steps per episode."),
        batch: int = typer.Option(d.batch, help="Windows per optimizer step."),
        k: int = typer.Option(d.k, "--k", help="Noise samples per window (best-of-K loss)."),
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
        """Train the m2 predictor; writes the candidate artifact `predictor` (approve it)."""
        from shell.commands.run_cmds import execute_verb
        from shell.runner import RunOptions

        args = TrainArgs(
            steps, episodes, episode_steps, batch, k, lr, seed, backend, game, threads, resume,
            checkpoint_every,
        )  # fmt: skip
        opts = RunOptions(backend=backend, device=device, seed=seed, json=json, log_jsonl=log_jsonl)
        _refuse_early(backend, game)
        execute_verb("m2", "train", lambda ctx: train_predictor(ctx, args), asdict(args), opts)


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
    for name in ("steps", "episodes", "episode_steps", "batch", "k", "checkpoint_every"):
        if getattr(args, name) < (0 if name == "steps" else 1):
            raise BadInput(f"--{name.replace('_', '-')} {getattr(args, name)}: too small")
    if args.batch > 4096 or args.steps > 10**8:  # a typo, not a workload: refused before collecting
        raise BadInput(f"--batch {args.batch} / --steps {args.steps}: at most 4096 / 10**8")
    if args.episodes < 2:
        raise BadInput(f"--episodes {args.episodes}: needs 2 or more (one is held out)")
    if args.episode_steps < 4:
        raise BadInput(f"--episode-steps {args.episode_steps}: a window needs 4 frames")


def train_predictor(ctx, args: TrainArgs) -> None:
    import torch

    from core.metrics import mse, palette_of, to_unit
    from core.models.predictor import FramePredictor, PredictorConfig, best_of_k_loss
    from gates import m1_ckpt
    from gates.m1_data import collect_frames, model_name, pad_to, set_threads
    from gates.m2_run import ARCH, context, noise, predict, windows
    from shell import pictures
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
    cfg, start, seconds, log = PredictorConfig(n_actions=n_actions), 0, 0.0, []
    resumed: dict[str, Any] | None = None
    if args.resume:  # a run folder: its resumable checkpoint, else its weights
        cfg, start, seconds, log, resumed = m1_ckpt.resume_from(
            args.resume, (RESUME, name), ARCH, data, PredictorConfig.from_dict
        )
        ctx.say(f"m2 train: resuming {resumed['path']} at step {start}")

    frames = torch.from_numpy(ds.frames)  # uint8 [E, T+1, H, W, 3]
    actions = torch.from_numpy(ds.actions)  # int64 [E, T]
    done = ds.truth["done"]
    train = windows(done, ds.split["train"], 1, 2)
    held = windows(done, ds.split["heldout"], 4, 3)
    if not train:
        raise BadInput("--episode-steps: no 4-frame window inside one episode to train on")
    h, w = frames.shape[2:4]

    net = FramePredictor(cfg).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    if resumed is not None:
        m1_ckpt.restore(net, resumed["tensors"], resumed["path"])
        m1_ckpt.restore_optimizer(opt, resumed["tensors"])
        if "rng.sampler" in resumed["tensors"]:
            gen.set_state(resumed["tensors"]["rng.sampler"])

    palette = palette_of(frames[ds.split["train"]])  # uint8 [K, 3]: the colours frames are made of
    model_meta = {
        "arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
        "game": args.game, "backend": args.backend, "action_names": ds.meta["action_names"],
        "palette": palette.tolist(),
    }  # fmt: skip
    inputs = {
        "frames": sha256_bytes(ds.frames.tobytes()),
        "actions": sha256_bytes(ds.actions.tobytes()),
    }
    dest = ctx.run_dir / RESUME  # weights + optimizer + sampler RNG: what --resume continues

    def training(step: int, secs: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "steps": step, "target_steps": args.steps, "seconds": round(secs, 2), "data": data,
            "batch": args.batch, "k": args.k, "lr": args.lr, "threads": threads,
            "device": str(dev), "windows": len(train), **(extra or {}),
        }  # fmt: skip

    def batch_at(idx: list[int]) -> tuple[Any, Any, Any]:
        ws = [train[i] for i in idx]
        c = pad_to(context(frames, ws), cfg.multiple).to(dev)  # [B, 3, 3, H', W']
        a = torch.stack([actions[e, t] for e, t in ws]).to(dev)  # [B]
        y = pad_to(to_unit(torch.stack([frames[e, t + 1] for e, t in ws])), cfg.multiple).to(dev)
        return c, a, y

    t0 = time.perf_counter()
    net.train()
    with ctx.progress(max(0, args.steps - start), "m2 train") as advance:
        for step in range(start, args.steps):
            idx = torch.randint(0, len(train), (args.batch,), generator=gen).tolist()
            c, a, y = batch_at(idx)
            lr = lr_at(step, args.steps, args.lr)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = best_of_k_loss(net, c, a, y, args.k, gen)
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
                m1_ckpt.save_checkpoint(
                    dest, "m2", ctx.run_id, asdict(args), m1_ckpt.pack(net, opt, gen), model_meta,
                    training(step + 1, seconds + time.perf_counter() - t0), log, inputs,
                )  # fmt: skip
    seconds += time.perf_counter() - t0
    done_steps = max(start, args.steps)
    m1_ckpt.save_checkpoint(
        dest, "m2", ctx.run_id, asdict(args), m1_ckpt.pack(net, opt, gen), model_meta,
        training(done_steps, seconds), log, inputs,
    )  # fmt: skip

    net.eval()
    extra: dict[str, Any] = {}
    if held:
        c = context(frames, held)
        a = torch.stack([actions[e, t] for e, t in held])
        y = to_unit(torch.stack([frames[e, t + 1] for e, t in held]))
        p = predict(net, c, a, noise(len(held), cfg.noise_dim, args.seed), dev)
        extra = {
            "heldout_mse": round(mse(p, y).mean().item(), 6),
            "heldout_baseline_mse": round(mse(c[:, -1], y).mean().item(), 6),
        }
        ctx.metric("heldout_mse", extra["heldout_mse"])
        ctx.metric("heldout_baseline_mse", extra["heldout_baseline_mse"])
    ctx.metric("train_seconds", seconds, "s")
    ctx.metric("steps", done_steps)
    if log:
        ctx.metric("final_loss", log[-1]["loss"])
        ctx.picture(
            "m2_train_loss.png",
            pictures.line_plot({"loss": [r["loss"] for r in log]}, "m2 train: best-of-K loss"),
        )
    files = {m1_ckpt.WEIGHTS: m1_ckpt.pack(net), m1_ckpt.LOG: _json(log)}  # weights only
    ctx.write_artifact(
        name, files, inputs, m1_ckpt.PIPELINE_VERSION, m1_ckpt.ModelMeta,
        extra_meta={"model": model_meta, "training": training(done_steps, seconds, extra)},
    )  # fmt: skip
    summary = "; ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in extra.items())
    ctx.say(
        f"m2 train: {done_steps} steps in {seconds:.0f} s" + (f"; {summary}" if summary else "")
    )


def _json(obj: Any) -> bytes:
    import orjson

    return orjson.dumps(obj)
