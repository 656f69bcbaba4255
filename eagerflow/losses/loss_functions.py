"""TF1's ``tf.losses`` loss functions: a per-element loss, then ``compute_weighted_loss``.

Every function takes ``weights`` (a scalar, or of the rank of the per-element loss with each
dim 1 or equal), ``reduction`` (default ``Reduction.SUM_BY_NONZERO_WEIGHTS``, TF1's),
``scope`` (the loss's name scope) and ``loss_collection`` (``GraphKeys.LOSSES``; see
:mod:`.collection` for when eagerflow collects).

Dtypes follow TF: the regression losses (absolute_difference, cosine_distance, hinge, huber,
log, mean_squared, mean_pairwise_squared) cast labels and predictions to float32 -- float64
inputs stay float64 here, a superset of float32's precision -- and the cross entropies keep
the logits' dtype, with the reduction done in float32 and cast back.
"""
import numpy as np

from .. import ops
from ..nn import cross_entropy as _sm
from ..nn._common import to_tensor
from ..variables.store import GraphKeys
from .collection import _scoped_name, add_loss
from .reduction import (Reduction, assert_broadcastable, compute_dtype, num_present,
                        weighted_loss, weights_tensor)

__all__ = ["absolute_difference", "cosine_distance", "hinge_loss", "huber_loss", "log_loss",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy", "mean_pairwise_squared_error"]

_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS
_LOSSES = GraphKeys.LOSSES


def _pair(labels, predictions, opname, pname="predictions", to_float=True):
    """(labels, predictions) as tensors of one floating dtype and the same shape.

    ``to_float``: TF's ``math_ops.cast(x, float32)`` of the regression losses (float64 is
    kept); otherwise the predictions (logits) keep their floating dtype and the labels take
    it, as the cross entropies do.
    """
    if labels is None:
        raise ValueError(f"{opname}: labels must not be None")
    if predictions is None:
        raise ValueError(f"{opname}: {pname} must not be None")
    p = to_tensor(predictions)
    if p.dtype.kind != "f" or (to_float and p.dtype != np.float64):
        p = ops.cast(p, np.float32)
    y = to_tensor(labels)
    if y.dtype != p.dtype:
        y = ops.cast(y, p.dtype)
    if tuple(y.shape) != tuple(p.shape):
        raise ValueError(f"{opname}: labels shape {tuple(y.shape)} and {pname} shape "
                         f"{tuple(p.shape)} are incompatible")
    return y, p


def _reduce(losses, weights, scope, default, loss_collection, reduction):
    return weighted_loss(losses, weights, reduction, loss_collection,
                         _scoped_name(scope or default))


def absolute_difference(labels, predictions, weights=1.0, scope=None,
                        loss_collection=_LOSSES, reduction=_DEFAULT):
    """``|labels - predictions|``, weighted and reduced.

    Example:
        >>> from eagerflow import losses
        >>> float(losses.absolute_difference([1.0, 2.0], [2.0, 2.0]).numpy())
        0.5
    """
    y, p = _pair(labels, predictions, "absolute_difference")
    return _reduce(ops.abs(p - y), weights, scope, "absolute_difference", loss_collection,
                   reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=_LOSSES,
                       reduction=_DEFAULT):
    """``(labels - predictions) ** 2``, weighted and reduced."""
    y, p = _pair(labels, predictions, "mean_squared_error")
    return _reduce(ops.squared_difference(p, y), weights, scope, "mean_squared_error",
                   loss_collection, reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None,
               loss_collection=_LOSSES, reduction=_DEFAULT):
    """Huber loss: ``0.5 e^2`` for ``|e| <= delta``, ``delta (|e| - 0.5 delta)`` beyond
    (TF's ``0.5 * q^2 + delta * (|e| - q)`` with ``q = min(|e|, delta)``)."""
    y, p = _pair(labels, predictions, "huber_loss")
    err = ops.abs(p - y)
    quad = ops.minimum(err, float(delta))
    lin = err - quad
    return _reduce(quad * quad * 0.5 + lin * float(delta), weights, scope, "huber_loss",
                   loss_collection, reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None,
             loss_collection=_LOSSES, reduction=_DEFAULT):
    """``-y log(p + eps) - (1 - y) log(1 - p + eps)`` for probabilities ``p``."""
    y, p = _pair(labels, predictions, "log_loss")
    eps = float(epsilon)
    losses = -(y * ops.log(p + eps)) - (1.0 - y) * ops.log(1.0 - p + eps)
    return _reduce(losses, weights, scope, "log_loss", loss_collection, reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=_LOSSES,
               reduction=_DEFAULT):
    """``max(0, 1 - (2 y - 1) * logits)`` for 0/1 labels."""
    y, x = _pair(labels, logits, "hinge_loss", "logits")
    signed = y * 2.0 - 1.0
    m = 1.0 - signed * x
    return _reduce(ops.where(m > 0, m, ops.zeros_like(m)), weights, scope, "hinge_loss",
                   loss_collection, reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=_LOSSES, reduction=_DEFAULT, dim=None):
    """``1 - sum(labels * predictions, axis)`` for unit-normalised inputs (keeps ``axis``).

    Raises:
        ValueError: ``axis`` not given, or both ``axis`` and its old name ``dim``.
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'")
        axis = dim
    if axis is None:
        raise ValueError("cosine_distance: you must specify argument `axis`")
    y, p = _pair(labels, predictions, "cosine_distance")
    losses = 1.0 - ops.reduce_sum(y * p, axis=int(axis), keepdims=True)
    return _reduce(losses, weights, scope, "cosine_distance_loss", loss_collection, reduction)


def _sum_per_example(x):
    """Sum over every axis but the first, keeping them (TF: ``range(1, rank)``, which is
    empty for rank < 2)."""
    if x.ndim < 2:
        return x
    return ops.reduce_sum(x, axis=tuple(range(1, x.ndim)), keepdims=True)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=_LOSSES):
    """TF1's pairwise loss, summed over the batch (TF has no ``reduction`` argument here).

    Per example ``i`` with ``n`` present elements (non-zero weight), the mean over ordered
    pairs ``j != k`` of ``((p_j - p_k) - (y_j - y_k)) ** 2``, i.e. ``2 sum(d^2) / (n - 1) -
    2 sum(d)^2 / (n (n - 1))``; the ``(batch, 1, ...)`` per-example losses times ``weights``
    (broadcast), summed. With weights of the full shape, each example's loss is thus scaled
    by the sum of its weights, as TF does.

    Args:
        labels, predictions: ``(batch, ...)``.
        weights: a scalar, a tensor of the rank of ``labels`` (each dim 1 or equal), or,
            for ``(batch, d)`` inputs only, per-example weights ``(batch,)`` -- an eagerflow
            extension following TF's docstring ("a tensor of shape [batch_size]"), which
            TF's ``assert_broadcastable`` rejects.
    """
    y, p = _pair(labels, predictions, "mean_pairwise_squared_error")
    w = weights_tensor(weights, p.dtype)
    if w.ndim == 1 and p.ndim == 2 and w.shape[0] == p.shape[0]:
        w = ops.reshape(w, (w.shape[0],) + (1,) * (p.ndim - 1))
    assert_broadcastable(w, y)
    d = p - y
    n = num_present(d, w, per_batch=True) if d.ndim >= 2 else _num_present_elementwise(d, w)
    zero = ops.zeros_like(n)
    term1 = ops.divide_no_nan(_sum_per_example(ops.square(d)), ops.maximum(n - 1.0, zero)) * 2.0
    term2 = ops.divide_no_nan(ops.square(_sum_per_example(d)),
                              ops.maximum(n * (n - 1.0), zero)) * 2.0
    loss = ops.reduce_sum((term1 - term2) * w)
    loss = ops.where(ops.reduce_sum(n) > 0, loss, ops.zeros_like(loss))
    add_loss(loss, loss_collection, _name=_scoped_name(scope or "mean_pairwise_squared_error"))
    return loss


def _num_present_elementwise(d, w):
    """``_num_present(per_batch=True)`` of a rank < 2 ``d``: its summed axes are none."""
    return ops.cast(ops.not_equal(w, ops.zeros_like(w)), d.dtype) * ops.ones_like(d)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=_LOSSES, reduction=_DEFAULT):
    """Sigmoid cross-entropy of ``logits`` against 0/1 labels; a ``label_smoothing`` > 0
    smooths them to ``y * (1 - s) + 0.5 * s``.

    Example:
        >>> from eagerflow import losses
        >>> round(float(losses.sigmoid_cross_entropy([[1.0]], [[0.0]]).numpy()), 4)
        0.6931
    """
    y, x = _pair(multi_class_labels, logits, "sigmoid_cross_entropy", "logits",
                 to_float=False)
    if label_smoothing > 0:
        y = y * (1.0 - float(label_smoothing)) + 0.5 * float(label_smoothing)
    losses = _sm.sigmoid_cross_entropy_with_logits(labels=y, logits=x)
    return _reduce(losses, weights, scope, "sigmoid_cross_entropy_loss", loss_collection,
                   reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=_LOSSES, reduction=_DEFAULT):
    """Softmax cross-entropy per example of ``(batch, classes)`` logits against one-hot
    labels; a ``label_smoothing`` > 0 smooths them to ``y * (1 - s) + s / classes``;
    ``weights`` is per example."""
    y, x = _pair(onehot_labels, logits, "softmax_cross_entropy", "logits", to_float=False)
    if label_smoothing > 0:
        k = float(x.shape[-1])
        y = y * (1.0 - float(label_smoothing)) + float(label_smoothing) / k
    losses = _sm.softmax_cross_entropy_with_logits(labels=ops.stop_gradient(y), logits=x)
    return _reduce(losses, weights, scope, "softmax_cross_entropy_loss", loss_collection,
                   reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=_LOSSES, reduction=_DEFAULT):
    """Softmax cross-entropy of ``(batch, classes)`` logits against int class labels
    ``(batch,)``. As TF1's ``_remove_squeezable_dimensions``: labels of the logits' rank
    lose a trailing dim of 1 (logits two ranks above the labels lose theirs), and weights
    one rank above the labels lose their last dim."""
    if labels is None:
        raise ValueError("sparse_softmax_cross_entropy: labels must not be None")
    if logits is None:
        raise ValueError("sparse_softmax_cross_entropy: logits must not be None")
    x = to_tensor(logits)
    y = to_tensor(labels)
    if x.ndim - y.ndim == 0 and y.ndim >= 1 and y.shape[-1] == 1:
        y = ops.squeeze(y, axis=-1)
    elif x.ndim - y.ndim == 2 and x.shape[-1] == 1:
        x = ops.squeeze(x, axis=-1)
    losses = _sm.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
    w = weights_tensor(weights, compute_dtype(losses.dtype))
    if w.ndim == y.ndim + 1:
        if w.shape[-1] != 1:
            raise ValueError(f"weights of shape {tuple(w.shape)} can not be squeezed to the "
                             f"labels' rank {y.ndim}")
        w = ops.squeeze(w, axis=-1)
    return _reduce(losses, w, scope, "sparse_softmax_cross_entropy_loss", loss_collection,
                   reduction)
