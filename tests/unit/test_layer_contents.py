"""The core layer ships only what the functions import: every module of layers/core/bulkimport is
reached from some function's handler by following imports. A module no function reaches is weight in
every Lambda, or code that only the local stack, tests or tools use, which belongs with them.

Functions are the folders of functions/ (handler module app.py, as the template names them all), and
modules are the .py files of the package, so the test follows the layer and the functions as they
change. Imports are read with ast, not run: every `import` and `from ... import` of a module counts,
including those inside functions (imported late on purpose), and importing a.b.c reaches a and a.b too.
Only modules the function's folder or the layer holds are followed; the rest are libraries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"
PACKAGE = LAYER / "bulkimport"
FUNCTIONS = sorted(path.parent for path in (ROOT / "functions").glob("*/app.py"))


def modules_under(base: Path, folder: Path) -> dict[str, Path]:
    """Module name (as imported with `base` on sys.path) -> its file, for every .py file under folder."""
    found = {}
    for path in folder.rglob("*.py"):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def imported_by(name: str, path: Path) -> set[str]:
    """Every module name an import statement of the module reaches (known or not), with its parents;
    for `from x import y`, x.y as well, since y may be a submodule."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names |= with_parents(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            names |= with_parents(source)
            names |= {f"{source}.{alias.name}" for alias in node.names}
    return names


def reached_from(function_dir: Path, known: dict[str, Path]) -> set[str]:
    """The modules the function's handler imports, directly or through other modules it imports."""
    local = modules_under(function_dir, function_dir)
    known = {**known, **local}
    reached, todo = set(), ["app"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        todo.extend(m for m in imported_by(name, known[name]) if m in known and m not in reached)
    return reached - set(local)


def layer_modules() -> dict[str, Path]:
    return modules_under(LAYER, PACKAGE)


def test_functions_are_found_and_reach_the_layer():
    assert len(FUNCTIONS) >= 2, "no functions/*/app.py found"
    for function_dir in FUNCTIONS:
        assert reached_from(function_dir, layer_modules()), f"{function_dir.name} imports nothing from the layer"


def test_every_layer_module_is_imported_by_some_function():
    modules = layer_modules()
    reached = set().union(*(reached_from(function_dir, modules) for function_dir in FUNCTIONS))
    unreached = sorted(set(modules) - reached)
    if unreached:
        pytest.fail(
            "the layer holds modules no function imports (move them to devstack/, tools/ or tests/, "
            "or delete them):\n  " + "\n  ".join(f"{m}  ({modules[m].relative_to(ROOT)})" for m in unreached)
        )
