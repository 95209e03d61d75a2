"""The shape of the code: dependencies point one way, and no module outgrows its concept.

Read from the source with `ast` (nothing is imported), so an import hidden inside a
function counts like any other.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ["config", "orders", "notes", "refunds", "webhooks", "backoffice"]
# A module past this many lines holds more than one concept: split it (STYLE.md).
MAX_MODULE_LINES = 500
# Who may import whom: `orders` knows no other app, notes, refunds and webhooks know orders,
# and only the back office composes them all.
FORBIDDEN_DEPENDENCIES = {
    "orders": {"notes", "refunds", "webhooks", "backoffice"},
    "notes": {"refunds", "webhooks", "backoffice"},
    "refunds": {"notes", "webhooks", "backoffice"},
    "webhooks": {"notes", "refunds", "backoffice"},
}


def project_modules() -> dict[str, Path]:
    """Dotted name → file of every module of the apps, migrations left out."""
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in the file (`from a.b import c` is
    module a.b.c when that is a module, else a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif node.module in modules:
                    found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that reach each other through imports (Tarjan's strongly
    connected components of more than one module), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in on_stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_no_modules_import_each_other_even_through_others():
    assert import_cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_pair_and_a_longer_loop():
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}

    assert import_cycles(graph) == [["a", "b"], ["c", "d", "e"]]


def test_an_import_inside_a_function_counts(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from orders import transitions\n    import notes.tasks\n")

    assert imports_of(module, {"orders.transitions": module, "notes.tasks": module}) == {
        "orders.transitions",
        "notes.tasks",
    }


@pytest.mark.parametrize("app", sorted(FORBIDDEN_DEPENDENCIES))
def test_dependencies_between_apps_point_one_way(app):
    graph = import_graph()
    wrong = sorted(
        (module, imported)
        for module, imports in graph.items()
        if module.split(".")[0] == app
        for imported in imports
        if imported.split(".")[0] in FORBIDDEN_DEPENDENCIES[app]
    )

    assert wrong == []


def test_no_module_outside_migrations_and_tests_is_over_500_lines():
    too_long = {
        name: length
        for name, path in project_modules().items()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }

    assert too_long == {}
