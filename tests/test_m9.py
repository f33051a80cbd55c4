"""Gate m9 end to end on tiny models: the train verb for one game and for all three, refusals, and the
gate's negative controls (untrained models fail every genre measure and copy-last; a general model
trained for other steps fails same_budget)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from gates.m9 import spec
from tests.conftest import gate_cli

TINY = ["--episodes", "2", "--episode-steps", "8", "--batch", "2", "--threads", "1"]


def _train(game: str, steps: int) -> Path:
    r = CliRunner().invoke(
        gate_cli(), ["m9", "train", "--game", game, "--steps", str(steps), *TINY, "--json"]
    )
    assert r.exit_code == 0, r.output
    return Path(orjson.loads(r.stdout)["artifacts"][0])


def test_train_refuses_an_unknown_game(project: Path) -> None:
    r = CliRunner().invoke(gate_cli(), ["m9", "train", "--game", "chess", "--steps", "1"])
    assert r.exit_code == 2 and "--game chess" in r.output


def test_the_gate_needs_its_goldens(project: Path) -> None:
    r = CliRunner().invoke(gate_cli(), ["m9"])
    assert r.exit_code == 3 and "gate m9 train" in r.output


def test_untrained_models_fail_and_an_unequal_budget_is_caught(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec, "STARTS", 4)  # the gate's 48 x 16 take a minute; 4 x 4 show the same
    monkeypatch.setattr(spec, "HORIZON", 4)
    general = _train("all", 2)
    meta = orjson.loads((general / "meta.json").read_bytes())
    assert meta["model"]["game"] == "all" and meta["training"]["steps"] == 2
    sets = ["-s", f"general_model={general}", "-s", "device_threads=1"]
    for genre in spec.GENRES:
        sets += ["-s", f"{genre}_model={_train(genre, 1)}"]
    r = CliRunner().invoke(gate_cli(), ["m9", *sets, "--json"])
    assert r.exit_code == 1, r.output
    out = orjson.loads(r.stdout)
    failed = {c["name"] for c in out["criteria"] if not c["passed"]}
    assert {"physics_accuracy", "logic_consistency", "state_management", "beats_copy_last",
            "same_budget"} <= failed  # fmt: skip
    m = {x["name"]: x["value"] for x in out["metrics"]}
    assert m["copy_last_logic_consistency"] < spec.LOGIC  # copy-last fails each genre too
    assert m["copy_last_physics_accuracy"] < spec.PHYSICS
    assert m["copy_last_state_management"] < spec.STATE
