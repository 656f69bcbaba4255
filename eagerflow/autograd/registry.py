"""The op registry: each op's forward and vjp side by side, and the one place ops execute.

An op is registered once with a forward that works on raw backend arrays and a vjp written
with eagerflow ops (so a gradient can itself be differentiated by an outer tape). Every
execution goes through :func:`execute`, which unwraps tensors, runs the forward on the
inputs' array module, wraps the outputs, and hands the record (op, inputs, outputs, attrs) to
whatever recorders are active: gradient tapes and the export tracer.

Example:
    >>> import numpy as np
    >>> from eagerflow.autograd import registry
    >>> square = registry.register("my_square", lambda xp, x: x * x)
    >>> _ = registry.defvjp(square, lambda g, ans, x: g * 2.0 * x)
"""
import numpy as np

from .. import backend
from ..backend import _cupy
from .state import recorders_state
from .tensor import Tensor, _wrap

__all__ = ["Op", "register", "defvjp", "defvjp_all", "get", "registered", "execute",
           "DeviceMismatchError"]


class DeviceMismatchError(ValueError):
    """Raised when one op gets arrays from two devices (NumPy and CuPy)."""


class Op:
    """A registered op: name, forward ``fwd(xp, *arrays, **attrs)`` and vjp.

    ``vjp(g, ans, inputs, attrs, needs)`` returns one gradient (Tensor, IndexedSlices or
    None) per input; ``needs[i]`` says whether input ``i`` wants one. ``g`` and ``ans`` are
    tuples when ``multi`` (the forward returns a tuple of arrays).
    """

    __slots__ = ("name", "forward", "vjp", "multi")

    def __init__(self, name, forward, vjp=None, multi=False):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.multi = multi

    def __call__(self, *inputs, **attrs):
        return execute(self, inputs, attrs)

    def __repr__(self):
        return f"<Op {self.name}>"


_REGISTRY = {}


def register(name, forward, vjp=None, multi=False):
    """Registers an op; a name may be registered only once."""
    if name in _REGISTRY:
        raise ValueError(f"op {name!r} is already registered")
    op = Op(name, forward, vjp, multi)
    _REGISTRY[name] = op
    return op


def defvjp(op, *fns):
    """Sets one vjp maker per input: ``fn(g, ans, *inputs, **attrs) -> grad``.

    Pass None for an input that has no gradient (indices, integer arguments).
    """
    fns = tuple(fns)

    def vjp(g, ans, inputs, attrs, needs):
        out = []
        for i, need in enumerate(needs):
            fn = fns[i] if i < len(fns) else None
            out.append(fn(g, ans, *inputs, **attrs) if (need and fn is not None) else None)
        return out

    op.vjp = vjp
    return op


def defvjp_all(op, fn):
    """Sets a vjp that computes all input gradients together: ``fn(g, ans, inputs, attrs,
    needs) -> list``. For ops whose input gradients share work."""
    op.vjp = fn
    return op


def get(name):
    """The registered op called ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} is registered") from None


def registered():
    """A copy of the registry: name -> Op."""
    return dict(_REGISTRY)


def _module(a):
    t = type(a)
    if t is np.ndarray:
        return np
    if isinstance(a, np.generic):
        return np
    cp = _cupy.loaded()
    if cp is not None and t is cp.ndarray:
        return cp
    return None


def _shared_module(arrays, opname):
    """The array module of the arrays among ``arrays``, or None when there is none."""
    xp = None
    for a in arrays:
        m = _module(a)
        if m is None:
            continue
        if xp is None:
            xp = m
        elif m is not xp:
            raise DeviceMismatchError(
                f"{opname}: inputs live on different devices (a NumPy array and a CuPy "
                "array); move one first with x.cpu() or x.gpu()")
    return xp


def array_module_of(arrays, opname):
    """The array module shared by ``arrays`` (non-arrays ignored), or the current backend's.

    Raises:
        DeviceMismatchError: when NumPy and CuPy arrays are mixed.
    """
    xp = _shared_module(arrays, opname)
    return xp if xp is not None else backend.state.xp


_PY_VALUES = (bool, int, float, complex, list, tuple)


def execute(op, inputs, attrs):
    """Runs ``op`` on ``inputs`` (Tensors or raw values) and records it where asked."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    xp = _shared_module(arrays, op.name)  # one pass over the inputs: this runs every op
    if xp is None:
        # only Python values (ef.reduce_sum([1, 2]), ef.maximum(1, 2)): converted as
        # tf.convert_to_tensor does (int32 / float32), not by NumPy's int64 / float64 rules
        xp = backend.state.xp
        arrays = [backend.asarray(a) if isinstance(a, _PY_VALUES) else a for a in arrays]
    out = op.forward(xp, *arrays, **attrs)
    if op.multi:
        result = tuple(_wrap(o) for o in out)
    else:
        result = _wrap(out)
    recs = recorders_state.recorders
    if recs:
        for r in recs:
            r.record(op, inputs, result, attrs)
    return result
