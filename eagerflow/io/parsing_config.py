"""Feature configurations for :func:`parse_example` (``tf.io.FixedLenFeature`` etc.).

Example:
    >>> spec = {"x": FixedLenFeature([2], "float32", default_value=[0.0, 0.0]),
    ...         "tags": VarLenFeature("string")}
    >>> spec["x"].shape
    (2,)
"""
import collections

import numpy as np

from eagerflow.backend import dtypes as _dtypes

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "SparseFeature",
           "normalize_dtype", "KIND_OF_DTYPE"]

_ALLOWED = {np.dtype(np.float32): "float", np.dtype(np.int64): "int64",
            np.dtype(object): "string"}
KIND_OF_DTYPE = {np.dtype(np.float32): 2, np.dtype(np.int64): 3, np.dtype(object): 1}


def normalize_dtype(dtype, where="dtype"):
    """float32, int64 or object (string) as a numpy dtype; anything else -> ValueError."""
    try:
        dt = _dtypes.as_dtype(dtype)
    except TypeError:
        dt = None
    if dt is not None and dt.kind in "SU":
        dt = np.dtype(object)
    if dt not in _ALLOWED:
        raise ValueError(f"{where}: unsupported dtype {dtype!r}; Example features support "
                         "float32, int64 and string")
    return dt


def _shape(shape, where):
    if shape is None:
        raise ValueError(f"{where}: shape must be given (use [] for a scalar)")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(d) if d is not None else -1 for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"{where}: shape {shape} must be fully defined")
    return shape


def _default(value, dtype, shape, where, scalar_only=False):
    if value is None:
        return None
    arr = np.asarray(value, dtype=object if dtype.kind == "O" else dtype)
    if dtype.kind == "O":
        arr = np.vectorize(lambda v: v.encode() if isinstance(v, str) else v,
                           otypes=[object])(arr) if arr.size else arr
    if scalar_only:
        if arr.size != 1:
            raise ValueError(f"{where}: default_value must be a scalar, got shape {arr.shape}")
        return arr.reshape(())
    n = int(np.prod(shape, dtype=np.int64))
    if arr.size != n:
        raise ValueError(f"{where}: default_value has {arr.size} values but shape {list(shape)} "
                         f"needs {n}")
    return arr.reshape(shape)


class FixedLenFeature(collections.namedtuple("FixedLenFeature",
                                             ["shape", "dtype", "default_value"])):
    """A fixed-size dense feature: output ``(batch,) + shape``.

    Args:
        shape: the per-example shape (``[]`` for a scalar).
        dtype: float32, int64 or string.
        default_value: used when the key is absent; must hold ``prod(shape)`` values.
    """

    def __new__(cls, shape, dtype, default_value=None):
        where = "FixedLenFeature"
        dt = normalize_dtype(dtype, where)
        shp = _shape(shape, where)
        return super().__new__(cls, shp, dt, _default(default_value, dt, shp, where))


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A variable-length feature, parsed to a ``SparseTensor`` (batch, max_count).

    Args:
        dtype: float32, int64 or string.
    """

    def __new__(cls, dtype):
        return super().__new__(cls, normalize_dtype(dtype, "VarLenFeature"))


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """A sequence of fixed-shape items: output ``(batch, max_len) + shape``, right-padded.

    Args:
        shape: the shape of one item.
        dtype: float32, int64 or string.
        allow_missing: must be True in :func:`parse_example`; an absent key gives length 0.
        default_value: the scalar used for padding (0 or b"").
    """

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        where = "FixedLenSequenceFeature"
        dt = normalize_dtype(dtype, where)
        shp = _shape(shape, where)
        return super().__new__(cls, shp, dt, bool(allow_missing),
                               _default(default_value, dt, shp, where, scalar_only=True))


class SparseFeature(collections.namedtuple(
        "SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])):
    """A SparseTensor built from an index feature (int64) and a value feature.

    Args:
        index_key: the key (or list of keys, one per dimension) holding int64 indices.
        value_key: the key holding the values.
        dtype: the dtype of the values.
        size: the dense size (an int, or a list with one size per index key).
        already_sorted: skip sorting the indices of each example.
    """

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        keys = [index_key] if isinstance(index_key, str) else list(index_key)
        sizes = [size] if isinstance(size, (int, np.integer)) else list(size)
        if len(keys) != len(sizes):
            raise ValueError(f"SparseFeature: {len(keys)} index keys but {len(sizes)} sizes")
        return super().__new__(cls, index_key, value_key, normalize_dtype(dtype, "SparseFeature"),
                               size, bool(already_sorted))
