"""Nested element structures (dicts, tuples, single arrays), their specs and encodings.

An element is a dict, a tuple (or namedtuple), or a leaf: a NumPy array or a
``SparseTensor``. Dict keys flatten in sorted order, like ``tf.nest``. Leaves are
normalised to NumPy as ``tf.convert_to_tensor`` converts them: Python floats become
float32, ints int32 (int64 when a value does not fit), str/bytes object arrays of bytes.

Example:
    >>> leaves = flatten({"b": 1, "a": (2.0, "x")})
    >>> [l.dtype.name for l in leaves]
    ['float32', 'object', 'int32']
"""
import base64

import numpy as np

from eagerflow.autograd.sparse_tensor import SparseTensor
import eagerflow.backend as _backend
from eagerflow.backend import dtypes as _dtypes
from eagerflow.backend.tf_dtypes import as_dtype as as_tf_dtype

from eagerflow.io.errors import InvalidArgumentError

__all__ = ["TensorSpec", "SparseTensorSpec", "flatten", "pack_like", "map_structure",
           "normalize", "spec_of", "encode_array", "decode_array", "same_structure"]


class TensorSpec:
    """The shape (None for unknown dims) and dtype of one component.

    Example:
        >>> TensorSpec([None, 3], "float32")
        TensorSpec(shape=(None, 3), dtype=float32, name=None)
    """

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = None if shape is None else tuple(
            None if d is None or d == -1 else int(d) for d in shape)
        self.dtype = as_tf_dtype(dtype)  # TF's DType (equal to the NumPy dtype)
        self.name = name

    def is_compatible_with(self, other):
        """True when dtypes match and known dims agree (``other``: spec or array)."""
        shape = getattr(other, "shape", None)
        dtype = getattr(other, "dtype", None)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return False
        if self.shape is None or shape is None:
            return True
        shape = tuple(shape)
        return len(shape) == len(self.shape) and all(
            a is None or b is None or a == b for a, b in zip(self.shape, shape))

    def most_specific_common(self, other):
        if self.shape is None or other.shape is None or len(self.shape) != len(other.shape):
            return TensorSpec(None, self.dtype)
        return TensorSpec([a if a == b else None for a, b in zip(self.shape, other.shape)],
                          self.dtype)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name}, name={self.name!r})"


class SparseTensorSpec(TensorSpec):
    """Spec of a ``SparseTensor`` component."""

    def __repr__(self):
        return f"SparseTensorSpec(shape={self.shape}, dtype={self.dtype.name})"


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(x):
    """The leaves of ``x`` in a fixed order (dict keys sorted), normalised to NumPy."""
    out = []
    _flatten(x, out)
    return out


def _flatten(x, out):
    if isinstance(x, dict):
        for k in sorted(x):
            _flatten(x[k], out)
    elif isinstance(x, (tuple, list)) and not _is_leaf_list(x):
        for v in x:
            _flatten(v, out)
    else:
        out.append(normalize(x))


def _is_leaf_list(x):
    # lists are values (like tf.data converting them to tensors); tuples are structure
    return isinstance(x, list)


def pack_like(structure, leaves):
    """Rebuilds ``structure``'s nesting with ``leaves`` (as produced by :func:`flatten`)."""
    it = iter(leaves)
    out = _pack(structure, it)
    return out


def _pack(s, it):
    if isinstance(s, dict):
        vals = {k: _pack(s[k], it) for k in sorted(s)}
        return {k: vals[k] for k in s}
    if isinstance(s, tuple):
        vals = [_pack(v, it) for v in s]
        return type(s)(*vals) if _is_namedtuple(s) else tuple(vals)
    return next(it)


class HostArray(np.ndarray):
    """A NumPy array as a dataset's iterator hands it out: NumPy in every respect, and it
    also answers TF2's ``EagerTensor.numpy()`` (``for x in ds: x.numpy()``), which gives
    a plain array, or for a 0-d element a NumPy scalar (``bytes`` for a string), as TF's
    does.

    Example:
        >>> x = np.arange(3).view(HostArray)
        >>> x.numpy().tolist(), type(np.array(7).view(HostArray).numpy())
        ([0, 1, 2], <class 'numpy.int64'>)
    """

    def numpy(self):
        a = self.view(np.ndarray)
        if a.ndim == 0:
            return a.item() if a.dtype.kind == "O" else a[()]
        return a


def as_host_arrays(elem):
    """``elem`` with each plain NumPy leaf viewed as a :class:`HostArray` (no copy; other
    array types, such as the parsers' record batches, stay as they are)."""
    if type(elem) is np.ndarray:
        return elem.view(HostArray)
    if type(elem) is dict:  # the common element: one level of features
        return {k: as_host_arrays(v) for k, v in elem.items()}
    if isinstance(elem, (dict, tuple)):
        return pack_like(elem, [x.view(HostArray) if type(x) is np.ndarray else x
                                for x in flatten_raw(elem)])
    return elem


def map_structure(fn, *structures):
    """Applies ``fn`` to corresponding leaves of structures with the same nesting."""
    flats = [flatten_raw(s) for s in structures]
    n = len(flats[0])
    if any(len(f) != n for f in flats):
        raise ValueError("structures do not match")
    return pack_like(structures[0], [fn(*vals) for vals in zip(*flats)])


def flatten_raw(x):
    """Leaves without normalisation (specs, arrays or anything else)."""
    out = []

    def rec(v):
        if isinstance(v, dict):
            for k in sorted(v):
                rec(v[k])
        elif isinstance(v, tuple):
            for e in v:
                rec(e)
        else:
            out.append(v)
    rec(x)
    return out


def same_structure(a, b):
    """True when ``a`` and ``b`` nest the same way (dict keys, tuple lengths)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True


def normalize(x):
    """One leaf as a NumPy array (or SparseTensor), with TF's default dtypes."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "SU":
            return _to_bytes_array(x)
        return x
    if isinstance(x, SparseTensor) or _backend.is_array(x):  # e.g. a device array
        return x
    if hasattr(x, "numpy") and callable(x.numpy):  # a Tensor
        return normalize(x.numpy())
    if isinstance(x, (str, bytes)):
        return np.array(x.encode() if isinstance(x, str) else x, dtype=object)
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float32)
    if isinstance(x, int):
        return np.asarray(x, dtype=_dtypes.python_int_dtype(x))
    arr = np.asarray(x)
    if arr.dtype == np.float64 and not _has_np_float64(x):
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "iu" and not _has_np(x):
        arr = arr.astype(_dtypes.python_int_dtype(arr))
    elif arr.dtype.kind in "SU" or arr.dtype.kind == "O":
        arr = _to_bytes_array(arr)
    return arr


def _has_np_float64(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype == np.float64
    if isinstance(x, (list, tuple)):
        return any(_has_np_float64(v) for v in x)
    return False


def _has_np(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return True
    if isinstance(x, (list, tuple)):
        return any(_has_np(v) for v in x)
    return False


def _to_bytes_array(arr):
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(np.asarray(arr).reshape(-1).tolist()):
        flat[i] = v.encode() if isinstance(v, str) else v
    return out


def spec_of(x):
    """The spec structure of an element (dims as they are in this element)."""
    def one(v):
        if isinstance(v, SparseTensor):
            return SparseTensorSpec([int(d) for d in np.asarray(v.dense_shape)], v.dtype)
        return TensorSpec(v.shape, v.dtype)
    return pack_like(x, [one(v) for v in flatten(x)])


def encode_array(a):
    """A JSON-able dict for a NumPy array (object arrays hold bytes), no pickle."""
    a = np.asarray(a)
    if a.dtype.kind == "O":
        return {"dtype": "string", "shape": list(a.shape),
                "values": [base64.b64encode(v if isinstance(v, bytes) else str(v).encode())
                           .decode("ascii") for v in a.reshape(-1).tolist()]}
    return {"dtype": a.dtype.str, "shape": list(a.shape),
            "data": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}


def decode_array(d):
    """Inverse of :func:`encode_array`."""
    shape = tuple(d["shape"])
    if d["dtype"] == "string":
        out = np.empty(len(d["values"]), dtype=object)
        out[:] = [base64.b64decode(v) for v in d["values"]]
        return out.reshape(shape)
    return np.frombuffer(base64.b64decode(d["data"]), dtype=np.dtype(d["dtype"])).reshape(
        shape).copy()


def check_equal_dim0(leaves):
    sizes = {int(np.shape(l)[0]) if np.ndim(l) else None for l in leaves}
    if None in sizes:
        raise InvalidArgumentError("from_tensor_slices: every component needs a dim 0 to "
                                   "slice; got a scalar")
    if len(sizes) > 1:
        raise ValueError(f"from_tensor_slices: all components must have the same size in "
                         f"dim 0, got sizes {sorted(sizes)}")
    return sizes.pop() if sizes else 0
