"""Embedding lookups (``tf.nn.embedding_lookup``, ``embedding_lookup_sparse``) over the fused
embedding-bag kernel, with ``IndexedSlices`` gradients (the dense table is never built).

Also the two SparseTensor helpers the sparse lookup needs: ``sparse_tensor_to_dense`` and
``sparse_reorder``.
"""
import numpy as np

from .. import backend, ops
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.registry import defvjp, defvjp_all, register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _to_array, _wrap, convert_to_tensor
from ..kernels import embedding_bag as _kb
from ..kernels.scatter_add import INDEX_PAD

__all__ = ["embedding_lookup", "embedding_lookup_sparse", "sparse_tensor_to_dense",
           "sparse_reorder"]

_STRATEGIES = ("mod", "div")


# --- the ops ----------------------------------------------------------------------------
# Every input that depends on the batch goes through an op (no raw arrays made on the
# host), so a traced graph (export, ef.function) keeps a dynamic batch dimension.
def _bag_fwd(xp, params, ids, offsets, weights, combiner, pad_zero_weights=False):
    if ids is None:  # bag the rows of params themselves, in order
        ids = xp.arange(params.shape[0], dtype=np.int64)
    return _kb.embedding_bag(params, ids, offsets, weights, combiner)


def _bag_vjp(g, ans, inputs, attrs, needs):
    params, ids, offsets, weights = inputs
    combiner = attrs["combiner"]
    ids_a = ids._data if isinstance(ids, Tensor) else ids
    nnz = int(params.shape[0] if ids_a is None else ids_a.shape[0])
    out = [None, None, None, None]
    if needs[0]:
        values = _bag_grad(g, offsets, weights, combiner=combiner, nnz=nnz)
        if ids_a is None:
            out[0] = values
        else:
            # a safe lookup's dropped entries (weight 0) must not name a row at all: their
            # zero gradient rows would still move an Adam-like optimizer's moments there
            rows = _pad_rows(_wrap(ids_a), weights) if attrs.get("pad_zero_weights") \
                else _wrap(ids_a)
            out[0] = IndexedSlices(values, rows, tuple(params.shape))
    if needs[3]:
        out[3] = _weights_grad(g, ans, params, ids_a, offsets, weights, combiner, nnz)
    return out


def _segments(offsets, nnz):
    """The bag of each entry, from the offsets (raw arrays; no host sync)."""
    xp = backend.array_module(offsets)
    return xp.searchsorted(offsets[1:], xp.arange(nnz, dtype=np.int64), side="right")


def _weights_grad(g, ans, params, ids, offsets, weights, combiner, nnz):
    # d out_b / d w_k: sum gives <g_b, p_k>; mean subtracts the bag's output and divides by
    # the weight sum; sqrtn likewise with the root of the sum of squares.
    segs = _wrap(_segments(offsets._data if isinstance(offsets, Tensor) else offsets, nnz))
    rows = params if ids is None else ops.gather(params, _wrap(ids))
    g_rows = ops.gather(g, segs)
    axes = tuple(range(1, len(params.shape)))
    dot = ops.reduce_sum(rows * g_rows, axis=axes) if axes else rows * g_rows
    if combiner == "sum":
        return dot
    nb = int(g.shape[0])
    go = ops.gather(ops.reduce_sum(g * ans, axis=axes) if axes else g * ans, segs)
    if combiner == "mean":
        norm = ops.gather(ops.unsorted_segment_sum(weights, segs, nb), segs)
        return ops.divide_no_nan(dot - go, norm)
    norm = ops.sqrt(ops.gather(ops.unsorted_segment_sum(weights * weights, segs, nb), segs))
    return ops.divide_no_nan(dot - ops.divide_no_nan(go * weights, norm), norm)


def _bag_grad_fwd(xp, g, offsets, weights, combiner, nnz):
    return _kb.embedding_bag_grad(g, offsets, weights, combiner, nnz)


def _bag_grad_vjp_g(dv, ans, g, offsets, weights, combiner, nnz):
    # The grad is linear in g; its transpose is the bag itself over the rows of dv.
    return _bag(dv, None, offsets, weights, combiner=combiner)


def _bag_grad_vjp_w(dv, ans, g, offsets, weights, combiner, nnz):
    # values_k = w_k g_b / norm_b: the product rule, with norm_b's own dependence on w.
    segs = _wrap(_segments(offsets._data if isinstance(offsets, Tensor) else offsets, nnz))
    g_rows = ops.gather(g, segs)
    axes = tuple(range(1, len(dv.shape)))
    dots = ops.reduce_sum(dv * g_rows, axis=axes) if axes else dv * g_rows
    if combiner == "sum":
        return dots
    nb = int(g.shape[0])
    total = ops.gather(ops.unsorted_segment_sum(weights * dots, segs, nb), segs)
    if combiner == "mean":
        norm = ops.gather(ops.unsorted_segment_sum(weights, segs, nb), segs)
        return ops.divide_no_nan(dots - ops.divide_no_nan(total, norm), norm)
    norm = ops.sqrt(ops.gather(ops.unsorted_segment_sum(weights * weights, segs, nb), segs))
    return ops.divide_no_nan(dots - ops.divide_no_nan(total * weights, norm * norm), norm)


_bag = register("embedding_bag", _bag_fwd)
# gradient rows of a bag's entries, INDEX_PAD (skipped by every consumer) where weight <= 0
_pad_rows = register("embedding_bag_pad_rows",
                     lambda xp, ids, w: xp.where(w > 0, ids.astype(np.int64, copy=False),
                                                 INDEX_PAD))
defvjp_all(_bag, _bag_vjp)
_bag_grad = register("embedding_bag_grad", _bag_grad_fwd)
defvjp(_bag_grad, _bag_grad_vjp_g, None, _bag_grad_vjp_w)


def _lookup_fwd(xp, params, ids):
    flat = ids.reshape(-1)
    offsets = xp.arange(flat.shape[0] + 1, dtype=np.int64)  # one id per bag: a checked gather
    out = _kb.embedding_bag(params, flat, offsets, None, "sum")
    return out.reshape(tuple(ids.shape) + tuple(params.shape[1:]))


def _lookup_vjp(g, ans, params, ids):
    pshape = tuple(params.shape)
    return IndexedSlices(ops.reshape(g, (-1,) + pshape[1:]), ops.reshape(ids, (-1,)), pshape)


_lookup = register("embedding_lookup", _lookup_fwd)
defvjp(_lookup, _lookup_vjp, None)


def _offsets_fwd(xp, indices, num_bags):
    return _kb.bag_offsets(indices[:, 0], num_bags)


# the bag boundaries of a canonically ordered SparseTensor (no gradient)
_bag_offsets = register("embedding_bag_offsets", _offsets_fwd)


# --- helpers ----------------------------------------------------------------------------
def _as_tensor(x, what):
    if isinstance(x, Tensor):
        return x
    try:
        return convert_to_tensor(x)
    except Exception as e:  # noqa: BLE001 - rewrap with the argument's name
        raise TypeError(f"{what} must be a tensor or array-like, got {type(x).__name__}") from e


def _ids_array(ids, xp, what="ids"):
    a = ids._data if isinstance(ids, Tensor) else _to_array(ids)
    if backend.array_module(a) is not xp:
        a = xp.asarray(backend.to_numpy(a))
    if a.dtype.kind not in "iu":
        raise TypeError(f"{what} must be integers, got dtype {a.dtype}")
    return a


def _clip_rows(x, max_norm):
    """TF's ``_clip``: rows whose l2 norm exceeds max_norm are scaled down to it."""
    if max_norm is None:
        return x
    axes = tuple(range(1, x.ndim))
    if not axes:
        return x
    # TF's clip_by_norm (python/ops/clip_ops.py) with its two-tap where, so an all-zero row
    # gets a finite gradient (sqrt's derivative at 0 would make it NaN)
    l2sum = ops.reduce_sum(x * x, axis=axes, keepdims=True)
    pred = l2sum > 0
    safe = ops.where(pred, l2sum, ops.ones_like(l2sum))
    norm = ops.where(pred, ops.sqrt(safe), l2sum)
    return x * float(max_norm) / ops.maximum(norm, float(max_norm))


def _on(x, xp, what):
    """``x`` as a Tensor on ``xp``'s device: a Tensor already there is kept as it is (so a
    traced graph sees the input itself), anything else is converted."""
    if isinstance(x, Tensor) and backend.array_module(x._data) is xp:
        _ids_array(x, xp, what)  # dtype check
        return x
    return _wrap(_ids_array(x, xp, what))


def _lookup_one(table, flat_ids):
    return _lookup(table, flat_ids if isinstance(flat_ids, Tensor) else _wrap(flat_ids))


def _partition(flat_ids, sizes, strategy):
    """(shard of each id, id within its shard), as TF's embedding_lookup assigns them."""
    xp = backend.array_module(flat_ids)
    p = len(sizes)
    if strategy == "mod":
        return flat_ids % p, flat_ids // p
    total = sum(sizes)
    per, extras = divmod(total, p)
    if per == 0:
        return flat_ids, xp.zeros_like(flat_ids)
    assign = xp.maximum(flat_ids // (per + 1), (flat_ids - extras) // per)
    first = assign < extras
    local = xp.where(first, flat_ids % (per + 1), (flat_ids - extras) % per)
    return assign, local


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """Looks up rows of ``params`` at ``ids`` (``tf.nn.embedding_lookup``).

    Args:
        params: a table of shape ``(vocab, *dim)``, or a list of shards of shape
            ``(vocab_i, *dim)`` that together hold the table as ``partition_strategy`` says.
        ids: int tensor of any shape ``S``, each in ``[0, vocab)``.
        partition_strategy: ``'mod'`` (id ``i`` lives in shard ``i % P``) or ``'div'``
            (contiguous ranges, the first ``vocab % P`` shards one row larger).
        max_norm: if set, rows whose l2 norm is larger are scaled down to it.

    Returns:
        Tensor of shape ``S + dim``. The gradient w.r.t. each table is ``IndexedSlices``.

    Raises:
        IndexError: an id out of range, naming the id and the table size (on the GPU it is
            raised by ``eagerflow.kernels.check_errors()`` at the next sync point).
        ValueError: an unknown ``partition_strategy`` or an empty ``params`` list.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> table = ef.constant([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> nn.embedding_lookup(table, [[2], [0]]).numpy().tolist()
        [[[4.0, 5.0]], [[0.0, 1.0]]]
    """
    if partition_strategy not in _STRATEGIES:
        raise ValueError(f"embedding_lookup: partition_strategy must be one of {_STRATEGIES}, "
                         f"got {partition_strategy!r}")
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("embedding_lookup: params must not be an empty list")
    shards = [_as_tensor(s, "params") for s in shards]
    trailing = tuple(shards[0].shape[1:])
    for s in shards[1:]:
        if tuple(s.shape[1:]) != trailing:
            raise ValueError(f"embedding_lookup: shards must agree beyond dimension 0, got "
                             f"{tuple(shards[0].shape)} and {tuple(s.shape)}")
    xp = backend.array_module(shards[0]._data)
    ids_t = _on(ids, xp, "ids")
    if len(shards) == 1:
        out = _lookup(shards[0], ids_t)
        if max_norm is None:
            return out
        flat = ops.reshape(out, (-1,) + trailing)
    else:
        flat = _lookup_sharded(shards, ids_t._data.reshape(-1), partition_strategy, xp)
    return ops.reshape(_clip_rows(flat, max_norm), tuple(ids_t.shape) + trailing)


def _lookup_sharded(shards, flat, strategy, xp):
    sizes = [int(s.shape[0]) for s in shards]
    total = sum(sizes)
    if flat.size:
        # the sharded path reads sizes back from the device anyway, so this check is free
        lo, hi = int(flat.min()), int(flat.max())
        if lo < 0 or hi >= total:
            bad = lo if lo < 0 else hi
            pos = int(xp.flatnonzero(flat == bad)[0])
            raise IndexError(f"embedding_lookup: ids[{pos}] = {bad} is out of range for a "
                             f"sharded table of {total} rows (valid: 0 <= id < {total})")
    assign, local = _partition(flat, sizes, strategy)
    pieces, positions = [], []
    for p, shard in enumerate(shards):
        pos = xp.flatnonzero(assign == p)  # a host sync on the GPU: the sizes are data
        positions.append(pos)
        pieces.append(_lookup_one(shard, local[pos]))
    order = xp.concatenate(positions)
    inverse = xp.empty_like(order)
    inverse[order] = xp.arange(order.shape[0], dtype=order.dtype)
    return ops.gather(ops.concat(pieces, axis=0), _wrap(inverse))


def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None,
                            combiner=None, max_norm=None, _pad_zero_weights=False):
    """Looks up and combines the embeddings of each row of a SparseTensor of ids.

    ``tf.nn.embedding_lookup_sparse``: row ``b`` of the result is the ``combiner`` of the
    embeddings of the ids in row ``b`` of ``sp_ids``, weighted by ``sp_weights``. For one
    table (and no ``max_norm``) this is one fused kernel forward and one backward.

    Args:
        params: a table ``(vocab, *dim)`` or a list of shards (see :func:`embedding_lookup`).
        sp_ids: SparseTensor of int ids with dense shape ``(batch, ...)``; its indices in
            canonical row-major order (use :func:`sparse_reorder` otherwise).
        sp_weights: SparseTensor of float weights with the same indices, or None (all 1).
            Its values may be a Tensor; the gradient reaches it.
        combiner: ``'sum'``, ``'mean'`` (weighted mean; the default, as in TF) or
            ``'sqrtn'`` (weighted sum over the root of the sum of squared weights).
        max_norm: if set, each embedding is clipped to this l2 norm before combining.

    Returns:
        Tensor of shape ``(batch, *dim)``; a row with no ids is zero. The gradient w.r.t.
        params is ``IndexedSlices``.

    Raises:
        ValueError: an unknown combiner, unsorted rows, or weights that do not match ids.
        IndexError: an id out of range (naming the id and the table size).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> table = ef.constant([[1.0, 1.0], [3.0, 5.0]])
        >>> sp = ef.SparseTensor([[0, 0], [0, 1], [1, 0]], ef.constant([0, 1, 1]), [2, 2])
        >>> nn.embedding_lookup_sparse(table, sp, None, combiner="mean").numpy().tolist()
        [[2.0, 3.0], [3.0, 5.0]]
    """
    combiner = "mean" if combiner is None else combiner
    if combiner not in _kb.COMBINERS:
        raise ValueError(f"embedding_lookup_sparse: combiner must be one of "
                         f"{_kb.COMBINERS}, got {combiner!r}")
    sharded = isinstance(params, (list, tuple))
    if sharded and not params:
        raise ValueError("embedding_lookup_sparse: params must not be an empty list")
    table = _as_tensor(params[0] if sharded else params, "params")
    xp = backend.array_module(table._data)
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError(f"sp_ids must be a SparseTensor, got {type(sp_ids).__name__}")
    idx = _on(sp_ids.indices, xp, "sp_ids.indices")
    if idx.ndim != 2 or idx.shape[1] < 1:
        raise ValueError(f"sp_ids.indices must have shape (nnz, rank), got {tuple(idx.shape)}")
    ids = _on(sp_ids.values, xp, "sp_ids.values")
    if ids.ndim != 1:
        ids = ops.reshape(ids, (-1,))
    ds = sp_ids.dense_shape
    ds = ds._data if isinstance(ds, Tensor) else ds
    num_bags = int(np.asarray(ds if isinstance(ds, (np.ndarray, list, tuple))
                              else backend.to_numpy(ds)).reshape(-1)[0])
    weights = None
    if sp_weights is not None:
        if not isinstance(sp_weights, SparseTensor):
            raise TypeError("embedding_lookup_sparse: sp_weights must be a SparseTensor or "
                            f"None, got {type(sp_weights).__name__}")
        weights = _as_tensor(sp_weights.values, "sp_weights.values")
        if tuple(weights.shape) != tuple(ids.shape):
            raise ValueError(f"embedding_lookup_sparse: sp_weights has {weights.shape[0]} "
                             f"values but sp_ids has {ids.shape[0]}")
        if weights.dtype != table.dtype:
            weights = ops.cast(weights, table.dtype)
    offsets = _bag_offsets(idx, num_bags=num_bags)
    if (sharded and len(params) > 1) or max_norm is not None:
        rows = embedding_lookup(params, ids, partition_strategy, max_norm=max_norm)
        flat = ops.reshape(rows, (int(ids.shape[0]), int(np.prod(rows.shape[1:]))))
        out = _bag(flat, None, offsets, weights, combiner=combiner)
        return ops.reshape(out, (num_bags,) + tuple(rows.shape[1:]))
    if _pad_zero_weights and weights is not None:
        return _bag(table, ids, offsets, weights, combiner=combiner, pad_zero_weights=True)
    return _bag(table, ids, offsets, weights, combiner=combiner)


# --- SparseTensor helpers -----------------------------------------------------------------
def sparse_reorder(sp_input, name=None):
    """Reorders a SparseTensor into canonical row-major order (``tf.sparse.reorder``).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> sp = ef.SparseTensor([[1, 0], [0, 1]], [1.0, 2.0], [2, 2])
        >>> nn.sparse_reorder(sp).indices.tolist()
        [[0, 1], [1, 0]]
    """
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"sparse_reorder: sp_input must be a SparseTensor, got "
                        f"{type(sp_input).__name__}")
    idx = backend.to_numpy(sp_input.indices._data if isinstance(sp_input.indices, Tensor)
                           else np.asarray(sp_input.indices))
    order = np.lexsort(idx.T[::-1]) if idx.shape[0] else np.zeros(0, np.int64)
    vals = sp_input.values
    if isinstance(vals, Tensor):
        xp = backend.array_module(vals._data)
        new_vals = ops.gather(vals, _wrap(xp.asarray(order)))
        new_idx = xp.asarray(idx[order])
    else:
        new_vals = np.asarray(vals)[order]
        new_idx = idx[order]
    return SparseTensor(new_idx, new_vals, sp_input.dense_shape)


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor of a SparseTensor (``tf.sparse.to_dense``); gradient to the values.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> sp = ef.SparseTensor([[0, 1]], [2.0], [1, 2])
        >>> nn.sparse_tensor_to_dense(sp).numpy().tolist()
        [[0.0, 2.0]]
    """
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"sparse_tensor_to_dense: sp_input must be a SparseTensor, got "
                        f"{type(sp_input).__name__}")
    vals = _as_tensor(sp_input.values, "sp_input.values")
    xp = backend.array_module(vals._data)
    idx = _ids_array(sp_input.indices, xp, "sp_input.indices")
    shape = tuple(int(d) for d in backend.to_numpy(_ids_array(sp_input.dense_shape, xp,
                                                                "sp_input.dense_shape")))
    if validate_indices and idx.shape[0]:
        # a host read on the GPU too: an out-of-bounds scatter must never reach the device
        bad = xp.flatnonzero(xp.any((idx < 0) | (idx >= xp.asarray(shape)), axis=1))
        if bad.size:
            b = int(bad[0])
            raise IndexError(f"sparse_tensor_to_dense: indices[{b}] = "
                             f"{backend.to_numpy(idx[b]).tolist()} is out of bounds for shape "
                             f"{list(shape)}")
    dense = ops.scatter_nd(_wrap(idx), vals, shape)
    if default_value is not None and default_value != 0:
        mask = xp.ones(shape, dtype=bool)
        if idx.shape[0]:
            mask[tuple(idx.T)] = False
        dense = ops.where(_wrap(mask), ops.cast(ops.fill(shape, default_value), vals.dtype),
                          dense)
    return dense
