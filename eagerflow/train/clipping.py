"""Gradient clipping: ``clip_by_value``, ``clip_by_norm``, ``clip_by_global_norm``,
``global_norm`` (TF's formulas; ``IndexedSlices`` keep their sparsity).

Example:
    >>> import eagerflow as ef
    >>> clipped, norm = clip_by_global_norm([ef.constant([3.0, 4.0])], 1.0)
    >>> [round(x, 3) for x in clipped[0].numpy().tolist()], float(norm)
    ([0.6, 0.8], 5.0)
"""
from .. import ops
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import convert_to_tensor

__all__ = ["clip_by_value", "clip_by_norm", "clip_by_global_norm", "global_norm"]


def _values(t):
    return t.values if isinstance(t, IndexedSlices) else t


def _like(t, values):
    if isinstance(t, IndexedSlices):
        return IndexedSlices(values, t.indices, t.dense_shape)
    return values


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Elementwise clip to ``[clip_value_min, clip_value_max]``; IndexedSlices clip values."""
    return _like(t, ops.clip_by_value(_values(t), clip_value_min, clip_value_max))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(||t||_2, clip_norm)`` over ``axes`` (all by default).

    For IndexedSlices the norm is that of ``values``, as in TF.
    """
    v = convert_to_tensor(_values(t))
    l2sum = ops.reduce_sum(v * v, axis=axes, keepdims=True)
    pred = l2sum > 0
    safe = ops.where(pred, l2sum, ops.ones_like(l2sum))
    l2norm = ops.where(pred, ops.sqrt(safe), l2sum)
    clip_norm = ops.cast(convert_to_tensor(clip_norm), v.dtype)
    return _like(t, v * clip_norm / ops.maximum(l2norm, clip_norm))


def global_norm(t_list, name=None):
    """``sqrt(sum_i ||t_i||^2)`` over the non-None entries (IndexedSlices: their values).

    Raises:
        TypeError: when ``t_list`` is a single tensor rather than a sequence.
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("global_norm: t_list must be a sequence of tensors")
    sums = []
    for t in t_list:
        if t is None:
            continue
        v = convert_to_tensor(_values(t))
        sums.append(ops.reduce_sum(ops.cast(v * v, "float32") if v.dtype.itemsize < 4 else v * v))
    if not sums:
        return ops.zeros(())
    total = sums[0]
    for s in sums[1:]:
        total = total + ops.cast(s, total.dtype)
    return ops.sqrt(total)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor by ``clip_norm / max(global_norm, clip_norm)``.

    Args:
        t_list: tensors, IndexedSlices or None.
        clip_norm: the maximum global norm (> 0).
        use_norm: a precomputed global norm.

    Returns:
        ``(list_clipped, global_norm)``. A non-finite norm makes every entry NaN, as in TF.

    Raises:
        TypeError: when ``t_list`` is not a sequence.
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError("clip_by_global_norm: t_list must be a sequence")
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    cn = ops.cast(convert_to_tensor(clip_norm), norm.dtype)
    finite = ops.is_finite(norm)
    scale = cn * ops.minimum(1.0 / norm, 1.0 / cn)
    scale = ops.where(finite, scale, ops.zeros_like(scale) + float("nan"))
    out = []
    for t in t_list:
        if t is None:
            out.append(None)
            continue
        v = convert_to_tensor(_values(t))
        out.append(_like(t, v * ops.cast(scale, v.dtype)))
    return out, norm
