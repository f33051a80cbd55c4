"""Gate m8 "perf" (functional-milestones, Milestone 7, and "the one test that matters").

The roadmap's tiers are GPUs this project does not hold; m8 measures what is here, never a projection.
The judged world model (--model, default m4's golden) is played as `gate play` plays it: one frame of
context, then one generated frame per action at batch 1, each fed back (shell/play.py). Beside it every
other world-model golden found under artifacts/ is played the same way, at 1 and 2 CPU threads and on
CUDA where present: the tiers table (`m8_tiers.png`), each row labelled with the roadmap's tier whose
FPS it reaches on this device. Criteria (numbers in gates/m8/spec.py):

- fps: frames/s of that play on this CPU at 2 threads (the one test that matters asks >= 8 with no GPU).
- memory_gb: the run's peak resident memory (an upper bound for play alone: the gate's own imports and
  every row's model are in it); on CUDA also the peak allocated VRAM, the larger of the two.
- model_file_gb: the judged model's folder on disk.
- quality: the judged model's weights (sha256 of its files) are those of a passing m4 run and a passing
  m5 run in this project's ledger ("good enough": it generates and it follows the actions).
- setup_minutes: a fresh `git clone` of this checkout, `uv run` installing from uv.lock (the README's
  command) and `gate play` generating its first frame, timed end to end (uv's package cache as it is on
  this machine: bench/bench_setup.py times it with an empty cache too).
- cpu_share_on_cuda (on CUDA only): CPU time per wall second while playing on the GPU.

A passing m8 is "the one test that matters" (`gate status`, composite one-test).
Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from gates.m8.spec import CPU_SHARE, FILE_GB, FPS, MEMORY_GB, SETUP_MINUTES
from shell.registry import Criterion as C
from shell.registry import Gate, lazy

GATE = Gate(
    "m8",
    "perf",
    "functional-milestones, Milestone 7",
    ("m7",),
    (
        C("fps", ">=", FPS, "FPS", "batch-1 play on this CPU, 2 threads, no GPU"),
        C("memory_gb", "<=", MEMORY_GB, "GB", "peak resident memory (and VRAM on CUDA)"),
        C("model_file_gb", "<", FILE_GB, "GB", "the judged model's files"),
        C("quality", "==", 1, "", "the same weights passed m4 and m5"),
        C("setup_minutes", "<", SETUP_MINUTES, "min", "fresh clone, install, first frame"),
        C("cpu_share_on_cuda", "<", CPU_SHARE, "", "CPU busy while playing on the GPU", "cuda"),
    ),
    run=lazy("gates.m8.run:evaluate"),
    config=lazy("gates.m8.config:M8Config"),
    summary="speed, memory and set-up on consumer hardware",
    default_backend="builtin",
)
