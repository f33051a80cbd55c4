"""Gate m9's run: per genre, held-out clips of the game, copy-last, the specialised and the general
model, measured alike from the frames (definitions in gates/m9/__init__.py)."""

from __future__ import annotations

from typing import Any

import orjson
import torch

from core.games.measures import logic_consistency, physics_accuracy, state_management
from gates.common.evaldata import peak_memory_gb, set_threads
from gates.m9 import spec
from gates.m9.data import CONTEXT, Played, as_context, heldout
from gates.m9.pictures import draw
from shell.errors import BadInput

BATCH = 16  # clips per forward pass


def measure(genre: str, clip: Played, gen: torch.Tensor) -> float:
    """gen uint8 [S, 1 + T, 256, 256, 3]: the last context frame, then the T generated ones -> the
    genre's share. A step counts while no reset came before it (a new level cannot be foreseen)."""
    valid = ~clip.fresh[:, CONTEXT:].cumsum(1).bool()  # [S, T]
    if genre == "platformer":
        xy = torch.stack([clip.truth["screen_x"], clip.truth["screen_y"]], -1)[:, CONTEXT:]
        return physics_accuracy(gen[:, 1:], xy, valid)[0]
    if genre == "puzzle":
        return logic_consistency(gen, clip.actions, valid)[0]
    truth = {k: v[:, CONTEXT:] for k, v in clip.truth.items()}
    return state_management(gen[:, 1:], truth, valid)[0]


@torch.no_grad()
def generate(model: Any, clip: Played, device: Any) -> torch.Tensor:
    """The model's clip: the CONTEXT true frames in, each generated frame fed back -> uint8
    [S, 1 + T, H, W, 3] (the last context frame first, then T = HORIZON generated)."""
    from core.metrics import to_frames

    out = []
    for i in range(0, clip.frames.shape[0], BATCH):
        f = clip.frames[i : i + BATCH, :CONTEXT]  # uint8 [B, K, H, W, 3]
        ctx = as_context(f).to(device)  # [B, K, 3, H, W]
        a = clip.actions[i : i + BATCH].to(device)  # [B, T]
        z = torch.zeros(f.shape[0], a.shape[1], model.noise_dim, device=device)
        y = model.rollout(ctx, a, z).float().cpu()  # [B, T, 3, H, W]
        frames = to_frames(y.flatten(0, 1)).view(y.shape[0], y.shape[1], *f.shape[2:])
        out.append(torch.cat([f[:, -1:], frames], 1))
    return torch.cat(out)


def copy_last(clip: Played) -> torch.Tensor:
    return clip.frames[:, CONTEXT - 1 : CONTEXT].expand(-1, clip.frames.shape[1] - 1, -1, -1, -1)


def load(ctx: Any, name: str, given: str) -> tuple[Any, dict[str, Any]]:
    """The model for `name` (a genre or "general"): --set NAME_model=NAME_OR_PATH, else the golden
    cellcopy-NAME of gate m9 -> (a WorldModel, what the receipt records)."""
    from shell import models, paths
    from shell.errors import Unavailable

    golden = paths.golden_dir("m9", f"cellcopy-{name}")
    if not given and not (golden / "meta.json").is_file():
        how = "--game all" if name == "general" else f"--game {name}"
        raise Unavailable(
            f"{golden}: no golden yet; train one (gate m9 train {how}) and approve it "
            f"(gate approve m9 --run RUN_ID), or name one with --set {name}_model=PATH"
        )
    entry, path = models.resolve(given, "world_model", lambda _: golden, "m9", "cellcopy")
    model = models.load(entry, path, ctx.device, {})
    meta = getattr(model, "meta", None)
    if model.n_actions != 5 or model.context_frames != CONTEXT:
        raise BadInput(
            f"{name}_model: takes {model.n_actions} actions and {model.context_frames} context "
            f"frames; gate m9 gives 5 and {CONTEXT}"
        )
    about = {"name": entry.name, "path": str(path) if path else None,
             "meta_sha256": getattr(meta, "metadata_sha256", None),
             "params": _params(model), "training": dict(meta.training) if meta else {}}  # fmt: skip
    ctx.say(
        f"m9: {name} model {entry.name} from {path} ({about['training'].get('steps', '?')} steps)"
    )
    return model, about


def _params(model: Any) -> int:
    net = getattr(model, "net", model)
    return sum(p.numel() for p in net.parameters()) if hasattr(net, "parameters") else -1


def evaluate(ctx) -> None:
    cfg = ctx.config
    set_threads(cfg.device_threads)
    dev = ctx.device
    given = {"general": cfg.general_model, "platformer": cfg.platformer_model,
             "puzzle": cfg.puzzle_model, "rpg": cfg.rpg_model}  # fmt: skip
    loaded = {name: load(ctx, name, given[name]) for name in ("general", *spec.GENRES)}
    rows: dict[str, dict[str, float]] = {}
    firsts: dict[str, list[torch.Tensor]] = {}
    with ctx.progress(len(spec.GENRES), "m9: held-out clips, copy-last, models") as advance:
        for genre in spec.GENRES:
            clip = heldout(genre, cfg.eval_seed, spec.STARTS, spec.HORIZON)
            truth = measure(genre, clip, clip.frames[:, CONTEXT - 1 :])
            if truth < 1.0:
                raise RuntimeError(
                    f"m9's {genre} decoders fail on the game's own clips: "
                    f"{spec.MEASURES[genre]} = {truth:.3f}"
                )
            spec_gen = generate(loaded[genre][0], clip, dev)
            gen_gen = generate(loaded["general"][0], clip, dev)
            rows[genre] = {
                "truth": truth,
                "copy_last": measure(genre, clip, copy_last(clip)),
                "specialised": measure(genre, clip, spec_gen),
                "general": measure(genre, clip, gen_gen),
            }
            firsts[genre] = [clip.frames[:2, CONTEXT - 1 :], spec_gen[:2], gen_gen[:2]]
            advance(1)
    beats = True
    for genre, r in rows.items():
        m = spec.MEASURES[genre]
        for who in ("copy_last", "general"):
            ctx.metric(f"{who}_{m}", r[who])
        err_s, err_g = 1 - r["specialised"], 1 - r["general"]
        gain = 1 - err_s / err_g if err_g > 0 else (0.0 if err_s == 0 else float("-inf"))
        ctx.metric(f"{genre}_error", err_s)
        ctx.metric(f"general_{genre}_error", err_g)
        ctx.check(m, r["specialised"])
        ctx.check(f"gain_{genre}", gain)
        if err_g == 0:
            ctx.say(
                f"m9: the general model is as good as the specialised one on {genre} (no error)"
            )
        beats &= r["specialised"] >= r["copy_last"] + spec.MARGIN
    ctx.check("beats_copy_last", float(beats))
    ctx.check("same_budget", float(_same_budget(ctx, {k: v[1] for k, v in loaded.items()})))
    ctx.metric("starts_per_genre", spec.STARTS)
    ctx.metric("horizon", spec.HORIZON)
    ctx.metric("peak_memory_gb", peak_memory_gb(dev), "GB")
    draw(ctx, firsts, rows)
    ctx.bundle_file("inputs.json", orjson.dumps({"models": {k: v[1] for k, v in loaded.items()},
                    "table": rows}))  # fmt: skip


def _same_budget(ctx: Any, about: dict[str, dict[str, Any]]) -> bool:
    """The general model has each specialised one's parameter count, optimizer steps and batch."""
    g = about["general"]
    ok = True
    for genre in spec.GENRES:
        s = about[genre]
        for key, a, b in (
            ("params", s["params"], g["params"]),
            ("steps", s["training"].get("steps"), g["training"].get("steps")),
            ("batch", s["training"].get("batch"), g["training"].get("batch")),
        ):
            if a != b:
                ctx.say(f"m9: the general model's {key} {b} differs from the {genre} model's {a}")
                ok = False
    return ok
