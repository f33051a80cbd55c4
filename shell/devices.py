"""The run's torch device from --device: auto, cpu, cuda or cuda:N (exit 3 when the machine lacks it)."""

from __future__ import annotations

from typing import Any

from shell.errors import BadInput


def resolve_device(name: str) -> Any:
    import re

    import torch

    from shell.errors import Unavailable

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    m = re.fullmatch(r"cuda(?::(\d{1,4}))?", name)
    if name != "cpu" and m is None:
        raise BadInput(f"--device {name!r}: expected auto, cpu, cuda or cuda:N")
    if m is not None:
        if not torch.cuda.is_available():
            raise Unavailable(f"--device {name}: CUDA is not available on this machine")
        if m.group(1) is not None and int(m.group(1)) >= torch.cuda.device_count():
            raise Unavailable(
                f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return torch.device(name)
