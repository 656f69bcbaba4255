"""Segment reductions (``tf.math.segment_*`` and ``unsorted_segment_*``) over the fused
kernels, with gradients; plus bincount."""
import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module, to_numpy
from ..kernels import segment_reduce as _k_sorted
from ..kernels import unsorted_segment_reduce as _k_unsorted

__all__ = ["segment_sum", "segment_mean", "segment_sqrt_n", "segment_max", "segment_min",
           "unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_sqrt_n",
           "unsorted_segment_max", "unsorted_segment_min", "bincount"]


def _gather_rows(g, ids, drop_negative):
    """``g[ids]``; with ``drop_negative``, ids < 0 give zero rows (TF's _GatherDropNegatives)."""
    from .indexing import gather
    from .math import multiply
    if not drop_negative:
        return gather(g, _wrap(ids))
    xp = array_module(ids)
    keep = ids >= 0
    got = gather(g, _wrap(xp.where(keep, ids, 0)))
    mask = keep.reshape(keep.shape + (1,) * (got.ndim - keep.ndim)).astype(got.dtype)
    return multiply(got, _wrap(mask))


def _counts(ids, num_segments, dtype):
    xp = array_module(ids)
    ones = xp.ones(ids.shape, dtype=dtype)
    return _k_unsorted(ones, ids, num_segments, "sum")


def _expand_counts(c, ndim):
    return c.reshape(c.shape + (1,) * (ndim - 1))


def _vjp_for(reduction, unsorted):
    from .math import cast, divide, equal, maximum, multiply

    def vjp(g, ans, data, ids, num_segments):
        ids_a = ids._data if isinstance(ids, Tensor) else ids
        if reduction == "sum":
            return _gather_rows(g, ids_a, unsorted)
        if reduction in ("mean", "sqrt_n"):
            c = _counts(ids_a, num_segments, g.dtype)
            c = array_module(c).maximum(c, 1)
            if reduction == "sqrt_n":
                c = array_module(c).sqrt(c)
            return _gather_rows(divide(g, _wrap(_expand_counts(c, g.ndim))), ids_a, unsorted)
        # max/min: the gradient goes to the elements equal to the result, split among ties
        picked = _gather_rows(ans, ids_a, unsorted)
        sel = cast(equal(data, picked), data.dtype)
        nsel = _unsorted["sum"](sel, ids, num_segments=num_segments)
        share = divide(g, maximum(nsel, 1.0))
        return multiply(_gather_rows(share, ids_a, unsorted), sel)

    return vjp


def _register(prefix, kernel, reduction):
    def fwd(xp, data, ids, num_segments):
        if getattr(ids, "dtype", np.dtype(np.int64)).kind not in "iu":
            raise TypeError(f"{prefix}{reduction}: segment_ids must be integers, got "
                            f"{ids.dtype}")
        return kernel(data, ids, num_segments, reduction)
    op = register(f"{prefix}{reduction}", fwd)
    defvjp(op, _vjp_for(reduction, prefix.startswith("unsorted")), None)
    return op


_sorted = {r: _register("segment_", _k_sorted, r) for r in ("sum", "mean", "sqrt_n", "max", "min")}
_unsorted = {r: _register("unsorted_segment_", _k_unsorted, r)
             for r in ("sum", "mean", "sqrt_n", "max", "min")}


def _ids_array(segment_ids, data):
    xp = array_module(data._data if isinstance(data, Tensor) else data)
    if isinstance(segment_ids, Tensor):
        return segment_ids._data
    a = _to_array(segment_ids)
    return xp.asarray(a) if array_module(a) is not xp else a


def _make_sorted(reduction):
    def fn(data, segment_ids, name=None):
        ids = _ids_array(segment_ids, data)
        n = int(to_numpy(ids.reshape(-1)[-1:]).max()) + 1 if ids.size else 0
        return _sorted[reduction](data, ids, num_segments=n)
    fn.__name__ = f"segment_{reduction}"
    fn.__doc__ = (f"Segment {reduction} along axis 0 with sorted ``segment_ids`` "
                  f"(``tf.math.segment_{reduction}``); empty segments give 0.")
    return fn


def _make_unsorted(reduction):
    def fn(data, segment_ids, num_segments, name=None):
        # a Tensor of ids stays a Tensor, so export tracing sees it as an op input
        ids = segment_ids if isinstance(segment_ids, Tensor) else _ids_array(segment_ids, data)
        n = int(num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments)
        if n < 0:
            raise ValueError(f"unsorted_segment_{reduction}: num_segments must be >= 0, got {n}")
        return _unsorted[reduction](data, ids, num_segments=n)
    fn.__name__ = f"unsorted_segment_{reduction}"
    fn.__doc__ = (f"Segment {reduction} along axis 0, ids in any order; negative ids are "
                  f"dropped (``tf.math.unsorted_segment_{reduction}``).")
    return fn


segment_sum = _make_sorted("sum")
segment_mean = _make_sorted("mean")
segment_sqrt_n = _make_sorted("sqrt_n")
segment_max = _make_sorted("max")
segment_min = _make_sorted("min")
unsorted_segment_sum = _make_unsorted("sum")
unsorted_segment_mean = _make_unsorted("mean")
unsorted_segment_sqrt_n = _make_unsorted("sqrt_n")
unsorted_segment_max = _make_unsorted("max")
unsorted_segment_min = _make_unsorted("min")

def _bincount_fwd(xp, arr, weights, minlength, maxlength, dtype):
    a = arr.reshape(-1)
    if a.size and int(a.min()) < 0:
        raise ValueError("bincount: values must be non-negative")
    n = int(a.max()) + 1 if a.size else 0
    if minlength is not None:
        n = max(n, minlength)
    if maxlength is not None:
        n = min(n, maxlength)
        keep = a < n
        a = a[keep]
        if weights is not None:
            weights = weights.reshape(-1)[keep]
    w = None if weights is None else weights.reshape(-1)
    out = xp.bincount(a, weights=w, minlength=n)[:n] if n else xp.zeros(0)
    return out.astype(dtype if weights is None else w.dtype)


_bincount = register("bincount", _bincount_fwd)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=np.int32, name=None):
    """Counts occurrences of each non-negative int in ``arr`` (``tf.math.bincount``)."""
    return _bincount(arr, weights, minlength=minlength, maxlength=maxlength,
                     dtype=np.dtype(dtype))
