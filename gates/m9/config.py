"""Gate m9's configuration model; imported only when a run needs it (pydantic is slow to import)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gates.common.evaldata import EVAL_SEED


class M9Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    general_model: str = ""  # NAME_OR_PATH of the model trained on all three games; "" = golden
    platformer_model: str = ""  # "" = the golden cellcopy-platformer, and so on
    puzzle_model: str = ""
    rpg_model: str = ""
    eval_seed: int = EVAL_SEED  # levels no training run has seen
    device_threads: int = 0  # torch CPU threads (0 = min(2, cores))
