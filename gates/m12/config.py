"""Gate m12's configuration: the new game's data and the fixed training budgets (pydantic, loaded
only when a run needs it)."""

from __future__ import annotations

from typing import Any


def config(**values: Any) -> Any:
    from pydantic import BaseModel, ConfigDict, Field

    class M12Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        rom: str = (
            "roms/worldgate.gb"  # the new game: the project's own ROM (no shipped model saw it)
        )
        episodes: int = Field(10, ge=2, le=256)  # pyboy episodes collected (a fifth held out)
        episode_steps: int = Field(40, ge=8, le=2000)
        data_seed: int = 7
        ae_steps: int = Field(150, ge=0, le=100_000)  # the same budget for fine-tune and scratch
        # (learning rates: the train verbs own, gates/m12/run.py AE_LR and PRED_LR)
        ae_batch: int = Field(8, ge=1, le=512)
        pred_steps: int = Field(200, ge=0, le=100_000)
        pred_batch: int = Field(4, ge=1, le=64)
        guide: str = "docs/TRAINING.md"
        guide_budget_s: float = Field(150, gt=0, le=3600)  # the guide's commands, all together
        threads: int = Field(1, ge=1, le=64)
        ale_game: str = (
            ""  # e.g. pong: the same comparison on an ALE game (extra `ale`), reported only
        )

    return M12Config(**values)
