"""The docstring examples of the data/io/datasets modules run, and the modules import
only what DESIGN.md allows them to."""
import ast
import doctest
import importlib
import pathlib

import pytest

import eagerflow

ROOT = pathlib.Path(eagerflow.__file__).parent
PACKAGES = ["data", "io", "datasets"]
MODULES = sorted(
    f"eagerflow.{pkg}.{p.stem}" if p.stem != "__init__" else f"eagerflow.{pkg}"
    for pkg in PACKAGES for p in (ROOT / pkg).glob("*.py") if not p.stem.endswith("_pb2"))
ALLOWED = ("eagerflow.backend", "eagerflow.autograd.sparse_tensor", "eagerflow.io",
           "eagerflow.data", "eagerflow.datasets")


@pytest.mark.parametrize("name", MODULES + ["eagerflow.backend.transfer"])
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("pkg", PACKAGES)
def test_imports_follow_the_module_map(pkg):
    for path in (ROOT / pkg).glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for n in names:
                assert not n.startswith("cupy"), f"{path.name} imports cupy"
                if n.startswith("eagerflow"):
                    assert n.startswith(ALLOWED), f"{path.name} imports {n}"
    if pkg == "io":  # io sits below data
        for path in (ROOT / "io").glob("*.py"):
            assert "eagerflow.data" not in path.read_text(), path.name
