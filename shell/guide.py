"""Run a guide's commands: every ```sh block of a Markdown guide (docs/TRAINING.md), command by command,
in a clean temporary project, with tiny budgets, so the guide cannot go stale.

A command is a line (with `\\` continuations) that starts with `uv run gate`, optionally after
`NAME=value` environment assignments; comments and other lines are not commands. `RUN_ID` stands for
the run the previous run-making command made. Budgets are cut to `TINY` (flags the command has are
changed, the others added). The project is "checkout-like": the goldens (artifacts/), the ROM (roms/) and a sample
recording at `my-session/` (48 steps of the ROM through pyboy: a play session's PNGs + actions.jsonl),
nothing else; CI is unset inside it (approving there touches no repository).

`python -m shell.guide GUIDE --root DIR [--json]` runs one in this process (gate m12 starts it as a
process of its own, so the gate's run and the guide's runs never share state); `run_guide` from Python.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^```(\w*)\s*$")
ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=")
TINY: dict[tuple[str, ...], dict[str, str]] = {
    ("data", "collect"): {"--episodes": "4", "--steps": "10"},
    ("data", "import"): {"--episode-steps": "12"},
    ("m12", "finetune"): {"--steps": "2", "--batch": "2"},
    ("m1", "train"): {"--steps": "2", "--episodes": "2", "--episode-steps": "8", "--batch": "4",
                      "--crop": "16"},
    ("m2", "train"): {"--steps": "2", "--episodes": "2", "--episode-steps": "8", "--batch": "2"},
}  # fmt: skip
RESUMED_STEPS = "4"  # a command that resumes continues past the tiny budget it resumes


@dataclass
class Command:
    line: int  # where it starts in the guide
    text: str
    env: dict[str, str]
    argv: list[str]  # after `uv run gate`


@dataclass
class Result:
    line: int
    text: str
    argv: list[str]
    code: int
    seconds: float
    tail: str = ""
    run_id: str = ""


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.code == 0 for r in self.results)


def commands(text: str) -> list[Command]:
    out: list[Command] = []
    lang, buf, start = None, "", 0
    for i, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line.strip())
        if m and lang is None:
            lang = m.group(1)
            continue
        if m:
            lang = None
            continue
        if lang != "sh":
            continue
        body = line.split(" #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not buf:
            start = i
        if body.endswith("\\"):
            buf += body[:-1] + " "
            continue
        buf += body
        words, buf = shlex.split(buf), ""
        env = {}
        while words and ENV.match(words[0]):
            k, v = words.pop(0).split("=", 1)
            env[k] = v
        if words[:3] == ["uv", "run", "gate"]:
            out.append(Command(start, " ".join(words), env, words[3:]))
    return out


def tiny(argv: list[str]) -> list[str]:
    cut = TINY.get(tuple(argv[:2]), {})
    if "--resume" in argv:
        cut = {**cut, "--steps": RESUMED_STEPS}
    out = list(argv)
    for i, a in enumerate(out[:-1]):
        if a in cut:
            out[i + 1] = cut[a]
    return out + [x for k, v in cut.items() if k not in argv for x in (k, v)]


def prepare(root: Path, repo: Path) -> None:
    """A clean checkout-like project at root: the goldens, the ROM and a sample recording."""
    for sub in ("artifacts", "roms"):
        shutil.copytree(repo / sub, root / sub, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".history"))  # fmt: skip
    (root / "pyproject.toml").write_text('[project]\nname = "my-worldgate-project"\n')
    sample_recording(root / "my-session", root / "roms" / "worldgate.gb")


def sample_recording(dest: Path, rom: Path, steps: int = 48) -> None:
    """A play session of the project's ROM as a user would record it: PNG frames + actions.jsonl."""
    from shell.datasets import collect
    from shell.recordings import export_recording

    ds = collect("pyboy", 1, steps, policy="scripted", seed=3, rom=str(rom), rgb=True)
    export_recording(dest, ds.truth["rgb"][0], ds.actions[0])


def run_guide(guide: Path, root: Path, repo: Path, budget_s: float = 600.0) -> Report:
    """Every command of the guide, in order, in a fresh project at root; stops at the first failure."""
    from shell.fast import main

    prepare(root, repo)
    report = Report()
    t_end = time.monotonic() + budget_s
    last_run = ""
    for cmd in commands(guide.read_text()):
        argv = [last_run if a == "RUN_ID" else a for a in tiny(cmd.argv)]
        before = _runs(root)
        t0 = time.perf_counter()
        out = io.StringIO()
        with (
            _project(root, cmd.env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(out),
        ):
            try:
                main(argv)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
            except Exception as e:  # noqa: BLE001 - a crash is the guide's failure, reported
                print(f"{type(e).__name__}: {e}")
                code = 4
        new = sorted(_runs(root) - before)
        last_run = new[-1] if new else last_run
        report.results.append(Result(cmd.line, cmd.text, argv, code, time.perf_counter() - t0,
                                     out.getvalue()[-600:], new[-1] if new else ""))  # fmt: skip
        if code != 0 or time.monotonic() > t_end:
            break
    return report


def _runs(root: Path) -> set[str]:
    d = root / ".gate" / "runs"
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


@contextlib.contextmanager
def _project(root: Path, env: dict[str, str]):  # noqa: ANN202
    keep = dict(os.environ)
    cwd = os.getcwd()
    os.environ.update({"GATE_ROOT": str(root), **env})
    for k in ("GATE_STATE", "CI", "GATE_ZOO"):
        os.environ.pop(k, None) if k not in env else None
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(keep)


def main(argv: list[str] | None = None) -> None:
    import orjson

    args = sys.argv[1:] if argv is None else argv
    guide, root = Path(args[0]), Path(args[args.index("--root") + 1])
    repo = Path(__file__).resolve().parents[1]
    budget = float(args[args.index("--budget") + 1]) if "--budget" in args else 600.0
    rep = run_guide(guide, root, repo, budget)
    doc: dict[str, Any] = {"ok": rep.ok, "results": [asdict(r) for r in rep.results]}
    sys.stdout.write(orjson.dumps(doc).decode() + "\n")
    sys.exit(0 if rep.ok else 1)


if __name__ == "__main__":
    main()
