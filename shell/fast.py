"""The `gate` console script. `gate --help`, `gate list`, `gate status` and `gate models` (with or
without --json) are answered here, before the CLI framework loads (Typer and Click cost ~0.15 s to
import); everything else goes to the Typer app (shell/cli.py). A test keeps COMMANDS equal to the
Typer app's commands and their first help lines."""

from __future__ import annotations

import sys

FAST = ("list", "status", "models")
ABOUT = (
    "Executable milestone gates for game world models and pixels-only RL agents.\n"
    "Exit codes: 0 passed, 1 a criterion failed, 2 bad input, 3 a prerequisite missing here, "
    "4 the gate crashed."
)
COMMANDS = {  # name -> the first line of its help, in the order `gate --help` lists them
    "list": "List every registered gate: id, name, built or planned, prerequisites, source milestone.",
    "status": "The capability matrix: each gate's last verdict, when, run id, golden version, what it unlocks.",
    "backends": "Which backends and devices are available here, and why not where not.",
    "models": "List the registered models: name, protocol (codec for m1, world_model for m2+), what it loads.",
    "approve": "Promote a run's candidate artifacts to artifacts/<gate>/<name>/ (refused in CI; --force to replace).",
    "runs": "List runs from the ledger, newest first, filtered by gate, verdict and date.",
    "show": "Show one run: its row, metrics, criteria and where its receipt is.",
    "export": "Export every run with its metrics and criteria.",
    "ledger": "The run ledger (.gate/ledger.db): rebuild it from the receipts.",
    "lineage": "A run's inputs and outputs, both ways: what it used and who made it, what it made and who used it.",
    "schema": "Print the JSON Schema (draft 2020-12) of one published file format.",
    "run": "Run one gate: exit 0 if it passes, 1 if a criterion fails, 2 on bad input, 3 if not runnable here.",
    "all": "Run every built gate in prerequisite order; a gate whose prerequisite failed is blocked, not run.",
    "data": "Frame datasets: collect episodes from a backend, or import recorded frames, into a hashed artifact.",
    "serve": "Serve the world models and the harness over HTTP and WebSocket (FastAPI on uvicorn).",
    "keys": "API keys of gate serve: create, list, revoke (stored hashed).",
    "play": "Play a world model live (the latest golden: m4's, else m2's): keyboard in a terminal, or --keys headless.",
    "zoo": "The model zoo: model cards (goldens first), local, a shared folder or a URL.",
}  # fmt: skip


def help_text() -> str:
    from shell.registry import load_gates

    gates = [
        (g.id, f"{g.name}: {g.summary or g.source}" + ("" if g.built else " [planned]"))
        for g in load_gates().gates.values()
    ]
    rows = [*COMMANDS.items(), *gates]
    width = max(len(n) for n, _ in rows) + 2
    lines = ["Usage: gate [OPTIONS] COMMAND [ARGS]...", "", *("  " + x for x in ABOUT.split("\n"))]
    lines += ["", "Options:", "  --help  Show this message and exit.", "", "Commands:"]
    lines += [f"  {n:<{width}}{h}" for n, h in rows]
    lines += ["", "gate COMMAND --help for a command's options; gate ID runs a gate (gate m1)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args in ([], ["--help"], ["-h"]):
        sys.stdout.write(help_text() + "\n")
        sys.exit(0)
    if len(args) in (1, 2) and args[0] in FAST and args[1:] in ([], ["--json"]):
        from shell.errors import GateError
        from shell.listing import show

        try:
            show(args[0], json=args[1:] == ["--json"])
        except GateError as e:
            print(f"gate: error: {e}", file=sys.stderr)
            sys.exit(e.exit_code)
        sys.exit(0)
    from shell.cli import main as full

    full(args)
