"""Feature-id ops of TensorFlow: ``sparse_cross``/``sparse_cross_hashed`` (crossed columns,
``FingerprintCat64`` chained from ``hash_key=0xDECAFCAFFE`` as ``spec/tf_hashing.md`` says) and
``bucketize``. Registered without gradients so that export tracing records them; crosses run on
the host (numba kernels in ``eagerflow.kernels.farmhash``), ``bucketize`` on the input's backend.

Example:
    >>> from eagerflow.ops import cross
    >>> cross.bucketize([-5.0, 5.0, 10.0, 150.0], [0.0, 10.0, 100.0]).numpy().tolist()
    [0, 1, 2, 3]
"""
import numpy as np

from .. import backend
from ..autograd.registry import register
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor
from ..kernels import farmhash
from ._host_strings import _INT64_MAX, _check_buckets, _fingerprints, _host, _out, _sparse_out

__all__ = ["sparse_cross_hashed", "sparse_cross", "bucketize"]


# --- crosses -------------------------------------------------------------------------------
def _cross_parts(arrays, kinds):
    """Per feature (row offsets into its values, values) from the op's flat inputs."""
    feats, batch, i = [], None, 0
    for k in kinds:
        if k == "s":
            ind, vals, shape = (np.asarray(a) for a in arrays[i:i + 3])
            i += 3
            b = int(shape[0])
            rows = ind[:, 0].astype(np.int64) if ind.shape[0] else np.zeros(0, np.int64)
            vals = vals.reshape(-1)
            if rows.shape[0] > 1 and np.any(np.diff(rows) < 0):
                order = np.argsort(rows, kind="stable")
                rows, vals = rows[order], vals[order]
            offs = np.searchsorted(rows, np.arange(b + 1), side="left").astype(np.int64)
        else:
            d = np.asarray(arrays[i])
            i += 1
            b, w = d.shape
            offs = np.arange(b + 1, dtype=np.int64) * w
            vals = d.reshape(-1)
        if batch is not None and b != batch:
            raise ValueError(f"sparse cross: inputs have different batch sizes ({batch} and "
                             f"{b})")
        batch = b
        feats.append((offs, vals))
    return feats, batch


def _cross_fwd(xp, *arrays, kinds, hashed, num_buckets, hash_key, separator):
    feats, batch = _cross_parts(arrays, kinds)
    offs = np.stack([f[0] for f in feats])
    counts = np.prod(np.diff(offs, axis=1), axis=0) if batch else np.zeros(0, np.int64)
    out_off = np.zeros(batch + 1, np.int64)
    np.cumsum(counts, out=out_off[1:])
    pos, rows, cols = farmhash.cross_positions(offs, out_off)
    width = int(counts.max()) if batch else 0
    if hashed:
        h = np.full(pos.shape[0], np.uint64(hash_key), np.uint64)
        for f, (_, vals) in enumerate(feats):
            v = _fingerprints(vals) if vals.dtype.kind == "O" else \
                vals.astype(np.int64).view(np.uint64)
            h = farmhash.fingerprint_cat64(h, v[pos[:, f]])
        mod = np.uint64(num_buckets) if num_buckets > 0 else _INT64_MAX
        values = _out((h % mod).astype(np.int64))
    else:
        strs = [_cross_strings(vals) for _, vals in feats]
        any_bytes = any(isinstance(v, bytes) for s in strs for v in s[:1])
        if any_bytes:
            strs = [[v if isinstance(v, bytes) else v.encode("utf-8") for v in s]
                    for s in strs]
            sep = separator.encode("utf-8")
        else:
            sep = separator
        values = np.empty(pos.shape[0], dtype=object)
        for k in range(pos.shape[0]):
            values[k] = sep.join([strs[f][p] for f, p in enumerate(pos[k].tolist())])
    return _sparse_out(rows, cols, values, batch, width)


def _cross_strings(vals):
    if vals.dtype.kind == "O":
        out = vals.tolist()
        if any(isinstance(v, bytes) for v in out) and not all(isinstance(v, bytes) for v in out):
            out = [v if isinstance(v, bytes) else v.encode("utf-8") for v in out]
        return out
    return [str(v) for v in vals.astype(np.int64).tolist()]


_cross = register("sparse_cross", _cross_fwd, multi=True)


def _cross_inputs(inputs, what):
    if isinstance(inputs, (SparseTensor, Tensor, np.ndarray)) or not len(inputs):
        raise TypeError(f"{what}: inputs must be a non-empty list of SparseTensors and/or "
                        "Tensors")
    sparse, dense = [], []
    for i, x in enumerate(inputs):
        name = f"inputs[{i}]"
        if isinstance(x, SparseTensor):
            ind = _host(x.indices, f"{name}.indices", "iu")
            vals = _host(x.values, f"{name}.values", "Oiu")
            shape = _host(x.dense_shape, f"{name}.dense_shape", "iu")
            if tuple(shape.shape) != (2,) or len(ind.shape) != 2 or ind.shape[1] != 2:
                raise ValueError(f"{what}: {name} must be a 2-D SparseTensor, got dense_shape "
                                 f"of shape {tuple(shape.shape)}")
            sparse.append((ind, vals, shape))
        else:
            d = _host(x, name, "Oiu")
            if len(d.shape) != 2:
                raise ValueError(f"{what}: {name} must be a 2-D tensor (batch, n), got shape "
                                 f"{tuple(d.shape)}")
            dense.append(d)
    # TF's op takes all sparse inputs first, then the dense ones
    arrays = [a for t in sparse for a in t] + dense
    kinds = ("s",) * len(sparse) + ("d",) * len(dense)
    return arrays, kinds


def sparse_cross_hashed(inputs, num_buckets=0, hash_key=None, name=None):
    """Hashed feature crosses of sparse and dense 2-D inputs (``tf.sparse.cross_hashed``).

    For each row, every combination of one value per input (row-major order, the last
    input fastest; SparseTensors come before dense tensors, as in TF) is hashed with
    ``h = hash_key; h = FingerprintCat64(h, f(v))`` per value, where ``f`` is Fingerprint64
    for strings and the raw int64 (as uint64) for integers. A row where an input is empty
    gives no output.

    Args:
        inputs: list of SparseTensor ``(batch, n)`` and/or Tensor ``(batch, n)``, string or
            integer.
        num_buckets: ids are ``h % num_buckets`` (0: ``h % (2**63 - 1)``).
        hash_key: the chain's start (default 0xDECAFCAFFE).

    Returns:
        SparseTensor of int64 ids, dense_shape ``[batch, max crosses per row]``.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.constant([["A"], ["B"], ["A"], ["B"], ["A"]])
        >>> b = ef.constant([[101], [101], [101], [102], [102]])
        >>> sparse_cross_hashed([a, b], 5).values.numpy().tolist()
        [1, 4, 1, 1, 3]
    """
    n = _check_buckets(num_buckets, minimum=0)
    key = farmhash.DEFAULT_CROSS_HASH_KEY if hash_key is None else int(hash_key)
    if not 0 <= key < (1 << 64):
        raise ValueError(f"sparse_cross_hashed: hash_key must be in [0, 2**64), got {key}")
    arrays, kinds = _cross_inputs(inputs, "sparse_cross_hashed")
    idx, vals, shape = _cross(*arrays, kinds=kinds, hashed=True, num_buckets=n,
                              hash_key=key, separator="")
    return SparseTensor(idx, vals, shape)


def sparse_cross(inputs, name=None, separator=None):
    """String feature crosses (``tf.sparse.cross``): values joined by ``separator``.

    Integers are written as decimal strings. Order and shapes as
    :func:`sparse_cross_hashed`.

    Example:
        >>> import eagerflow as ef
        >>> sp = sparse_cross([ef.constant([["a"], ["b"]]), ef.constant([["x"], ["y"]])])
        >>> sp.values.numpy().tolist()
        [b'a_X_x', b'b_X_y']
    """
    sep = "_X_" if separator is None else separator
    if not isinstance(sep, str):
        raise TypeError(f"sparse_cross: separator must be a string, got {separator!r}")
    arrays, kinds = _cross_inputs(inputs, "sparse_cross")
    idx, vals, shape = _cross(*arrays, kinds=kinds, hashed=False, num_buckets=0, hash_key=0,
                              separator=sep)
    return SparseTensor(idx, vals, shape)


# --- bucketize -------------------------------------------------------------------------------
def _bucketize_fwd(xp, x, boundaries):
    b = xp.asarray(np.asarray(boundaries, np.float32))
    v = x if x.dtype.kind == "f" else x.astype(np.float32)
    if v.dtype != np.float32 and v.dtype != np.float64:
        v = v.astype(np.float32)
    out = xp.searchsorted(b.astype(v.dtype), v.reshape(-1), side="right").astype(np.int32)
    out = xp.where(xp.isnan(v.reshape(-1)), np.int32(len(boundaries)), out)
    return out.reshape(x.shape)


_bucketize = register("bucketize", _bucketize_fwd)


def bucketize(input, boundaries, name=None):
    """Bucket index of each value (TensorFlow's ``Bucketize`` op; not differentiable).

    ``bucket(x)`` is the number of boundaries ``<= x``: buckets ``(-inf, b0), [b0, b1),
    ..., [b_last, inf)``; a value equal to a boundary goes up, NaN goes to the last
    bucket. Boundaries are float32 as in TF's op attribute. Runs on the input's backend.

    Args:
        input: numeric tensor of any shape.
        boundaries: sorted list of floats.

    Returns:
        int32 Tensor of the input's shape.

    Raises:
        ValueError: boundaries that are not sorted.
        TypeError: a string or bool input.

    Example:
        >>> bucketize([-5.0, 5.0, 10.0, 150.0], [0.0, 10.0, 100.0]).numpy().tolist()
        [0, 1, 2, 3]
    """
    try:
        b = tuple(float(v) for v in np.asarray(boundaries, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError):
        raise TypeError(f"bucketize: boundaries must be a list of numbers, got "
                        f"{boundaries!r}") from None
    if any(np.isnan(b)) or any(b[i] > b[i + 1] for i in range(len(b) - 1)):
        raise ValueError(f"bucketize: boundaries must be sorted, got {list(b)}")
    x = input
    if not isinstance(x, Tensor) and not backend.is_array(x):
        x = backend.asarray(x) if np.asarray(x).dtype.kind in "iuf" else np.asarray(x)
    dt = x.dtype
    if dt.kind not in "iuf":
        raise TypeError(f"bucketize: input must be a numeric tensor, got dtype {dt}")
    return _bucketize(x, boundaries=b)
