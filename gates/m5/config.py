"""Gate m5's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig


class M5Config(ModelGateConfig):
    warm: int = 40  # frames of the mixed policy before a state: away from the spawn point
    candidates: int = 256  # states tried; ~30% kept: on the ground, no episode end under any action
    device_threads: int = 0  # torch CPU threads (0 = min(2, cores))
