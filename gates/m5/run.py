"""Gate m5's run: every action held from held-out grounded states, in the game and in the model, read
back by an inverse-dynamics model trained on the game's frames (definitions in gates/m5/__init__.py)."""

from __future__ import annotations

from typing import Any

import orjson
import torch

from core.games.platformer_decode import CROP_H, CROP_W, classify, player_crop, player_xy
from core.games.platformer_state import take_envs
from core.metrics import psnr, to_unit
from core.models.idm import IDMConfig, InverseDynamics
from core.models.protocols import one_frame_context
from gates.common.clips import Clip, generate, play, warm_starts
from gates.common.evaldata import peak_memory_gb, platformer_world_model, set_threads, timings_ms
from gates.m5 import spec
from gates.m5.pictures import draw
from shell.errors import BadInput


def held_clips(game: Any, seed: int, candidates: int, warm: int, keep: int) -> tuple[Clip, Any]:
    """States on the ground where no action ends the episode within HOLD frames, each under every
    action held -> (clip of [S * A] clips, state-major, action-minor; the start State of each)."""
    a = len(game.actions)
    state = warm_starts(game, seed, candidates, warm)
    rep = take_envs(state, torch.arange(candidates).repeat_interleave(a))
    acts = (
        torch.arange(a).repeat(candidates)[:, None].expand(-1, spec.HOLD).contiguous()
    )  # [C A, HOLD]
    probe, _ = play(game, rep, acts, render=False)  # the truth only: which states are usable
    ok = ~probe.done.view(candidates, a, -1).any((1, 2)) & probe.info["on_ground"][::a, 0]  # [C]
    idx = ok.nonzero().flatten()[:keep]
    if idx.numel() < keep:
        raise BadInput(f"candidates {candidates}: only {idx.numel()} usable states, {keep} needed")
    rows = (idx[:, None] * a + torch.arange(a)).flatten()  # [S A]
    sub, _ = play(game, take_envs(rep, rows), acts[rows])  # rendered, the kept ones only
    return sub, take_envs(rep, rows)


CHUNK = 256  # frames classified at once: int32 colour indices of 256 frames are 64 MB


def features(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 [N, F, H, W, 3] -> (crops [N, F, 3, 24, 16], moves [N, F-1, 2], positions [N, F, 2])."""
    n, f = frames.shape[:2]
    flat = frames.flatten(0, 1)
    xy = torch.cat(
        [player_xy(classify(flat[i : i + CHUNK])) for i in range(0, flat.shape[0], CHUNK)]
    )
    crops = player_crop(flat, xy).view(n, f, 3, CROP_H, CROP_W)  # [N, F, 3, 24, 16]
    xy = xy.view(n, f, 2)
    moves = (xy[:, 1:] - xy[:, :-1]).nan_to_num(0.0)  # [N, F-1, 2]
    return crops, moves, xy


def train_idm(clip: Clip, n_actions: int, seed: int, steps: int = 300) -> InverseDynamics:
    """Full-batch AdamW on the true clips' features; seconds on a CPU."""
    torch.manual_seed(seed)
    crops, moves, _ = features(clip.frames)
    y = clip.actions[:, 0]  # [N]
    idm = InverseDynamics(IDMConfig(frames=clip.frames.shape[1], n_actions=n_actions))
    opt = torch.optim.AdamW(idm.parameters(), lr=1e-3, weight_decay=1e-2)
    for _ in range(steps):  # 300: it reads the held-out true clips at 100 % (the run's trust check)
        loss = torch.nn.functional.cross_entropy(idm(crops, moves), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return idm.eval()


@torch.no_grad()
def read_actions(idm: InverseDynamics, frames: torch.Tensor) -> torch.Tensor:
    """The action the IDM reads from each clip uint8 [N, F, H, W, 3] -> int64 [N]."""
    crops, moves, _ = features(frames)
    return idm(crops, moves).argmax(1)  # [N]


def evaluate(ctx) -> None:
    cfg = ctx.config
    threads = set_threads(cfg.device_threads)
    dev = ctx.device
    game, model, about = platformer_world_model(ctx, "m5", {"config": cfg.arch}, golden_gate="m4")
    na = len(game.actions)
    with ctx.progress(4, "m5: the IDM, true clips, the model, latency") as advance:
        train, _ = held_clips(game, spec.IDM_SEED, spec.IDM_STATES * 4, cfg.warm, spec.IDM_STATES)
        idm = train_idm(train, na, spec.IDM_SEED)
        advance(1)
        truth, starts = held_clips(game, cfg.eval_seed, cfg.candidates, cfg.warm, spec.STATES)
        acts = truth.actions  # [S A, HOLD]
        first = truth.frames[:, 0]
        copy = first[:, None].expand_as(truth.frames)
        advance(1)
        gen = torch.Generator().manual_seed(cfg.eval_seed)
        z = torch.randn(acts.shape[0], spec.HOLD, model.noise_dim, generator=gen)
        ours = generate(model, first, acts, z, dev)  # [S A, HOLD+1, H, W, 3]
        rand = torch.randint(0, na, acts.shape, generator=gen)
        ours_rand = generate(model, first, rand, z, dev)
        again = generate(model, first[:8], acts[:8], z[:8], dev)
        game_rand, _ = play(game, starts, rand)  # the game's own frames under the random actions
        advance(1)
        lat = _latency(model, first[:1], dev)
        advance(1)
    want = acts[:, 0]
    feats = {w: features(f) for w, f in  # decoded once: the IDM and the displacement both read them
             (("truth", truth.frames), ("model", ours), ("copy_last", copy))}  # fmt: skip
    with torch.no_grad():
        read = {w: idm(crops, moves).argmax(1) for w, (crops, moves, _) in feats.items()}
    acc = {w: float((r == want).float().mean()) for w, r in read.items()}
    per = {i: float((read["model"][want == i] == i).float().mean()) for i in range(na)}
    ctx.metric("states", spec.STATES)
    ctx.metric("clips", int(acts.shape[0]))
    ctx.metric("copy_last_action_accuracy", acc["copy_last"])
    for i, name in enumerate(game.actions):
        ctx.metric(f"accuracy_{name.lower()}", per[i])
    ctx.check("idm_accuracy_true", acc["truth"])
    ctx.check("action_accuracy", acc["model"])
    ctx.check("min_action_accuracy", min(per.values()))
    d = _delta_psnr(truth.frames, ours, ours_rand, game_rand.frames)
    for k, v in d.items():
        ctx.metric(k, v, "dB")
    ctx.check("delta_psnr", d["delta_psnr"])
    ctx.metric("threads", threads)
    ctx.check("response_ms", lat)
    ctx.check("deterministic", float(torch.equal(again, ours[:8])))
    disp = _displacement({w: xy for w, (_, _, xy) in feats.items()})
    for k, v in disp.items():
        ctx.metric(k, v, "px")
    ctx.metric("peak_memory_gb", peak_memory_gb(dev), "GB")
    draw(ctx, truth.frames, ours, read["model"], want, list(game.actions))
    ctx.bundle_file("inputs.json", orjson.dumps({"model": about, "accuracy": acc,
                    "per_action": {game.actions[i]: v for i, v in per.items()},
                    "read": read["model"].tolist(), "wanted": want.tolist()}))  # fmt: skip


def _delta_psnr(truth, ours, ours_rand, game_rand) -> dict[str, float]:
    def mean_psnr(a, b) -> float:  # 32 clips at a time: a float copy of all 320 is 1.5 GB
        vals = [psnr(to_unit(a[i : i + 32, 1:].flatten(0, 1)), to_unit(b[i : i + 32, 1:].flatten(0, 1)))
                for i in range(0, a.shape[0], 32)]  # fmt: skip
        return float(torch.cat(vals).clamp(max=60).mean())  # identical frames: 60 dB, not inf

    p_true, p_rand = mean_psnr(ours, truth), mean_psnr(ours_rand, truth)
    return {
        "psnr_true_actions": p_true,
        "psnr_random_actions": p_rand,
        "delta_psnr": p_true - p_rand,
        "game_random_actions_psnr": mean_psnr(game_rand, truth),  # what a perfect model scores
    }


def _displacement(xy: dict[str, torch.Tensor]) -> dict[str, float]:
    """Decoded player positions [N, F, 2] per clip set -> mean |displacement over the hold - the
    game's| for the model and copy-last (a vanished player counts 99 px)."""
    true = xy["truth"][:, -1] - xy["truth"][:, 0]  # [N, 2]
    out = {}
    for name, who in (
        ("displacement_error_px", "model"),
        ("copy_last_displacement_error_px", "copy_last"),
    ):
        err = ((xy[who][:, -1] - xy[who][:, 0]) - true).norm(dim=1)  # [N]
        out[name] = float(err.nan_to_num(99.0).mean())
    return out


@torch.no_grad()
def _latency(model, first: torch.Tensor, dev) -> float:
    """p95 ms of one predict at batch 1 (the context on the device, the frame waited for)."""
    ctx = one_frame_context(to_unit(first).to(dev), model.context_frames)  # [1, K, 3, H, W]
    a = torch.zeros(1, dtype=torch.int64, device=dev)
    z = torch.zeros(1, model.noise_dim, device=dev)
    times = sorted(timings_ms(lambda: model.predict(ctx, a, z), spec.LATENCY_FRAMES, dev,
                              spec.LATENCY_WARMUP))  # fmt: skip
    return times[int(0.95 * (len(times) - 1))]
