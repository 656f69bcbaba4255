"""``tf.metrics``' mean family and confusion counts: ``mean``, ``accuracy``,
``mean_squared_error``, ``root_mean_squared_error``, ``mean_absolute_error``,
``true_positives`` / ``false_positives`` / ``true_negatives`` / ``false_negatives``,
``precision``, ``recall``.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     value, update = mean(ef.constant([1.0, 3.0]), name="m")
    ...     _ = mean(ef.constant([5.0]), name="m")
    ...     float(value)
    3.0
"""
import numpy as np

from .. import backend
from ..autograd.tensor import _wrap
from ..autograd.tape import no_grad
from .state import MetricValue, as_array, metric_state, open_scope, weights_like

__all__ = ["mean", "accuracy", "mean_squared_error", "root_mean_squared_error",
           "mean_absolute_error", "true_positives", "false_positives", "true_negatives",
           "false_negatives", "precision", "recall"]


def _div_no_nan(xp, a, b):
    return xp.where(b > 0, a / xp.where(b > 0, b, 1.0), 0.0)


def _check_same_shape(labels, predictions, what):
    if labels.shape != predictions.shape:
        try:
            np.broadcast_shapes(labels.shape, predictions.shape)
        except ValueError:
            raise ValueError(f"{what}: labels of shape {tuple(labels.shape)} and predictions "
                             f"of shape {tuple(predictions.shape)} are incompatible") from None


def _streaming_mean(values, weights, name, default_name, transform=None):
    with no_grad(), open_scope(name, default_name) as scope:
        total, count = metric_state(["total", "count"])
        v = as_array(values, np.float64)
        w = weights_like(weights, v)
        total._data += (v * w).sum()
        count._data += w.sum()
        xp = backend.array_module(v)

        def compute():
            r = _div_no_nan(xp, total._data, count._data)
            return transform(xp, r) if transform else r
        value = MetricValue(compute, scope.name)
        return value, _wrap(compute())


def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """Weighted streaming mean (``tf.metrics.mean``); state ``mean/total``, ``mean/count``.

    Returns:
        ``(value, update_op)``: the mean so far (live) and its value after this batch.
    """
    return _streaming_mean(values, weights, name, "mean")


def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Fraction of ``predictions == labels`` (``tf.metrics.accuracy``).

    Raises:
        ValueError: labels and predictions of incompatible shapes.
    """
    la, pa = as_array(labels), as_array(predictions)
    _check_same_shape(la, pa, "accuracy")
    correct = (pa == la.astype(pa.dtype, copy=False)).astype(np.float64)
    return _streaming_mean(_wrap(correct), weights, name, "accuracy")


def _diff_metric(labels, predictions, weights, name, default, fn, transform=None):
    la, pa = as_array(labels, np.float64), as_array(predictions, np.float64)
    _check_same_shape(la, pa, default)
    xp = backend.array_module(pa)
    return _streaming_mean(_wrap(fn(xp, pa - la)), weights, name, default, transform)


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """Streaming mean of ``(predictions - labels) ** 2``."""
    return _diff_metric(labels, predictions, weights, name, "mean_squared_error",
                        lambda xp, d: d * d)


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """Square root of the streaming mean squared error."""
    return _diff_metric(labels, predictions, weights, name, "root_mean_squared_error",
                        lambda xp, d: d * d, transform=lambda xp, r: xp.sqrt(r))


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """Streaming mean of ``|predictions - labels|``."""
    return _diff_metric(labels, predictions, weights, name, "mean_absolute_error",
                        lambda xp, d: xp.abs(d))


def _bool_pair(labels, predictions, what):
    la, pa = as_array(labels), as_array(predictions)
    _check_same_shape(la, pa, what)
    return la.astype(bool), pa.astype(bool)


def _count(labels, predictions, weights, name, default, select):
    la, pa = _bool_pair(labels, predictions, default)
    with no_grad(), open_scope(name, default) as scope:
        (count,) = metric_state(["count"])
        hit = select(la, pa)
        w = weights_like(weights, hit)
        count._data += (hit * w).sum()
        value = MetricValue(lambda: count._data.copy(), scope.name)
        return value, _wrap(count._data.copy())


def true_positives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    """Weighted count of ``labels & predictions`` (booleans)."""
    return _count(labels, predictions, weights, name, "true_positives", lambda l, p: l & p)


def false_positives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "false_positives", lambda l, p: ~l & p)


def true_negatives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "true_negatives", lambda l, p: ~l & ~p)


def false_negatives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "false_negatives", lambda l, p: l & ~p)


def _ratio(labels, predictions, weights, name, default, other, other_select):
    la, pa = _bool_pair(labels, predictions, default)
    with no_grad(), open_scope(name, default) as scope:
        with open_scope("true_positives", None):
            (tp,) = metric_state(["count"])
        with open_scope(other, None):
            (ot,) = metric_state(["count"])
        tp_hit, ot_hit = la & pa, other_select(la, pa)
        w = weights_like(weights, tp_hit)
        tp._data += (tp_hit * w).sum()
        ot._data += (ot_hit * w).sum()
        xp = backend.array_module(pa)

        def compute():
            return _div_no_nan(xp, tp._data, tp._data + ot._data)
        return MetricValue(compute, scope.name), _wrap(compute())


def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """``tp / (tp + fp)`` of boolean predictions (0 when nothing is predicted positive).

    State: ``precision/true_positives/count``, ``precision/false_positives/count``.
    """
    return _ratio(labels, predictions, weights, name, "precision", "false_positives",
                  lambda l, p: ~l & p)


def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """``tp / (tp + fn)`` (0 when there are no positive labels)."""
    return _ratio(labels, predictions, weights, name, "recall", "false_negatives",
                  lambda l, p: l & ~p)
