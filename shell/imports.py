"""The project's static import graph, read from source (nothing is imported): which project modules
each module imports, at the top or inside a function. Used by the layout tests (no cycles, core imports
nothing from shell or gates) and by `gate all --changed` (the code a gate's verdict depends on)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGES = ("core", "shell", "gates")


def module_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """{dotted module name: file} for every .py file under the packages."""
    out = {}
    for pkg in packages:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def imports_of(name: str, path: Path, known: set[str], source: str | None = None) -> set[str]:
    """The known modules `name` imports; imports under `if TYPE_CHECKING:` never run and are skipped."""
    tree = ast.parse(source if source is not None else path.read_text())
    is_pkg = path.name == "__init__.py"
    type_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:  # the most specific known module the import names
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    mods = module_files(root, packages)
    known = set(mods)
    return {m: imports_of(m, p, known) for m, p in mods.items()}


def closure(g: dict[str, set[str]], start: list[str]) -> set[str]:
    """Every module reachable from start (itself included), with each package's __init__ on the way."""
    seen: set[str] = set()
    todo = [m for m in start if m in g]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parent = m.rpartition(".")[0]
        todo.extend(t for t in (*g[m], parent) if t in g and t not in seen)
    return seen
