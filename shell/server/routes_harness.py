"""The harness over HTTP, read-only: gates, the status matrix, runs and what a run left."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from shell.server.deps import reader
from shell.server.problems import Problem
from shell.server.schemas import Doc, RunsOut

router = APIRouter(prefix="/v1", tags=["harness"], dependencies=[Depends(reader)])
RUN_ID = r"^[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9_.-]+$"
PICTURE = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.png$"
RunId = Path(..., pattern=RUN_ID, max_length=128)


@router.get("/gates", response_model=Doc)
def gates() -> Any:
    """Every registered gate (built or planned): the same document as `gate list --json`."""
    from shell.listing import list_doc

    return list_doc()


@router.get("/status", response_model=Doc)
def status() -> Any:
    """The capability matrix: the same document as `gate status --json`."""
    from shell.listing import status_doc

    return status_doc()


@router.get("/runs", response_model=RunsOut)
def runs(
    gate: str | None = Query(None, max_length=64),
    verdict: Literal["pass", "fail", "error"] | None = None,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    """Runs from the ledger, newest first, filtered by gate, verdict and start date (ISO 8601)."""
    from shell import ledger, paths

    iso = lambda d: d.isoformat() if d is not None else None  # noqa: E731
    rows = ledger.query_runs(paths.ledger_path(), gate, verdict, iso(since), iso(until), limit)
    return {"runs": rows}


def _run(run_id: str) -> dict:
    from shell import ledger, paths

    if not re.match(RUN_ID, run_id):
        raise Problem(422, f"run_id: not a run id ({run_id[:40]!r})", "run_id")
    row = ledger.get_run(paths.ledger_path(), run_id)
    if row is None:
        raise Problem(404, f"no run {run_id} in the ledger", "run_id")
    return row


@router.get("/runs/{run_id}", response_model=Doc)
def run(run_id: str = RunId) -> Any:
    """One run: its ledger row, metrics and criteria, and the names of its pictures."""
    from shell import paths

    row = _run(run_id)
    d = paths.run_dir(run_id)
    row["pictures"] = sorted(p.name for p in d.glob("*.png")) if d.is_dir() else []
    return row


@router.get("/runs/{run_id}/receipt", response_model=Doc)
def receipt(run_id: str = RunId) -> Any:
    """The run's receipt: its JSONL lines as a list."""
    from shell import paths

    _run(run_id)
    f = paths.run_dir(run_id) / "receipt.jsonl"
    if not f.is_file():
        raise Problem(404, f"run {run_id}: its receipt is not on this machine", "run_id")
    return {"lines": [orjson.loads(x) for x in f.read_bytes().splitlines() if x.strip()]}


@router.get("/runs/{run_id}/lineage", response_model=Doc)
def run_lineage(run_id: str = RunId) -> Any:
    """What the run used (and which runs made it), what it produced, and which later runs used that:
    the same document as `gate lineage RUN_ID --json`."""
    from shell.errors import BadInput
    from shell.lineage import lineage

    _run(run_id)
    try:
        return lineage(run_id)
    except BadInput as e:
        raise Problem(404, str(e), "run_id") from None


@router.get("/runs/{run_id}/pictures/{name}", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})  # fmt: skip
def picture(
    run_id: str = RunId, name: str = Path(..., pattern=PICTURE, max_length=128)
) -> Response:
    """One of the run's pictures (PNG)."""
    from shell import paths

    _run(run_id)
    if not re.match(PICTURE, name):
        raise Problem(422, "name: a picture's file name (NAME.png)", "name")
    f = paths.run_dir(run_id) / name
    if not f.is_file():
        raise Problem(404, f"run {run_id} has no picture {name}", "name")
    return Response(f.read_bytes(), media_type="image/png")
