"""Request and response bodies (pydantic): what /openapi.json publishes and clients rely on."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

GATE_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionCreate(Strict):
    model: str = Field("predictor", max_length=128, description="a world model from /v1/models")
    game: Literal["platformer"] = "platformer"
    seed: int = Field(0, ge=0, le=2**31 - 1)
    level: int | None = Field(
        None,
        ge=0,
        le=7,
        description="start of this level of the seed's 8 (else the seed draws one)",
    )
    start_png: str | None = Field(
        None, description="base64 PNG start frame (else the game's reset)"
    )


class SessionOut(BaseModel):
    id: str
    model: str
    frame: int
    context_frames: int
    height: int
    width: int
    n_actions: int
    ttl_s: float
    expires_in_s: float


class StepIn(Strict):
    action: int = Field(..., ge=0, le=255, description="an action index, 0..n_actions-1")
    format: Literal["png", "raw", "none"] = "png"


class StepOut(BaseModel):
    frame: int = Field(..., description="the frame counter after this step")
    format: Literal["png", "raw", "none"]
    data: str | None = Field(None, description="base64 of the PNG or raw RGB bytes")
    height: int
    width: int
    server_ms: float


class JobIn(Strict):
    gate: str = Field(..., pattern=GATE_ID)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    model: str | None = Field(None, max_length=256)
    config: dict[str, Any] = Field(default_factory=dict, description="--set key=value pairs")
    retries: int = Field(0, ge=0, le=5, description="re-runs after a crash (exit 4)")


class BatchIn(Strict):
    runs: list[JobIn] = Field(..., min_length=1, max_length=64)
    budget_s: float | None = Field(None, gt=0, le=86400, description="the batch's time budget")


class JobOut(BaseModel):
    id: str
    batch_id: str | None
    gate: str
    state: Literal["queued", "running", "passed", "failed", "error", "cancelled", "skipped"]
    attempts: int
    exit_code: int | None
    run_id: str | None
    error: str | None
    request: dict[str, Any]
    result: dict[str, Any] | None
    created_at: float
    updated_at: float


class BatchOut(BaseModel):
    id: str
    budget_s: float | None
    state: Literal["running", "done"]
    jobs: list[JobOut]


class RunsOut(BaseModel):
    runs: list[dict[str, Any]]


class Doc(BaseModel):
    """A free-form JSON document (the same as the command's --json)."""

    model_config = ConfigDict(extra="allow")


class ModelChoice(BaseModel):
    name: str
    summary: str


class WebConfig(BaseModel):
    key: str | None = Field(None, description="the pages' write key (only while reads are open)")
    models: list[ModelChoice] = Field(..., description="world models to play, the default first")
    demos: list[str]
    actions: list[str]
    levels: int


class ImageIn(Strict):
    image: str = Field(
        ..., max_length=1_400_000, description="base64 PNG or JPEG (resized to 256x256)"
    )


class ReconstructOut(BaseModel):
    width: int
    height: int
    mse: float
    psnr_db: float
    latent_bytes: int
    frame_bytes: int
    input: str = Field(..., description="base64 PNG: the frame the codec saw")
    reconstruction: str = Field(..., description="base64 PNG")
    heatmap: str = Field(..., description="base64 PNG: |error| per pixel, black 0, white >= 0.25")
