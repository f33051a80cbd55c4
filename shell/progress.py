"""Progress of long work (training, collection, replays): a rich bar on a terminal; with output
redirected, a line on stderr every PROGRESS_EVERY seconds and a `progress` event in the run's receipt,
so a log (and the receipt) shows the run is alive."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


@contextlib.contextmanager
def progress(receipt: Any, total: int, description: str) -> Iterator[Any]:
    """Yields advance(n=1)."""
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)
        return
    done, t0 = 0, time.monotonic()
    last = t0

    def advance(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or (done >= total > 0 and last > t0):
            last = now
            print(f"gate: {description}: {done}/{total} ({now - t0:.0f} s)", file=sys.stderr,
                  flush=True)  # fmt: skip
            receipt.emit("progress", what=description, done=done, total=total,
                         elapsed_s=round(now - t0, 2))  # fmt: skip

    yield advance
