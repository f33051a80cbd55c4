"""What every model gate's configuration has (m1, m2): the model to judge and the held-out data.

pydantic: imported only when a run builds its configuration (the gate declarations stay light).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gates.common.evaldata import EVAL_SEED


class ModelGateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = ""  # --model NAME_OR_PATH; "" = the gate's golden for the game
    game: str = "platformer"  # the built-in game; "pong" with --backend ale
    arch: dict | None = None  # when set, the checkpoint's architecture config must equal it
    eval_seed: int = EVAL_SEED  # levels and episodes no training run has seen
