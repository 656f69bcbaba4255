"""Softmax family and cross-entropies (``tf.nn``), numerically stable for large logits; and
the per-replica loss scaling of ``tf.nn.compute_average_loss`` and
``scale_regularization_loss``.

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
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..io.errors import InvalidArgumentError
from ._common import as_float_tensor, to_tensor

__all__ = ["softmax", "log_softmax", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "sparse_softmax_cross_entropy_with_logits",
           "log_poisson_loss", "compute_average_loss", "scale_regularization_loss"]


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
        InvalidArgumentError: a label is out of range, on the CPU backend as TF's CPU
            kernel (a subclass of ValueError); on the GPU, as TF's GPU kernel, that row's loss
            is NaN instead (no host synchronisation).

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
    # (not np.asarray: labels may be a CuPy array)
    y = labels if isinstance(labels, Tensor) else _wrap(_to_array(labels, np.int64))
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
    # on the GPU no host read checks the labels: as TF's GPU kernel, an out-of-range label
    # gives a NaN loss (its row gathers a clipped, valid index)
    # (in int64 first: n - 1 may be out of range of narrow or unsigned label dtypes, which
    # NumPy's clip tolerates and CuPy's need not)
    xp = backend.array_module(ya)
    y64 = ya.astype(np.int64, copy=False)
    bad = (y64 < 0) | (y64 >= n)
    idx = _wrap(xp.clip(y64, 0, max(n - 1, 0))[..., None])
    picked = ops.take_along_axis(x, idx, axis=-1)
    lse = ops.reduce_logsumexp(x, axis=-1, keepdims=True)
    loss = ops.reshape(lse - picked, tuple(y.shape))
    return ops.where(_wrap(bad), _wrap(xp.full((), np.nan, loss.dtype)), loss)


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


# --- loss scaling for data-parallel training (nn_impl_distribute.py) ------------------------
def _num_replicas_in_sync():
    """The number of replicas ``compute_average_loss`` and ``scale_regularization_loss``
    divide by: always 1 in eagerflow.

    TF's MirroredStrategy *sums* the replicas' gradients, so each replica's loss must be
    divided by the number of replicas. eagerflow's strategies (``eagerflow.distribute``)
    run one process per replica and *average* the gradients instead (``GradientAllReducer``
    with ``average=True``), which already is that division: with 1 here the applied update
    is TF's. (Only the loss value a replica sees is N times TF's per-replica value: it is the
    mean over the global batch, not the replica's share of it.)
    """
    return 1


def _integer_batch_size(global_batch_size):
    v = global_batch_size.numpy() if isinstance(global_batch_size, Tensor) else global_batch_size
    a = backend.to_numpy(v)  # a host read of a CuPy scalar too (np.asarray refuses those)
    if a.ndim != 0:
        raise ValueError(f"compute_average_loss: global_batch_size must be scalar, got shape "
                         f"{tuple(a.shape)}")
    if a.dtype.kind not in "iu":
        raise TypeError(f"compute_average_loss: global_batch_size must be an integer, got "
                        f"{v!r} (dtype {a.dtype})")
    if int(a) < 0:
        raise InvalidArgumentError(f"compute_average_loss: global_batch_size must be "
                                   f"non-negative, got {int(a)}")
    return int(a)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """The sum of the (weighted) per-example losses divided by the global batch size
    (``tf.nn.compute_average_loss``, TF 2 semantics).

    ``sample_weight`` is matched to the losses as TF's ``scale_losses_by_sample_weight``
    does: a scalar broadcasts, a trailing size-1 dimension is squeezed or added when the
    ranks differ by one, then the two multiply with broadcasting. ``global_batch_size``
    defaults to ``per_example_loss.shape[0] * _num_replicas_in_sync()`` (1 replica in
    eagerflow, see :func:`_num_replicas_in_sync`). The division is ``div_no_nan``: a global
    batch size of 0 gives 0. (TF computes the weighting in float32 and casts back; here it
    stays in the loss's dtype.) Gradients reach ``per_example_loss`` and ``sample_weight``.

    Args:
        per_example_loss: float tensor of rank >= 1, the first dimension the batch.
        sample_weight: optional weights.
        global_batch_size: optional non-negative integer scalar.

    Returns:
        A scalar of ``per_example_loss``'s dtype.

    Raises:
        TypeError: a non-floating ``per_example_loss`` or a non-integer
            ``global_batch_size``.
        ValueError: a rank-0 ``per_example_loss``, a non-scalar ``global_batch_size``, or a
            ``sample_weight`` that does not fit the losses.
        InvalidArgumentError: a negative ``global_batch_size``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> float(nn.compute_average_loss(ef.constant([1.0, 2.0, 3.0]), global_batch_size=6).numpy())
        1.0
    """
    opname = "compute_average_loss"
    loss = as_float_tensor(per_example_loss, opname, "per_example_loss")
    if loss.ndim == 0:
        raise ValueError(f"{opname}: Invalid value passed for `per_example_loss`. Expected a "
                         f"tensor with at least rank 1, got a scalar")
    if sample_weight is not None:
        w = to_tensor(sample_weight, loss.dtype)
        if w.dtype != loss.dtype:
            w = ops.cast(w, loss.dtype)
        if w.ndim and w.ndim == loss.ndim + 1:
            if w.shape[-1] != 1:
                raise ValueError(f"{opname}: sample_weight of shape {tuple(w.shape)} has one "
                                 f"more dimension than per_example_loss {tuple(loss.shape)} "
                                 "and it is not of size 1")
            w = ops.squeeze(w, axis=-1)
        elif w.ndim and w.ndim == loss.ndim - 1:
            w = ops.expand_dims(w, -1)
        try:
            np.broadcast_shapes(tuple(w.shape), tuple(loss.shape))
        except ValueError:
            raise ValueError(f"{opname}: sample_weight of shape {tuple(w.shape)} does not "
                             f"broadcast to per_example_loss of shape {tuple(loss.shape)}") \
                from None
        loss = loss * w
    if global_batch_size is None:
        n = int(loss.shape[0]) * _num_replicas_in_sync()
    else:
        n = _integer_batch_size(global_batch_size)
    total = ops.reduce_sum(loss)
    return ops.divide_no_nan(total, ops.cast(to_tensor(n), total.dtype))


def scale_regularization_loss(regularization_loss):
    """The sum of ``regularization_loss`` divided by the number of replicas in sync
    (``tf.nn.scale_regularization_loss``; 1 in eagerflow, see :func:`_num_replicas_in_sync`).

    Integer losses are summed and divided as TF's ``/`` does (to float64 for 32/64-bit
    integers, float32 for narrower ones).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> float(nn.scale_regularization_loss([0.5, 1.5]).numpy())
        2.0
    """
    x = to_tensor(regularization_loss)
    if x.dtype.kind not in "iufc":
        raise TypeError(f"scale_regularization_loss: regularization_loss must be numeric, got "
                        f"dtype {x.dtype}")
    total = ops.reduce_sum(x)
    if x.dtype.kind in "iu":
        total = ops.cast(total, np.float64 if x.dtype.itemsize >= 4 else np.float32)
    return ops.divide(total, ops.cast(to_tensor(_num_replicas_in_sync()), total.dtype))
