"""Gate m10, web: play and every gate's demo in a real browser (functional-milestones, Milestone 9).

`gate m10` starts `gate serve` on a free loopback port and drives Debian's Chromium with Playwright
(`executable_path`; Playwright's own browser download is not used) against it:
- works: the play page loads and plays at a desktop and a phone viewport; LEFT, RIGHT, UP and JUMP (keys
  on the desktop, the touch buttons on the phone) each move the player the right way, decoded from the
  canvas's pixels (a screenshot, snapped to the game's palette, core.games.platformer.locate_player),
  beyond what the idle action does over the same frames; the page's FPS counter shows >= 10;
- stability: play sessions of >= 30 s in waves of concurrent pages (the waves in sequence), with no page
  error, no failed request and no WebSocket drop; crash rate = sessions with any of those (or no frames)
  / sessions;
- pages: every page (the matrix, runs, each demo, the last run of each gate) renders its content with no
  console error at both viewports; screenshots of each are the run's pictures.
The spec's "works on all browsers" is Chromium here; "avg session > 5 minutes" is engagement, not
something a gate can measure. Exit 3 where Playwright or Chromium is missing.

Nothing heavy at import: `gate list` imports this module.
"""

from __future__ import annotations

from typing import Any

from shell.registry import Criterion, Gate, lazy


def config(**values: Any) -> Any:
    from pydantic import BaseModel, ConfigDict, Field

    class M10Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str = "predictor"  # the world model the play page plays (a name from gate models)
        seed: int = Field(0, ge=0, le=2**31 - 1)
        level: int | None = Field(None, ge=0, le=7)
        move_frames: int = Field(
            12, ge=2, le=200
        )  # frames a direction is held for the movement check
        move_px: float = Field(4.0, gt=0)  # how far beyond the idle drift counts as moving
        sessions: int = Field(20, ge=1, le=200)  # stability: play sessions in all...
        concurrency: int = Field(10, ge=1, le=50)  # ...this many at once (a wave)...
        session_seconds: float = Field(30.0, gt=0, le=600)  # ...each at least this long
        chromium: str | None = None  # a browser executable; default: chromium on PATH

    return M10Config(**values)


GATE = Gate(
    "m10",
    "web",
    "functional-milestones, Milestone 9",
    ("m5", "m9"),  # the playable, controllable world model of m4/m5; m9 is the roadmap's order
    (
        Criterion("loads", "==", 1, description="the play page loads and plays at desktop and phone viewports"),
        Criterion("moves", "==", 1, description="LEFT, RIGHT, UP, JUMP each move the player the right way (canvas pixels), both viewports"),
        Criterion("fps", ">=", 10, "frames/s", description="the play page's FPS counter, one session, lowest viewport"),
        Criterion("crash_rate", "<", 0.01, description="play sessions with a page error, failed request, WebSocket drop or no frames"),
        Criterion("pages", "==", 1, description="every page renders its content with no console error at both viewports"),
    ),
    run=lazy("gates.m10.measure:run"),
    config=config,
    summary="play and every gate's demo in a real browser (Chromium)",
)  # fmt: skip
