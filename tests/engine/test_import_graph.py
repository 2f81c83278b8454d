"""Dependencies point one way: no import circle among the project's modules or its packages, the thin
clients (CLI, console, widgets) never load the engine or the daemon's libraries, and the wire vocabulary
imports nothing else of ours."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("console", "widgets")


def project_modules() -> dict[str, Path]:
    modules = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that `name` imports anywhere in its text (function-level and TYPE_CHECKING too)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def module_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    modules = project_modules()

    def package(name: str) -> str:
        return name if modules[name].name == "__init__.py" else name.rpartition(".")[0]

    edges: dict[str, set[str]] = {}
    for name, targets in graph.items():
        edges.setdefault(package(name), set())
        for target in targets:
            a, b = package(name), package(target)
            if a != b and not a.startswith(b + ".") and not b.startswith(a + "."):  # parents hold their children
                edges[a].add(b)
                edges.setdefault(b, set())
    return edges


def test_the_graph_sees_imports() -> None:
    graph = module_graph()
    assert "console.engine.daemon.routes.core" in graph["console.engine.daemon.api"]
    assert "console.wire.lto" in graph["console.config.loading"]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_among_modules() -> None:
    assert circles(module_graph()) == []


def test_no_import_circle_among_packages() -> None:
    assert circles(package_graph(module_graph())) == []


def test_the_wire_vocabulary_imports_nothing_else_of_ours() -> None:
    graph = module_graph()
    for name, targets in graph.items():
        if name.startswith("console.wire"):
            assert all(t.startswith("console.wire") for t in targets), (name, targets)


def test_the_thin_clients_never_load_the_engine_or_the_daemon_libraries() -> None:
    """Importing every module of the CLI, the console, the widgets, the config and the client loads no engine
    module, TinyDB, Starlette or uvicorn (commands that run engine code in-process, `daemon run` and
    `audit verify --file`, import it inside the command)."""
    script = (
        "import sys, importlib, pkgutil\n"
        "BLOCKED = ('console.engine', 'tinydb', 'starlette', 'uvicorn')\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith(BLOCKED):\n"
        "            raise ImportError('a thin client imported ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import console.cli, console.client, console.tui, console.config, console.wire, widgets\n"
        "count = 0\n"
        "for pkg in (console.cli, console.client, console.tui, console.config, console.wire, widgets):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "        count += 1\n"
        "assert not [k for k in sys.modules if k.startswith(BLOCKED)]\n"
        "print('ok', count)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok") and int(result.stdout.split()[1]) > 30
