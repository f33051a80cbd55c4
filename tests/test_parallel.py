"""--nproc: data-parallel training through torch.distributed (gloo, CPU). Two processes with the same
global batch follow one process's loss curve (the same update up to float summation order)."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from tests.conftest import gate_cli

TINY = ("--steps", "6", "--episodes", "2", "--episode-steps", "8", "--batch", "4", "--crop", "16",
        "--log-every", "1", "--seed", "1", "--device", "cpu", "--threads", "1")  # fmt: skip


def _losses(project: Path, nproc: int) -> list[float]:
    runs = project / ".gate/runs"
    before = {p.name for p in runs.iterdir()} if runs.is_dir() else set()
    r = CliRunner().invoke(gate_cli(), ["m1", "train", *TINY, "--nproc", str(nproc)])
    assert r.exit_code == 0, r.stderr
    (run,) = [p for p in runs.iterdir() if p.name not in before]
    return [x["loss"] for x in orjson.loads((run / "autoencoder" / "train_log.json").read_bytes())]


def test_two_processes_match_one(project: Path) -> None:
    one = _losses(project, 1)
    two = _losses(project, 2)
    assert len(one) == len(two) == 6
    for a, b in zip(one, two, strict=True):
        assert abs(a - b) <= 1e-4 * max(1.0, abs(a)), (one, two)
    assert one[0] != one[-1]  # it trained


def test_batch_must_split_evenly(project: Path) -> None:
    args = [a if a != "4" else "3" for a in TINY]
    r = CliRunner().invoke(gate_cli(), ["m1", "train", *args, "--nproc", "2"])
    assert r.exit_code == 2 and "multiple of --nproc" in r.stderr
