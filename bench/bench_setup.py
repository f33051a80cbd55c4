"""The one test that matters' set-up time, as a new user meets it: a fresh clone of this checkout,
`uv run` installing from uv.lock and `gate play` generating its first frame, timed end to end, with
uv's package cache as it is here (what `gate m8` measures) and with an empty one (every package
downloaded from the index: the first install on a new machine).

    uv run python bench/bench_setup.py [--model candidates/m4/predictor] [--cold]

Prints one Markdown row per setting. The target (issue 16): under 10 minutes.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from gates.m8.setup import time_setup

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "candidates/m4/predictor"))
    ap.add_argument("--cold", action="store_true", help="also with an empty uv cache")
    ap.add_argument(
        "--budget", type=float, default=1800.0, help="seconds before a setting is stopped"
    )
    args = ap.parse_args()
    model = str(Path(args.model).resolve())
    print("| uv cache | seconds to the first frame | what happened |\n| --- | --- | --- |")
    secs, line = time_setup(ROOT, model, args.budget)
    print(f"| as it is here | {secs if secs is None else round(secs, 1)} | {line} |", flush=True)
    if args.cold:
        cache = Path(tempfile.mkdtemp(prefix="m8-cold-cache-", dir=ROOT / ".gate" / "tmp"))
        try:
            secs, line = time_setup(ROOT, model, args.budget, {"UV_CACHE_DIR": str(cache)})
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        print(f"| empty | {secs if secs is None else round(secs, 1)} | {line} |")


if __name__ == "__main__":
    main()
