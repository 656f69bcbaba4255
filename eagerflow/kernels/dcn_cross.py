"""DCN-V2's cross layer, fused: ``x0 * (xw + b) + x`` and its gradient in one pass each.

``cross(x0, xw, b, x)`` for ``x0, xw, x`` of shape ``(batch, d)`` and ``b`` of shape
``(d,)``; ``cross_grad(g, x0, xw, b)`` returns ``(dxw, dx0, db) = (g * x0, g * (xw + b),
sum_rows(g * x0))`` (``x``'s gradient is ``g`` itself). Composed from ops, one layer is
three passes forward (two temporaries) and three backward (two products and the bias
gradient's reduction); at DCN's widths (d = 429 for 26 embeddings of 16 and 13 numbers,
batch 4096: 7 MB per pass) those passes took ~40 ms of a 190 ms CPU step
(``bench/estimator_models.py``).

- CPU twin: numba, row by row (the column loop contiguous, so it vectorises); the bias
  gradient accumulates in float64 in the same pass.
- GPU twin: CuPy ElementwiseKernels (``b`` broadcast along the rows), on the current
  stream, no host synchronisation (graph-capturable); the bias gradient is a column sum of
  ``dxw`` (:mod:`eagerflow.kernels.column_sum`).
Other dtypes (float16, bfloat16 on the CPU, integer) are composed from array expressions.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.dcn_cross import cross, cross_grad
    >>> x0, xw, x = np.full((1, 2), 2.0), np.ones((1, 2)), np.zeros((1, 2))
    >>> cross(x0, xw, np.array([1.0, 0.0]), x).tolist()
    [[4.0, 2.0]]
    >>> [a.tolist() for a in cross_grad(np.ones((1, 2)), x0, xw, np.array([1.0, 0.0]))]
    [[[2.0, 2.0]], [[2.0, 1.0]], [2.0, 2.0]]
"""
import numpy as np
from numba import njit

from eagerflow.backend.dtypes import bfloat16

from . import _cuda
from . import column_sum as _column_sum

__all__ = ["cross", "cross_grad"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_GPU_FAST = _FAST + (bfloat16,)


@njit(cache=True, nogil=True, boundscheck=False)
def _cross_cpu(x0, xw, b, x, out):
    for i in range(x0.shape[0]):
        for j in range(x0.shape[1]):
            out[i, j] = x0[i, j] * (xw[i, j] + b[j]) + x[i, j]


@njit(cache=True, nogil=True, boundscheck=False)
def _cross_grad_cpu(g, x0, xw, b, dxw, dx0, db):
    for j in range(db.shape[0]):
        db[j] = 0.0
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            gv = g[i, j]
            t = gv * x0[i, j]
            dxw[i, j] = t
            dx0[i, j] = gv * (xw[i, j] + b[j])
            db[j] += t


_GPU_SRC = {
    "cross": ("T x0, T xw, T b, T x", "T y", "y = x0 * (xw + b) + x"),
    "cross_grad": ("T g, T x0, T xw, T b", "T dxw, T dx0",
                   "dxw = g * x0; dx0 = g * (xw + b)"),
}


def _gpu_kernel(name):
    return _cuda.elementwise(*_GPU_SRC[name], f"ef_dcn_{name}")


def _check(what, arrays, b):
    shape = arrays[0].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays) or b.shape != (shape[1],):
        raise ValueError(f"{what}: expected arrays of one shape (batch, d) and a bias of "
                         f"shape (d,), got {[tuple(a.shape) for a in arrays]} and "
                         f"{tuple(b.shape)}")


def _fast(arrays, on_cpu):
    dtype = arrays[0].dtype
    return all(a.dtype == dtype for a in arrays) and dtype in (_FAST if on_cpu else _GPU_FAST)


def cross(x0, xw, b, x):
    """``x0 * (xw + b) + x`` in one pass, on the arrays' device and in their dtype."""
    _check("dcn cross", (x0, xw, x), b)
    on_cpu = isinstance(x0, np.ndarray)
    if not _fast((x0, xw, b, x), on_cpu):
        return x0 * (xw + b) + x
    if not on_cpu:
        return _gpu_kernel("cross")(x0, xw, b, x)
    out = np.empty(x0.shape, x0.dtype)
    _cross_cpu(*(np.ascontiguousarray(a) for a in (x0, xw, b, x)), out)
    return out


def _rows_total(a):
    """The column sums of ``a`` in its dtype, accumulated in float32 at least (a float16
    sum over thousands of rows would be mostly rounding)."""
    if _column_sum.fast_path(a):
        return _column_sum.column_sum(a)
    if a.dtype.itemsize < 4:
        return a.astype(np.float32).sum(axis=0).astype(a.dtype)
    return a.sum(axis=0, dtype=a.dtype)


def cross_grad(g, x0, xw, b):
    """``(g * x0, g * (xw + b), sum_rows(g * x0))``: the gradients of :func:`cross` for
    ``xw``, ``x0`` and ``b``, in one pass."""
    _check("dcn cross gradient", (g, x0, xw), b)
    on_cpu = isinstance(g, np.ndarray)
    if not _fast((g, x0, xw, b), on_cpu):
        dxw = g * x0
        return dxw, g * (xw + b), _rows_total(dxw)
    if not on_cpu:
        dxw, dx0 = _gpu_kernel("cross_grad")(g, x0, xw, b)
        return dxw, dx0, _rows_total(dxw)
    dxw, dx0 = np.empty(g.shape, g.dtype), np.empty(g.shape, g.dtype)
    db = np.empty(g.shape[1], np.float64)
    _cross_grad_cpu(*(np.ascontiguousarray(a) for a in (g, x0, xw, b)), dxw, dx0, db)
    return dxw, dx0, db.astype(g.dtype)
