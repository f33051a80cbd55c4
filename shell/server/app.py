"""create_app: the FastAPI application of `gate serve` (and of gate m11, the tests and the bench)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shell.server import (
    problems,
    routes_demo,
    routes_harness,
    routes_jobs,
    routes_meta,
    routes_play,
    routes_web,
)
from shell.server.deps import Keys
from shell.server.jobs import Jobs
from shell.server.sessions import Models, Sessions
from shell.server.store import Store

PROBLEM_CODES = (400, 401, 403, 404, 409, 410, 413, 422, 429)


@dataclass
class ServerConfig:
    db: Path | None = None  # default: .gate/server.db
    open_reads: bool = True  # reads need no key (the localhost development mode)
    max_body: int = 1 << 20  # bytes; larger bodies get 413
    batching: bool = True
    max_batch: int = 32
    max_wait_ms: float = 5.0
    threads: int = 1  # torch threads for the model
    job_workers: int = 1
    job_gates: frozenset[str] | None = None  # None: any registered gate may be submitted
    session_ttl_s: float = 300.0
    max_sessions: int = 1024


def create_app(cfg: ServerConfig | None = None) -> FastAPI:
    cfg = cfg or ServerConfig()
    if cfg.job_gates is not None:
        cfg.job_gates = frozenset(cfg.job_gates)
    if cfg.db is None:
        from shell import paths

        cfg.db = paths.state_dir() / "server.db"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        yield
        app.state.models.close()
        app.state.jobs.close()

    app = FastAPI(
        title="worldgate",
        version="1",
        summary="World models and the gate harness over HTTP and WebSocket",
        docs_url=None,  # FastAPI's pages load Swagger/ReDoc from a CDN: /docs is our own page
        redoc_url=None,
        lifespan=lifespan,
    )
    store = Store(cfg.db)
    app.state.cfg = cfg
    app.state.store = store
    app.state.keys = Keys(store, cfg.open_reads)
    app.state.models = Models(cfg.batching, cfg.max_batch, cfg.max_wait_ms, cfg.threads)
    app.state.sessions = Sessions(cfg.session_ttl_s, cfg.max_sessions)
    app.state.models.live = app.state.sessions.count
    app.state.jobs = Jobs(store, cfg.job_workers, cfg.job_gates)
    problems.install(app)
    for r in (routes_meta, routes_play, routes_harness, routes_jobs):
        app.include_router(r.router)
    app.include_router(routes_web.api)
    app.include_router(routes_demo.router)
    app.include_router(
        routes_web.pages
    )  # the pages last: /, /play, /demo/{gate}, /runs, /runs/{id}
    app.add_middleware(problems.BodyLimit, limit=cfg.max_body)

    def openapi() -> dict:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 routes=app.routes)  # fmt: skip
            app.openapi_schema = problems.openapi_problems(schema, PROBLEM_CODES)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
