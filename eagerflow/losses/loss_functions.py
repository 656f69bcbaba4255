"""TF1's ``tf.losses`` loss functions: a per-element loss, then ``compute_weighted_loss``.

Every function takes ``weights`` (broadcastable to the per-element loss) and ``reduction``
(default ``Reduction.SUM_BY_NONZERO_WEIGHTS``, TF1's); ``scope`` and ``loss_collection``
are accepted for source compatibility and ignored.
"""
import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..nn import cross_entropy as _sm
from ..nn._common import to_tensor
from .reduction import Reduction, compute_weighted_loss

__all__ = ["absolute_difference", "cosine_distance", "hinge_loss", "huber_loss", "log_loss",
           "mean_squared_error", "sigmoid_cross_entropy", "softmax_cross_entropy",
           "sparse_softmax_cross_entropy", "mean_pairwise_squared_error"]

_DEFAULT = Reduction.SUM_BY_NONZERO_WEIGHTS


def _pair(labels, predictions, opname, pname="predictions"):
    if labels is None:
        raise ValueError(f"{opname}: labels must not be None")
    if predictions is None:
        raise ValueError(f"{opname}: {pname} must not be None")
    p = to_tensor(predictions)
    if p.dtype.kind != "f":
        p = ops.cast(p, np.float32)
    y = to_tensor(labels)
    if y.dtype != p.dtype:
        y = ops.cast(y, p.dtype)
    if tuple(y.shape) != tuple(p.shape):
        raise ValueError(f"{opname}: labels shape {tuple(y.shape)} and {pname} shape "
                         f"{tuple(p.shape)} are incompatible")
    return y, p


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                        reduction=_DEFAULT):
    """``|labels - predictions|``, weighted and reduced.

    Example:
        >>> from eagerflow import losses
        >>> float(losses.absolute_difference([1.0, 2.0], [2.0, 2.0]).numpy())
        0.5
    """
    y, p = _pair(labels, predictions, "absolute_difference")
    return compute_weighted_loss(ops.abs(p - y), weights, reduction=reduction)


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=None,
                       reduction=_DEFAULT):
    """``(labels - predictions) ** 2``, weighted and reduced."""
    y, p = _pair(labels, predictions, "mean_squared_error")
    return compute_weighted_loss(ops.squared_difference(p, y), weights, reduction=reduction)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=None,
               reduction=_DEFAULT):
    """Huber loss: ``0.5 e^2`` for ``|e| <= delta``, ``delta (|e| - 0.5 delta)`` beyond."""
    y, p = _pair(labels, predictions, "huber_loss")
    err = ops.abs(p - y)
    quad = ops.minimum(err, float(delta))
    lin = err - quad
    return compute_weighted_loss(quad * quad * 0.5 + lin * float(delta), weights,
                                 reduction=reduction)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=None,
             reduction=_DEFAULT):
    """``-y log(p + eps) - (1 - y) log(1 - p + eps)`` for probabilities ``p``."""
    y, p = _pair(labels, predictions, "log_loss")
    eps = float(epsilon)
    losses = -(y * ops.log(p + eps)) - (1.0 - y) * ops.log(1.0 - p + eps)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=None,
               reduction=_DEFAULT):
    """``max(0, 1 - (2 y - 1) * logits)`` for 0/1 labels."""
    y, x = _pair(labels, logits, "hinge_loss", "logits")
    signed = y * 2.0 - 1.0
    m = 1.0 - signed * x
    return compute_weighted_loss(ops.where(m > 0, m, ops.zeros_like(m)), weights,
                                 reduction=reduction)


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None,
                    loss_collection=None, reduction=_DEFAULT, dim=None):
    """``1 - sum(labels * predictions, axis)`` for unit-normalised inputs (keeps ``axis``).

    Raises:
        ValueError: ``axis`` not given.
    """
    if dim is not None:
        axis = dim
    if axis is None:
        raise ValueError("cosine_distance: you must specify 'axis'")
    y, p = _pair(labels, predictions, "cosine_distance")
    losses = 1.0 - ops.reduce_sum(y * p, axis=int(axis), keepdims=True)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=None):
    """TF1's pairwise loss, summed over the batch.

    Per example ``i`` with ``n`` present elements (non-zero weight), the mean over ordered
    pairs ``j != k`` of ``((p_j - p_k) - (y_j - y_k)) ** 2``, i.e. ``2 sum(d^2) / (n - 1) -
    2 sum(d)^2 / (n (n - 1))``; times the example's weight, summed over examples.

    Args:
        labels, predictions: ``(batch, ...)``.
        weights: a scalar or per-example weights ``(batch,)`` (or ``(batch, 1, ...)``).
    """
    y, p = _pair(labels, predictions, "mean_pairwise_squared_error")
    if p.ndim < 2:
        raise ValueError("mean_pairwise_squared_error: predictions must be (batch, ...)")
    axes = tuple(range(1, p.ndim))
    d = p - y
    w = weights if isinstance(weights, Tensor) else to_tensor(np.asarray(weights, p.dtype))
    if w.dtype != p.dtype:
        w = ops.cast(w, p.dtype)
    if w.ndim:
        w = ops.reshape(w, (w.shape[0],) + (1,) * (p.ndim - 1))
    present = ops.cast(ops.not_equal(w * ops.ones_like(d), 0.0), p.dtype)
    n = ops.reduce_sum(present, axis=axes)
    term1 = ops.divide_no_nan(ops.reduce_sum(d * d, axis=axes), n - 1.0) * 2.0
    term2 = ops.divide_no_nan(ops.square(ops.reduce_sum(d, axis=axes)), n * (n - 1.0)) * 2.0
    per_w = ops.reshape(w, (-1,)) if w.ndim else w
    return ops.reduce_sum((term1 - term2) * per_w)


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0,
                          scope=None, loss_collection=None, reduction=_DEFAULT):
    """Sigmoid cross-entropy of ``logits`` against 0/1 labels, with label smoothing
    ``y * (1 - s) + 0.5 * s``.

    Example:
        >>> from eagerflow import losses
        >>> round(float(losses.sigmoid_cross_entropy([[1.0]], [[0.0]]).numpy()), 4)
        0.6931
    """
    y, x = _pair(multi_class_labels, logits, "sigmoid_cross_entropy", "logits")
    if label_smoothing:
        y = y * (1.0 - float(label_smoothing)) + 0.5 * float(label_smoothing)
    losses = _sm.sigmoid_cross_entropy_with_logits(labels=y, logits=x)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=None, reduction=_DEFAULT):
    """Softmax cross-entropy per example of ``(batch, classes)`` logits against one-hot
    labels, smoothed to ``y * (1 - s) + s / classes``; ``weights`` is per example."""
    y, x = _pair(onehot_labels, logits, "softmax_cross_entropy", "logits")
    if label_smoothing:
        k = float(x.shape[-1])
        y = y * (1.0 - float(label_smoothing)) + float(label_smoothing) / k
    losses = _sm.softmax_cross_entropy_with_logits(labels=ops.stop_gradient(y), logits=x)
    return compute_weighted_loss(losses, weights, reduction=reduction)


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None,
                                 loss_collection=None, reduction=_DEFAULT):
    """Softmax cross-entropy of ``(batch, classes)`` logits against int class labels
    ``(batch,)`` (a trailing dim of 1 of labels, or of weights one rank above the labels,
    is squeezed, as TF1 does)."""
    x = to_tensor(logits)
    y = labels if isinstance(labels, Tensor) else to_tensor(np.asarray(labels, np.int64))
    if y.ndim == x.ndim and y.ndim >= 1 and y.shape[-1] == 1:
        y = ops.squeeze(y, axis=-1)
    # TF1's _remove_squeezable_dimensions: weights of rank labels + 1 lose their last dim
    w = weights if isinstance(weights, Tensor) else np.asarray(weights)
    if w.ndim == y.ndim + 1 and w.shape[-1] == 1:
        weights = ops.squeeze(to_tensor(w), axis=-1)
    losses = _sm.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
    return compute_weighted_loss(losses, weights, reduction=reduction)
