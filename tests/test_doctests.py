"""Every docstring example of the package runs and prints what it shows (module by module,
on the backend under test), so the examples stay true as the code changes."""
import doctest
import importlib
import pkgutil

import pytest

import eagerflow
from eagerflow.autograd import registry

MODULES = sorted(m.name for m in pkgutil.walk_packages(eagerflow.__path__, "eagerflow."))


@pytest.mark.parametrize("name", ["eagerflow"] + MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    ops = registry.registered()  # an example may register an op (registry's does): undone
    try:
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS, verbose=False, report=True)
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(ops)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
