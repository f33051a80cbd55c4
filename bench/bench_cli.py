"""Wall time of the instant commands against the bare interpreter, in one run (a ratio, so a busy
shared machine moves both sides): `gate --help`, `gate list`, `gate status`, `gate models` beside the
venv's `python -c pass`, interleaved, median of --repeat runs each.

Target: <= 5x the bare interpreter each; torch, pydantic, typer never imported by them.
Run: uv run python bench/bench_cli.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHECK = (
    "import sys\nfrom shell.fast import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
    "    pass\nprint(','.join(m for m in ('torch', 'pydantic', 'typer', 'click', 'rich')"
    " if m in sys.modules) or 'none', file=sys.stderr)\n"
)
COMMANDS = (["--help"], ["list"], ["status"], ["models"])


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--root", default="", help="project root to list (default: a fresh empty one)")
    args = ap.parse_args()
    gate = Path(sys.executable).with_name("gate")
    env = {**os.environ, "GATE_ROOT": args.root or tempfile.mkdtemp()}
    bare = [sys.executable, "-c", "pass"]
    subprocess.run([str(gate), "list"], env=env, capture_output=True)  # warm the entry-point cache
    times: dict[str, list[float]] = {"python -c pass": []}
    for _ in range(args.repeat):  # interleaved: each round sees the same machine load
        times["python -c pass"].append(timed(bare, env))
        for cmd in COMMANDS:
            times.setdefault("gate " + " ".join(cmd), []).append(timed([str(gate), *cmd], env))
    base = statistics.median(times["python -c pass"])
    print("| command | median s | x bare python | imports of torch, pydantic, typer, click, rich |")
    print("| --- | --- | --- | --- |")
    print(f"| python -c pass | {base:.3f} | 1.0 | |")
    for cmd in COMMANDS:
        med = statistics.median(times["gate " + " ".join(cmd)])
        probe = subprocess.run(
            [sys.executable, "-c", CHECK, *cmd], env=env, capture_output=True, text=True
        )
        print(
            f"| gate {' '.join(cmd)} | {med:.3f} | {med / base:.1f} | {probe.stderr.strip().splitlines()[-1]} |"
        )


if __name__ == "__main__":
    main()
