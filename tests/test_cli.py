"""CliRunner tests of every command, driven through the demo third-party plugin's gates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from shell import cli
from shell.receipt import read_receipt
from shell.registry import load_gates
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def gate(*args: str, env: dict | None = None):
    return runner.invoke(gate_cli(), list(args), env=env)


def one_json(out: str):
    return orjson.loads(out)  # raises unless stdout is exactly one JSON document


def test_plugin_gate_is_listed_and_built(with_plugin: Path) -> None:
    doc = one_json(gate("list", "--json").stdout)
    by_id = {g["id"]: g for g in doc["gates"]}
    assert by_id["demo"]["state"] == "built" and by_id["demo2"]["prerequisites"] == ["demo"]
    assert by_id["m13"]["state"] == "planned"
    assert gate("list").exit_code == 0


def test_passing_run_writes_receipt_ledger_and_candidate(with_plugin: Path) -> None:
    r = gate("demo", "--json", "--log-jsonl")
    assert r.exit_code == 0, r.output
    doc = one_json(r.stdout)
    assert doc["passed"] and re.fullmatch(r"\d{8}T\d{6}Z-demo-[0-9a-f]{6}", doc["run_id"])
    events = read_receipt(Path(doc["run_dir"]) / "receipt.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "verdict"
    assert {"metric", "criterion", "artifact", "step"} <= set(kinds)
    assert all({"ts", "run_id", "gate", "event"} <= e.keys() for e in events)
    assert not (Path(doc["run_dir"]) / "bundle").exists()
    shown = one_json(gate("show", doc["run_id"], "--json").stdout)
    assert shown["exit_code"] == 0 and shown["metrics"][0]["name"] == "score"
    quiet = one_json(gate("run", "demo", "--json").stdout)
    assert not any(
        e["event"] == "step" for e in read_receipt(Path(quiet["run_dir"]) / "receipt.jsonl")
    )


def test_failing_criterion_exits_1_with_bundle_and_repro(with_plugin: Path) -> None:
    r = gate("demo", "--set", "score=0.1", "--json")
    assert r.exit_code == 1
    doc = one_json(r.stdout)
    bundle = Path(doc["run_dir"]) / "bundle"
    assert {"repro.sh", "inputs.json", "config.json", "note.txt"} <= {
        p.name for p in bundle.iterdir()
    }
    assert "gate run demo" in (bundle / "repro.sh").read_text()
    assert "repro: uv run gate run demo" in r.stderr
    assert orjson.loads((bundle / "config.json").read_bytes())["score"] == 0.1


def test_crash_is_exit_4_with_traceback_in_bundle(with_plugin: Path) -> None:
    r = gate("demo", "--set", "crash=true", "--json")
    assert r.exit_code == 4  # DESIGN.md: the gate crashed
    bundle = Path(one_json(r.stdout)["run_dir"]) / "bundle"
    assert "crashed on purpose" in (bundle / "traceback.txt").read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--set", "nope=1"], "field nope"),
        (["demo", "--set", "score=high"], "field score"),
        (["run", "zzz"], "unknown gate 'zzz'"),
        (["m13"], "planned, not built"),
        (["show", "20260101T000000Z-x-000000"], "unknown run id"),
        (["approve", "demo", "--run", "20260101T000000Z-x-000000"], "unknown run id"),
        (["runs", "--verdict", "maybe"], "--verdict"),
        (["export", "--format", "xml"], "--format"),
    ],
)
def test_bad_input_exits_2_with_one_line(with_plugin: Path, args: list[str], needle: str) -> None:
    r = gate(*args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.output
    assert not (with_plugin / ".gate" / "runs").exists() or not any(
        (with_plugin / ".gate" / "runs").iterdir()
    )


def test_config_file_with_unknown_key_exits_2(with_plugin: Path) -> None:
    cfg = with_plugin / "cfg.json"
    cfg.write_text('{"score": 0.7, "colour": 1}')
    r = gate("run", "demo", "--config", str(cfg))
    assert r.exit_code == 2 and "field colour" in r.stderr


def test_all_runs_in_order_and_blocks_dependants(with_plugin: Path) -> None:
    ok = one_json(gate("all", "--only", "demo,demo2", "--json").stdout)
    assert [x["gate"] for x in ok["results"]] == ["demo", "demo2"] and ok["exit_code"] == 0
    r = gate("all", "--only", "demo,demo2", "--json", "--seed", "1")
    assert r.exit_code == 0
    status = one_json(gate("status", "--json").stdout)
    row = {g["id"]: g for g in status["gates"]}
    assert row["demo"]["last_verdict"] == "pass" and row["demo"]["unlocks"] == ["demo2"]
    assert status["passed"] == 2 and status["total"] == len(status["gates"])


def test_all_blocks_dependants_of_a_failure(
    with_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wg_demo_plugin

    monkeypatch.setattr(wg_demo_plugin.DemoConfig.model_fields["score"], "default", 0.2)
    wg_demo_plugin.DemoConfig.model_rebuild(force=True)
    r = gate("all", "--only", "demo,demo2", "--json")
    doc = one_json(r.stdout)
    assert r.exit_code == 1
    res = {x["gate"]: x for x in doc["results"]}
    assert res["demo"]["exit_code"] == 1 and res["demo2"]["run_id"] is None
    assert "blocked" in res["demo2"]["message"]


def test_all_keeps_exit_3_and_a_gate_without_criteria_is_refused(with_plugin: Path) -> None:
    r = gate("all", "--only", "demo,demo_elsewhere", "--json")
    doc = one_json(r.stdout)
    res = {x["gate"]: x for x in doc["results"]}
    assert res["demo_elsewhere"]["exit_code"] == 3 and res["demo"]["exit_code"] == 0
    assert r.exit_code == 3 and doc["exit_code"] == 3  # missing here, not failed
    e = gate("demo_empty")
    assert e.exit_code == 2 and "declares no criteria" in e.stderr


def test_approve_force_history_and_rollback(
    with_plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = one_json(gate("demo", "--json", "--set", "score=0.6").stdout)["run_id"]
    second = one_json(gate("demo", "--json", "--set", "score=0.8").stdout)["run_id"]
    golden = with_plugin / "artifacts" / "demo" / "table"
    assert gate("approve", "demo", "--run", first).exit_code == 0
    assert b"0.6" in (golden / "table.json").read_bytes()
    r = gate("approve", "demo", "--run", second)
    assert (
        r.exit_code == 2
        and "--force" in r.stderr
        and b"0.6" in (golden / "table.json").read_bytes()
    )
    monkeypatch.setenv("CI", "true")
    r = gate("approve", "demo", "--run", second, "--force")
    assert r.exit_code == 2 and "CI" in r.stderr and b"0.6" in (golden / "table.json").read_bytes()
    monkeypatch.delenv("CI")
    assert gate("approve", "demo", "--run", second, "--force").exit_code == 0
    assert b"0.8" in (golden / "table.json").read_bytes()
    assert (
        with_plugin / "artifacts" / "demo" / ".history" / "table" / "v1" / "table.json"
    ).exists()
    assert one_json(gate("status", "--json").stdout)["gates"][0]["id"] == "m1"
    r = gate("approve", "demo", "--rollback", "table", "--json")
    assert r.exit_code == 0 and one_json(r.stdout)["approved"][0]["version"] == 3
    assert b"0.6" in (golden / "table.json").read_bytes()
    assert gate("approve", "demo", "--run", first, "--name", "nothing").exit_code == 2


def test_runs_filters_and_export(with_plugin: Path) -> None:
    gate("demo")
    gate("demo", "--set", "score=0.1")
    gate("demo2")
    allruns = one_json(gate("runs", "--json").stdout)["runs"]
    assert len(allruns) == 3
    assert len(one_json(gate("runs", "--gate", "demo", "--json").stdout)["runs"]) == 2
    assert len(one_json(gate("runs", "--verdict", "fail", "--json").stdout)["runs"]) == 1
    assert one_json(gate("runs", "--since", "2999-01-01", "--json").stdout)["runs"] == []
    assert len(one_json(gate("runs", "--until", "2999-01-01", "--json").stdout)["runs"]) == 3
    out = with_plugin / "runs.jsonl"
    assert gate("export", "--format", "jsonl", "--out", str(out)).exit_code == 0
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == 3 and all("metrics" in x and "criteria" in x for x in lines)
    assert gate("runs").exit_code == 0 and gate("show", allruns[0]["id"]).exit_code == 0


def test_backends_command_reports_devices(with_plugin: Path) -> None:
    doc = one_json(gate("backends", "--json").stdout)
    assert {d["name"] for d in doc["devices"]} == {"cpu", "cuda"}


def _commands(cmd, prefix=()):

    for name, sub in getattr(cmd, "commands", {}).items():
        yield (*prefix, name), sub
        yield from _commands(sub, (*prefix, name))


def test_every_command_has_help_and_is_in_the_readme() -> None:
    import typer.main

    readme = (REPO / "README.md").read_text()
    root = typer.main.get_command(cli.build_app())
    for path, cmd in _commands(root):
        assert (cmd.help or "").strip(), f"gate {' '.join(path)} has no help text"
        if len(path) == 1 and not re.fullmatch(r"m\d+", path[0]):
            assert f"gate {path[0]}" in readme, f"`gate {path[0]}` is not in README.md"
        if len(path) == 2:
            assert f"gate {' '.join(path)}" in readme, (
                f"`gate {' '.join(path)}` is not in README.md"
            )


@pytest.mark.parametrize(
    "args", [["--help"], ["list"], ["status"], ["models"], ["status", "--json"]]
)
def test_fast_commands_never_import_torch(args: list[str], project: Path) -> None:
    code = (
        "import sys\nfrom shell.fast import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "for m in ('torch', 'pydantic', 'typer', 'click', 'rich'):\n"
        "    assert m not in sys.modules, m + ' was imported: the fast path must stay light'\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=project
    )
    assert r.returncode == 0, r.stderr


def test_the_fast_path_matches_the_typer_app(project: Path, capsys) -> None:
    import typer.main

    from shell import fast

    root = typer.main.get_command(cli.build_app())
    reg = {g for g in load_gates().gates}
    typer_cmds = {
        n: (c.help or "").strip().splitlines()[0] for n, c in root.commands.items() if n not in reg
    }
    assert typer_cmds == fast.COMMANDS  # same commands, same first help line
    for cmd in ("list", "status", "models"):
        with pytest.raises(SystemExit) as e:
            fast.main([cmd, "--json"])
        assert e.value.code == 0
        quick = orjson.loads(capsys.readouterr().out)
        assert quick == orjson.loads(gate(cmd, "--json").stdout)
    with pytest.raises(SystemExit):
        fast.main(["--help"])
    text = capsys.readouterr().out
    assert all(f"  {n} " in text for n in [*fast.COMMANDS, *reg])


def test_usage_error_is_one_line(project: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "shell", "frobnicate"], capture_output=True, text=True, cwd=REPO
    )
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "frobnicate" in r.stderr


def test_two_processes_at_once_both_land_their_rows(with_plugin: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shell", "run", "demo"], cwd=REPO, stdout=subprocess.DEVNULL
        )
        for _ in range(3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert len(one_json(gate("runs", "--json").stdout)["runs"]) == 3


def test_a_gate_verb_is_a_run_that_can_be_approved(with_plugin: Path) -> None:
    r = gate("demo", "make", "--score", "0.4", "--json")
    assert r.exit_code == 0, r.output
    run_id = one_json(r.stdout)["run_id"]
    assert one_json(gate("show", run_id, "--json").stdout)["kind"] == "make"
    assert one_json(gate("status", "--json").stdout)["passed"] == 0  # a verb is not a verdict
    assert gate("approve", "demo", "--run", run_id).exit_code == 0
    assert b"0.4" in (with_plugin / "artifacts" / "demo" / "table" / "table.json").read_bytes()
    bad = gate("demo", "make", "--score", "-1")
    assert bad.exit_code == 2 and "--score -1" in bad.stderr
