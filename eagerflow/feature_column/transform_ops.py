"""The feature columns' id transformations as registered ops, so that an exported model
turns raw features into ids itself: dense -> sparse, identity and vocabulary ids, pruning,
bucket ids and indicator counts. Integer outputs live on the current
backend; strings stay host object arrays."""
import numpy as np

from .. import backend, ops
from ..autograd.registry import defvjp, get, register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..kernels import categorical_ids as _kc
from ..kernels import embedding_bag as _kb
from ..kernels import farmhash, scatter_add, unsorted_segment_reduce
from ..kernels.range_check import check_in_range

__all__ = ["to_sparse", "identity_ids", "vocab_ids", "prune", "bucket_sparse", "indicator",
           "seq_ids3d", "seq_flatten", "seq_unflatten", "seq_length", "seq_dense", "bag_offsets",
           "sparse_components", "identity_dense_ids", "bucket_dense_ids", "dense_lookup",
           "dense_int_feature"]


def _host(a):
    a = backend.to_numpy(a) if backend.is_array(a) else np.asarray(a)
    return a.astype(object) if a.dtype.kind in "US" else a


def _dev(a):
    a = np.asarray(a)
    return a if a.dtype.kind == "O" else backend.asarray(a)


def _to_sparse_fwd(xp, x, ignore):
    a = _host(x)
    if a.ndim == 0:
        raise ValueError(f"Feature (key) cannot have rank 0. Given: {a!r}")
    if a.ndim == 1:
        a = a[:, None]
    if a.dtype.kind == "O":
        bad = {ignore, ignore.encode()} if isinstance(ignore, str) else {ignore}
        keep = np.fromiter((v not in bad for v in a.reshape(-1)), dtype=bool,
                           count=a.size).reshape(a.shape)
    else:
        keep = a != ignore
    idx = np.argwhere(keep).astype(np.int64)
    return _dev(idx), _dev(a[keep]), _dev(np.asarray(a.shape, np.int64))


_to_sparse = register("fc_to_sparse", _to_sparse_fwd, multi=True)


def _t(a):
    if isinstance(a, Tensor):
        return a
    return _wrap(_dev(_host(a)))


def sparse_components(sp):
    """A SparseTensor whose components are Tensors (NumPy components are wrapped)."""
    return SparseTensor(_t(sp.indices), _t(sp.values), _t(sp.dense_shape))


def to_sparse(x, ignore_value=None):
    """A SparseTensor of Tensors for a raw categorical feature, dropping the ignore value of
    dense inputs (``''`` for strings, -1 for integers; TF's rule)."""
    if isinstance(x, SparseTensor):
        return sparse_components(x)
    t = x if isinstance(x, Tensor) else _wrap(_dev(_host(x)))
    if ignore_value is None:
        ignore_value = "" if t.dtype.kind == "O" else -1
    return SparseTensor(*_to_sparse(t, ignore=ignore_value))


def _escape(text):
    """``text`` with its braces doubled, for a message that goes through str.format."""
    return str(text).replace("{", "{{").replace("}", "}}")


def _identity_fwd(xp, values, num_buckets, default, key):
    # Not the dense-id kernel (categorical_ids.identity_ids): it treats -1 as a missing
    # entry, while in a SparseTensor -1 is an out-of-range id (TF's rule: an error, or
    # default_value). The check stays on the device: check_in_range raises at once on the
    # CPU and records the violation in the device error flag on the GPU (no sync per step).
    v = xp.asarray(values).astype(np.int64)
    bad = (v < 0) | (v >= num_buckets)
    if default is None:
        check_in_range(v, 0, num_buckets - 1,
                       f"categorical_column_with_identity {_escape(key)}: ids range over "
                       f"[{{lo}}, {{hi}}], not all in [0, {num_buckets}); give default_value "
                       "to map out-of-range ids to a bucket")
        # the GPU goes on until check_errors raises: a bad id is missing there (-1, which
        # the lookup and the indicator drop) rather than an index out of range
        return xp.where(bad, -1, v)
    return xp.where(bad, default, v)


identity_ids = register("fc_identity_ids", _identity_fwd)


def _norm(v):
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)


def _vocab_fwd(xp, values, vocab, default, num_oov, strings):
    vals = _host(values).reshape(-1)
    table = {(_norm(v) if strings else int(v)): i for i, v in enumerate(vocab)}
    if vals.size == 0:
        return _dev(np.zeros(0, np.int64))
    uniq, inv = np.unique(vals.astype(object) if strings else vals, return_inverse=True)
    keys = [_norm(u) if strings else int(u) for u in uniq.tolist()]
    ids = np.array([table.get(k, -2) for k in keys], dtype=np.int64)
    oov = ids == -2
    if oov.any():
        if num_oov:
            strs = np.array([k if isinstance(k, str) else str(k) for k in keys], dtype=object)
            ids[oov] = len(table) + (farmhash.fingerprint64_strings(strs[oov]) %
                                     np.uint64(num_oov)).astype(np.int64)
        else:
            ids[oov] = default
    return _dev(ids[inv.reshape(-1)])


vocab_ids = register("fc_vocab_ids", _vocab_fwd)


def _prune_fwd(xp, indices, ids, weights=None, prune_weights=True):
    keep = ids >= 0
    if weights is not None and prune_weights:
        keep = keep & (weights > 0)
    out = (indices[keep], ids[keep])
    return out + ((weights[keep],) if weights is not None else ())


_prune = register("fc_prune", _prune_fwd, multi=True)


def prune(ids, weights=None, combiner="mean"):
    """Drops ids < 0 (and, unless ``combiner`` is ``'sum'``, weights <= 0): TF's safe
    embedding lookup, which keeps zero and negative weights in a weighted sum."""
    ids = sparse_components(ids)
    if weights is None:
        ind, vals = _prune(ids.indices, ids.values)
        return SparseTensor(ind, vals, ids.dense_shape), None
    weights = sparse_components(weights)
    ind, vals, w = _prune(ids.indices, ids.values, weights.values,
                          prune_weights=combiner != "sum")
    return SparseTensor(ind, vals, ids.dense_shape), SparseTensor(ind, w, ids.dense_shape)


def _bucket_dense_fwd(xp, ids, width):
    ids = ids.reshape(ids.shape[0], int(np.prod(ids.shape[1:]))).astype(np.int64)
    return ids + xp.arange(ids.shape[1], dtype=np.int64) * width


# bucketized ids (batch, n) as ids ``bucket + i * width`` (bucket_sparse's values, dense)
bucket_dense_ids = register("fc_bucket_dense_ids", _bucket_dense_fwd)


def _bucket_sparse_fwd(xp, ids, width):
    b = ids.shape[0]
    dense = _bucket_dense_fwd(xp, ids, width)
    n = dense.shape[1]
    vals = dense.reshape(-1)
    rows = xp.repeat(xp.arange(b, dtype=np.int64), n)
    cols = xp.tile(xp.arange(n, dtype=np.int64), b)
    return xp.stack([rows, cols], axis=1), vals, xp.asarray(np.array([b, n], np.int64))


_bucket_sparse = register("fc_bucket_sparse", _bucket_sparse_fwd, multi=True)


def bucket_sparse(bucket_ids, width):
    """Bucketized ids ``(batch, n)`` as a SparseTensor with ids ``bucket + i * width``."""
    return SparseTensor(*_bucket_sparse(bucket_ids, width=int(width)))


def _indicator_fwd(xp, indices, ids, dense_shape, weights=None, num_buckets=0):
    batch = int(backend.to_numpy(dense_shape)[0])
    out = xp.zeros((batch, num_buckets), np.float32)
    keep = ids >= 0
    w = xp.ones(ids.shape, np.float32) if weights is None else weights.astype(np.float32)
    flat = indices[:, 0][keep] * num_buckets + ids[keep]
    scatter_add(out.reshape(-1), flat, w[keep])
    return out


indicator = register("fc_indicator", _indicator_fwd)


# --- dense ids: (batch, n) int64, -1 where an entry is missing --------------------------
# A dense integer feature keeps its shape through the id transform and the lookup (no
# SparseTensor, so no size read back from the GPU): a missing entry keeps its place with
# weight 0, which adds nothing to a bag's sum, weight sum or sum of squares, and its
# gradient row carries INDEX_PAD, so no optimizer touches a row for it.
def dense_int_feature(x):
    """A raw feature as a Tensor when it is a dense integer tensor of rank 1 or 2 (the
    shapes the dense-id path takes), else None."""
    if isinstance(x, SparseTensor):
        return None
    a = x._data if isinstance(x, Tensor) else x if backend.is_array(x) else np.asarray(x)
    if a.dtype.kind not in "iu" or a.ndim not in (1, 2):
        return None
    return x if isinstance(x, Tensor) else _wrap(backend.asarray(a))


def _identity_dense_fwd(xp, x, num_buckets, default, key):
    return _kc.identity_ids(x if x.ndim == 2 else x[:, None], num_buckets, default, key=key)


identity_dense_ids = register("fc_identity_dense_ids", _identity_dense_fwd)


# the bag arguments of dense ids (safe ids, offsets, 0/1 weights); no gradient
_dense_bags = register("fc_dense_bags",
                       lambda xp, ids, dtype: _kc.dense_bags(ids, np.dtype(dtype)), multi=True)


def dense_lookup(table, ids, combiner="mean"):
    """TF's safe embedding lookup over dense ids ``(batch, n)`` (``-1`` = missing): each row
    combines its valid entries' rows of ``table``; a row without any gives zeros. The
    gradient w.r.t. ``table`` is ``IndexedSlices`` whose missing entries are padding (the
    embedding bag's ``pad_zero_weights``, as in ``nn.safe_embedding_lookup_sparse``)."""
    safe, offsets, w = _dense_bags(ids, dtype=table.dtype.name)
    return get("embedding_bag")(table, safe, offsets, w, combiner=combiner,
                                pad_zero_weights=True)


# --- sequence columns -------------------------------------------------------------------
# Every size that depends on the sequence length is read from a dense_shape tensor inside
# an op (never passed as an attribute), so an exported graph serves any batch and length.
def _shape(dense_shape):
    return [int(d) for d in backend.to_numpy(dense_shape).reshape(-1)]


def _seq_ids3d_fwd(xp, indices, dense_shape, key="?"):
    shp = _shape(dense_shape)
    if len(shp) < 2:
        raise ValueError(f"sequence categorical column {key}: the feature must have rank >= 2 "
                         f"([batch, time, ...]); got dense_shape {shp}")
    ind = indices.astype(np.int64).reshape(-1, len(shp))
    if len(shp) == 2:
        ind = xp.concatenate([ind, xp.zeros((ind.shape[0], 1), np.int64)], axis=1)
        return ind, xp.asarray(np.array(shp + [1], np.int64))
    inner = shp[2:]  # merged into one: the row-major position within the trailing dims
    ind = xp.stack([ind[:, 0], ind[:, 1], _flat_positions(ind[:, 2:], inner)], axis=1)
    return ind, xp.asarray(np.array(shp[:2] + [int(np.prod(inner))], np.int64))


_seq_ids3d = register("fc_seq_ids3d", _seq_ids3d_fwd, multi=True)


def seq_ids3d(sp, key="?"):
    """A sequence SparseTensor as ``[batch, time, k]`` (TF's sequence columns' id shape):
    rank 2 gets a third dimension of 1, trailing dimensions are merged. ``key``: the
    column's name, for the error of a rank < 2 feature."""
    sp = sparse_components(sp)
    ind, shape = _seq_ids3d(sp.indices, sp.dense_shape, key=key)
    return SparseTensor(ind, sp.values, shape)


def _seq_flatten_fwd(xp, indices, dense_shape):
    b, t, k = _shape(dense_shape)
    rows = indices[:, 0] * t + indices[:, 1]
    return (xp.stack([rows, indices[:, 2]], axis=1),
            xp.asarray(np.array([b * t, k], np.int64)))


_seq_flatten = register("fc_seq_flatten", _seq_flatten_fwd, multi=True)


def seq_flatten(sp):
    """``[batch, time, k]`` -> ``[batch * time, k]``: one row (bag) per time step."""
    ind, shape = _seq_flatten(sp.indices, sp.dense_shape)
    return SparseTensor(ind, sp.values, shape)


def _seq_unflatten_fwd(xp, x, dense_shape):
    b, t = _shape(dense_shape)[:2]
    return x.reshape((b, t) + tuple(x.shape[1:]))


def _seq_unflatten_vjp(g, ans, x, dense_shape):
    return ops.reshape(g, tuple(x.shape))


# [batch * time, ...] -> [batch, time, ...], the time read from dense_shape
seq_unflatten = register("fc_seq_unflatten", _seq_unflatten_fwd)
defvjp(seq_unflatten, _seq_unflatten_vjp, None)


def _bag_offsets_fwd(xp, indices, dense_shape):
    return _kb.bag_offsets(indices[:, 0], _shape(dense_shape)[0])


# the bag boundaries of a SparseTensor, the number of bags read from its dense_shape inside
# the op. nn's embedding_bag_offsets takes num_bags as an attribute instead, which an
# exported graph can only scale with the batch: a sequence lookup has batch * time bags.
bag_offsets = register("fc_bag_offsets", _bag_offsets_fwd)


def _seq_length_fwd(xp, indices, dense_shape, num_elements=1):
    # one host read of dense_shape: the batch size is the shape of the output
    shp = _shape(dense_shape)
    ind = indices.astype(np.int64).reshape(-1, len(shp))
    # on the device, in any index order: the largest (time index + 1) of each example; an
    # example without entries keeps the dtype's lowest value, clipped to 0
    last = unsorted_segment_reduce(ind[:, 1] + 1, ind[:, 0], shp[0], "max")
    return -(-xp.maximum(last, 0) // int(num_elements))  # ceil


# per-example sequence length: 1 + the largest time index of its entries, ceil-divided by
# num_elements (TF's sequence_length_from_sparse_tensor); 0 for an empty row
seq_length = register("fc_seq_length", _seq_length_fwd)


def _seq_dense_fwd(xp, indices, values, dense_shape, default, shape, key):
    shp = _shape(dense_shape)
    n = int(np.prod(shape))
    b, per = shp[0], int(np.prod(shp[1:]))
    if len(shp) == 2 and per % n:
        raise ValueError(f"sequence_numeric_column {key}: each step holds {n} values (shape "
                         f"{tuple(shape)}), but an example has {per} value slots "
                         f"(dense_shape {shp}), not a multiple of {n}")
    if len(shp) > 2 and int(np.prod(shp[2:])) != n:
        raise ValueError(f"sequence_numeric_column {key}: the feature's step dimensions "
                         f"{shp[2:]} do not hold shape {tuple(shape)} (dense_shape {shp})")
    dt = values.dtype if values.dtype.kind == "f" else np.dtype(np.float32)
    out = xp.full(b * per, default, dt)
    out[_flat_positions(indices, shp)] = values.astype(dt)
    return out.reshape((b, per // n) + tuple(shape))


def _flat_positions(indices, shp):
    ind = indices.astype(np.int64).reshape(-1, len(shp))
    flat = ind[:, 0]
    for j, d in enumerate(shp[1:]):
        flat = flat * d + ind[:, 1 + j]
    return flat


def _seq_dense_grad_fwd(xp, g, indices, dense_shape):
    return g.reshape(-1)[_flat_positions(indices, _shape(dense_shape))]


_seq_dense_grad = register("fc_seq_dense_grad", _seq_dense_grad_fwd)
seq_dense = register("fc_seq_dense", _seq_dense_fwd)
defvjp(seq_dense, None, lambda g, ans, indices, values, dense_shape, **kw:
       _seq_dense_grad(g, indices, dense_shape), None)
