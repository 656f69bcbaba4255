"""Step capture for ``ef.function`` on the GPU: run a call eagerly a few times, capture it
into a CUDA graph, replay the graph for later calls with the same input shapes.

This is the answer to per-op Python overhead at small batches: a replay costs one launch
plus the copies of the inputs, whatever the number of ops inside (a CTR step has hundreds).

Semantics are ``tf.function``'s: Python code inside the function runs when the graph is
made (here: at the capture), not on every call, so Python side effects (appending to a
list, counting calls, printing) happen at the warm-up calls and the capture only. Tensors
passed as arguments are inputs (copied into the graph's buffers on each call); variables are
read and updated in place at their addresses; other arguments (Python numbers, strings,
flags) are part of the signature: a new value makes a new capture, as a retrace does in TF.

A call is run eagerly instead, with the reason logged once per signature, when:
the backend is NumPy; a ``GradientTape`` outside the function is recording (it would need
the ops); an argument is neither a tensor nor hashable; or the capture fails (a host read
such as ``float(loss)`` or ``unique``, cuRAND-based random ops such as dropout, a batched
matmul, a variable created inside, a learning-rate schedule evaluated on the host).
"""
import logging

import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.state import recorders_state
from ..autograd.tensor import Tensor, _wrap
from ..autograd.variable import Variable
from ..backend import cuda_graph

__all__ = ["Captures"]

log = logging.getLogger("eagerflow")

_MAX_SIGNATURES = 64  # as tf.function warns about retracing: each capture holds memory
_VALUE_TYPES = (int, float, bool, str, bytes, type(None), np.generic)


class _Input:
    """A tensor argument's place in the flattened arguments."""
    __slots__ = ("pos",)

    def __init__(self, pos):
        self.pos = pos


class _Entry:
    __slots__ = ("calls", "captured", "eager_reason", "out_structure", "out_slots")

    def __init__(self):
        self.calls = 0
        self.captured = None
        self.eager_reason = None
        self.out_structure = None
        self.out_slots = None


class Captures:
    """The captured graphs of one Python function, by argument signature.

    Args:
        fn: the Python function.
        warmup: eager calls of a signature before it is captured (the first one creates
            variables and optimizer slots, compiles kernels and initialises cuBLAS).
    """

    def __init__(self, fn, warmup=2):
        self.fn = fn
        self.warmup = int(warmup)
        self.entries = {}
        self.warned_full = False

    def __call__(self, args, kwargs):
        flat = nest.flatten((args, kwargs))
        if any(backend.is_array(x) for x in flat):
            # NumPy/CuPy arguments become tensors, as tf.function converts them
            flat = [_wrap(backend.asarray(x)) if backend.is_array(x) else x for x in flat]
            args, kwargs = nest.pack_sequence_as((args, kwargs), flat)
        if not cuda_graph.supported() or recorders_state.recorders:
            return self.fn(*args, **kwargs)
        key, arrays = self._signature(flat)
        if key is None:
            return self.fn(*args, **kwargs)
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= _MAX_SIGNATURES:
                if not self.warned_full:
                    self.warned_full = True
                    log.warning("%s: more than %d argument signatures; new ones run "
                                "eagerly (pass tensors, not changing Python values)",
                                self._name(), _MAX_SIGNATURES)
                return self.fn(*args, **kwargs)
            entry = self.entries[key] = _Entry()
        if entry.captured is not None and not entry.captured.valid:
            log.info("%s: a variable got a new buffer (restore or device move); capturing "
                     "again", self._name())
            entry.captured, entry.calls = None, self.warmup
        if entry.eager_reason is not None or entry.calls < self.warmup:
            entry.calls += 1
            return self.fn(*args, **kwargs)
        if entry.captured is None:
            try:
                self._capture(entry, args, kwargs, flat, arrays)
            except cuda_graph.NotCapturable as e:
                entry.eager_reason = str(e)
                log.warning("%s: not captured into a CUDA graph, running eagerly: %s",
                            self._name(), e)
                return self.fn(*args, **kwargs)
        outs = entry.captured.replay(arrays)
        # the next replay overwrites the graph's output buffers: hand out copies
        leaves = [_wrap(outs[s].copy()) if isinstance(s, int) else s.value
                  for s in entry.out_slots]
        return nest.pack_sequence_as(entry.out_structure, leaves)

    def _name(self):
        return getattr(self.fn, "__qualname__", None) or repr(self.fn)

    @staticmethod
    def _signature(flat):
        """(key, input arrays): tensors/arrays are inputs keyed by shape and dtype,
        variables by identity, anything else by value; key None when unhashable."""
        key, arrays = [], []
        for leaf in flat:
            if isinstance(leaf, Variable):
                key.append(("V", id(leaf)))
            elif isinstance(leaf, Tensor):
                a = leaf._data
                if a.dtype.kind == "O":
                    return None, None
                key.append(("T", tuple(a.shape), a.dtype.str))
                arrays.append(a)
            elif isinstance(leaf, _VALUE_TYPES):
                key.append(("P", type(leaf).__name__, leaf))
            else:  # other objects (SparseTensor, models...): no value semantics to key on
                return None, None
        return tuple(key), arrays

    def _capture(self, entry, args, kwargs, flat, arrays):
        static = cuda_graph.static_inputs(arrays)
        it = iter(static)
        leaves = [_wrap(next(it)) if isinstance(x, Tensor) and not isinstance(x, Variable)
                  else x for x in flat]
        args2, kwargs2 = nest.pack_sequence_as((args, kwargs), leaves)
        holder = {}

        def run():
            out = self.fn(*args2, **kwargs2)
            holder["out"] = out
            slots, bufs = [], []
            for leaf in nest.flatten(out):
                if isinstance(leaf, Tensor):
                    slots.append(len(bufs))
                    bufs.append(leaf._data)
                else:
                    slots.append(_Const(leaf))
            holder["slots"] = slots
            return bufs

        entry.captured = cuda_graph.capture(run, static)
        entry.out_structure = holder["out"]
        entry.out_slots = holder["slots"]
        log.info("%s: captured into a CUDA graph (%d inputs, %d outputs)", self._name(),
                 len(static), len(entry.captured.outputs))


class _Const:
    """A non-tensor output leaf, returned as it was at the capture."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value
