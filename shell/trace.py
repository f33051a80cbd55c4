"""Action traces, `actions.jsonl` (simple-rl-m3-plan §4.3): each line a JSON list of ints, one per env.

Errors are BadInput naming the file and the line, e.g. `traces/m3/x.jsonl: line 4: expected a JSON list
of ints`. Saving writes a temporary sibling and renames it into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from shell.atomic import write_bytes_atomic
from shell.errors import BadInput

MAX_ENVS = 256  # one emulator per env: a trace wider than this is a mistake, not a workload
TRACE_LIMIT = 16 << 20  # 16 MiB: about a million steps of one env
N_ACTIONS = 7  # pokemonred_puffer_v0: A B START UP DOWN LEFT RIGHT, no NOOP (simple-rl-m3-plan §0)


def parse_actions(
    text: bytes, shown: str, num_envs: int | None = None, n_actions: int = N_ACTIONS
) -> list[list[int]]:
    """The rows of a trace; every row has the same width (num_envs when given)."""
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    if not lines:
        raise BadInput(f"{shown}: empty trace (expected one JSON list of ints per line)")
    rows: list[list[int]] = []
    width = num_envs
    for i, raw in enumerate(lines, 1):
        try:
            row = orjson.loads(raw)
        except orjson.JSONDecodeError:
            row = None
        if (
            not isinstance(row, list)
            or not row
            or not all(isinstance(a, int) and not isinstance(a, bool) for a in row)
        ):
            raise BadInput(f"{shown}: line {i}: expected a JSON list of ints, e.g. [3]")
        if width is None:
            width = len(row)
            if width > MAX_ENVS:
                raise BadInput(
                    f"{shown}: line {i}: {width} actions, one per env; at most {MAX_ENVS} envs"
                )
        if len(row) != width:
            src = "the run has" if num_envs is not None else "line 1 has"
            raise BadInput(
                f"{shown}: line {i}: expected {width} action(s), one per env ({src} {width}), got {len(row)}"
            )
        bad = [a for a in row if not 0 <= a < n_actions]
        if bad:
            raise BadInput(f"{shown}: line {i}: action {bad[0]} outside 0..{n_actions - 1}")
        rows.append(row)
    return rows


def load_actions(
    path: Path, shown: str | None = None, num_envs: int | None = None, n_actions: int = N_ACTIONS
) -> list[list[int]]:
    from shell.safety import read_input_file

    shown = shown or str(path)
    data = read_input_file(path, "trace file", limit=TRACE_LIMIT, name=shown)
    return parse_actions(data, shown, num_envs, n_actions)


def dump_actions(rows: Sequence[Sequence[int]]) -> bytes:
    return b"".join(orjson.dumps([int(a) for a in r]) + b"\n" for r in rows)


def save_actions(path: Path, rows: Sequence[Sequence[int]], n_actions: int = N_ACTIONS) -> None:
    """Write rows atomically; they are checked the way load_actions checks them first."""
    data = dump_actions(rows)
    parse_actions(data, str(path), None, n_actions)
    write_bytes_atomic(path, data)
