"""Play sessions over REST and WebSocket: create, step, stream, end."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Path, Request, WebSocket, WebSocketDisconnect

from shell.server import sessions as ss
from shell.server.deps import reader, writer
from shell.server.problems import Problem
from shell.server.schemas import SessionCreate, SessionOut, StepIn, StepOut

router = APIRouter(prefix="/v1/sessions", tags=["play"])
Sid = Path(..., pattern=r"^[0-9a-f]{16}$", description="a session id")


@router.post("", status_code=201, response_model=SessionOut)
async def create_session(body: SessionCreate, request: Request, key: dict = Depends(writer)):
    """A play session on a world model, from the game's reset (seeded) or a start frame."""
    png = None
    if body.start_png is not None:
        try:
            png = base64.b64decode(body.start_png, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(422, "start_png: not base64", "start_png") from None
    model, _ = await request.app.state.models.get(body.model)
    s = await asyncio.to_thread(
        request.app.state.sessions.create, body.model, model, png, body.seed, body.level
    )
    return s.doc()


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(request: Request, session_id: str = Sid, _: Any = Depends(reader)):
    return request.app.state.sessions.get(session_id).doc()


@router.post("/{session_id}/step", response_model=StepOut)
async def step_session(body: StepIn, request: Request, session_id: str = Sid,
                       key: dict = Depends(writer)):  # fmt: skip
    """One action in, the next frame out (base64 PNG or raw RGB bytes, or none)."""
    t0 = time.perf_counter()
    s = request.app.state.sessions.get(session_id)
    _, batcher = await request.app.state.models.get(s.model)
    frame = await ss.step(s, batcher, body.action)
    data = None
    if body.format != "none":  # PNG encoding off the event loop (zlib releases the GIL)
        data = base64.b64encode(await asyncio.to_thread(ss.encode, frame, body.format))
    _, h, w = frame.shape
    return {"frame": s.frame, "format": body.format, "data": data and data.decode(),
            "height": h, "width": w, "server_ms": (time.perf_counter() - t0) * 1000.0}  # fmt: skip


@router.delete("/{session_id}", response_model=SessionOut)
async def end_session(request: Request, session_id: str = Sid, key: dict = Depends(writer)):
    s = request.app.state.sessions.get(session_id)
    request.app.state.sessions.end(session_id)
    return s.doc()


@router.websocket("/{session_id}/stream")
async def stream(websocket: WebSocket, session_id: str):
    """Actions in (JSON {"action": n} or a bare number), frames out: for each action a JSON text
    message {frame, format, bytes, server_ms} then the frame as one binary message (PNG or raw RGB).
    Query: key=<API key> (or an Authorization header), format=png|raw. Errors arrive as a JSON
    {"error": problem}; a bad key closes with 1008."""
    app = websocket.app
    secret = websocket.query_params.get("key") or _bearer(websocket.headers.get("authorization"))
    fmt = websocket.query_params.get("format", "png")
    try:
        app.state.keys.check(secret, write=True)
        if fmt not in ("png", "raw"):
            raise Problem(422, "format: png or raw", "format")
        s = app.state.sessions.get(session_id)
    except Problem as e:
        await websocket.close(code=1008, reason=e.detail[:120])
        return
    await websocket.accept()
    _, batcher = await app.state.models.get(s.model)
    try:
        while True:
            msg = await websocket.receive_text()
            t0 = time.perf_counter()
            try:
                action = _action(msg)
                app.state.keys.check(secret, write=True)
                s = app.state.sessions.get(session_id)
                frame = await ss.step(s, batcher, action)
            except Problem as e:
                err = {"status": e.status, "detail": e.detail, "field": e.field}
                await websocket.send_text(orjson.dumps({"error": err}).decode())
                continue
            data = await asyncio.to_thread(ss.encode, frame, fmt)
            meta = {"frame": s.frame, "format": fmt, "bytes": len(data),
                    "server_ms": (time.perf_counter() - t0) * 1000.0}  # fmt: skip
            await websocket.send_text(orjson.dumps(meta).decode())
            await websocket.send_bytes(data)
    except WebSocketDisconnect:
        return


def _bearer(h: str | None) -> str | None:
    return h.split(" ", 1)[1] if h and h.lower().startswith("bearer ") else None


def _action(msg: str) -> int:
    try:
        v = orjson.loads(msg)
    except orjson.JSONDecodeError:
        raise Problem(400, 'message: not JSON ({"action": n})', "action") from None
    v = v.get("action") if isinstance(v, dict) else v
    if not isinstance(v, int) or isinstance(v, bool):
        raise Problem(422, "action: an integer is required", "action")
    return v
