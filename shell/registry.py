"""The gate and backend registries, filled from the entry-point groups `worldgate.gates` and
`worldgate.backends`. Built-ins register the same way a third party's package does.

Nothing here imports torch: declaring a gate must stay cheap so `gate list` and `gate status` are instant.
A gate's heavy code lives inside its `run` and `commands` callables.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from shell.entrypoints import entry_points
from shell.errors import BadInput

Op = Literal["<", "<=", ">", ">=", "=="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


def lazy(target: str) -> Callable[..., Any]:
    """A callable standing for `module:function`, imported on first call, so a gate's declaration can
    name its run, verbs and config without importing them (`gate list` stays instant)."""
    module, _, name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__module__, call.__name__, call.__qualname__ = module, name, name
    return call


@dataclass(frozen=True)
class Criterion:
    name: str
    op: Op
    threshold: float
    unit: str = ""
    description: str = ""
    only_on: str = ""  # "cuda": judged only where that device is present; elsewhere "n/a here"

    def check(self, value: float) -> bool:
        v = float(value)
        return not math.isnan(v) and _OPS[self.op](v, float(self.threshold))

    def __str__(self) -> str:
        where = f" (on {self.only_on} only)" if self.only_on else ""
        return f"{self.name} {self.op} {self.threshold:g}{(' ' + self.unit) if self.unit else ''}{where}"


@dataclass(frozen=True)
class Gate:
    """A milestone. `run` is None for a gate that is only planned.

    run(ctx) measures and reports through ctx (shell.runner.RunContext); the verdict is that every
    declared criterion was checked and passed. commands(app) adds gate verbs (`gate m1 train`) to the
    gate's Typer group. config is a pydantic model (extra fields forbidden) with the gate's defaults.
    """

    id: str
    name: str
    source: str
    prerequisites: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    run: Callable[[Any], None] | None = None
    commands: Callable[[Any], None] | None = None
    config: Any = None
    summary: str = ""
    default_backend: str | None = None

    @property
    def built(self) -> bool:
        return self.run is not None

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.name == name:
                return c
        raise KeyError(f"gate {self.id} declares no criterion {name!r}")


@dataclass(frozen=True)
class Composite:
    """A go/no-go decision over member gates (the roadmap's Gates 1-4, "the one test that matters"):
    go when every member's last verdict is a pass, no-go when one failed, pending otherwise."""

    id: str
    name: str
    source: str
    members: tuple[str, ...]
    question: str = ""  # what the decision asks, in the roadmap's words

    def verdict(self, last: dict[str, str | None]) -> str:
        got = [last.get(m) for m in self.members]
        if got and all(v == "pass" for v in got):
            return "go"
        if any(v in ("fail", "error") for v in got):
            return "no-go"
        return "pending"


@dataclass
class Registry:
    gates: dict[str, Gate] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    composites: dict[str, Composite] = field(default_factory=dict)

    def get(self, gate_id: str) -> Gate:
        if gate_id not in self.gates:
            known = ", ".join(self.gates) or "none"
            raise BadInput(f"unknown gate {gate_id!r}; known gates: {known}")
        return self.gates[gate_id]

    def unlocks(self, gate_id: str) -> list[str]:
        return [g.id for g in self.gates.values() if gate_id in g.prerequisites]

    def order(self, ids: list[str] | None = None) -> list[Gate]:
        """Gates in prerequisite order (stable by declaration where free)."""
        want = set(ids) if ids is not None else set(self.gates)
        done: list[str] = []
        seen: set[str] = set()

        def visit(gid: str, trail: tuple[str, ...]) -> None:
            if gid in seen:
                return
            if gid in trail:
                raise BadInput(f"prerequisite cycle: {' -> '.join((*trail, gid))}")
            for p in self.gates[gid].prerequisites:
                if p in self.gates:
                    visit(p, (*trail, gid))
            seen.add(gid)
            done.append(gid)

        for gid in self.gates:
            visit(gid, ())
        return [self.gates[g] for g in done if g in want]


def _gate_sort_key(gate: Gate) -> tuple[int, str]:
    digits = "".join(ch for ch in gate.id if ch.isdigit())
    return (int(digits) if digits and gate.id.startswith("m") else 10_000, gate.id)


def load_gates() -> Registry:
    """Every gate registered under `worldgate.gates`. An entry point may name a Gate or a list of them."""
    reg = Registry()
    found: list[Gate] = []
    for ep in entry_points(group="worldgate.gates"):
        try:
            obj = ep.load()
        except Exception as e:  # a broken plugin must not break the registry
            reg.problems.append(f"entry point {ep.name!r} ({ep.value}) failed to load: {e}")
            continue
        items = obj if isinstance(obj, list | tuple) else [obj]
        for g in items:
            if isinstance(g, Composite):
                reg.composites.setdefault(g.id, g)
                continue
            if not isinstance(g, Gate):
                reg.problems.append(f"entry point {ep.name!r} ({ep.value}) is not a Gate")
                continue
            found.append(g)
    for g in sorted(found, key=_gate_sort_key):
        if g.id in reg.gates:
            if reg.gates[g.id].built and not g.built:
                continue  # a built gate supersedes the planned declaration of the same id
            if reg.gates[g.id].built == g.built:
                reg.problems.append(f"gate {g.id!r} is registered twice; the first one is kept")
                continue
        reg.gates[g.id] = g
    reg.gates = dict(sorted(reg.gates.items(), key=lambda kv: _gate_sort_key(kv[1])))
    return reg


@dataclass(frozen=True)
class BackendEntry:
    """What a `worldgate.backends` entry point names.

    create(num_envs, device, **options) returns a shell.backends.base.Backend. available() returns None
    when the backend can run here, else a one-line reason (a missing package, say).
    """

    name: str
    summary: str
    create: Callable[..., Any]
    available: Callable[[], str | None] = lambda: None
    options: tuple[str, ...] = ()


def load_backends() -> dict[str, BackendEntry]:
    out: dict[str, BackendEntry] = {}
    for ep in entry_points(group="worldgate.backends"):
        try:
            obj = ep.load()
        except Exception as e:
            out[ep.name] = BackendEntry(
                ep.name, f"failed to load: {e}", _broken(str(e)), lambda e=e: str(e)
            )
            continue
        out[ep.name] = obj
    return dict(sorted(out.items()))


def _broken(reason: str) -> Callable[..., Any]:
    def create(*_: Any, **__: Any) -> Any:
        raise BadInput(reason)

    return create


def get_backend(name: str) -> BackendEntry:
    backends = load_backends()
    if name not in backends:
        raise BadInput(f"unknown backend {name!r}; known backends: {', '.join(backends) or 'none'}")
    return backends[name]
