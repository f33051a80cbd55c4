"""Wall time of the instant commands: `gate --help`, `gate list`, `gate status`.

Target: under 0.3 s each on a 2-core machine, torch never imported.
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

CHECK = "import sys\nfrom shell.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules, file=sys.stderr)\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    gate = Path(sys.executable).with_name("gate")
    env = {**os.environ, "GATE_ROOT": tempfile.mkdtemp()}
    print(f"{'command':<14} {'median s':>9} {'max s':>7}  torch imported")
    for cmd in (["--help"], ["list"], ["status"]):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([str(gate), *cmd], env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
        probe = subprocess.run(
            [sys.executable, "-c", CHECK, *cmd], env=env, capture_output=True, text=True
        )
        imported = probe.stderr.strip().splitlines()[-1]
        print(
            f"gate {' '.join(cmd):<9} {statistics.median(times):>9.3f} {max(times):>7.3f}  {imported}"
        )


if __name__ == "__main__":
    main()
