"""docs/TRAINING.md cannot go stale: every `uv run gate` command of its sh blocks runs, in order, in a
clean temporary project with tiny budgets (shell/guide.py), and produces a judged, approved model."""

from __future__ import annotations

from pathlib import Path

from shell import guide

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "TRAINING.md"


def test_parse_continuations_env_and_tiny_budgets() -> None:
    text = "```sh\nA=1 uv run gate m12 finetune --from x \\\n    --steps 300  # real\n# note\n```\n"
    (cmd,) = guide.commands(text)
    assert cmd.env == {"A": "1"} and cmd.line == 2
    assert guide.tiny(cmd.argv) == [
        "m12",
        "finetune",
        "--from",
        "x",
        "--steps",
        "2",
        "--batch",
        "2",
    ]
    assert guide.commands("```text\nuv run gate m1\n```\n") == []


def test_every_command_of_the_guide_runs(tmp_path: Path) -> None:
    cmds = guide.commands(GUIDE.read_text())
    verbs = {tuple(c.argv[:2]) for c in cmds}
    for need in [("data", "collect"), ("data", "import"), ("m12", "finetune"), ("approve", "m12"),
                 ("zoo", "add"), ("zoo", "compare"), ("m1", "train")]:  # fmt: skip
        assert need in verbs, f"the guide lost `gate {' '.join(need)}`"
    rep = guide.run_guide(GUIDE, tmp_path / "project", REPO)
    bad = [r for r in rep.results if r.code != 0]
    assert not bad, f"line {bad[0].line}: `{bad[0].text}` exit {bad[0].code}:\n{bad[0].tail}"
    assert len(rep.results) == len(cmds)
    approved = list((tmp_path / "project" / "artifacts" / "m12").glob("*/model.safetensors"))
    assert approved, "the guide did not end with an approved model"
    assert (tmp_path / "project" / ".gate" / "zoo" / "gb-predictor" / "card.json").is_file()
