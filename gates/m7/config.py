"""Gate m7's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig


class M7Config(ModelGateConfig):
    device_threads: int = 0  # torch CPU threads (0 = min(2, cores))
