"""Finite-difference gradient checks (float64) shared by every test module.

``check_grads(fn, *args)`` compares reverse mode with a central difference along random
directions: for a random cotangent ``v`` of the output and a random direction ``d`` of the
inputs, ``<v, J d>`` from ``(f(x + eps d) - f(x - eps d)) / 2 eps`` must equal
``<J^T v, d>`` from the tape. With ``order=2`` the same check runs on the function
``x -> <J^T v, w>`` (the gradient differentiated by an outer tape).

``GradCase`` declares the registered ops a case covers; ``tests/test_registry_coverage.py``
fails when a differentiable op of the registry has no case, and ``check_grads`` fails when a
case does not actually run the ops it declares.
"""
import numpy as np

import eagerflow as ef
from eagerflow import backend
from eagerflow.autograd.state import recorders_state

__all__ = ["GradCase", "check_grads", "tensor", "to_numpy", "run_case"]


def tensor(a, dtype=None):
    """A Tensor on the current backend from a NumPy array (or list)."""
    a = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
    return ef.Tensor(backend.to_device(a))


def to_numpy(t):
    if isinstance(t, ef.IndexedSlices):
        t = t.to_dense()
    return backend.to_numpy(t._data if isinstance(t, ef.Tensor) else t)


class _Spy:
    def __init__(self):
        self.names = set()

    def record(self, op, inputs, result, attrs):
        self.names.add(op.name)


def _flat_outputs(out):
    return [o for o in ef.nest.flatten(out) if isinstance(o, ef.Tensor) and o.dtype.kind == "f"]


def _inner(out, cot):
    total = 0.0
    for o, c in zip(_flat_outputs(out), cot):
        total = total + ef.reduce_sum(o * c)
    return total


def check_grads(fn, *args, order=1, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0, wrt=None,
                expect_ops=()):
    """Checks the gradients of ``fn`` at ``args`` (NumPy float64 arrays) up to ``order``.

    Args:
        fn: a function of Tensors returning a Tensor or a structure of Tensors.
        args: float64 NumPy arrays (or ints/other values passed through unchanged).
        wrt: indices of the args to differentiate (default: every float array).
        expect_ops: registered op names that must run during the check.
    """
    rng = np.random.default_rng(seed)
    if wrt is None:
        wrt = [i for i, a in enumerate(args)
               if isinstance(a, np.ndarray) and a.dtype == np.float64]
    assert wrt, "check_grads needs at least one float64 argument"

    def call(values):
        ts = [tensor(v) if isinstance(v, np.ndarray) else v for v in values]
        return fn(*ts)

    base = call(args)
    outs = _flat_outputs(base)
    assert outs, "fn returned no float output"
    cot = [tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    dirs = {i: rng.standard_normal(np.shape(args[i])) for i in wrt}

    # reverse mode
    spy = _Spy()
    recorders_state.recorders = recorders_state.recorders + [spy]
    try:
        srcs = [tensor(args[i]) for i in wrt]
        with ef.GradientTape() as tape:
            tape.watch(srcs)
            vals = list(args)
            ts = [tensor(v) if isinstance(v, np.ndarray) else v for v in vals]
            for k, i in enumerate(wrt):
                ts[i] = srcs[k]
            out = fn(*ts)
            target = _inner(out, cot)
        grads = tape.gradient(target, srcs)
    finally:
        recorders_state.recorders = [r for r in recorders_state.recorders if r is not spy]
    missing = set(expect_ops) - spy.names
    assert not missing, f"the case did not run the ops it declares: {sorted(missing)}"
    analytic = 0.0
    for k, i in enumerate(wrt):
        g = grads[k]
        if g is not None:
            gn = to_numpy(g)
            assert gn.shape == np.shape(args[i]), f"gradient shape {gn.shape} != {np.shape(args[i])}"
            analytic += float(np.sum(gn * dirs[i]))

    # central difference along the same direction
    def shifted(sign):
        vals = list(args)
        for i in wrt:
            vals[i] = args[i] + sign * eps * dirs[i]
        with ef.no_grad():
            out = call(vals)
        return sum(float(np.sum(to_numpy(o) * to_numpy(c)))
                   for o, c in zip(_flat_outputs(out), cot))

    numeric = (shifted(1) - shifted(-1)) / (2 * eps)
    scale = max(abs(numeric), abs(analytic), 1.0)
    assert abs(analytic - numeric) <= atol + rtol * scale * 10, (
        f"gradient mismatch: reverse mode {analytic!r}, finite difference {numeric!r}")

    if order > 1:
        # differentiate x -> <J^T v, w> with an outer tape
        w = {i: rng.standard_normal(np.shape(args[i])) for i in wrt}

        def grad_dot(*ts):
            srcs2 = [ts[i] for i in wrt]
            with ef.GradientTape() as inner:
                inner.watch(srcs2)
                tgt = _inner(fn(*ts), cot)
            gs = inner.gradient(tgt, srcs2, unconnected_gradients="zero")
            total = 0.0
            for g, i in zip(gs, wrt):
                if isinstance(g, ef.IndexedSlices):
                    g = g.to_dense()
                total = total + ef.reduce_sum(g * tensor(w[i]))
            return total

        check_grads(grad_dot, *args, order=order - 1, eps=eps, rtol=rtol * 10,
                    atol=atol * 10, seed=seed + 1, wrt=wrt)


class GradCase:
    """One gradient-check case: the registered ops it covers, the function and its inputs."""

    def __init__(self, ops, fn, *args, order=1, rtol=1e-5, atol=1e-7, eps=1e-6, id=None):
        self.ops = (ops,) if isinstance(ops, str) else tuple(ops)
        self.fn = fn
        self.args = args
        self.order = order
        self.rtol, self.atol, self.eps = rtol, atol, eps
        self.id = id or "+".join(self.ops)

    def __repr__(self):
        return f"GradCase({self.id})"


def run_case(case):
    check_grads(case.fn, *case.args, order=case.order, rtol=case.rtol, atol=case.atol,
                eps=case.eps, expect_ops=case.ops)
