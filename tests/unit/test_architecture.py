"""The core's layers (docs/architecture.md): every import points down, none goes round in a circle
(nor in the tools tree: the operator commands and the measurements).

Each sub-package of ``layers/core/dlrhub`` is a layer and may import only the layers listed for it
in :data:`ALLOWED`; a function's handler (``functions/*/app.py``) imports the core and nothing of
the repository's scaffolding. Imports are read from the source (those inside functions and under
``TYPE_CHECKING`` too), so an import that a test never runs still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support import ROOT

CORE = ROOT / "layers/core/dlrhub"
TOOLS = ROOT / "tools"
#: layer -> the layers its modules may import (its own included)
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset({"domain"}),
    "runtime": frozenset({"domain", "runtime"}),
    "providers": frozenset({"domain", "providers"}),
    "table": frozenset({"domain", "runtime", "table"}),
    "adapters": frozenset({"domain", "runtime", "providers", "adapters"}),
    "services": frozenset({"domain", "runtime", "providers", "table", "adapters"}),
}
#: What a function's handler may import of the repository (besides third-party packages).
HANDLER_ROOTS = frozenset({"dlrhub"})
REPOSITORY_ROOTS = frozenset({"dlrhub", "dlrhub_local", "dlrhub_tools", "dlrhub_measure", "tests"})


def module_name(path: Path, root: Path = CORE.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, wherever in the file the import statement is."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            # ``from dlrhub.runtime import clients``: the module is dlrhub.runtime.clients
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def graph(packages: Path, root: Path) -> dict[str, set[str]]:
    """module -> the modules below ``packages`` it imports (``root``: the folder on ``sys.path``)."""
    modules = {module_name(path, root): path for path in packages.rglob("*.py")}
    return {name: {found for found in imported(path) if found in modules} - {name} for name, path in modules.items()}


def core_graph() -> dict[str, set[str]]:
    return graph(CORE, CORE.parent)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ALLOWED else None


def wrong_way(graph: Mapping[str, set[str]]) -> list[str]:
    """Each import that points where :data:`ALLOWED` does not let it, as ``a -> b``."""
    found = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        if layer is None:  # a package's __init__
            continue
        found += [
            f"{module} -> {target}"
            for target in sorted(targets)
            if layer_of(target) is not None and layer_of(target) not in ALLOWED[layer]
        ]
    return found


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (each as a path that comes back to its start)."""
    found, state, path = [], dict.fromkeys(graph, 0), []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif state.get(target) == 0:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if state[module] == 0:
            visit(module)
    return found


def test_every_core_import_points_down_a_layer() -> None:
    graph = core_graph()
    assert len(graph) > 30
    assert wrong_way(graph) == []


def test_the_core_has_no_import_circle() -> None:
    assert circles(core_graph()) == []


def test_the_tools_tree_has_no_import_circle() -> None:
    tools = graph(TOOLS, TOOLS)
    assert {"dlrhub_measure.runner", "dlrhub_measure.bench.cost", "dlrhub_tools.recount"} <= set(tools)
    assert circles(tools) == []


def test_every_core_module_lives_in_a_layer() -> None:
    assert sorted(path.name for path in CORE.glob("*.py")) == ["__init__.py"], "modules belong in a layer's folder"
    assert {path.name for path in CORE.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(ALLOWED)


@pytest.mark.parametrize("path", sorted(ROOT.glob("functions/*/app.py")), ids=lambda path: path.parent.name)
def test_a_handler_imports_the_core_only(path: Path) -> None:
    ours = {found.split(".")[0] for found in imported(path)} & REPOSITORY_ROOTS
    assert ours <= HANDLER_ROOTS


@pytest.mark.parametrize("path", sorted(ROOT.glob("functions/*/app.py")), ids=lambda path: path.parent.name)
def test_each_function_has_its_service_module(path: Path) -> None:
    assert (CORE / "services" / f"{path.parent.name}.py").is_file()


def test_the_checks_find_an_import_that_points_up_and_a_circle() -> None:
    graph = {
        "dlrhub.domain.status": {"dlrhub.table.keys"},  # the domain reading the table: up
        "dlrhub.table.keys": set(),
        "dlrhub.services.poller": {"dlrhub.services.stream"},  # one function's service in another's
        "dlrhub.services.stream": {"dlrhub.services.poller"},
        "dlrhub.providers.twilio": {"dlrhub.runtime.clients"},  # a provider module calling AWS
    }
    assert wrong_way(graph) == [
        "dlrhub.domain.status -> dlrhub.table.keys",
        "dlrhub.providers.twilio -> dlrhub.runtime.clients",
        "dlrhub.services.poller -> dlrhub.services.stream",
        "dlrhub.services.stream -> dlrhub.services.poller",
    ]
    assert circles(graph) == [["dlrhub.services.poller", "dlrhub.services.stream", "dlrhub.services.poller"]]
