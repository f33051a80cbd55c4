"""gate m12 finetune: any registered model fine-tuned on a dataset, resumable, judged on held-out."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from shell.recordings import export_recording
from tests.conftest import gate_cli

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(gate_cli(), list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def dataset(project: Path) -> Path:
    """A tiny imported game (32x40 frames, 3 actions: a block moves with the action) and the goldens."""
    for g in ("m1", "m2"):
        shutil.copytree(REPO / "artifacts" / g, project / "artifacts" / g)
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 3, 24)
    x, frames = 10, []
    for t in range(25):
        f = np.full((32, 40, 3), 40, np.uint8)
        f[8:16, x : x + 6] = (250, 200, 0)
        frames.append(f)
        x = int(np.clip(x + (acts[t] - 1) * 2, 0, 34)) if t < 24 else x
    export_recording(project / "rec", np.stack(frames), acts)
    code, out, err = invoke("data", "import", str(project / "rec"), "--episode-steps", "8",
                            "--out", str(project / "ds"), "--game", "blocks")  # fmt: skip
    assert code == 0, err
    return project / "ds"


def _receipt_metrics(project: Path, skip: tuple[str, ...] = ()) -> tuple[str, dict]:
    """The m12 run (the only one not in skip: run ids of one second do not sort by time)."""
    (run,) = [
        p for p in (project / ".gate/runs").iterdir() if "-m12-" in p.name and p.name not in skip
    ]
    events = [orjson.loads(x) for x in (run / "receipt.jsonl").read_bytes().splitlines()]
    return run.name, {e["name"]: e["value"] for e in events if e["event"] == "metric"}


def test_finetune_autoencoder_resumes_and_is_judged(dataset: Path, project: Path) -> None:
    code, _, err = invoke("m12", "finetune", "--from", "autoencoder", "--data", str(dataset),
                          "--steps", "3", "--batch", "2")  # fmt: skip
    assert code == 0, err
    rid, m = _receipt_metrics(project)
    assert m["steps"] == 3 and np.isfinite(m["heldout_psnr"]) and "heldout_psnr_moving" in m
    cand = project / ".gate/runs" / rid / "autoencoder-blocks"
    assert (cand / "model.safetensors").is_file()
    code, _, err = invoke("m12", "finetune", "--from", "autoencoder", "--data", str(dataset),
                          "--steps", "5", "--batch", "2", "--resume", rid)  # fmt: skip
    assert code == 0, err
    assert _receipt_metrics(project, (rid,))[1]["steps"] == 5  # 3 done, 2 more
    from shell.builtin_models import load_autoencoder

    codec = load_autoencoder(cand, "cpu", {})
    assert codec.latent_bytes(32, 40) > 0


def test_finetune_predictor_adapts_the_action_set(dataset: Path, project: Path) -> None:
    code, _, err = invoke("m12", "finetune", "--from", "predictor", "--data", str(dataset),
                          "--steps", "2", "--batch", "2")  # fmt: skip
    assert code == 0, err
    _, m = _receipt_metrics(project)
    assert np.isfinite(m["heldout_mse"]) and m["heldout_baseline_mse"] > 0


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("--from", "nosuch"), 2, "--from nosuch"),
        (("--from", "autoencoder", "--steps", "-1"), 2, "--steps"),
    ],
)
def test_bad_finetune_input(dataset: Path, args: tuple, code: int, needle: str) -> None:
    rc, _, err = invoke("m12", "finetune", "--data", str(dataset), *args)
    assert rc == code, err
    assert needle in err and "Traceback" not in err
