"""TF1's ``tf.losses.Reduction`` and ``compute_weighted_loss``."""
import numpy as np

from .. import ops
from ..autograd.tensor import Tensor, convert_to_tensor
from ..nn._common import to_tensor
from ..variables.store import GraphKeys
from .collection import _scoped_name, add_loss

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
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def compute_dtype(dtype):
    """TF computes a weighted loss in float32; float64 stays float64 here (a superset of
    float32's precision, and what float64 gradient checks need)."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def weights_tensor(weights, dtype):
    """``weights`` as a Tensor of ``dtype``; None is an error, as in TF."""
    if weights is None:
        raise ValueError("weights must not be None")
    w = weights if isinstance(weights, Tensor) else convert_to_tensor(weights, dtype=dtype)
    return w if w.dtype == dtype else ops.cast(w, dtype)


def assert_broadcastable(w, values):
    """TF's ``weights_broadcast_ops.assert_broadcastable``: ``w`` is a scalar, or of the rank
    of ``values`` with every dim 1 or equal to that of ``values``."""
    ws, vs = tuple(w.shape), tuple(values.shape)
    if w.ndim and (w.ndim != values.ndim
                   or any(a != 1 and a != b for a, b in zip(ws, vs))):
        raise ValueError(f"weights can not be broadcast to values. values.rank={values.ndim}. "
                         f"weights.rank={w.ndim}. values.shape={vs}. weights.shape={ws}.")


def num_present(losses, w, per_batch=False):
    """TF's ``_num_present``: the number of non-zero weights, broadcast over ``losses``
    (per example, keeping dims, when ``per_batch``)."""
    present = ops.cast(ops.not_equal(w, ops.zeros_like(w)), losses.dtype)
    present = present * ops.ones_like(losses)
    if per_batch:
        return ops.reduce_sum(present, axis=tuple(range(1, losses.ndim)), keepdims=True)
    return ops.reduce_sum(present)


def weighted_loss(losses, weights, reduction, loss_collection, name):
    """``compute_weighted_loss`` with the collected loss named ``name``."""
    Reduction.validate(reduction)
    x = to_tensor(losses)
    input_dtype = x.dtype
    cdtype = compute_dtype(input_dtype)
    w = weights_tensor(weights, cdtype)
    assert_broadcastable(w, x)
    if x.dtype != cdtype:
        x = ops.cast(x, cdtype)
    weighted = x * w
    if reduction == Reduction.NONE:
        loss = weighted
    else:
        loss = ops.reduce_sum(weighted)
        if reduction == Reduction.MEAN:
            loss = ops.divide_no_nan(loss, ops.reduce_sum(ops.ones_like(x) * w))
        elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
            loss = ops.divide_no_nan(loss, num_present(x, w))
        elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
            loss = ops.divide_no_nan(loss, ops.cast(ops.size(x), cdtype))
    if loss.dtype != input_dtype:  # back to the input's type, as TF
        loss = ops.cast(loss, input_dtype)
    add_loss(loss, loss_collection, _name=name)
    return loss


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Multiplies ``losses`` by ``weights`` and reduces them as ``reduction`` says
    (``tf.compat.v1.losses.compute_weighted_loss``).

    Args:
        losses: a tensor of any shape.
        weights: a scalar or a tensor of the rank of ``losses``, each dim 1 or equal (TF's
            ``assert_broadcastable``).
        scope: the name scope of the loss (for :func:`get_losses`'s ``scope`` filter).
        loss_collection: where the loss is collected (see :mod:`.collection`); None keeps
            it out.
        reduction: a :class:`Reduction` key.

    Returns:
        A scalar, or a tensor of the shape of ``losses`` for ``Reduction.NONE``, of the
        dtype of ``losses`` (computed in float32 -- float64 for float64 losses -- and cast
        back, as TF). The divisions of the mean reductions give 0 when the divisor is 0.

    Raises:
        ValueError: an unknown reduction, None weights or weights that do not broadcast.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import losses
        >>> float(losses.compute_weighted_loss(ef.constant([1.0, 3.0]), [1.0, 0.0]).numpy())
        1.0
    """
    return weighted_loss(losses, weights, reduction, loss_collection,
                         _scoped_name(scope or "weighted_loss"))
