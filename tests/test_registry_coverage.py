"""Every differentiable op in the registry has a gradient-check case somewhere in tests/.

Cases are ``GradCase`` objects in module-level ``GRAD_CASES`` lists; each names the ops it
covers, and ``check_grads`` verifies that the case really runs them.
"""
import importlib
import pathlib

import eagerflow  # noqa: F401  (registers the core ops)
from eagerflow.autograd.registry import registered

ROOT = pathlib.Path(__file__).parent


def _all_cases():
    ops = set()
    for path in sorted(ROOT.rglob("test_*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        mod = importlib.import_module(".".join(rel.parts))
        for case in getattr(mod, "GRAD_CASES", ()):
            ops.update(case.ops)
    return ops


def test_every_differentiable_op_has_a_gradient_check():
    covered = _all_cases()
    differentiable = {name for name, op in registered().items() if op.vjp is not None}
    missing = sorted(differentiable - covered)
    assert not missing, f"ops with a vjp but no GradCase: {missing}"


def test_cases_name_registered_ops():
    names = set(registered())
    unknown = sorted(_all_cases() - names)
    assert not unknown, f"GradCases name ops that are not registered: {unknown}"
