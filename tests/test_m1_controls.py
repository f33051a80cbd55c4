"""Gate m1's negative controls for issue 8: frames spread over whole episodes (not opening screens), a
set of near-identical frames refused (exit 2), a codec that loses what moves fails `psnr_moving`
while passing the global PSNR, a codec that is JPEG fails `beats_baseline`, readable pictures.

Each control swaps in a test codec (the FrameCodec protocol) and, where the game must be one its
authors did not write, a synthetic dataset, by patching what gates/m1/run.py imported."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import orjson
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from core.metrics import (
    background,
    frame_variety,
    masked_sq_error,
    moving_mask,
    psnr,
    psnr_of_sq_error,
    to_unit,
)
from shell.datasets import Dataset
from tests.conftest import gate_cli

runner = CliRunner()
FAST = ["--set", "timing_runs=1", "--set", "device_threads=1", "--device", "cpu", "--json"]
TINY_EVAL = ["--set", "eval_episodes=2", "--set", "eval_steps=100", "--set", "eval_start=40"]
TINY_EVAL += ["--set", "eval_noop_max=4", "--set", "eval_stride=30", *FAST]


def gate(*args: str):
    return runner.invoke(gate_cli(), list(args))


def criteria(res) -> dict[str, dict]:
    return {c["name"]: c for c in orjson.loads(res.stdout)["criteria"]}


class Subsample:
    """A cheap codec that keeps every 4th pixel each way (1/16 of the bytes): the scenery's big blocks
    survive exactly, small moving objects are lost or misplaced."""

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return frames[:, ::4, ::4].contiguous()  # uint8 [N, H/4, W/4, 3]

    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        up = latents.repeat_interleave(4, 1).repeat_interleave(4, 2)[:, : size[0], : size[1]]
        return to_unit(up)  # [N, 3, H, W]

    def latent_bytes(self, h: int, w: int) -> int:
        return (h // 4) * (w // 4) * 3


class Jpeg:
    """JPEG (4:2:0, quality 90) padded to a fixed 16,384-byte latent: an image codec, not a model."""

    BYTES = 16_384

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        out = torch.zeros((frames.shape[0], self.BYTES), dtype=torch.uint8)
        for i, f in enumerate(frames.numpy()):
            buf = io.BytesIO()
            Image.fromarray(f).save(buf, format="JPEG", quality=90)
            data = buf.getvalue()[: self.BYTES]
            out[i, : len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        return out

    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        ims = [
            np.asarray(Image.open(io.BytesIO(z.numpy().tobytes())).convert("RGB")) for z in latents
        ]
        return to_unit(torch.from_numpy(np.stack(ims)))

    def latent_bytes(self, h: int, w: int) -> int:
        return self.BYTES


def use_codec(monkeypatch: pytest.MonkeyPatch, codec: object) -> None:
    import gates.m1.run as m1run

    about = {"name": type(codec).__name__, "path": None, "meta_sha256": None}
    monkeypatch.setattr(m1run, "load_model", lambda ctx, *a, **k: (codec, None, about))


def use_frames(monkeypatch: pytest.MonkeyPatch, frames: np.ndarray) -> None:
    import gates.m1.run as m1run

    e, t = frames.shape[:2]
    ds = Dataset(frames, np.zeros((e, t - 1), np.int64), {}, {"train": [], "heldout": []},
                 {"backend": "synthetic", "game": "balls"})  # fmt: skip
    monkeypatch.setattr(m1run, "collect_frames", lambda *a, **k: ds)


def balls(episodes: int = 4, steps: int = 120, size: int = 128) -> np.ndarray:
    """A game nobody here wrote: a static wall of 8-px blocks and two 3x3 balls bouncing around."""
    rng = np.random.default_rng(7)
    bg = np.zeros((size, size, 3), np.uint8)
    bg[:] = (60, 70, 120)
    for _ in range(6):
        y, x = rng.integers(0, size // 8 - 2, 2) * 8
        bg[y : y + 16, x : x + 24] = rng.integers(40, 200, 3)
    out = np.empty((episodes, steps + 1, size, size, 3), np.uint8)
    for e in range(episodes):
        pos = rng.uniform(10, size - 10, (2, 2))
        vel = rng.uniform(-3, 3, (2, 2))
        for t in range(steps + 1):
            f = bg.copy()
            for y, x in pos.astype(int):
                f[y - 1 : y + 2, x - 1 : x + 2] = (170, 180, 200)
            out[e, t] = f
            pos += vel
            bounce = (pos < 4) | (pos > size - 5)
            vel[bounce] *= -1
            pos = pos.clip(4, size - 5)
    return out


BALLS_EVAL = ["--set", "eval_episodes=4", "--set", "eval_steps=120", "--set", "eval_start=0"]
BALLS_EVAL += ["--set", "eval_noop_max=10", "--set", "eval_stride=10", *FAST]


def test_moving_pixels_measure_what_moves() -> None:
    frames = torch.from_numpy(balls(1, 40)[0])  # [T, H, W, 3]
    bg = background(frames)
    assert (bg == torch.from_numpy(balls(1, 1)[0, 0])).float().mean() > 0.99  # the balls vanish
    mask = moving_mask(frames, bg)
    assert 0 < mask.float().mean() < 0.01  # two 3x3 balls in 128x128
    x = to_unit(frames)
    painted = to_unit(bg.expand_as(frames))  # a "codec" that paints the background
    assert psnr(painted, x).mean() > 30  # the global measure is fooled ...
    assert psnr_of_sq_error(*masked_sq_error(painted, x, mask)) < 15  # ... the moving one is not
    assert frame_variety(frames[:1].expand(5, -1, -1, -1)) == 0


def test_near_identical_frames_are_refused(project, monkeypatch) -> None:
    intro = np.repeat(balls(4, 0), 121, axis=1)  # [4, 121, H, W, 3]: every frame the same screen
    intro[:, ::2, :2, :2] = 255  # a blinking corner (Ms. Pac-Man's intro changes 0.5 % of pixels)
    use_codec(monkeypatch, Subsample())
    use_frames(monkeypatch, intro)
    res = gate("m1", *BALLS_EVAL)
    assert res.exit_code == 2, res.output
    assert "near-identical" in res.stderr and "eval_stride" in res.stderr


def test_jpeg_passes_psnr_but_does_not_beat_the_jpeg_baseline(project, monkeypatch) -> None:
    use_codec(monkeypatch, Jpeg())
    res = gate("m1", *TINY_EVAL)
    assert res.exit_code == 1, res.output
    crit = criteria(res)
    assert crit["psnr"]["passed"] and crit["ssim"]["passed"], res.output
    assert not crit["beats_baseline"]["passed"]
    metrics = {m["name"]: m["value"] for m in orjson.loads(res.stdout)["metrics"]}
    assert metrics["jpeg_bytes"] <= 16_384 and metrics["webp_bytes"] <= 16_384
    assert metrics["jpeg_psnr"] >= metrics["psnr"] - 0.5
    # the level clusters are informative, beside the same figure on raw pixels, and no criterion
    assert {"latent_level_1nn", "pixels_level_1nn"} <= set(metrics)
    assert not {"latent_level_1nn", "pixels_level_1nn"} & set(crit)


@pytest.mark.parametrize("fmt", ["jpeg", "jpeg420", "webp"])
def test_baselines_use_the_best_quality_within_the_budget(fmt: str) -> None:
    from gates.m1.baselines import FORMATS, _encode, best_under

    frame = balls(1, 0, 64)[0, 0]
    budget = 1200
    out, nbytes, q = best_under(frame, fmt, budget)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert nbytes <= budget
    if q < FORMATS[fmt][2]:  # one step up no longer fits
        assert len(_encode(Image.fromarray(frame), fmt, q + 1)) > budget


def test_frames_span_whole_episodes_with_varied_starts() -> None:
    from gates.common.evaldata import EVAL_SEED, collect_frames
    from gates.m1.config import M1Config
    from gates.m1.run import pick_steps

    cfg = M1Config()
    steps = pick_steps(cfg)
    assert 80 <= sum(len(s) for s in steps) <= 120
    assert len({int(s[0]) for s in steps}) >= 4  # varied starts
    assert min(int(s[0]) for s in steps) >= cfg.eval_start
    ds = collect_frames("builtin", cfg.game, cfg.eval_episodes, cfg.eval_steps, EVAL_SEED)
    cam = np.concatenate([ds.truth["camera_x"][e, s] for e, s in enumerate(steps)])
    assert len(np.unique(cam)) > 40 and np.ptp(cam) > 300  # the camera has scrolled, far


def test_a_codec_that_loses_small_moving_objects_fails_psnr_moving(project, monkeypatch) -> None:
    """...and the reconstruction picture names its rows (worst/median/best with PSNR) and columns."""
    from shell import pictures

    seen: list[SimpleNamespace] = []
    real = pictures.labelled_grid

    def spy(rows, title, row_labels, col_labels, **kw):
        seen.append(SimpleNamespace(title=title, rows=list(row_labels), cols=list(col_labels)))
        return real(rows, title, row_labels, col_labels, **kw)

    monkeypatch.setattr(pictures, "labelled_grid", spy)
    use_codec(monkeypatch, Subsample())
    use_frames(monkeypatch, balls())
    res = gate("m1", *BALLS_EVAL)
    assert res.exit_code == 1, res.output
    crit = criteria(res)
    assert crit["psnr"]["passed"] and crit["ssim"]["passed"] and crit["latent_ratio"]["passed"]
    assert not crit["psnr_moving"]["passed"] and crit["psnr_moving"]["value"] < 20
    grid = next(s for s in seen if "held-out" in s.title)
    assert [r.split(" ")[0] for r in grid.rows] == ["worst", "median", "best"]
    assert all("PSNR" in r and "dB" in r for r in grid.rows)
    assert grid.cols[:3] == ["truth", "reconstruction", "|error| (0..0.25)"]
