"""The malformed-input corpus (issue 9): every command, tried as a hostile but fair new user would.

One parametrized case per class: the input (set up in a scratch project root), the command, the exit code
due, a name the single stderr line must contain, and a check that nothing existing was written or damaged
(every file outside .gate/runs hashed before and after; nothing new under artifacts/ or outside the root).
Cases run in this process through shell.fast.main, the console script's entry point (its error handling included),
under a SIGALRM that fails a case which blocks; the two that could end the process or eat its memory (an
emulator past its budget, /dev/zero) run as a subprocess with a timeout. A command added to `gate` must get a case here (test_every_command_has_a_case).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[1]
GOLD = "artifacts/m3/goal_template"
M1_GOLD = "artifacts/m1/autoencoder"
RID = "20261201T000000Z-m3-c0ffee"  # a fabricated candidate run (a copy of the golden template)
UNWRITABLE = "/sys/worldgate-corpus"  # read-only for every user, root included (sysfs)
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    needle: str
    setup: Setup | None = None
    env: dict[str, str] = field(default_factory=dict)
    subprocess: bool = (
        False  # could end the process or eat its memory: run it as one, with a timeout
    )
    protect: tuple[str, ...] = ()  # files under .gate/ that must stay byte-identical too
    needs: str | None = None  # an optional module the case needs (skipped without it)


# ---- setups: each writes the malformed input into the scratch root -------------------------------


def write(rel: str, data: bytes) -> Setup:
    def s(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)

    return s


def writes(files: dict[str, bytes]) -> Setup:
    def s(root: Path) -> None:
        for rel, data in files.items():
            write(rel, data)(root)

    return s


def candidate(events: list[dict] | None = None, raw: bytes | None = None) -> Setup:
    """.gate/runs/RID/: a receipt (these extra events, or raw bytes) and a valid candidate template."""

    def s(root: Path) -> None:
        rdir = root / ".gate/runs" / RID
        shutil.copytree(root / GOLD, rdir / "goal_template")
        base = {"ts": "2026-12-01T00:00:00Z", "run_id": RID, "gate": "m3"}
        evs = [{**base, "event": "start"}] + [{**base, **e} for e in events or []]
        body = raw if raw is not None else b"".join(orjson.dumps(e) + b"\n" for e in evs)
        (rdir / "receipt.jsonl").write_bytes(body)

    return s


def artifact_event(root_rel_path: str | None, name: str = "goal_template") -> dict:
    return {"event": "artifact", "name": name, "meta": "goal_template.meta.json",
            "path": root_rel_path}  # fmt: skip


def corrupt_ledger(root: Path) -> None:
    (root / ".gate").mkdir(exist_ok=True)
    (root / ".gate/ledger.db").write_bytes(random.Random(9).randbytes(8192))


def junk_rom(root: Path) -> None:
    """A valid cartridge header over random code: PyBoy runs it into a loop that never returns."""
    from core.gbheader import fill_header

    code = random.Random(1).randbytes(0x8000)
    (root / "junk.gb").write_bytes(fill_header(code, "JUNK"))


def fifo(rel: str) -> Setup:
    def s(root: Path) -> None:
        os.mkfifo(root / rel)

    return s


def sparse(rel: str, size: int) -> Setup:
    def s(root: Path) -> None:
        with open(root / rel, "wb") as f:
            f.truncate(size)

    return s


def checkpoint(width: int | None = None, log: bytes | None = None, data: bool = False) -> Setup:
    """ckpt/: the m1 golden rewritten through the store with a changed config width or loss log (a
    consistent artifact: every hash matches, so only the check of the values can refuse it)."""

    def s(root: Path) -> None:
        from shell.checkpoints import LOG, WEIGHTS, ModelMeta
        from shell.store import write_artifact

        src = REPO / M1_GOLD
        meta = orjson.loads((src / "meta.json").read_bytes())
        meta = {k: v for k, v in meta.items() if k not in ("files", "metadata_sha256")}
        if width is not None:
            meta["model"]["config"]["width"] = width
        if data:  # what `gate m1 train` with its defaults collects, so --resume gets to the log
            from gates.m1.train import TrainArgs

            d = TrainArgs()
            meta["training"]["data"] = {"backend": d.backend, "game": d.game, "episodes": d.episodes,
                                        "episode_steps": d.episode_steps, "seed": d.seed,
                                        "policy": "scripted"}  # fmt: skip
        files = {WEIGHTS: (src / WEIGHTS).read_bytes(), LOG: log or (src / LOG).read_bytes()}
        write_artifact(root / "ckpt", files, meta, ModelMeta)

    return s


def junk_state(root: Path) -> None:
    (root / "junk.state").write_bytes(
        (root / "traces/m3/start.state").read_bytes() + random.Random(2).randbytes(5000)
    )


def artifacts_unwritable(root: Path) -> None:
    """artifacts/ on a read-only file system (a link to sysfs); the candidate is still valid."""
    candidate([artifact_event(f".gate/runs/{RID}/goal_template")])(root)
    shutil.move(root / "artifacts", root / "artifacts-real")
    (root / "artifacts").symlink_to("/sys/kernel")


def linked_candidate(root: Path) -> None:
    """A candidate whose image is a link to a file outside it (approving would copy what it names)."""
    candidate([GOOD])(root)
    npy = root / ".gate/runs" / RID / "goal_template/goal_template.npy"
    (root / "secret.npy").write_bytes(npy.read_bytes())
    npy.unlink()
    npy.symlink_to(root / "secret.npy")


def both(*setups: Setup) -> Setup:
    def s(root: Path) -> None:
        for x in setups:
            x(root)

    return s


GOOD = artifact_event(f".gate/runs/{RID}/goal_template")
NOT_UTF8 = os.fsdecode(b"conf\xff\xfe.json")
CPU = ("--device", "cpu")

CORPUS: list[Case] = [
    # damage: paths outside their root, writes onto goldens
    Case("artifact-name-traversal", ("approve", "m3", "--run", RID), 2, "not a plain name",
         candidate([artifact_event(f".gate/runs/{RID}/goal_template", "../../../pwned")])),
    Case("run-id-traversal", ("approve", "m3", "--run", "../../../fakerun"), 2, "run id"),
    Case("artifact-path-outside-run", ("approve", "m3", "--run", RID), 2, "outside",
         candidate([artifact_event("traces/m3")])),
    Case("rollback-name-traversal", ("approve", "m3", "--rollback", "../../x"), 2, "not a plain name"),
    Case("approve-name-traversal", ("approve", "m3", "--run", RID, "--name", "../x"), 2, "--name",
         candidate([GOOD])),
    Case("show-run-id-traversal", ("show", "../../etc"), 2, "run id"),
    Case("export-onto-golden", ("export", "--out", f"{GOLD}/goal_template.npy"), 2, "under artifacts/"),
    Case("capture-out-onto-artifacts", ("m3", "capture", "--out", "artifacts/m3/mine", *CPU), 2,
         "under artifacts/"),
    Case("build-rom-onto-golden", ("m3", "build-rom", "--out", f"{GOLD}/goal_template.npy"), 2,
         "under artifacts/"),
    Case("record-state-onto-artifacts", ("m3", "record-state", "--out", "artifacts/m3/s.state"), 2,
         "under artifacts/"),
    Case("collect-out-onto-artifacts", ("data", "collect", "--out", "artifacts/data"), 2,
         "under artifacts/"),
    Case("approve-linked-file", ("approve", "m3", "--run", RID, "--force"), 2, "not a plain file",
         linked_candidate),
    Case("approve-in-ci", ("approve", "m3", "--run", RID), 2, "CI", candidate([GOOD]), {"CI": "1"}),
    # a damaged ledger: the verdict does not depend on it; readers say how to rebuild it
    Case("ledger-garbage-gate-run", ("m3", "--set", "replays=1", *CPU), 0, "gate ledger rebuild",
         corrupt_ledger, protect=(".gate/ledger.db",)),
    Case("ledger-garbage-runs", ("runs",), 2, "gate ledger rebuild", corrupt_ledger,
         protect=(".gate/ledger.db",)),
    Case("ledger-garbage-status", ("status",), 2, "gate ledger rebuild", corrupt_ledger,
         protect=(".gate/ledger.db",)),
    Case("ledger-garbage-show", ("show", RID), 2, "gate ledger rebuild", corrupt_ledger,
         protect=(".gate/ledger.db",)),
    Case("ledger-garbage-export", ("export",), 2, "gate ledger rebuild", corrupt_ledger,
         protect=(".gate/ledger.db",)),
    Case("ledger-rebuild-unwritable", ("ledger", "rebuild"), 2, UNWRITABLE, None,
         {"GATE_STATE": UNWRITABLE}),
    # hangs and unbounded reads
    Case("rom-random-code", ("m3", "capture", "--rom", "junk.gb", *CPU), 2, "junk.gb", junk_rom,
         {"GATE_EMULATOR_BUDGET_S": "0.5"}, subprocess=True),
    Case("trace-fifo", ("m3", "--set", "trace=t.fifo", *CPU), 2, "not a regular file",
         fifo("t.fifo")),
    Case("trace-dev-zero", ("m3", "--set", "trace=/dev/zero", *CPU), 2, "/dev/zero",
         subprocess=True),
    Case("trace-oversize", ("m3", "--set", "trace=big.jsonl", *CPU), 2, "big.jsonl",
         sparse("big.jsonl", 17 << 20)),
    Case("trace-folder", ("m3", "capture", "--trace", "traces", *CPU), 2, "is a folder"),
    Case("rom-fifo", ("m3", "record-state", "--rom", "r.fifo", "--out", "x.state"), 2, "r.fifo",
         fifo("r.fifo")),
    Case("template-dev-zero", ("m3", "calibrate", "--template", "/dev", *CPU), 2, "/dev"),
    Case("emulator-budget-garbage", ("m3", *CPU), 2, "GATE_EMULATOR_BUDGET_S", None,
         {"GATE_EMULATOR_BUDGET_S": "soon"}),
    # tracebacks and wrong exit codes
    Case("config-is-folder", ("m3", "--config", "traces"), 2, "is a folder"),
    Case("config-not-object", ("run", "m3", "--config", "c.json"), 2, "c.json", write("c.json", b"[1]")),
    Case("config-not-utf8-path", ("m3", "--config", NOT_UTF8), 2, "\\xff"),
    Case("seed-too-big", ("m3", "--seed", str(10**23)), 2, "--seed"),
    Case("seed-negative", ("run", "m3", "--seed", "-1"), 2, "--seed"),
    Case("runs-limit-too-big", ("runs", "--limit", str(10**23)), 2, "--limit"),
    Case("state-dir-unwritable", ("m3", *CPU), 2, UNWRITABLE, None, {"GATE_STATE": UNWRITABLE}),
    Case("collect-out-is-file", ("data", "collect", "--out", "notes.txt"), 2, "notes.txt",
         write("notes.txt", b"mine\n")),
    Case("export-out-unwritable", ("export", "--out", f"{UNWRITABLE}/x.jsonl"), 2, "cannot write"),
    Case("capture-out-unwritable", ("m3", "capture", "--out", f"{UNWRITABLE}/t", *CPU), 2,
         "cannot write"),
    Case("approve-artifacts-unwritable", ("approve", "m3", "--run", RID, "--force"), 2,
         "approval lock", artifacts_unwritable),
    Case("receipt-garbage", ("approve", "m3", "--run", RID), 2, "line 2",
         candidate(raw=b'{"event":"start","gate":"m3"}\n\x00\xffnot json\n')),
    Case("approvals-log-garbage", ("approve", "m3", "--run", RID, "--force"), 2, "approvals.jsonl",
         both(candidate([GOOD]), write("artifacts/m3/approvals.jsonl", b"[1,2]\n{oops\n"))),
    Case("status-approvals-garbage", ("status",), 2, "approvals.jsonl",
         write("artifacts/m3/approvals.jsonl", b"\x00\x01garbage\n")),
    Case("device-cuda-99", ("m3", "--device", "cuda:99"), 3, "cuda:99"),
    Case("device-unknown", ("m3", "--device", "tpu"), 2, "--device"),
    Case("checkpoint-width-negative", ("m1", "--set", "model=ckpt", *CPU), 2, "model.config.width",
         checkpoint(width=-1)),
    Case("checkpoint-width-huge", ("m1", "--set", "model=ckpt", *CPU), 2, "model.config.width",
         checkpoint(width=10**6)),
    Case("lr-nan", ("m1", "train", "--lr", "nan", "--steps", "1", *CPU), 2, "--lr"),
    Case("m2-lr-inf", ("m2", "train", "--lr", "inf", "--steps", "1", *CPU), 2, "--lr"),
    Case("resume-garbage-log", ("m1", "train", "--resume", "ckpt", "--steps", "1", *CPU), 2,
         "train_log.json", checkpoint(log=b"\x00 not a log", data=True)),
    Case("set-flag-for-count", ("m3", "--set", "replays=true"), 2, "replays"),
    Case("set-replays-huge", ("m3", "--set", "replays=1000000"), 2, "replays"),
    Case("set-without-value", ("m2", "--set", "arch"), 2, "KEY=VALUE"),
    Case("state-junk-appended", ("m3", "capture", "--state", "junk.state", *CPU), 2,
         "bytes after the end", junk_state),
    Case("rom-missing", ("m3", "capture", "--rom", "none.gb", *CPU), 3, "none.gb"),
    Case("rom-too-small", ("m3", "capture", "--rom", "tiny.gb", *CPU), 2, "not a Game Boy ROM",
         write("tiny.gb", b"\x00" * 100)),
    Case("template-meta-garbage", ("m3", *CPU), 2, "goal_template.meta.json",
         write(f"{GOLD}/goal_template.meta.json", b"\xff\xfe{")),
    # papercuts
    Case("game-typo-builtin", ("m1", "train", "--game", "platfromer"), 2, "did you mean platformer"),
    Case("game-typo-ale", ("data", "collect", "--backend", "ale", "--game", "mspacman"), 2,
         "did you mean ms_pacman", needs="ale_py"),
    Case("games-of-romless-backend", ("backends", "--games", "pyboy"), 2, "--games pyboy"),
    Case("list-unknown-option", ("list", "--colour"), 2, "--colour"),
    Case("lineage-run-id-traversal", ("lineage", "../../etc"), 2, "../../etc"),
    Case("lineage-ledger-garbage", ("lineage", RID), 2, "gate ledger rebuild", corrupt_ledger,
         protect=(".gate/ledger.db",)),
    Case("schema-traversal", ("schema", "../x"), 2, "unknown schema"),
    Case("models-stray-argument", ("models", "stray"), 2, "stray"),
    Case("model-is-a-device", ("m1", "--model", "/dev/zero", *CPU), 2, "/dev/zero"),
    Case("model-unknown-name", ("m2", "--model", "nope", *CPU), 2, "nope"),
    # beyond the list
    Case("set-not-utf8-path", ("m3", "--set", "trace=" + NOT_UTF8), 2, "not valid UTF-8"),
    Case("state-dir-not-utf8", ("runs",), 2, "GATE_STATE", None,
         {"GATE_STATE": os.fsdecode(b"/tmp/st\xff")}),
    Case("trace-too-wide", ("m3", "--set", "trace=wide.jsonl", *CPU), 2, "at most 256 envs",
         write("wide.jsonl", orjson.dumps([0] * 5000) + b"\n")),
    Case("trace-empty-name", ("m3", "--set", "trace=", *CPU), 2, "is a folder"),
    Case("template-not-an-artifact", ("m3", "--set", "template=traces", *CPU), 2, "missing"),
    Case("capture-k-zero", ("m3", "capture", "--k", "0", *CPU), 2, "--k"),
    Case("models-extra-argument", ("models", "surprise"), 2, "surprise"),
    Case("lineage-unknown-run", ("lineage", "20990101T000000Z-m3-000000"), 2, "not in the ledger"),
    Case("lineage-traversal", ("lineage", "../../etc"), 2, "not in the ledger"),
    Case("serve-port-out-of-range", ("serve", "--port", "99999"), 2, "--port"),
    Case("serve-max-batch-zero", ("serve", "--max-batch", "0"), 2, "--max-batch"),
    Case("serve-foreign-address", ("serve", "--host", "203.0.113.9", "--port", "0"), 2, "--host"),
    Case("keys-create-bad-rate", ("keys", "create", "--name", "x", "--rate", "-1"), 2, "--rate"),
    Case("keys-list-extra", ("keys", "list", "surprise"), 2, "surprise"),
    Case("keys-revoke-unknown", ("keys", "revoke", "nope"), 2, "nope"),
    Case("m4-train-horizon-zero", ("m4", "train", "--horizon", "0", "--steps", "1", *CPU), 2, "--horizon"),
    Case("m4-train-camera-weight-negative", ("m4", "train", "--camera-weight", "-1", "--steps", "1", *CPU), 2, "--camera-weight"),
    Case("m4-train-painter-without-layers", ("m4", "train", "--painter", "16", "--steps", "1", *CPU), 2, "--painter"),
    Case("m4-train-focus-above-one", ("m4", "train", "--focus", "1.5", "--steps", "1", *CPU), 2, "--focus"),
    Case("m4-train-one-frame-share", ("m4", "train", "--one-frame", "2", "--steps", "1", *CPU), 2, "--one-frame"),
    Case("m4-pose-no-checkpoint", ("m4", "pose", "--init", "no/such/folder", *CPU), 2, "no/such/folder"),
    Case("m4-pose-batch-zero", ("m4", "pose", "--init", "candidates/m4/predictor", "--batch", "0", *CPU), 2, "--batch"),
    Case("m4-model-unknown", ("m4", "--model", "nope", *CPU), 2, "nope"),
    Case("m9-train-unknown-game", ("m9", "train", "--game", "chess", "--steps", "1", *CPU), 2, "--game chess"),
    Case("m5-model-unknown", ("m5", "--model", "nope", *CPU), 2, "nope"),
    Case("m7-model-is-a-codec", ("m7", "--model", str(REPO / M1_GOLD), *CPU), 2, "model.arch"),
    Case("m7-not-the-platformer", ("m7", "--model", str(REPO / "candidates/m4/predictor"), "-s", "game=pong", *CPU), 2, "game pong"),
    Case("m8-frames-zero", ("m8", "--model", str(REPO / "candidates/m4/predictor"), "-s", "frames=0", *CPU), 2, "frames 0"),
    Case("m8-model-is-a-codec", ("m8", "--model", str(REPO / M1_GOLD), *CPU), 2, "model.arch"),
    Case("m4-model-is-a-codec", ("m4", "--model", str(REPO / M1_GOLD), *CPU), 2, "model.arch"),
    Case("play-bad-key", ("play", "--keys", "RRX"), 2, "character 3"),
    Case("play-record-into-missing-folder", ("play", "--keys", "R", "--record", "/nonexistent/x"), 2, "--record"),
    Case("schema-unknown", ("schema", "nope"), 2, "unknown schema"),
    Case("model-unknown", ("m1", "--model", "nope", *CPU), 2, "--model nope"),
    Case("model-wrong-kind", ("m1", "--model", "predictor", *CPU), 2, "needs a codec"),
    Case("model-folder-missing", ("m1", "--model", "no/such/folder", *CPU), 2, "no such folder"),
    Case("all-jobs-zero", ("all", "-j", "0"), 2, "--jobs"),
    Case("all-budget-negative", ("all", "--budget", "-5"), 2, "--budget"),
    Case("capture-tau-nan", ("m3", "capture", "--tau", "nan", *CPU), 2, "--tau/--k"),
    Case("record-state-frames-huge", ("m3", "record-state", "--frames", str(10**9)), 2, "--frames"),
    Case("rollback-to-negative", ("approve", "m3", "--rollback", "goal_template", "--to", "-1"), 2,
         "--to"),
    Case("collect-too-many-episodes", ("data", "collect", "--episodes", str(10**8)), 2,
         "at most 65536 episodes"),
    Case("collect-too-big-for-ram", ("data", "collect", "--episodes", "64", "--steps", "999999"), 2,
         "half of this machine"),
    Case("batch-huge", ("m1", "train", "--batch", str(10**9), *CPU), 2, "--batch"),
    Case("nproc-huge", ("m2", "train", "--nproc", "1000", *CPU), 2, "--nproc"),
    Case("template-is-a-huge-folder", ("m3", "--set", "template=/usr", *CPU), 2, "/usr"),
    Case("ledger-is-folder", ("runs",), 2, "gate ledger rebuild", write(".gate/ledger.db/x", b"")),
    Case("import-bad-action-line", ("data", "import", "rec"), 2, "actions.jsonl: line 2",
         write("rec/actions.jsonl", b'0\n"jump"\n')),
    Case("import-frame-not-png", ("data", "import", "rec"), 2, "000000.png",
         writes({"rec/actions.jsonl": b"0\n", "rec/000000.png": b"junk", "rec/000001.png": b"x"})),
    Case("finetune-no-dataset", ("m12", "finetune", "--from", "autoencoder", "--data", "nowhere"),
         2, "nowhere"),
    Case("zoo-list-zoo-is-file", ("zoo", "list", "--zoo", "notes.txt"), 2, "notes.txt",
         write("notes.txt", b"mine\n")),
    Case("zoo-show-unknown", ("zoo", "show", "nosuch"), 2, "nosuch"),
    Case("zoo-add-not-a-model", ("zoo", "add", "notes", "--name", "x"), 2, "notes",
         write("notes/a.txt", b"mine\n")),
    Case("zoo-add-traversal", ("zoo", "add", GOLD, "--name", "../x"), 2, "--name"),
    Case("zoo-add-not-a-model-artifact", ("zoo", "add", GOLD, "--name", "x"), 2,
         "no such model artifact"),
    Case("zoo-compare-one", ("zoo", "compare", "autoencoder"), 2, "two or more"),
    Case("zoo-card-damaged", ("zoo", "list"), 2, "card.json", write(".gate/zoo/x/card.json", b"{")),
    Case("all-unknown-gate", ("all", "--only", "m99"), 2, "m99"),
    Case("all-budget-nan", ("all", "--only", "m3", "--budget", "nan"), 2, "--budget"),
    Case("all-jobs-huge", ("all", "--only", "m3", "-j", str(10**20)), 2, "--jobs"),
]  # fmt: skip


# ---- running a case ------------------------------------------------------------------------------


@pytest.fixture
def root(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel in ("roms/worldgate.gb", "artifacts/m3/approvals.jsonl"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, project / rel)
    shutil.copytree(REPO / "traces/m3", project / "traces/m3")
    shutil.copytree(REPO / GOLD, project / GOLD)
    monkeypatch.chdir(project)
    return project


def snapshot(root: Path, protect: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under root but the runs and the ledger (which a run may write)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or not p.is_file():
            continue
        if rel.startswith(".gate/") and rel not in protect:
            continue
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class Hung(Exception):
    pass


def _hung(signum: int, frame: object) -> None:
    raise Hung("the command did not return within 60 s")


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """The console script's main (shell.fast, then shell.cli) in this process -> (exit code, stdout,
    stderr). A blocked call (a FIFO opened for
    reading) is interrupted by SIGALRM after 60 s, so a regression fails the case instead of hanging."""
    from shell import fast

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    old = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 60)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            fast.main(argv)
        except SystemExit as e:
            code = e.code
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return (
        (code if isinstance(code, int) else (0 if code is None else 1)),
        out.getvalue(),
        err.getvalue(),
    )


def invoke_process(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    r = subprocess.run(
        [sys.executable, "-c", "import sys; from shell.fast import main; main(sys.argv[1:])", *argv],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, timeout=60,
    )  # fmt: skip
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_corpus(case: Case, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.needs:
        pytest.importorskip(case.needs)
    if case.setup:
        case.setup(root)
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    before = snapshot(root, case.protect)
    outside = sorted(p.name for p in root.parent.iterdir())
    runs = root / ".gate/runs"
    old_runs = set(runs.iterdir()) if runs.is_dir() else set()
    if case.subprocess:
        env = {"GATE_ROOT": str(root), "PYTHONPATH": str(REPO), **case.env}
        code, _, err = invoke_process(list(case.argv), env, root)
    else:
        code, _, err = invoke(list(case.argv))
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == case.code, f"exit {code}, expected {case.code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert case.needle in lines[0], f"{case.needle!r} not in {lines[0]!r}"
    after = snapshot(root, case.protect)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, f"changed or removed: {changed}"
    new_golden = sorted(k for k in set(after) - set(before) if k.startswith("artifacts"))
    assert not new_golden, f"written under artifacts/: {new_golden}"
    assert sorted(p.name for p in root.parent.iterdir()) == outside, "written outside the root"
    for rdir in (set(runs.iterdir()) if runs.is_dir() else set()) - old_runs:
        last = orjson.loads((rdir / "receipt.jsonl").read_bytes().splitlines()[-1])
        assert last["event"] == "verdict" and last["exit_code"] == case.code, last  # a closed run


def test_every_command_has_a_case() -> None:
    """A command added to `gate` gets a corpus case: each leaf command appears in some case's argv."""
    import typer.main

    from shell import cli

    def leaves(cmd, path=()):  # noqa: ANN001, ANN202
        subs = getattr(cmd, "commands", None)
        if subs:
            if getattr(cmd, "invoke_without_command", False) and path:
                yield path
            for name, sub in subs.items():
                yield from leaves(sub, (*path, name))
        else:
            yield path

    missing = [
        " ".join(p)
        for p in leaves(typer.main.get_command(cli.build_app()))
        if not any(c.argv[: len(p)] == tuple(p) for c in CORPUS)
    ]
    # planned gates (m4..m13) only say "planned": one case stands for all of them
    missing = [m for m in missing if not (m.startswith("m") and m[1:].isdigit() and int(m[1:]) > 3)]
    assert not missing, f"commands without a corpus case: {missing}"


def test_ledger_rebuild_restores_runs_from_receipts(root: Path) -> None:
    """After the ledger is replaced by garbage, `gate ledger rebuild` brings every run back."""
    code, _, err = invoke(["m3", "build-rom", "--out", "roms/again.gb"])
    assert code == 0, err
    code, out, _ = invoke(["runs", "--json"])
    runs = orjson.loads(out)["runs"]
    corrupt_ledger(root)
    assert invoke(["runs"])[0] == 2
    code, out, err = invoke(["ledger", "rebuild", "--json"])
    assert code == 0 and orjson.loads(out)["runs"] == len(runs), err
    code, out, _ = invoke(["runs", "--json"])
    again = orjson.loads(out)["runs"]
    keep = ("id", "gate", "kind", "exit_code", "passed", "backend", "config_hash", "artifacts")
    assert [{k: r[k] for k in keep} for r in again] == [{k: r[k] for k in keep} for r in runs]


def test_parallel_approvals_serialize(root: Path) -> None:
    """Three processes approve at once, each five times in a row with --force: versions never repeat,
    every replaced golden is kept in .history, no process fails, no temporary is left."""
    candidate([GOOD])(root)
    log = root / "artifacts/m3/approvals.jsonl"
    start = len(log.read_bytes().splitlines())
    env = {**os.environ, "GATE_ROOT": str(root), "PYTHONPATH": str(REPO)}
    rounds, procs = 5, 3
    code = (
        "from shell.golden import approve\n"
        f"for _ in range({rounds}): approve('m3', {RID!r}, None, True)\n"
    )
    ps = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=root,
                           stderr=subprocess.PIPE) for _ in range(procs)]  # fmt: skip
    for p in ps:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    versions = [orjson.loads(x)["version"] for x in log.read_bytes().splitlines()]
    assert versions == list(range(1, start + rounds * procs + 1))
    hist = root / "artifacts/m3/.history/goal_template"
    assert sorted(int(p.name[1:]) for p in hist.iterdir()) == list(
        range(start, start + rounds * procs)
    )
    assert not [p for p in (root / "artifacts/m3").iterdir() if ".tmp-" in p.name]
    gold = {p.name: p.read_bytes() for p in (root / GOLD).iterdir()}
    assert gold == {p.name: p.read_bytes() for p in (REPO / GOLD).iterdir()}
