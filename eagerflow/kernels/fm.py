"""Second-order factorization-machine interaction of field embeddings, fused.

``fm(e)[b] = 0.5 * sum_d((sum_f e[b, f, d])^2 - sum_f e[b, f, d]^2)`` for ``e`` of shape
``(batch, fields, dim)``, and its gradient ``fm_grad(g, e)[b, f, d] = g[b] * (s[b, d] -
e[b, f, d])`` with ``s = sum_f e``: one pass over ``e`` each way, where the composition
(``reduce_sum``, squares, broadcasts, three gradient contributions summed) makes about ten
passes and as many temporaries.

- CPU twin: numba, one row of ``e`` at a time (float64 accumulators).
- GPU twin: the same math as a short chain of CuPy array expressions (no custom kernel yet;
  a RawKernel is the next step once it can be measured on a GPU).
float16 inputs are computed in float32 and the result rounded back.

Example:
    >>> import numpy as np
    >>> from eagerflow.kernels.fm import fm, fm_grad
    >>> e = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    >>> fm(e).tolist()  # 1*3 + 2*4
    [[11.0]]
    >>> fm_grad(np.array([[1.0]]), e).tolist()
    [[[3.0, 4.0], [1.0, 2.0]]]
"""
import numpy as np
from numba import njit

__all__ = ["fm", "fm_grad"]

_FAST = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, nogil=True, boundscheck=False)
def _fm_cpu(e, out):
    nb, nf, nd = e.shape
    for b in range(nb):
        t = 0.0
        q = 0.0
        for d in range(nd):
            s = 0.0
            for f in range(nf):
                v = e[b, f, d]
                s += v
                q += v * v
            t += s * s
        out[b, 0] = 0.5 * (t - q)


@njit(cache=True, nogil=True, boundscheck=False)
def _fm_grad_cpu(g, e, out):
    nb, nf, nd = e.shape
    for b in range(nb):
        gb = g[b]
        for d in range(nd):
            s = 0.0
            for f in range(nf):
                s += e[b, f, d]
            for f in range(nf):
                out[b, f, d] = gb * (s - e[b, f, d])


def _composed(e):
    s = e.sum(axis=1)
    return 0.5 * (s * s - (e * e).sum(axis=1)).sum(axis=1, keepdims=True)


def _check(e):
    if e.ndim != 3:
        raise ValueError(f"fm: embeddings must have shape (batch, fields, dim), got "
                         f"{tuple(e.shape)}")


def _compute_dtype(dtype):
    # float16 (and other narrow floats) accumulate in float32: the FM term is a difference
    # of two sums of squares, so narrow accumulators cancel catastrophically
    return dtype if dtype in _FAST else np.dtype(np.float32)


def fm(e):
    """The FM interaction of ``e`` ``(batch, fields, dim)``: shape ``(batch, 1)``."""
    _check(e)
    cd = _compute_dtype(e.dtype)
    if isinstance(e, np.ndarray):
        out = np.empty((e.shape[0], 1), dtype=cd)
        _fm_cpu(np.ascontiguousarray(e, dtype=cd), out)
        return out.astype(e.dtype, copy=False)
    return _composed(e.astype(cd, copy=False)).astype(e.dtype, copy=False)


def fm_grad(g, e):
    """``g[b] * (sum_f e[b, :, :] - e[b, f, :])``: the gradient of :func:`fm` for an
    output gradient ``g`` of shape ``(batch, 1)`` (or ``(batch,)``)."""
    _check(e)
    nb = e.shape[0]
    cd = _compute_dtype(e.dtype)
    if isinstance(e, np.ndarray):
        out = np.empty(e.shape, dtype=cd)
        _fm_grad_cpu(np.ascontiguousarray(np.asarray(g).reshape(nb), dtype=cd),
                     np.ascontiguousarray(e, dtype=cd), out)
        return out.astype(e.dtype, copy=False)
    ec = e.astype(cd, copy=False)
    g = g.reshape(nb, 1, 1).astype(cd, copy=False)
    return (g * (ec.sum(axis=1, keepdims=True) - ec)).astype(e.dtype, copy=False)
