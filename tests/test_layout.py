"""The house layout: one package per gate, no import cycles, core imports nothing from shell or gates,
gate packages never import one another, files stay short."""

from __future__ import annotations

from pathlib import Path

from shell.imports import PACKAGES, graph

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _graph() -> dict[str, set[str]]:
    return graph(ROOT)


def _is_parent(a: str, b: str) -> bool:
    return b.startswith(a + ".")


def test_no_import_cycles():
    g = _graph()
    # a package importing its own submodule lazily is not a cycle; the submodule importing the package is
    # (both directions through the package's __init__).
    edges = {m: {t for t in ts if not _is_parent(m, t)} for m, ts in g.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_core_imports_nothing_from_shell_or_gates():
    bad = {
        (m, t)
        for m, ts in _graph().items()
        if m.startswith("core")
        for t in ts
        if t.split(".")[0] in ("shell", "gates")
    }
    assert not bad, bad


def test_gate_packages_do_not_import_each_other():
    bad = set()
    for m, ts in _graph().items():
        parts = m.split(".")
        if parts[0] != "gates" or len(parts) < 2 or parts[1] in ("common", "planned"):
            continue
        for t in ts:
            tp = t.split(".")
            if tp[0] == "gates" and len(tp) > 1 and tp[1] not in ("common", parts[1]):
                bad.add((m, t))
    assert not bad, f"a gate package imports another gate's package: {sorted(bad)}"


def test_one_package_per_gate():
    loose = [p.name for p in (ROOT / "gates").glob("m*.py")]
    assert not loose, f"gate modules outside a package: {loose}"
    for pkg in (ROOT / "gates").iterdir():
        if pkg.is_dir() and pkg.name.startswith("m") and pkg.name[1:].isdigit():
            assert (pkg / "__init__.py").is_file(), pkg


def test_files_stay_short():
    long = {
        str(f.relative_to(ROOT)): n
        for pkg in PACKAGES
        for f in (ROOT / pkg).rglob("*.py")
        if (n := len(f.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"files past {MAX_LINES} lines: {long}"


def test_a_built_gate_is_declared_once():
    from gates.planned import PLANNED
    from shell.registry import load_gates

    built = {g.id for g in load_gates().gates.values() if g.built}
    assert built >= {"m1", "m2", "m3"}
    assert not built & {g.id for g in PLANNED}, "planned.py repeats a built gate's declaration"
