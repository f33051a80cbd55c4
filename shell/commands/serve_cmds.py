"""gate serve: the world models and the harness over HTTP and WebSocket (shell/server/)."""

from __future__ import annotations

import json as _json
import os
from typing import Annotated

import typer

from shell.output import error_line

KEEP_ALIVE_S = 75  # uvicorn's 5 s drops pooled connections of clients queued behind many sessions
ENV = "WORLDGATE_SERVER_CONFIG"  # the configuration handed to each worker process (--workers > 1)


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (default: loopback only).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="TCP port (0: a free one).")
    ] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes; sessions live in the process that made them.",
        ),
    ] = 1,
    batching: Annotated[
        bool,
        typer.Option(
            "--batching/--no-batching",
            help="Batch concurrent sessions' steps into one forward pass.",
        ),
    ] = True,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, max=4096, help="Most steps in one forward pass.")
    ] = 32,
    max_wait_ms: Annotated[
        float,
        typer.Option("--max-wait-ms", min=0, max=10_000, help="Longest a batch waits to fill."),
    ] = 5.0,
    threads: Annotated[
        int,
        typer.Option(
            "--threads", min=1, max=64, help="Torch threads for the model (1-2 on a shared CPU)."
        ),
    ] = 1,
    job_workers: Annotated[
        int,
        typer.Option("--job-workers", min=1, max=64, help="Gate runs at once from the job queue."),
    ] = 1,
    closed_reads: Annotated[
        bool,
        typer.Option(
            "--closed-reads",
            help="Reads need a key too (the default leaves them open on localhost).",
        ),
    ] = False,
    job_gates: Annotated[
        str | None,
        typer.Option(
            "--job-gates", help="Comma-separated gates the job queue may run (default: any)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="The server's SQLite store (default .gate/server.db)."),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", help="Largest request body in bytes (413 above).")
    ] = 1 << 20,
) -> None:
    """Serve the world models and the harness over HTTP and WebSocket (FastAPI on uvicorn)."""
    import uvicorn

    if why := _cannot_bind(host, port):  # a taken port or a foreign address: one line, exit 2
        error_line(f"serve: --host {host} --port {port}: {why}")
        raise typer.Exit(2)

    cfg = {"open_reads": not closed_reads and host in ("127.0.0.1", "localhost", "::1"),
           "batching": batching, "max_batch": max_batch, "max_wait_ms": max_wait_ms,
           "threads": threads, "job_workers": job_workers, "max_body": max_body,
           "job_gates": job_gates.split(",") if job_gates else None, "db": db}  # fmt: skip
    if not closed_reads and not cfg["open_reads"]:
        error_line(f"serve: bound to {host}: reads need a key (open reads are for localhost only)")
    os.environ[ENV] = _json.dumps(cfg)
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config("shell.commands.serve_cmds:app_from_env", factory=True, host=host,
                            port=port, workers=workers, log_level="warning",
                            timeout_keep_alive=KEEP_ALIVE_S)  # fmt: skip
    server = uvicorn.Server(config)
    if workers > 1:
        if port == 0:
            error_line("serve: --workers > 1 needs a fixed --port (each worker binds it)")
            raise typer.Exit(2)
        print(f"gate serve: http://{shown}:{port}/ (docs /docs, {workers} workers)", flush=True)
        uvicorn.run(config.app, factory=True, host=host, port=port, workers=workers,
                    log_level="warning", timeout_keep_alive=KEEP_ALIVE_S)  # fmt: skip
        return
    _announce(server, shown)
    server.run()


def _cannot_bind(host: str, port: int) -> str | None:
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            s.bind(infos[0][4])
    except (OSError, OverflowError) as e:
        return getattr(e, "strerror", None) or str(e)
    return None


def _announce(server: object, shown: str) -> None:
    """Print the one-line start message once the socket is bound (so port 0 shows the real port)."""
    startup = server.startup  # type: ignore[attr-defined]

    async def started(sockets: object = None) -> None:
        await startup(sockets=sockets)
        servers = getattr(server, "servers", [])
        port = servers[0].sockets[0].getsockname()[1] if servers else server.config.port  # type: ignore[attr-defined]
        print(f"gate serve: http://{shown}:{port}/ (docs /docs, openapi /openapi.json)", flush=True)

    server.startup = started  # type: ignore[attr-defined]


def app_from_env() -> object:
    from pathlib import Path

    from shell.server.app import ServerConfig, create_app

    cfg = _json.loads(os.environ.get(ENV, "{}"))
    cfg["db"] = Path(cfg["db"]) if cfg.get("db") else None
    return create_app(ServerConfig(**cfg))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
