"""``tf.metrics``' mean family and confusion counts: ``mean``, ``accuracy``,
``mean_squared_error``, ``root_mean_squared_error``, ``mean_absolute_error``,
``true_positives`` / ``false_positives`` / ``true_negatives`` / ``false_negatives``,
``precision``, ``recall``.

Numerics follow tensorflow/python/ops/metrics_impl.py: values are cast to float32,
``total`` and ``count`` are float32 variables, each batch adds its float32 sum
(``reduce_sum``) and the value is ``div_no_nan(total, maximum(count, 0))`` in float32, so
``mean`` of any dtype returns float32 and rounds as TF's does. Differences
(``labels - predictions``) are taken in the inputs' dtype before that cast, as TF does.

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
from .state import (MetricValue, as_array, collected, metric_state, open_scope, same_shape,
                    squeeze_pair, weights_like)

__all__ = ["mean", "accuracy", "mean_squared_error", "root_mean_squared_error",
           "mean_absolute_error", "true_positives", "false_positives", "true_negatives",
           "false_negatives", "precision", "recall", "mean_tensor", "mean_relative_error",
           "mean_cosine_distance", "percentage_below", "mean_iou", "mean_per_class_accuracy"]

_F32 = np.float32


def _div_no_nan(xp, a, b):
    """TF's ``div_no_nan(a, maximum(b, 0))``: 0 where ``b <= 0``; float32 stays float32."""
    ok = b > 0
    return xp.where(ok, a / xp.where(ok, b, b.dtype.type(1)), a.dtype.type(0))


def _input_dtype(*arrays):
    """The dtype TF's element-wise ops would run in (TF requires one dtype; eagerflow
    accepts mixed inputs and promotes them as NumPy does). Booleans become float32."""
    dt = np.result_type(*[a.dtype for a in arrays])
    return dt if dt.kind in "iuf" else np.dtype(_F32)


def _streaming_mean(values, weights, name, default_name, transform=None):
    """TF's ``metrics_impl.mean``: float32 ``total``/``count`` in scope ``name``."""
    with no_grad(), open_scope(name, default_name) as scope:
        v = as_array(values, _F32)
        total, count = metric_state(["total", "count"], dtype=_F32)
        if weights is None:
            batch_total = v.sum(dtype=_F32)
            batch_count = _F32(v.size)
        else:
            w = weights_like(weights, v, _F32)
            batch_total = (v * w).sum(dtype=_F32)
            batch_count = w.sum(dtype=_F32)
        total._data += batch_total
        count._data += batch_count
        xp = backend.array_module(v)

        def compute():
            r = _div_no_nan(xp, total._data, count._data)
            return transform(xp, r) if transform else r
        value = MetricValue(compute, scope.name)
        return value, _wrap(compute())


@collected
def mean(values, weights=None, metrics_collections=None, updates_collections=None,
         name=None):
    """Weighted streaming mean (``tf.metrics.mean``); state ``mean/total``, ``mean/count``
    (float32, as TF: the value is float32 whatever the values' dtype).

    Returns:
        ``(value, update_op)``: the mean so far (live) and its value after this batch.
    """
    return _streaming_mean(values, weights, name, "mean")


@collected
def accuracy(labels, predictions, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Fraction of ``predictions == labels`` (``tf.metrics.accuracy``).

    Raises:
        ValueError: labels and predictions of incompatible shapes.
    """
    la, pa = same_shape(as_array(labels), as_array(predictions), "accuracy")
    # TF casts the predictions to the labels' dtype (int labels: 0.7 -> 0)
    correct = (pa.astype(la.dtype, copy=False) == la).astype(_F32)
    return _streaming_mean(_wrap(correct), weights, name, "accuracy")


def _diff_metric(labels, predictions, weights, name, default, fn, transform=None):
    la, pa = same_shape(as_array(labels), as_array(predictions), default)
    dt = _input_dtype(la, pa)
    la, pa = la.astype(dt, copy=False), pa.astype(dt, copy=False)
    xp = backend.array_module(pa)
    return _streaming_mean(_wrap(fn(xp, pa - la)), weights, name, default, transform)


@collected
def mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
    """Streaming mean of ``(labels - predictions) ** 2`` (``tf.metrics.mean_squared_error``)."""
    return _diff_metric(labels, predictions, weights, name, "mean_squared_error",
                        lambda xp, d: d * d)


@collected
def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """Square root of the streaming mean squared error."""
    return _diff_metric(labels, predictions, weights, name, "root_mean_squared_error",
                        lambda xp, d: d * d, transform=lambda xp, r: xp.sqrt(r))


@collected
def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """Streaming mean of ``|predictions - labels|``."""
    return _diff_metric(labels, predictions, weights, name, "mean_absolute_error",
                        lambda xp, d: xp.abs(d))


def _bool_pair(labels, predictions, what):
    la, pa = same_shape(as_array(labels), as_array(predictions), what)
    return la.astype(bool), pa.astype(bool)


def _add_count(count, hit, weights):
    """TF's ``_count_condition``: ``count`` (float32) += the float32 sum of the weighted
    hits."""
    values = hit.astype(_F32)
    if weights is not None:
        values = values * weights_like(weights, values, _F32)
    count._data += values.sum(dtype=_F32)


def _count(labels, predictions, weights, name, default, select):
    la, pa = _bool_pair(labels, predictions, default)
    with no_grad(), open_scope(name, default) as scope:
        (count,) = metric_state(["count"], dtype=_F32)
        _add_count(count, select(la, pa), weights)
        value = MetricValue(lambda: count._data.copy(), scope.name)
        return value, _wrap(count._data.copy())


@collected
def true_positives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    """Weighted count of ``labels & predictions`` (booleans), float32 as TF's."""
    return _count(labels, predictions, weights, name, "true_positives", lambda l, p: l & p)


@collected
def false_positives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "false_positives", lambda l, p: ~l & p)


@collected
def true_negatives(labels, predictions, weights=None, metrics_collections=None,
                   updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "true_negatives", lambda l, p: ~l & ~p)


@collected
def false_negatives(labels, predictions, weights=None, metrics_collections=None,
                    updates_collections=None, name=None):
    return _count(labels, predictions, weights, name, "false_negatives", lambda l, p: l & ~p)


def _ratio(labels, predictions, weights, name, default, other, other_select):
    la, pa = _bool_pair(labels, predictions, default)
    with no_grad(), open_scope(name, default) as scope:
        with open_scope("true_positives", None):
            (tp,) = metric_state(["count"], dtype=_F32)
        with open_scope(other, None):
            (ot,) = metric_state(["count"], dtype=_F32)
        _add_count(tp, la & pa, weights)
        _add_count(ot, other_select(la, pa), weights)
        xp = backend.array_module(pa)

        def compute():  # TF: where(tp + other > 0, tp / (tp + other), 0)
            d = tp._data + ot._data
            return _div_no_nan(xp, tp._data, d)
        return MetricValue(compute, scope.name), _wrap(compute())


@collected
def precision(labels, predictions, weights=None, metrics_collections=None,
              updates_collections=None, name=None):
    """``tp / (tp + fp)`` of boolean predictions (0 when nothing is predicted positive).

    State: ``precision/true_positives/count``, ``precision/false_positives/count``.
    """
    return _ratio(labels, predictions, weights, name, "precision", "false_positives",
                  lambda l, p: ~l & p)


@collected
def recall(labels, predictions, weights=None, metrics_collections=None,
           updates_collections=None, name=None):
    """``tp / (tp + fn)`` (0 when there are no positive labels)."""
    return _ratio(labels, predictions, weights, name, "recall", "false_negatives",
                  lambda l, p: l & ~p)


@collected
def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                name=None):
    """Element-wise weighted streaming mean (``tf.metrics.mean_tensor``); state
    ``mean/total_tensor``, ``mean/count_tensor`` (float32) of the values' shape."""
    v = as_array(values, _F32)
    xp = backend.array_module(v)
    num = xp.ones(v.shape, dtype=_F32)
    if weights is not None:
        w = weights_like(weights, v, _F32)
        v, num = v * w, num * w
    with no_grad(), open_scope(name, "mean") as scope:
        total, count = metric_state(["total_tensor", "count_tensor"], shape=tuple(v.shape),
                                    dtype=_F32)
        total._data += v
        count._data += num

        def compute():
            return _div_no_nan(xp, total._data, count._data)
        return MetricValue(compute, scope.name), _wrap(compute())


@collected
def mean_relative_error(labels, predictions, normalizer, weights=None,
                        metrics_collections=None, updates_collections=None, name=None):
    """Streaming mean of ``|labels - predictions| / normalizer`` (0 where the normalizer
    is 0), as ``tf.metrics.mean_relative_error``."""
    la, pa = same_shape(as_array(labels), as_array(predictions), "mean_relative_error")
    no, pa = squeeze_pair(as_array(normalizer), pa)
    dt = _input_dtype(la, pa, no)
    la, pa, no = (a.astype(dt, copy=False) for a in (la, pa, no))
    xp = backend.array_module(pa)
    no = xp.broadcast_to(no, pa.shape)
    zero = no == 0
    rel = xp.where(zero, 0, xp.abs(la - pa) / xp.where(zero, 1, no))
    return _streaming_mean(_wrap(rel), weights, name, "mean_relative_error")


@collected
def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None,
                         updates_collections=None, name=None):
    """``1 - mean(sum(labels * predictions, dim))`` (``tf.metrics.mean_cosine_distance``;
    the inputs are expected unit-normalized, as in TF). Weights have size 1 along ``dim``.
    """
    la, pa = same_shape(as_array(labels), as_array(predictions), "mean_cosine_distance")
    dt = _input_dtype(la, pa)
    la, pa = la.astype(dt, copy=False), pa.astype(dt, copy=False)
    radial = (pa * la).sum(axis=dim, keepdims=True)
    return _streaming_mean(_wrap(radial), weights, name, "mean_cosine_distance",
                           transform=lambda xp, r: _F32(1.0) - r)


@collected
def percentage_below(values, threshold, weights=None, metrics_collections=None,
                     updates_collections=None, name=None):
    """Weighted fraction of ``values < threshold`` (``tf.metrics.percentage_below``)."""
    v = as_array(values)
    below = (v < threshold).astype(_F32)
    return _streaming_mean(_wrap(below), weights, name, "percentage_below_threshold")


def _class_ids(labels, predictions, num_classes, what):
    la = as_array(labels).reshape(-1).astype(np.int64)
    pa = as_array(predictions).reshape(-1).astype(np.int64)
    if la.shape != pa.shape:
        raise ValueError(f"{what}: labels of size {la.size} and predictions of size "
                         f"{pa.size} are incompatible")
    return la, pa


def _flat_weights(weights, n, dtype):
    if weights is None:
        return None
    w = as_array(weights, dtype).reshape(-1)
    xp = backend.array_module(w)
    return xp.broadcast_to(w, (n,))


@collected
def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None,
             updates_collections=None, name=None):
    """Mean intersection-over-union from a streaming confusion matrix (``tf.metrics.mean_iou``).

    State: ``mean_iou/total_confusion_matrix`` ``(num_classes, num_classes)``, float64 as
    TF's (rows are labels, columns predictions). The value is computed in float32 as TF's
    ``compute_mean_iou``: classes absent from both labels and predictions are left out of
    the mean. ``update_op`` is the updated confusion matrix, as in TF.

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
    w = _flat_weights(weights, la.size, np.float64)
    with no_grad(), open_scope(name, "mean_iou") as scope:
        (cm,) = metric_state(["total_confusion_matrix"], shape=(n, n), dtype=np.float64)
        flat = xp.bincount(la * n + pa, weights=w, minlength=n * n)
        cm._data += flat.reshape(n, n).astype(np.float64)

        def compute():
            c = cm._data
            sum_over_row = c.sum(axis=0).astype(_F32)
            sum_over_col = c.sum(axis=1).astype(_F32)
            diag = xp.diagonal(c).astype(_F32)
            denom = sum_over_row + sum_over_col - diag
            valid = (denom != 0).astype(_F32).sum(dtype=_F32)
            iou = diag / xp.where(denom > 0, denom, _F32(1))
            return xp.where(valid > 0, iou.sum(dtype=_F32) / xp.where(valid > 0, valid, _F32(1)),
                            _F32(0)).astype(_F32)
        return MetricValue(compute, scope.name), _wrap(cm._data.copy())


@collected
def mean_per_class_accuracy(labels, predictions, num_classes, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """Mean over all ``num_classes`` of the per-class accuracy
    (``tf.metrics.mean_per_class_accuracy``).

    State (TF's names, float32): ``mean_accuracy/total`` (weight of each class's labels)
    and ``mean_accuracy/count`` (weight of its correct predictions). A class never seen
    counts as accuracy 0 in the mean. As in TF, ``update_op`` is the per-class accuracy
    vector. (TF's ``scatter_add`` adds each example in float32; here each batch's
    per-class sums are added, the same until a class gathers 2**24 weight in one batch.)
    """
    la, pa = _class_ids(labels, predictions, num_classes, "mean_per_class_accuracy")
    xp = backend.array_module(pa)
    n = int(num_classes)
    w = _flat_weights(weights, la.size, _F32)
    ones = xp.ones(la.size, dtype=_F32) if w is None else w
    correct = (pa == la).astype(_F32) * ones
    with no_grad(), open_scope(name, "mean_accuracy") as scope:
        total, count = metric_state(["total", "count"], shape=(n,), dtype=_F32)
        total._data += xp.bincount(la, weights=ones, minlength=n)[:n].astype(_F32)
        count._data += xp.bincount(la, weights=correct, minlength=n)[:n].astype(_F32)

        def per_class():
            return _div_no_nan(xp, count._data, total._data)
        return (MetricValue(lambda: per_class().mean(dtype=_F32), scope.name),
                _wrap(per_class()))
