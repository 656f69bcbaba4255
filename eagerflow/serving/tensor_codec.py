"""``tensorflow.TensorProto`` <-> NumPy, and ``DataType`` enums <-> NumPy dtypes.

Reading follows TensorFlow's ``Tensor::FromProto``: a non-empty ``tensor_content`` is the
raw little-endian row-major buffer; otherwise the typed ``*_val`` field, where 1..n-1 values
repeat the last one to fill the shape and 0 values give zeros. Outputs are written with the
typed fields, as TF Serving does.

Example:
    >>> proto = make_tensor_proto(np.array([[1.0], [2.0]], np.float32))
    >>> list(proto.float_val), [d.size for d in proto.tensor_shape.dim]
    ([1.0, 2.0], [2, 1])
    >>> make_ndarray(proto).tolist()
    [[1.0], [2.0]]
"""
import numpy as np

from .errors import ServingError

__all__ = ["DT_NAMES", "dtype_enum", "dtype_name", "numpy_dtype", "make_ndarray",
           "make_tensor_proto", "MAX_ELEMENTS"]

# A request tensor may not expand (through "repeat the last value") past this many elements.
MAX_ELEMENTS = 1 << 28

_NP_OF_DT = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8,
             7: object, 8: np.complex64, 9: np.int64, 10: np.bool_, 17: np.uint16,
             18: np.complex128, 19: np.float16, 22: np.uint32, 23: np.uint64}
DT_NAMES = {0: "DT_INVALID", 1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8",
            5: "DT_INT16", 6: "DT_INT8", 7: "DT_STRING", 8: "DT_COMPLEX64", 9: "DT_INT64",
            10: "DT_BOOL", 14: "DT_BFLOAT16", 17: "DT_UINT16", 18: "DT_COMPLEX128",
            19: "DT_HALF", 20: "DT_RESOURCE", 21: "DT_VARIANT", 22: "DT_UINT32",
            23: "DT_UINT64"}
_DT_OF_NP = {np.dtype(v): k for k, v in _NP_OF_DT.items()}
# TensorFlow's short type names, used in error messages ("Expects arg[0] to be float ...").
_TF_NAMES = {1: "float", 2: "double", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
             7: "string", 8: "complex64", 9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16",
             18: "complex128", 19: "half", 22: "uint32", 23: "uint64"}
_FIELD = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val",
          6: "int_val", 7: "string_val", 8: "scomplex_val", 9: "int64_val", 10: "bool_val",
          17: "int_val", 18: "dcomplex_val", 19: "half_val", 22: "uint32_val",
          23: "uint64_val"}


def _pb():
    from .protos import tensor_pb2
    return tensor_pb2


def dtype_enum(dtype):
    """The ``DataType`` value of a NumPy dtype (strings/bytes/object -> DT_STRING)."""
    dt = np.dtype(dtype)
    if dt.kind in "OSU":
        return 7
    if dt not in _DT_OF_NP:
        raise ServingError.invalid_argument(f"Unsupported dtype for serving: {dt}")
    return _DT_OF_NP[dt]


def dtype_name(dtype):
    """``"DT_FLOAT"`` etc. of a NumPy dtype."""
    return DT_NAMES[dtype_enum(dtype)]


def tf_type_name(enum):
    return _TF_NAMES.get(enum, DT_NAMES.get(enum, str(enum)))


def numpy_dtype(enum):
    """The NumPy dtype of a ``DataType`` value, or INVALID_ARGUMENT if not servable."""
    if enum not in _NP_OF_DT:
        raise ServingError.invalid_argument(
            f"Unsupported tensor dtype {DT_NAMES.get(enum, enum)}")
    return np.dtype(_NP_OF_DT[enum])


def make_ndarray(proto):
    """A NumPy array of a ``TensorProto`` (strings as an object array of bytes).

    Raises:
        ServingError: INVALID_ARGUMENT for a bad shape, dtype or value count.
    """
    enum = proto.dtype
    dt = numpy_dtype(enum)
    if proto.tensor_shape.unknown_rank:
        raise ServingError.invalid_argument("Cannot parse a tensor of unknown rank")
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    if any(s < 0 for s in shape):
        raise ServingError.invalid_argument(
            f"Invalid tensor shape {list(shape)}: dimensions must be non-negative")
    n = 1
    for s in shape:
        n *= s
        if n > MAX_ELEMENTS:
            raise ServingError.invalid_argument(
                f"Tensor shape {list(shape)} has more than {MAX_ELEMENTS} elements")
    if proto.tensor_content:
        if enum == 7:
            raise ServingError.invalid_argument("DT_STRING tensors cannot use tensor_content")
        content = proto.tensor_content
        if len(content) != n * dt.itemsize:
            raise ServingError.invalid_argument(
                f"tensor_content has {len(content)} bytes, shape {list(shape)} of "
                f"{tf_type_name(enum)} needs {n * dt.itemsize}")
        return np.frombuffer(content, dtype=dt.newbyteorder("<")).astype(dt).reshape(shape)
    vals = getattr(proto, _FIELD[enum])
    if enum == 7:
        flat = np.empty(n, dtype=object)
        if len(vals) > n:
            raise ServingError.invalid_argument(
                f"Tensor has {len(vals)} values but shape {list(shape)} holds {n}")
        if n:
            items = list(vals) or [b""]
            flat[:len(items)] = items
            flat[len(items):] = items[-1]
        return flat.reshape(shape)
    if enum in (8, 18):
        raw = np.asarray(vals, dtype=np.float32 if enum == 8 else np.float64)
        if raw.size % 2:
            raise ServingError.invalid_argument("complex values come in (real, imag) pairs")
        arr = raw[0::2] + 1j * raw[1::2]
    elif enum == 19:
        arr = np.asarray(vals, dtype=np.uint16).view(np.float16)
    else:
        try:
            arr = np.asarray(vals, dtype=dt)
        except OverflowError:
            raise ServingError.invalid_argument(
                f"value out of range for {tf_type_name(enum)}") from None
    arr = arr.astype(dt, copy=False)
    if arr.size > n:
        raise ServingError.invalid_argument(
            f"Tensor has {arr.size} values but shape {list(shape)} holds {n}")
    if arr.size == n:
        return arr.reshape(shape)
    out = np.zeros(n, dtype=dt)
    if arr.size:
        out[:arr.size] = arr
        out[arr.size:] = arr[-1]
    return out.reshape(shape)


def make_tensor_proto(array, out=None):
    """A ``TensorProto`` (typed ``*_val`` fields) of a NumPy array; fills ``out`` if given."""
    arr = np.asarray(array)
    enum = dtype_enum(arr.dtype)
    proto = _pb().TensorProto() if out is None else out
    proto.dtype = enum
    for s in arr.shape:
        proto.tensor_shape.dim.add().size = int(s)
    flat = arr.ravel()
    if enum == 7:
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in flat)
    elif enum in (8, 18):
        pairs = np.empty(flat.size * 2, dtype=np.float32 if enum == 8 else np.float64)
        pairs[0::2], pairs[1::2] = flat.real, flat.imag
        getattr(proto, _FIELD[enum]).extend(pairs.tolist())
    elif enum == 19:
        proto.half_val.extend(flat.view(np.uint16).tolist())
    else:
        getattr(proto, _FIELD[enum]).extend(flat.tolist())
    return proto
