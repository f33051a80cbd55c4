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


def add_verbs(app) -> None:
    import typer

    @app.command("make")
    def make(
        score: float = typer.Option(0.7, help="The score to store."), json: bool = False
    ) -> None:
        """Write a candidate table without judging it (a gate verb)."""
        from shell.commands.run_cmds import execute_verb
        from shell.context import RunOptions

        def body(ctx) -> None:
            if score < 0:
                from shell.errors import BadInput

                raise BadInput(f"--score {score}: must be >= 0")
            ctx.write_artifact(
                "table", {"table.json": f'{{"score": {score}}}'.encode()}, {}, pipeline_version=1
            )

        execute_verb("demo", "make", body, {"score": score}, RunOptions(json=json))


def run_follow(ctx) -> None:
    ctx.check("ok", 1.0)


def run_elsewhere(ctx) -> None:
    from shell.errors import Unavailable

    raise Unavailable("demo_elsewhere needs a device this machine does not have")


def run_slow(ctx) -> None:
    import os
    import time

    time.sleep(float(os.environ.get("WG_DEMO_SLOW", "0")))  # the budget test makes it slow
    ctx.check("ok", 1.0)


def run_nothing(ctx) -> None:
    ctx.metric("score", 1.0)  # measures, but declares nothing to pass


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
        commands=add_verbs,
    ),
    Gate(
        "demo2",
        "demo follow-up",
        "tests/plugin_pkg",
        ("demo",),
        (Criterion("ok", "==", 1),),
        run=run_follow,
    ),
    Gate(
        "demo_elsewhere",
        "missing here",
        "tests/plugin_pkg",
        (),
        (Criterion("ok", "==", 1),),
        run=run_elsewhere,
    ),
    Gate("demo_empty", "no criteria", "tests/plugin_pkg", (), (), run=run_nothing),
    Gate("demo_slow", "slow", "tests/plugin_pkg", (), (Criterion("ok", "==", 1),), run=run_slow),
]
