"""`gate m4 train`: the playable world model of m4 and m5, trained on its own rollouts.

The built-in platformer is played under the mixed policy of gates/common/clips.py (segments of 2..8
frames, half the scripted policy that gets places, half one held uniform action, so every action is
seen from every kind of state); windows of K context + `horizon` target frames inside one episode are
unrolled, each step continuing from the model's own previous frame, a quarter of them from one
repeated frame (m4's input). Two objectives (history/m4-m5-model.md says why and what each measured):
- `--hard` (default): block motion, core.models.blockmotion.block_unroll_loss. Each 8x8 cell moves
  whole by a shift taught by cross-entropy against the searched shifts; pixels no shift explains are
  painted from the game's palette; the model's sampler (`--objects`, `--min-p`) is saved with it;
  `--layers` moves sprites as a layer over the background, and `--contact` (with it) reads off the
  clips which colours are solid, so that sampled moves stop at them (core/models/layers.py);
- `--soft`: m2's soft shift mixture under core.models.unroll.unroll_loss (best-of-K MSE).
By default it starts from m2's golden predictor (`--init`), whose trunk already reads motion.

Seeded, resumable, written as the candidate artifact `predictor` of the run; `gate m4` and `gate m5`
judge it once approved (`gate approve m4 --run RUN_ID`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from gates.common.evaldata import EVAL_SEED
from gates.common.training import RESUME, launch
from shell import options

ARCH = "frame_predictor"


@dataclass(frozen=True)
class TrainArgs:
    steps: int = 3000  # optimizer steps; ~15 min at 2 threads from m2's golden (README)
    episodes: int = 24  # envs played at once; a fifth held out for the report
    episode_steps: int = 160  # long enough to cross a third of a level
    batch: int = 2  # windows per step: each is unrolled `horizon` times, whole 256x256 frames
    k: int = 2  # noise samples per step for best-of-K
    horizon: int = 4  # fed-back steps per window: drift shows after 2-3 and costs linear time
    lr: float = 3e-4  # a fine-tune: a third of m2's peak
    seed: int = 0
    game: str = "platformer"  # the world-model gates read the built-in game's truth
    backend: str = "builtin"  # the game's backend (fixed: m4 plays the game's pure functions)
    threads: int = options.TRAIN_THREADS
    resume: str = ""  # checkpoint folder or run id
    init: str = "artifacts/m2/predictor"  # weights to start from ("" = from scratch)
    one_frame: float = 0.25  # share of windows starting from one repeated frame (m4's input)
    ctx_noise: float = 0.0  # the context noise level's upper bound (GameNGen-style); 0: block
    # motion copies pixels, so noise on the context is copied on (0.03 helped the soft mixture)
    sharp: float = 0.0  # weight of the shift choices' entropy (core.models.unroll.unroll_loss)
    camera_weight: float = 0.1  # block motion: the camera choice's cross-entropy, beside the cells'
    objects: bool = True  # hard mode's sampler: one shift per moving object (else per cell)
    pool: bool = True  # objects draw from their cells' weighted mean distribution (else from
    # their surest mover's, which drags what touches the player: history/m4-m5-model.md)
    # hard mode's sampler: shifts of p >= min_p % may be drawn (0: always the argmax); the argmax
    # alone never leaves a jump's apex, drawn shifts fall at the game's rate on average
    min_p: int = 10
    # the network sees the moves its context shows (camera and cells, searched as the labels are):
    # falls keep accelerating, a landed player stays put (history/m4-m5-model.md)
    motion_in: bool = True
    # channels of the per-pixel head that sees the moved frame (0: none). Off: at 12 it made
    # training 2.4x slower and m4 no better (history/m4-m5-model.md)
    pixel_head: int = 0
    # sprites move as a layer over a still background (core/models/predictor.py `layers`): the
    # ground beside a sprite never travels with it, whatever shift is drawn
    layers: bool = False
    # with layers: a sampled move stops at the face of the colours moving sprites never cover (read
    # off the training clips), and new pixels take only colours moving things show
    # (core/models/layers.py): a cell 8 px coarse cannot place a landing to the pixel
    contact: bool = False
    # with layers: hidden width of the painter (core/models/painter.py), which paints new poses
    # from the pixels around a sprite (0: off; the cells' 1x1 paint head cannot place an arm)
    painter: int = 0
    # train only the parameters whose names start with this (e.g. "painter"); the rest frozen, so
    # a step costs the forward pass and that part's backward (a head taught on wide batches)
    only: str = ""
    # share of windows whose first target follows a change of action: a new pose, m5's moment
    # (~1 in 10 windows otherwise)
    focus: float = 0.0
    # with --only painter: windows whose painter inputs and labels are computed once
    # (core/models/paintbank.py), at each of --horizon steps, the first from the window's context,
    # the rest from the model's own frames; each step then takes --batch banked cells (0: off)
    bank: int = 0
    hard: bool = True  # block motion (core/models/blockmotion.py): whole shifts per cell, taught by
    # cross-entropy; False: m2's soft mixture under core.models.unroll.unroll_loss
    checkpoint_every: int = 100
    log_every: int = 25


D = TrainArgs()


def add_train_verb(app) -> None:
    @app.command("train")
    def train(
        steps: options.Steps = D.steps,
        episodes: options.Episodes = D.episodes,
        episode_steps: options.EpisodeSteps = D.episode_steps,
        batch: Annotated[int, typer.Option(help="Windows per optimizer step.")] = D.batch,
        k: Annotated[int, typer.Option("--k", help="Noise samples per step (best-of-K).")] = D.k,
        horizon: Annotated[int, typer.Option(help="Fed-back steps per window.")] = D.horizon,
        lr: options.Lr = D.lr,
        seed: options.Seed = D.seed,
        game: options.Game = D.game,
        device: options.Device = "auto",
        threads: options.Threads = D.threads,
        resume: options.Resume = "",
        init: Annotated[
            str, typer.Option(help="Checkpoint folder to start from ('' = from scratch).")
        ] = D.init,
        one_frame: Annotated[
            float, typer.Option(help="Share of windows starting from one repeated frame.")
        ] = D.one_frame,
        ctx_noise: Annotated[
            float, typer.Option(help="Upper bound of the context noise level (0: none).")
        ] = D.ctx_noise,
        sharp: Annotated[
            float, typer.Option(help="Weight of the per-cell shift choices' entropy (0: none).")
        ] = D.sharp,
        camera_weight: Annotated[
            float, typer.Option(help="Block motion: weight of the camera decision's cross-entropy.")
        ] = D.camera_weight,
        objects: Annotated[
            bool, typer.Option("--objects/--cells", help="One shift per moving object or per cell.")
        ] = D.objects,
        pool: Annotated[
            bool, typer.Option("--pool/--surest", help="An object's shift: cells' mean or surest.")
        ] = D.pool,
        min_p: Annotated[
            int, typer.Option(help="Shifts of probability >= this % may be drawn (0: argmax).")
        ] = D.min_p,
        hard: Annotated[
            bool, typer.Option("--hard/--soft", help="Block motion (hard shifts) or m2's mixture.")
        ] = D.hard,
        motion_in: Annotated[
            bool, typer.Option("--motion/--no-motion", help="Feed the context's searched moves.")
        ] = D.motion_in,
        pixel_head: Annotated[
            int, typer.Option(help="Channels of the per-pixel paint/keep head (0: none).")
        ] = D.pixel_head,
        layers: Annotated[
            bool, typer.Option("--layers/--no-layers", help="Sprites move as a layer.")
        ] = D.layers,
        contact: Annotated[
            bool, typer.Option("--contact/--no-contact", help="Sprites stop at solid colours.")
        ] = D.contact,
        painter: Annotated[
            int, typer.Option(help="With --layers: hidden width of the pose painter (0: none).")
        ] = D.painter,
        only: Annotated[
            str, typer.Option(help="Train only parameters whose names start with this.")
        ] = D.only,
        focus: Annotated[
            float, typer.Option(help="Share of windows that start at a change of action.")
        ] = D.focus,
        bank: Annotated[
            int,
            typer.Option(
                help="With --only painter: windows banked (x --horizon steps); --batch: cells."
            ),
        ] = D.bank,
        checkpoint_every: options.CheckpointEvery = D.checkpoint_every,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Train the m4/m5 world model; writes the candidate artifact `predictor` (approve it)."""
        args = TrainArgs(
            steps=steps, episodes=episodes, episode_steps=episode_steps, batch=batch, k=k,
            horizon=horizon, lr=lr, seed=seed, game=game, threads=threads, resume=resume, init=init,
            one_frame=one_frame, ctx_noise=ctx_noise, sharp=sharp, camera_weight=camera_weight, hard=hard,
            objects=objects, min_p=min_p,
            motion_in=motion_in, pixel_head=pixel_head, pool=pool, layers=layers, contact=contact,
            painter=painter, only=only, focus=focus, bank=bank,
            checkpoint_every=checkpoint_every,
        )  # fmt: skip
        launch("m4", args, train_world_model, device, json, log_jsonl)


def _check(args: TrainArgs) -> None:
    from gates.common.training import check_train_args
    from shell.errors import BadInput

    counts = ("steps", "episodes", "episode_steps", "batch", "k", "horizon", "checkpoint_every")
    if args.bank < 0:
        raise BadInput(f"--bank {args.bank}: a number of windows, >= 0")
    check_train_args(args, counts, EVAL_SEED)
    if args.game != "platformer":
        raise BadInput(f"--game {args.game}: m4 reads the built-in platformer's truth")
    if not (0 <= args.one_frame <= 1):
        raise BadInput(f"--one-frame {args.one_frame}: a share in 0..1")
    if not (0 <= args.min_p <= 100):
        raise BadInput(f"--min-p {args.min_p}: a percentage in 0..100")
    if not (0 <= args.sharp <= 1):
        raise BadInput(f"--sharp {args.sharp}: in 0..1")
    if not (0 <= args.camera_weight <= 100):
        raise BadInput(f"--camera-weight {args.camera_weight}: in 0..100")
    if not (0 <= args.ctx_noise <= 0.5):
        raise BadInput(f"--ctx-noise {args.ctx_noise}: in 0..0.5")
    if not (0 <= args.pixel_head <= 64):
        raise BadInput(f"--pixel-head {args.pixel_head}: channels in 0..64")
    if args.bank and args.only != "painter":
        raise BadInput(f"--bank {args.bank}: banks the painter's inputs, needs --only painter")
    if not (0 <= args.focus <= 1):
        raise BadInput(f"--focus {args.focus}: a share in 0..1")
    if not (0 <= args.painter <= 1024):
        raise BadInput(f"--painter {args.painter}: a hidden width in 0..1024")
    if args.painter and not (args.layers and args.hard):
        raise BadInput("--painter: needs --layers (it paints near the sprite layer's pixels)")
    if args.contact and not (args.layers and args.hard):
        raise BadInput("--contact: needs --layers (it stops the sprite layer's moves)")
    if args.horizon > 32 or args.episode_steps < 3 + args.horizon:
        raise BadInput(f"--horizon {args.horizon}: at most 32 and shorter than an episode")


def windows(done: Any, episodes: list[int], length: int, stride: int) -> list[tuple[int, int]]:
    """(episode, t): frames t..t+length-1 of one episode (no reset inside)."""
    steps = done.shape[1]
    return [
        (e, t)
        for e in episodes
        for t in range(0, steps - length + 2, stride)
        if not bool(done[e, t : t + length - 1].any())
    ]


def train_world_model(ctx, args: TrainArgs) -> None:
    from pathlib import Path

    import torch

    from core.games import get_game
    from core.metrics import mse, palette_of, to_unit
    from core.models.blockmotion import block_unroll_loss
    from core.models.layers import clip_counts, shown_colours, solid_colours
    from core.models.predictor import FramePredictor, PredictorConfig
    from core.models.unroll import unroll_loss
    from gates.common.clips import play
    from gates.common.evaldata import pad_to, set_threads
    from gates.common.training import Trainer, resume
    from shell import checkpoints
    from shell.store import sha256_bytes

    _check(args)
    threads = set_threads(args.threads)
    dev = ctx.device
    torch.manual_seed(args.seed)
    game = get_game(args.game)
    data = {"game": args.game, "episodes": args.episodes, "episode_steps": args.episode_steps,
            "seed": args.seed, "policy": "mixed: scripted / held uniform, 2..8 frames"}  # fmt: skip
    ctx.say(f"m4 train: playing {args.episodes} episodes x {args.episode_steps} steps")
    clip, _ = play(game, game.reset(args.seed, args.episodes, "cpu"), None, args.episode_steps,
                   args.seed)  # fmt: skip
    frames, actions, done = (
        clip.frames,
        clip.actions,
        clip.done,
    )  # [E, T+1, H, W, 3], [E, T], [E, T]

    resumed = resume(ctx, "m4 train", args.resume, (RESUME, "predictor"), ARCH, data,
                     PredictorConfig.from_dict)  # fmt: skip
    init_tensors = None
    if resumed:
        cfg = resumed.config
    elif args.init:
        meta, init_tensors = checkpoints.load_checkpoint(Path(args.init), ARCH, game=args.game)
        cfg = PredictorConfig.from_dict({**meta.model["config"], "hard": args.hard,
                                         "motion_in": args.motion_in,
                                         "pixel_head": args.pixel_head,
                                         "layers": args.layers,
                                         "painter": args.painter})  # fmt: skip
    else:
        cfg = PredictorConfig(n_actions=len(game.actions), hard=args.hard, motion_in=args.motion_in,
                              pixel_head=args.pixel_head, layers=args.layers,
                              painter=args.painter)  # fmt: skip
    n_held = max(1, args.episodes // 5)
    palette = palette_of(frames[n_held:])  # uint8 [P, 3]: the colours new pixels are drawn from
    if cfg.hard and not resumed:
        cfg = PredictorConfig.from_dict({**cfg.to_dict(), "palette": int(palette.shape[0]),
                                         "objects": args.objects, "min_p": args.min_p,
                                         "pool": args.pool, "contact": args.contact})  # fmt: skip
    net = FramePredictor(cfg)
    if init_tensors is not None:  # the init's weights where they fit (m2's has no paint head)
        want = net.state_dict()
        have = {k[6:]: v for k, v in init_tensors.items() if k.startswith("model.")}
        keep = {k: v for k, v in have.items() if k in want and v.shape == want[k].shape}
        net.load_state_dict(keep, strict=False)
        if fresh := sorted(set(want) - set(keep)):
            ctx.say(f"m4 train: from {args.init}; new here: {', '.join(fresh)}")
    if cfg.palette and not resumed:
        net.colours.copy_(palette.float() / 255)
    if cfg.contact and not resumed:  # which colours are solid, and which moving things show
        ctx.say("m4 train: reading solid colours off the training clips")
        counts = clip_counts(frames[n_held:], net.colours, cfg.max_global)  # [3, P]
        net.solid.copy_(solid_colours(counts).float())
        net.shown.copy_(shown_colours(counts).float())
    if args.only:
        from shell.errors import BadInput

        if not any(n.startswith(args.only) for n, _ in net.named_parameters()):
            raise BadInput(f"--only {args.only}: no parameter of this model starts with it")
        for n, p in net.named_parameters():
            p.requires_grad_(n.startswith(args.only))
    net = net.to(dev)
    length = cfg.context + args.horizon
    train = windows(done, list(range(n_held, args.episodes)), length, 1)
    turns = [i for i, (e, t) in enumerate(train)
             if actions[e, t + cfg.context - 1] != actions[e, t + cfg.context - 2]]  # fmt: skip
    held = windows(done, list(range(n_held)), length, 8)
    h, w = frames.shape[2:4]
    trainer = Trainer(
        ctx, "m4", net, asdict(args),
        model_meta={
            "arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
            "game": args.game, "backend": "builtin", "action_names": list(game.actions),
            "palette": palette.tolist(),
        },
        inputs={"frames": sha256_bytes(frames.numpy().tobytes()),
                "actions": sha256_bytes(actions.numpy().tobytes())},
        lr=args.lr, steps=args.steps, seed=args.seed, resumed=resumed, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every,
        describe=lambda: {"data": data, "batch": args.batch, "k": args.k, "horizon": args.horizon,
                          "threads": threads, "device": str(dev), "windows": len(train),
                          "init": args.init if not args.resume else "(resumed)"},
    )  # fmt: skip

    def window(ws: list[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.stack([frames[e, t : t + length] for e, t in ws])  # [B, L, H, W, 3]
        x = pad_to(to_unit(x.flatten(0, 1)), cfg.multiple)  # [B*L, 3, H', W']
        a = torch.stack([actions[e, t + cfg.context - 1 : t + length - 1] for e, t in ws])
        return x.view(len(ws), length, *x.shape[1:]).to(dev), a.to(dev)  # [B, L, 3, H', W'], [B, T]

    def draw(gen: torch.Generator, n: int) -> list[tuple[int, int]]:
        pick = torch.randint(0, len(train), (n,), generator=gen).tolist()
        if args.focus and turns:  # these windows start where the action changes
            turn = torch.rand(n, generator=gen) < args.focus
            alt = torch.randint(0, len(turns), (n,), generator=gen).tolist()
            pick = [turns[j] if f else i for i, j, f in zip(pick, alt, turn.tolist(), strict=True)]
        return [train[i] for i in pick]

    if args.bank:
        from core.models.paintbank import bank_windows, painter_loss, take

        ctx.say(f"m4 train: banking the painter's inputs of {args.bank} windows")
        g0 = torch.Generator().manual_seed(args.seed + 1)
        chunks = (window(draw(g0, min(8, args.bank - i))) for i in range(0, args.bank, 8))
        bank = bank_windows(net, chunks, args.horizon, args.one_frame, g0)
        if not bank["x"].shape[0]:
            from shell.errors import BadInput

            raise BadInput(f"--init {args.init}: no cell near a sprite pixel to bank (train "
                           "--layers first: the painter paints near the sprite layer)")  # fmt: skip
        ctx.say(f"m4 train: {bank['x'].shape[0]} cells banked")

        def bank_loss(gen: torch.Generator) -> torch.Tensor:
            rows = torch.randint(0, bank["x"].shape[0], (args.batch,), generator=gen)
            return painter_loss(net, take(bank, rows.to(dev)))

    def loss_at(gen: torch.Generator) -> torch.Tensor:
        if args.bank:
            return bank_loss(gen)
        x, a = window(draw(gen, args.batch))
        if cfg.hard:
            return block_unroll_loss(net, x, a, args.k, gen, args.one_frame, args.ctx_noise,
                                     camera_weight=args.camera_weight)  # fmt: skip
        return unroll_loss(
            net, x, a, args.k, gen, args.one_frame, args.ctx_noise, sharp_weight=args.sharp
        )

    seconds = trainer.fit(loss_at, "m4 train")
    extra = _heldout(net, window, held[:32], cfg, mse) if held else {}
    for k, v in extra.items():
        ctx.metric(k, v)
    trainer.finish("predictor", extra, "m4_train_loss.png", "m4 train: unrolled best-of-K loss")
    txt = "; ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in extra.items()) or "no held-out"
    ctx.say(f"m4 train: {trainer.done} steps in {seconds:.0f} s; {txt}")


def _heldout(net, window, held, cfg, mse) -> dict[str, float]:
    """MSE after `horizon` steps of the model's own rollout from one frame, and copy-last's."""
    import torch

    from core.models.builtin import PixelWorldModel
    from core.models.protocols import one_frame_context

    x, a = window(held)  # [B, L, 3, H', W']
    start = one_frame_context(x[:, cfg.context - 1], cfg.context)  # [B, K, 3, H', W']
    z = torch.randn(
        a.shape[0], a.shape[1], cfg.noise_dim, generator=torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        y = PixelWorldModel(net).rollout(start, a, z.to(x.device))  # [B, T, 3, H', W']
    last = x[:, -1]
    return {
        "heldout_rollout_mse": round(mse(y[:, -1], last).mean().item(), 6),
        "heldout_copy_last_mse": round(mse(x[:, cfg.context - 1], last).mean().item(), 6),
    }
