"""Host-side helpers shared by the string ops (``string``) and the id-cross ops (``cross``)."""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..kernels import farmhash
from .array import to_device


_INT64_MAX = np.uint64((1 << 63) - 1)


# --- inputs ------------------------------------------------------------------------------
def _host(x, what, kinds=None):
    """``x`` as a host value for a string op: a NumPy-backed Tensor or a NumPy array.

    Strings become object arrays; a GPU tensor is copied by the traceable device_copy op.
    ``kinds`` restricts the accepted dtype kinds (``'O'`` strings, ``'iu'`` ints, ...).
    """
    if isinstance(x, Tensor):
        if backend.array_module(x._data) is not np:
            x = to_device(x, "numpy")
        dt = x.dtype
    elif backend.is_array(x) and backend.array_module(x) is not np:
        x = to_device(Tensor(x), "numpy")
        dt = x.dtype
    else:
        a = np.asarray(x)
        if a.dtype.kind in "US":
            # numpy turns a list mixing str and bytes into one type; keep each item's own
            a = np.array(x, dtype=object) if not isinstance(x, np.ndarray) else a.astype(object)
        x = a
        dt = x.dtype
    if kinds is not None and dt.kind not in kinds:
        raise TypeError(f"{what} must be a {_KIND_NAMES.get(kinds, kinds)} tensor, "
                        f"got dtype {dt}")
    return x


_KIND_NAMES = {"O": "string", "Oiu": "string or integer", "iu": "integer",
               "iuf": "numeric", "biuf": "numeric or bool", "Obiuf": "string or numeric"}


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _check_buckets(num_buckets, what="num_buckets", minimum=1):
    if isinstance(num_buckets, (bool, np.bool_)) or not isinstance(num_buckets, (int, np.integer)):
        raise TypeError(f"{what} must be an int >= {minimum}, got {num_buckets!r}")
    if num_buckets < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {num_buckets}")
    return int(num_buckets)


def _fingerprints(a):
    """uint64 Fingerprint64 of each element: strings as UTF-8, ints as decimal strings."""
    if a.dtype.kind == "O":
        return farmhash.fingerprint64_strings(a)
    return farmhash.fingerprint64_ints(a)


def _out(a):
    return backend.asarray(a)



def _sparse_out(rows, cols, values, nrows, ncols):
    idx = np.stack([np.asarray(rows, np.int64), np.asarray(cols, np.int64)], axis=1) \
        if len(rows) else np.zeros((0, 2), np.int64)
    return _out(idx), values, _out(np.array([nrows, ncols], np.int64))
