"""Tensor creation: zeros, ones, fill, range, linspace, eye."""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap
from ..backend.dtypes import FLOATX, as_dtype, default_dtype_for

__all__ = ["zeros", "ones", "fill", "range", "linspace", "eye"]

_range = range


def _shape_arg(shape, what):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"{what}: shape dimensions must be >= 0, got {list(shape)}")
    return shape


def zeros(shape, dtype=FLOATX, name=None):
    """A tensor of zeros (``tf.zeros``) on the current backend."""
    return _wrap(backend.state.xp.zeros(_shape_arg(shape, "zeros"), dtype=as_dtype(dtype)))


def ones(shape, dtype=FLOATX, name=None):
    """A tensor of ones (``tf.ones``) on the current backend."""
    return _wrap(backend.state.xp.ones(_shape_arg(shape, "ones"), dtype=as_dtype(dtype)))


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (``tf.fill``)."""
    if isinstance(value, Tensor):
        dtype, value = value.dtype, value.item()
    else:
        dtype = default_dtype_for(value) or np.asarray(value).dtype
    return _wrap(backend.state.xp.full(_shape_arg(dims, "fill"), value, dtype=dtype))


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """A 1-D tensor ``[start, start + delta, ...)`` before ``limit`` (``tf.range``).

    Without ``dtype``, TF's inference: the widest of the arguments' types in the order
    int32 < int64 < float32 < float64, Python ints counting as int32 (int64 when too large)
    and Python floats as float32, so ``range(5)`` is int32.
    """
    if limit is None:
        start, limit = 0, start
    args = (start, limit, delta)
    vals = [v.item() if isinstance(v, Tensor) else v for v in args]
    if vals[2] == 0:
        raise ValueError("range: delta must not be 0")
    if dtype is None:
        kinds = [v.dtype if isinstance(v, (Tensor, np.generic, np.ndarray)) else
                 default_dtype_for(v) for v in args]
        dtype = max((np.dtype(k) for k in kinds), key=_RANGE_ORDER.index)
    return _wrap(backend.state.xp.arange(*vals, dtype=as_dtype(dtype)))


_RANGE_ORDER = [np.dtype(d) for d in (np.int32, np.int64, np.float32, np.float64)]


def linspace(start, stop, num, axis=0, name=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (``tf.linspace``)."""
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be >= 0, got {num}")
    return _wrap(backend.state.xp.linspace(start, stop, num, dtype=FLOATX, axis=axis))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=FLOATX, name=None):
    """Identity matrices, optionally batched (``tf.eye``)."""
    xp = backend.state.xp
    m = xp.eye(int(num_rows), None if num_columns is None else int(num_columns),
               dtype=as_dtype(dtype))
    if batch_shape:
        m = xp.broadcast_to(m, tuple(int(b) for b in batch_shape) + m.shape).copy()
    return _wrap(m)


del _range
