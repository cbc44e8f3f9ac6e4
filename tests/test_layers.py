"""conch's parts lean one way: no import cycle among its modules (imports inside functions
count), nothing below the API imports it, and the SDK loads none of the server."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every conch module ``module`` imports, wherever the import statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    package = package.rsplit(".", 1)[0]
                base = f"{package}.{base}" if base else package
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """conch's modules and the conch modules each imports."""
    paths = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _imported(tree, module, path.name == "__init__.py")
        graph[module] = {name for name in names if name in paths and name != module}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle among ``graph``'s modules, or [] when there is none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def _is_package_import(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_no_module_is_part_of_an_import_cycle() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle of parts.
    graph = {
        module: {
            target
            for target in targets
            if not (module.count(".") < target.count(".") and target.startswith(module + "."))
        }
        for module, targets in import_graph().items()
    }
    assert cycle(graph) == []


BELOW_THE_API = ("delivery", "store", "client", "engines", "domain", "media", "wire", "net")


@pytest.mark.parametrize("package", BELOW_THE_API)
def test_nothing_below_the_api_imports_it(package: str) -> None:
    offenders = {
        module: sorted(name for name in targets if _is_package_import(name, "conch.api"))
        for module, targets in import_graph().items()
        if _is_package_import(module, f"conch.{package}")
    }
    assert {module: names for module, names in offenders.items() if names} == {}


SERVER_ONLY = ("fastapi", "starlette", "sqlalchemy", "conch.api", "conch.store", "conch.runner")


def test_the_sdk_imports_none_of_the_server() -> None:
    probe = (
        "import json, sys; import conch.client; "
        "print(json.dumps(sorted(name for name in sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    server = [name for name in loaded if any(_is_package_import(name, p) for p in SERVER_ONLY)]
    assert server == []
