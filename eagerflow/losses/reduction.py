"""TF1's ``tf.losses.Reduction`` and ``compute_weighted_loss``."""
import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..nn._common import to_tensor

__all__ = ["Reduction", "compute_weighted_loss"]


class Reduction:
    """How a weighted loss is reduced (``tf.compat.v1.losses.Reduction``).

    - ``NONE``: the weighted losses, unreduced.
    - ``SUM``: their sum.
    - ``MEAN``: the sum divided by the sum of the (broadcast) weights.
    - ``SUM_OVER_BATCH_SIZE``: the sum divided by the number of loss elements.
    - ``SUM_BY_NONZERO_WEIGHTS`` (the default): the sum divided by the number of non-zero
      weights (``SUM_OVER_NONZERO_WEIGHTS`` is the same).
    """

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key!r}; expected one of {cls.all()}")


def _broadcast_weights(weights, losses):
    w = weights if isinstance(weights, Tensor) else to_tensor(
        np.asarray(weights, dtype=losses.dtype))
    if w.dtype != losses.dtype:
        w = ops.cast(w, losses.dtype)
    # TF's weights_broadcast_ops.assert_broadcastable: weights are a scalar or of the rank of
    # the losses (each dim 1 or equal); a lower non-zero rank is an error, not a broadcast
    if w.ndim and w.ndim != losses.ndim:
        raise ValueError(f"weights can not be broadcast to values. values.rank={losses.ndim}. "
                         f"weights.rank={w.ndim}. values.shape={tuple(losses.shape)}. "
                         f"weights.shape={tuple(w.shape)}.")
    try:
        shape = np.broadcast_shapes(tuple(w.shape), tuple(losses.shape))
    except ValueError:
        raise ValueError(f"weights of shape {tuple(w.shape)} cannot be broadcast to losses of "
                         f"shape {tuple(losses.shape)}") from None
    if shape != tuple(losses.shape):
        raise ValueError(f"weights of shape {tuple(w.shape)} cannot be broadcast to losses of "
                         f"shape {tuple(losses.shape)}")
    return w


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=None,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Multiplies ``losses`` by ``weights`` and reduces them as ``reduction`` says.

    Args:
        losses: floating tensor of any shape.
        weights: a scalar or a tensor of the rank of ``losses``, each dim 1 or equal (TF's
            ``assert_broadcastable``).
        reduction: a :class:`Reduction` key.

    Returns:
        A scalar, or a tensor of the shape of ``losses`` for ``Reduction.NONE``. The
        divisions of the mean reductions give 0 when the divisor is 0.

    Raises:
        ValueError: an unknown reduction or weights that do not broadcast.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import losses
        >>> float(losses.compute_weighted_loss(ef.constant([1.0, 3.0]), [1.0, 0.0]).numpy())
        1.0
    """
    Reduction.validate(reduction)
    x = to_tensor(losses)
    if x.dtype.kind != "f":
        x = ops.cast(x, np.float32)
    w = _broadcast_weights(weights, x)
    weighted = x * w
    if reduction == Reduction.NONE:
        return weighted
    total = ops.reduce_sum(weighted)
    if reduction == Reduction.SUM:
        return total
    if reduction == Reduction.MEAN:
        denom = ops.reduce_sum(w * ops.ones_like(x))
    elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
        denom = ops.cast(ops.size(x), x.dtype)
    else:
        nonzero = ops.cast(ops.not_equal(w, ops.zeros_like(w)), x.dtype)
        denom = ops.reduce_sum(nonzero * ops.ones_like(x))
    return ops.divide_no_nan(total, denom)
