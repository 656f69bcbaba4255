"""``tf.sparse``: SparseTensor helpers, reductions, products and manipulation.

The ops follow ``tensorflow/python/ops/sparse_ops.py`` and the CPU kernels behind it
(``sparse_reduce_op.cc``, ``sparse_add_op.cc``, ...). Index bookkeeping runs on the host
(these ops are not on the training hot path); the values always go through registered,
differentiable ops (gather, unsorted_segment_sum, concat, ...), so gradients reach
``sp_input.values`` and any dense operand. Every result is a SparseTensor whose three
components are Tensors (indices and dense_shape int64), like TF's.
"""
import numbers

import numpy as np

from .. import backend, ops
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _to_array, _wrap, convert_to_tensor
from ..errors import InvalidArgumentError
from ..nn import sparse_reorder, sparse_tensor_to_dense
from ..nn.embedding import _as_tensor as _values
from ..ops.cross import sparse_cross as cross
from ..ops.cross import sparse_cross_hashed as cross_hashed

to_dense = sparse_tensor_to_dense
reorder = sparse_reorder

__all__ = ["SparseTensor", "cross", "cross_hashed", "to_dense", "reorder", "reduce_sum",
           "reduce_max", "reduce_sum_sparse", "reduce_max_sparse", "sparse_dense_matmul",
           "add", "reshape", "concat", "fill_empty_rows", "retain", "slice", "split",
           "to_indicator", "from_dense", "maximum", "minimum", "softmax", "segment_sum",
           "segment_mean", "segment_sqrt_n"]


# --- helpers ------------------------------------------------------------------------------
def _host_ints(x, what):
    """``x`` (Tensor, array or list) as a NumPy int64 array (a host read)."""
    if isinstance(x, Tensor):
        a = backend.to_numpy(x._data)
    else:
        a = backend.to_numpy(x if isinstance(x, np.ndarray) else _to_array(x))
    if a.dtype.kind not in "iu":
        if a.size == 0:
            return a.astype(np.int64)
        raise TypeError(f"{what} must be integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def _dense_operand(b, vals):
    """A dense operand as a Tensor: Python lists take the sparse values' dtype (TF
    converts them to it), arrays and Tensors keep theirs (and are checked against it)."""
    if isinstance(b, Tensor):
        return b
    return convert_to_tensor(b) if isinstance(b, np.ndarray) else \
        convert_to_tensor(b, dtype=vals.dtype)


def _parts(sp, fn, arg="sp_input"):
    """(indices (nnz, rank) int64 on the host, values Tensor, dense_shape int64 on the host)."""
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"{fn}: {arg} must be a SparseTensor, got {type(sp).__name__}")
    shape = _host_ints(sp.dense_shape, f"{fn}: {arg}.dense_shape")
    if shape.ndim != 1:
        raise InvalidArgumentError(f"{fn}: {arg}.dense_shape must be a vector, got shape "
                                   f"{tuple(shape.shape)}")
    idx = _host_ints(sp.indices, f"{fn}: {arg}.indices")
    if idx.ndim != 2 or idx.shape[1] != shape.shape[0]:
        if idx.size or idx.ndim != 1:
            raise InvalidArgumentError(f"{fn}: {arg}.indices must have shape (nnz, "
                                       f"{shape.shape[0]}), got {tuple(idx.shape)}")
        idx = idx.reshape(0, shape.shape[0])
    vals = _values(sp.values, f"{fn}: {arg}.values")
    if tuple(vals.shape) != (idx.shape[0],):
        raise InvalidArgumentError(f"{fn}: {arg}.values must have shape ({idx.shape[0]},) to "
                                   f"match {arg}.indices, got {tuple(vals.shape)}")
    return idx, vals, shape


def _check_bounds(idx, shape, fn, arg="sp_input"):
    if not idx.shape[0]:
        return
    bad = np.flatnonzero(np.any((idx < 0) | (idx >= shape), axis=1))
    if bad.size:
        b = int(bad[0])
        raise InvalidArgumentError(f"{fn}: {arg}.indices[{b}] = {idx[b].tolist()} is out of "
                                   f"bounds for dense_shape {shape.tolist()}")


def _xp(vals):
    return backend.array_module(vals._data)


def _ids(xp, a):
    return _wrap(xp.asarray(np.asarray(a, dtype=np.int64)))


def _make(idx, vals, shape):
    xp = _xp(vals)
    shape = np.asarray(shape, dtype=np.int64).reshape(-1)
    idx = np.asarray(idx, dtype=np.int64)
    if idx.ndim != 2:
        idx = idx.reshape(-1, shape.shape[0])
    return SparseTensor(_ids(xp, idx), vals, _ids(xp, shape))


def _take(vals, positions):
    """``vals[positions]`` through the differentiable gather."""
    return ops.gather(vals, _ids(_xp(vals), positions))


def _row_major_order(idx):
    """The stable permutation sorting the rows of ``idx`` lexicographically."""
    if idx.shape[0] < 2 or idx.shape[1] == 0:
        return np.arange(idx.shape[0], dtype=np.int64)
    return np.lexsort(idx.T[::-1]).astype(np.int64)


def _axis(axis, rank, fn, what="axis"):
    if isinstance(axis, Tensor):
        axis = axis.numpy()
    a = np.asarray(axis)
    if a.ndim != 0 or a.dtype.kind not in "iu":
        raise TypeError(f"{fn}: {what} must be an integer scalar, got {axis!r}")
    a = int(a)
    if not -rank <= a < rank:
        raise InvalidArgumentError(f"{fn}: {what} {a} must be in range [-{rank}, {rank}) for "
                                   f"a SparseTensor of rank {rank}")
    return a % rank


# --- reductions (sparse_reduce_op.cc) -------------------------------------------------------
def _reduction(sp_input, axis, keepdims, fn):
    idx, vals, shape = _parts(sp_input, fn)
    rank = shape.shape[0]
    if axis is None:
        axes = list(range(rank))
    else:
        if isinstance(axis, Tensor):
            axis = axis.numpy()
        a = np.asarray(axis)
        if a.ndim > 1 or (a.size and a.dtype.kind not in "iu"):
            raise TypeError(f"{fn}: axis must be an int or a list of ints, got {axis!r}")
        axes = []
        for d in a.reshape(-1).tolist():
            if not -rank <= d < rank:
                raise InvalidArgumentError(f"{fn}: Invalid reduction dimension {d}, for input "
                                           f"with {rank} dimensions.")
            axes.append(d % rank)
    _check_bounds(idx, shape, fn)
    group = [d for d in range(rank) if d not in set(axes)]
    gshape = shape[group]
    if keepdims:
        out_shape = [1 if d not in group else int(shape[d]) for d in range(rank)]
    else:
        out_shape = gshape.tolist()
    num = int(np.prod(gshape)) if group else 1
    if group and idx.shape[0]:
        seg = np.ravel_multi_index(tuple(idx[:, group].T), tuple(gshape)).astype(np.int64)
    else:
        seg = np.zeros(idx.shape[0], dtype=np.int64)
    return idx, vals, shape, group, gshape, out_shape, num, seg


def _reduce_dense(kind, sp_input, axis, keepdims, fn):
    _, vals, _, _, _, out_shape, num, seg = _reduction(sp_input, axis, keepdims, fn)
    xp = _xp(vals)
    if kind == "sum":
        out = ops.unsorted_segment_sum(vals, _ids(xp, seg), num)
    else:
        # only the present values take part; a group with none reduces to 0 (TF's setZero)
        out = ops.unsorted_segment_max(vals, _ids(xp, seg), num)
        present = np.bincount(seg, minlength=num)[:num] > 0
        out = ops.where(_wrap(xp.asarray(present)), out,
                        _wrap(xp.zeros((num,), dtype=vals.dtype)))
    return ops.reshape(out, out_shape)


def _reduce_sparse(kind, sp_input, axis, keepdims, fn):
    _, vals, _, group, gshape, out_shape, _, seg = _reduction(sp_input, axis, keepdims, fn)
    xp = _xp(vals)
    uniq, inv = np.unique(seg, return_inverse=True)
    n = uniq.shape[0]
    seg_op = ops.unsorted_segment_sum if kind == "sum" else ops.unsorted_segment_max
    out_vals = seg_op(vals, _ids(xp, inv.reshape(-1)), n)
    rank = len(out_shape)
    out_idx = np.zeros((n, rank), dtype=np.int64)
    if group and n:
        coords = np.stack(np.unravel_index(uniq, tuple(gshape)), axis=1)
        out_idx[:, group if keepdims else list(range(len(group)))] = coords
    return _make(out_idx, out_vals, out_shape)


def reduce_sum(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Sum over ``axis`` of a SparseTensor (``tf.sparse.reduce_sum``).

    ``axis=None`` reduces every dimension; negative axes count from the end. The result is a
    dense Tensor, or with ``output_is_sparse`` a SparseTensor holding one entry per group
    that has at least one value. Gradient to ``sp_input.values``.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.SparseTensor([[0, 0], [0, 2], [1, 1]], ef.constant([1, 1, 1]), [2, 3])
        >>> ef.sparse.reduce_sum(x, 1).numpy().tolist()
        [2, 1]
    """
    if output_is_sparse:
        return _reduce_sparse("sum", sp_input, axis, bool(keepdims), "sparse.reduce_sum")
    return _reduce_dense("sum", sp_input, axis, bool(keepdims), "sparse.reduce_sum")


def reduce_max(sp_input, axis=None, keepdims=None, output_is_sparse=False, name=None):
    """Max over ``axis`` of the values present in a SparseTensor (``tf.sparse.reduce_max``).

    The implicit zeros do not take part (so results can be negative); a group with no values
    reduces to 0 in the dense result and is absent from the sparse one.

    Example:
        >>> import eagerflow as ef
        >>> y = ef.SparseTensor([[0, 0], [1, 0], [1, 1]], ef.constant([-7, 4, 3]), [3, 2])
        >>> ef.sparse.reduce_max(y, 1).numpy().tolist()
        [-7, 4, 0]
    """
    if output_is_sparse:
        return _reduce_sparse("max", sp_input, axis, bool(keepdims), "sparse.reduce_max")
    return _reduce_dense("max", sp_input, axis, bool(keepdims), "sparse.reduce_max")


def reduce_sum_sparse(sp_input, axis=None, keepdims=False, name=None):
    """``tf.compat.v1.sparse.reduce_sum_sparse``: :func:`reduce_sum` with a sparse result."""
    return reduce_sum(sp_input, axis, keepdims, output_is_sparse=True)


def reduce_max_sparse(sp_input, axis=None, keepdims=False, name=None):
    """``tf.compat.v1.sparse.reduce_max_sparse``: :func:`reduce_max` with a sparse result."""
    return reduce_max(sp_input, axis, keepdims, output_is_sparse=True)


# --- sparse x dense product (sparse_tensor_dense_matmul_op.cc) ------------------------------
def sparse_dense_matmul(sp_a, b, adjoint_a=False, adjoint_b=False, name=None):
    """``op(A) @ op(B)`` with one operand a rank-2 SparseTensor (``tf.sparse.sparse_dense_matmul``).

    ``op`` transposes when ``adjoint_a`` / ``adjoint_b`` is set (the conjugate transpose for
    complex values). As in TF, ``b`` may be the SparseTensor and ``sp_a`` dense. Duplicate
    indices add up. Gradients to the sparse values and to the dense matrix.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.SparseTensor([[0, 0], [1, 2]], ef.constant([1.0, 2.0]), [2, 3])
        >>> ef.sparse.sparse_dense_matmul(a, ef.ones([3, 1])).numpy().tolist()
        [[1.0], [2.0]]
    """
    fn = "sparse.sparse_dense_matmul"
    if isinstance(b, SparseTensor) and not isinstance(sp_a, SparseTensor):
        # dense A, sparse B: (op(A) op(B))^T = op'(B) op'(A) with the adjoints flipped
        return ops.transpose(sparse_dense_matmul(b, sp_a, adjoint_a=not adjoint_b,
                                                 adjoint_b=not adjoint_a))
    idx, vals, shape = _parts(sp_a, fn, "sp_a")
    if shape.shape[0] != 2:
        raise InvalidArgumentError(f"{fn}: sp_a must be a rank-2 SparseTensor, got dense_shape "
                                   f"{shape.tolist()}")
    b = _dense_operand(b, vals)
    if b.ndim != 2:
        raise InvalidArgumentError(f"{fn}: b must be a matrix (rank 2), got shape "
                                   f"{tuple(b.shape)}")
    if b.dtype != vals.dtype:
        raise InvalidArgumentError(f"{fn}: b has dtype {b.dtype} but sp_a.values has "
                                   f"{vals.dtype}; they must match")
    rows, cols = idx[:, 0], idx[:, 1]
    m, k = int(shape[0]), int(shape[1])
    if adjoint_a:
        rows, cols, m, k = cols, rows, k, m
        if vals.dtype.kind == "c":
            vals = ops.transpose(vals, conjugate=True)
    if adjoint_b:
        b = ops.transpose(b, conjugate=True)
    if int(b.shape[0]) != k:
        raise InvalidArgumentError(f"{fn}: Cannot multiply A and B because inner dimension does "
                                   f"not match: {k} vs. {int(b.shape[0])}")
    for name_, v, lim in (("i", rows, m), ("k", cols, k)):
        bad = np.flatnonzero((v < 0) | (v >= lim))
        if bad.size:
            j = int(bad[0])
            raise InvalidArgumentError(f"{fn}: {name_} ({int(v[j])}) from sp_a.indices[{j}] out "
                                       f"of bounds (>={lim})")
    xp = _xp(vals)
    picked = ops.gather(b, _ids(xp, cols))
    prod = ops.multiply(ops.reshape(vals, [-1, 1]), picked)
    return ops.unsorted_segment_sum(prod, _ids(xp, rows), m)


# --- add (sparse_add_op.cc, sparse_tensor_dense_add_op.cc) ---------------------------------
def add(a, b, threshold=0, name=None):
    """Adds two operands, at least one a SparseTensor (``tf.sparse.add``).

    sparse + sparse gives a SparseTensor in canonical order: where both operands hold an
    index the values are summed, and that sum is dropped when its magnitude is below
    ``threshold`` (entries held by one operand are always kept, as in TF's kernel).
    sparse + dense gives a dense Tensor (no broadcasting). Gradients to both operands.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.SparseTensor([[0, 0], [1, 1]], ef.constant([1.0, 2.0]), [2, 2])
        >>> b = ef.SparseTensor([[0, 0], [0, 1]], ef.constant([-1.0, 5.0]), [2, 2])
        >>> ef.sparse.add(a, b, threshold=0.5).indices.numpy().tolist()
        [[0, 1], [1, 1]]
    """
    fn = "sparse.add"
    a_sp, b_sp = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if not (a_sp or b_sp):
        raise TypeError("sparse.add: At least one input should be SparseTensor; do you mean to "
                        "use tf.add()?")
    if a_sp and b_sp:
        return _add_sparse(a, b, threshold, fn)
    if b_sp:
        a, b = b, a
    idx, vals, shape = _parts(a, fn, "a" if a_sp else "b")
    dense = _dense_operand(b, vals)
    if dense.dtype != vals.dtype:
        raise InvalidArgumentError(f"{fn}: the dense operand has dtype {dense.dtype} but the "
                                   f"sparse values have {vals.dtype}; they must match")
    if tuple(int(d) for d in dense.shape) != tuple(shape.tolist()):
        raise InvalidArgumentError(f"{fn}: the dense operand's shape {tuple(dense.shape)} does "
                                   f"not match the SparseTensor's dense_shape {shape.tolist()} "
                                   "(no broadcasting)")
    _check_bounds(idx, shape, fn)
    scattered = ops.scatter_nd(_ids(_xp(vals), idx), vals, tuple(shape.tolist()))
    return ops.add(dense, scattered)


def _same_dense_shape(sa, sb, fn):
    """TF's checks of two SparseTensors' dense shapes (sparse_add and the cwise ops)."""
    if sa.shape != sb.shape:
        raise InvalidArgumentError(f"{fn}: Operands do not have the same ranks; got shapes: "
                                   f"{sa.tolist()} and {sb.tolist()}")
    if (sa != sb).any():
        d = int(np.flatnonzero(sa != sb)[0])
        raise InvalidArgumentError(f"{fn}: Operands' shapes do not match: got {int(sa[d])} and "
                                   f"{int(sb[d])} for dimension {d}")


def _add_sparse(a, b, threshold, fn):
    ia, va, sa = _parts(a, fn, "a")
    ib, vb, sb = _parts(b, fn, "b")
    _same_dense_shape(sa, sb, fn)
    if va.dtype != vb.dtype:
        raise InvalidArgumentError(f"{fn}: a.values has dtype {va.dtype} but b.values has "
                                   f"{vb.dtype}; they must match")
    if isinstance(threshold, Tensor):
        threshold = threshold.numpy()
    thr = np.asarray(threshold)
    if thr.ndim != 0:
        raise InvalidArgumentError(f"{fn}: The magnitude threshold must be a scalar: got shape "
                                   f"{tuple(thr.shape)}")
    thr = thr.item()
    na, nb = ia.shape[0], ib.shape[0]
    rank = sa.shape[0]
    allidx = np.concatenate([ia, ib]).reshape(-1, rank)
    src = np.concatenate([np.zeros(na, np.int64), np.ones(nb, np.int64)])
    if na + nb and rank:
        order = np.lexsort((src,) + tuple(allidx.T[::-1])).astype(np.int64)
    else:
        order = np.arange(na + nb, dtype=np.int64)
    s_idx, s_src = allidx[order], src[order]
    # an entry of a followed by the same index from b is one summed output entry
    same = np.zeros(order.shape[0], dtype=bool)
    if order.shape[0] > 1:
        same[1:] = np.all(s_idx[1:] == s_idx[:-1], axis=1) & (s_src[1:] == 1) & (s_src[:-1] == 0)
    slot = np.cumsum(~same) - 1
    n_out = int(slot[-1]) + 1 if slot.size else 0
    seg = np.empty(na + nb, dtype=np.int64)
    seg[order] = slot
    xp = _xp(va)
    summed = ops.unsorted_segment_sum(ops.concat([va, vb], 0), _ids(xp, seg), n_out)
    out_idx = s_idx[~same]
    keep = np.ones(n_out, dtype=bool)
    if thr and n_out:
        paired = np.zeros(n_out, dtype=bool)
        paired[slot[same]] = True
        mag = np.abs(backend.to_numpy(summed._data))
        keep = ~paired | (mag >= thr)
    if not keep.all():
        summed = _take(summed, np.flatnonzero(keep))
        out_idx = out_idx[keep]
    return _make(out_idx, summed, sa)


# --- reshape (reshape_util.cc) ---------------------------------------------------------------
def reshape(sp_input, shape, name=None):
    """A SparseTensor with the same values, re-indexed for a new dense ``shape``
    (``tf.sparse.reshape``). One dimension may be -1 (inferred); the order of the values is
    kept.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 0, 0], [1, 2, 3]], [1.0, 2.0], [2, 3, 6])
        >>> ef.sparse.reshape(sp, [9, -1]).indices.numpy().tolist()
        [[0, 0], [8, 1]]
    """
    fn = "sparse.reshape"
    idx, vals, in_shape = _parts(sp_input, fn)
    new = _host_ints(shape, f"{fn}: shape")
    if new.ndim != 1:
        raise InvalidArgumentError(f"{fn}: shape must be a vector, got shape "
                                   f"{tuple(new.shape)}")
    dense_size = int(np.prod(in_shape)) if in_shape.size else 1
    unknown = np.flatnonzero(new == -1)
    if unknown.size > 1:
        raise InvalidArgumentError(f"{fn}: only one output dimension may be -1, not both "
                                   f"{int(unknown[0])} and {int(unknown[1])}")
    neg = np.flatnonzero(new < -1)
    if neg.size:
        d = int(neg[0])
        raise InvalidArgumentError(f"{fn}: size {d} must be non-negative, not {int(new[d])}")
    product = int(np.prod(np.where(new == -1, 1, new))) if new.size else 1
    out = new.copy()
    if unknown.size:
        if product == 0:
            if dense_size:
                raise InvalidArgumentError(
                    f"{fn}: Input to reshape is a SparseTensor with {dense_size} dense values, "
                    f"but the requested shape has a zero dimension besides -1")
            out[unknown[0]] = 0
        else:
            missing = dense_size // product
            if missing * product != dense_size:
                raise InvalidArgumentError(
                    f"{fn}: Input to reshape is a SparseTensor with {dense_size} dense values, "
                    f"but the requested shape requires a multiple of {product}")
            out[unknown[0]] = missing
    elif product != dense_size:
        raise InvalidArgumentError(f"{fn}: Input to reshape is a tensor with {dense_size} dense "
                                   f"values, but the requested shape has {product}")
    _check_bounds(idx, in_shape, fn)
    if idx.shape[0]:
        flat = np.ravel_multi_index(tuple(idx.T), tuple(in_shape)) if in_shape.size \
            else np.zeros(idx.shape[0], np.int64)
        new_idx = np.stack(np.unravel_index(flat, tuple(out)), axis=1) if out.size \
            else np.zeros((idx.shape[0], 0), np.int64)
    else:
        new_idx = np.zeros((0, out.shape[0]), np.int64)
    return _make(new_idx, ops.identity(vals), out)


# --- concat (sparse_concat_op.cc) -----------------------------------------------------------
def concat(axis, sp_inputs, expand_nonconcat_dims=False, name=None):
    """Concatenates SparseTensors along ``axis`` (``tf.sparse.concat``); the result is in
    canonical row-major order. With ``expand_nonconcat_dims`` the other dimensions grow to the
    largest among the inputs instead of having to match.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.SparseTensor([[0, 2], [1, 0], [1, 1]], ["a", "b", "c"], [2, 3])
        >>> b = ef.SparseTensor([[0, 1], [0, 2]], ["d", "e"], [2, 4])
        >>> ef.sparse.concat(1, [a, b]).values.numpy().tolist()
        [b'a', b'd', b'e', b'b', b'c']
    """
    fn = "sparse.concat"
    if isinstance(sp_inputs, SparseTensor) or not isinstance(sp_inputs, (list, tuple)):
        raise TypeError(f"{fn}: sp_inputs must be a list of SparseTensors, got "
                        f"{type(sp_inputs).__name__}")
    if not sp_inputs:
        raise ValueError(f"{fn}: sp_inputs must not be empty")
    parts = [_parts(sp, fn, f"sp_inputs[{i}]") for i, sp in enumerate(sp_inputs)]
    rank = parts[0][2].shape[0]
    for i, (_, v, s) in enumerate(parts):
        if s.shape[0] != rank:
            raise InvalidArgumentError(f"{fn}: Ranks of all input tensors must match: expected "
                                       f"{rank} but got {s.shape[0]} at position {i}")
        if v.dtype != parts[0][1].dtype:
            raise InvalidArgumentError(f"{fn}: sp_inputs[{i}].values has dtype {v.dtype}, but "
                                       f"sp_inputs[0].values has {parts[0][1].dtype}")
    ax = _axis(axis, rank, fn) if rank else None
    if ax is None:
        raise InvalidArgumentError(f"{fn}: cannot concatenate rank-0 SparseTensors")
    if len(parts) == 1:
        return sp_inputs[0]
    shapes = [s.copy() for _, _, s in parts]
    if expand_nonconcat_dims:
        biggest = np.max(np.stack(shapes), axis=0)
        for s in shapes:
            s[np.arange(rank) != ax] = biggest[np.arange(rank) != ax]
    for i, s in enumerate(shapes[1:], 1):
        for d in range(rank):
            if d != ax and s[d] != shapes[0][d]:
                raise InvalidArgumentError(
                    f"{fn}: Input shapes must match: expected {int(shapes[0][d])} for dimension "
                    f"{d} but got {int(s[d])} at position {i}")
    offsets = np.cumsum([0] + [int(s[ax]) for s in shapes[:-1]])
    all_idx = []
    for (idx, _, _), off in zip(parts, offsets):
        shifted = idx.copy()
        shifted[:, ax] += off
        all_idx.append(shifted)
    all_idx = np.concatenate(all_idx).reshape(-1, rank)
    out_shape = shapes[0].copy()
    out_shape[ax] = sum(int(s[ax]) for s in shapes)
    order = _row_major_order(all_idx)
    vals = ops.concat([v for _, v, _ in parts], 0)
    return _make(all_idx[order], _take(vals, order), out_shape)


# --- fill_empty_rows, retain, slice, split -------------------------------------------------
def fill_empty_rows(sp_input, default_value, name=None):
    """Adds ``default_value`` at ``[row, 0, ...]`` for every row without values
    (``tf.sparse.fill_empty_rows``).

    Returns:
        ``(output, empty_row_indicator)``: the SparseTensor in row-major order and a bool
        vector, True where the input row was empty. Gradients to the values and
        ``default_value``.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 1], [2, 0]], [1.0, 2.0], [3, 2])
        >>> out, empty = ef.sparse.fill_empty_rows(sp, -1.0)
        >>> out.values.numpy().tolist(), empty.numpy().tolist()
        ([1.0, -1.0, 2.0], [False, True, False])
    """
    fn = "sparse.fill_empty_rows"
    idx, vals, shape = _parts(sp_input, fn)
    if shape.shape[0] < 1:
        raise InvalidArgumentError(f"{fn}: sp_input must have rank >= 1, got dense_shape "
                                   f"{shape.tolist()}")
    xp = _xp(vals)
    dv = default_value if isinstance(default_value, Tensor) \
        else convert_to_tensor(np.asarray(default_value, dtype=vals.dtype)
                               if vals.dtype.kind != "O" else default_value)
    if dv.ndim != 0:
        raise InvalidArgumentError(f"{fn}: default_value must be a scalar, got shape "
                                   f"{tuple(dv.shape)}")
    if dv.dtype != vals.dtype:
        dv = ops.cast(dv, vals.dtype)
    n_rows = int(shape[0])
    rows = idx[:, 0]
    bad = np.flatnonzero((rows < 0) | (rows >= n_rows))
    if bad.size:
        j = int(bad[0])
        raise InvalidArgumentError(f"{fn}: sp_input.indices({j}, 0) is invalid: {int(rows[j])} "
                                   f"is outside [0, {n_rows})")
    empty = np.ones(n_rows, dtype=bool)
    empty[rows] = False
    empty_rows = np.flatnonzero(empty)
    extra = np.zeros((empty_rows.shape[0], shape.shape[0]), dtype=np.int64)
    extra[:, 0] = empty_rows
    all_idx = np.concatenate([idx, extra])
    fill = ops.broadcast_to(ops.reshape(dv, [1]), [empty_rows.shape[0]])
    all_vals = ops.concat([vals, fill], 0)
    order = _row_major_order(all_idx)
    out = _make(all_idx[order], _take(all_vals, order), shape)
    return out, _wrap(xp.asarray(empty))


def retain(sp_input, to_retain):
    """Keeps the values where the bool vector ``to_retain`` (one per value) is True
    (``tf.sparse.retain``); the order and dense_shape are kept.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 1], [0, 3], [2, 0], [3, 1]], ["a", "b", "c", "d"], [4, 5])
        >>> ef.sparse.retain(sp, [True, False, False, True]).values.numpy().tolist()
        [b'a', b'd']
    """
    fn = "sparse.retain"
    idx, vals, shape = _parts(sp_input, fn)
    keep = backend.to_numpy(to_retain._data if isinstance(to_retain, Tensor)
                            else _to_array(to_retain))
    if keep.ndim != 1:
        raise ValueError(f"{fn}: to_retain must be a vector (rank 1), got shape "
                         f"{tuple(keep.shape)}")
    if keep.shape[0] != idx.shape[0]:
        raise ValueError(f"{fn}: to_retain has {keep.shape[0]} entries but sp_input has "
                         f"{idx.shape[0]} values")
    if keep.size and keep.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: to_retain must be bool, got dtype {keep.dtype}")
    where = np.flatnonzero(keep)
    return _make(idx[where], _take(vals, where), shape)


def _slice_parts(idx, vals, shape, start, size):
    lo = start
    hi = np.minimum(start + size, shape)
    out_shape = np.maximum(hi - lo, 0)
    inside = np.all((idx >= lo) & (idx < hi), axis=1) if idx.shape[0] else \
        np.zeros(0, dtype=bool)
    where = np.flatnonzero(inside)
    return _make(idx[where] - lo, _take(vals, where), out_shape)


def slice(sp_input, start, size, name=None):  # noqa: A001 - TF's name
    """The part of a SparseTensor in ``[start, start + size)`` (``tf.sparse.slice``),
    re-indexed from ``start``; sizes past the end are clipped to the dense shape.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 2], [0, 4], [0, 5], [1, 0], [1, 1]],
        ...                      ef.constant([1, 2, 3, 4, 5]), [2, 7])
        >>> ef.sparse.to_dense(ef.sparse.slice(sp, [0, 4], [2, 3])).numpy().tolist()
        [[2, 3, 0], [0, 0, 0]]
    """
    fn = "sparse.slice"
    idx, vals, shape = _parts(sp_input, fn)
    st = _host_ints(start, f"{fn}: start")
    sz = _host_ints(size, f"{fn}: size")
    if st.ndim != 1 or sz.ndim != 1:
        raise InvalidArgumentError(f"{fn}: start and size must be vectors, got shapes "
                                   f"{tuple(st.shape)} and {tuple(sz.shape)}")
    if st.shape[0] != shape.shape[0] or sz.shape[0] != shape.shape[0]:
        raise InvalidArgumentError(f"{fn}: Expected start and size to have {shape.shape[0]} "
                                   f"entries (the rank of sp_input), got {st.shape[0]} and "
                                   f"{sz.shape[0]}")
    if (st < 0).any() or (sz < 0).any():
        raise InvalidArgumentError(f"{fn}: start and size must be non-negative, got start "
                                   f"{st.tolist()} and size {sz.tolist()}")
    return _slice_parts(idx, vals, shape, st, sz)


def split(sp_input=None, num_split=None, axis=None, name=None):
    """Splits a SparseTensor into ``num_split`` pieces along ``axis`` (``tf.sparse.split``);
    the first ``shape[axis] % num_split`` pieces are one longer.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 2], [0, 4], [0, 5], [1, 0], [1, 1]],
        ...                      ef.constant([1, 2, 3, 4, 5]), [2, 7])
        >>> [p.dense_shape.numpy().tolist() for p in ef.sparse.split(sp, 2, axis=1)]
        [[2, 4], [2, 3]]
    """
    fn = "sparse.split"
    idx, vals, shape = _parts(sp_input, fn)
    if num_split is None or isinstance(num_split, bool) \
            or not isinstance(num_split, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}: num_split must be a Python integer, got {num_split!r}")
    if axis is None:
        raise TypeError(f"{fn}: axis is required")
    rank = shape.shape[0]
    ax = _axis(axis, rank, fn)
    dim = int(shape[ax])
    n = int(num_split)
    if not 1 <= n <= dim:
        raise InvalidArgumentError(f"{fn}: Input num_split should be between 1 and the splitting "
                                   f"dimension size ({dim}), got {n}")
    base, extra = divmod(dim, n)
    out, pos = [], 0
    for i in range(n):
        length = base + (1 if i < extra else 0)
        st = np.zeros(rank, np.int64)
        st[ax] = pos
        sz = shape.copy()
        sz[ax] = length
        out.append(_slice_parts(idx, vals, shape, st, sz))
        pos += length
    return out


# --- conversions ----------------------------------------------------------------------------
def to_indicator(sp_input, vocab_size, name=None):
    """Dense bool indicator of the ids in ``sp_input`` (``tf.sparse.to_indicator``): the last
    dimension is replaced by ``vocab_size`` and ``out[..., id] = True`` for each id of the row.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.SparseTensor([[0, 0], [1, 0], [1, 1]], ef.constant([2, 0, 2]), [2, 2])
        >>> ef.sparse.to_indicator(sp, 3).numpy().tolist()
        [[False, False, True], [True, False, True]]
    """
    fn = "sparse.to_indicator"
    idx, vals, shape = _parts(sp_input, fn)
    if vals.dtype.kind not in "iu":
        raise TypeError(f"{fn}: sp_input.values must be int32 or int64 ids, got {vals.dtype}")
    if shape.shape[0] < 1:
        raise InvalidArgumentError(f"{fn}: sp_input must have rank >= 1")
    v = int(backend.to_numpy(vocab_size._data) if isinstance(vocab_size, Tensor) else vocab_size)
    if v < 0:
        raise InvalidArgumentError(f"{fn}: vocab_size must be >= 0, got {v}")
    ids = backend.to_numpy(vals._data).astype(np.int64)
    out_shape = np.concatenate([shape[:-1], [v]])
    new_idx = np.concatenate([idx[:, :-1], ids.reshape(-1, 1)], axis=1)
    bad = np.flatnonzero((ids < 0) | (ids >= v))
    if bad.size:
        j = int(bad[0])
        raise InvalidArgumentError(f"{fn}: sp_input.values[{j}] = {int(ids[j])} is out of "
                                   f"range [0, {v})")
    _check_bounds(new_idx, out_shape, fn)
    xp = _xp(vals)
    dense = xp.zeros(tuple(out_shape.tolist()), dtype=bool)
    if new_idx.shape[0]:
        dense[tuple(xp.asarray(new_idx).T)] = True
    return _wrap(dense)


def from_dense(tensor, name=None):
    """The SparseTensor of the non-zero (non-empty for strings) entries of a dense tensor
    (``tf.sparse.from_dense``), in row-major order; gradient to ``tensor``.

    Example:
        >>> import eagerflow as ef
        >>> sp = ef.sparse.from_dense(ef.constant([0, 0, 3, 0, 1]))
        >>> sp.indices.numpy().tolist(), sp.values.numpy().tolist()
        ([[2], [4]], [3, 1])
    """
    t = _values(tensor, "sparse.from_dense: tensor")
    data = backend.to_numpy(t._data)
    zero = "" if data.dtype.kind in "OUS" else 0
    nz = np.argwhere(data != zero).astype(np.int64).reshape(-1, data.ndim)
    xp = _xp(t)
    if t.ndim == 0:
        vals = ops.reshape(t, [1]) if nz.shape[0] else ops.reshape(t, [1])[:0]
    else:
        vals = ops.gather_nd(t, _ids(xp, nz))
    return _make(nz, vals, np.asarray(t.shape, dtype=np.int64))


# maximum/minimum/softmax and the segment reductions over gathered rows (imported last: they
# use this module's helpers)
from .elementwise import (maximum, minimum, segment_mean, segment_sqrt_n,  # noqa: E402
                          segment_sum, softmax)
