"""``ef.function``: TensorFlow 2's ``tf.function`` as a tracer into the export graph.

Calling a :class:`Function` runs the Python function eagerly (eagerflow is eager);
``get_concrete_function()`` traces it into a :class:`ConcreteFunction`, an op graph with a
dynamic batch dimension that :func:`eagerflow.saved_model.save` writes and the loader runs
without the Python function.

Example:
    >>> import eagerflow as ef
    >>> @ef.function(input_signature=[ef.TensorSpec([None, 1], ef.float32, name="x")])
    ... def half_plus_two(x):
    ...     return {"y": x * 0.5 + 2.0}
    >>> half_plus_two(ef.constant([[1.0]]))["y"].numpy().tolist()
    [[2.5]]
    >>> sorted(half_plus_two.get_concrete_function().outputs)
    ['y']
"""
import functools

import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.tensor import Tensor, _wrap
from ..data.structure import TensorSpec
from .capture import Captures
from .tracer import TraceError, trace_graph

__all__ = ["function", "Function", "ConcreteFunction", "TensorSpec", "TensorInfo"]


class TensorInfo:
    """A signature's view of one tensor: graph name (``'x:0'``), dtype, shape (None dims)."""

    __slots__ = ("name", "dtype", "shape")

    def __init__(self, name, dtype, shape):
        self.name, self.dtype = name, np.dtype(dtype)
        self.shape = None if shape is None else tuple(shape)

    def to_json(self):
        return {"name": self.name, "dtype": "string" if self.dtype.kind == "O" else self.dtype.str,
                "shape": None if self.shape is None else [-1 if d is None else d
                                                          for d in self.shape]}

    @classmethod
    def from_json(cls, d):
        dtype = np.dtype(object) if d["dtype"] == "string" else np.dtype(d["dtype"])
        shape = None if d["shape"] is None else [None if s == -1 else s for s in d["shape"]]
        return cls(d["name"], dtype, shape)

    def __repr__(self):
        return f"TensorInfo(name={self.name!r}, dtype={self.dtype}, shape={self.shape})"


def _default_sample(spec, batch):
    shape = tuple(batch if d is None else d for d in (spec.shape or (None,)))
    if spec.dtype.kind == "O":
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype=spec.dtype)


class ConcreteFunction:
    """A traced graph with named inputs and outputs (what a signature holds)."""

    def __init__(self, graph, consts, variables, input_specs, input_names, output_aliases,
                 method_name):
        self.graph, self.consts, self.variables = graph, consts, variables
        self.input_specs, self.input_names = input_specs, input_names
        self.output_aliases = output_aliases
        self.method_name = method_name
        self.tensor_names = {}   # input alias -> graph tensor name (default "<alias>:0")
        self.output_names = {}   # output alias -> graph tensor name

    @property
    def inputs(self):
        return {alias: TensorInfo(self.tensor_names.get(alias, f"{alias}:0"), s.dtype, s.shape)
                for alias, s in zip(self.input_names, self.input_specs)}

    @property
    def outputs(self):
        return {alias: TensorInfo(self.output_names.get(alias, f"{alias}:0"), np.dtype(dt),
                                  shape)
                for alias, (dt, shape) in self.output_aliases.items()}

    def as_graph_def(self):
        """The traced graph as TensorFlow's ``GraphDef`` (for ``write_graph`` and
        TensorBoard's Graphs tab; see :mod:`eagerflow.saved_model.graph_def`)."""
        from .graph_def import to_graph_def
        return to_graph_def(self)


def _trace(fn, specs, names, sample, method_name):
    def make_args(batch):
        if sample is not None:
            arrays = sample(batch)
        else:
            arrays = [_default_sample(s, batch) for s in specs]
        return [_wrap(np.asarray(a, dtype=object) if s.dtype.kind == "O"
                      else backend.asarray(np.asarray(a, dtype=s.dtype)))
                for a, s in zip(arrays, specs)]

    def call(*args):
        out = fn(*args)
        if isinstance(out, Tensor):
            out = {"output_0": out}
        if not isinstance(out, dict) or not all(isinstance(v, Tensor) for v in out.values()):
            raise TraceError("an exported function must return a Tensor or a dict of "
                             "alias -> Tensor")
        return dict(sorted(out.items()))

    graph, consts, variables, out = trace_graph(call, make_args)
    graph["output_aliases"] = list(out)
    aliases = {k: (v.dtype, (None,) + tuple(v.shape[1:]) if v.ndim else ())
               for k, v in out.items()}
    return ConcreteFunction(graph, consts, variables, specs, names, aliases, method_name)


class Function:
    """A Python function with an input signature; callable eagerly, traceable to a graph."""

    def __init__(self, fn, input_signature=None, sample_inputs=None,
                 method_name="tensorflow/serving/predict", capture=True, warmup_calls=2):
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.input_signature = None if input_signature is None else list(input_signature)
        self._sample = sample_inputs
        self.method_name = method_name
        self._concrete = None
        if not isinstance(capture, bool):
            raise TypeError(f"ef.function: capture must be a bool, got {capture!r}")
        if int(warmup_calls) < 1:
            raise ValueError(f"ef.function: warmup_calls must be >= 1, got {warmup_calls!r}")
        self._captures = Captures(fn, int(warmup_calls)) if capture else None

    def __call__(self, *args, **kwargs):
        if self._captures is None:
            return self._fn(*args, **kwargs)
        return self._captures(args, kwargs)

    def __get__(self, obj, objtype=None):
        """Decorating a method: bind like a function, one capture cache per instance."""
        if obj is None:
            return self
        cache = obj.__dict__.setdefault("_ef_functions", {})
        bound = cache.get(id(self))
        if bound is None:
            bound = cache[id(self)] = Function(
                self._fn.__get__(obj, objtype), self.input_signature, self._sample,
                self.method_name, capture=self._captures is not None,
                warmup_calls=self._captures.warmup if self._captures else 2)
        return bound

    @property
    def captured_signatures(self):
        """How many argument signatures replay a CUDA graph now (0 on the CPU)."""
        if self._captures is None:
            return 0
        return sum(e.captured is not None for e in self._captures.entries.values())

    @property
    def eager_reasons(self):
        """Why signatures run eagerly instead of replaying a graph: a list of messages."""
        if self._captures is None:
            return []
        return [e.eager_reason for e in self._captures.entries.values() if e.eager_reason]

    def get_concrete_function(self, *specs):
        """The traced graph (for ``input_signature``, or the specs given here)."""
        specs = list(specs) or self.input_signature
        if not specs:
            raise ValueError(f"{getattr(self._fn, '__name__', 'function')}: an input_signature "
                             "(list of ef.TensorSpec) is needed to trace it")
        flat = nest.flatten(specs)
        for s in flat:
            if not isinstance(s, TensorSpec):
                raise TypeError(f"input_signature entries must be ef.TensorSpec, got {s!r}")
        if self._concrete is None or specs is not self.input_signature:
            names = [s.name or f"input_{i}" for i, s in enumerate(flat)]
            self._concrete = _trace(self._fn, flat, names, self._sample, self.method_name)
        return self._concrete


def function(func=None, input_signature=None, sample_inputs=None,
             method_name="tensorflow/serving/predict", capture=True, warmup_calls=2,
             **_ignored):
    """Decorator: ``@ef.function(input_signature=[ef.TensorSpec(...)])`` (``tf.function``).

    On the GPU (CuPy backend) calls are captured into a CUDA graph after ``warmup_calls``
    eager calls with the same argument shapes, and later calls replay it: one launch for the
    whole step instead of one Python dispatch per op. Python side effects inside then run
    only at the warm-up calls and the capture, as in ``tf.function``; see
    :mod:`eagerflow.saved_model.capture` for what runs eagerly instead (logged). On the CPU
    calls run eagerly. TF's other keywords (``jit_compile``, ``reduce_retracing``...) are
    accepted and ignored.

    Args:
        input_signature: list of :class:`TensorSpec`; dim 0 ``None`` is the batch.
        sample_inputs: optional ``fn(batch_size) -> list of arrays`` used for tracing (e.g.
            valid serialized Examples); zeros / empty strings by default.
        method_name: the serving method of the signature it becomes.
        capture: False keeps every call eager on the GPU too.
        warmup_calls: eager calls of a signature before its capture (>= 1).

    Example:
        >>> import eagerflow as ef
        >>> w = ef.Variable([[1.0], [2.0]])
        >>> opt = ef.train.GradientDescentOptimizer(0.1)
        >>> @ef.function
        ... def train_step(x, y):
        ...     with ef.GradientTape() as tape:
        ...         loss = ef.reduce_mean(ef.square(ef.matmul(x, w) - y))
        ...     opt.apply_gradients([(tape.gradient(loss, w), w)])
        ...     return loss
        >>> float(train_step(ef.ones((4, 2)), ef.zeros((4, 1))))
        9.0
    """
    def wrap(f):
        return Function(f, input_signature, sample_inputs, method_name, capture,
                        warmup_calls)
    return wrap(func) if func is not None else wrap
