"""The verbs of gate m3, each a run of its own (receipt, ledger row, approvable candidate):

- `gate m3 capture`: ROM + start state + trace -> a goal template (the final shade frame), tau per §6.
- `gate m3 calibrate`: the dist curve of a trace against a template, the §6 tau; --write makes a candidate.
- `gate m3 build-rom`: assemble the project's ROM (shell/rom.py) and print its sha256.
- `gate m3 record-state`: boot a ROM for N idle frames and save the start `.state`.

Relative paths are relative to the project root. Imported when the command line is built: light imports.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import typer

from gates.m3.spec import NEGATIVES, ROM, STATE, TEMPLATE, TRACE
from shell import options
from shell.atomic import write_bytes_atomic

DEFAULT_K = 2  # simple-rl-m3-plan §6: two consecutive matches ride out a fade or transition frame
TAIL = 10  # simple-rl-m3-plan §6: tau starts from the min over the last ~10 steps
BOOT = 120  # core/gb/layout.BOOT_FRAMES: our ROM reads input from frame ~75 after power-on

Rom = typer.Option(ROM, "--rom", help="Game Boy ROM (relative to the project root).")
State = typer.Option(STATE, "--state", help="Start state (.state) the trace begins from.")
Trace = typer.Option(
    TRACE, "--trace", help="actions.jsonl: one JSON list of ints per line, one per env."
)
K_MAX = 1000  # core.goal.K_MAX (this module stays light: no torch at import)
Negatives = typer.Option(
    ",".join(NEGATIVES),
    "--negatives",
    help="Comma-separated non-goal traces (§9 Risk B) tau must stay below; '' for none.",
)


def _negative_floor(
    ctx: Any, rom: str, state: str, negatives: str, goal: Any, k: int
) -> dict[str, float]:
    """Each non-goal trace replayed against goal -> {path: core.goal.window_floor} (k-step windows)."""
    from core.goal import window_floor
    from gates.m3.replay import load_negatives, replay_file
    from gates.m3.template import read_input

    negs = load_negatives([p for p in negatives.split(",") if p.strip()])
    st = read_input(state, "start state")
    cfg = SimpleNamespace(rom=rom, state=state)
    out = {}
    with ctx.progress(sum(len(r) for r in negs.values()), "m3: non-goal traces") as advance:
        for p, rows in negs.items():
            rep = replay_file(ctx, cfg, rows, goal, 1.0, 1, st, advance)
            out[p] = window_floor(rep.dist, k)
    return out


def _verb(
    verb: str, body: Any, params: dict[str, Any], device: str, json: bool, log: bool = False
) -> None:
    from shell.commands.run_cmds import execute_verb
    from shell.context import RunOptions

    execute_verb("m3", verb, body, params, RunOptions(device=device, json=json, log_jsonl=log))


def _replay_once(ctx: Any, rom: str, state: str, trace: str, goal: Any, tau: float, k: int) -> Any:
    from gates.m3.replay import open_backend, replay
    from gates.m3.template import read_input, resolve, shown
    from shell.trace import load_actions

    actions = load_actions(resolve(trace), shown(trace))
    st = read_input(state, "start state")
    backend = open_backend(ctx.backend, len(actions[0]), ctx.device, resolve(rom), st)
    try:
        with ctx.progress(len(actions), "m3: replaying") as advance:
            return replay(backend, actions, goal, tau, k, ctx.seed, shown(state), advance), actions
    finally:
        backend.close()


def _calibrate(curve: Any, floors: dict[str, float] | None = None) -> dict[str, float]:
    import math

    from core.goal import recommend_tau
    from shell.errors import BadInput

    try:
        return recommend_tau(curve, TAIL, min((floors or {}).values(), default=math.inf))
    except ValueError as e:
        raise BadInput(
            f"calibration: {e} (the trace must start away from the goal and end at it)"
        ) from None


def _check_reached(curve: Any, tau: float, k: int, trace: str) -> int:
    """The first step (1-based) at which done fires with tau and k; BadInput if it never does."""
    from core.goal import done_steps
    from shell.errors import BadInput

    hit = done_steps(curve.reshape(-1, 1), tau, k)[:, 0]  # [T]
    if not bool(hit.any()):
        raise BadInput(
            f"{trace}: with tau={tau:.4g} and k={k} done never fires within the trace "
            f"(it must stay at the goal for {k} steps: end it with waits, e.g. B, which is inert)"
        )
    return int(hit.nonzero()[0, 0]) + 1


def _pictures(
    ctx: Any, curve: Any, tau: float, lines: dict[str, float], doc: dict[str, Any]
) -> None:
    import orjson

    from gates.m3.replay import curve_png
    from shell.pictures import histogram

    ctx.picture("dist_curve.png", curve_png(curve.reshape(-1, 1), tau, "m3 dist to goal", lines))
    ctx.picture(
        "dist_hist.png",
        histogram(
            curve.reshape(-1).tolist(),
            "m3 dist histogram",
            vline=tau,
            xlabel="dist to the goal",
        ),
    )
    path = ctx.run_dir / "dist_curve.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    ctx.say(f"curve: {path}")


def _write_template(
    ctx: Any, goal: Any, inputs: dict[str, str], tau: float, k: int, out: str | None, force: bool
) -> Path:
    from gates.m3.template import (
        META,
        NAME,
        PIPELINE_VERSION,
        GoalTemplateMeta,
        encode_goal,
        resolve,
        shown,
        template_meta,
    )
    from shell.context import config_dict
    from shell.errors import BadInput
    from shell.store import artifact_meta_fields, write_artifact

    files = encode_goal(goal)
    extra = template_meta(inputs, tau, k)
    shas = {key: inputs[f"{key}_sha256"] for key in ("rom", "start_state", "actions")}
    if out is None:
        dest = ctx.write_artifact(
            NAME, files, shas, PIPELINE_VERSION, GoalTemplateMeta, META, extra
        )
        ctx.say(f"goal template: {dest}  (tau={tau:.4g}, k={k})")
        ctx.say(f"approve it: gate approve m3 --run {ctx.run_id}")
        return dest
    from shell.safety import check_out

    dest = check_out(resolve(out), "--out", folder=True, name=out)
    if dest.exists() and not force:
        raise BadInput(f"{shown(out)}: exists; pass --force to replace it")
    meta = artifact_meta_fields(
        "m3", ctx.run_id, NAME, config_dict(ctx.config), shas, PIPELINE_VERSION
    )
    write_artifact(dest, files, {**meta, **extra}, GoalTemplateMeta, META)
    ctx.say(f"goal template: {dest}  (tau={tau:.4g}, k={k})")
    return dest


def add_verbs(app: typer.Typer) -> None:
    @app.command("capture")
    def capture(
        rom: str = Rom,
        state: str = State,
        trace: str = Trace,
        tau: float | None = typer.Option(
            None, "--tau", help="Match threshold; default: calibrated per §6."
        ),
        k: int = typer.Option(
            DEFAULT_K, "--k", min=1, max=K_MAX, help="Consecutive matches for done (§6: 2)."
        ),
        negatives: str = Negatives,
        out: str | None = typer.Option(
            None, "--out", help="Write the template here instead of the run folder."
        ),
        force: options.Force = False,
        device: options.Device = "auto",
        json: options.Json = False,
    ) -> None:
        """Replay a trace and capture its final shade frame as a goal template (approve it to make it golden)."""

        def body(ctx: Any) -> None:
            from core.goal import check_params, dist
            from gates.m3.template import input_fields, resolve, shown
            from shell.errors import BadInput
            from shell.safety import check_out

            if out is not None:  # before any work: a bad --out is refused at once
                check_out(resolve(out), "--out", folder=True, name=out)
            try:  # --tau/--k before any work too (without --tau, tau is calibrated below)
                check_params(0.5 if tau is None else tau, k)
            except ValueError as e:
                raise BadInput(f"--tau/--k: {e}") from None
            inputs = input_fields(rom, state, trace)
            rep, _ = _replay_once(ctx, rom, state, trace, None, 1.0, 1)
            goal = rep.frames[-1, 0]  # [72, 80]: env 0's final frame, the pipeline's own output
            curve = dist(rep.frames[1:, 0], goal)  # [T]
            floors = _negative_floor(ctx, rom, state, negatives, goal, k)
            cal = _calibrate(curve, floors) if tau is None else {}
            t, kk = (cal["tau"] if tau is None else tau), k
            reached = _check_reached(curve, t, kk, shown(trace))
            _write_template(ctx, goal, inputs, t, kk, out, force)
            ctx.metric("tau", t)
            ctx.metric("steps_to_done", reached, "steps")
            if floors:
                ctx.metric("nearest_nongoal_dist", min(floors.values()))
            doc = {
                "dist": curve.tolist(),
                "tau": t,
                "k_consecutive": kk,
                **cal,
                "negatives": floors,
            }
            _pictures(ctx, curve, t, {}, doc)

        params = {"rom": rom, "state": state, "trace": trace, "tau": tau, "k": k, "out": out,
                  "negatives": negatives}  # fmt: skip
        _verb("capture", body, params, device, json)

    @app.command("calibrate")
    def calibrate(
        template: str = typer.Option(TEMPLATE, "--template", help="Goal template folder."),
        rom: str = Rom,
        state: str = State,
        trace: str = Trace,
        negatives: str = Negatives,
        write: bool = typer.Option(
            False, "--write", help="Write a candidate template with the recommended tau."
        ),
        device: options.Device = "auto",
        json: options.Json = False,
    ) -> None:
        """Replay the trace against a template: dist curve and histogram (PNG, JSON) and the §6 tau."""

        def body(ctx: Any) -> None:
            from gates.m3.template import input_fields, load_template, shown

            meta, goal = load_template(template, rom, state, trace, None, None)
            rep, _ = _replay_once(ctx, rom, state, trace, goal, meta.tau, meta.k_consecutive)
            curve = rep.dist[:, 0]  # [T]
            floors = _negative_floor(ctx, rom, state, negatives, goal, meta.k_consecutive)
            cal = _calibrate(curve, floors)
            ctx.metric("tau", meta.tau)
            ctx.metric("recommended_tau", cal["tau"])
            ctx.metric("goal_max", cal["goal_max"])
            ctx.metric("nearest_other", cal["nearest_other"])
            doc = {
                "template": shown(template),
                "dist": curve.tolist(),
                "template_tau": meta.tau,
                **cal,
                "negatives": floors,
            }
            _pictures(ctx, curve, cal["tau"], {"template tau": meta.tau}, doc)
            ctx.say(
                f"recommended tau {cal['tau']:.4g} = min(last {TAIL}) {cal['floor']:.4g} + margin "
                f"{cal['margin']:.4g} (goal frames <= {cal['goal_max']:.4g}, nearest other "
                f"{cal['nearest_other']:.4g}); the template has {meta.tau:.4g}"
            )
            if write:
                _check_reached(curve, cal["tau"], meta.k_consecutive, shown(trace))
                inputs = input_fields(rom, state, trace)
                _write_template(ctx, goal, inputs, cal["tau"], meta.k_consecutive, None, False)

        params = {"template": template, "rom": rom, "state": state, "trace": trace,
                  "negatives": negatives, "write": write}  # fmt: skip
        _verb("calibrate", body, params, device, json)

    @app.command("build-rom")
    def build_rom_cmd(
        out: str = typer.Option(ROM, "--out", help="Where to write the ROM."),
        force: options.Force = False,
        json: options.Json = False,
    ) -> None:
        """Assemble the project's own Game Boy ROM (core/gb) and print its sha256."""

        def body(ctx: Any) -> None:
            from gates.m3.template import resolve, shown
            from shell.errors import BadInput
            from shell.rom import build_rom
            from shell.safety import check_out
            from shell.store import sha256_bytes

            data, dest = build_rom(), check_out(resolve(out), "--out", name=out)
            sha = sha256_bytes(data)
            if dest.exists() and dest.read_bytes() != data and not force:
                raise BadInput(f"{shown(out)}: exists with other bytes; pass --force to replace it")
            write_bytes_atomic(dest, data)
            write_bytes_atomic(
                dest.with_name(dest.name + ".sha256"), f"{sha}  {dest.name}\n".encode()
            )
            ctx.say(f"{shown(out)}: {len(data)} bytes, sha256 {sha}")

        _verb("build-rom", body, {"out": out}, "cpu", json)

    @app.command("record-state")
    def record_state(
        rom: str = Rom,
        out: str = typer.Option(STATE, "--out", help="Where to write the .state."),
        frames: int = typer.Option(
            BOOT, "--frames", min=0, max=100_000, help="Idle frames after power-on."
        ),
        force: options.Force = False,
        json: options.Json = False,
    ) -> None:
        """Boot a ROM for some idle frames and save the start state a trace begins from."""

        def body(ctx: Any) -> None:
            from gates.m3.template import read_input, resolve, shown
            from shell.backends.base import BackendError
            from shell.backends.pyboy import PyBoyBackend
            from shell.errors import BadInput
            from shell.safety import check_out
            from shell.store import sha256_bytes

            check_out(resolve(out), "--out", name=out)
            read_input(rom, "ROM")
            try:
                b = PyBoyBackend(1, "cpu", rom=resolve(rom), boot_frames=frames)
            except BackendError as e:
                raise BadInput(str(e)) from None
            try:
                data = b.save_state(0)
            finally:
                b.close()
            dest = resolve(out)
            if dest.exists() and dest.read_bytes() != data and not force:
                raise BadInput(f"{shown(out)}: exists with other bytes; pass --force to replace it")
            write_bytes_atomic(dest, data)
            ctx.say(
                f"{shown(out)}: {len(data)} bytes after {frames} frames, sha256 {sha256_bytes(data)}"
            )

        _verb("record-state", body, {"rom": rom, "out": out, "frames": frames}, "cpu", json)
