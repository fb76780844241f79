"""The package's imports point one way and never form a cycle (docs/architecture.md).

Walks every module of ``service`` and ``models`` with :mod:`ast` — imports inside
functions and under ``TYPE_CHECKING`` count too — and checks the layers:
``cli → worker / review / kafka → pipeline → models``, with the shared ``service``
modules (settings, errors, logs, progress, reach) under all of them, and inside ``models``
``training → artifact → article → evidence``. A failure names the modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "models")

# Layer of a module: the first entry whose prefix it has (longest prefixes first).
# A module may import its own layer and any layer listed for it.
LAYERS: dict[str, frozenset[str]] = {
    "models.errors": frozenset(),
    "models.evidence": frozenset({"models.errors"}),
    "models.article": frozenset({"models.evidence", "models.errors"}),
    "models.claims": frozenset({"models.evidence", "models.errors"}),
    "models.artifact": frozenset({"models.article", "models.evidence", "models.errors"}),
    "models.training": frozenset(
        {"models.artifact", "models.article", "models.evidence", "models.errors"}
    ),
    "models": frozenset(),  # models/__init__.py
    "service.shared": frozenset({"models"}),  # settings, errors, logs, progress, reach
    "service.pipeline": frozenset({"service.shared", "models"}),
    "service.worker": frozenset({"service.pipeline", "service.shared", "models"}),
    "service.kafka": frozenset({"service.shared"}),
    # the review app runs the claim clusterer (service/review/claims.py)
    "service.review": frozenset({"service.shared", "models.claims"}),
    "service.cli": frozenset(
        {
            "service.worker",
            "service.review",
            "service.kafka",
            "service.pipeline",
            "service.shared",
            "models",
        }
    ),
    "service": frozenset(),  # service/__init__.py
}
SHARED = frozenset(
    {"service.settings", "service.errors", "service.logs", "service.progress", "service.reach"}
)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in SHARED:
        return "service.shared"
    for layer in sorted(LAYERS, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules that ``path`` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            if name in known:
                found.add(name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = [path for package in PACKAGES for path in (root / package).rglob("*.py")]
    modules = {module_name(path, root): path for path in files}
    known = set(modules)
    return {name: imported_modules(path, known) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def back_arrows(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points against the layers, as "a → b"."""
    wrong = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        allowed = LAYERS[layer] | {layer}
        for target in sorted(targets):
            target_layer = layer_of(target)
            ok = target_layer in allowed or any(
                target_layer.startswith(a + ".") for a in allowed
            )
            if not ok:
                wrong.append(f"{module} → {target} ({layer} may not import {target_layer})")
    return wrong


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_imports_point_one_way() -> None:
    wrong = back_arrows(import_graph())
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_every_module_has_a_layer() -> None:
    for module in import_graph():
        layer_of(module)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "models/__init__.py": "",
            "models/evidence/__init__.py": "",
            "models/evidence/signals.py": "from models.evidence.pairs import find_pairs\n",
            "models/evidence/pairs.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from models.evidence.signals import Cue\n"
            ),
            "service/__init__.py": "",
        },
    )
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle == ["models.evidence.pairs", "models.evidence.signals", "models.evidence.pairs"]


@pytest.mark.parametrize(
    ("importer", "imported", "text"),
    [
        ("models/evidence/signals.py", "service/settings.py", "from service.settings import X\n"),
        ("service/pipeline/decide.py", "service/worker/app.py", "import service.worker.app\n"),
        ("service/worker/web.py", "service/cli/main.py", "def f():\n    import service.cli.main\n"),
    ],
)
def test_a_back_arrow_is_found_and_named(
    tmp_path: Path, importer: str, imported: str, text: str
) -> None:
    files = {importer: text, imported: ""}
    for name in list(files):
        for parent in Path(name).parents:
            if parent != Path("."):
                files.setdefault(str(parent / "__init__.py"), "")
    write(tmp_path, files)
    wrong = back_arrows(import_graph(tmp_path))
    assert len(wrong) == 1
    assert wrong[0].startswith(module_name(tmp_path / importer, tmp_path) + " → ")
