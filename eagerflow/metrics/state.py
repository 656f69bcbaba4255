"""Streaming-metric plumbing: state variables in the store and the live value object.

A metric function (``auc``, ``mean``...) opens its variable scope (``name`` or a unique
default such as ``auc``/``auc_1``), gets its state variables there (float64 zeros, not
trainable, in the ``local_variables`` and ``metric_variables`` collections, so checkpoints
see them and :func:`reset_metrics` zeroes them), adds the batch to them at once, and
returns ``(value, update_op)`` like ``tf.metrics``:

- ``value`` is a :class:`MetricValue`: a Tensor whose contents are recomputed from the
  state every time it is read, so an Estimator can read it after the last batch;
- ``update_op`` is the metric's value right after this batch's update.

The state is float64 (TF keeps float32) so counts stay exact past 2**24 examples.
Unnamed metrics are made unique per ``VariableStore.as_default()`` session, as TF names
them per graph: call them inside one (an Estimator does) or pass ``name=``.
"""
import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap, convert_to_tensor
from ..variables import initializers as init_ops
from ..variables.store import GraphKeys, get_default_store, get_variable, variable_scope

__all__ = ["MetricValue", "metric_variables", "reset_metrics", "metric_state",
           "as_array", "weights_like", "squeeze_pair", "same_shape"]


class MetricValue(Tensor):
    """A read-only Tensor computed from a metric's state whenever it is read."""

    __slots__ = ("_compute", "_metric_name")

    def __init__(self, compute, name):
        self._compute = compute
        self._metric_name = name

    @property
    def _data(self):
        return self._compute()

    @property
    def name(self):
        return self._metric_name

    def result(self):
        """The current value as a plain Tensor."""
        return _wrap(self._compute())

    def __repr__(self):
        return f"<MetricValue '{self._metric_name}' = {self.numpy()!r}>"


def metric_state(names, shape=(), dtype=np.float64):
    """The state variables ``names`` of the current (metric) scope, created as zeros."""
    out = []
    for n in names:
        out.append(get_variable(n, shape=shape, dtype=dtype,
                                initializer=init_ops.Zeros(), trainable=False,
                                collections=[GraphKeys.LOCAL_VARIABLES,
                                             GraphKeys.METRIC_VARIABLES]))
    return out


def open_scope(name, default_name):
    return variable_scope(name, default_name=default_name)


def metric_variables():
    """The state variables of every metric in the default store."""
    return get_default_store().get_collection(GraphKeys.METRIC_VARIABLES)


def reset_metrics():
    """Zeroes every metric's state in the default store (start of an evaluation)."""
    store = get_default_store()
    vars_ = store.get_collection(GraphKeys.METRIC_VARIABLES)
    if vars_:
        store.reinitialize(vars_)
    for buf in store.get_collection("metric_buffers"):
        buf.reset()


def as_array(x, dtype=None):
    """The raw backend array of ``x`` (a Tensor or a value), cast to ``dtype``."""
    t = x if isinstance(x, Tensor) else convert_to_tensor(x)
    a = t._data
    return a if dtype is None else a.astype(dtype, copy=False)


def squeeze_pair(labels, predictions, expected_rank_diff=0):
    """TF's ``confusion_matrix.remove_squeezable_dimensions`` on raw arrays: when the ranks
    differ by one (beyond ``expected_rank_diff``) and the longer one ends in 1, that last
    dimension is squeezed, so ``(batch, 1)`` labels meet ``(batch,)`` predictions."""
    diff = predictions.ndim - labels.ndim
    if diff == expected_rank_diff + 1 and predictions.shape[-1] == 1:
        predictions = predictions.reshape(predictions.shape[:-1])
    elif diff == expected_rank_diff - 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    return labels, predictions


def same_shape(labels, predictions, what):
    """Squeezes as TF does, then requires equal shapes (TF's static
    ``assert_is_compatible_with``; NumPy broadcasting would silently make (n, n))."""
    labels, predictions = squeeze_pair(labels, predictions)
    if tuple(labels.shape) != tuple(predictions.shape):
        raise ValueError(f"{what}: labels of shape {tuple(labels.shape)} and predictions "
                         f"of shape {tuple(predictions.shape)} are incompatible")
    return labels, predictions


def weights_like(weights, values):
    """``weights`` broadcast to ``values``' shape as float64 (ones when None)."""
    xp = backend.array_module(values)
    if weights is None:
        return xp.ones(values.shape, dtype=np.float64)
    w = as_array(weights, np.float64)
    if w.ndim and w.ndim == values.ndim + 1 and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])  # TF's _remove_squeezable_dimensions squeezes weights
    if w.ndim < values.ndim:  # TF lets (batch,) weights apply to (batch, 1) values
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        return xp.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(f"weights of shape {tuple(w.shape)} do not broadcast to values of "
                         f"shape {tuple(values.shape)}") from None
