"""The code's rooms: no import circles between the product's modules.

Every import counts, also those inside functions (a circle hidden in a function is still a
circle: the two modules cannot be read, tested or moved apart). `from package import module`
counts as an import of that module, not of the package's own body.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"ads_elt": REPO / "plugins" / "ads_elt", "sandbox": REPO / "sandbox", "adapters": REPO / "adapters", "api": REPO / "api"}


def modules() -> dict[str, Path]:
    out = {}
    for package, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods]
                targets = submodules if len(submodules) == len(node.names) else [node.module, *submodules]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_back_a_module_that_imports_it():
    mods = modules()
    assert "ads_elt.alerts.delivery" in mods and "sandbox.wire" in mods  # the rooms are where this test looks
    assert circles(import_graph(mods)) == []


def test_the_circle_finder_sees_a_circle_hidden_in_a_function(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from pkg import b\n")
    b.write_text("def f():\n    from pkg.a import thing\n    return thing\n")
    assert circles(import_graph({"pkg.a": a, "pkg.b": b})) == [["pkg.a", "pkg.b"]]


def test_nothing_at_run_time_imports_great_expectations():
    """GX is the tests' reference engine (requirements-dev.txt): only ads_elt.ingestion.validation_gx may import it,
    and nothing of the product imports that module."""
    mods = modules()
    importers = set()
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n.split(".")[0] == "great_expectations" or n == "ads_elt.ingestion.validation_gx" for n in names):
                importers.add(name)
    assert importers == {"ads_elt.ingestion.validation_gx"}


def private_imports(mods: dict[str, Path]) -> list[str]:
    """`from <one of our modules> import _name` where the importer is another module: a private name crossing rooms."""
    found = []
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module in mods and node.module != name:
                found += [f"{name} imports {node.module}.{a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def test_no_module_imports_a_private_name_of_another():
    assert private_imports(modules()) == []


def test_the_private_import_finder_sees_one(tmp_path):
    (tmp_path / "a.py").write_text("def _helper():\n    pass\n")
    (tmp_path / "b.py").write_text("def f():\n    from ads_elt.a import _helper\n")
    assert private_imports({"ads_elt.a": tmp_path / "a.py", "ads_elt.b": tmp_path / "b.py"}) == ["ads_elt.b imports ads_elt.a._helper"]
