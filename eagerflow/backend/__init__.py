"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU, behind one interface.

The backend is chosen once at import: ``EAGERFLOW_BACKEND=numpy|cupy`` if set, else cupy
when CuPy imports and a GPU is visible, else numpy. :func:`set_backend` switches later; it
decides where *new* tensors are created. An existing array stays where it is, and its
module is found from its type (:func:`array_module`), never from the global setting.

Example:
    >>> from eagerflow import backend
    >>> backend.get_backend() in ("numpy", "cupy")  # EAGERFLOW_BACKEND, else numpy
    True
    >>> backend.array_module(backend.asarray([1.0, 2.0])).__name__ == backend.get_backend()
    True
"""
import os

import numpy as np

from . import _cupy
from . import dtypes
from .dtypes import FLOATX, INTX, as_dtype, python_int_dtype

__all__ = [
    "NAMES", "get_backend", "set_backend", "xp", "array_module", "is_array", "asarray",
    "to_numpy", "to_device", "device_of", "gpu_available", "synchronize", "memory_stats",
    "same_device", "dtypes", "as_dtype", "FLOATX", "INTX", "gpu_module",
]

NAMES = ("numpy", "cupy")


class _State:
    __slots__ = ("name", "xp")


state = _State()


def _select(name):
    if name not in NAMES:
        raise ValueError(f"backend must be one of {NAMES}, got {name!r}")
    if name == "cupy":
        mod = _cupy.load()  # raises a clear RuntimeError without a GPU
    else:
        mod = np
    state.name = name
    state.xp = mod


def _initial():
    env = os.environ.get("EAGERFLOW_BACKEND", "").strip().lower()
    if env:
        if env not in NAMES:
            raise ValueError(f"EAGERFLOW_BACKEND must be one of {NAMES}, got {env!r}")
        return env
    return "cupy" if _cupy.available() else "numpy"


_select(_initial())


def get_backend():
    """The name of the current backend: ``'numpy'`` or ``'cupy'``."""
    return state.name


def set_backend(name):
    """Selects the backend new tensors are created on.

    Args:
        name: ``'numpy'`` or ``'cupy'``.

    Raises:
        ValueError: for another name.
        RuntimeError: for ``'cupy'`` when CuPy or a GPU is not available.
    """
    _select(str(name).lower())


def xp():
    """The array module of the current backend (``numpy`` or ``cupy``)."""
    return state.xp


def gpu_available():
    """True when CuPy imports and a GPU is visible."""
    return _cupy.available()


def gpu_module():
    """The cupy module when it is loaded, else None. For kernels/ only."""
    return _cupy.loaded()


def array_module(a):
    """``numpy`` or ``cupy``, whichever module ``a`` (an array or scalar) belongs to."""
    if isinstance(a, (np.ndarray, np.generic)):
        return np
    cp = _cupy.loaded()
    if cp is not None and isinstance(a, cp.ndarray):
        return cp
    return np


def is_array(a):
    """True for a NumPy or CuPy ndarray."""
    if isinstance(a, np.ndarray):
        return True
    cp = _cupy.loaded()
    return cp is not None and isinstance(a, cp.ndarray)


def device_of(a):
    """``'cpu'`` or ``'gpu:<n>'`` for an array."""
    if array_module(a) is np:
        return "cpu"
    return f"gpu:{a.device.id}"


def same_device(a, b):
    return array_module(a) is array_module(b)


def asarray(value, dtype=None):
    """Converts ``value`` to an array of the current backend (copying host data to the GPU).

    Python floats become float32 and Python ints int32 (int64 when a value does not fit),
    as TensorFlow converts them, unless ``dtype`` says otherwise.
    """
    if dtype is not None:
        dtype = as_dtype(dtype)
    mod = state.xp
    if mod is not np and isinstance(value, mod.ndarray):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    if dtype is None:
        if isinstance(value, np.ndarray):
            arr = value
        else:
            arr = np.asarray(value)
            if arr.dtype == np.float64 and not _has_float64(value):
                arr = arr.astype(FLOATX)
            elif arr.dtype.kind in "iu" and not _has_typed_int(value):
                arr = arr.astype(python_int_dtype(arr))
            elif arr.dtype.kind in "US":
                arr = arr.astype(object)
    else:
        if dtype.kind == "O":
            arr = np.asarray(value, dtype=object)
        else:
            arr = np.asarray(value, dtype=dtype)
    if mod is np or arr.dtype.kind == "O":
        return arr
    return mod.asarray(arr)


def _has_float64(value):
    """True when ``value`` carries an explicit float64 (a numpy float64 scalar or array)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.dtype == np.float64
    if isinstance(value, (list, tuple)):
        return any(_has_float64(v) for v in value)
    return False


def _has_typed_int(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_typed_int(v) for v in value)
    return False


def to_numpy(a):
    """A NumPy array with the contents of ``a`` (a copy from the GPU when ``a`` is there)."""
    if isinstance(a, np.ndarray):
        return a
    if isinstance(a, np.generic):
        return np.asarray(a)
    cp = _cupy.loaded()
    if cp is not None and isinstance(a, cp.ndarray):
        return cp.asnumpy(a)
    return np.asarray(a)


def to_device(a, name=None):
    """``a`` as an array of backend ``name`` (default: the current one)."""
    name = name or state.name
    if name == "numpy":
        return to_numpy(a)
    cp = _cupy.load()
    return cp.asarray(a)


def synchronize():
    """Waits for the GPU to finish queued work (a no-op on numpy)."""
    cp = _cupy.loaded()
    if cp is not None:
        cp.cuda.get_current_stream().synchronize()


def memory_stats():
    """Memory-pool statistics of the current backend as a dict of byte counts.

    On cupy: ``used_bytes`` and ``total_bytes`` of the default pool and the pinned pool's
    ``pinned_free_blocks``. On numpy: zeros (NumPy has no pool).
    """
    cp = _cupy.loaded()
    if state.name != "cupy" or cp is None:
        return {"backend": "numpy", "used_bytes": 0, "total_bytes": 0}
    pool = cp.get_default_memory_pool()
    pinned = cp.get_default_pinned_memory_pool()
    return {"backend": "cupy", "used_bytes": int(pool.used_bytes()),
            "total_bytes": int(pool.total_bytes()),
            "pinned_free_blocks": int(pinned.n_free_blocks())}


def from_dlpack(obj):
    """Imports a DLPack-capable object without a copy: NumPy for CPU memory, CuPy for GPU."""
    dev_type = obj.__dlpack_device__()[0] if hasattr(obj, "__dlpack_device__") else 1
    if int(dev_type) == 1:  # kDLCPU
        return np.from_dlpack(obj)
    cp = _cupy.load()
    return cp.from_dlpack(obj)


__all__.append("from_dlpack")


from .host_memory import keep_host_memory  # noqa: E402

__all__.append("keep_host_memory")
