"""Dense categorical ids in one pass: a raw integer feature ``(batch, n)`` to the ids an
identity column looks up, with ``-1`` marking a missing entry.

TF turns a dense categorical feature into a SparseTensor first (dropping the ignore value
``-1``) and then checks the ids; every step of that has a data-dependent size, which on the
GPU means reading counts back from the device several times per column and step. Here the
shape stays ``(batch, n)``: missing entries keep their place as ``-1`` and the embedding
lookup gives them weight 0, which is what dropping them gives for every combiner.

- CPU twin: NumPy; an out-of-range id raises at once, naming the column and the id.
- GPU twin: one ElementwiseKernel; an out-of-range id is treated as missing and recorded in
  the device error flag (:func:`eagerflow.kernels.check_errors` raises it at the next
  sync point); nothing synchronises.
"""
import numpy as np

from eagerflow import backend
from eagerflow.backend import _cupy

from . import _cuda, device_errors

__all__ = ["identity_ids", "dense_bags"]


def identity_ids(values, num_buckets, default=None, ignore=-1, key="?"):
    """int64 ids of a dense integer feature for ``categorical_column_with_identity``.

    Args:
        values: integer array of any shape (NumPy or CuPy).
        num_buckets: ids must be in ``[0, num_buckets)``.
        default: the id of out-of-range values; None makes them an error.
        ignore: the value that marks a missing entry (TF's -1); it becomes -1.
        key: the column's name, for the error message.

    Returns:
        int64 array of ``values``' shape on ``values``' backend.

    Raises:
        ValueError: on the CPU, an out-of-range id without ``default`` (on the GPU via
            ``check_errors``).

    Example:
        >>> import numpy as np
        >>> identity_ids(np.array([[3, -1], [7, 0]]), 5, default=4).tolist()
        [[3, -1], [4, 0]]
    """
    if values.dtype.kind not in "iu":
        raise TypeError(f"identity_ids: values must be integers, got {values.dtype}")
    if backend.array_module(values) is np:
        return _identity_ids_cpu(values, int(num_buckets), default, int(ignore), key)
    cp = _cupy.load()
    out = cp.empty(values.shape, dtype=np.int64)
    if out.size:
        _gpu_kernel()(values, np.int64(num_buckets), np.int64(-1 if default is None else default),
                      np.int64(ignore), device_errors.error_flag(), out)
    return out


def _identity_ids_cpu(values, num_buckets, default, ignore, key):
    v = values.astype(np.int64, copy=False)
    missing = v == ignore
    bad = ~missing & ((v < 0) | (v >= num_buckets))
    if bad.any():
        if default is None:
            pos = int(np.flatnonzero(bad.reshape(-1))[0])
            raise device_errors.error_for(
                device_errors.ID_OUT_OF_RANGE, int(v.reshape(-1)[pos]), num_buckets,
                device_errors.position(pos, v.shape), name=key)
        v = np.where(bad, np.int64(default), v)
    return np.where(missing, np.int64(-1), v)


def dense_bags(ids, dtype):
    """The embedding-bag arguments of dense ids ``(batch, n)`` (-1 = missing): one bag of
    ``n`` entries per row.

    Returns:
        ``(safe_ids, offsets, weights)``, flat: ids with missing ones as 0, bag offsets
        ``0, n, 2n, ...`` and weights 1 (valid) / 0 (missing) of ``dtype``. One kernel on
        the GPU; the offsets of a shape are made once and reused.

    Example:
        >>> import numpy as np
        >>> [a.tolist() for a in dense_bags(np.array([[2, -1]]), np.float32)]
        [[2, 0], [0, 2], [1.0, 0.0]]
    """
    b, n = ids.shape
    flat = ids.reshape(-1)
    offsets = _offsets(backend.array_module(ids), b, n)
    if backend.array_module(ids) is np:
        valid = flat >= 0
        return np.where(valid, flat, 0), offsets, valid.astype(dtype)
    cp = _cupy.load()
    flat = flat.astype(np.int64, copy=False)
    safe, w = cp.empty_like(flat), cp.empty(flat.shape, dtype=dtype)
    if flat.size:
        _cuda.elementwise("int64 x", "int64 safe, T w",
                          "const bool ok = x >= 0; safe = ok ? x : 0; w = ok ? (T)1 : (T)0",
                          "ef_dense_bags")(flat, safe, w)
    return safe, offsets, w


_offsets_cache = {}


def _offsets(xp, b, n):
    if xp is np:
        return np.arange(b + 1, dtype=np.int64) * n
    if len(_offsets_cache) > 64:  # eval batches of every size must not grow it
        _offsets_cache.clear()
    return _cuda.cached_array(_offsets_cache, (xp.cuda.Device().id, b, n),
                              lambda: xp.arange(b + 1, dtype=np.int64) * n)


def _gpu_kernel():
    return _cuda.elementwise(
        "T x, int64 nb, int64 dflt, int64 ign, raw uint64 err", "int64 y",
        """
        const long long v = (long long)x;
        if (v == ign) {
            y = -1;
        } else if (v < 0 || v >= nb) {
            if (dflt < 0) {
                // code 5: ID_OUT_OF_RANGE
                ef_report((unsigned long long*)&err[0], 5ULL, v, nb, (long long)i);
                y = -1;
            } else {
                y = dflt;
            }
        } else {
            y = v;
        }""", "ef_identity_ids", preamble=device_errors.REPORT_SRC)
