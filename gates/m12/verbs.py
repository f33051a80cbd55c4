"""`gate m12 finetune --from MODEL --data DATASET`: fine-tune a zoo entry or registered model on a
dataset (gate data collect / import) and judge it on the dataset's held-out episodes; the weights are
the run's candidate artifact (`gate approve m12 --run RUN_ID`, then `gate zoo add`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from gates.common.finetune import FinetuneArgs
from shell import options

D = FinetuneArgs("", "")


def add_verbs(app) -> None:
    @app.command("finetune")
    def finetune(
        source: Annotated[
            str, typer.Option("--from", help="Zoo entry, registered model, NAME:PATH or folder.")
        ],
        data: Annotated[
            str, typer.Option("--data", help="Dataset folder (gate data collect/import).")
        ],
        steps: options.Steps = D.steps,
        batch: Annotated[int, typer.Option(help="Crops or windows per optimizer step.")] = D.batch,
        lr: options.Lr = D.lr,
        seed: options.Seed = D.seed,
        device: options.Device = "cpu",
        threads: options.Threads = D.threads,
        resume: options.Resume = "",
        checkpoint_every: options.CheckpointEvery = D.checkpoint_every,
        name: Annotated[
            str, typer.Option("--name", help="Candidate name (default KIND-GAME).")
        ] = "",
        nproc: options.Nproc = 1,
        json: options.Json = False,
        log_jsonl: options.LogJsonl = False,
    ) -> None:
        """Fine-tune a model on a dataset, judged on its held-out episodes (candidate to approve)."""
        from shell.commands.run_cmds import execute_verb
        from shell.context import RunOptions

        args = FinetuneArgs(source, data, steps=steps, batch=batch, lr=lr, seed=seed,
                            threads=threads, resume=resume, checkpoint_every=checkpoint_every,
                            nproc=nproc)  # fmt: skip

        def body(ctx) -> None:
            from gates.m12.tune import tune

            out = tune(ctx, args, name=name)
            figs = ", ".join(f"{k} {v:.4g}" for k, v in out["heldout"].items())
            ctx.say(f"m12 finetune: {out['name']}: {args.steps} steps in {out['seconds']:.0f} s; "
                    f"held-out {figs}")  # fmt: skip

        opts = RunOptions(backend="pyboy", device=device, seed=seed, json=json, log_jsonl=log_jsonl)
        execute_verb("m12", "finetune", body, asdict(args), opts)
