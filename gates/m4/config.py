"""Gate m4's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig


class M4Config(ModelGateConfig):
    warm: int = 40  # frames of the mixed policy before a start: away from the spawn point
    candidates: int = (
        160  # starts tried (played unrendered under each RNG branch first): those whose
    )
    # branches move a visible enemy differently come first, episode ends are dropped
    device_threads: int = 0  # torch CPU threads (0 = min(2, cores))
