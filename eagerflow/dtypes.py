"""``tf.dtypes``: the ``DType`` class, ``as_dtype``, the dtype constants and the casts.

Example:
    >>> import eagerflow as ef
    >>> ef.dtypes.as_dtype("float32") is ef.dtypes.float32
    True
    >>> ef.dtypes.cast(ef.constant([1.7]), ef.dtypes.int32).numpy().tolist()
    [1]
"""
from .backend import dtypes as _np_dtypes
from .backend.tf_dtypes import DType, as_dtype
from .ops.array import bitcast, saturate_cast
from .ops.math import cast
from .ops.math_extra import complex  # noqa: A004 (TF's name)

__all__ = ["DType", "as_dtype", "cast", "complex", "saturate_cast", "bitcast", "bfloat16",
           "bool", "complex64", "complex128", "double", "float16", "float32", "float64",
           "half", "int8", "int16", "int32", "int64", "string", "uint8", "uint16", "uint32",
           "uint64", "QUANTIZED_DTYPES"]

(bfloat16, bool, complex64, complex128, float16, float32, float64, int8, int16,  # noqa: A001
 int32, int64, string, uint8, uint16, uint32, uint64) = (
    as_dtype(getattr(_np_dtypes, n)) for n in (
        "bfloat16", "bool_", "complex64", "complex128", "float16", "float32", "float64",
        "int8", "int16", "int32", "int64", "string", "uint8", "uint16", "uint32", "uint64"))
half, double = float16, float64
QUANTIZED_DTYPES = frozenset()  # eagerflow has no quantized types
