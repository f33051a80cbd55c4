"""The published shapes of what worldgate writes: receipt events, artifact metadata, ledger rows.

Each is a pydantic model; `gate schema NAME` prints its JSON Schema and the tests validate what the
code really writes against the same models, so the schema cannot drift from the files.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

TS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
SHA = r"^[0-9a-f]{64}$"
Number = float | None  # NaN and infinities are written as null (JSON has no NaN)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ts: str = Field(pattern=TS)
    run_id: str
    gate: str


class Start(_Event):
    event: Literal["start"]
    config: dict[str, Any]
    backend: str | None
    device: str
    commit: str | None
    argv: list[str]
    verb: str | None


class Step(_Event):
    model_config = ConfigDict(extra="allow")  # the gate's own per-step fields (--log-jsonl)
    event: Literal["step"]


class Progress(_Event):
    model_config = ConfigDict(extra="allow")
    event: Literal["progress"]


class Metric(_Event):
    event: Literal["metric"]
    name: str
    value: Number
    unit: str


class CriterionEvent(_Event):
    event: Literal["criterion"]
    name: str
    value: Number
    op: Literal["<", "<=", ">", ">=", "=="]
    threshold: float
    passed: bool


class ArtifactEvent(_Event):
    event: Literal["artifact"]
    path: str
    sha256: str = Field(pattern=SHA)
    name: str | None = None
    meta: str | None = None
    files: int | None = None
    kind: str | None = None


class InputEvent(_Event):
    model_config = ConfigDict(extra="allow")  # role-specific provenance fields
    event: Literal["input"]
    path: str
    sha256: str = Field(pattern=SHA)


class Verdict(_Event):
    event: Literal["verdict"]
    passed: bool
    exit_code: int = Field(ge=0, le=4)
    duration_s: float


class ErrorEvent(_Event):
    event: Literal["error"]
    kind: str
    message: str


ReceiptEvent = Annotated[
    Start
    | Step
    | Progress
    | Metric
    | CriterionEvent
    | ArtifactEvent
    | InputEvent
    | Verdict
    | ErrorEvent,
    Field(discriminator="event"),
]


class LedgerRun(BaseModel):
    """One row of the ledger's `runs` table, JSON columns decoded (shell/ledger.py)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    gate: str
    kind: str
    started_at: str
    finished_at: str | None
    duration_s: float | None
    exit_code: int | None
    passed: bool | None
    backend: str | None
    device: str | None
    git_commit: str | None
    config_hash: str | None
    config: dict[str, Any] | None
    artifacts: list[str] | None
    argv: list[str] | None
    fingerprint: str | None
    inputs: dict[str, str] | None


def _artifact_meta() -> Any:
    from shell.store import ArtifactMeta

    return ArtifactMeta


def _model_meta() -> Any:
    from shell.checkpoints import ModelMeta

    return ModelMeta


SCHEMAS = {  # name -> (what it describes, a callable giving the model or adapter)
    "receipt": ("one line of .gate/runs/RUN_ID/receipt.jsonl", lambda: TypeAdapter(ReceiptEvent)),
    "artifact-meta": ("an artifact's metadata file (every artifact)", _artifact_meta),
    "model-meta": ("a model checkpoint's meta.json (adds model and training)", _model_meta),
    "ledger-run": (
        "a row of the ledger's runs table, as gate runs --json shows it",
        lambda: LedgerRun,
    ),
}


def adapter(name: str) -> TypeAdapter:
    obj = SCHEMAS[name][1]()
    return obj if isinstance(obj, TypeAdapter) else TypeAdapter(obj)


def json_schema(name: str) -> dict[str, Any]:
    doc = adapter(name).json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc.setdefault("title", name)
    doc["description"] = SCHEMAS[name][0]
    return doc
