"""No import circles between the project's modules (golden_py, accel_host, accel_tb): the graph of module-level
imports is acyclic, and the packages keep their floors (accel_host imports no accel_tb, golden_py neither)."""
import ast

from accel_tb.runner import ROOT

PACKAGES = ("golden_py", "accel_host", "accel_tb")


def _module(path, root=ROOT):
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root=ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """module -> the project's modules it imports at module level (imports inside functions are deferred on
    purpose, each with its reason, and are not edges here)."""
    files = {p for pkg in packages for p in (root / pkg).rglob("*.py")}
    mods = {_module(p, root): p for p in files}
    graph = {}
    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        edges = set()
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            edges |= {n for n in names if n in mods and n != mod}
        graph[mod] = edges
    return graph


def cycles(graph) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_floors():
    g = import_graph()
    assert not [(m, e) for m, es in g.items() for e in es
                if m.startswith(("golden_py", "accel_host")) and e.startswith("accel_tb")]
    assert not [(m, e) for m, es in g.items() for e in es if m.startswith("golden_py") and e.startswith("accel_host")]


def test_a_circle_is_found(tmp_path):
    """Negative: two modules that import each other are reported."""
    pkg = tmp_path / "accel_tb"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from accel_tb.a import y\n")
    assert cycles(import_graph(tmp_path, ("accel_tb",))) == [["accel_tb.a", "accel_tb.b"]]
