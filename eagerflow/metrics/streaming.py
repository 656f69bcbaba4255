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
from .state import (MetricValue, as_array, metric_state, open_scope, same_shape, squeeze_pair,
                    weights_like)

__all__ = ["mean", "accuracy", "mean_squared_error", "root_mean_squared_error",
           "mean_absolute_error", "true_positives", "false_positives", "true_negatives",
           "false_negatives", "precision", "recall", "mean_tensor", "mean_relative_error",
           "mean_cosine_distance", "percentage_below", "mean_iou", "mean_per_class_accuracy"]


def _div_no_nan(xp, a, b):
    return xp.where(b > 0, a / xp.where(b > 0, b, 1.0), 0.0)


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
    la, pa = same_shape(as_array(labels), as_array(predictions), "accuracy")
    # TF casts the predictions to the labels' dtype (int labels: 0.7 -> 0)
    correct = (pa.astype(la.dtype, copy=False) == la).astype(np.float64)
    return _streaming_mean(_wrap(correct), weights, name, "accuracy")


def _diff_metric(labels, predictions, weights, name, default, fn, transform=None):
    la, pa = same_shape(as_array(labels, np.float64), as_array(predictions, np.float64),
                        default)
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
    la, pa = same_shape(as_array(labels), as_array(predictions), what)
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


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name=None):
    """Element-wise weighted streaming mean (``tf.metrics.mean_tensor``); state
    ``mean/total_tensor``, ``mean/count_tensor`` of the values' shape."""
    v = as_array(values, np.float64)
    w = weights_like(weights, v)
    xp = backend.array_module(v)
    with no_grad(), open_scope(name, "mean") as scope:
        total, count = metric_state(["total_tensor", "count_tensor"], shape=tuple(v.shape))
        total._data += v * w
        count._data += w

        def compute():
            return _div_no_nan(xp, total._data, count._data)
        return MetricValue(compute, scope.name), _wrap(compute())


def mean_relative_error(labels, predictions, normalizer, weights=None,
                        metrics_collections=None, updates_collections=None, name=None):
    """Streaming mean of ``|labels - predictions| / normalizer`` (0 where the normalizer
    is 0), as ``tf.metrics.mean_relative_error``."""
    la, pa = same_shape(as_array(labels, np.float64), as_array(predictions, np.float64),
                        "mean_relative_error")
    no, pa = squeeze_pair(as_array(normalizer, np.float64), pa)
    no = backend.array_module(pa).broadcast_to(no, pa.shape)
    xp = backend.array_module(pa)
    rel = xp.where(no == 0, 0.0, xp.abs(la - pa) / xp.where(no == 0, 1.0, no))
    return _streaming_mean(_wrap(rel), weights, name, "mean_relative_error")


def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """``1 - mean(sum(labels * predictions, dim))`` (``tf.metrics.mean_cosine_distance``;
    the inputs are expected unit-normalized, as in TF). Weights have size 1 along ``dim``.
    """
    la, pa = same_shape(as_array(labels, np.float64), as_array(predictions, np.float64),
                        "mean_cosine_distance")
    radial = (pa * la).sum(axis=dim, keepdims=True)
    return _streaming_mean(_wrap(radial), weights, name, "mean_cosine_distance",
                           transform=lambda xp, r: 1.0 - r)


def percentage_below(values, threshold, weights=None, metrics_collections=None,
                     updates_collections=None, name=None):
    """Weighted fraction of ``values < threshold`` (``tf.metrics.percentage_below``)."""
    v = as_array(values)
    below = (v < threshold).astype(np.float64)
    return _streaming_mean(_wrap(below), weights, name, "percentage_below_threshold")


def _class_ids(labels, predictions, num_classes, what):
    la = as_array(labels).reshape(-1).astype(np.int64)
    pa = as_array(predictions).reshape(-1).astype(np.int64)
    if la.shape != pa.shape:
        raise ValueError(f"{what}: labels of size {la.size} and predictions of size "
                         f"{pa.size} are incompatible")
    return la, pa


def _flat_weights(weights, n):
    if weights is None:
        return None
    w = as_array(weights, np.float64).reshape(-1)
    xp = backend.array_module(w)
    return xp.broadcast_to(w, (n,))


def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Mean intersection-over-union from a streaming confusion matrix (``tf.metrics.mean_iou``).

    State: ``mean_iou/total_confusion_matrix`` ``(num_classes, num_classes)`` (rows are
    labels, columns predictions). Classes absent from both labels and predictions are left
    out of the mean (TF divides by the number of classes with a non-zero denominator).
    ``update_op`` is the updated confusion matrix, as in TF.

    Raises:
        InvalidArgumentError: a label or prediction outside ``[0, num_classes)``.
    """
    from ..errors import InvalidArgumentError
    la, pa = _class_ids(labels, predictions, num_classes, "mean_iou")
    xp = backend.array_module(pa)
    n = int(num_classes)
    for what, a in (("labels", la), ("predictions", pa)):
        if a.size and (bool((a < 0).any()) or bool((a >= n).any())):
            raise InvalidArgumentError(f"mean_iou: {what} must be in [0, {n})")
    w = _flat_weights(weights, la.size)
    with no_grad(), open_scope(name, "mean_iou") as scope:
        (cm,) = metric_state(["total_confusion_matrix"], shape=(n, n))
        flat = xp.bincount(la * n + pa, weights=w, minlength=n * n)
        cm._data += flat.reshape(n, n).astype(np.float64)

        def compute():
            c = cm._data
            diag = xp.diagonal(c)
            denom = c.sum(axis=0) + c.sum(axis=1) - diag
            valid = (denom != 0).sum()
            iou = diag / xp.where(denom > 0, denom, 1.0)
            return xp.where(valid > 0, iou.sum() / xp.maximum(valid, 1), 0.0)
        return MetricValue(compute, scope.name), _wrap(cm._data.copy())


def mean_per_class_accuracy(labels, predictions, num_classes, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """Mean over all ``num_classes`` of the per-class accuracy
    (``tf.metrics.mean_per_class_accuracy``).

    State (TF's names): ``mean_accuracy/total`` (weight of each class's labels) and
    ``mean_accuracy/count`` (weight of its correct predictions). A class never seen counts
    as accuracy 0 in the mean. As in TF, ``update_op`` is the per-class accuracy vector.
    """
    la, pa = _class_ids(labels, predictions, num_classes, "mean_per_class_accuracy")
    xp = backend.array_module(pa)
    n = int(num_classes)
    w = _flat_weights(weights, la.size)
    ones = xp.ones(la.size, dtype=np.float64) if w is None else w
    correct = (pa == la).astype(np.float64) * ones
    with no_grad(), open_scope(name, "mean_accuracy") as scope:
        total, count = metric_state(["total", "count"], shape=(n,))
        total._data += xp.bincount(la, weights=ones, minlength=n)[:n]
        count._data += xp.bincount(la, weights=correct, minlength=n)[:n]

        def per_class():
            return _div_no_nan(xp, count._data, total._data)
        return (MetricValue(lambda: per_class().mean(), scope.name), _wrap(per_class()))
