"""Dtype objects and the default dtype policy.

Inside eagerflow dtypes are NumPy dtype objects (CuPy uses the same ones); this module's
names are those NumPy dtypes. The public ones (``ef.float32``, ``Tensor.dtype``,
``ef.as_dtype``) are TF's ``DType`` objects of :mod:`eagerflow.backend.tf_dtypes`, which
equal and wrap these. Strings are host-only object arrays of ``bytes``/``str``
(``ef.string``).
"""
import ml_dtypes
import numpy as np

float16 = np.dtype("float16")
# NumPy has no bfloat16; ml_dtypes' is the one CuPy (>= 14) and JAX use, so arrays of it
# move between NumPy, CuPy and DLPack as themselves
bfloat16 = np.dtype(ml_dtypes.bfloat16)
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
uint16 = np.dtype("uint16")
uint32 = np.dtype("uint32")
uint64 = np.dtype("uint64")
bool_ = np.dtype("bool")
complex64 = np.dtype("complex64")
complex128 = np.dtype("complex128")
string = np.dtype("O")

half = float16
double = float64

FLOATX = float32
INTX = int64

_ALIASES = {
    "float": float32, "float16": float16, "bfloat16": bfloat16, "float32": float32,
    "float64": float64, "double": float64, "half": float16, "int": int64, "int8": int8, "int16": int16,
    "int32": int32, "int64": int64, "uint8": uint8, "uint16": uint16, "uint32": uint32,
    "uint64": uint64, "bool": bool_, "complex64": complex64, "complex128": complex128,
    "string": string, "str": string, "object": string,
}


# TensorFlow's ``DataType`` enum (tensorflow/core/framework/types.proto): ``tf.as_dtype``
# accepts these numbers, and event files / TensorProtos store them
DATATYPE_ENUM = {
    float32: 1, float64: 2, int32: 3, uint8: 4, int16: 5, int8: 6, string: 7, complex64: 8,
    int64: 9, bool_: 10, bfloat16: 14, uint16: 17, complex128: 18, float16: 19, uint32: 22,
    uint64: 23,
}
_ENUM_TO_DTYPE = {v: k for k, v in DATATYPE_ENUM.items()}

# TF's names where NumPy's differ (``np.dtype(object).name`` is 'object', TF says 'string')
_TF_NAMES = {string: "string", bool_: "bool", bfloat16: "bfloat16", float16: "float16"}


def as_datatype_enum(dtype):
    """TensorFlow's ``DataType`` number of ``dtype`` (``tf.float32.as_datatype_enum == 1``)."""
    dt = as_dtype(dtype)
    try:
        return DATATYPE_ENUM[dt]
    except KeyError:
        raise TypeError(f"dtype {dt} has no TensorFlow DataType") from None


def tf_name(dtype):
    """TensorFlow's name of ``dtype`` (``'string'`` for strings, else NumPy's name)."""
    dt = as_dtype(dtype)
    return _TF_NAMES.get(dt, dt.name)


def as_dtype(dtype):
    """Returns the ``numpy.dtype`` for ``dtype`` (a dtype, a type, or a TF-style name).

    Accepts what ``tf.as_dtype`` accepts: a dtype, a NumPy type, TF's names (``'float32'``,
    ``'string'``, ``'half'``, ``'double'``...), Python ``float``/``bool``/``object`` and a
    ``DataType`` enum number (``1`` is float32). NumPy's text types (``np.str_``,
    ``np.bytes_``, ``'<U5'``) are strings, as in TF.

    Raises:
        TypeError: if ``dtype`` names no dtype eagerflow knows.
    """
    if isinstance(dtype, np.dtype):
        return string if dtype.kind in "USO" else dtype
    inner = getattr(dtype, "_np", None)  # a tf_dtypes.DType
    if isinstance(inner, np.dtype):
        return inner
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, (bool, np.bool_)):
        if int(dtype) in _ENUM_TO_DTYPE:
            return _ENUM_TO_DTYPE[int(dtype)]
        raise TypeError(f"dtype {dtype!r} is not a known TensorFlow DataType number")
    if dtype in (np.str_, np.bytes_, np.object_):
        return string
    if dtype is bool:
        return bool_
    if dtype is float:
        return FLOATX
    if dtype is int:
        return INTX
    if dtype is str or dtype is bytes:
        return string
    name = getattr(dtype, "name", None)  # e.g. a torch or tf dtype
    if isinstance(name, str) and name in _ALIASES:
        return _ALIASES[name]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype {dtype!r} is not understood; use one of "
            f"{', '.join(sorted(_ALIASES))} or a numpy dtype") from None
    return string if dt.kind in "USO" else dt


def is_floating(dtype):
    """True for real and complex floats, bfloat16 included (NumPy files it under kind
    ``'V'``, so ``dtype.kind == 'f'`` misses it)."""
    return dtype.kind == "f" or dtype.kind == "c" or dtype == bfloat16


def is_real_floating(dtype):
    """True for real floats, bfloat16 included."""
    return dtype.kind == "f" or dtype == bfloat16


def is_integer(dtype):
    return dtype.kind in "iu"


_INT32 = np.iinfo(np.int32)


def python_int_dtype(values):
    """The dtype TensorFlow gives Python ints: int32 when every value fits, else int64
    (``tf.constant(1)`` is int32, ``tf.constant(2**31)`` int64). ``values``: an int or a
    NumPy integer array of them."""
    a = np.asarray(values)
    if a.size == 0 or (int(a.min()) >= _INT32.min and int(a.max()) <= _INT32.max):
        return np.dtype(np.int32)
    return INTX


def default_dtype_for(value):
    """The dtype a Python value converts to: float32 for floats, int32 for ints (int64
    when too large), as TensorFlow converts them."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return python_int_dtype(value)
    if isinstance(value, float):
        return FLOATX
    if isinstance(value, complex):
        return complex64
    return None
