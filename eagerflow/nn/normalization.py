"""Statistics and normalization (``tf.nn``): top_k, zero_fraction, l2_loss, l2_normalize,
moments, weighted_moments, batch_normalization, fused_batch_norm. Compositions of core
ops."""
import collections

import numpy as np

from .. import ops
from ..autograd.registry import defvjp_all, register
from ..autograd.tensor import Tensor
from ..ops import math_extra as _math_extra
from ._common import as_float_tensor, data_format_channels_last, to_tensor

__all__ = ["top_k", "in_top_k", "zero_fraction", "l2_loss", "l2_normalize", "moments",
           "weighted_moments", "batch_normalization", "fused_batch_norm", "local_response_normalization", "lrn",
           "TopKV2"]

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _top_k_fwd(xp, a, k):
    key = a.astype(np.int8) if a.dtype.kind == "b" else a
    # a stable sort of order-reversed keys keeps the lower index first among ties; for
    # integers ~v (= -v - 1, or max - v unsigned) reverses the order without the overflow
    # of -v at the type's minimum
    key = ~key if key.dtype.kind in "iu" else -key
    idx = xp.argsort(key, axis=-1, kind="stable")[..., :k]
    return xp.take_along_axis(a, idx, axis=-1), idx.astype(np.int32)


def _top_k_vjp(g, ans, inputs, attrs, needs):
    x = inputs[0]
    if not needs[0]:
        return [None]
    # each selected value's gradient goes back to its position: one_hot(indices) . g
    hot = ops.one_hot(ans[1], int(x.shape[-1]), dtype=g[0].dtype)      # (..., k, n)
    return [ops.reduce_sum(hot * ops.expand_dims(g[0], -1), axis=-2)]


_top_k = register("top_k", _top_k_fwd, multi=True)
defvjp_all(_top_k, _top_k_vjp)


def top_k(input, k=1, sorted=True, name=None):
    """The ``k`` largest entries of the last axis and their indices (``tf.math.top_k``).

    Ties keep the lower index first, as TF does. The gradient reaches ``input`` at the
    selected positions.

    Args:
        input: tensor of shape ``(..., n)`` with ``n >= k``.
        k: number of entries to keep.
        sorted: results are always sorted descending (TF allows any order when False).

    Returns:
        ``TopKV2(values, indices)``, both of shape ``(..., k)``; indices are int32.

    Raises:
        ValueError: ``k`` negative or larger than the last dimension.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.top_k(ef.constant([1.0, 3.0, 2.0]), 2).indices.numpy().tolist()
        [1, 2]
    """
    x = to_tensor(input)
    if x.ndim == 0:
        raise ValueError("top_k: input must have rank >= 1")
    k = int(k.numpy() if isinstance(k, Tensor) else k)
    n = x.shape[-1]
    if not 0 <= k <= n:
        raise ValueError(f"top_k: k must be in [0, {n}] (the last dimension), got {k}")
    values, indices = _top_k(x, k=k)
    return TopKV2(values, indices)


def in_top_k(predictions, targets, k, name=None):
    """Whether each target class is among the top ``k`` predictions of its row.

    ``tf.compat.v1.nn.in_top_k(predictions, targets, k)``; TF2's ``tf.nn.in_top_k`` /
    ``tf.math.in_top_k`` take ``(targets, predictions, k)``, and that order is recognised
    from the dtypes (integer targets, floating predictions) and accepted too.

    As TF's InTopK kernel (core/kernels/in_topk_op.h): ``out[i]`` is True when fewer than
    ``k`` predictions of row ``i`` are strictly larger than the target's (so ties with the
    target count in its favour), and False when the target is out of range or any
    prediction of the row is not finite.

    Args:
        predictions: floating tensor ``(batch, classes)``.
        targets: int tensor ``(batch,)``.
        k: int (or scalar tensor).

    Returns:
        bool tensor ``(batch,)``; no gradient.

    Raises:
        ValueError: wrong ranks or a batch size mismatch. TypeError: wrong dtypes
            (:func:`eagerflow.math.in_top_k`'s rules: float32 predictions, as TF's kernel).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.in_top_k(ef.constant([[0.1, 0.9, 0.9]]), [2], 1).numpy().tolist()
        [True]
    """
    p, t = to_tensor(predictions), to_tensor(targets)
    if p.dtype.kind in "iu" and t.dtype.kind == "f":
        p, t = t, p  # TF2's argument order (targets, predictions, k)
    return _math_extra.in_top_k(t, p, k)


def zero_fraction(value, name=None):
    """The fraction of zeros in ``value``, a float32 scalar (``tf.math.zero_fraction``)."""
    x = to_tensor(value)
    return ops.reduce_mean(ops.cast(ops.equal(x, ops.zeros_like(x)), np.float32))


def l2_loss(t, name=None):
    """``sum(t ** 2) / 2`` (``tf.nn.l2_loss``)."""
    x = as_float_tensor(t, "l2_loss", "t")
    return ops.reduce_sum(x * x) * 0.5


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (``tf.math.l2_normalize``).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.l2_normalize(ef.constant([3.0, 4.0]), axis=0).numpy().tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    if dim is not None:
        axis = dim
    t = as_float_tensor(x, "l2_normalize", "x")
    sq = ops.reduce_sum(t * t, axis=axis, keepdims=True)
    return t * ops.rsqrt(ops.maximum(sq, float(epsilon)))


def moments(x, axes, shift=None, keepdims=False, name=None, keep_dims=None):
    """Mean and variance of ``x`` over ``axes`` (``tf.nn.moments``).

    As in TF, the variance is ``mean((x - stop_gradient(mean)) ** 2)``.

    Returns:
        ``(mean, variance)``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> m, v = nn.moments(ef.constant([1.0, 3.0]), axes=[0])
        >>> (float(m.numpy()), float(v.numpy()))
        (2.0, 1.0)
    """
    if keep_dims is not None:
        keepdims = keep_dims
    x16 = as_float_tensor(x, "moments", "x")
    # as TF, float16 statistics are computed in float32 and cast back
    half = x16.dtype == np.float16
    t = ops.cast(x16, np.float32) if half else x16
    axes = tuple(int(a) for a in (axes if isinstance(axes, (list, tuple)) else [axes]))
    mean = ops.reduce_mean(t, axis=axes, keepdims=True)
    var = ops.reduce_mean(ops.squared_difference(t, ops.stop_gradient(mean)), axis=axes,
                          keepdims=True)
    return _finish_moments(mean, var, axes, keepdims, half)


def _finish_moments(mean, var, axes, keepdims, half):
    """The statistics without the reduced axes (unless ``keepdims``), back in float16 when
    the input was (TF computes float16 moments in float32)."""
    if not keepdims:
        mean = ops.squeeze(mean, axis=axes)
        var = ops.squeeze(var, axis=axes)
    if half:
        mean, var = ops.cast(mean, np.float16), ops.cast(var, np.float16)
    return mean, var


def _moment_axes(axes, ndim, opname):
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    raw = axes if isinstance(axes, (list, tuple)) else [axes]
    out = []
    for a in raw:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{opname}: axes must be an int or a list of ints, got {axes!r}")
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"{opname}: axis {int(a)} in axes is out of range for x of rank "
                             f"{ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: axes must not repeat, got {list(raw)}")
    return tuple(out)


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None, keep_dims=None):
    """Frequency-weighted mean and variance of ``x`` over ``axes`` (``tf.nn.weighted_moments``).

    As TF's two-pass formula (nn_impl.py): with ``w`` = ``frequency_weights`` broadcast to
    ``x``'s shape, ``mean = sum(w * x) / sum(w)`` and ``variance = sum(w * (x - mean) ** 2) /
    sum(w)`` over ``axes``, each division ``div_no_nan`` (so all-zero weights give 0, not
    NaN). Unlike :func:`moments` the mean is not held constant in the variance: gradients
    reach ``x`` through both terms, and ``frequency_weights`` too. ``float16`` input is
    computed in float32 and cast back; weights are cast to ``x``'s dtype.

    Args:
        x: a float tensor.
        axes: the axis or axes to reduce.
        frequency_weights: a tensor broadcastable to ``x``.
        keepdims: keep the reduced axes with size 1 (``keep_dims`` is TF1's spelling).

    Returns:
        ``(weighted_mean, weighted_variance)``.

    Raises:
        TypeError: a non-floating ``x``, or bad ``axes``.
        ValueError: an axis out of range, or ``frequency_weights`` that do not broadcast
            to ``x``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> m, v = nn.weighted_moments(ef.constant([1.0, 3.0]), [0], ef.constant([1.0, 3.0]))
        >>> float(m.numpy()), float(v.numpy())
        (2.5, 0.75)
    """
    if keep_dims is not None:
        keepdims = keep_dims
    opname = "weighted_moments"
    x16 = as_float_tensor(x, opname, "x")
    half = x16.dtype == np.float16
    t = ops.cast(x16, np.float32) if half else x16
    w = to_tensor(frequency_weights, t.dtype)
    if w.dtype != t.dtype:
        w = ops.cast(w, t.dtype)
    try:
        np.broadcast_shapes(tuple(w.shape), tuple(t.shape))
    except ValueError:
        raise ValueError(f"{opname}: frequency_weights of shape {tuple(w.shape)} do not "
                         f"broadcast to x of shape {tuple(t.shape)}") from None
    axes = _moment_axes(axes, max(t.ndim, w.ndim), opname)
    wsum_x = ops.reduce_sum(w * t, axis=axes, keepdims=True)
    # the weights broadcast to the shape of w * x, so that every item counts its weight
    count = ops.reduce_sum(w + ops.zeros_like(t), axis=axes, keepdims=True)
    mean = ops.divide_no_nan(wsum_x, count)
    var = ops.divide_no_nan(
        ops.reduce_sum(w * ops.squared_difference(t, mean), axis=axes, keepdims=True), count)
    return _finish_moments(mean, var, axes, keepdims, half)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + epsilon) + offset`` with broadcasting.

    ``offset`` and ``scale`` may be None (0 and 1).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.batch_normalization(ef.constant([3.0]), 1.0, 4.0, None, None, 0.0).numpy()
        array([1.], dtype=float32)
    """
    t = as_float_tensor(x, "batch_normalization", "x")
    mean, variance = (to_tensor(v, t.dtype) for v in (mean, variance))
    inv = ops.rsqrt(variance + float(variance_epsilon))
    if scale is not None:
        inv = inv * to_tensor(scale, t.dtype)
    shift = -mean * inv
    if offset is not None:
        shift = shift + to_tensor(offset, t.dtype)
    return t * inv + shift


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None,
                     exponential_avg_factor=1.0):
    """Batch normalization of a 4-D (or 5-D) tensor over all axes but the channels.

    ``tf.compat.v1.nn.fused_batch_norm``. In training the batch statistics normalise ``x``
    and the returned variance is the unbiased one (``n / (n - 1)``, as TF returns for the
    moving average); with ``exponential_avg_factor < 1`` the returned statistics are
    ``(1 - f) * given + f * batch``. In inference ``mean`` and ``variance`` are used.
    ``epsilon`` is raised to at least ``1.001e-5`` as TF does.

    Args:
        x: tensor ``(N, H, W, C)`` (``NHWC``) or ``(N, C, H, W)`` (``NCHW``); 5-D with
            ``NDHWC``/``NCDHW``.
        scale, offset: tensors of shape ``(C,)``.
        mean, variance: ``(C,)``; required when ``is_training`` is False.

    Returns:
        ``(y, batch_mean, batch_variance)``.

    Raises:
        ValueError: wrong rank, channel mismatch, or missing statistics for inference or
            for ``exponential_avg_factor != 1``.
    """
    t = as_float_tensor(x, "fused_batch_norm", "x")
    epsilon = max(float(epsilon), 1.001e-5)  # TF's floor (a cuDNN requirement) on every device
    if t.ndim not in (4, 5):
        raise ValueError(f"fused_batch_norm: x must be 4-D or 5-D, got shape {tuple(t.shape)}")
    last = data_format_channels_last(data_format, "fused_batch_norm")
    c = t.shape[-1] if last else t.shape[1]
    axes = tuple(i for i in range(t.ndim) if i != (t.ndim - 1 if last else 1))
    bshape = tuple(c if i not in axes else 1 for i in range(t.ndim))
    scale, offset = to_tensor(scale, t.dtype), to_tensor(offset, t.dtype)
    for nm, v in (("scale", scale), ("offset", offset)):
        if tuple(v.shape) != (c,):
            raise ValueError(f"fused_batch_norm: {nm} must have shape ({c},), got "
                             f"{tuple(v.shape)}")
    if is_training:
        if float(exponential_avg_factor) != 1.0 and (mean is None or variance is None):
            # as TF's nn_impl.fused_batch_norm
            raise ValueError("fused_batch_norm: both mean and variance must be a 1D tensor "
                             "when is_training is False or exponential_avg_factor != 1.0")
        bm, bv = moments(t, axes)
        n = int(np.prod([t.shape[i] for i in axes]))
        y = batch_normalization(t, ops.reshape(bm, bshape), ops.reshape(bv, bshape),
                                ops.reshape(offset, bshape), ops.reshape(scale, bshape),
                                epsilon)
        unbiased = bv * (n / max(n - 1, 1))
        f = float(exponential_avg_factor)
        if f != 1.0:
            bm = to_tensor(mean, t.dtype) * (1.0 - f) + bm * f
            unbiased = to_tensor(variance, t.dtype) * (1.0 - f) + unbiased * f
        return y, bm, unbiased
    if mean is None or variance is None:
        raise ValueError("fused_batch_norm: mean and variance are required when "
                         "is_training=False")
    mean, variance = to_tensor(mean, t.dtype), to_tensor(variance, t.dtype)
    y = batch_normalization(t, ops.reshape(mean, bshape), ops.reshape(variance, bshape),
                            ops.reshape(offset, bshape), ops.reshape(scale, bshape), epsilon)
    return y, mean, variance


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5,
                                 name=None):
    """``input / (bias + alpha * sum_sq) ** beta`` over a window of channels (``tf.nn.lrn``).

    ``sum_sq[..., d]`` is the sum of ``input[..., d - r : d + r + 1] ** 2`` (clipped at the
    edges), ``r = depth_radius``.

    Args:
        input: 4-D tensor ``(N, H, W, C)``.

    Raises:
        ValueError: input not 4-D.
    """
    x = as_float_tensor(input, "local_response_normalization", "input")
    if x.ndim != 4:
        raise ValueError(f"local_response_normalization: input must be 4-D, got shape "
                         f"{tuple(x.shape)}")
    r, c = int(depth_radius), x.shape[-1]
    padded = ops.pad(x * x, [(0, 0), (0, 0), (0, 0), (r, r)])
    window = ops.add_n([padded[..., i:i + c] for i in range(2 * r + 1)])
    return x / (window * float(alpha) + float(bias)) ** float(beta)


lrn = local_response_normalization
