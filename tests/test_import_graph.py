"""No import cycles anywhere under ``src/mlfleet``, lazy imports included.

The graph is read from the source with :mod:`ast`, not from ``sys.modules``, so an
import hidden inside a function or under ``if TYPE_CHECKING:`` counts exactly like
one at the top of the file: a lazy import that only breaks a cycle at load time
still ties the two modules together, and the next refactor turns it back into a
load-time failure.

Rules for an edge ``a -> b`` (``a`` and ``b`` are dotted module names; a package is
its ``__init__``, named by the package):

* ``import x.y.z`` and ``from x.y.z import name`` give ``a -> x.y.z``. Parent
  packages (``x``, ``x.y``) are *not* edges: Python runs their ``__init__`` too,
  but counting that would make every package whose ``__init__`` re-exports a
  submodule look cyclic with all its children.
* ``from x.y import name`` where ``x.y.name`` is a module (a submodule import)
  gives ``a -> x.y.name`` instead of ``a -> x.y``.
* Relative imports are resolved against ``a``'s package.
* An ``__init__`` importing its own submodules gives real edges. So a package
  whose ``__init__`` imports ``pkg.sub`` while ``pkg.sub`` does
  ``from pkg import helper`` (``helper`` defined in the ``__init__``) is a cycle.
* Only modules under ``mlfleet`` are nodes; the standard library and third-party
  packages are ignored.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT_PACKAGE = "mlfleet"

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    """Dotted module name of a file under ``SRC`` (a package is named by its dir)."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module under ``src/mlfleet``, by dotted name."""
    return {module_name(p): p for p in sorted((SRC / ROOT_PACKAGE).rglob("*.py"))}


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve_from(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The absolute module named by a ``from ... import`` statement."""
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every ``mlfleet`` module that ``module`` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve_from(node, module, path)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in known else target


def import_graph() -> Graph:
    """Edges between ``mlfleet`` modules (self-edges dropped)."""
    known = all_modules()
    graph: Graph = {name: set() for name in known}
    for name, path in known.items():
        for target in imported_modules(name, path, known):
            if target in known and target != name:
                graph[name].add(target)
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def shortest_cycle(graph: Graph, start: str, members: set[str]) -> list[str]:
    """A shortest chain ``start -> ... -> start`` inside one component."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for succ in sorted(graph[node] & members):
                if succ == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(parents[chain[-1]])
                    return [start, *reversed(chain[:-1]), start]
                if succ not in parents:
                    parents[succ] = node
                    following.append(succ)
        frontier = following
    return [start]


def cycle_chains(graph: Graph) -> list[str]:
    """One readable chain per module in a cycle, e.g. ``a -> b -> a``."""
    chains: set[str] = set()
    for component in strongly_connected(graph):
        for start in component:
            chain = shortest_cycle(graph, start, set(component))
            chains.add(" -> ".join(_rotate(chain[:-1]) + [_rotate(chain[:-1])[0]]))
    return sorted(chains)


def _rotate(cycle: list[str]) -> list[str]:
    """The cycle started at its smallest name, so each cycle is reported once."""
    first = cycle.index(min(cycle))
    return cycle[first:] + cycle[:first]


def test_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()
    # mlfleet.sim re-exports its kernel; mlfleet.cli imports chapters lazily.
    assert "mlfleet.sim.kernel" in graph["mlfleet.sim"]
    assert graph["mlfleet.cli"], "the CLI imports nothing from mlfleet?"


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle_chains(graph) == ["a -> b -> c -> a"]


def test_no_import_cycles_in_src() -> None:
    graph = import_graph()
    chains = cycle_chains(graph)
    groups = [", ".join(component) for component in strongly_connected(graph)]
    assert not chains, ("import cycles under src/mlfleet:\n" + "\n".join(chains)
                        + "\nmodules tied together:\n" + "\n".join(groups))
