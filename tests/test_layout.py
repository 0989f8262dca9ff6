"""The house plan holds: small modules, no import cycles, arrows that point down.

Every `import` and `from ... import` under src/ counts, including those inside
functions (lazy imports are still dependencies), except those under
`if TYPE_CHECKING:`, which never run: a builder in src/models may name the run
spec's type (src/config/spec.py) that asks the registry for the model's family
(import-linter's `exclude_type_checking_imports` draws the same line).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400

# Layer -> the project packages it must never import.
FORBIDDEN = {
    "src.data": ("src.models", "src.tracking", "src.job", "src.reports", "src.bench"),
    "src.models": ("src.tracking", "src.job", "src.reports", "src.bench"),
    "src.tracking": ("src.reports", "src.job", "src.models", "src.bench"),
    "src.job": ("src.reports", "src.bench"),
    "src.reports": ("src.bench",),
    # Searches drive jobs through Hydra's launcher; the models import only src.search.pruning.
    "src.search": ("src.job", "src.reports", "src.bench"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules `path` imports, resolved to the most specific known module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def test_no_module_under_src_is_over_400_lines():
    long = {name: n for name, p in _modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_two_modules_import_each_other_in_a_circle():
    graph = _graph()
    # A package's __init__ that only re-exports its own submodules is not a cycle
    # with them: importing a submodule runs its package __init__ by Python's rules.
    edges = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_arrows_point_down(layer):
    wrong = []
    for module, targets in _graph().items():
        if module == layer or module.startswith(layer + "."):
            for target in targets:
                if any(target == f or target.startswith(f + ".") for f in FORBIDDEN[layer]):
                    wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_benchmark():
    wrong = [
        f"{m} imports {t}"
        for m, targets in _graph().items()
        if not (m == "src.bench" or m.startswith("src.bench."))
        for t in targets
        if t == "src.bench" or t.startswith("src.bench.")
    ]
    assert not wrong, "\n".join(wrong)


# Where Hydra's DictConfig may still be seen: the entry points, the config package that turns
# it into a RunSpec (src/config/spec.py), and the modules Hydra itself calls with its config.
SEES_DICTCONFIG = ("src.train", "src.report", "src.bench", "src.config", "src.search.sweeper", "src.tracking.sweep")


def test_below_the_entry_points_nothing_imports_omegaconf():
    """Everything below `python -m src.train` reads the typed run spec (src/config/spec.py),
    never a DictConfig: no module outside SEES_DICTCONFIG imports omegaconf (lazily or not)."""
    wrong = []
    for name, path in _modules().items():
        if any(name == allowed or name.startswith(allowed + ".") for allowed in SEES_DICTCONFIG):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            wrong += [f"{name} imports {m}" for m in modules if m == "omegaconf" or m.startswith("omegaconf.")]
    assert not wrong, "\n".join(wrong)
