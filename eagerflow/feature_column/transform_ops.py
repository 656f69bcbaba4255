"""The feature columns' id transformations as registered ops, so that an exported model
turns raw features into ids itself: dense -> sparse, identity and vocabulary ids, pruning,
bucket ids and indicator counts. Integer outputs live on the current
backend; strings stay host object arrays."""
import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..kernels import farmhash, scatter_add

__all__ = ["to_sparse", "identity_ids", "vocab_ids", "prune", "bucket_sparse", "indicator",
           "sparse_components"]


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


def _identity_fwd(xp, values, num_buckets, default, key):
    v = xp.asarray(values).astype(np.int64)
    bad = (v < 0) | (v >= num_buckets)
    if default is None:
        if bool(bad.any()):
            first = int(backend.to_numpy(v[bad])[0])
            raise ValueError(f"categorical_column_with_identity {key}: id {first} is not in "
                             f"[0, {num_buckets}); give default_value to map out-of-range ids "
                             "to a bucket")
        return v
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


def _prune_fwd(xp, indices, ids, weights=None):
    keep = ids >= 0
    if weights is not None:
        keep = keep & (weights > 0)
    out = (indices[keep], ids[keep])
    return out + ((weights[keep],) if weights is not None else ())


_prune = register("fc_prune", _prune_fwd, multi=True)


def prune(ids, weights=None):
    """Drops ids < 0 (and weights <= 0): TF's safe embedding lookup."""
    ids = sparse_components(ids)
    if weights is None:
        ind, vals = _prune(ids.indices, ids.values)
        return SparseTensor(ind, vals, ids.dense_shape), None
    weights = sparse_components(weights)
    ind, vals, w = _prune(ids.indices, ids.values, weights.values)
    return SparseTensor(ind, vals, ids.dense_shape), SparseTensor(ind, w, ids.dense_shape)


def _bucket_sparse_fwd(xp, ids, width):
    b = ids.shape[0]
    ids = ids.reshape(b, -1).astype(np.int64)
    n = ids.shape[1]
    vals = (ids + xp.arange(n, dtype=np.int64) * width).reshape(-1)
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
