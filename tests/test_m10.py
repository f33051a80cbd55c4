"""Gate m10: its declaration (light, the spec's thresholds), exit 3 without a browser, and the movement
check in a real Chromium against a real uvicorn: a toy world model that moves the frame the way each
action says passes it, and the same page with its keys not wired fails it (the negative control). The
full gate (stability waves, every page) runs in `uv run gate m10`."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shell.registry import load_gates

REPO = Path(__file__).resolve().parents[1]


def test_m10_is_declared_once_with_the_spec_thresholds() -> None:
    from gates.planned import PLANNED

    gate = load_gates().get("m10")
    assert gate.built and (gate.id, gate.name, gate.prerequisites) == ("m10", "web", ("m5", "m9"))
    assert "m10" not in {g.id for g in PLANNED}
    c = {x.name: (x.op, x.threshold) for x in gate.criteria}
    assert c == {"loads": ("==", 1), "moves": ("==", 1), "fps": (">=", 10),
                 "crash_rate": ("<", 0.01), "pages": ("==", 1)}  # fmt: skip
    cfg = gate.config()
    assert cfg.sessions >= 20 and cfg.session_seconds >= 30 and cfg.model == "predictor"


def test_declaring_m10_imports_nothing_heavy() -> None:
    code = ("import sys, gates.m10; bad = [m for m in ('torch', 'playwright', 'fastapi') "
            "if m in sys.modules]; assert not bad, bad")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_no_browser_is_exit_3_naming_what_to_install(tmp_path: Path, monkeypatch) -> None:
    from gates.m10.browser import find_chromium
    from shell.errors import Unavailable

    with pytest.raises(Unavailable, match="apt-get install -y chromium"):
        find_chromium(str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH
    with pytest.raises(Unavailable, match="apt-get install -y chromium") as e:
        find_chromium()
    assert e.value.exit_code == 3


class Toy:
    """A world model that obeys exactly: LEFT/RIGHT roll the frame 4 px sideways, UP/JUMP 4 px up,
    DOWN (the page's idle action) leaves it."""

    context_frames, noise_dim, n_actions = 1, 1, 5

    def predict(self, ctx, act, noise):
        import torch

        moves = {0: (-4, 0), 2: (0, -4), 3: (0, 4), 4: (-4, 0)}
        return torch.stack([torch.roll(f[-1], moves.get(a, (0, 0)), (1, 2))
                            for f, a in zip(ctx, act.tolist(), strict=True)])  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: uv sync")
    from gates.m10.browser import find_chromium
    from shell.errors import Unavailable

    try:
        exe = find_chromium()
    except Unavailable as e:
        pytest.skip(f"no Chromium here ({e})")
    import uvicorn

    from shell.server.app import ServerConfig, create_app
    from shell.server.batcher import Batcher

    state = tmp_path_factory.mktemp("state")
    app = create_app(ServerConfig(db=state / "server.db"))
    app.state.models.loaded["toy"] = (Toy(), Batcher(Toy()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    from shell.server.sessions import start_frame

    start_frame(None, 0, (256, 256))  # the level bank for seed 0, built while uvicorn starts
    while not srv.started:
        time.sleep(0.05)
    yield exe, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(10)


def test_the_movement_check_passes_wired_keys_and_fails_unwired_ones(server) -> None:
    from playwright.sync_api import sync_playwright

    from gates.m10.browser import EXPECT, VIEWPORTS, Watch, keyboard, launch, movement

    exe, url = server
    unwired = "window.addEventListener('keydown', e => e.stopImmediatePropagation(), true);"
    with sync_playwright() as pw:
        browser = launch(pw, exe)
        try:
            got = {}
            for name, script, dirs in (
                ("wired", None, tuple(EXPECT)),
                ("unwired", unwired, ("LEFT",)),
            ):
                page = browser.new_context(**VIEWPORTS["desktop"]).new_page()
                if script:
                    page.add_init_script(script)
                watch = Watch(page, sockets=False)
                page.goto(f"{url}/play?model=toy&seed=0")
                page.wait_for_selector("main[data-playing='1']", timeout=20_000)
                got[name] = movement(page, *keyboard(page), n=3, px=4.0, directions=dirs)
                assert not watch.errors, watch.errors
        finally:
            browser.close()
    assert got["wired"]["ok"], got["wired"]
    assert got["wired"]["LEFT"]["along"] >= 8 and got["wired"]["JUMP"]["along"] >= 8
    assert not got["unwired"]["ok"] and got["unwired"]["LEFT"]["along"] == 0, got["unwired"]
