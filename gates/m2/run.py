"""Gate m2's measurement: one-step prediction, 10-step rollouts and the diversity probe, for any
WorldModel (core/models/protocols.py, loaded through --model) and for copy-last-frame side by side
(see gates/m2/__init__.py for the definitions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import torch

from core.metrics import (
    locate_color,
    locate_in,
    mse,
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
    acc = bacc = float("nan")
    if locate is not None:
        truth = locate(to_frames(y))  # [W, 2]
        seen = ~torch.isnan(truth[:, 0])
        hits = position_hits(locate_in(p, model_palette, locate), truth, spec.TRAJ_TOL_PX)[seen]
        bhits = position_hits(locate(to_frames(base)), truth, spec.TRAJ_TOL_PX)[seen]
        acc, bacc = hits.float().mean().item(), bhits.float().mean().item()
        ctx.metric("trajectory_windows", int(seen.sum()))
    ctx.metric("trajectory_accuracy", acc)
    ctx.metric("baseline_trajectory_accuracy", bacc)
    ctx.metric("palette_fraction", palette_fraction(p, palette, spec.PALETTE_TOL).mean().item())

    # Ten autoregressive steps.
    roll = _rollouts(ctx, net, frames, actions, done, palette, model_palette, dev)

    # Diversity.
    div, bdiv, dpic = _diversity(ctx, net, dev)

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
    ctx.check("diverse", div)
    beats = (
        m_mse.mean().item() < b_mse.mean().item()
        and (np.isnan(bacc) or acc > bacc)
        and roll["mse_last"] < roll["baseline_mse_last"]
        and (np.isnan(bdiv) or div > bdiv)  # not measurable here: `diverse` itself fails
    )
    ctx.check("beats_baseline", float(beats))


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
    """Ten predictions fed back: each raw prediction is judged (finite, in the game's palette, MSE),
    then drawn as a frame in the model's palette (snap_to_palette) and becomes context."""
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
    c = context(frames, ws)  # [R, 3, 3, H, W]
    last = c[:, -1]
    errs, berrs, pals, finite = [], [], [], True
    z_seed = ctx.seed + 1
    for i in range(k):
        a = torch.stack([actions[e, t + i] for e, t in ws])
        y = to_unit(torch.stack([frames[e, t + 1 + i] for e, t in ws]))
        p = predict(net, c, a, noise(len(ws), net.noise_dim, z_seed + i), dev)
        finite = finite and bool(torch.isfinite(p).all())
        errs.append(mse(p, y).nan_to_num(1.0).mean().item())
        berrs.append(mse(last, y).mean().item())
        pals.append(palette_fraction(p, palette, spec.PALETTE_TOL).min().item())
        fed = to_unit(snap_to_palette(p, model_palette))  # a frame, drawn in the model's colours
        c = torch.cat([c[:, 1:], fed[:, None]], 1)
    stable = finite and min(pals) >= spec.PALETTE_SHARE and max(errs) <= spec.ROLLOUT_MSE_BOUND
    ctx.metric("rollouts", len(ws))
    ctx.metric("rollout_mse_10", errs[-1])
    ctx.metric("baseline_rollout_mse_10", berrs[-1])
    ctx.metric("rollout_mse_max", max(errs))
    ctx.metric("palette_fraction_10", min(pals))
    ctx.bundle_file("rollout_curves.json", orjson.dumps({"model": errs, "copy_last": berrs}))
    ctx.bundle_file(
        "rollout_curves.png",
        pictures.line_plot(
            {"model": errs, "copy-last": berrs},
            "m2: rollout MSE per step",
            xlabel="autoregressive step",
            ylabel="MSE (pixels in [0, 1])",
        ),
    )
    return {
        "mse_last": errs[-1], "baseline_mse_last": berrs[-1], "palette_min": min(pals),
        "stable": stable, "errs": errs, "berrs": berrs,
    }  # fmt: skip


def _diversity(ctx, net, dev) -> tuple[float, float, Any]:
    """-> (model's share of stochastic contexts with two different valid samples, copy-last's, picture
    rows). NaN where the game offers no way to branch its randomness (not a built-in game)."""
    from gates.m2 import diverse as m2_diverse

    cfg = ctx.config
    if ctx.backend != "builtin" or not m2_diverse.supported(cfg.game):
        ctx.say("m2: diversity needs a built-in game (branching its RNG); not measured")
        return float("nan"), float("nan"), None
    times = tuple(range(cfg.diverse_every, cfg.eval_steps + 1, cfg.diverse_every))
    sc = m2_diverse.stochastic_contexts(
        cfg.game, cfg.eval_seed, cfg.diverse_envs, cfg.diverse_copies, times
    )
    n = sc.frames.shape[0]
    ctx.metric("stochastic_contexts", n)
    ctx.metric("contexts_tried", sc.tried)
    if n == 0:
        return float("nan"), float("nan"), None
    c = sc.frames.permute(0, 1, 4, 2, 3).float() / 255.0  # [C, 3, 3, H, W]
    s1 = predict(net, c, sc.actions, noise(n, net.noise_dim, ctx.seed + 101), dev)
    s2 = predict(net, c, sc.actions, noise(n, net.noise_dim, ctx.seed + 202), dev)
    fut = sc.futures.permute(0, 1, 4, 2, 3).float() / 255.0  # [C, M, 3, H, W]
    region = (fut != fut[:, :1]).any(1).any(1)  # [C, H, W] where the true futures differ

    def valid(s: torch.Tensor) -> torch.Tensor:
        err = (s[:, None] - fut).square().flatten(2).mean(2)  # [C, M]
        return err.min(1).values < spec.DIVERSE_VALID_MSE  # [C]

    def share(a: torch.Tensor, b: torch.Tensor) -> float:
        d = ((a - b).abs().mean(1) * region).flatten(1).sum(1) / region.flatten(1).sum(1)  # [C]
        ok = (d > spec.DIVERSE_MIN_DIFF) & valid(a) & valid(b)
        return ok.float().mean().item()

    div = share(s1, s2)
    base = c[:, -1]
    bdiv = share(base, base)  # copy-last is deterministic: its two samples never differ
    ctx.metric("diverse", div)
    ctx.metric("baseline_diverse", bdiv)
    i = int(((s1 - s2).abs().mean(1) * region).flatten(1).sum(1).argmax())
    rows = [
        to_frames(c[i, -1:])[0].numpy(), to_frames(s1[i : i + 1])[0].numpy(),
        to_frames(s2[i : i + 1])[0].numpy(),
        pictures.heatmap((s1[i] - s2[i]).abs().mean(0).numpy(), vmax=0.25),
        pictures.heatmap(region[i].float().numpy(), vmax=1.0),
    ]  # fmt: skip
    return div, bdiv, rows


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
    png = pictures.png(pictures.grid(rows))
    ctx.picture("m2_prediction.png", png)  # truth, model, copy-last, model error, copy-last error
    ctx.bundle_file("m2_prediction.png", png)
    ctx.picture(
        "m2_rollout_mse.png",
        pictures.line_plot(
            {"model": roll["errs"], "copy-last": roll["berrs"]},
            "m2: MSE per autoregressive step", hlines={"bound": spec.ROLLOUT_MSE_BOUND},
            xlabel="autoregressive step", ylabel="MSE (pixels in [0, 1])",
        ),
    )  # fmt: skip
    if dpic is not None:  # context, sample 1, sample 2, |difference|, where true futures differ
        ctx.picture("m2_diversity.png", pictures.png(pictures.grid([dpic])))
