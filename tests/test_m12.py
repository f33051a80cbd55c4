"""gate m12 can fail, and says which criterion: a fine-tune of 0 steps gains nothing over the shipped
models, and a missing guide fails documentation and reproducibility (no guide run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
from click.testing import CliRunner

from gates.m12.run import _documentation
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]


def test_no_finetune_and_no_guide_fail_their_criteria(project: Path) -> None:
    for rel in ("artifacts/m1", "artifacts/m2"):
        shutil.copytree(REPO / rel, project / rel)
    (project / "roms").mkdir()
    shutil.copy(REPO / "roms/worldgate.gb", project / "roms/worldgate.gb")
    sets = ["episodes=3", "episode_steps=8", "ae_steps=0", "pred_steps=0", "guide=docs/NOPE.md"]
    args = ["m12", "--device", "cpu", *[x for s in sets for x in ("--set", s)]]
    r = CliRunner().invoke(gate_cli(), args)
    assert r.exit_code == 1, r.stderr
    run = next((project / ".gate/runs").iterdir())
    ev = [orjson.loads(x) for x in (run / "receipt.jsonl").read_bytes().splitlines()]
    crit = {e["name"]: e for e in ev if e["event"] == "criterion"}
    assert (
        crit["m1_gain_vs_shipped_db"]["value"] == 0.0
    )  # 0 steps: the shipped weights, judged twice
    assert crit["m2_ratio_vs_shipped"]["value"] == 1.0
    assert not crit["m1_gain_vs_shipped_db"]["passed"] and not crit["m2_ratio_vs_shipped"]["passed"]
    assert not crit["documentation"]["passed"] and not crit["reproducibility"]["passed"]
    assert (run / "m12_learning_ae.png").is_file() and (run / "m12_predictions.png").is_file()


def test_documentation_needs_the_link_and_the_steps(tmp_path: Path) -> None:
    guide = REPO / "docs/TRAINING.md"
    (tmp_path / "README.md").write_text("see docs/TRAINING.md\n")
    assert _documentation(guide, tmp_path / "README.md", "docs/TRAINING.md") == 1.0
    (tmp_path / "README.md").write_text("no link\n")
    assert _documentation(guide, tmp_path / "README.md", "docs/TRAINING.md") == 0.0
    (tmp_path / "G.md").write_text("```sh\nuv run gate data collect\n```\n")
    (tmp_path / "README.md").write_text("G.md\n")
    assert _documentation(tmp_path / "G.md", tmp_path / "README.md", "G.md") == 0.0
