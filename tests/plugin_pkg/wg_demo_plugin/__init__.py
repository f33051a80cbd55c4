"""A third party's gates, as a user would write them: declare, register under worldgate.gates, done."""

from pydantic import BaseModel, ConfigDict

from shell.registry import Criterion, Gate


class DemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: float = 0.9  # what the demo gate "measures"
    crash: bool = False
    steps: int = 3


def run_demo(ctx) -> None:
    cfg = ctx.config
    if cfg.crash:
        raise RuntimeError("the demo gate crashed on purpose")
    for i in range(cfg.steps):
        ctx.step(i=i, score=cfg.score)
    ctx.metric("score", cfg.score)
    ctx.bundle_file("note.txt", b"the demo gate failed\n")
    ctx.write_artifact(
        "table", {"table.json": f'{{"score": {cfg.score}}}'.encode()}, {}, pipeline_version=1
    )
    ctx.check("score", cfg.score)


def run_follow(ctx) -> None:
    ctx.check("ok", 1.0)


GATES = [
    Gate(
        "demo",
        "demo",
        "tests/plugin_pkg",
        (),
        (Criterion("score", ">", 0.5),),
        run=run_demo,
        config=DemoConfig,
        summary="a third-party gate",
    ),
    Gate(
        "demo2",
        "demo follow-up",
        "tests/plugin_pkg",
        ("demo",),
        (Criterion("ok", "==", 1),),
        run=run_follow,
    ),
]
