"""``tf.sparse`` ops on the values of SparseTensors: ``maximum``/``minimum`` of two (the
union of their indices, implicit zeros taking part), ``softmax`` over each row's present
entries, and the segment reductions of gathered rows (``segment_sum``/``mean``/``sqrt_n``).
Re-exported by :mod:`eagerflow.sparse`."""
import numpy as np

from .. import ops
from ..errors import InvalidArgumentError
from ..ops.segment import sparse_segment_mean, sparse_segment_sqrt_n, sparse_segment_sum
from . import _check_bounds, _ids, _make, _parts, _row_major_order, _same_dense_shape, _xp


# --- maximum / minimum (sparse_sparse_binary_op_shared.cc) ----------------------------------
def _union_slots(ia, ib):
    """TF's UnionSparseIndicesAndValues on canonically sorted operands, vectorised.

    The kernel walks both (sorted) index lists at once: equal indices make one output entry,
    an index held by one side makes an entry whose other operand is an implicit zero. With
    duplicate indices the k-th copy in ``a`` meets the k-th copy in ``b``. Returns the
    output indices and, for every entry of ``a`` and of ``b`` (in their given order), its
    output slot.
    """
    na, nb = ia.shape[0], ib.shape[0]
    rank = ia.shape[1]
    oa, ob = _row_major_order(ia), _row_major_order(ib)
    allidx = np.concatenate([ia[oa], ib[ob]]).reshape(-1, rank)
    src = np.concatenate([np.zeros(na, np.int64), np.ones(nb, np.int64)])
    n = na + nb
    if not n:
        return np.zeros((0, rank), np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    # the copy number of each entry among equal indices of its own operand
    order = np.lexsort((src,) + tuple(allidx.T[::-1])).astype(np.int64)
    s_idx, s_src = allidx[order], src[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = np.any(s_idx[1:] != s_idx[:-1], axis=1) | (s_src[1:] != s_src[:-1])
    starts = np.flatnonzero(new_group)
    copy = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    copy_of = np.empty(n, np.int64)
    copy_of[order] = copy
    # output entries: the distinct (index, copy) pairs, in (index, copy) order
    key_order = np.lexsort((src, copy_of) + tuple(allidx.T[::-1])).astype(np.int64)
    k_idx, k_copy = allidx[key_order], copy_of[key_order]
    fresh = np.ones(n, dtype=bool)
    fresh[1:] = np.any(k_idx[1:] != k_idx[:-1], axis=1) | (k_copy[1:] != k_copy[:-1])
    slot_sorted = np.cumsum(fresh) - 1
    slot = np.empty(n, np.int64)
    slot[key_order] = slot_sorted
    seg_a = np.empty(na, np.int64)
    seg_a[oa] = slot[:na]
    seg_b = np.empty(nb, np.int64)
    seg_b[ob] = slot[na:]
    return k_idx[fresh], seg_a, seg_b


def _sparse_sparse_cwise(kind, sp_a, sp_b, fn):
    ia, va, sa = _parts(sp_a, fn, "sp_a")
    ib, vb, sb = _parts(sp_b, fn, "sp_b")
    _same_dense_shape(sa, sb, fn)
    if va.dtype != vb.dtype:
        raise TypeError(f"{fn}: sp_a.values has dtype {va.dtype} but sp_b.values has "
                        f"{vb.dtype}; they must match")
    if va.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: the values must be a real number type (float or integer), "
                        f"got {va.dtype}")
    _check_bounds(ia, sa, fn, "sp_a")
    _check_bounds(ib, sb, fn, "sp_b")
    out_idx, seg_a, seg_b = _union_slots(ia, ib)
    n_out = out_idx.shape[0]
    xp = _xp(va)
    # each slot receives at most one value of each side; the other slots hold a zero
    aug_a = ops.unsorted_segment_sum(va, _ids(xp, seg_a), n_out)
    aug_b = ops.unsorted_segment_sum(vb, _ids(xp, seg_b), n_out)
    out = ops.maximum(aug_a, aug_b) if kind == "max" else ops.minimum(aug_a, aug_b)
    return _make(out_idx, out, sa)


def maximum(sp_a, sp_b, name=None):
    """Element-wise maximum of two SparseTensors of the same dense shape
    (``tf.sparse.maximum``, TF's SparseSparseMaximum).

    The result holds the union of both index sets in canonical row-major order: where only
    one operand has an entry, the other one's implicit zero takes part (so a negative value
    held by one side comes out as 0, and stays stored). No broadcasting. Like TF's kernel
    this pairs equal indices of the two operands; unlike it, operands need not be in
    canonical order (they are sorted first). Gradients reach both ``values``.

    Raises:
        TypeError: a non-SparseTensor operand, mismatched or non-real value dtypes.
        InvalidArgumentError: dense shapes that differ, or indices out of bounds.

    Example:
        >>> import eagerflow as ef
        >>> sp_zero = ef.SparseTensor([[0]], ef.constant([0]), [7])
        >>> sp_one = ef.SparseTensor([[1]], ef.constant([1]), [7])
        >>> res = ef.sparse.maximum(sp_zero, sp_one)
        >>> res.indices.numpy().tolist(), res.values.numpy().tolist()
        ([[0], [1]], [0, 1])
    """
    return _sparse_sparse_cwise("max", sp_a, sp_b, "sparse.maximum")


def minimum(sp_a, sp_b, name=None):
    """Element-wise minimum of two SparseTensors of the same dense shape
    (``tf.sparse.minimum``, TF's SparseSparseMinimum); see :func:`maximum` for the union
    semantics (implicit zeros take part).

    Example:
        >>> import eagerflow as ef
        >>> sp_zero = ef.SparseTensor([[0]], ef.constant([0]), [7])
        >>> sp_one = ef.SparseTensor([[1]], ef.constant([1]), [7])
        >>> res = ef.sparse.minimum(sp_zero, sp_one)
        >>> res.indices.numpy().tolist(), res.values.numpy().tolist()
        ([[0], [1]], [0, 0])
    """
    return _sparse_sparse_cwise("min", sp_a, sp_b, "sparse.minimum")


# --- softmax (sparse_softmax_op.cc) ---------------------------------------------------------
def softmax(sp_input, name=None):
    """Softmax over the last dimension of a SparseTensor, among the values present
    (``tf.sparse.softmax``).

    Each "row" is the set of entries sharing all indices but the last; its values ``v``
    become ``exp(v - max(v)) / sum(exp(v - max(v)))``. The implicit zeros take no part (an
    absent entry is not ``exp(0)``), and the result has the same indices and dense_shape as
    the input. The gradient with respect to ``sp_input.values`` is TF's _SparseSoftmaxGrad,
    ``(g - sum_row(g * y)) * y``, and can be differentiated again.

    Unlike TF's kernel, which assumes canonically ordered input, the values stay aligned with
    their indices for input in any order.

    Args:
        sp_input: a SparseTensor of rank >= 2 with float32 or float64 values.

    Returns:
        A SparseTensor with the softmax values.

    Raises:
        TypeError: non-floating values.
        InvalidArgumentError: rank < 2, or indices out of bounds.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 0], [0, 2], [1, 1]], ef.constant([0.0, 0.0, 5.0]), [2, 3])
        >>> ef.sparse.softmax(sp).values.numpy().tolist()
        [0.5, 0.5, 1.0]
    """
    fn = "sparse.softmax"
    idx, vals, shape = _parts(sp_input, fn)
    if vals.dtype.kind != "f":
        raise TypeError(f"{fn}: sp_input.values must be float32 or float64, got {vals.dtype}")
    rank = shape.shape[0]
    if rank < 2:
        raise InvalidArgumentError(f"{fn}: Input should have rank >= 2, but received shape: "
                                   f"{shape.tolist()}")
    _check_bounds(idx, shape, fn)
    nnz = idx.shape[0]
    if not nnz:
        return _make(idx, ops.identity(vals), shape)
    lead = idx[:, :-1]
    order = _row_major_order(lead)
    s = lead[order]
    first = np.ones(nnz, dtype=bool)
    first[1:] = np.any(s[1:] != s[:-1], axis=1)
    seg = np.empty(nnz, np.int64)
    seg[order] = np.cumsum(first) - 1
    n = int(first.sum())
    xp = _xp(vals)
    seg_t = _ids(xp, seg)
    # shifting by the row max changes no value and, held constant, no gradient
    row_max = ops.stop_gradient(ops.unsorted_segment_max(vals, seg_t, n))
    e = ops.exp(ops.subtract(vals, ops.gather(row_max, seg_t)))
    total = ops.unsorted_segment_sum(e, seg_t, n)
    return _make(idx, ops.divide(e, ops.gather(total, seg_t)), shape)


# --- segment reductions over gathered rows (tf.sparse.segment_*) -------------------------
def segment_sum(data, indices, segment_ids, num_segments=None, name=None,
                sparse_gradient=False):
    """``tf.sparse.segment_sum``: sums ``data[indices]`` by ``segment_ids`` (sorted),
    ``num_segments`` optional. A thin wrapper over ``ops.segment.sparse_segment_sum``.
    """
    kw = {"sparse_gradient": True} if sparse_gradient else {}
    return sparse_segment_sum(data, indices, segment_ids, num_segments=num_segments, **kw)


def segment_mean(data, indices, segment_ids, num_segments=None, name=None,
                 sparse_gradient=False):
    """``tf.sparse.segment_mean``: the mean of ``data[indices]`` per segment. A thin wrapper
    over ``ops.segment.sparse_segment_mean``."""
    kw = {"sparse_gradient": True} if sparse_gradient else {}
    return sparse_segment_mean(data, indices, segment_ids, num_segments=num_segments, **kw)


def segment_sqrt_n(data, indices, segment_ids, num_segments=None, name=None,
                   sparse_gradient=False):
    """``tf.sparse.segment_sqrt_n``: the sum of ``data[indices]`` per segment divided by the
    square root of the segment's size. A thin wrapper over
    ``ops.segment.sparse_segment_sqrt_n``."""
    kw = {"sparse_gradient": True} if sparse_gradient else {}
    return sparse_segment_sqrt_n(data, indices, segment_ids, num_segments=num_segments, **kw)
