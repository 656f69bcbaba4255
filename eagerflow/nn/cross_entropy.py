"""Softmax family and cross-entropies (``tf.nn``), numerically stable for large logits.

They are compositions of core ops (``reduce_logsumexp`` shifts by the max), so their
gradients of any order come from the tape; except ``softmax_cross_entropy_with_logits``,
one op whose logits gradient is TF's ``softmax(logits) - labels`` (the derivative of the
loss only when each label slice sums to 1, which TF's kernel assumes; with multi-hot labels
TF's gradient, and so eagerflow's, is not ``sum(labels) * softmax - labels``).
"""
import numpy as np

import math

from .. import backend, ops
from ..autograd.registry import defvjp_all, register
from ..autograd.tensor import Tensor, _wrap
from ..io.errors import InvalidArgumentError
from ._common import as_float_tensor, to_tensor

__all__ = ["softmax", "log_softmax", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "sparse_softmax_cross_entropy_with_logits",
           "log_poisson_loss"]


def _axis(axis, ndim, opname):
    axis = -1 if axis is None else int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{opname}: axis {axis} is out of range for logits of rank {ndim}")
    return axis % ndim


def log_softmax(logits, axis=None, name=None):
    """``logits - logsumexp(logits, axis)`` (``tf.nn.log_softmax``; axis defaults to -1).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> [round(v, 4) for v in nn.log_softmax(ef.constant([0.0, 0.0])).numpy().tolist()]
        [-0.6931, -0.6931]
    """
    x = as_float_tensor(logits, "log_softmax", "logits")
    if x.ndim == 0:
        raise ValueError("log_softmax: logits must have rank >= 1")
    a = _axis(axis, x.ndim, "log_softmax")
    return x - ops.reduce_logsumexp(x, axis=a, keepdims=True)


def softmax(logits, axis=None, name=None):
    """``exp(logits) / sum(exp(logits), axis)`` (``tf.nn.softmax``; axis defaults to -1).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.softmax(ef.constant([1e4, 0.0])).numpy().tolist()
        [1.0, 0.0]
    """
    return ops.exp(log_softmax(logits, axis))


def _same_shape(labels, logits, opname):
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(f"{opname}: labels and logits must have the same shape, got "
                         f"{tuple(labels.shape)} and {tuple(logits.shape)}")


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise logistic loss ``max(x, 0) - x * z + log(1 + exp(-|x|))``.

    Args:
        labels: tensor ``z`` with the shape and dtype of logits (values in [0, 1]).
        logits: floating tensor ``x``.

    Returns:
        Tensor of the shape of logits. Gradients reach both arguments.

    Raises:
        ValueError: the shapes differ.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.sigmoid_cross_entropy_with_logits(ef.constant([1.0]), ef.constant([1e4])).numpy()
        array([0.], dtype=float32)
    """
    x = as_float_tensor(logits, "sigmoid_cross_entropy_with_logits", "logits")
    z = to_tensor(labels, x.dtype)
    if z.dtype != x.dtype:
        z = ops.cast(z, x.dtype)
    _same_shape(z, x, "sigmoid_cross_entropy_with_logits")
    pos = x >= 0
    zeros = ops.zeros_like(x)
    relu_logits = ops.where(pos, x, zeros)
    neg_abs = ops.where(pos, -x, x)
    return relu_logits - x * z + ops.log1p(ops.exp(neg_abs))


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None):
    """Logistic loss with the positive term weighted by ``pos_weight``.

    ``(1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0))`` with ``q =
    pos_weight`` (``tf.nn.weighted_cross_entropy_with_logits``; TF1's ``targets`` is
    accepted for ``labels``).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> l = nn.weighted_cross_entropy_with_logits(ef.constant([1.0]), ef.constant([0.0]), 2.0)
        >>> round(float(l.numpy()[0]), 4)
        1.3863
    """
    if labels is None:
        labels = targets
    if pos_weight is None:
        raise ValueError("weighted_cross_entropy_with_logits: pos_weight is required")
    x = as_float_tensor(logits, "weighted_cross_entropy_with_logits", "logits")
    z = to_tensor(labels, x.dtype)
    if z.dtype != x.dtype:
        z = ops.cast(z, x.dtype)
    _same_shape(z, x, "weighted_cross_entropy_with_logits")
    q = pos_weight if isinstance(pos_weight, Tensor) else float(pos_weight)
    log_weight = (q - 1.0) * z + 1.0
    neg_abs = ops.where(x >= 0, -x, x)
    relu_neg = ops.where(x < 0, -x, ops.zeros_like(x))
    return (1.0 - z) * x + log_weight * (ops.log1p(ops.exp(neg_abs)) + relu_neg)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None, dim=None):
    """Cross-entropy between ``labels`` (a distribution) and ``softmax(logits)``.

    TF2 semantics (``softmax_cross_entropy_with_logits_v2``): the gradient reaches the
    labels too (``-log_softmax(logits)``); wrap them in ``ef.stop_gradient`` for TF1's
    behaviour.

    Args:
        labels: tensor with the shape of logits, each slice along ``axis`` a distribution.
        logits: floating tensor ``(..., num_classes)``.
        axis: the class axis (TF1's ``dim`` is accepted too).

    Returns:
        Tensor of the shape of logits without ``axis``.

    Raises:
        ValueError: the shapes differ.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> l = nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], ef.constant([[0.0, 1e4]]))
        >>> abs(float(l.numpy()[0]))
        0.0
    """
    if dim is not None:
        axis = dim
    x = as_float_tensor(logits, "softmax_cross_entropy_with_logits", "logits")
    z = to_tensor(labels, x.dtype)
    if z.dtype != x.dtype:
        z = ops.cast(z, x.dtype)
    _same_shape(z, x, "softmax_cross_entropy_with_logits")
    if x.ndim == 0:
        raise ValueError("softmax_cross_entropy_with_logits: logits must have rank >= 1")
    a = _axis(axis, x.ndim, "softmax_cross_entropy_with_logits")
    return _softmax_xent(z, x, axis=a)


def _softmax_xent_fwd(xp, z, x, axis):
    m = x.max(axis=axis, keepdims=True)
    lse = m + xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True))
    return -(z * (x - lse)).sum(axis=axis)


def _softmax_xent_vjp(g, ans, inputs, attrs, needs):
    # TF's kernel (xent_op.h) and _SoftmaxCrossEntropyWithLogitsGrad: backprop
    # softmax(logits) - labels for the logits, -log_softmax(logits) for the labels
    z, x = inputs
    a = attrs["axis"]
    ge = ops.expand_dims(g, a)
    dz = ge * -log_softmax(x, a) if needs[0] else None
    dx = ge * (softmax(x, a) - z) if needs[1] else None
    return [dz, dx]


_softmax_xent = register("softmax_xent", _softmax_xent_fwd)
defvjp_all(_softmax_xent, _softmax_xent_vjp)


softmax_cross_entropy_with_logits_v2 = softmax_cross_entropy_with_logits


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Cross-entropy between integer class ``labels`` and ``softmax(logits)``.

    Args:
        labels: int tensor of shape ``(...)``, each in ``[0, num_classes)``.
        logits: floating tensor of shape ``(..., num_classes)``.

    Returns:
        Tensor of the shape of labels. The gradient reaches logits only.

    Raises:
        ValueError: labels' shape is not logits' shape without the last axis.
        InvalidArgumentError: a label is out of range (checked on the CPU backend, as TF
            does; a subclass of ValueError).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> l = nn.sparse_softmax_cross_entropy_with_logits([0], ef.constant([[0.0, 0.0]]))
        >>> round(float(l.numpy()[0]), 4)
        0.6931
    """
    x = as_float_tensor(logits, "sparse_softmax_cross_entropy_with_logits", "logits")
    if x.ndim == 0:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: logits must have rank >= 1")
    y = labels if isinstance(labels, Tensor) else to_tensor(np.asarray(labels, np.int64))
    if y.dtype.kind not in "iu":
        raise TypeError(f"sparse_softmax_cross_entropy_with_logits: labels must be integers, "
                        f"got dtype {y.dtype}")
    if tuple(y.shape) != tuple(x.shape[:-1]):
        raise ValueError(f"sparse_softmax_cross_entropy_with_logits: labels shape "
                         f"{tuple(y.shape)} must equal logits shape without the last axis "
                         f"{tuple(x.shape[:-1])}")
    n = x.shape[-1]
    ya = y._data
    if backend.array_module(ya) is np and ya.size:
        lo, hi = int(ya.min()), int(ya.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            # TF's CPU kernel raises InvalidArgumentError (a ValueError here too)
            raise InvalidArgumentError(f"sparse_softmax_cross_entropy_with_logits: received a "
                                       f"label value of {bad} which is outside the valid "
                                       f"range of [0, {n})")
    idx = _wrap(ya.astype(np.int64, copy=False)[..., None])
    picked = ops.take_along_axis(x, idx, axis=-1)
    lse = ops.reduce_logsumexp(x, axis=-1, keepdims=True)
    return ops.reshape(lse - picked, tuple(y.shape))


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """``exp(log_input) - log_input * targets`` (``tf.nn.log_poisson_loss``).

    With ``compute_full_loss`` the Stirling term ``t log t - t + 0.5 log(2 pi t)`` is added
    where ``targets > 1`` (0 for targets in ``[0, 1]``), as ``nn_impl.log_poisson_loss``.

    Raises:
        ValueError: the shapes differ.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.log_poisson_loss(ef.constant([2.0]), ef.constant([0.0])).numpy().tolist()
        [1.0]
    """
    x = as_float_tensor(log_input, "log_poisson_loss", "log_input")
    t = to_tensor(targets, x.dtype)
    if t.dtype != x.dtype:
        t = ops.cast(t, x.dtype)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"log_poisson_loss: log_input and targets must have the same shape, "
                         f"got {tuple(x.shape)} and {tuple(t.shape)}")
    result = ops.exp(x) - x * t
    if compute_full_loss:
        # the term is masked to 0 for targets in [0, 1]: take its logs of 1 there, so that
        # log(0) makes no inf (and 0 * inf no NaN warning) in entries the mask drops
        cond = ops.logical_and(t >= 0.0, t <= 1.0)
        tl = ops.where(cond, ops.ones_like(t), t)
        stirling = tl * ops.log(tl) - tl + ops.log(tl * (2.0 * math.pi)) * 0.5
        zeros = ops.zeros_like(t)
        result = result + ops.where(cond, zeros, stirling)
    return result
