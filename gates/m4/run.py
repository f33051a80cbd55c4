"""Gate m4's run: held-out starts, their true clips (and RNG-branched futures), copy-last and the model,
measured alike (gates/m4/measure.py; definitions in gates/m4/__init__.py)."""

from __future__ import annotations

from typing import Any

import orjson
import torch
import torch.nn.functional as F

from core.games import get_game
from gates.common.clips import branch, generate, held_actions, play, warm_starts
from gates.common.evaldata import load_model, peak_memory_gb, set_threads
from gates.m4 import measure, spec
from gates.m4.pictures import draw
from shell.errors import BadInput

CHUNK = 4  # starts branched at once: 4 x 16 rendered clips of 31 frames, ~400 MB


def true_starts(game: Any, cfg: Any) -> tuple[Any, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """-> (clip of the kept starts, their actions [S, T], distinct futures per start as 4x-pooled
    float16 clips [F, T, 3, H/4, W/4], kept start indices). A start is dropped when any branch of it
    ends an episode inside the clip (a reset is a cut, not something to generate)."""
    state = warm_starts(game, cfg.eval_seed, cfg.candidates, cfg.warm)
    acts = held_actions(cfg.candidates, spec.CLIP, cfg.eval_seed)
    keep, futures, clips = [], [], []
    for c0 in range(0, cfg.candidates, CHUNK):
        idx = torch.arange(c0, min(c0 + CHUNK, cfg.candidates))
        from core.games.platformer_state import take_envs

        sub = branch(take_envs(state, idx), spec.BRANCHES)
        clip, _ = play(game, sub, acts[idx].repeat_interleave(spec.BRANCHES, 0))
        for j, s in enumerate(idx.tolist()):
            rows = slice(j * spec.BRANCHES, (j + 1) * spec.BRANCHES)
            if clip.done[rows].any():
                continue
            keep.append(s)
            clips.append(clip.frames[rows.start])  # branch 0: the original key
            futures.append(pool(clip.frames[rows]).unique(dim=0))  # the futures that LOOK different
            if len(keep) == spec.STARTS:
                break
        if len(keep) == spec.STARTS:
            break
    if len(keep) < spec.STARTS:
        raise BadInput(
            f"candidates {cfg.candidates}: only {len(keep)} starts without an episode end"
        )
    return torch.stack(clips), acts[keep], futures, keep


def pool(clips: torch.Tensor) -> torch.Tensor:
    """uint8 [N, T+1, H, W, 3] -> float16 [N, T, 3, H/4, W/4] (the generated frames only)."""
    x = clips[:, 1:].permute(0, 1, 4, 2, 3).flatten(0, 1).float() / 255.0
    y = F.avg_pool2d(x, 4)  # [N T, 3, H/4, W/4]
    return y.view(clips.shape[0], clips.shape[1] - 1, *y.shape[1:]).half()


def coverage(samples: list[torch.Tensor], futures: list[torch.Tensor]) -> tuple[float, int]:
    """samples: per start float16 [S, T, 3, h, w]; futures: per start [F, T, 3, h, w]. -> (mean over
    stochastic starts (F >= 2) of distinct futures reached / min(F, S), their count)."""
    covs = []
    for smp, fut in zip(samples, futures, strict=True):
        if fut.shape[0] < 2:
            continue
        d = torch.cdist(smp.flatten(1).float(), fut.flatten(1).float())  # [S, F]
        reached = d.argmin(1).unique().numel()
        covs.append(reached / min(fut.shape[0], smp.shape[0]))
    return (sum(covs) / len(covs) if covs else float("nan")), len(covs)


def evaluate(ctx) -> None:
    cfg = ctx.config
    set_threads(cfg.device_threads)
    dev = ctx.device
    game = get_game(cfg.game)
    if cfg.game != "platformer":
        raise BadInput(f"game {cfg.game}: m4 reads the built-in platformer's truth")
    model, _, about = load_model(ctx, "m4", "world_model", "predictor",
                                 {"n_actions": len(game.actions), "config": cfg.arch})  # fmt: skip
    if model.n_actions != len(game.actions):
        raise BadInput(
            f"--model: takes {model.n_actions} actions, the game has {len(game.actions)}"
        )
    with ctx.progress(3, "m4: true clips, copy-last, model") as advance:
        truth, acts, futures, keep = true_starts(game, cfg)
        advance(1)
        t_tr = measure.tracks(truth)
        b = measure.bounds(t_tr)
        t_v = measure.judge(t_tr, b)
        true_acc = float(t_v["acc"].mean()) if t_v["acc"].numel() else float("nan")
        copy = truth[:, :1].expand(-1, spec.CLIP + 1, -1, -1, -1)
        c_v = measure.judge(measure.tracks(copy), b)
        advance(1)
        gen = torch.Generator().manual_seed(cfg.eval_seed)
        verdicts, pooled, firsts = [], [], []
        for _ in range(spec.SAMPLES):
            z = torch.randn(len(keep), spec.CLIP, model.noise_dim, generator=gen)
            clip = generate(model, truth[:, 0], acts, z, dev)  # [S, T+1, H, W, 3]
            verdicts.append(measure.judge(measure.tracks(clip), b))
            pooled.append(pool(clip))
            firsts.append(clip[:2])  # the first two starts of each sample, for the pictures
        advance(1)
    rows = {"truth": measure.summary(t_v, true_acc), "copy_last": measure.summary(c_v, true_acc)}
    merged = {k: torch.cat([v[k].flatten() for v in verdicts]) for k in verdicts[0]}
    rows["model"] = measure.summary(merged, true_acc)
    per_start = [torch.stack([p[i] for p in pooled]) for i in range(len(keep))]
    div, n_sto = coverage(per_start, futures)
    cdiv, _ = coverage([pool(copy)[i : i + 1].expand(spec.SAMPLES, -1, -1, -1, -1)
                        for i in range(len(keep))], futures)  # fmt: skip
    rows["model"]["diversity"], rows["copy_last"]["diversity"] = div, cdiv
    rows["truth"]["diversity"] = float("nan")  # the truth's futures are the reference
    for who, r in rows.items():
        for k, v in r.items():
            ctx.metric(k if who == "model" else f"{who}_{k}", v)
    ctx.metric("starts", len(keep))
    ctx.metric("true_max_step_px", b.step_px, "px")
    ctx.metric("true_max_change", b.change)
    ctx.metric("peak_memory_gb", peak_memory_gb(dev), "GB")
    _trusted(ctx, rows["truth"])
    m, c = rows["model"], rows["copy_last"]
    for k in ("coherence", "consistency", "gravity_error", "solid_overlap", "floating"):
        ctx.check(k, m[k])
    ctx.check("stochastic_starts", float(n_sto))
    ctx.check("diversity", div)
    beats = {"diversity": div >= cdiv + spec.DIVERSE_MARGIN,
             "gravity": m["gravity_error"] < c["gravity_error"]}  # fmt: skip
    for k, v in beats.items():
        ctx.metric(f"beats_{k}", float(v))
    ctx.check("beats_baseline", float(all(beats.values())))
    draw(ctx, truth[:2], torch.stack(firsts, 1), rows)
    ctx.bundle_file("inputs.json", orjson.dumps({"model": about, "starts": keep,
                    "actions": acts.tolist(), "table": rows}, option=orjson.OPT_SERIALIZE_NUMPY))  # fmt: skip


def _trusted(ctx, truth: dict[str, float]) -> None:
    """The measures are trusted only if the game's own clips pass them: otherwise a decoder is wrong
    and the run is not a verdict on the model (exit 4 names the failing measure)."""
    bad = [k for k in ("coherence", "consistency") if truth[k] < 0.99]
    bad += [k for k in ("solid_overlap", "floating") if truth[k] > 0.0]
    if bad:
        raise RuntimeError(f"m4's decoders fail on the game's own clips: {', '.join(bad)} = "
                           + ", ".join(f"{truth[k]:.3f}" for k in bad))  # fmt: skip
