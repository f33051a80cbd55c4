"""Data-parallel training for the shared Trainer: `--nproc N` runs N processes through
torch.distributed with gloo, on the CPU (CUDA is refused: a forked worker cannot use the parent's CUDA
context; spawning per-GPU processes is not built).

How: the Trainer's process is rank 0; it forks N-1 workers right before the loop, so each starts with
the same model, optimizer, data and sampler RNG state. Every rank draws the same global batch from the
shared sampler stream and keeps its share (`Trainer.part`: rows rank, rank+N, ...), computes the loss of
its share, and the gradients are averaged over the ranks before every optimizer step: the update is that
of one process on the whole global batch (up to float summation order; a loss that draws its own noise
per row draws it per share). Only rank 0 reports, logs and writes checkpoints and the candidate.

Several machines: set GATE_NNODES (machines), GATE_NODE_RANK (0 on the machine that writes the model)
and GATE_MASTER=HOST:PORT (reachable from all, the same on every machine) and run the same train
command with the same --nproc on each; global rank = node rank x nproc + local rank (docs/TRAINING.md).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

TIMEOUT_S = 300  # a rank that stops answering ends the job instead of hanging it


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local: int = 0  # rank among this machine's processes


def plan(nproc: int, device: Any = None) -> tuple[World, str, int]:
    """-> (this process's World as local rank 0, init address, machines) from --nproc and the env."""
    from shell.errors import BadInput

    if getattr(device, "type", str(device)) == "cuda":
        raise BadInput(
            "--nproc with --device cuda: the workers are forked, and CUDA does not survive a fork; "
            "train data-parallel on the CPU (gloo), or one process per GPU machine"
        )

    nodes = int(os.environ.get("GATE_NNODES", "1") or 1)
    node = int(os.environ.get("GATE_NODE_RANK", "0") or 0)
    if nodes < 1 or not 0 <= node < nodes:
        raise BadInput(f"GATE_NNODES {nodes} / GATE_NODE_RANK {node}: need 0 <= rank < nodes")
    master = os.environ.get("GATE_MASTER", "")
    if nodes > 1 and not master:
        raise BadInput("GATE_MASTER: set it to HOST:PORT of node 0 when GATE_NNODES > 1")
    if not master:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            master = f"127.0.0.1:{s.getsockname()[1]}"
    return World(node * nproc, nodes * nproc, 0), f"tcp://{master}", nodes


def join(world: World, address: str, device: Any) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=address, rank=world.rank,
                            world_size=world.size, timeout=timedelta(seconds=TIMEOUT_S))  # fmt: skip


def start_workers(nproc: int, world: World, address: str, body: Any) -> list[int]:
    """Fork nproc-1 workers; each joins the group and runs body(World) then exits. -> their pids."""
    pids = []
    for local in range(1, nproc):
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 0
            try:
                import torch

                torch.set_num_threads(1)
                body(World(world.rank + local, world.size, local))
            except BaseException:  # noqa: BLE001 - reported by the parent's timeout/exit status
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        pids.append(pid)
    return pids


def reap(pids: list[int]) -> None:
    """Wait for the workers; RuntimeError when one failed."""
    bad = []
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            bad.append(pid)
    if bad:
        raise RuntimeError(
            f"--nproc: worker process(es) {bad} failed (their traceback is on stderr)"
        )


def average_gradients(model: Any, size: int) -> None:
    import torch.distributed as dist

    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(size)


def average(value: Any, size: int) -> Any:
    import torch.distributed as dist

    v = value.detach().clone()
    dist.all_reduce(v, op=dist.ReduceOp.SUM)
    return v / size


def leave() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
