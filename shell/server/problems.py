"""Bad input gets an RFC 9457 problem (application/problem+json) naming the field, with a 4xx code;
a bug in the server is a 500 problem with no traceback, never a raw error page."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA = "application/problem+json"
TITLES = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
          405: "method not allowed", 409: "conflict", 410: "gone", 413: "content too large",
          415: "unsupported media type", 422: "unprocessable content", 429: "too many requests",
          500: "internal error", 503: "unavailable"}  # fmt: skip
log = logging.getLogger("worldgate.server")


class Problem(Exception):
    """Raise anywhere in a route: becomes a problem response."""

    def __init__(self, status: int, detail: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(detail)
        self.status, self.detail, self.field, self.headers = status, detail, field, headers


def problem(status: int, detail: str, field: str | None = None, headers: dict | None = None,
            errors: list | None = None) -> JSONResponse:  # fmt: skip
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "error"),
                            "status": status, "detail": detail}  # fmt: skip
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _loc(loc: tuple | list) -> str:
    return ".".join(str(x) for x in loc) or "(root)"


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = [{"field": _loc(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
    first = errs[0] if errs else {"field": "(root)", "message": "invalid"}
    if any(e.get("type") == "json_invalid" for e in exc.errors()):  # malformed JSON: the body
        return problem(400, f"body: malformed JSON ({first['message']})", "body", errors=errs)
    status = 422
    return problem(status, f"{first['field']}: {first['message']}", first["field"], errors=errs)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _problem(request: Request, exc: Problem) -> JSONResponse:
    return problem(exc.status, exc.detail, exc.field, exc.headers)


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    log.exception("server error on %s %s", request.method, request.url.path)
    return problem(500, f"internal error: {type(exc).__name__}")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(Exception, _crash)


class BodyLimit:
    """Pure ASGI middleware: a request body over `limit` bytes is refused with 413 (by its
    Content-Length, or while it streams when it has none)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        too_big = problem(413, f"request body over {self.limit} bytes", "body")
        try:
            if length is not None and int(length) > self.limit:
                return await too_big(scope, receive, send)
        except ValueError:
            return await problem(400, "bad Content-Length header", "content-length")(
                scope, receive, send
            )
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                raise _TooBig
            return msg

        started = False

        async def sending(msg: dict) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted, sending)
        except _TooBig:
            if not started:
                await too_big(scope, receive, send)


class _TooBig(Exception):
    pass


def openapi_problems(schema: dict, codes: tuple[int, ...]) -> dict:
    """Declare the problem responses on every operation, so clients and schemathesis know them."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = {
        "type": "object", "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "field": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}},
        },
    }  # fmt: skip
    ref = {"content": {MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for item in schema.get("paths", {}).values():
        for op in item.values():
            resp = op.setdefault("responses", {})
            resp.pop("422", None)  # FastAPI's own validation shape: ours is a problem
            for c in codes:
                resp.setdefault(str(c), {"description": TITLES.get(c, "error"), **ref})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    return schema
