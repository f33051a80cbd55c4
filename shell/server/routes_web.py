"""The web pages of `gate serve` (plain HTML/JS/CSS in shell/server/web/: no build step, no CDN) and
the JSON they need beyond /v1: the page configuration (models to play, the page key, demos).

Pages: / (the capability matrix), /play, /demo/{gate}, /runs, /runs/{run_id}. Each page is a static
file; its script reads what it shows from the JSON endpoints (/v1/status, /v1/runs, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from shell.server.problems import Problem
from shell.server.schemas import WebConfig

WEB = Path(__file__).with_name("web")
DEMOS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m11",
    "m12",
)  # built gates with a demo page of their own (demo.mjs knows each)
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".mjs": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}  # fmt: skip
CSP = ("default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; "
       "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'")  # fmt: skip

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/v1/web", tags=["web"])


def _file(name: str) -> FileResponse:
    f = WEB / name
    if not f.is_file():
        raise Problem(404, f"no page or asset {name!r}", "path")
    return FileResponse(f, media_type=TYPES.get(f.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP})  # fmt: skip


@pages.get("/")
def index() -> FileResponse:
    return _file("index.html")


@pages.get("/play")
def play() -> FileResponse:
    return _file("play.html")


@pages.get("/runs")
def runs() -> FileResponse:
    return _file("runs.html")


@pages.get("/runs/{run_id}")
def run(run_id: str) -> FileResponse:
    return _file("run.html")  # the script reads the id from the URL and asks /v1/runs/{run_id}


@pages.get("/demo/{gate}")
def demo(gate: str) -> FileResponse:
    if gate not in DEMOS:
        raise Problem(404, f"no demo page for {gate!r}; demos: {', '.join(DEMOS)}", "gate")
    return _file("demo.html")


@pages.get("/web/{name}")
def asset(name: str) -> FileResponse:
    if "/" in name or name.startswith(".") or Path(name).suffix not in TYPES:
        raise Problem(404, f"no asset {name!r}", "name")
    return _file(name)


@api.get("/config", response_model=WebConfig)
def config(request: Request) -> Any:
    """What the pages need: the world models to play (default first), the demos, and, while reads are
    open (bound to localhost), the key the play page writes with (minted per process, never stored)."""
    from shell.listing import models_doc

    models = [{"name": m["name"], "summary": m.get("summary") or ""}
              for m in models_doc()["models"] if m.get("kind") == "world_model"]  # fmt: skip
    models.sort(key=lambda m: m["name"] != "predictor")
    return {"key": request.app.state.keys.page_key, "models": models, "demos": list(DEMOS),
            "actions": ["UP", "DOWN", "LEFT", "RIGHT", "JUMP"], "levels": 8}  # fmt: skip
