"""Segment reductions (``tf.math.segment_*``, ``unsorted_segment_*`` and
``tf.sparse.segment_*``) with gradients; plus bincount.

Sum, mean, sqrt_n, max and min run on the fused segment kernels; products run as a
log-depth segmented scan of whole-array ops (:func:`_segmented_prod`).
"""
import numpy as np

from ..autograd.indexed_slices import IndexedSlices
from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module, to_numpy
from ..errors import InvalidArgumentError, InvalidArgumentIndexError
from ..kernels import segment_reduce as _k_sorted
from ..kernels import unsorted_segment_reduce as _k_unsorted
from ..kernels.range_check import check_in_range

__all__ = ["segment_sum", "segment_mean", "segment_sqrt_n", "segment_max", "segment_min",
           "segment_prod", "unsorted_segment_sum", "unsorted_segment_mean",
           "unsorted_segment_sqrt_n", "unsorted_segment_max", "unsorted_segment_min",
           "unsorted_segment_prod", "sparse_segment_sum", "sparse_segment_mean",
           "sparse_segment_sqrt_n", "sparse_segment_sum_v1", "sparse_segment_mean_v1",
           "sparse_segment_sqrt_n_v1", "bincount"]


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
            raise InvalidArgumentError(f"unsorted_segment_{reduction}: num_segments must be "
                                       f">= 0, got {n}")
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
        raise InvalidArgumentError("bincount: values must be non-negative")
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


# --- products -------------------------------------------------------------------------------
# Bounds for the id checks that have no natural limit (check_in_range takes both).
_BIG = 2 ** 62


def _segmented_prod(xp, flat, seg, nseg, presorted):
    """Products of the rows of ``flat`` ``(n, d)`` grouped by ``seg`` ``(n,)``.

    Ids equal to ``nseg`` (the spill row: dropped or bad ids) are left out; empty segments
    give 1. Rows are sorted by id, then a log-depth (Hillis-Steele) segmented scan runs
    as whole-array ops, so one code path serves NumPy and CuPy alike; the last row of each
    run holds its segment's product and is scattered to the output.
    """
    n, d = flat.shape
    out = xp.ones((nseg + 1, d), dtype=flat.dtype)
    if n == 0:
        return out[:nseg]
    if not presorted:
        order = xp.argsort(seg, kind="stable")
        seg, flat = seg[order], flat[order]
    acc = flat
    k = 1
    while k < n:
        same = (seg[k:] == seg[:-k])[:, None]
        nxt = acc.copy()
        nxt[k:] = xp.where(same, acc[k:] * acc[:-k], acc[k:])
        acc = nxt
        k *= 2
    last = xp.ones(n, dtype=bool)
    last[:-1] = seg[:-1] != seg[1:]
    # non-last rows all land on the spill row, so every real segment is written once
    out[xp.where(last, seg, nseg)] = acc
    return out[:nseg]


def _check_ids_dtype(name, ids, what="segment_ids"):
    if getattr(ids, "dtype", np.dtype(np.int64)).kind not in "iu":
        raise TypeError(f"{name}: {what} must be integers, got {ids.dtype}")


def _check_sorted(name, seg):
    """TF's sorted-id checks (raised at once on the CPU, flagged on the GPU)."""
    check_in_range(seg, 0, _BIG, f"{name}: segment ids must be >= 0 (segment_ids holds "
                                 "{lo})")
    if seg.shape[0] > 1:
        check_in_range(seg[1:] - seg[:-1], 0, _BIG,
                       f"{name}: segment ids are not increasing (segment_ids must be sorted)")


def _prod_fwd(unsorted):
    name = "unsorted_segment_prod" if unsorted else "segment_prod"

    def fwd(xp, data, ids, num_segments):
        _check_ids_dtype(name, ids)
        if data.dtype.kind not in "iufc":
            raise TypeError(f"{name}: data must be numeric, got {data.dtype}")
        if unsorted:
            if ids.ndim < 1 or tuple(data.shape[:ids.ndim]) != tuple(ids.shape):
                raise InvalidArgumentError(f"{name}: segment_ids shape {tuple(ids.shape)} must be a "
                                 f"prefix of data shape {tuple(data.shape)}")
        elif ids.ndim != 1 or data.ndim < 1 or ids.shape[0] != data.shape[0]:
            raise InvalidArgumentError(f"{name}: segment_ids should be a vector the size of dimension 0 "
                             f"of data, got shapes {tuple(ids.shape)} and {tuple(data.shape)}")
        seg = ids.reshape(-1).astype(np.int64, copy=False)
        trailing = tuple(data.shape[ids.ndim:])
        flat = data.reshape((seg.shape[0], int(np.prod(trailing, dtype=np.int64))))
        if unsorted:
            check_in_range(seg, -_BIG, num_segments - 1,
                           f"{name}: segment_ids must be < num_segments (largest id: {{hi}})")
        else:
            _check_sorted(name, seg)
        seg = xp.where((seg >= 0) & (seg < num_segments), seg, num_segments)
        out = _segmented_prod(xp, flat, seg, num_segments, presorted=not unsorted)
        return out.reshape((num_segments,) + trailing)
    return fwd


def _prod_vjp(unsorted):
    """TF's _SegmentProdGrad / _UnsortedSegmentProdGrad: counts the zeros of each segment.

    No zero: ``prod / x``. One zero: the zero's gradient is the product of the others and
    the rest get 0. Two or more: all 0. (Divides by the zero-free data, so no NaN appears
    even in the branch ``where`` drops, which keeps second derivatives finite.)
    """
    from .math import divide, multiply, ones_like, where, zeros_like

    def vjp(g, ans, data, ids, num_segments):
        ids_a = ids._data if isinstance(ids, Tensor) else ids
        d = data._data
        xp = array_module(d)
        is_zero = d == 0
        # counted in int32, which the GPU segment kernel has for every data dtype (it has
        # no complex or bfloat16 sums)
        nzeros = _k_unsorted(is_zero.astype(np.int32), ids_a, num_segments, "sum")
        g = where(_wrap(xp.broadcast_to(nzeros > 1, tuple(g.shape))), zeros_like(g), g)
        zero_t = _wrap(is_zero)
        nonzero = where(zero_t, ones_like(data), data)
        nonzero_prod = _prod[unsorted](nonzero, ids, num_segments=num_segments)
        partial = where(zero_t, _gather_rows(nonzero_prod, ids_a, unsorted),
                        divide(_gather_rows(ans, ids_a, unsorted), nonzero))
        return multiply(_gather_rows(g, ids_a, unsorted), partial)
    return vjp


_prod = {}
for _u in (False, True):
    _prod[_u] = register("unsorted_segment_prod" if _u else "segment_prod", _prod_fwd(_u))
    defvjp(_prod[_u], _prod_vjp(_u), None)


def segment_prod(data, segment_ids, name=None):
    """Product along axis 0 over sorted ``segment_ids`` (``tf.math.segment_prod``).

    Args:
        data: tensor of shape ``(n, ...)``, any numeric dtype.
        segment_ids: int vector of length ``n``, sorted, values >= 0.

    Returns:
        Tensor of shape ``(segment_ids[-1] + 1, ...)``; an empty segment gives 1.

    Raises:
        InvalidArgumentError: for negative or unsorted ids (on the GPU, at the next
            ``kernels.check_errors``).

    Example:
        >>> import eagerflow as ef
        >>> ef.math.segment_prod(ef.constant([2.0, 3.0, 4.0]), [0, 0, 2]).numpy().tolist()
        [6.0, 1.0, 4.0]
    """
    ids = _ids_array(segment_ids, data)
    _check_ids_dtype("segment_prod", ids)
    n = int(to_numpy(ids.reshape(-1)[-1:]).max()) + 1 if ids.size else 0
    if ids.size and n <= 0:
        raise InvalidArgumentError(f"segment_prod: segment ids must be >= 0, got a last id of {n - 1}")
    return _prod[False](data, ids, num_segments=n)


def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    """Product along axis 0, ids in any order (``tf.math.unsorted_segment_prod``).

    ``segment_ids`` may have any shape that is a prefix of ``data.shape``. Negative ids are
    dropped; an empty segment gives 1; ids >= ``num_segments`` are an error.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.unsorted_segment_prod(ef.constant([2.0, 3.0, 4.0]), [1, -1, 1],
        ...                               3).numpy().tolist()
        [1.0, 8.0, 1.0]
    """
    ids = segment_ids if isinstance(segment_ids, Tensor) else _ids_array(segment_ids, data)
    n = int(num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments)
    if n < 0:
        raise InvalidArgumentError(f"unsorted_segment_prod: num_segments must be >= 0, got {n}")
    return _prod[True](data, ids, num_segments=n)


# --- sparse segment reductions ----------------------------------------------------------------
def _sparse_fwd(reduction):
    name = f"sparse_segment_{reduction}"

    def fwd(xp, data, indices, ids, num_segments, sparse_gradient):
        _check_ids_dtype(name, indices, "indices")
        _check_ids_dtype(name, ids)
        if data.ndim < 1:
            raise ValueError(f"{name}: data must have rank >= 1, got a scalar")
        if reduction != "sum" and data.dtype.kind != "f":
            raise TypeError(f"{name}: data must be floating, got {data.dtype}")
        if data.dtype.kind not in "iuf":
            raise TypeError(f"{name}: data must be a real number type, got {data.dtype}")
        if indices.ndim != 1:
            raise InvalidArgumentError(f"{name}: indices should be a vector, got shape "
                             f"{tuple(indices.shape)}")
        if ids.ndim != 1:
            raise InvalidArgumentError(f"{name}: segment_ids should be a vector, got shape "
                             f"{tuple(ids.shape)}")
        if indices.shape[0] != ids.shape[0]:
            raise InvalidArgumentError(f"{name}: segment_ids and indices should have the same size, got "
                             f"{ids.shape[0]} and {indices.shape[0]}")
        rows = data.shape[0]
        if indices.shape[0]:
            if rows == 0:
                raise InvalidArgumentIndexError(f"{name}: indices index into data with 0 rows")
            check_in_range(indices, 0, rows - 1,
                           f"{name}: indices out of range [0, {rows}) (they span "
                           "[{lo}, {hi}])")
            _check_sorted(name, ids.astype(np.int64, copy=False))
            check_in_range(ids, -_BIG, num_segments - 1,
                           f"{name}: segment ids must be < num_segments (largest id: {{hi}})")
            # keep bad indices (flagged on the GPU) inside the table; narrow or unsigned
            # index dtypes go to int64 first, so rows - 1 is never out of their range
            if indices.dtype not in (np.int32, np.int64):
                indices = indices.astype(np.int64)
            indices = xp.clip(indices, 0, rows - 1)
        picked = xp.take(data, indices, axis=0)
        return _k_sorted(picked, ids, num_segments, reduction)
    return fwd


def _sparse_vjp(reduction):
    def vjp(g, ans, data, indices, ids, num_segments, sparse_gradient):
        from .indexing import gather
        from .math import divide
        ids_a = ids._data if isinstance(ids, Tensor) else ids
        if reduction != "sum":
            c = array_module(ids_a).maximum(_counts(ids_a, num_segments, g.dtype), 1)
            if reduction == "sqrt_n":
                c = array_module(c).sqrt(c)
            g = divide(g, _wrap(_expand_counts(c, g.ndim)))
        picked = gather(g, _wrap(ids_a))
        idx = indices if isinstance(indices, Tensor) else _wrap(indices)
        if sparse_gradient:
            return IndexedSlices(picked, idx, tuple(data.shape))
        return _unsorted["sum"](picked, idx, num_segments=int(data.shape[0]))
    return vjp


_sparse = {}
for _r in ("sum", "mean", "sqrt_n"):
    _sparse[_r] = register(f"sparse_segment_{_r}", _sparse_fwd(_r))
    defvjp(_sparse[_r], _sparse_vjp(_r), None, None)


_EXAMPLE_OUT = {"sum": "5.0", "mean": "2.5", "sqrt_n": "3.535533905029297"}


def _make_sparse(reduction):
    fname = f"sparse_segment_{reduction}"

    def fn(data, indices, segment_ids, num_segments=None, name=None, sparse_gradient=False):
        idx = indices if isinstance(indices, Tensor) else _ids_array(indices, data)
        ids = segment_ids if isinstance(segment_ids, Tensor) else _ids_array(segment_ids, data)
        if num_segments is None:
            ids_a = ids._data if isinstance(ids, Tensor) else ids
            _check_ids_dtype(fname, ids_a)
            # the output size is the last id + 1: one host read, as in TF
            n = int(to_numpy(ids_a.reshape(-1)[-1:]).max()) + 1 if ids_a.size else 0
            if ids_a.size and n <= 0:
                raise InvalidArgumentError(f"{fname}: segment ids must be >= 0, got a last id of {n - 1}")
        else:
            n = int(num_segments.numpy() if isinstance(num_segments, Tensor) else num_segments)
            if n < 0:
                raise InvalidArgumentError(f"{fname}: num_segments must be >= 0, got {n}")
        return _sparse[reduction](data, idx, ids, num_segments=n,
                                  sparse_gradient=bool(sparse_gradient))

    def fn_v1(data, indices, segment_ids, name=None, num_segments=None, sparse_gradient=False):
        return fn(data, indices, segment_ids, num_segments=num_segments, name=name,
                  sparse_gradient=sparse_gradient)

    scale = {"sum": "", "mean": " divided by the segment's size",
             "sqrt_n": " divided by the square root of the segment's size"}[reduction]
    fn.__name__ = fname
    fn.__doc__ = (
        f"Segment {reduction} of the rows ``data[indices]`` over sorted ``segment_ids`` "
        f"(``tf.sparse.segment_{reduction}``): ``out[s]`` is the sum of ``data[indices[j]]`` "
        f"over ``j`` with ``segment_ids[j] == s``{scale}; an empty segment gives 0.\n\n"
        "    Args:\n"
        "        data: tensor of shape ``(rows, ...)``.\n"
        "        indices: int vector of rows of ``data``, each in ``[0, rows)``.\n"
        "        segment_ids: int vector as long as ``indices``, sorted, values >= 0.\n"
        "        num_segments: the output's number of rows (default ``segment_ids[-1] + 1``).\n"
        "        sparse_gradient: when True the gradient w.r.t. ``data`` is ``IndexedSlices``"
        " (rows ``indices``); otherwise a dense tensor, as in TF.\n\n"
        "    Returns:\n"
        "        Tensor of shape ``(num_segments, ...)``.\n\n"
        "    Raises:\n"
        "        InvalidArgumentError: for indices outside ``[0, rows)``, unsorted or negative ids, ids\n"
        "            >= ``num_segments`` (on the GPU, at the next ``kernels.check_errors``).\n\n"
        "    Example:\n"
        "        >>> import eagerflow as ef\n"
        f"        >>> ef.math.{fname}(ef.constant([[1.0], [2.0], [4.0]]), [0, 2], [0, 0])"
        ".numpy().tolist()\n"
        f"        [[{_EXAMPLE_OUT[reduction]}]]\n")
    fn_v1.__name__ = f"{fname}_v1"
    fn_v1.__doc__ = (f"TF1's ``tf.{fname}``: :func:`{fname}` with TF1's argument order "
                     "(``name`` before ``num_segments``).")
    return fn, fn_v1


sparse_segment_sum, sparse_segment_sum_v1 = _make_sparse("sum")
sparse_segment_mean, sparse_segment_mean_v1 = _make_sparse("mean")
sparse_segment_sqrt_n, sparse_segment_sqrt_n_v1 = _make_sparse("sqrt_n")
