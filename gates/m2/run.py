"""Gate m2's measurement: one-step prediction, 10-step rollouts and the diversity probe, for any
WorldModel (core/models/protocols.py, loaded through --model) and for copy-last-frame side by side
(see gates/m2/__init__.py for the definitions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import torch

from core.metrics import (
    camera_shift,
    locate_color,
    locate_in,
    moving_objects,
    mse,
    objects_matched,
    outcome_coverage,
    palette_fraction,
    palette_of,
    position_hits,
    snap_to_palette,
    to_frames,
    to_unit,
)
from core.models.protocols import WorldModel
from gates.common.evaldata import collect_frames, load_model, peak_memory_gb, set_threads
from gates.m2 import spec
from shell import pictures
from shell.errors import BadInput

ARCH = "frame_predictor"
BATCH = 16  # windows per forward pass at eval


def windows(done: np.ndarray, episodes: Any, stride: int, start: int, ahead: int = 1) -> list:
    """(episode, t) with frames t-2..t+ahead inside one episode: no reset at t-1..t+ahead."""
    t_end = done.shape[1] - ahead
    return [
        (e, t)
        for e in episodes
        for t in range(max(start, 2), t_end, stride)
        if not done[e, t - 1 : t + ahead + 1].any()
    ]


def context(frames: torch.Tensor, ws: list) -> torch.Tensor:
    """uint8 frames [E, T+1, H, W, 3], windows -> float [B, 3, 3, H, W] (oldest first)."""
    x = torch.stack([frames[e, t - 2 : t + 1] for e, t in ws])  # [B, 3, H, W, 3]
    return x.permute(0, 1, 4, 2, 3).float() / 255.0


@torch.no_grad()
def predict(
    wm: WorldModel, ctx: torch.Tensor, action: torch.Tensor, z: torch.Tensor, device: Any
) -> torch.Tensor:
    """float [B, K, 3, H, W] -> [B, 3, H, W] on the CPU, in [0, 1] (NaN kept: stability must see it)."""
    out = []
    for i in range(0, ctx.shape[0], BATCH):
        c, a, n = (t[i : i + BATCH].to(device) for t in (ctx, action, z))
        out.append(wm.predict(c, a, n).float().clamp(0, 1).cpu())  # clamp keeps NaN
    return torch.cat(out)


def noise(n: int, dim: int, seed: int) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))  # [n, Z]


def evaluate(ctx) -> None:
    cfg = ctx.config
    set_threads(cfg.device_threads)
    dev, backend = ctx.device, ctx.backend
    with ctx.progress(cfg.eval_steps, "m2: collecting held-out episodes") as advance:
        ds = collect_frames(
            backend, cfg.game, cfg.eval_episodes, cfg.eval_steps, cfg.eval_seed, advance
        )
    n_actions = len(ds.meta.get("action_names", [])) or None
    net, path, about = load_model(
        ctx, "m2", "world_model", "predictor", {"n_actions": n_actions, "config": cfg.arch}
    )
    if n_actions is not None and net.n_actions != n_actions:
        raise BadInput(f"--model: takes {net.n_actions} actions, the backend has {n_actions}")
    frames = torch.from_numpy(ds.frames)  # uint8 [E, T+1, H, W, 3]
    actions = torch.from_numpy(ds.actions)  # int64 [E, T]
    done = ds.truth["done"]
    palette = palette_of(frames)  # the game's colours, as the held-out frames show them
    model_palette = _model_palette(getattr(net, "meta", None), palette)
    locate = _locator(cfg.game, backend)

    # One step.
    ws = windows(done, range(ds.episodes), cfg.window_stride, 3)
    if not ws:
        raise BadInput("eval_steps: too few frames for a 4-frame window")
    c = context(frames, ws)
    a = torch.stack([actions[e, t] for e, t in ws])  # [W]
    y = to_unit(torch.stack([frames[e, t + 1] for e, t in ws]))  # [W, 3, H, W]
    p = predict(net, c, a, noise(len(ws), net.noise_dim, ctx.seed), dev)
    base = c[:, -1]
    m_mse, b_mse = mse(p, y).nan_to_num(1.0), mse(base, y)
    ctx.metric("windows", len(ws))
    ctx.metric("mse", m_mse.mean().item())
    ctx.metric("baseline_mse", b_mse.mean().item())
    acc, bacc = _trajectory(ctx, base, p, y, net)
    if locate is not None:  # the game's own player locator, where one is known: an extra figure
        truth = locate(to_frames(y))  # [W, 2]
        seen = ~torch.isnan(truth[:, 0])
        hits = position_hits(locate_in(p, model_palette, locate), truth, spec.TRAJ_TOL_PX)[seen]
        bhits = position_hits(locate(to_frames(base)), truth, spec.TRAJ_TOL_PX)[seen]
        ctx.metric("player_accuracy", hits.float().mean().item())
        ctx.metric("baseline_player_accuracy", bhits.float().mean().item())
    ctx.metric("palette_fraction", palette_fraction(p, palette, spec.PALETTE_TOL).mean().item())

    # Ten autoregressive steps.
    roll = _rollouts(ctx, net, frames, actions, done, palette, model_palette, dev)

    # Diversity.
    div, bdiv, n_sto, dpic = _diversity(ctx, net, dev)

    ctx.metric("peak_memory_gb", peak_memory_gb(dev), "GB")
    _pictures(ctx, c, p, y, m_mse, roll, dpic)
    ctx.bundle_file(
        "inputs.json",
        orjson.dumps(
            {
                "model": about,
                "eval": ds.meta,
                "windows": ws,
                "mse_per_window": m_mse.tolist(),
            },
            option=orjson.OPT_INDENT_2,
        ),  # fmt: skip
    )
    ctx.check("mse", m_mse.mean().item())
    ctx.check("trajectory_accuracy", acc)
    ctx.check("rollout_mse_10", roll["mse_last"])
    ctx.check("palette_fraction_10", roll["palette_min"])
    ctx.check("stable_10", float(roll["stable"]))
    ctx.check("stochastic_contexts", float(n_sto))
    ctx.check("diverse", div)
    ctx.check("beats_baseline", float(_beats(ctx, m_mse.mean().item(), b_mse.mean().item(),
                                              acc, bacc, roll, div, bdiv)))  # fmt: skip


def _beats(ctx, m_mse, b_mse, acc, bacc, roll, div, bdiv) -> bool:
    """Each a margin over copy-last-frame (spec.BEAT_*); a part that cannot be measured here (NaN) is
    not passed: the criterion it belongs to fails and says why."""
    parts = {
        "mse": m_mse <= spec.BEAT_MSE_RATIO * b_mse,
        "trajectory": acc >= bacc + spec.BEAT_TRAJ_POINTS,  # NaN compares False
        "rollout": roll["mse_last"] <= spec.BEAT_ROLLOUT_RATIO * roll["baseline_mse_last"],
        "diverse": div >= bdiv + spec.BEAT_DIVERSE_POINTS,
    }
    for k, v in parts.items():
        ctx.metric(f"beats_{k}", float(v))
    return all(parts.values())


def _trajectory(ctx, last, p, y, net) -> tuple[float, float]:
    """Moving objects found from the frames alone (core.metrics.moving_objects: connected components of
    what changed), in the true step (last -> y) and in the model's (last -> p): the share of true ones
    the model places within TRAJ_TOL_PX, one-to-one. Copy-last moves nothing, its share is 0 by what it
    is, and it is measured all the same. NaN, said, where nothing moves in the held-out windows."""
    h, w = y.shape[-2:]
    kw = {"thr": spec.OBJ_THR, "min_area": spec.OBJ_MIN_AREA,
          "max_area": int(spec.OBJ_MAX_SHARE * h * w), "join_px": spec.OBJ_JOIN_PX}  # fmt: skip
    true, pred, base = [], [], []
    for i in range(0, y.shape[0], BATCH):
        sl = slice(i, i + BATCH)
        cam = camera_shift(last[sl], y[sl])  # [b, 2] the true step's camera, undone on both sides
        true += moving_objects(last[sl], y[sl], **kw, shift=cam)
        pred += moving_objects(last[sl], p[sl], **kw, shift=cam)
        base += moving_objects(last[sl], last[sl], **kw, shift=cam)
    n = sum(t.shape[0] for t in true)
    ctx.metric("moving_objects", n)
    ctx.metric("trajectory_windows", sum(t.shape[0] > 0 for t in true))
    if n == 0:
        ctx.say("m2: trajectory_accuracy not measured: no moving object (connected component of "
                f"{spec.OBJ_MIN_AREA}..{kw['max_area']} changed pixels) in the held-out windows")  # fmt: skip
        return float("nan"), float("nan")
    acc = sum(objects_matched(pred, true, spec.TRAJ_TOL_PX)) / n
    bacc = sum(objects_matched(base, true, spec.TRAJ_TOL_PX)) / n
    ctx.metric("trajectory_accuracy", acc)
    ctx.metric("baseline_trajectory_accuracy", bacc)
    return acc, bacc


PONG_PADDLE = (92, 186, 92)  # the player's (right) paddle in ALE Pong; the score above it shares it
PONG_FIELD_TOP = 44  # first row below the score and the top wall in the 256x256 render


def _locator(game: str, backend: str):
    """The player's locator: the built-in game's locate_player, Pong's right paddle below the score
    band; None where no locator is known (trajectory accuracy is then not measured)."""
    if (backend, game) == ("ale", "pong"):
        return lambda f: locate_color(f, PONG_PADDLE, top=PONG_FIELD_TOP)
    if backend != "builtin":
        return None
    from core.games import get_game

    try:
        return get_game(game).locate_player
    except KeyError:
        return None


def _model_palette(meta: Any, fallback: torch.Tensor) -> torch.Tensor:
    """The colours the model draws with: the palette of its training frames (in its checkpoint)."""
    pal = meta.model.get("palette") if meta is not None else None
    if not pal:
        return fallback
    t = torch.tensor(pal)
    if t.ndim != 2 or t.shape[1] != 3 or t.min() < 0 or t.max() > 255:
        raise BadInput("meta.json: field model.palette: expected a list of [r, g, b] in 0..255")
    return t.to(torch.uint8)


def _rollouts(ctx, net, frames, actions, done, palette, model_palette, dev) -> dict[str, Any]:
    """Ten predictions fed back by the model itself (WorldModel.rollout: what it returns is judged as it
    returns it: finite, in the game's palette, MSE per step). Extra figure, not judged: the same rollout
    with each prediction snapped to the model's palette by the harness before it is fed back."""
    cfg = ctx.config
    k = spec.ROLLOUT_LEN
    ws = [
        (e, t)
        for e in range(frames.shape[0])
        for t in cfg.rollout_starts
        if t + k < frames.shape[1] and t >= 2 and not done[e, t - 1 : t + k + 1].any()
    ]
    if not ws:
        raise BadInput(f"rollout_starts: no start with {k} steps inside one episode")
    c0 = context(frames, ws)  # [R, 3, 3, H, W]
    last = c0[:, -1]
    acts = torch.stack([actions[e, t : t + k] for e, t in ws])  # [R, k]
    truth = [to_unit(torch.stack([frames[e, t + 1 + i] for e, t in ws])) for i in range(k)]
    zs = torch.stack([noise(len(ws), net.noise_dim, ctx.seed + 1 + i) for i in range(k)], 1)
    raw = []
    with torch.no_grad():
        for i in range(0, len(ws), BATCH):
            sl = slice(i, i + BATCH)
            out = net.rollout(c0[sl].to(dev), acts[sl].to(dev), zs[sl].to(dev))  # [b, k, 3, H, W]
            raw.append(out.float().clamp(0, 1).cpu())  # clamp keeps NaN
    raw = torch.cat(raw)  # [R, k, 3, H, W]
    errs, berrs, pals, finite = [], [], [], bool(torch.isfinite(raw).all())
    for i in range(k):
        errs.append(mse(raw[:, i], truth[i]).nan_to_num(1.0).mean().item())
        berrs.append(mse(last, truth[i]).mean().item())
        pals.append(palette_fraction(raw[:, i], palette, spec.PALETTE_TOL).min().item())
    stable = finite and min(pals) >= spec.PALETTE_SHARE and max(errs) <= spec.ROLLOUT_MSE_BOUND
    c, serrs = (
        c0,
        [],
    )  # the harness-snapped variant (how the gate fed rollouts before): reported only
    for i in range(k):
        p = predict(net, c, acts[:, i], zs[:, i], dev)
        serrs.append(mse(p, truth[i]).nan_to_num(1.0).mean().item())
        c = torch.cat([c[:, 1:], to_unit(snap_to_palette(p, model_palette))[:, None]], 1)
    ctx.metric("rollouts", len(ws))
    ctx.metric("rollout_mse_10", errs[-1])
    ctx.metric("baseline_rollout_mse_10", berrs[-1])
    ctx.metric("rollout_mse_max", max(errs))
    ctx.metric("palette_fraction_10", min(pals))
    ctx.metric("rollout_mse_10_snapped", serrs[-1])
    ctx.bundle_file(
        "rollout_curves.json", orjson.dumps({"model": errs, "copy_last": berrs, "snapped": serrs})
    )
    return {
        "mse_last": errs[-1], "baseline_mse_last": berrs[-1], "palette_min": min(pals),
        "stable": stable, "errs": errs, "berrs": berrs, "serrs": serrs,
    }  # fmt: skip


def _diversity(ctx, net, dev) -> tuple[float, float, int, Any]:
    """Outcome coverage on stochastic contexts, relative to the truth's own sampler. Each context's true
    futures (gates/m2/diverse.py: the built-in game's RNG branched, or the ALE's sticky actions drawn from
    a cloned emulator) are its outcomes; S noise draws (spec.DIVERSE_SAMPLES, 0: S = M, as many as
    futures were branched) are each matched to the nearest one (valid within DIVERSE_VALID_MSE); a
    context is covered when they reach >= 2 outcomes. The oracle reference draws S of the context's own
    true futures (each outcome at its empirical frequency): measured the same way (oracle_diverse) and
    in expectation (oracle_diverse_expected, 1 - sum_o p_o^S). `diverse` is the model's share divided by
    the oracle's expected share: 1 for a calibrated sampler, more for an over-dispersed one, 0 for one
    that never leaves one outcome. The baselines are measured the same way: copy-last, and copy-last
    plus +-COPY_NOISE uniform noise (samples that differ, as plain noise does, but reach nothing new).
    Contexts go one at a time (S x 0.8 MB of samples each). -> (model's diverse, the best baseline's,
    contexts, picture)."""
    from gates.m2 import diverse as m2_diverse

    cfg = ctx.config
    why = m2_diverse.unsupported(ctx.backend, cfg.game)
    if why:
        ctx.say(f"m2: diverse not measured: {why}")
        ctx.metric("stochastic_contexts", 0)
        return float("nan"), float("nan"), 0, None
    times = tuple(range(cfg.diverse_every, cfg.eval_steps + 1, cfg.diverse_every))
    sc = m2_diverse.contexts(
        ctx.backend, cfg.game, cfg.eval_seed, cfg.diverse_envs, cfg.diverse_copies, times
    )
    n = sc.frames.shape[0]
    ctx.metric("stochastic_contexts", n)
    ctx.metric("contexts_tried", sc.tried)
    if n == 0:
        ctx.say(f"m2: diverse not measured: none of {sc.tried} contexts had differing futures")
        return float("nan"), float("nan"), 0, None
    c = sc.frames.permute(0, 1, 4, 2, 3).float() / 255.0  # [C, 3, 3, H, W]
    fut = m2_diverse.Futures(sc.futures)  # [C] x float [M, 3, H, W], one context at a time
    ns = spec.DIVERSE_SAMPLES or sc.futures.shape[1]
    z = torch.stack([noise(n, net.noise_dim, ctx.seed + 101 * (j + 1)) for j in range(ns)], 1)
    gen = torch.Generator().manual_seed(ctx.seed + 7)  # the noisy baseline's jitter
    ogen = torch.Generator().manual_seed(ctx.seed + spec.ORACLE_SEED)  # the oracle's draws
    got: dict[str, list] = {"model": [], "copy": [], "noise": [], "oracle": [], "expected": []}
    outcomes, pic = [], None
    for i in range(n):
        fi = fut[i]  # [M, 3, H, W]
        samp = predict(
            net, c[i : i + 1].repeat(ns, 1, 1, 1, 1), sc.actions[i : i + 1].repeat(ns), z[i], dev
        )  # fmt: skip  [S, 3, H, W]
        reached, k, which = outcome_coverage(samp, fi, spec.DIVERSE_VALID_MSE)
        last = c[i, -1:].expand(ns, -1, -1, -1)  # [S, 3, H, W]
        jitter = (torch.rand(last.shape, generator=gen) * 2 - 1) * spec.COPY_NOISE
        orc = m2_diverse.oracle_samples(fi, ns, ogen)
        for key, s in (("copy", last), ("noise", (last + jitter).clamp(0, 1)), ("oracle", orc)):
            got[key].append(outcome_coverage(s, fi, spec.DIVERSE_VALID_MSE)[0] >= 2)
        got["model"].append(reached >= 2)
        got["expected"].append(
            m2_diverse.oracle_expected(m2_diverse.outcome_counts(sc.futures[i]), ns)
        )
        outcomes.append(k)
        if i == 0 or (
            reached >= 2 and not got["model"][pic[0]]
        ):  # a covered context if there is one
            pic = (i, samp, which)
    share = {key: sum(v) / n for key, v in got.items()}  # "expected": the oracle's expected share
    ref = share["expected"]
    div, bdiv, ndiv = (share[key] / ref for key in ("model", "copy", "noise"))
    ctx.metric("diverse_samples", ns)
    ctx.metric("outcomes_mean", sum(outcomes) / n)
    ctx.metric("diverse_share", share["model"])
    ctx.metric("oracle_diverse", share["oracle"])
    ctx.metric("oracle_diverse_expected", ref)
    ctx.metric("diverse", div)
    ctx.metric("baseline_diverse", bdiv)
    ctx.metric("noise_baseline_diverse", ndiv)
    i, samp, w = pic
    o1, o2 = 0, int((sc.futures[i] != sc.futures[i, :1]).flatten(1).any(1).nonzero()[0])
    s1 = int((w == 0).nonzero()[0]) if (w == 0).any() else 0
    s2 = int((w == 1).nonzero()[0]) if (w == 1).any() else 1
    fi = fut[i]  # [M, 3, H, W]
    region = (fi != fi[:1]).any(0).any(0)  # [H, W] where the true futures differ
    img = lambda x: to_frames(x[None])[0].numpy()  # noqa: E731
    row = [img(c[i, -1]), img(fi[o1]), img(fi[o2]), img(samp[s1]), img(samp[s2]),
           pictures.heatmap((samp[s1] - samp[s2]).abs().mean(0).numpy(), vmax=0.25),
           pictures.heatmap(region.float().numpy(), vmax=1.0)]  # fmt: skip
    label = f"context {i} ({'covered' if got['model'][i] else 'not covered'}, {ns} samples)"
    return div, max(bdiv, ndiv), n, (row, label)


def _pictures(ctx, c, p, y, m_mse, roll, dpic) -> None:
    order = m_mse.argsort()
    pick = sorted({int(order[len(order) // 2]), int(order[-1])})
    rows = []
    for i in pick:  # median and worst window
        base = c[i, -1]
        rows.append(
            [to_frames(y[i : i + 1])[0].numpy(), to_frames(p[i : i + 1])[0].numpy(),
             to_frames(base[None])[0].numpy(),
             pictures.heatmap((p[i] - y[i]).abs().mean(0).numpy(), vmax=0.25),
             pictures.heatmap((base - y[i]).abs().mean(0).numpy(), vmax=0.25)]
        )  # fmt: skip
    names = [
        f"{'median' if i == int(order[len(order) // 2]) else 'worst'} window {i}" for i in pick
    ]
    png = pictures.labelled_grid(
        rows, "m2: one-step prediction", names,
        ["truth", "prediction", "copy-last", "|error| model", "|error| copy-last"],
    )  # fmt: skip
    ctx.picture("m2_prediction.png", png)
    ctx.bundle_file("m2_prediction.png", png)
    curves = pictures.line_plot(
        {"model (its own rollout)": roll["errs"], "model, harness-snapped": roll["serrs"],
         "copy-last": roll["berrs"]},
        "m2: MSE per autoregressive step", hlines={"bound": spec.ROLLOUT_MSE_BOUND},
        xlabel="autoregressive step", ylabel="MSE (pixels in [0, 1])",
    )  # fmt: skip
    ctx.picture("m2_rollout_mse.png", curves)
    ctx.bundle_file("rollout_curves.png", curves)
    if dpic is not None:
        row, label = dpic
        ctx.picture(
            "m2_diversity.png",
            pictures.labelled_grid(
                [row], "m2: two samples of one stochastic context", [label],
                ["context (last frame)", "true outcome A", "true outcome B", "sample nearest A",
                 "sample nearest B", "|sample A - sample B|", "where outcomes differ"],
            ),
        )  # fmt: skip
