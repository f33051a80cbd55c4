"""FastAPI dependencies: API keys (every write needs one; reads are open on localhost unless the
server is told otherwise), per-key rate limits (a token bucket: 429 with Retry-After) and quotas."""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shell.server.problems import Problem
from shell.server.store import Store

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key> (gate keys create)")
header = APIKeyHeader(name="X-API-Key", auto_error=False, description="or X-API-Key: <key>")
PAGE_KEY = {"id": "page", "name": "web pages", "rate": 0, "quota": None, "revoked": False}


class Keys:
    """Looks keys up by their sha256 and keeps one token bucket per key (burst = 1 s of rate)."""

    def __init__(self, store: Store, open_reads: bool) -> None:
        self.store, self.open_reads = store, open_reads
        # The web pages' key: minted per process, never stored, handed out by GET /v1/web/config only
        # while reads are open (bound to localhost), so the play page works with no `gate keys create`.
        self.page_key = "wg_page_" + secrets.token_urlsafe(24) if open_reads else None
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, secret: str | None, write: bool) -> dict | None:
        if not secret:
            if not write and self.open_reads:
                return None
            raise Problem(401, "an API key is required (Authorization: Bearer <key>)", "key",
                          {"WWW-Authenticate": "Bearer"})  # fmt: skip
        if self.page_key is not None and hmac.compare_digest(
            secret.encode(), self.page_key.encode()
        ):
            return PAGE_KEY
        key = self.store.key_by_secret(secret)
        if key is None:
            raise Problem(401, "unknown API key", "key", {"WWW-Authenticate": "Bearer"})
        if key["revoked"]:
            raise Problem(403, f"API key {key['id']} ({key['name']}) is revoked", "key")
        self._rate(key)
        if write and not self.store.use_key(key["id"]):
            raise Problem(
                429, f"API key {key['id']}: quota of {key['quota']} writes is spent", "key"
            )
        return key

    def _rate(self, key: dict) -> None:
        rate = key["rate"]
        if not rate:
            return
        burst = max(1.0, rate)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key["id"], (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key["id"]] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / rate))
                raise Problem(429, f"API key {key['id']}: over {rate:g} requests/s", "key",
                              {"Retry-After": str(wait)})  # fmt: skip
            self._buckets[key["id"]] = (tokens - 1.0, now)


def secret_of(request: Request, cred: HTTPAuthorizationCredentials | None, xkey: str | None):
    if cred is not None and cred.credentials:
        return cred.credentials
    return xkey or request.query_params.get("key")


def _keys(request: Request) -> Keys:
    return request.app.state.keys


def writer(
    request: Request,
    cred: HTTPAuthorizationCredentials | None = Depends(bearer),
    xkey: str | None = Depends(header),
) -> dict:
    """Every write: a valid, unrevoked key within its rate and quota."""
    return _keys(request).check(secret_of(request, cred, xkey), write=True)


def reader(
    request: Request,
    cred: HTTPAuthorizationCredentials | None = Depends(bearer),
    xkey: str | None = Depends(header),
) -> Any:
    """Reads: open in the development mode (localhost), else a key."""
    return _keys(request).check(secret_of(request, cred, xkey), write=False)
