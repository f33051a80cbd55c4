"""Dynamic batching: many sessions' steps become one forward pass.

The first waiting step opens a batch; more join until `max_batch` are waiting, every live session of
the model has joined, or `max_wait_ms` has passed since it opened, then the batch runs on the model's own thread while the next one gathers.
With batching off every step is a forward pass of its own (what the bench compares against).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    batch_sizes: Counter = field(default_factory=Counter)
    frames: int = 0
    forward_ms: list[float] = field(default_factory=list)  # per batch, the model's own time
    step_ms: list[float] = field(default_factory=list)  # per step, queued + forward (server side)

    def doc(self) -> dict[str, Any]:
        import statistics

        def q(xs: list[float], p: float) -> float | None:
            return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] if xs else None

        n = sum(self.batch_sizes.values())
        return {
            "frames": self.frames,
            "batches": n,
            "mean_batch": self.frames / n if n else None,
            "batch_sizes": {str(k): v for k, v in sorted(self.batch_sizes.items())},
            "forward_ms_mean": statistics.fmean(self.forward_ms) if self.forward_ms else None,
            "step_ms_p50": q(self.step_ms, 0.5),
            "step_ms_p95": q(self.step_ms, 0.95),
            "step_ms_p99": q(self.step_ms, 0.99),
        }


class Batcher:
    """One per loaded model. submit(context [K,3,H,W], action, noise [Z]) -> frame [3,H,W]."""

    def __init__(self, model: Any, max_batch: int = 32, max_wait_ms: float = 5.0,
                 enabled: bool = True, threads: int = 1,
                 expected: Callable[[], int] | None = None) -> None:  # fmt: skip
        self.model, self.enabled = model, enabled
        self.expected = expected  # how many sessions could join: no wait once all have
        self.max_batch = max_batch if enabled else 1
        self.max_wait = max_wait_ms / 1000.0
        self.stats = Stats()
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="model", initializer=_threads,
                                        initargs=(threads,))  # fmt: skip

    async def submit(self, context: Any, action: int, noise: Any) -> Any:
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._loop())
        fut = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await self._queue.put((context, action, noise, fut))
        out = await fut
        self.stats.step_ms.append((time.perf_counter() - t0) * 1000.0)
        if len(self.stats.step_ms) > 200_000:
            del self.stats.step_ms[:100_000]
        return out

    async def _loop(self) -> None:
        q = self._queue
        assert q is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await q.get()]
            deadline = loop.time() + self.max_wait
            cap = self.max_batch
            if self.expected is not None:  # one player alone never waits for company
                cap = max(1, min(cap, self.expected()))
            while len(batch) < cap:
                left = deadline - loop.time()
                try:
                    batch.append(
                        q.get_nowait() if left <= 0 else await asyncio.wait_for(q.get(), left)
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
            try:
                frames, ms = await loop.run_in_executor(self._pool, self._forward, batch)
            except Exception as e:  # the model failed: every waiting step gets the error
                for *_, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            self.stats.batch_sizes[len(batch)] += 1
            self.stats.frames += len(batch)
            self.stats.forward_ms.append(ms)
            for (*_, fut), frame in zip(batch, frames, strict=True):
                if not fut.done():
                    fut.set_result(frame)

    def _forward(self, batch: list) -> tuple[Any, float]:
        import torch

        t0 = time.perf_counter()
        ctx = torch.stack([b[0] for b in batch])
        act = torch.tensor([b[1] for b in batch], dtype=torch.int64)
        noise = torch.stack([b[2] for b in batch])
        out = self.model.predict(ctx, act, noise)
        return list(out.unbind(0)), (time.perf_counter() - t0) * 1000.0

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _threads(n: int) -> None:
    import torch

    torch.set_num_threads(max(1, n))
