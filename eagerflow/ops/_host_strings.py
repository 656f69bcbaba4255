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
        try:
            a = np.asarray(x)
        except UnicodeDecodeError:  # a list mixing str and non-ASCII bytes
            a = np.array(x, dtype=object)
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


# --- bytes view of string elements ---------------------------------------------------------
def _as_bytes(s):
    """The bytes TensorFlow sees for a string element: UTF-8 for ``str``."""
    return s.encode("utf-8", "surrogatepass") if isinstance(s, str) else bytes(s)


def _like(orig, b):
    """``b`` (bytes cut from ``orig``) in ``orig``'s kind: ``str`` when ``orig`` was a
    ``str`` and ``b`` is valid UTF-8, else the bytes themselves (TF's strings are bytes, so
    a piece of a multi-byte character stays bytes)."""
    if isinstance(orig, str):
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            return b
    return b


def _object_array(items, shape):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


# --- TensorFlow's legacy Hash64 (tensorflow/core/lib/hash/hash.cc) -------------------------
_M64 = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1


def hash64(data, seed=0xDECAFCAFFE):
    """``tensorflow::Hash64(data, n, seed)``: MurmurHash64A; TF's default seed is
    ``0xDECAFCAFFE``. It backs the deprecated ``StringToHashBucket`` op."""
    n = len(data)
    h = (seed ^ ((n * _M64) & _MASK64)) & _MASK64
    end = n - n % 8
    for i in range(0, end, 8):
        k = int.from_bytes(data[i:i + 8], "little")
        k = (k * _M64) & _MASK64
        k ^= k >> 47
        k = (k * _M64) & _MASK64
        h ^= k
        h = (h * _M64) & _MASK64
    if n > end:  # the fall-through switch XORs the tail bytes in little-endian order
        h ^= int.from_bytes(data[end:], "little")
        h = (h * _M64) & _MASK64
    h ^= h >> 47
    h = (h * _M64) & _MASK64
    h ^= h >> 47
    return h


_UNITS = ("BYTE", "UTF8_CHAR")


def _check_unit(unit, op):
    """TF's error for a ``unit`` attribute other than BYTE or UTF8_CHAR."""
    if unit not in _UNITS:
        raise ValueError(f"Attr 'unit' of '{op}' Op passed string '{unit}' not in: 'BYTE', "
                         f"'UTF8_CHAR'. (unit must be 'BYTE' or 'UTF8_CHAR')")
