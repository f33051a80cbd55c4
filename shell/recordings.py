"""Recordings -> datasets: a folder of PNG frames and an actions.jsonl becomes a shell.datasets.Dataset.

The format (docs/TRAINING.md, "Bring your own frames"):

    DIR/actions.jsonl      one line per step t = 0..T-1: the action taken between frame t and frame t+1,
                           as a JSON int, a list of one int (the trace format of traces/, one env), or
                           an object with an int "action" (a play session's log line)
    DIR/*.png              the T+1 frames, ordered by the number in their names (0.png, 000001.png...)

A recording is DIR itself when it holds actions.jsonl, else every sub-folder that holds one (sorted by
name; each is one recording). Frames are RGB (grey, palette and RGBA PNGs are converted) and all of one
size. Each recording is one episode, or is cut into episodes of `episode_steps` steps (the tail that does
not fill one is dropped), so that one long play session can be split into train and held-out episodes.
Anything else is BadInput naming the file (and the line).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from shell.errors import BadInput

ACTIONS = "actions.jsonl"
MAX_FRAMES = 200_000  # frames in one import (a typo guard: ~10 GB of 144x160 RGB)
MAX_PNG = 16 << 20
MAX_ACTIONS_FILE = 64 << 20
_NUM = re.compile(r"(\d+)")


def recordings(root: Path) -> list[Path]:
    """The recording folders under root (root itself, or its sub-folders holding an actions.jsonl)."""
    if not root.is_dir():
        raise BadInput(f"{root}: no such folder (a folder of PNG frames and an {ACTIONS})")
    if (root / ACTIONS).exists():
        return [root]
    subs = sorted(p for p in root.iterdir() if p.is_dir() and (p / ACTIONS).exists())
    if not subs:
        raise BadInput(f"{root / ACTIONS}: missing (nor does any sub-folder hold one)")
    return subs


def read_actions(path: Path) -> list[int]:
    from shell.safety import read_input_file

    out: list[int] = []
    data = read_input_file(path, "actions file", limit=MAX_ACTIONS_FILE)
    for i, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            v: Any = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise BadInput(f"{path}: line {i}: not JSON") from None
        if isinstance(v, dict):
            v = v.get("action")
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise BadInput(
                f"{path}: line {i}: expected an action: an int >= 0, [int] or "
                f'{{"action": int}}, got {line[:60].decode("utf-8", "replace")}'
            )
        out.append(v)
    if not out:
        raise BadInput(f"{path}: no actions (one line per step)")
    return out


def frame_files(folder: Path) -> list[Path]:
    pngs = [p for p in folder.iterdir() if p.suffix.lower() == ".png"]
    for p in pngs:
        if not _NUM.search(p.stem):
            raise BadInput(f"{p}: a frame's name must carry its number (000123.png)")
    return sorted(pngs, key=lambda p: (int(_NUM.findall(p.stem)[-1]), p.name))


def read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    from shell.safety import read_input_file

    data = read_input_file(path, "PNG frame", limit=MAX_PNG)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "PNG":
                raise BadInput(f"{path}: not a PNG ({im.format})")
            return np.asarray(im.convert("RGB"), dtype=np.uint8)  # [H, W, 3]
    except (UnidentifiedImageError, OSError, ValueError):
        raise BadInput(f"{path}: not a readable PNG") from None


def read_recording(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """-> frames uint8 [T+1, H, W, 3], actions int64 [T]."""
    actions = read_actions(folder / ACTIONS)
    files = frame_files(folder)
    if len(files) != len(actions) + 1:
        raise BadInput(
            f"{folder / ACTIONS}: {len(actions)} actions need {len(actions) + 1} frames, "
            f"found {len(files)} PNG files in {folder}"
        )
    if len(files) > MAX_FRAMES:
        raise BadInput(f"{folder}: {len(files)} frames, more than {MAX_FRAMES} in one import")
    frames = []
    for f in files:
        a = read_png(f)
        if frames and a.shape != frames[0].shape:
            raise BadInput(f"{f}: {a.shape[1]}x{a.shape[0]} px, the first frame is "
                           f"{frames[0].shape[1]}x{frames[0].shape[0]}")  # fmt: skip
        frames.append(a)
    return np.stack(frames), np.asarray(actions, dtype=np.int64)


def import_frames(
    root: Path,
    episode_steps: int = 0,
    seed: int = 0,
    heldout_fraction: float = 0.2,
    game: str = "",
    action_names: list[str] | None = None,
) -> Any:
    """A Dataset from the recordings under root (see the module docstring)."""
    from shell.datasets import PIPELINE_VERSION, Dataset, split_episodes
    from shell.store import sha256_bytes

    if episode_steps < 0:
        raise BadInput(
            f"--episode-steps {episode_steps}: must be >= 0 (0: one episode a recording)"
        )
    recs = [(r, *read_recording(r)) for r in recordings(root)]
    shape = recs[0][1].shape[1:]
    for r, f, _ in recs:
        if f.shape[1:] != shape:
            raise BadInput(f"{r}: frames of {f.shape[2]}x{f.shape[1]} px, {recs[0][0]} has "
                           f"{shape[1]}x{shape[0]}")  # fmt: skip
    eps: list[tuple[np.ndarray, np.ndarray]] = []
    for r, f, a in recs:
        k = episode_steps or len(a)
        if episode_steps == 0 and k != len(recs[0][2]):
            raise BadInput(f"{r / ACTIONS}: {k} steps, {recs[0][0]} has {len(recs[0][2])}: "
                           "cut them into equal episodes with --episode-steps N")  # fmt: skip
        eps += [(f[s : s + k + 1], a[s : s + k]) for s in range(0, len(a) - k + 1, k)]
    if len(eps) < 2:
        raise BadInput(
            f"{root}: {len(eps)} episode; needs 2 or more (one is held out): cut the recording "
            "with --episode-steps N"
        )
    frames = np.stack([f for f, _ in eps])  # uint8 [E, T+1, H, W, 3]
    actions = np.stack([a for _, a in eps])  # int64 [E, T]
    n = int(actions.max()) + 1
    names = list(action_names) if action_names else [str(i) for i in range(n)]
    if len(names) < n:
        raise BadInput(f"--action-names: {len(names)} names, but the actions reach {n - 1}")
    e, t = actions.shape
    meta = {
        "backend": "import", "game": game or root.name, "policy": "recorded",
        "policy_source": f"recorded ({len(recs)} recording(s) under {root.name})", "seed": seed,
        "episodes": e, "steps": t, "device": "cpu", "action_names": names, "codec_id": "import",
        "frame_spec": {"height": int(shape[0]), "width": int(shape[1]), "channels": 3, "levels": 256},
        "backend_options": {}, "heldout_fraction": heldout_fraction,
        "pipeline_version": PIPELINE_VERSION,
        "source_sha256": sha256_bytes(frames.tobytes() + actions.tobytes()),
    }  # fmt: skip
    done = np.zeros((e, t + 1), dtype=bool)
    return Dataset(frames, actions, {"done": done}, split_episodes(e, seed, heldout_fraction), meta)


def export_recording(folder: Path, frames: np.ndarray, actions: np.ndarray) -> None:
    """The inverse, for one episode (frames uint8 [T+1, H, W, 3], actions [T]): PNGs + actions.jsonl."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(np.ascontiguousarray(f)).save(folder / f"{i:06d}.png")
    (folder / ACTIONS).write_bytes(b"".join(b"%d\n" % int(a) for a in actions))
