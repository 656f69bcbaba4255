"""``tf.nn.safe_embedding_lookup_sparse``: the lookup feature columns use.

Invalid ids (< 0) and, with weights and a ``'mean'`` or ``'sqrtn'`` combiner, entries of
weight <= 0 are dropped (``'sum'`` keeps them, as TF does); a row left with no entries gets
the embedding of ``default_id`` (or zeros). Ids of any SparseTensor rank
are combined along the last dimension.

Dropping entries would change the number of ids, which on the GPU means reading a size back
from the device. Instead an invalid entry keeps its place with weight 0 and id 0: it adds
nothing to the sum, the weight sum or the sum of squares, so every combiner gives what the
pruned lookup gives. In the ``IndexedSlices`` gradient of one table (no ``max_norm``) its
row index is ``INDEX_PAD``, which optimizers skip, so no row's optimizer state moves for it.
Sharded tables and ``max_norm`` look rows up one by one, where a kept entry would give row 0
a zero gradient row that a sparse optimizer applies: there invalid entries are dropped, as
TF drops them (a size read on the GPU). It is all eagerflow ops, so an exported model
replays it for any batch.
"""
import numpy as np

from .. import backend, ops
from ..autograd.registry import get as _get_op
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from .embedding import _as_tensor, _on, embedding_lookup, embedding_lookup_sparse

__all__ = ["safe_embedding_lookup_sparse"]

_segment_sum = _get_op("unsorted_segment_sum")


def _host_shape(ds):
    ds = ds._data if isinstance(ds, Tensor) else ds
    if not isinstance(ds, (np.ndarray, list, tuple)):
        ds = backend.to_numpy(ds)
    return tuple(int(d) for d in np.asarray(ds).reshape(-1))


def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None,
                                 combiner="mean", default_id=None, name=None,
                                 partition_strategy="div", max_norm=None):
    """Looks up and combines embeddings, ignoring invalid ids and filling empty rows.

    Args:
        embedding_weights: a table ``(vocab, *dim)`` or a list of shards.
        sparse_ids: SparseTensor of int ids with dense shape ``(d_0, ..., d_n)``, indices in
            canonical row-major order.
        sparse_weights: SparseTensor of float weights with the same indices, or None.
        combiner: ``'sum'``, ``'mean'`` (the default) or ``'sqrtn'``.
        default_id: the id whose embedding fills a row with no valid entries; None gives
            zeros.
        partition_strategy: how sharded tables split the ids (``'div'`` by default, as
            TF1's safe lookup).
        max_norm: if set, embeddings are clipped to this l2 norm before combining.

    Returns:
        Tensor of shape ``(d_0, ..., d_{n-1}, *dim)``. The gradient w.r.t. the table is
        ``IndexedSlices``.

    Raises:
        TypeError: sparse_ids not a SparseTensor. IndexError: an id >= vocab.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> table = ef.constant([[1.0, 1.0], [3.0, 5.0]])
        >>> sp = ef.SparseTensor([[0, 0], [0, 1], [2, 0]], ef.constant([1, -1, 0]), [3, 2])
        >>> nn.safe_embedding_lookup_sparse(table, sp, default_id=0).numpy().tolist()
        [[3.0, 5.0], [1.0, 1.0], [1.0, 1.0]]
    """
    if not isinstance(sparse_ids, SparseTensor):
        raise TypeError(f"safe_embedding_lookup_sparse: sparse_ids must be a SparseTensor, "
                        f"got {type(sparse_ids).__name__}")
    sharded = isinstance(embedding_weights, (list, tuple))
    if sharded and not embedding_weights:
        raise ValueError("safe_embedding_lookup_sparse: embedding_weights must not be empty")
    table = _as_tensor(embedding_weights[0] if sharded else embedding_weights,
                       "embedding_weights")
    xp = backend.array_module(table._data)
    shape = _host_shape(sparse_ids.dense_shape)
    if len(shape) < 2:
        raise ValueError(f"safe_embedding_lookup_sparse: sparse_ids must have rank >= 2, got "
                         f"dense shape {list(shape)}")
    # all of it in eagerflow ops, so an exported graph replays it for any batch
    idx = _on(sparse_ids.indices, xp, "sparse_ids.indices")
    ids = _on(sparse_ids.values, xp, "sparse_ids.values")
    batch = int(np.prod(shape[:-1]))
    if len(shape) > 2:
        # rows of the leading dims, row-major, keep the canonical order
        strides = np.cumprod((1,) + shape[-2:0:-1])[::-1].astype(np.int64)
        rows = ops.reduce_sum(idx[:, :-1] * _wrap(xp.asarray(strides)), axis=1)
    else:
        rows = idx[:, 0]
    flat_idx = ops.stack([rows, idx[:, -1]], axis=1)
    valid = ops.greater_equal(ids, 0)
    if sparse_weights is not None:
        if not isinstance(sparse_weights, SparseTensor):
            raise TypeError("safe_embedding_lookup_sparse: sparse_weights must be a "
                            f"SparseTensor or None, got {type(sparse_weights).__name__}")
        w = _as_tensor(sparse_weights.values, "sparse_weights.values")
        if w.dtype != table.dtype:
            w = ops.cast(w, table.dtype)
        if combiner != "sum":  # TF prunes weights <= 0 only for 'mean' and 'sqrtn'
            valid = ops.logical_and(valid, ops.greater(w, 0.0))
        weights = ops.where(valid, w, ops.zeros_like(w))
    else:
        weights = ops.cast(valid, table.dtype)
    dense = np.asarray([batch, shape[-1]], np.int64)
    if (sharded and len(embedding_weights) > 1) or max_norm is not None:
        flat_idx, ids, weights = (ops.boolean_mask(t, valid) for t in (flat_idx, ids, weights))
        out = embedding_lookup_sparse(
            embedding_weights, SparseTensor(flat_idx, ids, dense),
            SparseTensor(flat_idx, weights, dense), partition_strategy, combiner=combiner,
            max_norm=max_norm)
    else:
        safe_ids = ops.where(valid, ids, ops.zeros_like(ids))
        out = embedding_lookup_sparse(
            embedding_weights, SparseTensor(flat_idx, safe_ids, dense),
            SparseTensor(flat_idx, weights, dense), partition_strategy, combiner=combiner,
            max_norm=max_norm, _pad_zero_weights=True)
    if default_id is not None:
        # the registered op itself: ops.unsorted_segment_sum hands the op the raw ids array,
        # which a trace would freeze as a constant
        counts = _segment_sum(ops.cast(valid, table.dtype), rows, num_segments=batch)
        empty = ops.cast(ops.equal(counts, ops.zeros_like(counts)), table.dtype)
        fill = embedding_lookup(embedding_weights, _wrap(xp.asarray([int(default_id)])),
                                partition_strategy, max_norm=max_norm)
        out = out + ops.reshape(empty, (batch,) + (1,) * (out.ndim - 1)) * fill
    return ops.reshape(out, tuple(shape[:-1]) + tuple(out.shape[1:]))
