"""``GradientTape``: records ops on watched tensors and computes gradients in reverse.

A tape records an op when one of its inputs is watched (explicitly, by being the output
of a recorded op, or, for trainable variables, by being read while the tape is active).
``gradient()`` walks the recorded nodes in reverse order, calling each op's vjp. The vjps
are eagerflow ops, so an outer tape records the backward pass of an inner one, which is how
second-order gradients work; with no outer tape nothing records and the pass stays cheap.
"""
from .. import backend
from ..backend.dtypes import is_floating
from . import nest
from .indexed_slices import IndexedSlices
from .registry import get
from .state import pop, push, recorders_state, suspended
from .tensor import Tensor, _wrap
from .variable import Variable

__all__ = ["GradientTape", "UnconnectedGradients", "no_grad", "stop_recording"]


class UnconnectedGradients:
    """What ``gradient()`` returns for a source the target does not depend on."""
    NONE = "none"
    ZERO = "zero"


class _Node:
    __slots__ = ("op", "inputs", "outputs", "attrs")

    def __init__(self, op, inputs, outputs, attrs):
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs


def _is_float(t):
    return is_floating(t._data.dtype)


class GradientTape:
    """Records operations for automatic differentiation (``tf.GradientTape``).

    Args:
        persistent: allow more than one ``gradient()`` call (the recording is kept).
        watch_accessed_variables: watch trainable variables read inside the context.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.constant(3.0)
        >>> with ef.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> float(tape.gradient(y, x))
        6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._auto = bool(watch_accessed_variables)
        self._watched = {}
        self._nodes = []
        self._used = False
        self._depth = 0

    # --- context -------------------------------------------------------------------
    def __enter__(self):
        if self._depth:
            raise ValueError("this GradientTape is already recording")
        self._depth += 1
        push(self)
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        pop(self)
        return False

    # --- recording -------------------------------------------------------------------
    def watch(self, tensor):
        """Makes the tape record ops on ``tensor`` (a Tensor or a nested structure)."""
        for t in nest.flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a Tensor or Variable, got "
                                f"{type(t).__name__}")
            self._watched[id(t)] = t

    def watched_variables(self):
        """The variables this tape has watched, in the order it met them."""
        return tuple(t for t in self._watched.values() if isinstance(t, Variable))

    def stop_recording(self):
        """A context in which this tape records nothing (``tape.stop_recording()``)."""
        return suspended(keep=lambda r: r is not self)

    def reset(self):
        """Forgets everything recorded and watched so far."""
        self._watched = {}
        self._nodes = []
        self._used = False

    def record(self, op, inputs, result, attrs):
        if op.vjp is None:
            return
        w = self._watched
        hit = False
        for x in inputs:
            if isinstance(x, Tensor):
                if id(x) in w:
                    hit = True
                elif self._auto and isinstance(x, Variable) and x._trainable:
                    w[id(x)] = x
                    hit = True
        if not hit:
            return
        if op.multi:
            for o in result:
                if _is_float(o):
                    w[id(o)] = o
        elif _is_float(result):
            w[id(result)] = result
        self._nodes.append(_Node(op, inputs, result, attrs))

    # --- differentiation -------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """Gradients of ``target`` with respect to ``sources``.

        Args:
            target: a Tensor or nested structure of Tensors; non-scalar targets are summed
                (their output gradient defaults to ones).
            sources: a Tensor/Variable or nested structure of them.
            output_gradients: optional gradients of ``target``, same structure.
            unconnected_gradients: ``'none'`` (return None) or ``'zero'``.

        Returns:
            Gradients in the structure of ``sources``: Tensors, or ``IndexedSlices`` for
            sources used only through gathers.

        Raises:
            RuntimeError: on a second call to a non-persistent tape.
            ValueError: for a source of integer dtype.
        """
        if self._used and not self._persistent:
            raise RuntimeError("a non-persistent GradientTape can only be used to compute "
                               "one set of gradients; use GradientTape(persistent=True)")
        if unconnected_gradients not in (UnconnectedGradients.NONE, UnconnectedGradients.ZERO):
            raise ValueError("unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}")
        flat_sources = nest.flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise TypeError(f"gradient: sources must be Tensors or Variables, got "
                                f"{type(s).__name__}")
            if not _is_float(s):
                raise ValueError(f"gradient: the dtype of a source must be floating, got "
                                 f"{s.dtype} (source shape {tuple(s.shape)})")
        flat_targets = nest.flatten(target)
        if output_gradients is None:
            flat_og = [None] * len(flat_targets)
        else:
            flat_og = nest.flatten(output_gradients)
            if len(flat_og) != len(flat_targets):
                raise ValueError("gradient: output_gradients must match target's structure")
        with suspended(keep=lambda r: r is not self):
            grads = backprop(self._nodes, flat_targets, flat_og, flat_sources, self._watched)
        if not self._persistent:
            self._used = True
            self._nodes = []
            # free intermediate results; keep variables for watched_variables()
            self._watched = {k: v for k, v in self._watched.items() if isinstance(v, Variable)}
        if unconnected_gradients == UnconnectedGradients.ZERO:
            zeros_like = get("zeros_like")
            grads = [zeros_like(s) if g is None else g for s, g in zip(flat_sources, grads)]
        return nest.pack_sequence_as(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE):
        """The Jacobian of ``target`` w.r.t. each source: shape ``target.shape + source.shape``."""
        flat_sources = nest.flatten(sources)
        n = target._data.size
        rows = [[] for _ in flat_sources]
        reshape = get("reshape")
        concat = get("concat")
        zeros_like = get("zeros_like")
        xp = backend.array_module(target._data)
        with suspended(keep=lambda r: r is not self):
            for i in range(n):
                onehot = xp.zeros(n, dtype=target._data.dtype)
                onehot[i] = 1
                og = _wrap(onehot.reshape(target._data.shape))
                gs = backprop(self._nodes, [target], [og], flat_sources, self._watched)
                for r, s, g in zip(rows, flat_sources, gs):
                    if isinstance(g, IndexedSlices):
                        g = g.to_dense()
                    g = zeros_like(s) if g is None else g
                    r.append(reshape(g, shape=(1,) + tuple(s.shape)))
        if not self._persistent:
            self._used = True
            self._nodes = []
        out = []
        for r, s in zip(rows, flat_sources):
            stacked = concat(*r, axis=0) if len(r) > 1 else r[0]
            out.append(reshape(stacked, shape=tuple(target.shape) + tuple(s.shape)))
        return nest.pack_sequence_as(sources, out)


def _accumulate(grads, key, g):
    prev = grads.get(key)
    if prev is None:
        grads[key] = g
        return
    if isinstance(prev, IndexedSlices) and isinstance(g, IndexedSlices):
        concat = get("concat")
        grads[key] = IndexedSlices(concat(prev.values, g.values, axis=0),
                                   concat(prev.indices, g.indices, axis=0), prev.dense_shape)
        return
    if isinstance(prev, IndexedSlices):
        prev = prev.to_dense()
    if isinstance(g, IndexedSlices):
        g = g.to_dense()
    grads[key] = get("add")(prev, g)


def backprop(nodes, targets, output_grads, sources, watched):
    """Reverse-mode pass over recorded ``nodes``; returns one gradient per source.

    Sources the tape never watched get None, as in TF.
    """
    source_ids = {id(s) for s in sources if id(s) in watched}
    reach = set(source_ids)
    useful = []
    for node in nodes:
        for x in node.inputs:
            if isinstance(x, Tensor) and id(x) in reach:
                useful.append(node)
                outs = node.outputs if node.op.multi else (node.outputs,)
                for o in outs:
                    reach.add(id(o))
                break
    grads = {}
    ones_like = get("ones_like")
    for t, og in zip(targets, output_grads):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradient: target must be a Tensor, got {type(t).__name__}")
        if og is None:
            og = ones_like(t)
        elif not isinstance(og, (Tensor, IndexedSlices)):
            og = _wrap(_to_like(og, t))
        if isinstance(og, Tensor) and tuple(og.shape) != tuple(t.shape):
            raise ValueError(f"gradient: output gradient of shape {tuple(og.shape)} does not "
                             f"match target shape {tuple(t.shape)}")
        _accumulate(grads, id(t), og)
    for node in reversed(useful):
        op = node.op
        if op.multi:
            gs = [grads.get(id(o)) for o in node.outputs]
            if all(g is None for g in gs):
                continue
            zeros_like = get("zeros_like")
            g = tuple(zeros_like(o) if gi is None else _dense(gi)
                      for o, gi in zip(node.outputs, gs))
            for o in node.outputs:
                if id(o) not in source_ids:
                    grads.pop(id(o), None)
        else:
            g = grads.get(id(node.outputs))
            if g is None:
                continue
            if id(node.outputs) not in source_ids:
                del grads[id(node.outputs)]
            g = _dense(g)
        needs = [isinstance(x, Tensor) and id(x) in reach and _is_float(x) for x in node.inputs]
        in_grads = op.vjp(g, node.outputs, node.inputs, node.attrs, needs)
        for x, need, gx in zip(node.inputs, needs, in_grads):
            if need and gx is not None:
                _accumulate(grads, id(x), gx)
    return [grads.get(id(s)) if id(s) in source_ids else None for s in sources]


def _dense(g):
    return g.to_dense() if isinstance(g, IndexedSlices) else g


def _to_like(value, t):
    xp = backend.array_module(t._data)
    return xp.asarray(value, dtype=t._data.dtype)


class no_grad:
    """Context manager and decorator: nothing inside is recorded by any tape.

    Example:
        >>> import eagerflow as ef
        >>> with ef.no_grad():
        ...     y = ef.constant(2.0) * 3.0
    """

    def __enter__(self):
        self._s = suspended()
        self._s.__enter__()
        return self

    def __exit__(self, *exc):
        return self._s.__exit__(*exc)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with suspended():
                return fn(*a, **k)
        return wrapper


def stop_recording():
    """Pauses every active tape (TF's ``tape_lib.stop_recording``)."""
    return suspended()


def recording():
    """True while some tape or tracer is recording in this thread."""
    return bool(recorders_state.recorders)
