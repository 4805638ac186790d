"""Layering of ``src/facedet``, read from the imports and string constants of every module (no import).

- Outside ``families/`` no module imports a family package (``facedet.families.<name>``; the registry
  ``facedet.families`` and ``facedet.families.base`` are shared) or holds a family name as a string
  constant (docstrings and ``help=`` texts of the command line aside), so no shared code branches on
  a family.
- ``models/`` imports neither ``criteria/`` nor ``engine/``; ``criteria/`` does not import ``engine/``.
- ``families/base.py`` imports no family.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "facedet"
FAMILY_NAMES = {p.name for p in (SRC / "families").iterdir() if (p / "__init__.py").is_file()}


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    """Absolute names of every module imported by ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    pkg = _module(path).split(".") if path.name == "__init__.py" else _module(path).split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = pkg[: len(pkg) - node.level + 1] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            out.append(mod)
            out += [f"{mod}.{a.name}" for a in node.names]  # ``from . import scrfd`` imports a package
    return out


def _strings(path: Path) -> list[tuple[int, str]]:
    """String constants that are neither docstrings nor ``help=`` / ``description=`` texts."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in ("help", "description"):
            skip.update(id(n) for n in ast.walk(node.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip]


SHARED = sorted(p for p in SRC.rglob("*.py") if "families" not in p.relative_to(SRC).parts)


def _family_package(name: str) -> str | None:
    parts = name.split(".")
    if parts[:2] == ["facedet", "families"] and len(parts) > 2 and parts[2] in FAMILY_NAMES:
        return ".".join(parts[:3])
    return None


@pytest.mark.parametrize("path", SHARED, ids=lambda p: str(p.relative_to(SRC)))
def test_layering_shared_code_knows_no_family(path: Path) -> None:
    bad = sorted({pkg for name in _imports(path) if (pkg := _family_package(name))})
    assert not bad, f"{path.relative_to(SRC)} imports family packages {bad}: ask facedet.families.family_of instead"
    names = [(line, s) for line, s in _strings(path) if s in FAMILY_NAMES]
    assert not names, f"{path.relative_to(SRC)} names families as strings (line, name): {names}"


def test_layering_between_shared_packages() -> None:
    rules = {"models": ("facedet.criteria", "facedet.engine"), "criteria": ("facedet.engine",)}
    bad = []
    for pkg, forbidden in rules.items():
        for path in sorted((SRC / pkg).rglob("*.py")):
            for name in _imports(path):
                if name.startswith(forbidden):
                    bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, "\n".join(bad)


def test_layering_family_base_imports_no_family() -> None:
    bad = [n for n in _imports(SRC / "families" / "base.py") if _family_package(n)]
    assert not bad, bad


def test_layering_scanner_sees_what_it_must() -> None:
    """The scanner itself: a relative ``from .. import scrfd`` and a compared name are both found."""
    assert FAMILY_NAMES >= {"scrfd", "extd", "group_sampling"}
    assert _family_package("facedet.families.extd.presets") == "facedet.families.extd"
    assert _family_package("facedet.families.base") is None and _family_package("facedet.families") is None
    init = _imports(SRC / "families" / "__init__.py")
    assert "facedet.families.scrfd" in init and "facedet.config" in init
    strings = [s for _, s in _strings(SRC / "families" / "scrfd" / "__init__.py")]
    assert "scrfd" in strings


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported (module-level statements; ``if`` blocks such as
    ``TYPE_CHECKING`` and imports inside functions are not)."""
    tree = ast.parse(path.read_text())
    mod = _module(path).split(".")
    pkg = mod if path.name == "__init__.py" else mod[:-1]
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = pkg[: len(pkg) - node.level + 1] if node.level else []
            m = ".".join([*base, node.module] if node.module else base)
            out |= {m} | {f"{m}.{a.name}" for a in node.names}
    return out


def test_layering_no_import_cycles() -> None:
    """No cycle among module-level imports (ARCHITECTURE.md §A.2 had two; the lazy imports inside
    functions that hid them are not counted, so a cycle cannot hide behind one either)."""
    paths = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {m: {d for d in _top_level_imports(p) if d in paths and d != m} for m, p in paths.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d):], d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
