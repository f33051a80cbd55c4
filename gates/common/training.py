"""The one training loop every train verb calls: seeded, resumable, with a progress bar and safetensors
checkpoints written as hashed artifacts (gates/common/checkpoints.py).

A train verb builds its model, data and loss; `Trainer` owns the optimizer, the sampler RNG, the
learning-rate schedule, the loss log, periodic resumable checkpoints and the final weights-only
candidate. Nothing here knows an architecture. Light at import (the train verbs import it when the command line
is built): the checkpoint store, which needs pydantic, is imported inside the functions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RESUME = "resume"  # the run's resumable checkpoint (not a candidate: approving copies weights only)


def lr_at(step: int, total: int, peak: float) -> float:
    """5% linear warm-up, then cosine to zero: a pure function of the step, so a resume continues it."""
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def check_counts(args: Any, names: tuple[str, ...]) -> None:
    """Each named field of a train verb's arguments is a count: >= 1 (steps may be 0)."""
    from shell.errors import BadInput

    for name in names:
        if getattr(args, name) < (0 if name == "steps" else 1):
            raise BadInput(f"--{name.replace('_', '-')} {getattr(args, name)}: too small")
    lr = float(getattr(args, "lr", 1.0))
    if not (math.isfinite(lr) and lr > 0):
        raise BadInput(f"--lr {lr}: must be a finite number > 0")
    if getattr(args, "nproc", 1) > 64:
        raise BadInput(f"--nproc {args.nproc}: at most 64 processes on one machine")
    if getattr(args, "batch", 0) > 4096 or args.steps > 10**8:  # a typo, not a workload
        raise BadInput(f"--batch {args.batch} / --steps {args.steps}: at most 4096 / 10**8")


def launch(gate: str, args: Any, body: Callable[[Any, Any], None], device: str, json: bool,
           log_jsonl: bool, verb: str = "train") -> None:  # fmt: skip
    """A train verb's run: a --game typo refused before anything starts, then `body(ctx, args)` as a
    run of its own (receipt, ledger row, the candidate it writes approvable) named `verb`."""
    from dataclasses import asdict

    from shell.commands.run_cmds import execute_verb
    from shell.context import RunOptions

    refuse_early(args.backend, args.game)
    opts = RunOptions(
        backend=args.backend, device=device, seed=args.seed, json=json, log_jsonl=log_jsonl
    )
    execute_verb(gate, verb, lambda ctx: body(ctx, args), asdict(args), opts)


def check_train_args(args: Any, counts: tuple[str, ...], eval_seed: int) -> None:
    """What every train verb refuses before work: the evaluation seed, counts below 1, a bad --lr, an
    absurd batch or step count, fewer than two episodes (one is held out)."""
    from gates.common.evaldata import check_train_seed
    from shell.errors import BadInput

    check_train_seed(args.seed, eval_seed)
    check_counts(args, counts)
    if args.episodes < 2:
        raise BadInput(f"--episodes {args.episodes}: needs 2 or more (one is held out)")


def refuse_early(backend: str, game: str) -> None:
    """A typo in --game is exit 2 before a run starts (with the nearest names), not after torch loads."""
    from shell.backends.games import check_game
    from shell.output import guard

    with guard():
        check_game(backend, game)


@dataclass
class Resumed:
    """Where a resumed run starts: its model config, steps done, seconds spent, log and tensors."""

    config: Any
    start: int = 0
    seconds: float = 0.0
    log: list[dict[str, Any]] = field(default_factory=list)
    tensors: dict[str, Any] | None = None
    path: Any = None
    target: int | None = None  # the --steps the checkpointed run was scheduled for


def resume(
    ctx: Any, tag: str, ref: str, names: tuple[str, ...], arch: str, data: dict, from_dict: Any
) -> Resumed | None:
    """--resume REF (a checkpoint folder or run id) -> where to continue, or None when REF is empty."""
    from shell import checkpoints

    if not ref:
        return None
    cfg, start, seconds, log, found = checkpoints.resume_from(ref, names, arch, data, from_dict)
    ctx.say(f"{tag}: resuming {found['path']} at step {start}")
    return Resumed(cfg, start, seconds, log, found["tensors"], found["path"], found.get("target"))


@dataclass
class Trainer:
    """AdamW over `model` with the cosine schedule, a seeded sampler RNG and resumable checkpoints.

    gate: the gate id the checkpoints belong to; params: the verb's arguments (recorded in the
    metadata); model_meta: arch, config and what the loader checks; inputs: hashes of the data.
    """

    ctx: Any
    gate: str
    model: Any
    params: dict[str, Any]
    model_meta: dict[str, Any]
    inputs: dict[str, str]
    lr: float
    steps: int
    seed: int
    resumed: Resumed | None = None
    log_every: int = 25  # steps between loss records: a readable curve at a negligible cost
    checkpoint_every: int = 100  # steps between resumable checkpoints of a running job
    describe: Callable[[], dict[str, Any]] = dict  # the verb's own fields of the training record
    resume_name: str = RESUME  # the run's sub-folder of resumable checkpoints (one per Trainer)
    prefix: str = ""  # before the names of the metrics and pictures finish() reports
    nproc: int = 1  # data-parallel processes on this machine (gates/common/parallel.py)
    resumable: bool = True  # False: no resume checkpoints (a baseline trained only to be measured)

    def __post_init__(self) -> None:
        import torch

        from gates.common.parallel import World
        from shell import checkpoints

        self.world = World()
        batch = self.params.get("batch")
        if self.nproc > 1 and isinstance(batch, int) and batch % self.nproc:
            from shell.errors import BadInput

            raise BadInput(f"--batch {batch}: must be a multiple of --nproc {self.nproc}")
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=0.0)
        self.gen = torch.Generator().manual_seed(self.seed)  # the data sampler's own stream
        r = self.resumed
        self.start, self.seconds, self.log = (r.start, r.seconds, r.log) if r else (0, 0.0, [])
        if r is not None and r.tensors is not None:
            checkpoints.restore(self.model, r.tensors, r.path)
            checkpoints.restore_optimizer(self.opt, r.tensors)
            if "rng.sampler" in r.tensors:
                self.gen.set_state(r.tensors["rng.sampler"])
        if r is not None and r.target and r.target != self.steps and r.start < self.steps:
            self.ctx.say(
                f"{self.gate} train: warning: the checkpoint was scheduled for {r.target} steps and "
                f"this run for {self.steps}: the cosine learning rate is recomputed over the new "
                f"total and rises again at step {r.start} (lr {lr_at(r.start, self.steps, self.lr):.2g})"
            )

    def part(self, rows: list[Any]) -> list[Any]:
        """This process's share of a global batch drawn from the shared sampler stream."""
        return rows[self.world.rank :: self.world.size] if self.world.size > 1 else rows

    @property
    def done(self) -> int:
        return max(self.start, self.steps)

    def record(self, step: int, secs: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "steps": step, "target_steps": self.steps, "seconds": round(secs, 2), "lr": self.lr,
            **self.describe(), **(extra or {}),
        }  # fmt: skip

    def checkpoint(self, step: int, secs: float) -> None:
        """Weights, optimizer state and sampler RNG in the run's resume/: what --resume continues."""
        from shell import checkpoints

        if self.world.rank != 0 or not self.resumable:
            return
        checkpoints.save_checkpoint(
            self.ctx.run_dir / self.resume_name, self.gate, self.ctx.run_id, self.params,
            checkpoints.pack(self.model, self.opt, self.gen), self.model_meta,
            self.record(step, secs), self.log, self.inputs,
        )  # fmt: skip

    def fit(self, loss_at: Callable[[Any], Any], label: str) -> float:
        """Run optimizer steps start..steps; loss_at(gen) draws a batch and returns its scalar loss.

        Returns the seconds spent in all runs of this training so far; the final state is checkpointed.
        """
        from gates.common import parallel

        t0 = time.perf_counter()
        self.model.train()
        pids: list[int] = []
        if self.nproc > 1:
            world, address, nodes = parallel.plan(self.nproc, self.ctx.device)
            self.ctx.say(f"{label}: {world.size} processes ({nodes} machine(s)), gloo")

            def worker(w: parallel.World) -> None:
                self.world = w
                parallel.join(w, address, self.ctx.device)
                self._loop(loss_at, t0, lambda n: None)
                parallel.leave()

            pids = parallel.start_workers(self.nproc, world, address, worker)
            self.world = world
            parallel.join(world, address, self.ctx.device)
        try:
            with self.ctx.progress(max(0, self.steps - self.start), label) as advance:
                self._loop(loss_at, t0, advance)
        finally:
            if pids:
                parallel.leave()
                parallel.reap(pids)
        self.seconds += time.perf_counter() - t0
        self.checkpoint(self.done, self.seconds)  # resumable to more steps later
        self.model.eval()
        return self.seconds

    def _loop(
        self, loss_at: Callable[[Any], Any], t0: float, advance: Callable[[int], None]
    ) -> None:
        from gates.common import parallel

        size = self.world.size
        for step in range(self.start, self.steps):
            lr = lr_at(step, self.steps, self.lr)
            for g in self.opt.param_groups:
                g["lr"] = lr
            loss = loss_at(self.gen)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if size > 1:
                parallel.average_gradients(self.model, size)
                loss = parallel.average(loss, size)
            self.opt.step()
            advance(1)
            n = step + 1
            if self.world.rank != 0:
                continue
            if n % self.log_every == 0 or n == self.steps:
                secs = round(self.seconds + time.perf_counter() - t0, 2)
                self.log.append({"step": n, "loss": loss.item(), "lr": lr, "seconds": secs})
                self.ctx.step(step=n, loss=loss.item(), lr=lr)
            if n % self.checkpoint_every == 0 and n < self.steps:
                self.checkpoint(n, self.seconds + time.perf_counter() - t0)

    def finish(self, name: str, extra: dict[str, Any], loss_picture: str, title: str) -> None:
        """The candidate artifact `name` (weights only), its metrics and the loss curve picture."""
        import orjson

        from shell import checkpoints, pictures

        pre = self.prefix
        self.ctx.metric(f"{pre}train_seconds", self.seconds, "s")
        self.ctx.metric(f"{pre}steps", self.done)
        if self.log:
            self.ctx.metric(f"{pre}final_loss", self.log[-1]["loss"])
            steps = [r["step"] for r in self.log]
            self.ctx.picture(
                loss_picture,
                pictures.line_plot(
                    {"loss": [r["loss"] for r in self.log]}, title, x=steps, xlabel="optimizer step",
                    ylabel="loss",
                ),
            )  # fmt: skip
        files = {
            checkpoints.WEIGHTS: checkpoints.pack(self.model),
            checkpoints.LOG: orjson.dumps(self.log),
        }
        self.ctx.write_artifact(
            name, files, self.inputs, checkpoints.PIPELINE_VERSION, checkpoints.ModelMeta,
            extra_meta={"model": self.model_meta, "training": self.record(self.done, self.seconds, extra)},
        )  # fmt: skip
