"""Health, models and their cards, server statistics, and the offline API docs page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from shell.server.deps import reader
from shell.server.schemas import Doc

router = APIRouter(tags=["meta"])
DOCS = Path(__file__).with_name("docs.html")


@router.get("/v1/health", response_model=Doc)
async def health() -> Any:
    """The cheap endpoint: always open, no store access."""
    return {"ok": True}


@router.get("/v1/models", response_model=Doc, dependencies=[Depends(reader)])
def models(request: Request) -> Any:
    """The registered models and their cards (as `gate models --json`), and which are loaded."""
    from shell.listing import models_doc

    doc = models_doc()
    loaded = request.app.state.models.loaded
    for m in doc["models"]:
        m["loaded"] = m["name"] in loaded
    return doc


@router.get("/v1/stats", response_model=Doc, dependencies=[Depends(reader)])
async def stats(request: Request) -> Any:
    """Server-side timing and the batch sizes the batcher formed, per loaded model."""
    st = request.app.state
    return {
        "sessions": len(st.sessions.live),
        "batching": st.models.opts,
        "models": {n: b.stats.doc() for n, (_, b) in st.models.loaded.items()},
    }


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
async def docs() -> HTMLResponse:
    """Interactive docs rendered from /openapi.json by a page with no external resource."""
    return HTMLResponse(DOCS.read_text())
