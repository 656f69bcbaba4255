"""Architecture rules from DESIGN.md, checked on the source: imports point one way, cupy is
imported only in backend/ and kernels/, and nothing loads pickles."""
import ast
import pathlib

PKG = pathlib.Path(__file__).resolve().parents[1] / "eagerflow"

# a package may import only from packages before it in this list (DESIGN.md's module map)
ORDER = ["errors", "backend", "kernels", "autograd", "ops", "debugging", "dtypes", "io", "lookup", "nn", "linalg",
         "variables", "losses", "layers", "train", "mixed_precision", "metrics", "data", "datasets", "summary",
         "saved_model", "feature_column", "estimator", "serving", "distribute", "ctr_models",
         "quickstart", "job_config", "job", "cli", "compat"]


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        top = rel.parts[0].removesuffix(".py")
        yield path, rel, top


def _imported_packages(path, rel):
    tree = ast.parse(path.read_text())
    pkg_parts = ["eagerflow", *rel.parts[:-1]]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[:len(pkg_parts) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            elif node.module:
                names = [node.module]
        for n in names:
            parts = n.split(".")
            if parts[0] == "eagerflow" and len(parts) > 1:
                yield parts[1], node.lineno
            elif parts[0] in ("cupy", "cupyx"):
                yield "<cupy>", node.lineno


def test_imports_point_one_way():
    bad = []
    for path, rel, top in _modules():
        if top not in ORDER:
            continue  # __init__.py of the package itself re-exports everything
        for dep, line in _imported_packages(path, rel):
            if dep in ORDER and ORDER.index(dep) > ORDER.index(top):
                bad.append(f"{rel}:{line} imports eagerflow.{dep}")
    assert not bad, "imports against the layering of DESIGN.md:\n" + "\n".join(bad)


def test_cupy_only_in_backend_and_kernels():
    bad = [f"{rel}:{line}" for path, rel, top in _modules()
           for dep, line in _imported_packages(path, rel)
           if dep == "<cupy>" and top not in ("backend", "kernels")]
    assert not bad, f"cupy imported outside backend/ and kernels/: {bad}"


def test_nothing_loads_pickles():
    bad = []
    for path, rel, _ in _modules():
        text = path.read_text()
        for needle in ("import pickle", "cPickle", "allow_pickle=True", "cloudpickle", "dill"):
            if needle in text:
                bad.append(f"{rel}: {needle}")
    assert not bad, f"pickle use found: {bad}"


def test_every_subpackage_defines_all():
    missing = [str(p.relative_to(PKG)) for p in PKG.rglob("__init__.py")
               if "__all__" not in p.read_text()]
    assert not missing, f"__init__.py without __all__: {missing}"
