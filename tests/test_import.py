"""gate data import: PNG frames + actions.jsonl -> a hashed dataset; bad input exit 2 naming file/line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from shell.datasets import load_dataset
from shell.recordings import export_recording, import_frames
from tests.conftest import gate_cli


def _recording(folder: Path, steps: int = 12, size: tuple[int, int] = (16, 24)) -> np.ndarray:
    frames = np.zeros((steps + 1, *size, 3), np.uint8)
    for t in range(steps + 1):
        frames[t, :, t % size[1]] = (255, 128, 0)
    export_recording(folder, frames, np.arange(steps) % 3)
    return frames


def _png(path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path)


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(gate_cli(), list(args))
    return r.exit_code, r.stdout, r.stderr


def test_import_cuts_episodes_and_round_trips(project: Path) -> None:
    frames = _recording(project / "rec")
    code, out, err = invoke("data", "import", str(project / "rec"), "--episode-steps", "4",
                            "--out", str(project / "ds"), "--action-names", "a,b,c")  # fmt: skip
    assert code == 0, err
    ds = load_dataset(Path(out.strip().splitlines()[-1]))
    assert ds.frames.shape == (3, 5, 16, 24, 3)  # 12 steps cut into 3 episodes of 4
    assert (ds.frames[1, 0] == frames[4]).all() and (ds.frames[2, -1] == frames[12]).all()
    assert ds.actions[1].tolist() == [1, 2, 0, 1]
    assert ds.meta["action_names"] == ["a", "b", "c"] and ds.meta["backend"] == "import"
    assert ds.split["heldout"] and ds.split["train"]


def test_subfolders_are_recordings(tmp_path: Path) -> None:
    _recording(tmp_path / "r" / "a", steps=6)
    _recording(tmp_path / "r" / "b", steps=6)
    ds = import_frames(tmp_path / "r")
    assert ds.frames.shape[:2] == (2, 7) and ds.meta["action_names"] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda d: (d / "000003.png").unlink(), "12 actions need 13 frames"),
        (lambda d: (d / "actions.jsonl").write_text("0\n[1]\n{\"action\": -1}\n"), "line 3"),
        (lambda d: (d / "000002.png").write_bytes(b"nope"), "000002.png: not a readable PNG"),
        (lambda d: _png(d / "000005.png"), "000005.png: 8x8 px, the first frame is 24x16"),
    ],
)  # fmt: skip
def test_bad_input_is_exit_2_naming_the_file(project: Path, damage, needle: str) -> None:  # noqa: ANN001
    d = project / "rec"
    _recording(d)
    damage(d)
    code, _, err = invoke("data", "import", str(d), "--episode-steps", "4")
    assert code == 2, err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
