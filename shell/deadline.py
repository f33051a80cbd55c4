"""Ending a run that cannot end itself (an emulator stuck in compiled code past its wall-clock budget).

The stuck call never returns, so no exception can unwind it: expire() runs the registered hooks (the
runner's writes the receipt's error and verdict), prints one line naming the input, and ends the process
with exit 2 (os._exit: the stuck thread cannot be joined).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

_hooks: list[Callable[[str], None]] = []
_lock = threading.Lock()


def on_expire(hook: Callable[[str], None]) -> Callable[[], None]:
    """Run hook(message) if the process is ended by expire(); -> a function that removes it."""
    with _lock:
        _hooks.append(hook)

    def remove() -> None:
        with _lock:
            if hook in _hooks:
                _hooks.remove(hook)

    return remove


def expire(message: str, exit_code: int = 2) -> None:
    from shell.safety import printable

    with _lock:
        hooks = list(_hooks)
    for hook in hooks:
        with contextlib.suppress(Exception):  # ending the process matters more than any record
            hook(message)
    try:
        print(f"gate: error: {printable(message)}", file=sys.stderr, flush=True)
    finally:
        os._exit(exit_code)
