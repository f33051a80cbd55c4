"""Gate runs as jobs: submit one or a batch, follow their status and results, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from shell.server.deps import reader, writer
from shell.server.jobs import FINAL
from shell.server.problems import Problem
from shell.server.schemas import BatchIn, BatchOut, JobIn, JobOut

router = APIRouter(prefix="/v1", tags=["jobs"])
JobId = Path(..., pattern=r"^j_[0-9a-f]{12}$")
BatchId = Path(..., pattern=r"^b_[0-9a-f]{12}$")


def _check(request: Request, runs: list[JobIn]) -> None:
    from shell.registry import load_gates

    reg, allowed = load_gates(), request.app.state.jobs.allowed
    for i, r in enumerate(runs):
        field = f"runs.{i}.gate" if len(runs) > 1 else "gate"
        if r.gate not in reg.gates:
            raise Problem(404, f"{field}: unknown gate {r.gate!r}", field)
        if allowed is not None and r.gate not in allowed:
            raise Problem(403, f"{field}: this server runs jobs only for {sorted(allowed)}", field)


@router.post("/jobs", status_code=202, response_model=JobOut)
def submit_job(body: JobIn, request: Request, key: dict = Depends(writer)) -> Any:
    """Queue one gate run (`gate run ID --json` in a worker)."""
    _check(request, [body])
    _, ids = request.app.state.jobs.submit([body.model_dump()], None, key["id"], batch=False)
    return request.app.state.store.get_job(ids[0])


@router.post("/batches", status_code=202, response_model=BatchOut)
def submit_batch(body: BatchIn, request: Request, key: dict = Depends(writer)) -> Any:
    """Queue several gate runs under one time budget."""
    _check(request, body.runs)
    jobs = request.app.state.jobs
    bid, _ = jobs.submit([r.model_dump() for r in body.runs], body.budget_s, key["id"], batch=True)
    return _batch(request, bid)


def _batch(request: Request, bid: str) -> dict:
    store = request.app.state.store
    b = store.get_batch(bid)
    if b is None:
        raise Problem(404, f"no batch {bid}", "batch_id")
    jobs = store.batch_jobs(bid)
    done = all(j["state"] in FINAL for j in jobs)
    return {
        "id": bid,
        "budget_s": b["budget_s"],
        "state": "done" if done else "running",
        "jobs": jobs,
    }


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(reader)])
def get_job(request: Request, job_id: str = JobId) -> Any:
    job = request.app.state.store.get_job(job_id)
    if job is None:
        raise Problem(404, f"no job {job_id}", "job_id")
    return job


@router.get("/batches/{batch_id}", response_model=BatchOut, dependencies=[Depends(reader)])
def get_batch(request: Request, batch_id: str = BatchId) -> Any:
    return _batch(request, batch_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(request: Request, job_id: str = JobId, key: dict = Depends(writer)) -> Any:
    store = request.app.state.store
    if store.get_job(job_id) is None:
        raise Problem(404, f"no job {job_id}", "job_id")
    request.app.state.jobs.cancel(job_id)
    return store.get_job(job_id)
