"""Gate m3, goal: pixels-only goal template and done detection on a real Game Boy (simple-rl-m3-plan).

`gate m3` replays a fixed start state and action trace on the pyboy backend, matches every step's shade
frame against the approved goal template on the device (core.goal) and passes when done triggers for some
env within the trace and R replays give bit-identical frames and dist curves. The verbs (gates/m3/cli.py)
make what it needs: `gate m3 capture`, `gate m3 calibrate`, `gate m3 build-rom`, `gate m3 record-state`.

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gates.m3.spec import NEGATIVES, REPLAYS, ROM, STATE, TAU_MARGIN, TEMPLATE, TRACE
from shell.registry import Criterion, Gate, lazy


def config(**values: Any) -> Any:
    """The gate's configuration (pydantic, unknown keys refused); built lazily so listing stays fast."""
    from pydantic import BaseModel, ConfigDict, Field

    class M3Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        template: str = TEMPLATE
        rom: str = ROM
        state: str = STATE
        trace: str = TRACE  # any trace: the template's capture trace must match its sha256, others are judged
        negatives: list[str] = Field(default_factory=lambda: list(NEGATIVES), min_length=1)
        replays: int = Field(
            REPLAYS, ge=1, le=100
        )  # a typo bound: 10**6 fresh emulators ran for hours
        tau: float | None = None  # None: the template's calibrated tau; a value must equal it
        k_consecutive: int | None = None  # None: the template's; a value must equal it

    return M3Config(**values)


def run(ctx: Any) -> None:
    from core.goal import window_floor
    from gates.m3.replay import (
        curve_json,
        curves_png,
        frames_png,
        load_negatives,
        open_backend,
        replay,
        replay_file,
    )
    from gates.m3.template import load_template, read_input, resolve, shown
    from shell.errors import BadInput
    from shell.store import sha256_file
    from shell.trace import dump_actions, load_actions

    cfg = ctx.config
    # the traces first: a bad line is named by number even when the trace also changed
    actions = load_actions(resolve(cfg.trace), shown(cfg.trace))
    negs = load_negatives(cfg.negatives)
    meta, goal = load_template(
        cfg.template, cfg.rom, cfg.state, cfg.trace, cfg.tau, cfg.k_consecutive
    )
    tau, k = meta.tau, meta.k_consecutive
    for p, rows in negs.items():
        if len(rows) < k:
            raise BadInput(f"{p}: {len(rows)} steps, fewer than k={k}: done could never fire on it")
    judged = shown(cfg.trace)
    ctx.receipt.emit(
        "input", role="judged trace", path=judged, sha256=sha256_file(resolve(cfg.trace)),
        capture_trace=judged == meta.actions_path, template_actions_path=meta.actions_path,
    )  # fmt: skip
    state = read_input(cfg.state, "start state")
    n, steps = len(actions[0]), len(actions)
    reps = []
    total = cfg.replays * steps + sum(len(r) for r in negs.values())
    with ctx.progress(total, "m3: replaying") as advance:
        for _ in range(cfg.replays):  # a fresh emulator each time: nothing carries over
            backend = open_backend(ctx.backend, n, ctx.device, resolve(cfg.rom), state)
            try:
                reps.append(
                    replay(backend, actions, goal, tau, k, ctx.seed, shown(cfg.state), advance)
                )
            finally:
                backend.close()
        neg = {
            p: replay_file(ctx, cfg, rows, goal, tau, k, state, advance) for p, rows in negs.items()
        }
    first = reps[0]
    for r, rep in enumerate(reps):
        if ctx.opts.log_jsonl:
            for t in range(steps):
                ctx.step(replay=r, t=t + 1, action=actions[t], dist=rep.dist[t].tolist(),
                         consec=rep.consec[t].tolist(), done=rep.done[t].tolist())  # fmt: skip
    identical = all(rep.fingerprint == first.fingerprint for rep in reps)
    hit = first.done.any(dim=1)  # [T]: some env done at step t
    triggered = bool(hit.any())
    fired = [p for p, rep in neg.items() if bool(rep.done.any())]
    nearest = min(window_floor(rep.dist, k) for rep in neg.values())
    ctx.metric("steps", steps)
    ctx.metric("tau", tau)
    ctx.metric("k_consecutive", k)
    ctx.metric("min_dist", float(first.dist.min()))
    if triggered:
        t = int(hit.nonzero()[0, 0])
        ctx.metric("steps_to_done", t + 1, "steps")
        ctx.metric("dist_at_done", float(first.dist[t][first.done[t]].min()))
    ctx.metric("replays", len(reps))
    ctx.metric("negatives", len(neg))
    ctx.metric("negatives_fired", len(fired))
    ctx.metric("nearest_nongoal_dist", nearest)
    for p in fired:
        ctx.say(f"m3: done fired on the non-goal trace {p}")
    curves = curves_png(first, neg, tau, k, judged)
    ctx.picture("dist_curves.png", curves)
    ctx.check("done_triggered", 1.0 if triggered else 0.0)
    ctx.check("replays_identical", 1.0 if identical else 0.0)
    ctx.check("negatives_rejected", 0.0 if fired else 1.0)
    ctx.check("tau_margin", nearest / tau)
    if all(c["passed"] for c in ctx.criteria):
        return  # the bundle is written only on failure: its pictures are made only then
    negatives = [
        {"path": p, "sha256": sha256_file(resolve(p)), "dist": rep.dist.T.tolist(),
         "done": rep.done.T.tolist(), "fired": p in fired} for p, rep in neg.items()
    ]  # fmt: skip
    ctx.bundle_file("dist_curve.json", _json(curve_json(first, tau, k, {
        "replays": [{"frames_sha256": r.frames_sha256, "dist_sha256": r.dist_sha256} for r in reps],
        "template": shown(cfg.template), "template_run_id": meta.run_id, "trace": judged,
        "nearest_nongoal_dist": nearest, "negatives": negatives,
    })))  # fmt: skip
    ctx.bundle_file("dist_curve.png", curves)
    ctx.bundle_file("last_frames.png", frames_png(first.frames, goal))
    for p in fired:
        ctx.bundle_file(f"last_frames_{Path(p).stem}.png", frames_png(neg[p].frames, goal))
    ctx.bundle_file("actions.jsonl", dump_actions(actions))


def _json(doc: Any) -> bytes:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


GATE = Gate(
    "m3",
    "goal",
    "simple-rl-m3-plan",
    (),
    (
        Criterion(
            "done_triggered", "==", 1, description="done fires for some env within the trace"
        ),
        Criterion(
            "replays_identical", "==", 1, description="frames and dist curves equal across replays"
        ),
        Criterion(
            "negatives_rejected",
            "==",
            1,
            description="done never fires on any non-goal trace (simple-rl-m3-plan §9 Risk B)",
        ),
        Criterion(
            "tau_margin",
            ">=",
            TAU_MARGIN,
            description="nearest non-goal distance (min over k-step windows of their max) / tau",
        ),
    ),
    run=run,
    commands=lazy("gates.m3.cli:add_verbs"),
    config=config,
    summary="goal template capture and done detection from pixels, on real PyBoy",
    default_backend="pyboy",
)
