"""gate m10's run: a `gate serve` child on a free loopback port, Chromium driven by Playwright against
it: the play page at two viewports (loads, moves, FPS), waves of concurrent play sessions (stability),
every other page (renders, no console error); screenshots of each page are the run's pictures."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from gates.m10.browser import (
    KEYS,
    VIEWPORTS,
    Watch,
    find_chromium,
    frame,
    keyboard,
    launch,
    movement,
    touch,
)
from shell.server.load import start_server

READY = "main[data-state=ready], main[data-state=error]"


def run(ctx: Any) -> None:
    from playwright.sync_api import sync_playwright

    cfg = ctx.config
    exe = find_chromium(cfg.chromium)  # exit 3 before anything starts
    srv = start_server(["--db", str(ctx.run_dir / "server.db")])
    ctx.say(f"m10: gate serve at {srv.url}; browser {exe}")
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch(pw, exe)
            ctx.say(f"m10: Chromium {browser.version}")
            try:
                _works(ctx, cfg, browser, srv.url, problems)
                _stability(ctx, cfg, browser, srv.url, problems)
                _pages(ctx, browser, srv.url, problems)
            finally:
                browser.close()
    finally:
        srv.stop()
        if problems:
            ctx.bundle_file("problems.json", orjson.dumps(problems, option=orjson.OPT_INDENT_2))


def _play_url(url: str, cfg: Any) -> str:
    q = {"model": cfg.model, "seed": cfg.seed}
    if cfg.level is not None:
        q["level"] = cfg.level
    return f"{url}/play?{urlencode(q)}"


def _open_play(context: Any, url: str, timeout_ms: float = 90_000,
               sockets: bool = True) -> tuple[Any, Watch]:  # fmt: skip
    page = context.new_page()
    watch = Watch(page, sockets)
    page.goto(url)
    page.wait_for_selector("main[data-playing='1']", timeout=timeout_ms)  # the first frame is due
    return page, watch


def _works(ctx: Any, cfg: Any, browser: Any, url: str, problems: list[str]) -> None:
    loads, moves, fps_seen = 1, 1, []
    for vp, opts in VIEWPORTS.items():
        context = browser.new_context(**opts)
        try:
            page, watch = _open_play(
                context, _play_url(url, cfg), sockets=False
            )  # Restart closes them
            press, release = keyboard(page) if vp == "desktop" else touch(page)
            m = movement(page, press, release, cfg.move_frames, cfg.move_px)
            ctx.say(f"m10: {vp}: " + ", ".join(
                f"{a} {m[a]['along']:+.1f} px" for a in ("LEFT", "RIGHT", "UP", "JUMP"))
                + f" (beyond idle {m['idle']['dx']:+.1f},{m['idle']['dy']:+.1f} over {cfg.move_frames} frames)")  # fmt: skip
            for a in ("LEFT", "RIGHT", "UP", "JUMP"):
                ctx.metric(f"{vp}_{a.lower()}_px", m[a]["along"], "px")
            moves &= int(m["ok"])
            page.keyboard.down(KEYS["RIGHT"])
            page.wait_for_timeout(2500)  # the counter covers the last second
            reads = []
            for _ in range(3):
                page.wait_for_timeout(300)
                t = page.inner_text("#fps").strip()
                reads.append(float(t) if t.isdigit() else 0.0)
            page.keyboard.up(KEYS["RIGHT"])
            fps_seen.append(statistics.median(reads))
            ctx.metric(f"{vp}_fps", fps_seen[-1], "frames/s")
            ctx.picture(f"play_{vp}.png", page.screenshot(full_page=True))
            if watch.errors:
                loads = 0
                problems += [f"play {vp}: {e}" for e in watch.errors]
        except Exception as e:  # a page that never played: the criterion says so
            if type(e).__name__ != "TimeoutError":
                raise
            loads = moves = 0
            fps_seen.append(0.0)
            problems.append(f"play {vp}: {e}".splitlines()[0])
        finally:
            context.close()
    ctx.check("loads", loads)
    ctx.check("moves", moves)
    ctx.check("fps", min(fps_seen))


def _stability(ctx: Any, cfg: Any, browser: Any, url: str, problems: list[str]) -> None:
    """cfg.sessions play sessions, cfg.concurrency at once (a wave), the waves one after another, each
    session >= cfg.session_seconds with a random direction held and changed every ~0.5 s."""
    rng = random.Random(cfg.seed)
    crashed, frames, seconds, done = 0, [], [], 0
    wave_no = 0
    while done < cfg.sessions:
        n = min(cfg.concurrency, cfg.sessions - done)
        wave_no += 1
        context = browser.new_context(**VIEWPORTS["desktop"])
        pages: list[tuple[Any, Watch, float, str | None]] = []
        try:
            for _ in range(n):
                try:
                    page, watch = _open_play(context, _play_url(url, cfg), 60_000)
                    pages.append((page, watch, time.monotonic(), None))
                except Exception as e:  # noqa: BLE001 - a session that never started is a crash
                    pages.append((None, None, time.monotonic(), str(e).splitlines()[0]))  # type: ignore[arg-type]
            held: dict[int, str] = {}
            end = pages[-1][2] + cfg.session_seconds
            while time.monotonic() < end:
                for i, (page, *_rest) in enumerate(pages):
                    if page is None:
                        continue
                    if i in held:
                        page.keyboard.up(KEYS[held[i]])
                    held[i] = rng.choice(list(KEYS))
                    page.keyboard.down(KEYS[held[i]])
                live = next((p for p, *_ in pages if p is not None), None)
                (live.wait_for_timeout(500) if live else time.sleep(0.5))
            for page, watch, t0, err in pages:
                dur = time.monotonic() - t0
                f = frame(page) if page is not None else 0
                bad = ([err] if err else []) + (watch.errors + watch.drops if watch else [])
                if page is not None:
                    watch.armed = False  # closing the page ends its socket on purpose
                    if page.get_attribute("main", "data-playing") != "1":
                        bad.append("the page says: " + page.inner_text("#status"))
                if f < dur:  # under one frame a second: stalled
                    bad.append(f"stalled: {f} frames in {dur:.0f} s")
                frames.append(max(f, 0))
                seconds.append(dur)
                if bad:
                    crashed += 1
                    problems += [f"session {done + 1} (wave {wave_no}): {b}" for b in bad]
                done += 1
        finally:
            context.close()
        ctx.say(f"m10: wave {wave_no}: {n} sessions at once, {sum(frames[-n:])} frames, "
                f"{crashed} crashed so far")  # fmt: skip
    ctx.metric("sessions", len(frames))
    ctx.metric("concurrency", cfg.concurrency)
    ctx.metric("session_s_min", min(seconds), "s")
    ctx.metric("session_fps_mean", sum(frames) / max(1e-9, sum(seconds)), "frames/s")
    ctx.metric("frames_total", sum(frames))
    ctx.check("crash_rate", crashed / max(1, len(frames)))


def _page_list(url: str) -> list[tuple[str, str]]:
    with httpx.Client(base_url=url, timeout=30) as c:
        demos = c.get("/v1/web/config").json()["demos"]
        last = {
            g["id"]: g["run_id"] for g in c.get("/v1/status").json()["gates"] if g.get("run_id")
        }
    out = [("matrix", "/"), ("runs", "/runs")]
    out += [(f"demo_{g}", f"/demo/{g}") for g in demos]
    out += [(f"run_{g}", f"/runs/{rid}") for g, rid in sorted(last.items())]
    return out


def _pages(ctx: Any, browser: Any, url: str, problems: list[str]) -> None:
    ok, shown = 1, 0
    for vp, opts in VIEWPORTS.items():
        context = browser.new_context(**opts)
        try:
            for name, path in _page_list(url):
                bad = _page(ctx, context, url, name, path, vp)
                shown += 1
                if bad:
                    ok = 0
                    problems += [f"{path} {vp}: {b}" for b in bad]
        finally:
            context.close()
    ctx.metric("pages_shown", shown)
    ctx.check("pages", ok)


IMAGES = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


def _page(ctx: Any, context: Any, url: str, name: str, path: str, vp: str) -> list[str]:
    """What is wrong with one page at one viewport (empty: it rendered); its screenshot."""
    page = context.new_page()
    watch = Watch(page)
    try:
        page.goto(url + path)
        page.wait_for_selector(READY, timeout=30_000)
        try:
            page.wait_for_function(IMAGES, timeout=15_000)
            imgs = True
        except Exception as e:  # noqa: BLE001 - judged below
            if type(e).__name__ != "TimeoutError":
                raise
            imgs = False
        if name == "demo_m1":  # the live part: an uploaded frame comes back reconstructed
            imgs = imgs and _upload(page)
        state = page.get_attribute("main", "data-state")
        text = len(page.inner_text("main"))
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        ctx.picture(f"page_{name}_{vp}.png", page.screenshot(full_page=True))
        bad = watch.errors + ([] if state == "ready" else [f"state {state}"])
        bad += [] if imgs else ["a picture did not load"]
        bad += [] if wide <= 1 else [f"{wide} px wider than the viewport (scrolls sideways)"]
        return bad + ([] if text > 80 else [f"only {text} characters of content"])
    except Exception as e:  # noqa: BLE001 - a page that never rendered fails the criterion
        if type(e).__name__ != "TimeoutError":
            raise
        return [str(e).splitlines()[0]]
    finally:
        page.close()


def _upload(page: Any) -> bool:
    """Upload the platformer's first frame on /demo/m1; True when its three pictures come back."""
    import io

    from PIL import Image

    from shell.server.sessions import start_frame

    buf = io.BytesIO()
    Image.fromarray(start_frame(None, 0, (256, 256))).save(buf, format="PNG")
    page.set_input_files("#shot", files=[{"name": "frame.png", "mimeType": "image/png",
                                          "buffer": buf.getvalue()}])  # fmt: skip
    page.wait_for_function("() => document.querySelectorAll('#m1-live img').length === 3 && "
                           "[...document.querySelectorAll('#m1-live img')].every(i => i.complete "
                           "&& i.naturalWidth > 0)", timeout=60_000)  # fmt: skip
    return True
