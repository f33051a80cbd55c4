"""Gate m7's run: LoopNav-style routes on held-out levels, 900 frames generated from the first
(definitions in gates/m7/__init__.py)."""

from __future__ import annotations

from typing import Any

import torch

from core.games.platformer_routes import route_actions
from core.games.platformer_state import take_envs
from core.metrics import to_frames, to_unit
from core.models.protocols import as_recurrent, one_frame_context
from gates.common.clips import play
from gates.common.evaldata import platformer_world_model, set_threads
from gates.m7 import measures as ms
from gates.m7 import spec
from gates.m7.pictures import draw

ADVANCE = 30  # frames per progress tick: one second of the route


def routes(game: Any, seed: int) -> tuple[Any, torch.Tensor, torch.Tensor, list]:
    """The first ROUTES levels of the seed whose route the game's player survives, that leave the
    start view and come back to it (those with a coin in the start view first)
    -> (start states, actions int64 [R, T], camera x int64 [R, T+1] from the start, each route's
    (first visit, revisit) frame pairs)."""
    state = game.reset(seed, spec.CANDIDATES, "cpu")
    acts, cams, done = route_actions(state, spec.OUT, spec.BACK, spec.FRAMES, seed)
    cams = (cams - cams[:, :1]).long()
    pairs = [ms.revisits(c.numpy()) for c in cams]
    back = torch.tensor([sum(t1 == 0 for t1, _ in p) for p in pairs])  # [C]
    ok = ~done.any(1) & (back >= spec.FINAL)  # back at the start view, after going a screen away
    coins = torch.stack([(ms.coin_cells(f) >= spec.COIN_PX).any() for f in game.render_rgb(state)])
    order = sorted(ok.nonzero().flatten().tolist(), key=lambda i: (not coins[i], i))
    if len(order) < spec.ROUTES:
        raise RuntimeError(f"only {len(order)} of {spec.CANDIDATES} levels give a usable route")
    keep = order[: spec.ROUTES]
    idx = torch.tensor(keep)
    return take_envs(state, idx), acts[idx], cams[idx], [pairs[i] for i in keep]


@torch.no_grad()
def generate(model: Any, first: torch.Tensor, acts: torch.Tensor, dev: Any, seed: int,
             advance) -> torch.Tensor:  # fmt: skip
    """uint8 first [R, H, W, 3], actions [R, T] -> uint8 [R, T+1, H, W, 3], stepped through the
    recurrent protocol (a plain model through its context alone)."""
    rec = as_recurrent(model)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(*acts.shape, model.noise_dim, generator=gen)  # [R, T, Z]
    out = torch.empty(acts.shape[0], acts.shape[1] + 1, *first.shape[1:], dtype=torch.uint8)
    out[:, 0] = first
    state = rec.begin(one_frame_context(to_unit(first).to(dev), model.context_frames))
    for t in range(acts.shape[1]):
        state, y = rec.step(state, acts[:, t].to(dev), z[:, t].to(dev))  # y [R, 3, H, W]
        out[:, t + 1] = to_frames(y.float().cpu())
        if (t + 1) % ADVANCE == 0:
            advance(1)
    return out


def judge(
    frames: torch.Tensor, truth: torch.Tensor, cams: torch.Tensor, pairs: list, lo, hi
) -> dict[str, float]:
    """All measures of one set of routes' frames uint8 [R, T+1, H, W, 3] against the game's. A pair of
    frames (pairs: per route, from `routes`) counts for revisit, return and permanence only when the model's own camera went away and
    came back with the game's (within one step at both ends): a model that never moves remembers
    nothing, whatever its frames show."""
    final, cam_err, steps = [], [], []
    rv, rt, perm = [0, 0], [0, 0], [0, 0]
    for r in range(frames.shape[0]):
        f, g = frames[r], truth[r]
        track = ms.camera_track(f)
        final.append(ms.in_range(ms.frame_stats(f[-spec.FINAL :]), lo, hi))
        cam_err.append((track - cams[r]).abs().float())
        steps.append(ms.player_steps(f))
        went = ms.went_away(track, cams[r])
        for t1, t2 in ms.sample(pairs[r], spec.PAIRS):
            n, k = ms.still_match(g[t1], g[t2], f[t1], f[t2])
            rv[0], rv[1] = rv[0] + n, rv[1] + k * went(t1, t2)
        cells = ms.coin_cells(g[0]) >= spec.COIN_PX
        for _, t2 in ms.sample([p for p in pairs[r] if p[0] == 0], spec.PAIRS):
            n, k = ms.still_match(g[0], g[t2], g[t2], f[t2])
            rt[0], rt[1] = rt[0] + n, rt[1] + k * went(0, t2)
            agree = (ms.coin_cells(f[t2]) >= spec.COIN_PX) == (ms.coin_cells(g[t2]) >= spec.COIN_PX)
            perm[0] += int(cells.sum())
            perm[1] += int(agree[cells].sum()) * went(0, t2)
    share = lambda c: c[1] / c[0] if c[0] else float("nan")  # noqa: E731
    return {
        "final_in_range": float(torch.cat(final).float().mean()),
        "camera_track": float(torch.cat(cam_err).mean()),
        "revisit_match": share(rv),
        "return_match": share(rt),
        "permanence": share(perm),
        "no_teleports": float(torch.cat(steps).float().mean()),
    }


def evaluate(ctx) -> None:
    cfg = ctx.config
    threads = set_threads(cfg.device_threads)
    game, model, about = platformer_world_model(ctx, "m7", {}, golden_gate="m4")
    start, acts, cams, pairs = routes(game, cfg.eval_seed)
    truth = play(game, start, acts)[0].frames  # [R, T+1, H, W, 3]
    for r in range(truth.shape[0]):  # the readers must get the game's own route exactly right
        if not torch.equal(ms.camera_track(truth[r]), cams[r]):
            raise RuntimeError(
                f"route {r}: the camera read off the game's frames is not its camera"
            )
        if not bool(ms.player_steps(truth[r]).all()):
            raise RuntimeError(f"route {r}: the game's own player moves beyond STEP_PX")
    with ctx.progress(
        spec.FRAMES // ADVANCE, f"m7: {spec.FRAMES} frames of {len(acts)} routes"
    ) as adv:
        ours = generate(model, truth[:, 0], acts, ctx.device, cfg.eval_seed, adv)
    stats = torch.cat([ms.frame_stats(t) for t in truth])
    lo, hi = stats.amin(0), stats.amax(0)
    copy = truth[:, :1].expand_as(truth)
    rows = {who: judge(f, truth, cams, pairs, lo, hi)
            for who, f in (("model", ours), ("copy_last", copy), ("truth", truth))}  # fmt: skip
    ctx.metric("routes", len(acts))
    ctx.metric("frames", spec.FRAMES)
    ctx.metric("threads", threads)
    ctx.metric("revisit_pairs", sum(len(p) for p in pairs))
    for who in ("copy_last", "truth"):
        for k, v in rows[who].items():
            ctx.metric(f"{who}_{k}", v)
    for k, v in rows["model"].items():
        ctx.check(k, v)
    draw(ctx, truth, ours, cams, pairs, rows)
    ctx.say(f"m7: model {about['name']} from {about['path']}")
