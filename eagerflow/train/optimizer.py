"""The optimizer base class: TF1's ``compute_gradients`` / ``apply_gradients`` / ``minimize``.

Slots are variables of the default store named ``<var>/<OptimizerName>[_k]`` (TF1's
names), found again by name and owner when a new optimizer object is built every step (an
Estimator's ``model_fn``). Each dense gradient is applied by one fused kernel
(:mod:`eagerflow.kernels.optimizer_updates`); an ``IndexedSlices`` gradient has its
duplicate indices summed first (TF's ``_deduplicate_indexed_slices``) and then updates only
its rows, unless TF1's ``_apply_sparse`` for that optimizer touches every row (plain Adam).

Example:
    >>> import eagerflow as ef
    >>> import eagerflow.train as train
    >>> w = ef.Variable([1.0, 2.0], name="w")
    >>> opt = train.GradientDescentOptimizer(0.5)
    >>> _ = opt.minimize(lambda: ef.reduce_sum(w * w), var_list=[w])
    >>> w.numpy().tolist()
    [0.0, 0.0]
"""
import numpy as np

from .. import backend
from ..backend import cuda_graph
from ..backend.dtypes import is_real_floating
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.state import recorders_state, suspended
from ..autograd.tape import GradientTape
from ..autograd.tensor import Tensor, convert_to_tensor
from ..autograd.variable import Variable
from ..kernels import optimizer_updates
from ..variables.partitioners import PartitionedVariable
from ..variables.store import get_default_store
from .distribution_context import current_reducer
from .global_step import get_global_step
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "TrainOp"]


_LR_CACHE = {}


class TrainOp:
    """What ``minimize``/``apply_gradients`` return: a token standing for TF's train op.

    Attributes:
        global_step: the global step variable that was incremented, or None.
    """

    __slots__ = ("global_step", "name")

    def __init__(self, global_step=None, name=None):
        self.global_step = global_step
        self.name = name

    def __repr__(self):
        return f"<TrainOp {self.name}>"


def _flatten_vars(var_list):
    out = []
    for v in var_list:
        if isinstance(v, PartitionedVariable):
            out.extend(v)
        else:
            out.append(v)
    return out


def _active_tape():
    for rec in reversed(recorders_state.recorders):
        if isinstance(rec, GradientTape):
            return rec
    return None


def _check_lr(value, what="learning_rate"):
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        if not value > 0:
            raise ValueError(f"{what} must be positive, got {value}")
    elif not (callable(value) or isinstance(value, Tensor)):
        raise TypeError(f"{what} must be a float, a Tensor, a schedule or a callable, got "
                        f"{type(value).__name__}")


class Optimizer:
    """Base class of the optimizers (``tf.train.Optimizer``).

    Subclasses set ``_rule`` (a rule of :mod:`~eagerflow.kernels.optimizer_updates`),
    ``_slot_specs`` (``(slot key, initial value)`` in TF's creation order) and
    ``_hyper()``.

    Args:
        use_locking: accepted for TF compatibility (updates are never concurrent).
        name: the suffix of slot names (``'Adam'``).
        check_numerics: when True, ``apply_gradients`` raises if a gradient holds NaN or
            Inf, naming the variable, before changing anything (this reads the gradients
            back to the host).
    """

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2
    _rule = None
    _slot_specs = ()
    _sparse_rule = None  # defaults to _rule

    def __init__(self, use_locking, name, check_numerics=False):
        if not name:
            raise ValueError("an optimizer must have a name")
        self._use_locking = use_locking
        self._name = name
        self.check_numerics = bool(check_numerics)
        self._iterations = 0
        self._learning_rate = None

    def get_name(self):
        return self._name

    # --- learning rate -------------------------------------------------------------------
    def _lr(self):
        lr = self._learning_rate
        if cuda_graph.capturing() and (isinstance(lr, LearningRateSchedule)
                                       or (callable(lr) and not isinstance(lr, Tensor))):
            # evaluated on the host once, it would be frozen into every replay
            raise RuntimeError(f"{self._name}: a learning-rate schedule or callable is "
                               "computed on the host and cannot be captured")
        if isinstance(lr, LearningRateSchedule):
            step = get_global_step()
            lr = lr(step if step is not None else self._iterations)
        elif callable(lr) and not isinstance(lr, Tensor):
            lr = lr()
        return lr

    @staticmethod
    def _lr_array(lr, var):
        if isinstance(lr, Tensor):
            return lr._data.astype(var.dtype).reshape(1)
        # a constant rate: one cached device array, not a host->device copy per step
        key = (float(lr), var.dtype.str, backend.device_of(var._data))
        arr = _LR_CACHE.get(key)
        if arr is None:
            if len(_LR_CACHE) > 256:
                _LR_CACHE.clear()
            xp = backend.array_module(var._data)
            arr = _LR_CACHE[key] = xp.full((1,), float(lr), dtype=var.dtype)
        return arr

    # --- slots ---------------------------------------------------------------------------
    def get_slot_names(self):
        """The slot keys this optimizer creates (``['m', 'v']`` for Adam)."""
        return [k for k, _ in self._active_slot_specs()]

    def _active_slot_specs(self):
        return list(self._slot_specs)

    def _slot_name(self, var, k):
        return f"{var.name}/{self._name}" + (f"_{k}" if k else "")

    def _get_or_make_slot(self, var, key, k, init):
        store = get_default_store()

        def make(name):
            xp = backend.array_module(var._data)
            a = xp.full(var._data.shape, init, dtype=var.dtype)
            return Variable(a, trainable=False, name=name)
        return store.get_owned(self._slot_name(var, k), ("slot", key, var), make)

    def get_slot(self, var, name):
        """The slot ``name`` of ``var``, or None if it was never created."""
        specs = self._active_slot_specs()
        for k, (key, _) in enumerate(specs):
            if key == name:
                store = get_default_store()
                cand = self._slot_name(var, k)
                j = 0
                while True:
                    n = cand if j == 0 else f"{cand}_{j}"
                    if n not in store:
                        return None
                    held = store._owners.get(n)
                    if held and held[1] == key and held[2]() is var:
                        return store[n]
                    j += 1
        return None

    def _slots(self, var):
        return [self._get_or_make_slot(var, key, k, init)
                for k, (key, init) in enumerate(self._active_slot_specs())]

    def variables(self):
        """Every slot and non-slot variable of this optimizer in the default store."""
        store = get_default_store()
        return [v for n, v in store._vars.items() if n in store._owners
                and self._owns(store._owners[n])]

    def _owns(self, owner):
        if owner[0] == "slot":
            return owner[1] in dict(self._active_slot_specs())
        return owner[0] == "non_slot" and owner[1] == self._name

    def _non_slot(self, name, init, var_list):
        first = min(var_list, key=lambda v: v.name)
        store = get_default_store()

        def make(n):
            xp = backend.array_module(first._data)
            return Variable(xp.asarray(init, dtype=first.dtype), trainable=False, name=n)
        return store.get_owned(name, ("non_slot", self._name, first), make)

    # --- the three steps -----------------------------------------------------------------
    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None, tape=None):
        """Gradients of ``loss`` for ``var_list``: a list of ``(gradient, variable)``.

        Args:
            loss: a zero-argument callable (run under a fresh tape), or a Tensor computed
                under ``tape`` or under the innermost active :class:`~eagerflow.GradientTape`
                (an Estimator's step tape).
            var_list: variables (default: the store's trainable variables plus the ones the
                tape watched).
            grad_loss: optional gradient of ``loss``.
            tape: the tape that recorded ``loss``.

        Raises:
            RuntimeError: when ``loss`` is a Tensor and no tape recorded it.
        """
        if callable(loss) and not isinstance(loss, Tensor):
            with GradientTape() as t:
                if var_list is not None:
                    t.watch(_flatten_vars(var_list))
                loss_value = loss()
            tape = t
        else:
            loss_value = loss
            tape = tape or _active_tape()
            if tape is None:
                raise RuntimeError(
                    "compute_gradients: loss is a Tensor but no GradientTape recorded it; "
                    "pass a zero-argument callable, or compute the loss under "
                    "ef.GradientTape() and pass tape=")
        if var_list is None:
            seen, var_list = set(), []
            for v in list(get_default_store().trainable_variables()) + list(
                    tape.watched_variables()):
                if id(v) not in seen and v.trainable:
                    seen.add(id(v))
                    var_list.append(v)
        var_list = _flatten_vars(var_list)
        if not var_list:
            raise ValueError("compute_gradients: no variables to optimize")
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"compute_gradients: var_list entries must be Variables, got "
                                f"{type(v).__name__}")
        grads = tape.gradient(loss_value, var_list, output_gradients=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the gradients; increments ``global_step`` by one when given.

        Raises:
            ValueError: when no variable has a gradient, a gradient's shape does not match
                its variable, or (with ``check_numerics``) a gradient is not finite. Nothing
                is changed then.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("apply_gradients: no variables provided")
        todo = []
        for g, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(f"apply_gradients: expected a Variable, got {type(v).__name__}")
            if g is None:
                continue
            todo.append((self._validated(g, v), v))
        if not todo:
            names = [v.name for _, v in pairs]
            raise ValueError(f"No gradients provided for any variable: {names}")
        reducer = current_reducer()
        if reducer is not None:  # under a distribution strategy's scope: average replicas
            todo = reducer(todo)
        if self.check_numerics:
            for g, v in todo:
                vals = g.values._data if isinstance(g, IndexedSlices) else g._data
                xp = backend.array_module(vals)
                if not bool(xp.isfinite(vals).all()):
                    raise ValueError(f"apply_gradients: the gradient of variable {v.name} "
                                     "contains NaN or Inf")
        var_list = [v for _, v in todo]
        with suspended():
            lr = self._lr()
            self._prepare(var_list)
            for g, v in todo:
                if isinstance(g, IndexedSlices):
                    self._apply_sparse_duplicate_indices(g, v, lr)
                else:
                    self._apply_dense(g._data, v, lr)
            self._finish(var_list)
            if global_step is not None:
                global_step.assign_add(1)
        self._iterations += 1
        return TrainOp(global_step, name or self._name)

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None, tape=None):
        """``compute_gradients`` then ``apply_gradients`` (see both)."""
        gv = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss, tape=tape)
        return self.apply_gradients(gv, global_step=global_step, name=name)

    # --- validation and the per-variable updates ------------------------------------------
    def _validated(self, g, v):
        if isinstance(g, IndexedSlices):
            if tuple(g.dense_shape) != tuple(v.shape):
                raise ValueError(f"apply_gradients: sparse gradient of dense shape "
                                 f"{tuple(g.dense_shape)} does not match variable {v.name} "
                                 f"of shape {tuple(v.shape)}")
            if tuple(g.values.shape[1:]) != tuple(v.shape[1:]):
                raise ValueError(f"apply_gradients: sparse gradient rows of shape "
                                 f"{tuple(g.values.shape[1:])} do not match variable "
                                 f"{v.name} of shape {tuple(v.shape)}")
            return g
        g = convert_to_tensor(g)
        if tuple(g.shape) != tuple(v.shape):
            raise ValueError(f"apply_gradients: gradient of shape {tuple(g.shape)} does not "
                             f"match variable {v.name} of shape {tuple(v.shape)}")
        if not is_real_floating(g.dtype):
            raise TypeError(f"apply_gradients: gradient of {v.name} has dtype {g.dtype}")
        return g

    def _prepare(self, var_list):
        """Hook before the updates (creates non-slot variables)."""

    def _finish(self, var_list):
        """Hook after the updates (Adam's beta powers)."""

    def _hyper(self, var):
        return {}

    def _apply_sparse_duplicate_indices(self, grad, var, lr):
        """Sums duplicate rows, then applies ``_apply_sparse`` (TF1's hook of this name)."""
        idx, vals = optimizer_updates.deduplicate_rows(grad.indices._data, grad.values._data,
                                                       var.shape[0])
        self._apply_sparse(vals, idx, var, lr)

    def _apply_dense(self, grad, var, lr):
        optimizer_updates.apply_dense(self._rule, var._data, [s._data for s in self._slots(var)],
                                      grad, self._lr_array(lr, var), **self._hyper(var))

    def _apply_sparse(self, values, indices, var, lr):
        optimizer_updates.apply_sparse(self._sparse_rule or self._rule, var._data,
                                       [s._data for s in self._slots(var)], indices, values,
                                       self._lr_array(lr, var), **self._hyper(var))

