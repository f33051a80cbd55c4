"""Playwright on Debian's Chromium for gate m10 and its tests: find and launch the browser, watch a page
for what went wrong, decode the player's position from the play canvas's pixels, the movement check."""

from __future__ import annotations

import io
import math
import shutil
from pathlib import Path
from typing import Any

from shell.errors import Unavailable

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
KEYS = {"UP": "ArrowUp", "DOWN": "ArrowDown", "LEFT": "ArrowLeft", "RIGHT": "ArrowRight",
        "JUMP": "Space"}  # fmt: skip
# Each direction and the way it must move the player on screen (x right, y down).
EXPECT = {"LEFT": (-1, 0), "RIGHT": (1, 0), "UP": (0, -1), "JUMP": (0, -1)}
INSTALL = "apt-get install -y chromium"


def find_chromium(path: str | None = None) -> str:
    """The browser executable: the one given, else chromium (or chromium-browser) on PATH. Exit 3
    naming what to install when there is none, or when Playwright is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise Unavailable(
            "playwright (Python) is not installed: `uv sync` (a dev dependency)"
        ) from None
    if path:
        if not Path(path).is_file():
            raise Unavailable(f"chromium: {path} is not a file ({INSTALL})")
        return path
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    raise Unavailable(f"no Chromium here: `{INSTALL}` (Playwright's own download is not used)")


def launch(pw: Any, exe: str) -> Any:
    return pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-dev-shm-usage"])


class Watch:
    """What went wrong on a page while armed: console errors, page errors, failed requests, HTTP
    responses >= 400 (errors) and WebSocket closes or errors (drops)."""

    def __init__(self, page: Any, sockets: bool = True) -> None:
        self.errors: list[str] = []
        self.drops: list[str] = []
        self.armed = True
        page.on(
            "console", lambda m: m.type == "error" and self._add(self.errors, f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self._add(self.errors, f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self._add(self.errors, f"failed: {r.method} {r.url} {r.failure}"),
        )
        page.on(
            "response",
            lambda r: r.status >= 400 and self._add(self.errors, f"HTTP {r.status} {r.url}"),
        )
        if sockets:  # off where the page closes its sockets on purpose (Restart)
            page.on("websocket", self._ws)

    def _ws(self, ws: Any) -> None:
        ws.on("close", lambda _: self._add(self.drops, f"WebSocket closed: {ws.url.split('?')[0]}"))
        ws.on("socketerror", lambda e: self._add(self.drops, f"WebSocket error: {e}"))

    def _add(self, into: list[str], msg: str) -> None:
        if self.armed:
            into.append(msg)


def frame(page: Any) -> int:
    """The frame counter the page shows (timing only: positions come from the canvas's pixels)."""
    t = page.inner_text("#frame").strip()
    return int(t) if t.isdigit() else -1


def wait_frames(page: Any, n: int, timeout_ms: float = 20_000) -> None:
    target = max(0, frame(page)) + n
    page.wait_for_function("f => Number(document.getElementById('frame').textContent) >= f",
                           arg=target, timeout=timeout_ms)  # fmt: skip


def player_xy(page: Any) -> tuple[float, float]:
    """The player's centre in the model's frame coordinates, from a screenshot of the canvas (scaled
    back to the canvas's own size, snapped to the game's palette); NaN where it is not found."""
    import numpy as np
    import torch
    from PIL import Image

    from core.games.platformer import PALETTE, locate_player
    from core.metrics import locate_in

    canvas = page.locator("#screen")
    w, h = int(canvas.get_attribute("width")), int(canvas.get_attribute("height"))
    img = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB").resize((w, h), Image.NEAREST)
    x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)[None].float() / 255.0
    pal = torch.tensor([c for _, c in PALETTE], dtype=torch.uint8)
    xy = locate_in(x, pal, locate_player)[0]
    return float(xy[0]), float(xy[1])


def restart(page: Any, timeout_ms: float = 30_000) -> None:
    """A fresh session (the Restart button) and its first frames on the canvas."""
    before = page.inner_text("#status")
    page.click("#restart")
    page.wait_for_function("s => { const t = document.getElementById('status').textContent; "
                           "return t !== s && t.startsWith('playing'); }", arg=before,
                           timeout=timeout_ms)  # fmt: skip
    page.wait_for_function("() => Number(document.getElementById('frame').textContent) >= 2",
                           timeout=timeout_ms)  # fmt: skip


def keyboard(page: Any) -> tuple[Any, Any]:
    return (lambda a: page.keyboard.down(KEYS[a])), (lambda a: page.keyboard.up(KEYS[a]))


def touch(page: Any) -> tuple[Any, Any]:
    pad = lambda a: page.locator(f".pad button[aria-label={a}]")  # noqa: E731
    return (lambda a: pad(a).dispatch_event("pointerdown")), (
        lambda a: pad(a).dispatch_event("pointerup")
    )


def _moved(page: Any, action: str | None, press: Any, release: Any, n: int) -> tuple[float, float]:
    restart(page)
    x0, y0 = player_xy(page)
    if action:
        press(action)
    try:
        wait_frames(page, n)
        x1, y1 = player_xy(page)
    finally:
        if action:
            release(action)
    return x1 - x0, y1 - y0


def movement(page: Any, press: Any, release: Any, n: int = 12, px: float = 4.0,
             directions: tuple[str, ...] = tuple(EXPECT)) -> dict[str, Any]:  # fmt: skip
    """Hold each direction for n frames from a fresh session; it moves the right way when the player's
    displacement along that direction exceeds the idle action's over n frames by px pixels."""
    idle = _moved(page, None, press, release, n)
    out: dict[str, Any] = {"idle": {"dx": idle[0], "dy": idle[1]}}
    for action in directions:
        ex, ey = EXPECT[action]
        dx, dy = _moved(page, action, press, release, n)
        along = (dx - idle[0]) * ex + (dy - idle[1]) * ey
        ok = not math.isnan(along) and along >= px
        out[action] = {"dx": dx, "dy": dy, "along": along, "ok": ok}
    out["ok"] = all(out[a]["ok"] for a in directions)
    return out
