"""Gradient clipping: ``clip_by_value``, ``clip_by_norm``, ``clip_by_global_norm``,
``global_norm``, ``clip_by_average_norm`` (TF's ``clip_ops.py`` formulas; ``IndexedSlices``
keep their sparsity).

Example:
    >>> import eagerflow as ef
    >>> clipped, norm = clip_by_global_norm([ef.constant([3.0, 4.0])], 1.0)
    >>> [round(x, 3) for x in clipped[0].numpy().tolist()], float(norm)
    ([0.6, 0.8], 5.0)
"""
from collections.abc import Sequence

import numpy as np

from .. import ops
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import Tensor, convert_to_tensor

__all__ = ["clip_by_value", "clip_by_norm", "clip_by_global_norm", "global_norm",
           "clip_by_average_norm"]


def _values(t):
    return t.values if isinstance(t, IndexedSlices) else t


def _like(t, values):
    if isinstance(t, IndexedSlices):
        return IndexedSlices(values, t.indices, t.dense_shape)
    return values


def _same_shape(values, result, what):
    """TF's ``values.shape.assert_is_compatible_with(result.shape)``: a clip argument may
    not broadcast ``t`` to a larger shape."""
    if tuple(result.shape) != tuple(values.shape):
        raise ValueError(f"{what}: Incompatible shapes: {list(values.shape)} vs. "
                         f"{list(result.shape)}; the clip arguments must not broadcast t")


def _bound(value, v, what):
    """A clip bound as a tensor of ``v``'s dtype; a float for an integer ``t`` is a
    TypeError, as TF's conversion is."""
    if isinstance(value, Tensor):
        return value if value.dtype == v.dtype else ops.cast(value, v.dtype)
    kind = value.dtype.kind if hasattr(value, "dtype") else np.asarray(value).dtype.kind
    if v.dtype.kind in "iu" and kind == "f":
        raise TypeError(f"{what}: cannot convert {value!r} to the dtype {v.dtype} of t; "
                        "cast t to a float first")
    return convert_to_tensor(value, dtype=v.dtype)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """``maximum(minimum(t, clip_value_max), clip_value_min)`` (TF's order: where
    ``clip_value_min > clip_value_max`` the result is ``clip_value_min``); IndexedSlices
    clip their values.

    Raises:
        ValueError: when a bound would broadcast ``t`` to a larger shape.
        TypeError: a float bound for an integer ``t``.
    """
    v = convert_to_tensor(_values(t))
    t_min = ops.minimum(v, _bound(clip_value_max, v, "clip_by_value"))
    _same_shape(v, t_min, "clip_by_value")
    t_max = ops.maximum(t_min, _bound(clip_value_min, v, "clip_by_value"))
    _same_shape(v, t_max, "clip_by_value")
    return _like(t, t_max)


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and \
        not isinstance(value, (bool, np.bool_))


def _number_as(value, dtype):
    """``ops.cast(convert_to_tensor(value), dtype)`` of a Python or NumPy number, as a NumPy
    scalar: the kernels take it as an argument, where a tensor made from it would be a
    host-to-device copy in every training step (one that a CUDA-graph capture refuses).
    A Python float converts to float32 first, as ``convert_to_tensor`` does."""
    a = np.asarray(value)
    if isinstance(value, float) and not isinstance(value, np.floating):
        a = a.astype(np.float32)
    return a.astype(dtype)[()]


def _nonnegative(clip_norm, dtype):
    """TF: a negative ``clip_norm`` is treated as 0. A number gives a NumPy scalar of
    ``dtype`` (no host-to-device copy per step)."""
    if np.isscalar(clip_norm):
        if np.dtype(dtype).kind == "f" and _is_number(clip_norm):
            return np.dtype(dtype).type(max(float(clip_norm), 0.0))
        return convert_to_tensor(max(float(clip_norm), 0.0), dtype=dtype)
    c = clip_norm if isinstance(clip_norm, Tensor) else convert_to_tensor(clip_norm)
    c = c if c.dtype == dtype else ops.cast(c, dtype)
    return ops.maximum(c, ops.zeros_like(c))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(||t||_2, clip_norm)`` over ``axes`` (all by default).

    A negative ``clip_norm`` counts as 0 (TF). For IndexedSlices the norm is that of
    ``values``, as in TF.

    Raises:
        ValueError: when ``clip_norm`` would broadcast ``t`` to a larger shape.
    """
    v = convert_to_tensor(_values(t))
    cn = _nonnegative(clip_norm, v.dtype)
    l2sum = ops.reduce_sum(v * v, axis=axes, keepdims=True)
    pred = l2sum > 0
    safe = ops.where(pred, l2sum, ops.ones_like(l2sum))
    l2norm = ops.where(pred, ops.sqrt(safe), l2sum)
    intermediate = v * cn
    _same_shape(v, intermediate, "clip_by_norm")
    return _like(t, intermediate / ops.maximum(l2norm, cn))


def _check_sequence(t_list, opname):
    if not isinstance(t_list, Sequence) or isinstance(t_list, (str, bytes)):
        raise TypeError(f"{opname}: `t_list` should be a sequence of tensors. Received "
                        f"{type(t_list)}.")


def global_norm(t_list, name=None):
    """``sqrt(sum_i ||t_i||^2)`` over the non-None entries (IndexedSlices: their values).

    TF sums ``l2_loss`` (half the squared norms) and doubles; the value is the same.
    Half-precision entries are summed in float32 (TF keeps their dtype).

    Raises:
        TypeError: when ``t_list`` is a single tensor rather than a sequence.
    """
    _check_sequence(t_list, "global_norm")
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
        t_list: a sequence of tensors, IndexedSlices or None.
        clip_norm: the maximum global norm (> 0).
        use_norm: a precomputed global norm.

    Returns:
        ``(list_clipped, global_norm)``: None entries stay None; ``global_norm`` is
        ``use_norm`` when given. A non-finite norm makes every entry NaN, as in TF.

    Raises:
        TypeError: when ``t_list`` is not a sequence.
    """
    _check_sequence(t_list, "clip_by_global_norm")
    t_list = list(t_list)
    norm = global_norm(t_list) if use_norm is None else convert_to_tensor(use_norm)
    one = ops.ones_like(norm)
    if _is_number(clip_norm) and norm.dtype.kind == "f":
        # NumPy scalars (no host-to-device copy per step); the same float arithmetic
        cn = _number_as(clip_norm, norm.dtype)
        scale = ops.minimum(one / norm, norm.dtype.type(1) / cn) * cn
    else:
        cn = clip_norm if isinstance(clip_norm, Tensor) else convert_to_tensor(clip_norm)
        if cn.dtype != norm.dtype:
            cn = ops.cast(cn, norm.dtype)
        scale = cn * ops.minimum(one / norm, one / cn)
    # TF adds (norm - norm): NaN for an inf/NaN norm, a no-op otherwise
    scale = ops.where(ops.is_finite(norm), scale, ops.zeros_like(scale) + float("nan"))
    out = []
    for t in t_list:
        if t is None:
            out.append(None)
            continue
        v = convert_to_tensor(_values(t))
        out.append(_like(t, v * ops.cast(scale, v.dtype)))
    return out, norm


def clip_by_average_norm(t, clip_norm, name=None):
    """``tf.compat.v1.clip_by_average_norm``: ``t * clip_norm * min(n / ||t||_2,
    1 / clip_norm)`` for ``n`` elements, i.e. ``t`` scaled so its L2 norm divided by ``n``
    is at most ``clip_norm``.

    Example:
        >>> import eagerflow as ef
        >>> [round(x, 3) for x in clip_by_average_norm(ef.constant([3.0, 4.0]), 1.0)
        ...  .numpy().tolist()]
        [1.2, 1.6]
    """
    v = convert_to_tensor(t)
    l2norm_inv = ops.rsqrt(ops.reduce_sum(v * v))
    if _is_number(clip_norm) and v.dtype.kind == "f":
        # NumPy scalars (no host-to-device copies per step); the same float arithmetic
        n = v.dtype.type(int(np.prod(v.shape)))
        cn = v.dtype.type(clip_norm)
        return v * cn * ops.minimum(l2norm_inv * n, v.dtype.type(1) / cn)
    n = ops.cast(ops.size(v), v.dtype)
    cn = clip_norm if isinstance(clip_norm, Tensor) else convert_to_tensor(clip_norm,
                                                                           dtype=v.dtype)
    if cn.dtype != v.dtype:
        cn = ops.cast(cn, v.dtype)
    return v * cn * ops.minimum(l2norm_inv * n, ops.ones_like(n) / cn)
