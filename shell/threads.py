"""Torch's CPU threads, set the same way by every command that computes (light: torch is imported only
when called)."""

from __future__ import annotations

import os


def set_threads(n: int) -> int:
    """n torch CPU threads; 0 means min(2, cores): the spec's 2-core machine. -> the count set."""
    import torch

    n = n if n > 0 else max(1, min(2, os.cpu_count() or 1))
    torch.set_num_threads(n)
    return n
