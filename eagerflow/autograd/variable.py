"""``Variable``: a mutable, named Tensor that tapes watch automatically when trainable."""
import operator

import numpy as np

from .. import backend
from ..backend import cuda_graph
from ..backend.dtypes import as_dtype
from .tensor import Tensor, _to_array, _wrap

__all__ = ["Variable"]

_STALE = object()  # a host copy is kept, but the device holds a value it has not read
_UPDATES = {"assign": lambda old, v: v, "assign_add": operator.add,
            "assign_sub": operator.sub}


def _broadcasts_to(src, dst):
    try:
        return np.broadcast_shapes(src, dst) == tuple(dst)
    except ValueError:
        return False


class Variable(Tensor):
    """A mutable tensor with a name (``tf.Variable``).

    Ops read a variable like any tensor. While a :class:`GradientTape` with
    ``watch_accessed_variables=True`` is active, reading a trainable variable watches it.
    ``assign*`` write in place, so the variable keeps its buffer (optimizers and CUDA
    graphs rely on that).

    Args:
        initial_value: a value, Tensor, or a zero-argument callable returning one.
        trainable: whether tapes watch it and ``trainable_variables()`` lists it.
        name: the variable's name (``'Variable'`` by default).
        dtype: optional dtype to cast the initial value to.
        shape: optional expected shape, checked against the initial value.

    Example:
        >>> v = Variable([1.0, 2.0], name="w")
        >>> v.assign_add([1.0, 1.0]).numpy().tolist()
        [2.0, 3.0]
    """

    __slots__ = ("_name", "_trainable", "_host", "__weakref__")

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, shape=None,
                 validate_shape=True):
        if cuda_graph.capturing():
            # its initial value would be written by the graph on every replay, not once
            raise RuntimeError(f"Variable {name or 'Variable'} was created inside a CUDA-graph "
                               "capture; create variables before (run the step once eagerly)")
        if callable(initial_value):
            initial_value = initial_value()
        a = _to_array(initial_value, dtype)
        if isinstance(initial_value, (Tensor, np.ndarray)) or backend.is_array(initial_value):
            a = a.copy()  # never alias the source buffer
        if shape is not None and validate_shape:
            shape = tuple(shape)
            if tuple(a.shape) != shape:
                raise ValueError(f"Variable {name or 'Variable'}: initial value has shape "
                                 f"{tuple(a.shape)}, expected {shape}")
        self._data = a
        self._name = name or "Variable"
        self._trainable = bool(trainable)
        self._host = None  # see _mirror_on_host

    @property
    def name(self):
        return self._name

    @property
    def trainable(self):
        return self._trainable

    def value(self):
        """The current value as a Tensor sharing this variable's buffer."""
        return _wrap(self._data)

    def read_value(self):
        """A snapshot of the current value (a copy, unaffected by later assigns)."""
        return _wrap(self._data.copy())

    def _value_array(self, value, what):
        if isinstance(value, (bool, int, float, np.generic)):
            # a scalar operand of the in-place kernel: no array, so no host-to-device copy
            # (the global step's += 1 runs in every step, also inside a CUDA-graph capture)
            return self._data.dtype.type(value)
        a = value._data if isinstance(value, Tensor) else _to_array(value, self._data.dtype)
        if backend.array_module(a) is not backend.array_module(self._data):
            raise ValueError(f"{what} {self._name}: value lives on another device than the "
                             "variable")
        if a.shape != self._data.shape and not _broadcasts_to(a.shape, self._data.shape):
            raise ValueError(f"{what} {self._name}: value of shape {tuple(a.shape)} does not "
                             f"match the variable's shape {tuple(self._data.shape)}")
        return a

    def assign(self, value, read_value=True):
        """Writes ``value`` into the variable (in place); returns the variable."""
        self._data[...] = self._value_array(value, "assign")
        if self._host is not None:
            self._track(value, "assign")
        return self if read_value else None

    def assign_add(self, delta, read_value=True):
        """Adds ``delta`` in place; returns the variable."""
        self._data += self._value_array(delta, "assign_add")
        if self._host is not None:
            self._track(delta, "assign_add")
        return self if read_value else None

    def assign_sub(self, delta, read_value=True):
        """Subtracts ``delta`` in place; returns the variable."""
        self._data -= self._value_array(delta, "assign_sub")
        if self._host is not None:
            self._track(delta, "assign_sub")
        return self if read_value else None

    # --- host mirror ------------------------------------------------------------------------
    # Hooks read the global step after every training step (stop at step N, save every N
    # steps). Reading a GPU scalar waits for the step to finish, so the host could never
    # queue the next step while this one runs. A scalar variable that asks for it keeps its
    # value on the host as well, for as long as every write is a host number (the
    # optimizers' `+= 1`, a loss scale's halving); any other write drops the copy and the
    # next read refills it from the device.
    def _mirror_on_host(self):
        if self._data.shape != () or self._data.dtype.kind not in "iuf":
            raise TypeError(f"variable {self._name}: only a scalar integer or float variable "
                            f"can keep a host copy, not {self._data.dtype} "
                            f"{tuple(self._data.shape)}")
        self._host = _STALE
        return self

    def numpy(self):
        """The value as a NumPy array (from the host copy when the variable keeps one)."""
        if self._host is None:
            return super().numpy()
        return np.asarray(self._host_value(), dtype=self._data.dtype)[()]

    def _host_value(self):
        """The value as a Python number: the host copy when it is current, else read from
        the device (and kept, when this variable keeps a copy)."""
        if self._host is None or self._host is _STALE:
            value = np.asarray(backend.to_numpy(self._data)).item()
            if self._host is _STALE:
                self._host = value
            return value
        return self._host

    def _track(self, value, op):
        """Follows write ``op`` (``'assign'``, ``'assign_add'``, ``'assign_sub'``) of
        ``value`` on the host copy."""
        numbers = (int, np.integer) if self._data.dtype.kind in "iu" else \
            (int, float, np.integer, np.floating)
        if not isinstance(value, numbers) or isinstance(value, bool):
            self._host = _STALE  # a value only the device knows: read it when asked
            return
        # the device's arithmetic: the result rounded to the variable's dtype
        def update(old, value, op=_UPDATES[op], cast=self._data.dtype.type):
            return cast(op(cast(old), cast(value))).item()

        if not cuda_graph.capturing():
            if self._host is not _STALE:
                self._host = update(self._host, value)
            return
        # a capture only records the write: it happens at each replay of the graph
        def replayed(var=self, value=value):
            if var._host is not None and var._host is not _STALE:
                var._host = update(var._host, value)
        cuda_graph.on_replay(replayed)

    def _set_array(self, a):
        """Replaces the buffer (restores, device moves). Shape and dtype must stay."""
        if a.shape != self._data.shape or a.dtype != self._data.dtype:
            raise ValueError(f"variable {self._name}: new buffer {a.shape} {a.dtype} does "
                             f"not match {self._data.shape} {self._data.dtype}")
        if a is not self._data:
            cuda_graph.bump_buffer_epoch()  # captured graphs read the old buffer
        self._data = a
        if self._host is not None:
            self._host = _STALE

    def __repr__(self):
        return (f"<ef.Variable '{self._name}' shape={self._data.shape} "
                f"dtype={self._data.dtype}, numpy={np.array2string(self.numpy(), separator=', ', threshold=30)}>")

    def __deepcopy__(self, memo):
        return Variable(self._data.copy(), trainable=self._trainable, name=self._name)

    @property
    def initial_dtype(self):
        return as_dtype(self._data.dtype)
