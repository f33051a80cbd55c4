"""Gate m8's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from gates.common.config import ModelGateConfig
from gates.m8 import spec


class M8Config(ModelGateConfig):
    frames: int = spec.FRAMES  # timed frames per row of the tiers table
    warmup: int = spec.WARMUP  # frames played before each row's timing
    setup: bool = True  # time a fresh clone's install and first frame (false: left unmeasured)
