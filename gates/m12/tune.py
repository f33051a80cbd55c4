"""The body of `gate m12 finetune` (and of gate m12's fine-tune and from-scratch runs): a dataset's
train episodes through the shared Trainer loop, then m1's or m2's measures on its held-out episodes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from gates.common.finetune import ARCHES, FinetuneArgs


def tune(ctx: Any, args: FinetuneArgs, name: str = "", write: bool = True, ds: Any = None,
         prefix: str = "") -> dict[str, Any]:  # fmt: skip
    """Train (fine-tune or from scratch) and judge; -> {"arch", "name", "log", "heldout", "seconds"}.
    write: the weights become the run's candidate artifact `name` (approvable)."""
    import torch

    from core.metrics import palette_of, to_unit
    from core.models.autoencoder import AEConfig, recon_loss
    from core.models.bestofk import best_of_k_loss
    from core.models.builtin import PatchCodec, PixelWorldModel
    from core.models.predictor import PredictorConfig
    from gates.common import heldout
    from gates.common.evaldata import pad_to, set_threads
    from gates.common.finetune import build, rgb_frames
    from gates.common.training import RESUME, Trainer, check_counts, resume
    from shell.datasets import load_dataset
    from shell.errors import BadInput
    from shell.store import sha256_bytes

    check_counts(args, ("steps", "batch", "crop", "k", "checkpoint_every", "log_every", "nproc"))
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    ds = ds if ds is not None else load_dataset(Path(args.data))
    frames = rgb_frames(ds, args.data)  # uint8 [E, T+1, H, W, 3]
    n_actions = max(len(ds.meta.get("action_names", [])), int(ds.actions.max()) + 1)
    arch, model, _, src = build(args, n_actions, args.data)
    kind = ARCHES[arch][1]
    rom = str(ds.meta.get("backend_options", {}).get("rom", ""))
    rom = rom or ("roms/worldgate.gb" if ds.meta.get("backend") == "pyboy" else "")
    game = str(ds.meta.get("game", "") or Path(rom).stem or ds.meta.get("backend", "") or "data")
    name = name or f"{kind}-{game}"
    data = {"frames": sha256_bytes(frames.tobytes()), "actions": sha256_bytes(ds.actions.tobytes())}
    cls = AEConfig if arch == "patch_autoencoder" else PredictorConfig
    res_name = f"{RESUME}-{name}"
    resumed = resume(ctx, "m12 finetune", args.resume, (res_name, name), arch, data, cls.from_dict)
    if resumed is not None:  # the checkpoint's weights (and config) replace the starting ones
        model = type(model)(resumed.config)
    dev = ctx.device
    model = model.to(dev)
    train_eps, held_eps = ds.split["train"], ds.split["heldout"]
    if not train_eps or not held_eps:
        raise BadInput(f"{args.data}/split.json: needs train and held-out episodes")
    h, w = frames.shape[2:4]
    meta = {"arch": arch, "config": model.cfg.to_dict(), "frame_shape": [int(h), int(w), 3],
            "game": game, "backend": str(ds.meta.get("backend", "")),
            "action_names": list(ds.meta.get("action_names", []))}  # fmt: skip
    tf = torch.from_numpy(frames[train_eps])  # uint8 [E', T+1, H, W, 3]
    if arch == "patch_autoencoder":
        meta["latent_dtype"] = "float16"
        m = model.cfg.patch
        flat = pad_frames(tf.flatten(0, 1), m)  # uint8 [N, H', W', 3]
        crop = min(args.crop, flat.shape[1] - flat.shape[1] % m, flat.shape[2] - flat.shape[2] % m)
        gh, gw = (flat.shape[1] - crop) // m + 1, (flat.shape[2] - crop) // m + 1

        def loss_at(gen: torch.Generator) -> torch.Tensor:
            idx = torch.randint(0, flat.shape[0], (args.batch,), generator=gen)
            oy = torch.randint(0, gh, (args.batch,), generator=gen) * m
            ox = torch.randint(0, gw, (args.batch,), generator=gen) * m
            rows = trainer.part(list(zip(idx.tolist(), oy.tolist(), ox.tolist(), strict=True)))
            x = torch.stack([flat[i, y : y + crop, x : x + crop] for i, y, x in rows])
            x = to_unit(x.to(dev))  # [b, 3, crop, crop]
            return recon_loss(model(x), x)
    else:
        meta["palette"] = palette_of(tf).tolist()
        ws = heldout.windows(ds.truth["done"][train_eps], list(range(len(train_eps))), 1)
        acts = torch.from_numpy(ds.actions[train_eps])
        if not ws:
            raise BadInput(f"{args.data}: no 4-frame window inside one train episode")

        def loss_at(gen: torch.Generator) -> torch.Tensor:
            pick = trainer.part(torch.randint(0, len(ws), (args.batch,), generator=gen).tolist())
            b = [ws[i] for i in pick]
            c = torch.stack([to_unit(tf[e, t - 2 : t + 1]) for e, t in b])  # [b, 3, 3, H, W]
            c = pad_to(c, model.cfg.multiple).to(dev)
            y = pad_to(to_unit(torch.stack([tf[e, t + 1] for e, t in b])), model.cfg.multiple)
            a = torch.stack([acts[e, t] for e, t in b]).to(dev)
            return best_of_k_loss(model, c, a, y.to(dev), args.k, gen)

    trainer = Trainer(
        ctx, "m12", model, asdict(args), model_meta=meta,
        inputs={**data, **({"from": sha256_bytes((src / "meta.json").read_bytes())} if src else {})},
        lr=args.lr, steps=args.steps, seed=args.seed, resumed=resumed, log_every=args.log_every,
        checkpoint_every=args.checkpoint_every, resume_name=res_name, prefix=prefix,
        nproc=args.nproc, resumable=write,
        describe=lambda: {"data": data, "from": args.source or "scratch", "batch": args.batch,
                          "device": str(dev), "dataset": args.data},
    )  # fmt: skip
    label = f"m12 {'scratch' if args.scratch else 'finetune'} {kind}"
    seconds = trainer.fit(loss_at, label)
    frames_held = frames  # heldout indexes the full arrays
    if arch == "patch_autoencoder":
        judged = heldout.m1_measures(PatchCodec(model.cpu()), frames_held, held_eps)
    else:
        judged = heldout.m2_measures(PixelWorldModel(model.cpu()), frames_held, ds.actions,
                                     ds.truth["done"], held_eps, seed=args.seed)  # fmt: skip
    for k, v in judged.items():
        ctx.metric(f"{prefix}heldout_{k}", v)
    if write:
        extra = {f"heldout_{k}": round(v, 6) for k, v in judged.items()}
        trainer.finish(name, extra, f"{prefix}m12_{kind}_loss.png", f"{label}: training loss")
    return {"arch": arch, "name": name, "log": trainer.log, "heldout": judged, "seconds": seconds,
            "model": model}  # fmt: skip


def pad_frames(x: Any, m: int) -> Any:
    """uint8 [N, H, W, 3] edge-padded to multiples of m."""
    import torch.nn.functional as F

    ph, pw = (-x.shape[1]) % m, (-x.shape[2]) % m
    if not (ph or pw):
        return x
    y = F.pad(x.permute(0, 3, 1, 2).float(), (0, pw, 0, ph), mode="replicate")
    return y.round().to(x.dtype).permute(0, 2, 3, 1).contiguous()
