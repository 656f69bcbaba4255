"""Streaming-metric plumbing: state variables in the store and the live value object.

A metric function (``auc``, ``mean``...) opens its variable scope (``name`` or a unique
default such as ``auc``/``auc_1``), gets its state variables there (zeros of the dtype below, not
trainable, in the ``local_variables`` and ``metric_variables`` collections, so checkpoints
see them and :func:`reset_metrics` zeroes them), adds the batch to them at once, and
returns ``(value, update_op)`` like ``tf.metrics``:

- ``value`` is a :class:`MetricValue`: a Tensor whose contents are recomputed from the
  state every time it is read, so an Estimator can read it after the last batch;
- ``update_op`` is the metric's value right after this batch's update.

State dtypes follow TF's metrics_impl: the mean family (``mean``, ``accuracy``, the error
means, ``mean_tensor``, ``percentage_below``, ``mean_per_class_accuracy``) and the
condition counts (``true_positives`` ..., ``precision``, ``recall``) keep float32 ``total``
/ ``count`` and add each batch's float32 sum to them, so their values are float32 and round
as TF's do (a float32 total stops growing by 1 past 2**24); ``mean_iou``'s confusion matrix
is float64, as TF's. The thresholded family of ``auc.py`` keeps float64 counts.

``metrics_collections`` / ``updates_collections`` (a name or a list of names) add the
value / the update op to those collections of the default store, as TF adds them to the
graph's (:func:`add_to_collections`).

Unnamed metrics are made unique per ``VariableStore.as_default()`` session, as TF names
them per graph: call them inside one (an Estimator does) or pass ``name=``.
"""
import functools
import inspect

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap, convert_to_tensor
from ..variables import initializers as init_ops
from ..variables.store import GraphKeys, get_default_store, get_variable, variable_scope

__all__ = ["MetricValue", "metric_variables", "reset_metrics", "metric_state",
           "as_array", "weights_like", "squeeze_pair", "same_shape", "add_to_collections",
           "collected"]


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


def weights_like(weights, values, dtype=np.float64):
    """``weights`` broadcast to ``values``' shape as ``dtype`` (ones when None)."""
    xp = backend.array_module(values)
    if weights is None:
        return xp.ones(values.shape, dtype=dtype)
    w = as_array(weights, dtype)
    if w.ndim and w.ndim == values.ndim + 1 and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])  # TF's _remove_squeezable_dimensions squeezes weights
    if w.ndim < values.ndim:  # TF lets (batch,) weights apply to (batch, 1) values
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        return xp.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(f"weights of shape {tuple(w.shape)} do not broadcast to values of "
                         f"shape {tuple(values.shape)}") from None


def add_to_collections(names, value):
    """TF's ``ops.add_to_collections`` on the default store: ``names`` is one collection
    name (a string) or an iterable of names (each used once); None or empty adds nothing."""
    if not names:
        return
    names = (names,) if isinstance(names, str) else set(names)
    store = get_default_store()
    for name in names:
        store.add_to_collection(name, value)


def collected(fn):
    """Decorator of a public metric ``fn(..., metrics_collections=None,
    updates_collections=None, ...) -> (value, update_op)``: adds ``value`` to
    ``metrics_collections`` and ``update_op`` to ``updates_collections``, as TF's metrics
    do (whatever the metric computes inside is not added)."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        value, update_op = fn(*args, **kwargs)
        add_to_collections(bound.arguments.get("metrics_collections"), value)
        add_to_collections(bound.arguments.get("updates_collections"), update_op)
        return value, update_op
    return wrapper
