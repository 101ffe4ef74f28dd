"""No import circles between the project's modules (golden_py, accel_host, accel_tb): the graph of module-level
imports is acyclic, and the packages keep their floors (accel_host imports no accel_tb, golden_py neither)."""
import ast

from accel_tb.design.runner import ROOT

PACKAGES = ("golden_py", "accel_host", "accel_tb")


def _module(path, root=ROOT):
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root=ROOT, packages=PACKAGES, deferred=False) -> dict[str, set[str]]:
    """module -> the project's modules it imports at module level (imports inside functions are deferred on
    purpose, each with its reason, and are not edges here unless `deferred`: the floors count them too)."""
    files = {p for pkg in packages for p in (root / pkg).rglob("*.py")}
    mods = {_module(p, root): p for p in files}
    graph = {}
    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        edges = set()
        tree = ast.parse(path.read_text())
        for node in (ast.walk(tree) if deferred else tree.body):
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


# accel_tb's parts, lowest first: a module imports only from its own part or the ones before it (deferred imports
# inside functions included), so that each part can be read knowing only the parts below it. Not seen here: what
# a module runs by name (test_module="accel_tb.cocotb_tests.layer_tests" in quality/ and network/, `-m
# accel_tb.cli.network` in network/scaling.py): those are run-time uses of a part above, not imports
ACCEL_TB_FLOORS = ("design", "vip", "adapter", "helpers", "env", "quality", "network", "cocotb_tests", "cli")


def accel_tb_part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "accel_tb" and len(parts) > 1 else None


def floor_breaches(graph) -> list[str]:
    rank = {p: i for i, p in enumerate(ACCEL_TB_FLOORS)}
    out = []
    for m, es in graph.items():
        for e in es:
            a, b = accel_tb_part(m), accel_tb_part(e)
            if a in rank and b in rank and rank[b] > rank[a]:
                out.append(f"{m} imports {e}")
    return sorted(out)


def test_accel_tb_parts_keep_their_floors():
    assert floor_breaches(import_graph(deferred=True)) == []


def test_every_accel_tb_part_is_listed_and_says_its_job():
    """Every subpackage is in ACCEL_TB_FLOORS and in the package map (accel_tb/__init__.py), and its own
    docstring's first line says what it is for."""
    root = ROOT / "accel_tb"
    subpackages = sorted(p.parent.name for p in root.glob("*/__init__.py"))
    modules = sorted(p.stem for p in root.glob("*.py") if p.stem != "__init__")
    assert sorted(ACCEL_TB_FLOORS) == sorted(subpackages + modules)
    top = ast.get_docstring(ast.parse((root / "__init__.py").read_text()))
    for name in subpackages:
        assert f"{name}/" in top, f"accel_tb/__init__.py does not map {name}/"
        doc = ast.get_docstring(ast.parse((root / name / "__init__.py").read_text()))
        assert doc and len(doc.splitlines()[0]) > 20, f"accel_tb/{name} has no first line saying its job"
    listed = [name.strip("/") for line in top.splitlines() if line.startswith("    ")
              for name in line.strip().split("  ")[0].split(", ")]
    assert listed == list(ACCEL_TB_FLOORS), "accel_tb/__init__.py maps other parts, or in another order"


def test_an_upward_import_is_found(tmp_path):
    """Negative: a vip module importing from env (a floor above it), even inside a function, is a breach."""
    pkg = tmp_path / "accel_tb"
    for sub in ("vip", "env"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "env" / "checker.py").write_text("X = 1\n")
    (pkg / "vip" / "ports.py").write_text("def f():\n    from accel_tb.env.checker import X\n    return X\n")
    graph = import_graph(tmp_path, ("accel_tb",), deferred=True)
    assert floor_breaches(graph) == ["accel_tb.vip.ports imports accel_tb.env.checker"]
    assert floor_breaches(import_graph(tmp_path, ("accel_tb",))) == []     # module level alone misses it


def test_a_circle_is_found(tmp_path):
    """Negative: two modules that import each other are reported."""
    pkg = tmp_path / "accel_tb"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from accel_tb.a import y\n")
    assert cycles(import_graph(tmp_path, ("accel_tb",))) == [["accel_tb.a", "accel_tb.b"]]
