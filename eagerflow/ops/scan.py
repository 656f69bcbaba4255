"""Scans and orderings: cumsum, cumprod, cumulative_logsumexp, sort, argsort, unique."""
import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module
from .reduce import normalize_axis

__all__ = ["cumsum", "cumprod", "cumulative_logsumexp", "sort", "argsort", "unique",
           "unique_with_counts"]


def _scan_fwd(kind):
    def fwd(xp, a, axis, exclusive, reverse):
        if reverse:
            a = xp.flip(a, axis=axis)
        out = (xp.cumsum if kind == "sum" else xp.cumprod)(a, axis=axis, dtype=a.dtype)
        if exclusive:
            ident = 0 if kind == "sum" else 1
            pad = [(0, 0)] * a.ndim
            pad[axis] = (1, 0)
            out = xp.pad(out, pad, constant_values=ident)
            out = xp.take(out, xp.arange(a.shape[axis]), axis=axis)
        if reverse:
            out = xp.flip(out, axis=axis)
        return out
    return fwd


_cumsum = register("cumsum", _scan_fwd("sum"))
defvjp(_cumsum, lambda g, ans, x, axis, exclusive, reverse:
       _cumsum(g, axis=axis, exclusive=exclusive, reverse=not reverse))


def _cumprod_vjp(g, ans, x, axis, exclusive, reverse):
    # TF's formula (exact for non-zero x)
    from .math import divide, multiply
    out = _cumsum(multiply(ans, g), axis=axis, exclusive=exclusive, reverse=not reverse)
    return divide(out, x)


_cumprod = register("cumprod", _scan_fwd("prod"))
defvjp(_cumprod, _cumprod_vjp)


def _scan_public(op, name):
    def fn(x, axis=0, exclusive=False, reverse=False, name=None):
        nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
        if nd == 0:
            raise ValueError(f"{name_}: needs a tensor of rank >= 1")
        ax = normalize_axis(axis, nd, name_)[0]
        return op(x, axis=ax, exclusive=bool(exclusive), reverse=bool(reverse))
    name_ = name
    fn.__name__ = name
    fn.__doc__ = (f"Cumulative {name[3:]} along ``axis`` (``tf.math.{name}``), optionally "
                  "exclusive and/or reversed.")
    return fn


cumsum = _scan_public(_cumsum, "cumsum")
cumprod = _scan_public(_cumprod, "cumprod")


def _logsumexp_scan_fwd(xp, a, axis, exclusive, reverse):
    if a.dtype.kind != "f":
        raise TypeError(f"cumulative_logsumexp: x must be a floating tensor, got {a.dtype}")
    y = xp.moveaxis(a, axis, -1)
    n = y.shape[-1]
    if n == 0:
        return a.copy()
    if reverse:
        y = xp.flip(y, axis=-1)
    if exclusive:
        # shift by one: the first output is the empty sum, log(0) = -inf (TF's start value)
        start = xp.full(y.shape[:-1] + (1,), -np.inf, dtype=y.dtype)
        y = xp.concatenate([start, y[..., :-1]], axis=-1)
    # log-depth (Hillis-Steele) scan with logaddexp, stable for any spread of values
    k = 1
    while k < n:
        nxt = y.copy()
        nxt[..., k:] = xp.logaddexp(y[..., k:], y[..., :-k])
        y = nxt
        k *= 2
    if reverse:
        y = xp.flip(y, axis=-1)
    return xp.ascontiguousarray(xp.moveaxis(y, -1, axis))


def _logsumexp_scan_vjp(g, ans, x, axis, exclusive, reverse):
    # TF's _CumulativeLogsumexpGrad: the cotangent is split by sign so that it can be
    # carried in log space by the reversed scan
    from .math import add, exp, greater, less, log, negative, ones_like, subtract, where
    # TF fills log(0) with dtype.min; half of it gives the same exp(...) == 0 while
    # a second derivative, which adds two such fills, stays finite
    lowest = float(np.finfo(g.dtype).min) / 2
    one = ones_like(g)
    outs = []
    for mask, v in ((greater(g, 0), g), (less(g, 0), negative(g))):
        log_g = where(mask, log(where(mask, v, one)), lowest)
        scan = _cumulative_logsumexp(subtract(log_g, ans), axis=axis, exclusive=exclusive,
                                     reverse=not reverse)
        outs.append(exp(add(scan, x)))
    return subtract(outs[0], outs[1])


_cumulative_logsumexp = register("cumulative_logsumexp", _logsumexp_scan_fwd)
defvjp(_cumulative_logsumexp, _logsumexp_scan_vjp)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """``log(cumsum(exp(x)))`` along ``axis``, computed stably
    (``tf.math.cumulative_logsumexp``).

    Args:
        x: floating tensor of rank >= 1.
        axis: the scanned axis, in ``[-rank, rank)``.
        exclusive: when True, element ``i`` leaves out ``x[i]`` (the first is ``-inf``).
        reverse: scan from the end.

    Returns:
        Tensor of the shape and dtype of ``x``.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.constant([0.0, 0.0], dtype=ef.float64)
        >>> ef.math.cumulative_logsumexp(x).numpy().round(4).tolist()
        [0.0, 0.6931]
    """
    return _cumulative_logsumexp_public(x, axis, exclusive, reverse)


_cumulative_logsumexp_public = _scan_public(_cumulative_logsumexp, "cumulative_logsumexp")


def _check_direction(direction):
    d = str(direction).upper()
    if d not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return d


def _argsort_fwd(xp, a, axis, descending, stable):
    if descending:
        # stable descending order: sort the negated keys (works for ints and floats)
        if a.dtype.kind in "iuf":
            return xp.argsort(-a if a.dtype.kind != "u" else a.max() - a,
                              axis=axis, kind="stable").astype(np.int32)
        idx = xp.flip(xp.argsort(xp.flip(a, axis=axis), axis=axis, kind="stable"), axis=axis)
        return (a.shape[axis] - 1 - idx).astype(np.int32)
    return xp.argsort(a, axis=axis, kind="stable").astype(np.int32)


_argsort = register("argsort", _argsort_fwd)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices that sort ``values`` along ``axis`` (``tf.argsort``; int32 like TF)."""
    v = values if isinstance(values, Tensor) else _wrap(_to_array(values))
    d = _check_direction(direction)
    ax = normalize_axis(axis, v.ndim, "argsort")[0]
    return _argsort(v, axis=ax, descending=d == "DESCENDING", stable=bool(stable))


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorts ``values`` along ``axis`` (``tf.sort``); differentiable w.r.t. values."""
    from .indexing import take_along_axis
    v = values if isinstance(values, Tensor) else _wrap(_to_array(values))
    idx = argsort(v, axis=axis, direction=direction)
    return take_along_axis(v, idx, axis=axis)


def _unique_fwd(xp, a, out_idx, counts):
    if a.ndim != 1:
        raise ValueError(f"unique: x must be 1-D, got shape {tuple(a.shape)}")
    # TF keeps the order of first occurrence, numpy sorts: reorder by first index
    vals, first, inv, cnt = xp.unique(a, return_index=True, return_inverse=True,
                                      return_counts=True)
    order = xp.argsort(first, kind="stable")
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size)
    y = vals[order]
    idx = rank[inv.reshape(-1)].astype(out_idx)
    if counts:
        return y, idx, cnt[order].astype(out_idx)
    return y, idx


_unique = register("unique", _unique_fwd, multi=True)


def unique(x, out_idx=np.int32, name=None):
    """Unique elements of 1-D ``x`` in order of first occurrence, and each element's index
    into them (``tf.unique``): returns ``(y, idx)`` with ``x == y[idx]``."""
    return _unique(x, out_idx=np.dtype(out_idx), counts=False)


def unique_with_counts(x, out_idx=np.int32, name=None):
    """``(y, idx, count)``: :func:`unique` plus how often each unique value occurs."""
    return _unique(x, out_idx=np.dtype(out_idx), counts=True)


del array_module
