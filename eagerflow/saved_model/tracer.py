"""Turning an eager forward pass into an op graph with a dynamic batch dimension.

The function runs twice, on batches of :data:`BATCH_A` and :data:`BATCH_B` examples, with a
:class:`Tracer` recording every registered op (name, attributes, inputs). The two records
must have the same structure; an attribute (or constant) that differs between them must be
``k * batch`` (a reshape to ``(batch, n)``, ``(batch * 26, 16)``...), and becomes the symbol
``{"__batch__": k}`` that the runtime fills with the real batch size. Anything else that
changes with the inputs means the computation left the op graph (host code on the values),
and tracing fails naming the op.
"""
import numpy as np

from .. import backend
from ..autograd import nest
from ..autograd.state import recorders_state
from ..autograd.tensor import Tensor
from ..autograd.variable import Variable
from .graph_format import encode

__all__ = ["Tracer", "trace_graph", "TraceError", "BATCH_A", "BATCH_B"]

BATCH_A, BATCH_B = 5, 7


class TraceError(ValueError):
    """The function cannot be exported as a graph (the message says where and why)."""


class Tracer:
    """A recorder that keeps every executed op; see the module docstring."""

    def __init__(self):
        self.nodes = []
        self._ids = {}
        self._keep = []
        self.consts = []  # captured arrays, in order of first use
        self._const_ids = {}
        self.variables = {}  # name -> Variable

    def tid(self, t):
        return self._ids.get(id(t))

    def add_placeholder(self, t):
        self._keep.append(t)
        self._ids[id(t)] = len(self._ids)
        return self._ids[id(t)]

    def _ref(self, x):
        if isinstance(x, Variable):
            name = x.name
            other = self.variables.get(name)
            if other is not None and other is not x:
                raise TraceError(f"two different variables are named {name!r}; give them "
                                 "unique names to export")
            self.variables[name] = x
            return {"var": name}
        if isinstance(x, Tensor):
            t = self._ids.get(id(x))
            if t is not None:
                return {"t": t}
            return {"const": self._const(x._data)}
        if backend.is_array(x):
            return {"const": self._const(x)}
        return {"lit": encode(x)}

    def _const(self, a):
        key = id(a)
        cid = self._const_ids.get(key)
        if cid is None:
            cid = len(self.consts)
            self.consts.append(backend.to_numpy(a))
            self._const_ids[key] = cid
            self._keep.append(a)
        return cid

    def record(self, op, inputs, result, attrs):
        if op.forward is None:
            return
        refs = [self._ref(x) for x in inputs]
        outs = result if op.multi else (result,)
        out_ids = []
        for o in outs:
            self._keep.append(o)
            self._ids[id(o)] = len(self._ids)
            out_ids.append(self._ids[id(o)])
        try:
            enc = {k: encode(v) for k, v in attrs.items()}
        except TypeError as e:
            raise TraceError(f"op {op.name}: {e}") from None
        self.nodes.append({"op": op.name, "inputs": refs, "attrs": enc, "outputs": out_ids,
                           "multi": op.multi,
                           "module": getattr(op.forward, "__module__", None)})

    def output_ref(self, t):
        if not isinstance(t, Tensor):
            raise TraceError(f"outputs must be Tensors, got {type(t).__name__}")
        return self._ref(t)


def _run(fn, args):
    tracer = Tracer()
    flat = nest.flatten(args)
    for t in flat:
        tracer.add_placeholder(t)
    saved = recorders_state.recorders
    recorders_state.recorders = [tracer]  # no tape while tracing: inference only
    try:
        out = fn(*args)
    finally:
        recorders_state.recorders = saved
    return tracer, out


def _merge(a, b, batch_a, batch_b, where):
    """Merges two encoded values; differences must be multiples of the batch."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            raise TraceError(f"{where}: the traced structure changed between batch sizes")
        if "__ndarray__" in a:
            if a == b:
                return a
            raise TraceError(f"{where}: an array attribute depends on the input values")
        return {k: _merge(a[k], b[k], batch_a, batch_b, f"{where}.{k}") for k in a}
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise TraceError(f"{where}: the traced structure changed between batch sizes")
        return [_merge(x, y, batch_a, batch_b, where) for x, y in zip(a, b)]
    if a == b:
        return a
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        if a % batch_a == 0 and b % batch_b == 0 and a // batch_a == b // batch_b:
            return {"__batch__": a // batch_a}
    raise TraceError(f"{where}: the value {a!r} / {b!r} changes with the inputs in a way a "
                     "graph cannot express (is some of this computation done outside "
                     "eagerflow ops, on the host?)")


def trace_graph(fn, make_args):
    """Traces ``fn(*make_args(batch))`` at two batch sizes; returns ``(graph, outputs_a)``.

    ``graph`` is a JSON-able dict: placeholders, nodes, constants (NumPy arrays, separate),
    variables, and the output refs in the structure ``fn`` returned.
    """
    ta, out_a = _run(fn, make_args(BATCH_A))
    tb, out_b = _run(fn, make_args(BATCH_B))
    if len(ta.nodes) != len(tb.nodes):
        raise TraceError(f"the function ran {len(ta.nodes)} ops on a batch of {BATCH_A} but "
                         f"{len(tb.nodes)} on a batch of {BATCH_B}; its graph must not depend "
                         "on the batch size or the input values")
    nodes = []
    for i, (na, nb) in enumerate(zip(ta.nodes, tb.nodes)):
        where = f"op #{i} ({na['op']})"
        if na["op"] != nb["op"]:
            raise TraceError(f"{where}: the op sequence changed between batch sizes")
        nodes.append(dict(na, inputs=_merge(na["inputs"], nb["inputs"], BATCH_A, BATCH_B, where),
                          attrs=_merge(na["attrs"], nb["attrs"], BATCH_A, BATCH_B, where)))
    # output refs first: an output that is a constant (computed by no op) registers its
    # array as a constant too, and must be in the list below
    outputs = [ta.output_ref(t) for t in nest.flatten(out_a)]
    outputs_b = [tb.output_ref(t) for t in nest.flatten(out_b)]
    if len(outputs) != len(outputs_b) or len(ta.consts) != len(tb.consts):
        raise TraceError("the function's outputs changed between batch sizes")
    outputs = [_merge(ra, rb, BATCH_A, BATCH_B, f"output #{i}")
               for i, (ra, rb) in enumerate(zip(outputs, outputs_b))]
    consts = []
    for cid, (ca, cb) in enumerate(zip(ta.consts, tb.consts)):
        if ca.shape != cb.shape or not _same(ca, cb):
            user = next((f"op {n['op']}" for n in ta.nodes if {"const": cid} in n["inputs"]),
                        "an output")
            raise TraceError(f"a constant input of {user} differs between batch sizes "
                             f"(shapes {ca.shape} and {cb.shape}): it was computed outside "
                             "eagerflow ops, so the graph cannot reproduce it")
        consts.append(ca)
    graph = {"nodes": nodes, "num_placeholders": len(nest.flatten(make_args(1))),
             "outputs": outputs}
    return graph, consts, ta.variables, out_a


def _same(a, b):
    if a.dtype.kind == "O":
        return a.tolist() == b.tolist()
    return np.array_equal(a, b, equal_nan=True)


