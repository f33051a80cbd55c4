"""Gate m3, goal: pixels-only goal template and done detection on a real Game Boy (simple-rl-m3-plan).

`gate m3` replays a fixed start state and action trace on the pyboy backend, matches every step's shade
frame against the approved goal template on the device (core.goal) and passes when done triggers for some
env within the trace and R replays give bit-identical frames and dist curves. The verbs (gates/m3/cli.py)
make what it needs: `gate m3 capture`, `gate m3 calibrate`, `gate m3 build-rom`, `gate m3 record-state`.

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from typing import Any

from gates.m3.spec import REPLAYS, ROM, STATE, TEMPLATE, TRACE
from shell.registry import Criterion, Gate


def config(**values: Any) -> Any:
    """The gate's configuration (pydantic, unknown keys refused); built lazily so listing stays fast."""
    from pydantic import BaseModel, ConfigDict, Field

    class M3Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        template: str = TEMPLATE
        rom: str = ROM
        state: str = STATE
        trace: str = TRACE
        replays: int = Field(REPLAYS, ge=1)
        tau: float | None = None  # None: the template's calibrated tau; a value must equal it
        k_consecutive: int | None = None  # None: the template's; a value must equal it

    return M3Config(**values)


def run(ctx: Any) -> None:
    from gates.m3.replay import curve_json, curve_png, frames_png, open_backend, replay
    from gates.m3.template import load_template, read_input, resolve, shown
    from shell.trace import dump_actions, load_actions

    cfg = ctx.config
    # the trace first: a bad line is named by number even when the trace also changed
    actions = load_actions(resolve(cfg.trace), shown(cfg.trace))
    meta, goal = load_template(
        cfg.template, cfg.rom, cfg.state, cfg.trace, cfg.tau, cfg.k_consecutive
    )
    tau, k = meta.tau, meta.k_consecutive
    state = read_input(cfg.state, "start state")
    n, steps = len(actions[0]), len(actions)
    reps = []
    with ctx.progress(cfg.replays * steps, "m3: replaying") as advance:
        for _ in range(cfg.replays):  # a fresh emulator each time: nothing carries over
            backend = open_backend(ctx.backend, n, ctx.device, resolve(cfg.rom), state)
            try:
                reps.append(
                    replay(backend, actions, goal, tau, k, ctx.seed, shown(cfg.state), advance)
                )
            finally:
                backend.close()
    first = reps[0]
    for r, rep in enumerate(reps):
        if ctx.opts.log_jsonl:
            for t in range(steps):
                ctx.step(replay=r, t=t + 1, action=actions[t], dist=rep.dist[t].tolist(),
                         consec=rep.consec[t].tolist(), done=rep.done[t].tolist())  # fmt: skip
    identical = all(rep.fingerprint == first.fingerprint for rep in reps)
    hit = first.done.any(dim=1)  # [T]: some env done at step t
    triggered = bool(hit.any())
    ctx.metric("steps", steps)
    ctx.metric("tau", tau)
    ctx.metric("k_consecutive", k)
    ctx.metric("min_dist", float(first.dist.min()))
    if triggered:
        t = int(hit.nonzero()[0, 0])
        ctx.metric("steps_to_done", t + 1, "steps")
        ctx.metric("dist_at_done", float(first.dist[t][first.done[t]].min()))
    ctx.metric("replays", len(reps))
    ctx.bundle_file("dist_curve.json", _json(curve_json(first, tau, k, {
        "replays": [{"frames_sha256": r.frames_sha256, "dist_sha256": r.dist_sha256} for r in reps],
        "template": shown(cfg.template), "template_run_id": meta.run_id,
    })))  # fmt: skip
    ctx.bundle_file("dist_curve.png", curve_png(first.dist, tau, f"m3 dist to goal (k={k})"))
    ctx.bundle_file("last_frames.png", frames_png(first.frames, goal))
    ctx.bundle_file("actions.jsonl", dump_actions(actions))
    ctx.check("done_triggered", 1.0 if triggered else 0.0)
    ctx.check("replays_identical", 1.0 if identical else 0.0)


def _json(doc: Any) -> bytes:
    import orjson

    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _commands(app: Any) -> None:
    from gates.m3.cli import add_verbs

    add_verbs(app)


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
    ),
    run=run,
    commands=_commands,
    config=config,
    summary="goal template capture and done detection from pixels, on real PyBoy",
    default_backend="pyboy",
)
