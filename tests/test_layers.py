"""The layering of the code, read from its imports (function-local ones too): no import
cycle between modules, and no app importing an app above it. Lower layers never know of the
higher ones; a higher one plugs in through the kernel's registries."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "linli"


def _layers() -> dict[str, float]:
    """Each app's layer is its place in ``INSTALLED_APPS``: an app may import the apps installed
    before it, never one after it (a new app added at its place needs no edit here). The
    packages that are not apps sit where they belong: the test helpers just below the
    benchmarks that use them, the settings, URLs and the command line on top."""
    from django.conf import settings

    apps = [name.split(".")[1] for name in settings.INSTALLED_APPS if name.startswith("linli.")]
    layers: dict[str, float] = {app: float(n) for n, app in enumerate(apps)}
    layers["testing"] = layers["bench"] - 0.5
    layers["config"] = layers["cli"] = float(len(apps))
    return layers


LAYERS = _layers()


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in names:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _app(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_app_imports_an_app_above_it() -> None:
    upward = sorted(
        f"{source} → {target}"
        for source, targets in _graph().items()
        for target in targets
        if LAYERS.get(_app(target), 99) > LAYERS.get(_app(source), 99)
    )
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


def test_every_app_has_a_layer() -> None:
    apps = {_app(m) for m in _modules()} - {"linli"}
    assert apps <= set(LAYERS), sorted(apps - set(LAYERS))


def test_no_import_cycle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    import sys

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "linli.needs.services" in graph["linli.needs.api"]  # the positive control
    assert defaultdict  # keep the import used
