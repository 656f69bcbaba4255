"""``Tensor``: an immutable array on the current backend, the value every op returns.

A Tensor wraps one NumPy or CuPy array (``_data``) and nothing else, so that creating one
costs little on the hot path. Its operators (``+ - * / // % ** @``, comparisons, indexing)
are installed by ``eagerflow.ops``, which is where the ops live.

Example:
    >>> import eagerflow as ef
    >>> x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
    >>> (x @ x.T).numpy().tolist()
    [[5.0, 11.0], [11.0, 25.0]]
"""
import numpy as np

from .. import backend
from ..backend.dtypes import as_dtype
from ..backend.tf_dtypes import _CACHE as _DTYPES, dtype_of

__all__ = ["Tensor", "TensorShape", "constant", "convert_to_tensor", "is_tensor", "from_dlpack"]


class TensorShape(tuple):
    """A tuple of ints with TensorFlow's ``TensorShape`` helpers."""

    __slots__ = ()

    def as_list(self):
        return list(self)

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def num_elements(self):
        n = 1
        for d in self:
            n *= d
        return n

    def is_compatible_with(self, other):
        other = tuple(other)
        return len(other) == len(self) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def __repr__(self):
        return f"TensorShape({list(self)})"


class Tensor:
    """An n-dimensional array on the NumPy or CuPy backend that ops can differentiate.

    Create one with :func:`constant` (or ``Tensor(value, dtype)``). Tensors are immutable;
    :class:`~eagerflow.Variable` is the mutable kind.
    """

    __slots__ = ("_data",)
    __array_priority__ = 100
    __array_ufunc__ = None  # numpy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, value, dtype=None):
        self._data = _to_array(value, dtype)

    # --- read-only facts -------------------------------------------------------------
    @property
    def shape(self):
        return TensorShape(self._data.shape)

    def get_shape(self):
        return self.shape

    @property
    def dtype(self):
        """TF's ``DType`` of the elements (equal to, and usable as, the NumPy dtype)."""
        d = _DTYPES.get(self._data.dtype)
        return d if d is not None else dtype_of(self._data.dtype)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def device(self):
        """``'cpu'`` or ``'gpu:<n>'``."""
        return backend.device_of(self._data)

    @property
    def backend(self):
        """``'numpy'`` or ``'cupy'``: the backend that holds this tensor's array."""
        return "numpy" if backend.array_module(self._data) is np else "cupy"

    @property
    def data(self):
        """The raw backend array (no copy). Changing it in place bypasses autodiff."""
        return self._data

    # --- host conversion ---------------------------------------------------------------
    def numpy(self):
        """The value as NumPy gives it, as TF's ``EagerTensor.numpy()`` does: an array (a
        copy from the GPU; shared memory on the CPU), a NumPy scalar for a 0-d tensor, and
        ``bytes`` for strings (a ``bytes`` object for a 0-d string tensor)."""
        a = backend.to_numpy(self._data)
        if a.dtype.kind == "O":
            return _as_bytes(a)
        return a[()] if a.ndim == 0 else a

    def item(self):
        """The single element as a Python scalar (``bytes`` for a string)."""
        v = self.numpy()
        return v if isinstance(v, bytes) else v.item()

    def tolist(self):
        v = self.numpy()
        return v if isinstance(v, bytes) else v.tolist()

    def __array__(self, dtype=None, copy=None):
        if backend.array_module(self._data) is not np:
            raise TypeError("implicit conversion of a GPU tensor to a NumPy array is not "
                            "allowed; call .numpy() to copy it to the host")
        a = self._data
        if a.dtype.kind == "O":
            a = np.asarray(_as_bytes(a), dtype=object)  # TF's strings are bytes
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy else a

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self._data.size} elements "
                             "is ambiguous; use ef.reduce_any or ef.reduce_all")
        return bool(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __hash__(self):
        raise TypeError("Tensor is unhashable; use tensor.ref() as the key instead")

    def ref(self):
        """A hashable reference to this object (TF's ``Tensor.ref()``)."""
        return _Ref(self)

    def __repr__(self):
        try:
            body = np.array2string(self.numpy(), separator=", ", threshold=30)
        except Exception:  # pragma: no cover - repr must not fail
            body = "?"
        return f"<ef.Tensor: shape={self._data.shape}, dtype={self._data.dtype}, numpy={body}>"

    def __str__(self):
        return str(self.numpy())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return _wrap(self._data.copy())


class _Ref:
    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._obj is self._obj


_new = object.__new__
_np_generic = np.generic


def _encode(v):
    return v.encode() if isinstance(v, str) else v


_encode_all = np.frompyfunc(_encode, 1, 1)


def _as_bytes(a):
    """A string tensor's value as TF gives it: bytes objects (UTF-8 for str); a 0-d one is
    a bytes scalar."""
    if a.ndim == 0:
        return _encode(a[()])
    return np.asarray(_encode_all(a), dtype=object)


def _wrap(a):
    """A Tensor around the array ``a`` (NumPy scalars become 0-d arrays)."""
    if isinstance(a, _np_generic):
        a = np.asarray(a)
    t = _new(Tensor)
    t._data = a
    return t


def _to_array(value, dtype=None):
    if isinstance(value, Tensor):
        a = value._data
        if dtype is not None:
            dtype = as_dtype(dtype)
            if a.dtype != dtype:
                a = a.astype(dtype)
        return a
    if hasattr(value, "__dlpack__") and not backend.is_array(value) \
            and not isinstance(value, np.generic):
        return backend.from_dlpack(value) if dtype is None else \
            backend.from_dlpack(value).astype(as_dtype(dtype))
    a = backend.asarray(value, dtype)
    if isinstance(a, np.generic):
        a = np.asarray(a)
    return a


def constant(value, dtype=None, shape=None, name=None):
    """Creates a constant tensor (``tf.constant``).

    Args:
        value: a Python scalar or nested list, a NumPy/CuPy array, or a Tensor.
        dtype: the element type; Python floats default to float32 and ints to int32
            (int64 when a value does not fit), as in TensorFlow.
        shape: optional shape; a scalar ``value`` is broadcast to it, otherwise the number
            of elements must match and the value is reshaped.
        name: ignored (kept for TensorFlow compatibility).

    Example:
        >>> constant(1.5, shape=(2,)).numpy().tolist()
        [1.5, 1.5]
    """
    a = _to_array(value, dtype)
    if shape is not None:
        shape = tuple(int(s) for s in (shape if isinstance(shape, (list, tuple)) else [shape]))
        xp = backend.array_module(a)
        if a.size == 1 and int(np.prod(shape)) != 1:
            a = xp.full(shape, a.reshape(()), dtype=a.dtype)
        elif a.size == int(np.prod(shape)):
            a = a.reshape(shape)
        else:
            raise ValueError(f"constant: value has {a.size} elements, which cannot be "
                             f"reshaped to shape {shape}")
    if a is getattr(value, "_data", None) or (isinstance(value, np.ndarray) and a is value):
        a = a.copy()  # a constant never aliases the caller's buffer
    return _wrap(a)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Returns ``value`` as a Tensor, without copying when it already is one.

    Raises:
        TypeError: if ``value`` is a Tensor of another dtype than ``dtype``.
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != as_dtype(dtype):
            raise TypeError(f"convert_to_tensor: tensor has dtype {value.dtype}, "
                            f"requested {as_dtype(dtype)}")
        return value
    dense = getattr(value, "_as_dense_tensor", None)
    if dense is not None:  # IndexedSlices
        return dense()
    if dtype is None and dtype_hint is not None and not backend.is_array(value) \
            and not isinstance(value, np.ndarray):
        try:
            return _wrap(_to_array(value, dtype_hint))
        except (TypeError, ValueError):
            pass
    return _wrap(_to_array(value, dtype))


def is_tensor(x):
    """True for Tensors (and Variables)."""
    return isinstance(x, Tensor)


def from_dlpack(obj):
    """A Tensor sharing memory with a DLPack-capable object (a torch tensor, a CuPy array)."""
    return _wrap(backend.from_dlpack(obj))
