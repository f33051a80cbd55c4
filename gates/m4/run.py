"""Gate m4's run: held-out starts, their true clips (and RNG-branched futures), copy-last and the model,
measured alike (gates/m4/measure.py; definitions in gates/m4/__init__.py)."""

from __future__ import annotations

from typing import Any

import orjson
import torch
import torch.nn.functional as F

from gates.common.clips import branch, generate, held_actions, play, warm_starts
from gates.common.evaldata import peak_memory_gb, platformer_world_model, set_threads
from gates.m4 import measure, spec
from gates.m4.pictures import draw
from shell.errors import BadInput


def probe(game: Any, state: Any, acts: torch.Tensor) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """Each of C states played under its actions [C, T] and BRANCHES RNG keys, unrendered ->
    (the branched states [C * BRANCHES], env-major; bool [C]: a branch ended an episode; bool [C]: the
    branches move a visible enemy differently, so the futures look different)."""
    c, t = acts.shape
    rep = branch(state, spec.BRANCHES)
    clip, _ = play(game, rep, acts.repeat_interleave(spec.BRANCHES, 0), render=False)
    done = clip.done.view(c, spec.BRANCHES, -1).any((1, 2))  # [C]
    ex = clip.info["enemy_screen_x"].view(c, spec.BRANCHES, t + 1, -1)  # [C, B, T+1, E]
    seen = (ex > -8) & (ex < 264)  # any part of the 16-px enemy on screen
    differs = ((ex != ex[:, :1]) & (seen | seen[:, :1])).flatten(1).any(1)  # [C]
    return rep, done, differs


def true_starts(game: Any, cfg: Any) -> tuple[Any, torch.Tensor, list[torch.Tensor], list[int]]:
    """-> (the kept starts' true clips uint8 [S, T+1, H, W, 3], their actions [S, T], each start's
    distinct-looking true futures as 4x-pooled float16 clips [F, T, 3, H/4, W/4], kept candidate
    indices). Every candidate is played under BRANCHES RNG keys without rendering first: a start is
    dropped when a branch ends an episode (a reset is a cut, not something to generate); starts whose
    branches move a visible enemy differently come first (the diversity criterion needs them), the
    rest fill up to STARTS."""
    from core.games.platformer_state import take_envs

    state = warm_starts(game, cfg.eval_seed, cfg.candidates, cfg.warm)
    acts = held_actions(cfg.candidates, spec.CLIP, cfg.eval_seed)
    rep, done, differs = probe(game, state, acts)
    order = [
        *(~done & differs).nonzero().flatten().tolist(),
        *(~done & ~differs).nonzero().flatten().tolist(),
    ]
    keep = order[: spec.STARTS]
    if len(keep) < spec.STARTS:
        raise BadInput(
            f"candidates {cfg.candidates}: only {len(keep)} starts without an episode end"
        )
    clips, futures = [], []
    for s in keep:
        rows = torch.arange(s * spec.BRANCHES, (s + 1) * spec.BRANCHES)
        n = spec.BRANCHES if bool(differs[s]) else 1  # one future is all a calm start has
        clip, _ = play(game, take_envs(rep, rows[:n]), acts[s : s + 1].expand(n, -1))
        clips.append(clip.frames[0])
        futures.append(pool(clip.frames).unique(dim=0))  # the futures that LOOK different
    return torch.stack(clips), acts[keep], futures, keep


def pool(clips: torch.Tensor) -> torch.Tensor:
    """uint8 [N, T+1, H, W, 3] -> float16 [N, T, 3, H/4, W/4] (the generated frames only)."""
    out = []
    for clip in clips:  # one at a time: a float copy of 64 clips would be 1.5 GB
        x = clip[1:].permute(0, 3, 1, 2).float() / 255.0  # [T, 3, H, W]
        out.append(F.avg_pool2d(x, 4).half())  # [T, 3, H/4, W/4]
    return torch.stack(out)


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
    game, model, about = platformer_world_model(ctx, "m4", {"config": cfg.arch})
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
    cpool = pool(copy)  # [S, T, 3, h, w], once: copy-last's samples are all the same
    cdiv, _ = coverage([cpool[i : i + 1].expand(spec.SAMPLES, -1, -1, -1, -1)
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
