"""Weight regularizers (``tf.contrib.layers.l1_regularizer`` / ``l2_regularizer`` and
``tf.keras.regularizers``): ``fn(weights) -> scalar Tensor``.

Example:
    >>> import eagerflow as ef
    >>> float(l2_regularizer(0.5)(ef.constant([1.0, 2.0])))
    1.25
"""
from .. import ops

__all__ = ["l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "l1", "l2", "l1_l2"]


def _check_scale(scale, what):
    if scale < 0.0:
        raise ValueError(f"{what}: scale must be >= 0, got {scale}")


def l1_regularizer(scale, scope=None):
    """``scale * sum(|w|)``; returns None for scale 0, as TF does."""
    _check_scale(scale, "l1_regularizer")
    if scale == 0.0:
        return lambda weights: None
    return lambda weights: ops.reduce_sum(ops.abs(weights)) * scale


def l2_regularizer(scale, scope=None):
    """``scale * sum(w ** 2) / 2`` (``tf.nn.l2_loss`` times ``scale``); None for scale 0."""
    _check_scale(scale, "l2_regularizer")
    if scale == 0.0:
        return lambda weights: None
    return lambda weights: ops.reduce_sum(ops.square(weights)) * (scale / 2.0)


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """The sum of :func:`l1_regularizer` and :func:`l2_regularizer`."""
    r1, r2 = l1_regularizer(scale_l1), l2_regularizer(scale_l2)

    def reg(weights):
        parts = [p for p in (r1(weights), r2(weights)) if p is not None]
        return None if not parts else (parts[0] if len(parts) == 1 else parts[0] + parts[1])
    return reg


def l1(l=0.01):  # noqa: E741  (Keras' name)
    """Keras ``l1``: ``l * sum(|w|)``."""
    return lambda weights: ops.reduce_sum(ops.abs(weights)) * l


def l2(l=0.01):  # noqa: E741
    """Keras ``l2``: ``l * sum(w ** 2)`` (no 1/2, unlike :func:`l2_regularizer`)."""
    return lambda weights: ops.reduce_sum(ops.square(weights)) * l


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return lambda weights: (ops.reduce_sum(ops.abs(weights)) * l1
                            + ops.reduce_sum(ops.square(weights)) * l2)
