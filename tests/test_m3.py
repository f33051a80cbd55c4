"""Gate m3 end to end on real PyBoy with the project's ROM, in a scratch project root.

The golden template, ROM, start state and trace are copied into a temporary GATE_ROOT; variants of the trace
get a template bound to them (same goal frame, their own actions_path/sha256) written through the store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from core.gb import layout
from gates.m3.template import META, NPY, PNG, GoalTemplateMeta
from shell.store import metadata_digest, sha256_file, write_artifact
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]
GOLD = "artifacts/m3/goal_template"
ROUTE = list(layout.ROUTE_TO_ROOM2)
A, B, START, UP, DOWN, LEFT, RIGHT = range(7)
runner = CliRunner()


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


@pytest.fixture
def root(project: Path) -> Path:
    for rel in ("roms/worldgate.gb", "traces/m3/start.state", "traces/m3/actions.jsonl"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, project / rel)
    shutil.copytree(REPO / GOLD, project / GOLD)
    shutil.copytree(REPO / "traces/m3/negatives", project / "traces/m3/negatives")
    return project


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".gate" not in p.parts
    }


def gold_meta(root: Path) -> dict:
    return orjson.loads((root / GOLD / META).read_bytes())


def bind(root: Path, name: str, rows: list[list[int]], **fields) -> tuple[str, str]:
    """A trace and a template for it (the golden's goal frame and tau), written through the store."""
    trace = f"traces/m3/{name}.jsonl"
    (root / trace).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    meta = {k: v for k, v in gold_meta(root).items() if k not in ("files", "metadata_sha256")}
    meta.update(actions_path=trace, actions_sha256=sha256_file(root / trace), **fields)
    files = {n: (root / GOLD / n).read_bytes() for n in (NPY, PNG)}
    write_artifact(root / f"artifacts/m3/{name}", files, meta, GoalTemplateMeta, META)
    return f"trace={trace}", f"template=artifacts/m3/{name}"


def run_m3(*sets: str, extra: tuple[str, ...] = ()):
    return gate("m3", "--json", "--device", "cpu", *extra, *[a for s in sets for a in ("--set", s)])


def doc(r) -> dict:
    return orjson.loads(r.stdout)


def test_golden_replay_passes(root: Path) -> None:
    r = run_m3(extra=("--log-jsonl",))
    assert r.exit_code == 0, r.output
    d = doc(r)
    m = {x["name"]: x["value"] for x in d["metrics"]}
    assert m["steps_to_done"] == len(ROUTE) + 1 and m["min_dist"] == 0 and m["replays"] == 3
    assert m["dist_at_done"] < m["tau"] < 0.1
    assert m["negatives"] == 4 and m["negatives_fired"] == 0
    assert m["nearest_nongoal_dist"] >= 1.5 * m["tau"]  # the START menu in room 2 is the nearest
    assert {c["name"] for c in d["criteria"] if c["passed"]} == {
        "done_triggered",
        "replays_identical",
        "negatives_rejected",
        "tau_margin",
    }
    assert (Path(d["run_dir"]) / "dist_curves.png").read_bytes()[:4] == b"\x89PNG"
    steps = [
        orjson.loads(x) for x in (Path(d["run_dir"]) / "receipt.jsonl").read_bytes().splitlines()
    ]
    steps = [e for e in steps if e["event"] == "step"]
    assert len(steps) == 3 * 25 and steps[20]["done"] == [True] and steps[19]["done"] == [False]
    assert not (Path(d["run_dir"]) / "bundle").exists()


MISMATCH = [
    ("schema_version", 2),
    ("created_at", "yesterday"),
    ("rom_path", "roms/other.gb"),
    ("rom_sha256", "0" * 64),
    ("start_state_path", "traces/m3/other.state"),
    ("start_state_sha256", "1" * 64),
    ("actions_sha256", "2" * 64),
    ("action_codec_id", "atari_v0"),
    ("frames_per_step", 12),
    ("release_after_frames", 4),
    ("downsample_h", 144),
    ("downsample_w", 160),
    ("stack_k", 2),
    ("shade_levels", 8),
    ("dist_metric", "l2"),
    ("tau", 0.0),
    ("k_consecutive", 0),
    ("k_consecutive", 2**31),  # wrapped the reducer's int32 compare: done at step 1
    ("k_consecutive", 1001),
    ("k_consecutive", "2"),  # numbers are strict: no strings, no floats
    ("tau", 1.5),
    ("pipeline_version", 2),
]


@pytest.mark.parametrize(("field", "value"), MISMATCH, ids=[f"{f}={v}" for f, v in MISMATCH])
def test_each_metadata_field_mismatch_exits_2_naming_it(root: Path, field: str, value) -> None:
    """The meta is edited and re-digested in the store's canonical form, so only the field is wrong."""
    meta = gold_meta(root)
    meta[field] = value
    meta["metadata_sha256"] = metadata_digest(meta)
    (root / GOLD / META).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2) + b"\n")
    before = snapshot(root)
    r = run_m3()
    assert r.exit_code == 2, r.output
    assert field in r.stderr and META in r.stderr and "Traceback" not in r.output
    assert snapshot(root) == before


def test_tau_or_k_asked_for_must_equal_the_templates(root: Path) -> None:
    r = run_m3("tau=0.05")
    assert r.exit_code == 2 and "field tau" in r.stderr
    r = run_m3("k_consecutive=3")
    assert r.exit_code == 2 and "field k_consecutive" in r.stderr


def test_one_step_short_of_the_door_fails_with_a_bundle(root: Path) -> None:
    r = run_m3(*bind(root, "short", [[a] for a in ROUTE[:-1] + [B] * 5]))
    assert r.exit_code == 1, r.output
    d = doc(r)
    failed = {c["name"] for c in d["criteria"] if not c["passed"]}
    assert failed == {"done_triggered"}  # never done; replays identical, non-goal traces rejected
    bundle = Path(d["run_dir"]) / "bundle"
    names = {p.name for p in bundle.iterdir()}
    assert {
        "dist_curve.json",
        "dist_curve.png",
        "last_frames.png",
        "actions.jsonl",
        "repro.sh",
    } <= names
    curve = orjson.loads((bundle / "dist_curve.json").read_bytes())
    assert len(curve["dist"][0]) == 24 and min(curve["dist"][0]) > curve["tau"]
    assert "gate run m3" in (bundle / "repro.sh").read_text() and "gate: repro:" in r.stderr
    assert (bundle / "dist_curve.png").read_bytes()[:4] == b"\x89PNG"


def test_walking_out_of_room_2(root: Path) -> None:
    """k_consecutive=2: one frame in room 2 then out is not done (exit 1); two frames then out is done
    within the trace, and the gate passes because done triggered, whatever follows."""
    r = run_m3(*bind(root, "glimpse", [[a] for a in ROUTE + [LEFT, B]]))
    assert r.exit_code == 1, r.output
    r = run_m3(*bind(root, "visit", [[a] for a in ROUTE + [B, LEFT, B]]))
    assert r.exit_code == 0, r.output
    m = {x["name"]: x["value"] for x in doc(r)["metrics"]}
    assert m["steps_to_done"] == len(ROUTE) + 1


def test_menu_opened_and_closed_on_the_way_still_passes(root: Path) -> None:
    rows = (
        ROUTE[:3] + [START, UP, B] + ROUTE[3:] + [B] * 5
    )  # UP does nothing while the menu is open
    r = run_m3(*bind(root, "menu", [[a] for a in rows]))
    assert r.exit_code == 0, r.output
    m = {x["name"]: x["value"] for x in doc(r)["metrics"]}
    assert m["steps_to_done"] == len(ROUTE) + 3 + 1


def test_two_envs_one_reaches_the_goal(root: Path) -> None:
    rows = [[a, b] for a, b in zip(ROUTE + [B] * 5, [RIGHT] * 7 + [B] * 18, strict=True)]
    assert run_m3(*bind(root, "pair", rows)).exit_code == 0


NEG = "traces/m3/negatives"


def failed(r) -> set[str]:
    return {c["name"] for c in doc(r)["criteria"] if not c["passed"]}


def with_tau(root: Path, tau: float) -> str:
    """The golden (same goal frame, capture trace and inputs) with another tau, through the store."""
    meta = {k: v for k, v in gold_meta(root).items() if k not in ("files", "metadata_sha256")}
    files = {n: (root / GOLD / n).read_bytes() for n in (NPY, PNG)}
    write_artifact(
        root / f"artifacts/m3/tau{tau}", files, {**meta, "tau": tau}, GoalTemplateMeta, META
    )
    return f"template=artifacts/m3/tau{tau}"


def test_any_trace_is_judged_with_the_golden(root: Path) -> None:
    """The template binds the ROM and start state; any trace is judged, and the receipt names it."""
    shutil.copy(root / "traces/m3/actions.jsonl", root / "traces/m3/mine.jsonl")
    r = run_m3("trace=traces/m3/mine.jsonl")
    assert r.exit_code == 0, r.output
    inp = [
        orjson.loads(x)
        for x in (Path(doc(r)["run_dir"]) / "receipt.jsonl").read_bytes().splitlines()
    ]
    (inp,) = [e for e in inp if e["event"] == "input"]
    assert inp["path"] == "traces/m3/mine.jsonl" and inp["capture_trace"] is False
    assert inp["sha256"] == gold_meta(root)["actions_sha256"]
    r = run_m3(f"trace={NEG}/menu_in_room2.jsonl")  # a non-goal trace judged as the run's trace
    assert r.exit_code == 1, r.output
    assert failed(r) == {"done_triggered"}
    d = doc(r)
    curve = orjson.loads((Path(d["run_dir"]) / "bundle/dist_curve.json").read_bytes())
    assert curve["trace"] == f"{NEG}/menu_in_room2.jsonl" and not any(curve["done"][0])


def test_non_goal_traces_reject_a_loose_tau(root: Path) -> None:
    """tau 0.1 lets the open START menu in room 2 (dist ~0.094) count as the goal: done fires on that
    non-goal trace and the margin is below 1; the landed tau 0.0701 fired on none but sat too close."""
    r = run_m3(with_tau(root, 0.1))
    assert r.exit_code == 1, r.output
    assert failed(r) == {"negatives_rejected", "tau_margin"}
    d = doc(r)
    m = {x["name"]: x["value"] for x in d["metrics"]}
    assert m["negatives_fired"] == 1 and m["nearest_nongoal_dist"] < 0.1
    bundle = Path(d["run_dir"]) / "bundle"
    assert (bundle / "last_frames_menu_in_room2.png").is_file()
    negs = orjson.loads((bundle / "dist_curve.json").read_bytes())["negatives"]
    assert [n["fired"] for n in negs] == [False, False, True, False]
    r = run_m3(with_tau(root, 0.07010995363816619))  # the golden's tau before the non-goal traces
    assert r.exit_code == 1, r.output
    assert failed(r) == {"tau_margin"}
    assert doc(r)["criteria"][-1]["value"] == pytest.approx(0.09375 / 0.0701, abs=1e-3)


def test_negatives_are_configurable(root: Path) -> None:
    """A user's own non-goal traces replace the committed ones; the route itself is no non-goal."""
    r = run_m3('negatives=["traces/m3/actions.jsonl"]')
    assert r.exit_code == 1, r.output
    assert failed(r) == {"negatives_rejected", "tau_margin"}
    r = run_m3(f'negatives=["{NEG}/at_door.jsonl", "{NEG}/wander_room1.jsonl"]')
    assert r.exit_code == 0, r.output
    (root / "traces/m3/one.jsonl").write_bytes(b"[1]\n")
    for sets, msg in (
        ("negatives=[]", "negatives"),
        ('negatives=["traces/m3/none.jsonl"]', "traces/m3/none.jsonl: no such trace"),
        ('negatives=["traces/m3/one.jsonl"]', "traces/m3/one.jsonl: 1 steps, fewer than k=2"),
    ):
        r = run_m3(sets)
        assert r.exit_code == 2 and msg in r.stderr, (sets, r.output)


def test_capture_refuses_a_k_out_of_range_before_writing(root: Path) -> None:
    before = snapshot(root)
    for k in ("2147483648", "1001", "0"):
        r = gate("m3", "capture", "--k", k, "--out", "artifacts/m3/bigk", "--device", "cpu")
        assert r.exit_code == 2 and "--k" in r.output, r.output
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("line", "msg"),
    [
        (b"3\n", "line 4: expected a JSON list of ints"),
        (b"[3, 1]\n", "line 4: expected 1 action(s)"),
        (b"[7]\n", "line 4: action 7 outside 0..6"),
        (b"[true]\n", "line 4: expected a JSON list of ints"),
    ],
)
def test_bad_trace_lines_exit_2_with_the_line(root: Path, line: bytes, msg: str) -> None:
    p = root / "traces/m3/actions.jsonl"
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(b"".join(lines[:3]) + line + b"".join(lines[4:]))
    before = snapshot(root)
    r = run_m3()
    assert r.exit_code == 2, r.output
    assert f"traces/m3/actions.jsonl: {msg}" in r.stderr and "Traceback" not in r.output
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("arr", "msg"),
    [
        (np.zeros((72, 81), np.uint8), "shape must be [72, 80]"),
        (np.zeros((72, 80), np.int16), "dtype must be uint8"),
        (np.full((72, 80), 4, np.uint8), "values must lie in 0..3, found 4"),
        (np.zeros((3, 72, 80), np.uint8), "shape must be [4, 72, 80]"),
    ],
)
def test_bad_template_array_exits_2(root: Path, arr: np.ndarray, msg: str) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    meta = {k: v for k, v in gold_meta(root).items() if k not in ("files", "metadata_sha256")}
    write_artifact(root / GOLD, {NPY: buf.getvalue()}, meta, GoalTemplateMeta, META)
    r = run_m3()
    assert r.exit_code == 2, r.output
    assert f"{GOLD}/{NPY}" in r.stderr and msg in r.stderr


CHANGED = [
    ("roms/worldgate.gb", "rom_sha256", lambda b: b[:-2] + bytes([b[-2] ^ 1]) + b[-1:]),
    ("traces/m3/start.state", "start_state_sha256", lambda b: b + b"x"),
    ("traces/m3/actions.jsonl", "actions_sha256", lambda b: b + b"[1]\n"),
]


@pytest.mark.parametrize(("rel", "field", "change"), CHANGED, ids=[c[1] for c in CHANGED])
def test_changed_inputs_exit_2_naming_file_and_field(
    root: Path, rel: str, field: str, change
) -> None:
    p = root / rel
    p.write_bytes(change(p.read_bytes()))
    before = snapshot(root)
    r = run_m3()
    assert r.exit_code == 2, r.output
    assert rel in r.stderr and field in r.stderr
    assert snapshot(root) == before


def test_missing_golden_or_rom_is_exit_3(root: Path) -> None:
    mine = bind(root, "x", [[a] for a in ROUTE + [B]], rom_path="roms/mine.gb")
    r = run_m3(*mine, "rom=roms/mine.gb")
    assert r.exit_code == 3 and "roms/mine.gb: no such ROM" in r.stderr
    shutil.rmtree(root / GOLD)
    r = run_m3()
    assert r.exit_code == 3 and "gate m3 capture" in r.stderr


def test_capture_approve_calibrate_round_trip(root: Path) -> None:
    """capture makes the same template as the golden; approving it keeps the gate green; calibrate
    recommends the golden's tau and --write makes an approvable candidate."""
    shutil.rmtree(root / GOLD)
    r = gate("m3", "capture", "--json", "--device", "cpu")
    assert r.exit_code == 0, r.output
    d = doc(r)
    cand = Path(d["artifacts"][0])
    assert (cand / NPY).read_bytes() == (REPO / GOLD / NPY).read_bytes()
    assert gate("approve", "m3", "--run", d["run_id"]).exit_code == 0
    assert run_m3().exit_code == 0
    r = gate("m3", "calibrate", "--write", "--json", "--device", "cpu")
    assert r.exit_code == 0, r.output
    d = doc(r)
    m = {x["name"]: x["value"] for x in d["metrics"]}
    assert (
        m["recommended_tau"] == pytest.approx(m["tau"])
        and m["goal_max"] < m["tau"] < m["nearest_other"]
    )
    run_dir = Path(d["run_dir"])
    assert {"dist_curve.png", "dist_hist.png", "dist_curve.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    assert gate("approve", "m3", "--run", d["run_id"], "--force").exit_code == 0
    assert run_m3().exit_code == 0


def test_capture_out_refuses_to_overwrite(root: Path) -> None:
    before = snapshot(root)
    r = gate("m3", "capture", "--out", GOLD, "--device", "cpu")
    # only `gate approve` writes under artifacts/
    assert r.exit_code == 2 and f"--out {GOLD}: under artifacts/" in r.stderr
    assert snapshot(root) == before
    r = gate("m3", "capture", "--out", "templates/mine", "--tau", "0.05", "--device", "cpu")
    assert r.exit_code == 0, r.output
    meta = orjson.loads((root / "templates/mine" / META).read_bytes())
    assert meta["tau"] == 0.05 and meta["k_consecutive"] == 2
    r = gate("m3", "capture", "--out", "templates/mine", "--device", "cpu")
    assert r.exit_code == 2 and "templates/mine: exists; pass --force" in r.stderr
    r = gate("m3", "capture", "--trace", "traces/m3/short.jsonl", "--device", "cpu")
    assert r.exit_code == 2 and "no such trace" in r.stderr


def test_capture_refuses_a_trace_that_leaves_the_goal_at_once(root: Path) -> None:
    (root / "traces/m3/brief.jsonl").write_bytes(b"".join(b"[%d]\n" % a for a in ROUTE))
    r = gate("m3", "capture", "--trace", "traces/m3/brief.jsonl", "--device", "cpu")
    assert r.exit_code == 2 and "done never fires" in r.stderr


def test_build_rom_and_record_state_reproduce_the_committed_inputs(root: Path) -> None:
    r = gate("m3", "build-rom", "--out", "roms/built.gb")
    assert r.exit_code == 0, r.output
    assert (root / "roms/built.gb").read_bytes() == (REPO / "roms/worldgate.gb").read_bytes()
    assert sha256_file(root / "roms/built.gb") in r.stdout
    r = gate("m3", "record-state", "--out", "traces/m3/again.state")
    assert r.exit_code == 0, r.output
    assert (root / "traces/m3/again.state").read_bytes() == (
        REPO / "traces/m3/start.state"
    ).read_bytes()
    r = gate("m3", "record-state", "--out", "traces/m3/again.state", "--frames", "200")
    assert r.exit_code == 2 and "pass --force" in r.stderr


def test_trace_io_round_trip_and_messages(tmp_path: Path) -> None:
    from shell.errors import BadInput
    from shell.trace import load_actions, parse_actions, save_actions

    p = tmp_path / "t" / "actions.jsonl"
    save_actions(p, [[3, 1], [6, 0]])
    assert p.read_bytes() == b"[3,1]\n[6,0]\n" and load_actions(p, num_envs=2) == [[3, 1], [6, 0]]
    assert not [q for q in p.parent.iterdir() if q.name.startswith(".")]  # no temporary left behind
    with pytest.raises(BadInput, match="x.jsonl: line 2: expected 2 action"):
        parse_actions(b"[1,2]\n[1]\n", "x.jsonl")
    with pytest.raises(BadInput, match="x.jsonl: line 1: expected 1 action.*the run has 1"):
        parse_actions(b"[1,2]\n", "x.jsonl", num_envs=1)
    with pytest.raises(BadInput, match="empty trace"):
        parse_actions(b"", "x.jsonl")
    with pytest.raises(BadInput, match="line 2: expected a JSON list"):
        parse_actions(b"[1]\n\n[2]\n", "x.jsonl")
    with pytest.raises(BadInput, match="line 1: action -1 outside 0..6"):
        save_actions(p, [[-1]])
    assert load_actions(p) == [[3, 1], [6, 0]]  # a refused save leaves the old file
    with pytest.raises(BadInput, match="no such trace"):
        load_actions(tmp_path / "none.jsonl")
