"""`gate m4 pose`: a pose slot (core/models/poses.py) fitted to the game's frames and put on a trained
m4 predictor, written as the run's candidate `predictor` (the same architecture, with `poses` set).

The platformer is played under the mixed policy of gates/common/clips.py, a fifth of the episodes held
out. From the rest (core/models/posefit.py): the player's colours, the distinct sprites it is drawn
with (the dictionary, pictured as m4_pose_dictionary.png) and the colour it is found by; then a small
classifier of the next pose (from the last pose, the action, the box's moves and the rows under its
feet) by cross-entropy. Where the game drew the player is read from its truth here, in training only.
The predictor's own weights are not changed. Reported: the classifier's accuracy on the held-out
episodes beside always-the-same-pose (the commonest pose of the held-out labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

import typer

from gates.common.evaldata import EVAL_SEED
from gates.common.training import launch
from shell import options

ARCH = "frame_predictor"


@dataclass(frozen=True)
class PoseArgs:
    init: str = ""  # the trained predictor the slot is put on (required: it moves the player)
    steps: int = 1500  # the classifier's loss settles by ~600 (history/m4-m5-model.md)
    episodes: int = 48  # x 200 steps: every pose seen tens of times, ~7,000 moves to learn from
    episode_steps: int = 200
    batch: int = 256  # transitions per step: a few thousand in all, cheap
    lr: float = 3e-3  # a 2-layer MLP on one-hot and pixel features
    poses: int = 16  # dictionary slots: the platformer draws 12 player frames
    seed: int = 0
    game: str = "platformer"
    backend: str = "builtin"  # the game's pure functions: its truth says where the player is drawn
    threads: int = 2
    log_every: int = 25


D = PoseArgs()


def add_pose_verb(app) -> None:
    @app.command("pose")
    def pose(
        init: Annotated[str, typer.Option(help="The trained m4 predictor the slot is put on.")],
        steps: options.Steps = D.steps,
        episodes: options.Episodes = D.episodes,
        episode_steps: options.EpisodeSteps = D.episode_steps,
        batch: Annotated[int, typer.Option(help="Transitions per optimizer step.")] = D.batch,
        lr: options.Lr = D.lr,
        poses: Annotated[
            int, typer.Option(help="Dictionary slots (distinct sprites kept).")
        ] = D.poses,
        seed: options.Seed = D.seed,
        game: options.Game = D.game,
        device: options.Device = "auto",
        threads: options.Threads = D.threads,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Fit a pose slot on a trained m4 predictor; writes the candidate `predictor` (approve it)."""
        args = PoseArgs(init=init, steps=steps, episodes=episodes, episode_steps=episode_steps,
                        batch=batch, lr=lr, poses=poses, seed=seed, game=game,
                        threads=threads)  # fmt: skip
        launch("m4", args, fit_pose, device, json, log_jsonl, verb="pose")


def _check(args: PoseArgs) -> None:
    from gates.common.training import check_train_args
    from shell.errors import BadInput

    check_train_args(args, ("steps", "episodes", "episode_steps", "batch"), EVAL_SEED)
    if args.game != "platformer":
        raise BadInput(f"--game {args.game}: the pose verb reads the built-in platformer's truth")
    if not (1 <= args.poses <= 64):
        raise BadInput(f"--poses {args.poses}: dictionary slots in 1..64")
    if args.episode_steps < 2:
        raise BadInput(f"--episode-steps {args.episode_steps}: needs 2 or more")


def fit_pose(ctx, args: PoseArgs) -> None:
    from pathlib import Path

    import torch

    from core.games import get_game
    from core.models.posefit import boxes, fit_dictionary, fit_solid, pose_loss, pose_samples
    from core.models.predictor import FramePredictor, PredictorConfig
    from gates.common.clips import play
    from gates.common.evaldata import set_threads
    from gates.common.training import Trainer
    from shell import checkpoints
    from shell.errors import BadInput
    from shell.store import sha256_bytes

    _check(args)
    threads = set_threads(args.threads)
    torch.manual_seed(args.seed)
    meta, tensors = checkpoints.load_checkpoint(Path(args.init), ARCH, game=args.game)
    cfg = PredictorConfig.from_dict({**meta.model["config"], "poses": args.poses})
    net = FramePredictor(cfg)
    want = net.state_dict()
    have = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    net.load_state_dict({k: v for k, v in have.items() if not k.startswith("pose.")}, strict=False)
    for p in net.parameters():
        p.requires_grad_(False)
    slot = net.pose
    for p in slot.parameters():
        p.requires_grad_(True)
    missing = sorted(k for k in want if k not in have and not k.startswith("pose."))
    if missing:
        raise BadInput(f"{args.init}/model.safetensors: tensor {missing[0]} missing")

    game = get_game(args.game)
    ctx.say(f"m4 pose: playing {args.episodes} episodes x {args.episode_steps} steps")
    clip, _ = play(game, game.reset(args.seed, args.episodes, "cpu"), None, args.episode_steps,
                   args.seed)  # fmt: skip
    box = boxes(torch.stack([clip.info["screen_x"], clip.info["screen_y"]], -1), slot.cfg.box)
    n_held = max(1, args.episodes // 5)
    part = {"train": slice(n_held, None), "held": slice(0, n_held)}
    counts = fit_dictionary(slot, clip.frames[part["train"]], box[part["train"]])
    ctx.say(f"m4 pose: {len(counts)} poses, seen {counts.tolist()} times")
    fit_solid(slot, clip.frames[part["train"]], box[part["train"]],
              clip.info["on_ground"][part["train"]])  # fmt: skip
    gen = torch.Generator().manual_seed(args.seed)
    rows, held = (pose_samples(slot, clip.frames[s], clip.actions[s], clip.done[s], box[s], gen)
                  for s in part.values())  # fmt: skip
    if len(rows["pose"]) == 0 or len(held["pose"]) == 0:
        raise BadInput(
            f"--episodes {args.episodes}: no step with the player drawn whole to learn from"
        )
    h, w = clip.frames.shape[2:4]
    trainer = Trainer(
        ctx, "m4", net, asdict(args),
        model_meta={"arch": ARCH, "config": cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
                    "game": args.game, "backend": "builtin", "action_names": list(game.actions),
                    "palette": meta.model.get("palette", [])},
        inputs={"frames": sha256_bytes(clip.frames.numpy().tobytes()),
                "actions": sha256_bytes(clip.actions.numpy().tobytes()), "init": meta.metadata_sha256},
        lr=args.lr, steps=args.steps, seed=args.seed, log_every=args.log_every, resumable=False,
        describe=lambda: {"threads": threads, "samples": len(rows["pose"]),
                          "held_samples": len(held["pose"]),
                          "init": args.init, "pose_counts": counts.tolist()},
    )  # fmt: skip

    def loss_at(g: torch.Generator) -> torch.Tensor:
        pick = torch.randint(0, len(rows["pose"]), (args.batch,), generator=g)
        return pose_loss(slot, {k: v[pick] for k, v in rows.items()})

    seconds = trainer.fit(loss_at, "m4 pose")
    with torch.no_grad():
        pose = slot.logits(held["pose_x"]).argmax(1)
        dy = slot.move_net(held["move_x"]).argmax(1)
    at = slot.cfg.poses + slot.cfg.n_actions + 1  # move_features' column of the last move's dy / 4
    last_dy = held["move_x"][:, at] * 4 + slot.cfg.max_dy
    extra = {
        "pose_accuracy": float((pose == held["pose"]).float().mean()),
        "pose_accuracy_commonest": float(torch.bincount(held["pose"]).max() / len(held["pose"])),
        "move_accuracy": float((dy == held["dy"]).float().mean()),
        "move_accuracy_last": float((last_dy.round().long() == held["dy"]).float().mean()),
    }
    for k, v in extra.items():
        ctx.metric(k, v)
    ctx.picture("m4_pose_dictionary.png", _dictionary(slot, counts))
    trainer.finish("predictor", extra, "m4_pose_loss.png", "m4 pose: next-pose cross-entropy")
    ctx.say(f"m4 pose: {trainer.done} steps in {seconds:.0f} s; held out: next pose "
            f"{extra['pose_accuracy']:.3f} (the commonest: {extra['pose_accuracy_commonest']:.3f}),"
            f" vertical move {extra['move_accuracy']:.3f} (the last one again: "
            f"{extra['move_accuracy_last']:.3f})")  # fmt: skip


def _dictionary(slot: Any, counts: Any) -> bytes:
    """The learnt sprites, each labelled with how often the training frames drew it."""
    import numpy as np

    from shell import pictures

    k = int(slot.n_poses)
    sky = np.array([255, 255, 255], dtype=np.uint8)
    imgs = []
    for i in range(k):
        idx = slot.atlas[i].numpy()  # [B, B]
        rgb = (slot.colours.numpy()[idx.clip(0)] * 255).round().astype(np.uint8)
        imgs.append(np.where((idx >= 0)[..., None], rgb, sky))
    return pictures.labelled_grid(
        [imgs], "m4 pose: the player's sprites learnt from the game's frames", ["pose"],
        [f"#{i}: {int(c)}x" for i, c in enumerate(counts.tolist())], cell_inches=1.2,
    )  # fmt: skip
