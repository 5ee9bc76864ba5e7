"""The package's layout, checked with plain tools (``ast`` on the source files, no import).

- no import circle between the modules of ``prismiq_django`` (every import counts: module level,
  inside functions and under ``TYPE_CHECKING``);
- imports only go down the layers of docs/architecture.md
  (api/ui -> services -> catalog/execution/cache/tenancy/models -> backends -> query); ``ops``,
  ``conf`` and ``exceptions`` may be imported from anywhere, and ``ops`` imports nothing above
  the glue; nothing outside ``api`` imports ``api`` but the top-level re-exports for sites;
- no private name (``_x``) imported from another module of the package;
- ``query/`` imports no Django (nor anything else of the package);
- at most 12 ``.py`` files directly in ``prismiq_django/``; none over 450 lines (migrations aside).
"""

from __future__ import annotations

import ast
import weakref
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "prismiq_django"
MAX_TOP_LEVEL_FILES = 12
MAX_LINES = 450

#: Rank of each layer: a module may import modules of its own rank or below.
RANKS = {
    "query": 0,
    "backends": 1,
    "catalog": 2,
    "execution": 2,
    "cache": 2,
    "tenancy": 2,
    "models": 2,
    "assistant": 2,
    "services": 3,
    "checks": 3,
    "signals": 3,
    "management": 4,
    "admin": 4,
    "api": 4,
    "ui": 4,
    "urls": 4,
    "throttling": 4,
    "identity": 2,
    "apps": 5,
}
#: Importable from anywhere; what they import themselves is checked against OPEN_MAX_RANK.
OPEN = {"ops", "conf", "exceptions", "observability", "middleware", "__init__"}
OPEN_MAX_RANK = 2
#: Top-level modules that only re-export a public path a site writes (README, docs): nothing in
#: the package imports them.
SHIMS = {"urls", "throttling", "middleware", "observability", "identity"}
#: Who may import ``api``: api itself, the shims that re-export it and the app config (which
#: registers the drf-spectacular extensions in ``ready()``).
API_IMPORTERS = {"api", "urls", "throttling", "apps"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, name: str | None) -> str | None:
    """The package module an ``import`` names (``None`` outside the package)."""
    if module != "prismiq_django" and not module.startswith("prismiq_django."):
        return None
    inner = module.removeprefix("prismiq_django").lstrip(".")
    if name is not None:
        candidate = f"{inner}.{name}" if inner else name
        if candidate in MODULES:
            return candidate
    return inner or "__init__"


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """``(module, imported name or None, line)`` of every prismiq_django import in ``path``."""
    found: list[tuple[str, str | None, int]] = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, None)
                if target is not None:
                    found.append((target, None, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = _resolve(node.module, alias.name)
                if target is not None:
                    found.append((target, alias.name, node.lineno))
    return found


GRAPH = {
    name: {target for target, _, _ in _imports(path) if target != name}
    for name, path in MODULES.items()
}


def _layer(module: str) -> str:
    return module.split(".")[0]


def _rank(module: str) -> int:
    layer = _layer(module)
    if layer in OPEN:
        return -1
    return RANKS[layer]


def test_every_module_has_a_layer() -> None:
    unknown = sorted(m for m in MODULES if _layer(m) not in RANKS and _layer(m) not in OPEN)
    assert unknown == []


def test_no_import_cycle() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert cycles == []


def test_imports_only_go_down() -> None:
    upward = []
    for module, path in MODULES.items():
        layer = _layer(module)
        for target, _, line in _imports(path):
            target_layer = _layer(target)
            if target_layer == layer:
                continue
            if target in SHIMS:
                upward.append(f"{module}:{line} imports the re-export {target}")
            elif target_layer == "api" and layer not in API_IMPORTERS:
                upward.append(f"{module}:{line} imports {target} (nothing imports api)")
            elif target_layer in OPEN:
                continue
            elif layer in OPEN:
                if _rank(target) > OPEN_MAX_RANK:
                    upward.append(f"{module}:{line} ({layer}) imports {target}")
            elif _rank(target) > _rank(module):
                upward.append(f"{module}:{line} imports {target} (a higher layer)")
    assert upward == []


def test_no_private_name_imported_across_modules() -> None:
    private = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "prismiq_django"
            ):
                private += [
                    f"{module}:{node.lineno} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and alias.name != "__version__"
                ]
    assert private == []


def test_the_query_core_imports_no_django_nor_the_rest_of_the_package() -> None:
    offending = []
    for module, path in MODULES.items():
        if _layer(module) != "query":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                outside = name.startswith("prismiq_django.") and not name.startswith(
                    "prismiq_django.query"
                )
                if name == "django" or name.startswith(("django.", "rest_framework")) or outside:
                    offending.append(f"{module}:{node.lineno} imports {name}")
    assert offending == []


def test_signal_receivers_are_connected_in_ready_not_at_import() -> None:
    """No module connects a receiver when it is imported: ``signals.connect()`` and
    ``apps.PrismiqConfig.ready()`` do, once the apps are loaded."""
    at_import = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:  # module level only: calls inside functions run later
            for call in ast.walk(node):
                if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                    break
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "connect"
                ):
                    at_import.append(f"{module}:{call.lineno}")
    assert at_import == []


def test_the_receivers_are_connected_once_the_apps_are_ready() -> None:
    from django.core.signals import request_finished, setting_changed

    from prismiq_django.api.views.docs import forget_openapi_documents
    from prismiq_django.catalog.protected import forget_protection_key
    from prismiq_django.catalog.store import forget_configuration_key
    from prismiq_django.conf import forget_settings
    from prismiq_django.ops.afterresponse import run_pending

    def receivers(signal: object) -> list[object]:
        refs = [entry[1] for entry in signal.receivers]  # type: ignore[attr-defined]
        return [ref() if isinstance(ref, weakref.ReferenceType) else ref for ref in refs]

    connected = receivers(setting_changed)
    for receiver in (
        forget_settings,
        forget_protection_key,
        forget_configuration_key,
        forget_openapi_documents,
    ):
        assert connected.count(receiver) == 1, receiver
    assert receivers(request_finished).count(run_pending) == 1


def test_at_most_twelve_files_at_the_top_of_the_package() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_FILES, top


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_450_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


def test_the_checker_sees_an_upward_import_and_a_cycle() -> None:
    """The rules above would fail on what they forbid (not only pass on this tree)."""
    assert _rank("query.compiler") < _rank("backends.base") < _rank("catalog.store")
    assert _rank("catalog.store") < _rank("services.queries") < _rank("api.views.base")
    assert "api.views" in GRAPH["api.urls"]  # the graph holds real edges
    assert "catalog.store" in GRAPH["catalog.sync"]  # sync -> store, not services
    assert not any(_layer(t) == "services" for t in GRAPH["catalog.sync"])


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("prismiq_django.urls", "urlpatterns"),
        ("prismiq_django.middleware", "RequestIdMiddleware"),
        ("prismiq_django.observability", "JsonFormatter"),
        ("prismiq_django.observability", "REGISTRY"),
        ("prismiq_django.throttling", "RateLimitMixin"),
        ("prismiq_django.identity", "caller_pk"),
    ],
)
def test_the_public_paths_of_the_docs_still_import(path: str, name: str) -> None:
    import importlib

    assert getattr(importlib.import_module(path), name) is not None


def test_tests_reach_no_private_name_of_the_package() -> None:
    """Tests use the package's public names: no ``from prismiq_django.x import _y``, no
    ``module._y`` on a name imported from the package, no ``setattr(module, "_y", ...)``."""
    tests = Path(__file__).resolve().parent
    private = []
    for path in sorted(tests.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "prismiq_django"
            ):
                for alias in node.names:
                    imported.add(alias.asname or alias.name)
                    if alias.name.startswith("_") and alias.name != "__version__":
                        private.append(f"{path.name}:{node.lineno} imports {alias.name}")
            elif isinstance(node, ast.Import):
                imported |= {
                    alias.asname or alias.name.split(".")[0]
                    for alias in node.names
                    if alias.name.startswith("prismiq_django")
                }
        for node in ast.walk(tree):
            owner, name = None, ""
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                owner, name = node.value.id, node.attr
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "setattr"
                and len(node.args) >= 2
                and isinstance(node.args[0], ast.Name)
                and isinstance(node.args[1], ast.Constant)
            ):
                owner, name = node.args[0].id, str(node.args[1].value)
            if owner in imported and name.startswith("_") and not name.startswith("__"):
                private.append(f"{path.relative_to(tests)}:{node.lineno} {owner}.{name}")
    assert private == []
