"""gate m12: fine-tune from the zoo vs the shipped models vs from scratch on a game none of them saw (the
project's ROM through pyboy), the training guide run in a clean project, the guide present."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from gates.common.finetune import FinetuneArgs
from gates.m12 import MARGIN_DB, MSE_RATIO

AE_LR, PRED_LR = 2e-3, 1e-3  # the train verbs' own learning rates (gate m1 train, gate m2 train)


def evaluate(ctx: Any) -> None:
    from gates.common.evaldata import set_threads
    from shell import paths
    from shell.datasets import collect
    from shell.store import sha256_bytes

    cfg = ctx.config
    set_threads(cfg.threads)
    root = paths.root()
    rom = Path(cfg.rom) if Path(cfg.rom).is_absolute() else root / cfg.rom
    with ctx.progress(cfg.episode_steps, "m12: collecting the new game") as advance:
        ds = collect("pyboy", cfg.episodes, cfg.episode_steps, "scripted", cfg.data_seed,
                     progress=advance, rom=str(rom), rgb=True)  # fmt: skip
    ds.meta["game"] = rom.stem
    ctx.say(f"m12: {cfg.episodes} episodes x {cfg.episode_steps} steps of {rom.name} (frames sha256 "
            f"{sha256_bytes(ds.truth['rgb'].tobytes())[:16]}); held-out episodes "
            f"{ds.split['heldout']}")  # fmt: skip
    t0 = time.perf_counter()
    out = _compare(ctx, cfg, ds, rom.stem, f"{rom.name}, seed {cfg.data_seed}", "")
    ctx.metric("training_seconds", time.perf_counter() - t0, "s")

    psnr = {k: v["heldout"]["psnr"] for k, v in out.items() if k.endswith("_ae")}
    mse = {k: v["heldout"]["mse"] for k, v in out.items() if k.endswith("_pred")}
    ctx.metric("copy_last_mse", out["ft_pred"]["heldout"]["baseline_mse"])
    ctx.check("m1_gain_vs_shipped_db", psnr["ft_ae"] - psnr["shipped_ae"])
    ctx.check("m1_gain_vs_scratch_db", psnr["ft_ae"] - psnr["scratch_ae"])
    ctx.check("m2_ratio_vs_shipped", mse["ft_pred"] / max(mse["shipped_pred"], 1e-12))
    ctx.check("m2_ratio_vs_scratch", mse["ft_pred"] / max(mse["scratch_pred"], 1e-12))
    _pictures(ctx, out, ds)
    if cfg.ale_game:
        _ale(ctx, cfg)
    guide = root / cfg.guide
    ctx.check("documentation", _documentation(guide, root / "README.md", cfg.guide))
    ctx.check("reproducibility", _reproduce(ctx, guide, cfg.guide_budget_s))
    ctx.say(f"m12: margins: PSNR +{MARGIN_DB} dB over shipped and scratch; MSE < {MSE_RATIO}x both")


def _compare(ctx: Any, cfg: Any, ds: Any, game: str, about: str, pre: str) -> dict[str, Any]:
    """Shipped (0 steps), fine-tuned and from-scratch autoencoder and predictor, the same budget."""
    from gates.m12.tune import tune

    common = {"data": f"(collected by the run: {about})", "threads": cfg.threads, "seed": 0,
              "log_every": 5, "checkpoint_every": 10**6}  # fmt: skip
    ae = FinetuneArgs("autoencoder", steps=cfg.ae_steps, batch=cfg.ae_batch, lr=AE_LR, **common)
    pr = FinetuneArgs("predictor", steps=cfg.pred_steps, batch=cfg.pred_batch, lr=PRED_LR, **common)
    out: dict[str, dict[str, Any]] = {}
    for tag, args, arch in (("ae", ae, "patch_autoencoder"), ("pred", pr, "frame_predictor")):
        kind = args.source
        out[f"shipped_{tag}"] = tune(ctx, replace(args, steps=0), f"{pre}shipped-{kind}",
                                     write=False, ds=ds, prefix=f"{pre}shipped_{tag}_")  # fmt: skip
        out[f"ft_{tag}"] = tune(ctx, args, f"{kind}-{game}", ds=ds, prefix=f"{pre}ft_{tag}_")
        out[f"scratch_{tag}"] = tune(ctx, replace(args, source="", arch=arch, scratch=True),
                                     f"{pre}scratch-{kind}", write=False, ds=ds,
                                     prefix=f"{pre}scratch_{tag}_")  # fmt: skip
    return out


def _ale(ctx: Any, cfg: Any) -> None:
    """The same comparison on an ALE game where the extra is installed: reported, not judged."""
    from shell.datasets import collect
    from shell.registry import get_backend

    why = get_backend("ale").available()
    if why is not None:
        ctx.say(f"m12: ale_game {cfg.ale_game}: not run here ({why})")
        return
    with ctx.progress(cfg.episode_steps, f"m12: collecting ALE {cfg.ale_game}") as advance:
        ds = collect("ale", cfg.episodes, cfg.episode_steps, "scripted", cfg.data_seed,
                     progress=advance, game=cfg.ale_game)  # fmt: skip
    out = _compare(ctx, cfg, ds, f"ale-{cfg.ale_game}", f"ALE {cfg.ale_game}", "ale_")
    for tag, key in (("ae", "psnr"), ("pred", "mse")):
        figs = ", ".join(f"{w} {out[f'{w}_{tag}']['heldout'][key]:.4g}"
                         for w in ("shipped", "ft", "scratch"))  # fmt: skip
        ctx.say(f"m12: ALE {cfg.ale_game} {key} (held-out, not judged): {figs}")


def _documentation(guide: Path, readme: Path, rel: str) -> float:
    """The guide exists, covers data -> fine-tune -> approval -> zoo, and the README links it."""
    from shell.guide import commands

    if not guide.is_file():
        return 0.0
    verbs = {tuple(c.argv[:2]) for c in commands(guide.read_text())}
    need = {("data", "collect"), ("data", "import"), ("m12", "finetune"), ("approve", "m12"),
            ("zoo", "add")}  # fmt: skip
    linked = readme.is_file() and rel in readme.read_text()
    return float(need <= verbs and linked)


def _reproduce(ctx: Any, guide: Path, budget: float) -> float:
    """The guide's commands in a clean temporary project, in a process of its own (shell/guide.py)."""
    import orjson

    if not guide.is_file():
        return 0.0
    with tempfile.TemporaryDirectory(prefix="m12-guide-") as tmp:
        cmd = [sys.executable, "-m", "shell.guide", str(guide), "--root", f"{tmp}/project",
               "--budget", str(budget)]  # fmt: skip
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=budget + 60, text=True)
        except subprocess.TimeoutExpired:
            ctx.say(f"m12: the guide did not finish in {budget + 60:.0f} s")
            return 0.0
        ctx.metric("guide_seconds", time.perf_counter() - t0, "s")
        try:
            doc = orjson.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, orjson.JSONDecodeError):
            ctx.say(f"m12: the guide runner failed: {p.stderr[-400:]}")
            return 0.0
        res = doc["results"]
        ctx.metric("guide_commands", len(res))
        for r in res:
            if r["code"] != 0:
                ctx.say(f"m12: guide line {r['line']}: `{r['text']}` exit {r['code']}: {r['tail']}")
        made = list(Path(tmp, "project", "artifacts", "m12").glob("*/model.safetensors"))
        return float(doc["ok"] and bool(made))


def _pictures(ctx: Any, out: dict[str, dict[str, Any]], ds: Any) -> None:
    import torch

    from core.metrics import to_frames, to_unit
    from core.models.builtin import PixelWorldModel
    from shell import pictures

    for tag, what in (
        ("ae", "autoencoder (reconstruction loss)"),
        ("pred", "predictor (best-of-K)"),
    ):
        series = {
            k.split("_")[0]: [r["loss"] for r in out[k]["log"]]
            for k in (f"ft_{tag}", f"scratch_{tag}")
        }
        steps = [r["step"] for r in out[f"ft_{tag}"]["log"]]
        ctx.picture(f"m12_learning_{tag}.png", pictures.line_plot(
            {"fine-tuned from the zoo": series["ft"], "from scratch": series["scratch"]},
            f"m12: {what} on the new game, same budget", x=steps, xlabel="optimizer step",
            ylabel="training loss", logy=True))  # fmt: skip
    e = ds.split["heldout"][0]
    f = torch.from_numpy(ds.truth["rgb"][e])  # uint8 [T+1, H, W, 3]
    rows, labels = [], []
    gen = torch.Generator().manual_seed(0)
    last = f.shape[0] - 2  # t + 1 is the frame predicted
    for t in sorted({2 + (last - 2) * i // 2 for i in range(3)}):
        c = to_unit(f[t - 2 : t + 1])[None]  # [1, 3, 3, H, W]
        a = torch.from_numpy(ds.actions[e, t : t + 1])
        z = torch.randn(1, out["ft_pred"]["model"].cfg.noise_dim, generator=gen)
        row = [f[t + 1].numpy()]
        with torch.no_grad():
            for k in ("shipped_pred", "ft_pred", "scratch_pred"):
                y = PixelWorldModel(out[k]["model"]).predict(c, a, z).clamp(0, 1)
                row.append(to_frames(y)[0].numpy())
        rows.append(row)
        labels.append(f"step {t + 1}, action {ds.meta['action_names'][int(a)]}")
    ctx.picture("m12_predictions.png", pictures.labelled_grid(
        rows, "m12: the new game's next frame (held-out episode)", labels,
        ["truth", "shipped predictor", "fine-tuned", "from scratch"]))  # fmt: skip
