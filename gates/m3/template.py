"""The m3 goal template artifact (simple-rl-m3-plan §4.2): goal_template.npy, goal_template.meta.json and
goal_template.png, written and loaded through the store with strict validation.

Paths in the metadata are relative to the project root (shell.paths.root()) when they lie under it, so a
golden made on one machine replays on another. No torch at import: the gate's declaration imports this.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shell import paths
from shell.errors import BadInput, Unavailable
from shell.store import ArtifactMeta, load_artifact, sha256_file

NAME = "goal_template"  # the artifact's folder: artifacts/m3/goal_template/
NPY, META, PNG = "goal_template.npy", "goal_template.meta.json", "goal_template.png"
PIPELINE_VERSION = (
    1  # bump when the renderer, shade pipeline, step timing or stack semantics change
)
CODEC_ID = "pokemonred_puffer_v0"
FRAMES_PER_STEP, RELEASE_AFTER = 24, 8  # simple-rl-m3-plan §0 and §4.2
DOWN_H, DOWN_W, STACK_K, SHADE_LEVELS = 72, 80, 4, 4  # simple-rl-m3-plan §4.1
DIST_METRIC = "l1_mean_norm"
SHA = r"^[0-9a-f]{64}$"


K_MAX = 1000  # core.goal.K_MAX (not imported: core.goal imports torch, this module must not)
# Every number of the meta is bounded at load, strictly typed (no "2" or true for an int): a value out of
# range is a bad artifact (exit 2), never something the matcher or the 32-bit reducer has to survive.
Int = dict(strict=True)


class GoalTemplateMeta(ArtifactMeta):
    rom_path: str
    rom_sha256: str = Field(pattern=SHA)
    start_state_path: str
    start_state_sha256: str = Field(pattern=SHA)
    actions_path: str
    actions_sha256: str = Field(pattern=SHA)
    action_codec_id: Literal["pokemonred_puffer_v0"]
    frames_per_step: int = Field(ge=1, le=600, **Int)  # up to 10 s a step at 60 Hz
    release_after_frames: int = Field(ge=1, le=600, **Int)  # checked against frames_per_step below
    downsample_h: int = Field(ge=1, le=144, **Int)  # the Game Boy screen is 160 x 144
    downsample_w: int = Field(ge=1, le=160, **Int)
    stack_k: int = Field(ge=1, le=64, **Int)
    shade_levels: int = Field(ge=2, le=256, **Int)  # uint8 shades
    dist_metric: Literal["l1_mean_norm"]
    tau: float = Field(
        gt=0, le=1, allow_inf_nan=False
    )  # dist lies in [0, 1]; tau = 0 never matches
    k_consecutive: int = Field(ge=1, le=K_MAX, **Int)  # the reducer's count saturates at k
    pipeline_version: int = Field(ge=1, le=10**6, **Int)

    @model_validator(mode="after")
    def _release(self) -> GoalTemplateMeta:
        if self.release_after_frames > self.frames_per_step:
            raise ValueError(
                f"release_after_frames {self.release_after_frames} exceeds frames_per_step "
                f"{self.frames_per_step}"
            )
        return self

    @field_validator("files")
    @classmethod
    def _names(cls, files: dict[str, Any]) -> dict[str, Any]:
        if NPY not in files or not set(files) <= {NPY, PNG}:
            raise ValueError(f"must list {NPY} (and optionally {PNG}), got {sorted(files)}")
        return files


def runtime_expect() -> dict[str, Any]:
    """What this build's pipeline is: a template made for anything else is refused (exit 2)."""
    return {
        "action_codec_id": CODEC_ID,
        "frames_per_step": FRAMES_PER_STEP,
        "release_after_frames": RELEASE_AFTER,
        "downsample_h": DOWN_H,
        "downsample_w": DOWN_W,
        "stack_k": STACK_K,
        "shade_levels": SHADE_LEVELS,
        "dist_metric": DIST_METRIC,
        "pipeline_version": PIPELINE_VERSION,
    }


def resolve(p: str | Path) -> Path:
    """A path as the user wrote it; relative paths are relative to the project root."""
    q = Path(p).expanduser()
    return q if q.is_absolute() else paths.root() / q


def shown(p: str | Path) -> str:
    """How a path is written in metadata and messages: root-relative (POSIX) when under the root."""
    q = resolve(p).resolve()
    try:
        return q.relative_to(paths.root().resolve()).as_posix()
    except ValueError:
        return str(q)


def read_input(p: str | Path, what: str) -> bytes:
    """The bytes of a ROM, start state or trace. A missing ROM is exit 3 (the user must supply it)."""
    from shell.safety import read_input_file

    q = resolve(p)
    if not q.exists():
        msg = f"{shown(p)}: no such {what} file"
        if what == "ROM":
            raise Unavailable(f"{msg} (supply a Game Boy ROM, or build ours: gate m3 build-rom)")
        raise BadInput(msg)
    return read_input_file(q, f"{what} file", name=shown(p))


def input_fields(rom: str | Path, state: str | Path, trace: str | Path) -> dict[str, str]:
    """The §4.2 provenance fields of the three inputs as they are on disk now."""
    out: dict[str, str] = {}
    for key, p, what in (("rom", rom, "ROM"), ("start_state", state, "start state"),
                         ("actions", trace, "trace")):  # fmt: skip
        read_input(p, what)
        out[f"{key}_path"] = shown(p)
        out[f"{key}_sha256"] = sha256_file(resolve(p))
    return out


def verify_inputs(m: GoalTemplateMeta, trace: str | Path | None = None) -> None:
    """Each input on disk must be the one the template was made from; exit 2 names file and field.

    The ROM and start state define the pixels and are always checked. The capture trace is provenance:
    it is checked when it is the trace being judged (or trace is None), and any other trace may be judged.
    """
    keys = [("rom", "ROM"), ("start_state", "start state")]
    if trace is None or shown(trace) == m.actions_path:
        keys.append(("actions", "trace"))
    for key, what in keys:
        p = getattr(m, f"{key}_path")
        read_input(p, what)
        have, want = sha256_file(resolve(p)), getattr(m, f"{key}_sha256")
        if have != want:
            raise BadInput(
                f"{shown(p)}: sha256 {have[:12]}... does not match {key}_sha256 {want[:12]}... in "
                f"{META} (the {what} changed since the template was made)"
            )


def decode_goal(data: bytes, where: str, stack_k: int = STACK_K) -> Any:
    """goal_template.npy bytes -> uint8 tensor [72, 80] or [K, 72, 80] of shades; BadInput otherwise."""
    import numpy as np
    import torch

    from core.goal import check_goal

    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # numpy says what is wrong with the header or the data
        raise BadInput(f"{where}: not a .npy array ({e})") from None
    if arr.dtype != np.uint8:
        raise BadInput(f"{where}: dtype must be uint8 shades, got {arr.dtype}")
    g = torch.from_numpy(np.ascontiguousarray(arr))
    shape = (DOWN_H, DOWN_W) if g.dim() == 2 else (stack_k, DOWN_H, DOWN_W)
    try:
        check_goal(g, shape)
    except ValueError as e:
        raise BadInput(f"{where}: {e}") from None
    return g


def encode_goal(goal: Any) -> dict[str, bytes]:
    """uint8 shades [72, 80] (or [K, 72, 80]) -> the artifact's files (.npy and a PNG for people)."""
    import numpy as np

    from shell.pictures import grid, png, shades_to_rgb, upscale

    arr = np.ascontiguousarray(goal.cpu().numpy())
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    frames = [arr] if arr.ndim == 2 else list(arr)
    pic = grid([[upscale(shades_to_rgb(f), 4) for f in frames]])
    return {NPY: buf.getvalue(), PNG: png(pic)}


def load_template(
    path: str | Path, rom: str, state: str, trace: str, tau: float | None, k: int | None
) -> tuple[GoalTemplateMeta, Any]:
    """Verify and read a template against this run -> (meta, goal tensor on the CPU).

    The ROM and start state must be the template's (paths and sha256). The trace may be any: the one the
    template was captured from must still hash to actions_sha256; another is judged as it is.
    """
    where = resolve(path)
    if not (where / META).is_file() and shown(path) == f"artifacts/m3/{NAME}":
        raise Unavailable(
            f"{shown(path)}: no golden goal template yet; make one with `gate m3 capture` and "
            "`gate approve m3 --run RUN_ID`"
        )
    expect = {
        **runtime_expect(),
        "rom_path": shown(rom),
        "start_state_path": shown(state),
    }
    if tau is not None:
        expect["tau"] = tau
    if k is not None:
        expect["k_consecutive"] = k
    m, files = load_artifact(where, GoalTemplateMeta, META, expect)
    goal = decode_goal(files[NPY], f"{shown(where / NPY)}", m.stack_k)
    verify_inputs(m, trace)
    return m, goal


def template_meta(m_inputs: dict[str, str], tau: float, k: int) -> dict[str, Any]:
    """The §4.2 fields beyond the store's own, for a template made now from these inputs."""
    return {**m_inputs, **runtime_expect(), "tau": float(tau), "k_consecutive": int(k)}
