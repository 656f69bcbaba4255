"""TensorFlow's ``tf.DType`` over NumPy dtypes: what ``Tensor.dtype``, ``ef.float32``... and
``ef.as_dtype`` return.

Inside eagerflow dtypes are NumPy dtype objects (CuPy shares them). User code written for TF
asks a dtype questions NumPy's cannot answer (``x.dtype.is_floating``, ``.base_dtype``,
``.as_numpy_dtype``, ``.max``), so the public face is :class:`DType`: it wraps one NumPy
dtype, equals and hashes as that dtype (``t.dtype == np.float32``, dict keys), forwards
NumPy's attributes (``.kind``, ``.itemsize``), and NumPy and CuPy take it wherever they take a
dtype (through its ``dtype`` attribute).

Example:
    >>> import numpy as np
    >>> from eagerflow.backend.tf_dtypes import dtype_of
    >>> d = dtype_of(np.dtype("float32"))
    >>> d.is_floating, d.name, d == np.float32, np.zeros(2, d).dtype
    (True, 'float32', True, dtype('float32'))
"""
import ml_dtypes
import numpy as np

from . import dtypes as _np_dtypes

__all__ = ["DType", "dtype_of", "as_dtype"]


class DType:
    """A TensorFlow-style dtype (``tf.DType``) wrapping a NumPy dtype."""

    __slots__ = ("_np",)

    def __init__(self, np_dtype):
        object.__setattr__(self, "_np", np.dtype(np_dtype))

    # --- what NumPy / CuPy read -----------------------------------------------------------
    @property
    def dtype(self):
        """The NumPy dtype (``np.zeros(2, ef.float32)`` goes through it)."""
        return self._np

    def __getattr__(self, name):  # kind, itemsize, char, type, str...: NumPy's
        return getattr(object.__getattribute__(self, "_np"), name)

    def __setattr__(self, name, value):
        raise AttributeError("DType is immutable")

    def __eq__(self, other):
        if isinstance(other, DType):
            return self._np == other._np
        try:
            return self._np == _np_dtypes.as_dtype(other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self._np)

    def __reduce__(self):
        return dtype_of, (self._np.str if self._np.kind != "V" else self.name,)

    def __repr__(self):
        return f"tf.{self.name}"

    def __str__(self):
        return f"<dtype: '{self.name}'>"

    def __format__(self, spec):
        # f-strings (error messages) show the plain name, as NumPy's dtypes did
        return format(self.name, spec)

    # --- tf.DType's API -------------------------------------------------------------------
    @property
    def name(self):
        return _np_dtypes.tf_name(self._np)

    @property
    def as_numpy_dtype(self):
        return self._np.type

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        if self._np.kind == "c":
            return dtype_of(np.float32 if self._np == np.complex64 else np.float64)
        return self

    @property
    def as_datatype_enum(self):
        return _np_dtypes.as_datatype_enum(self._np)

    @property
    def is_floating(self):
        return _np_dtypes.is_real_floating(self._np)

    @property
    def is_complex(self):
        return self._np.kind == "c"

    @property
    def is_integer(self):
        return self._np.kind in "iu"

    @property
    def is_unsigned(self):
        return self._np.kind == "u" or self._np.kind == "b"

    @property
    def is_bool(self):
        return self._np.kind == "b"

    @property
    def is_quantized(self):
        return False

    @property
    def is_numpy_compatible(self):
        return True

    @property
    def size(self):
        return 1 if self._np.kind == "O" else self._np.itemsize

    @property
    def min(self):
        return self._limits()[0]

    @property
    def max(self):
        return self._limits()[1]

    def _limits(self):
        if self._np.kind == "b":
            return False, True
        if self._np.kind in "iu":
            info = np.iinfo(self._np)
        elif self._np == _np_dtypes.bfloat16:
            info = ml_dtypes.finfo(self._np)
        elif self._np.kind == "f":
            info = np.finfo(self._np)
        else:
            raise TypeError(f"Cannot find minimum/maximum value of {self.name}.")
        return info.min, info.max

    @property
    def limits(self):
        return self._limits()

    def is_compatible_with(self, other):
        return self == other

    def __int__(self):  # TF1 code passes dtypes where DataType numbers go
        return self.as_datatype_enum


_CACHE = {}


def dtype_of(np_dtype):
    """The :class:`DType` of a NumPy dtype (one instance per dtype)."""
    d = _CACHE.get(np_dtype)
    if d is None:
        key = _np_dtypes.as_dtype(np_dtype)
        d = _CACHE.get(key)
        if d is None:
            d = _CACHE[key] = DType(key)
    return d


def as_dtype(type_value):
    """``tf.as_dtype``: the :class:`DType` of a dtype, type, TF name or DataType number."""
    return dtype_of(_np_dtypes.as_dtype(type_value))
