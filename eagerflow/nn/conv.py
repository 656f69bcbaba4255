"""Convolutions (``tf.nn.conv1d/2d/3d``, ``conv2d/3d_transpose``, ``depthwise_conv2d``,
``separable_conv2d``) as im2col + matmul, with TensorFlow's SAME/VALID arithmetic.

``im2col`` turns a padded channels-last input ``(N, *S, C)`` into the patches ``(N, *O, *K,
C)``; ``col2im`` is its transpose (patches summed back into place). The two are registered
ops whose vjps are each other, so every convolution, its transpose and their gradients of
any order are compositions of these, ``pad`` and ``matmul``. Channels-first inputs are
transposed to channels-last and back.
"""
import itertools
import math

import numpy as np

from .. import ops
from ..autograd.registry import defvjp, register
from ._common import as_float_tensor, data_format_channels_last, to_tensor

__all__ = ["conv1d", "conv2d", "conv3d", "convolution", "conv2d_transpose",
           "conv3d_transpose", "conv1d_transpose", "depthwise_conv2d", "separable_conv2d",
           "separable_conv1d", "conv_output_length", "same_padding"]

_PADDINGS = ("SAME", "VALID")


# --- the two registered ops -------------------------------------------------------------
def _windows(ksize, strides, dilations, out_sp):
    """For each kernel offset: (offset tuple, slices into the padded input)."""
    for off in itertools.product(*[range(k) for k in ksize]):
        yield off, tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                         for o, d, n, s in zip(off, dilations, out_sp, strides))


def _im2col_fwd(xp, x, ksize, strides, dilations):
    nd = len(ksize)
    sp = x.shape[1:1 + nd]
    out_sp = tuple((n - (k - 1) * d - 1) // s + 1
                   for n, k, s, d in zip(sp, ksize, strides, dilations))
    cols = xp.empty((x.shape[0],) + out_sp + tuple(ksize) + (x.shape[-1],), dtype=x.dtype)
    lead = (slice(None),) * (1 + nd)
    for off, sl in _windows(ksize, strides, dilations, out_sp):
        cols[lead + off] = x[(slice(None),) + sl]
    return cols


def _col2im_fwd(xp, cols, spatial, strides, dilations):
    nd = len(spatial)
    out_sp = cols.shape[1:1 + nd]
    ksize = cols.shape[1 + nd:1 + 2 * nd]
    x = xp.zeros((cols.shape[0],) + tuple(spatial) + (cols.shape[-1],), dtype=cols.dtype)
    lead = (slice(None),) * (1 + nd)
    for off, sl in _windows(ksize, strides, dilations, out_sp):
        x[(slice(None),) + sl] += cols[lead + off]
    return x


_im2col = register("im2col", _im2col_fwd)
_col2im = register("col2im", _col2im_fwd)
defvjp(_im2col, lambda g, ans, x, ksize, strides, dilations: _col2im(
    g, spatial=tuple(x.shape[1:1 + len(ksize)]), strides=strides, dilations=dilations))
defvjp(_col2im, lambda g, ans, cols, spatial, strides, dilations: _im2col(
    g, ksize=tuple(cols.shape[1 + len(spatial):1 + 2 * len(spatial)]), strides=strides,
    dilations=dilations))


# --- padding arithmetic -------------------------------------------------------------------
def conv_output_length(n, k, stride, dilation, padding):
    """TF's output length of one spatial dim (``SAME``: ceil(n / s); ``VALID``:
    ceil((n - (k - 1) d) / s))."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return -(-n // stride)
    return max(-(-(n - eff + 1) // stride), 0)


def same_padding(n, k, stride, dilation):
    """TF's (before, after) padding of one dim for SAME: the extra one goes after."""
    eff = (k - 1) * dilation + 1
    out = -(-n // stride)
    total = max((out - 1) * stride + eff - n, 0)
    return total // 2, total - total // 2


def _check_padding(padding, opname, last=True):
    """'SAME'/'VALID', or explicit pairs put in channels-last order."""
    if isinstance(padding, str):
        p = padding.upper()
        if p not in _PADDINGS:
            raise ValueError(f"{opname}: padding must be 'SAME', 'VALID' or explicit pairs, "
                             f"got {padding!r}")
        return p
    if padding is None:
        raise ValueError(f"{opname}: padding is required ('SAME' or 'VALID')")
    pairs = [tuple(int(v) for v in pair) for pair in padding]
    if not last and len(pairs) > 2:
        pairs = [pairs[0]] + pairs[2:] + [pairs[1]]
    return pairs


def _pads(sp, ksize, strides, dilations, padding, last, opname):
    """Per spatial dim (before, after)."""
    nd = len(sp)
    if padding == "VALID":
        return [(0, 0)] * nd
    if padding == "SAME":
        return [same_padding(n, k, s, d) for n, k, s, d in zip(sp, ksize, strides, dilations)]
    pairs = padding
    if len(pairs) != nd + 2:
        raise ValueError(f"{opname}: explicit padding needs {nd + 2} (before, after) pairs, "
                         f"got {len(pairs)}")
    sp_pairs = pairs[1:-1] if last else pairs[2:]
    edge = [pairs[0], pairs[-1]] if last else [pairs[0], pairs[1]]
    if any(p != (0, 0) for p in edge):
        raise ValueError(f"{opname}: explicit padding of the batch and channel dims must be 0")
    return sp_pairs


def _spatial_arg(v, nd, last, opname, what, default=1):
    """strides/dilations/ksize: an int, nd ints, or nd + 2 ints (1 on batch and channels)."""
    if v is None:
        return (default,) * nd
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = [int(a) for a in v]
    if len(v) == 1:
        return (v[0],) * nd
    if len(v) == nd:
        return tuple(v)
    if len(v) == nd + 2:
        edge = (v[0], v[-1]) if last else (v[0], v[1])
        if edge != (1, 1):
            raise ValueError(f"{opname}: {what} of the batch and channel dims must be 1, got "
                             f"{v}")
        return tuple(v[1:-1] if last else v[2:])
    raise ValueError(f"{opname}: {what} must have 1, {nd} or {nd + 2} entries, got {v}")


def _to_last(x, last):
    if last:
        return x
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return ops.transpose(x, perm)


def _from_last(x, last):
    if last:
        return x
    perm = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
    return ops.transpose(x, perm)


def _pad_spatial(x, pads, value=0.0):
    if all(p == (0, 0) for p in pads):
        return x
    return ops.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)],
                   constant_values=value)


def patches(x, ksize, strides, dilations, padding, opname, pad_value=0.0):
    """Padded patches of channels-last ``x``: ``(N, *O, *K, C)`` (used by pooling too)."""
    sp = tuple(x.shape[1:-1])
    pads = _pads(sp, ksize, strides, dilations, padding, True, opname)
    for n, (b, a), k, d in zip(sp, pads, ksize, dilations):
        if n + b + a < (k - 1) * d + 1:
            raise ValueError(f"{opname}: the window ({k}, dilation {d}) is larger than the "
                             f"padded input ({n + b + a}) with padding {padding!r}")
    return _im2col(_pad_spatial(x, pads, pad_value), ksize=tuple(ksize),
                   strides=tuple(strides), dilations=tuple(dilations))


# --- convolutions -------------------------------------------------------------------------
def _conv(input, filters, strides, padding, data_format, dilations, nd, opname):
    x = as_float_tensor(input, opname, "input")
    w = to_tensor(filters, x.dtype)
    if x.ndim != nd + 2:
        raise ValueError(f"{opname}: input must be {nd + 2}-D, got shape {tuple(x.shape)}")
    if w.ndim != nd + 2:
        raise ValueError(f"{opname}: filters must be {nd + 2}-D (*kernel, in_channels, "
                         f"out_channels), got shape {tuple(w.shape)}")
    last = data_format_channels_last(data_format, opname)
    padding = _check_padding(padding, opname, last)
    strides = _spatial_arg(strides, nd, last, opname, "strides")
    dilations = _spatial_arg(dilations, nd, last, opname, "dilations")
    if min(strides + dilations) < 1:
        raise ValueError(f"{opname}: strides and dilations must be >= 1")
    xl = _to_last(x, last)
    cin, cout = w.shape[-2], w.shape[-1]
    if xl.shape[-1] != cin:
        raise ValueError(f"{opname}: input has {xl.shape[-1]} channels but filters expect "
                         f"{cin}")
    ksize = tuple(w.shape[:nd])
    cols = patches(xl, ksize, strides, dilations, padding, opname)
    out_sp = tuple(cols.shape[1:1 + nd])
    n = xl.shape[0]
    flat = ops.reshape(cols, (n * math.prod(out_sp), math.prod(ksize) * cin))
    y = ops.matmul(flat, ops.reshape(w, (math.prod(ksize) * cin, cout)))
    return _from_last(ops.reshape(y, (n,) + out_sp + (cout,)), last)


def conv2d(input, filters=None, strides=None, padding=None, data_format="NHWC",
           dilations=None, name=None, filter=None):
    """2-D convolution (``tf.nn.conv2d``): cross-correlation, no filter flip.

    Args:
        input: ``(N, H, W, C)`` (``NHWC``) or ``(N, C, H, W)`` (``NCHW``).
        filters: ``(KH, KW, C, O)`` (TF1's ``filter=`` is accepted).
        strides: int, 2 ints, or 4 ints with 1 on batch and channels.
        padding: ``'SAME'``, ``'VALID'`` or explicit ``[[0, 0], [t, b], [l, r], [0, 0]]``.
        dilations: like strides.

    Returns:
        ``(N, OH, OW, O)`` (or NCHW) with TF's output size: SAME ``ceil(H / s)``, VALID
        ``ceil((H - (KH - 1) d) / s)``.

    Raises:
        ValueError: wrong ranks, channel mismatch, an unknown padding.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.conv2d(ef.ones((1, 3, 3, 1)), ef.ones((2, 2, 1, 1)), 1, "VALID").shape
        TensorShape([1, 2, 2, 1])
    """
    filters = filter if filters is None else filters
    return _conv(input, filters, strides, padding, data_format, dilations, 2, "conv2d")


def conv1d(input, filters=None, stride=None, padding=None, data_format="NWC", dilations=None,
           name=None, value=None, filter=None):
    """1-D convolution (``tf.nn.conv1d``): input ``(N, W, C)`` or ``(N, C, W)``, filters
    ``(K, C, O)``."""
    input = value if input is None else input
    filters = filter if filters is None else filters
    return _conv(input, filters, stride, padding, data_format, dilations, 1, "conv1d")


def conv3d(input, filters=None, strides=None, padding=None, data_format="NDHWC",
           dilations=None, name=None, filter=None):
    """3-D convolution (``tf.nn.conv3d``): input ``(N, D, H, W, C)`` or ``(N, C, D, H, W)``,
    filters ``(KD, KH, KW, C, O)``."""
    filters = filter if filters is None else filters
    return _conv(input, filters, strides, padding, data_format, dilations, 3, "conv3d")


def convolution(input, filters, padding, strides=None, dilation_rate=None, data_format=None,
                name=None):
    """N-D convolution dispatching on the input rank (``tf.nn.convolution``)."""
    nd = to_tensor(input).ndim - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"convolution: input must be 3-D to 5-D, got rank {nd + 2}")
    return _conv(input, filters, strides, padding, data_format, dilation_rate, nd,
                 "convolution")


def _conv_transpose(input, filters, output_shape, strides, padding, data_format, dilations,
                    nd, opname):
    x = as_float_tensor(input, opname, "input")
    w = to_tensor(filters, x.dtype)
    if x.ndim != nd + 2 or w.ndim != nd + 2:
        raise ValueError(f"{opname}: input and filters must be {nd + 2}-D, got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    last = data_format_channels_last(data_format, opname)
    padding = _check_padding(padding, opname, last)
    strides = _spatial_arg(strides, nd, last, opname, "strides")
    dilations = _spatial_arg(dilations, nd, last, opname, "dilations")
    oshape = [int(v) for v in (output_shape.numpy() if hasattr(output_shape, "numpy")
                                else output_shape)]
    if len(oshape) != nd + 2:
        raise ValueError(f"{opname}: output_shape must have {nd + 2} entries, got {oshape}")
    out_sp = tuple(oshape[1:-1] if last else oshape[2:])
    cout = oshape[-1] if last else oshape[1]
    xl = _to_last(x, last)
    ksize = tuple(w.shape[:nd])
    if w.shape[-2] != cout or w.shape[-1] != xl.shape[-1]:
        raise ValueError(f"{opname}: filters of shape {tuple(w.shape)} must be (*kernel, "
                         f"output channels {cout}, input channels {xl.shape[-1]})")
    in_sp = tuple(xl.shape[1:-1])
    pads = _pads(out_sp, ksize, strides, dilations, padding, True, opname)
    want = tuple((o + b + a - (k - 1) * d - 1) // s + 1 for o, (b, a), k, s, d in
                 zip(out_sp, pads, ksize, strides, dilations))
    if want != in_sp:
        raise ValueError(f"{opname}: output_shape {oshape} does not match the input: a "
                         f"convolution of that output gives spatial shape {want}, the input "
                         f"has {in_sp}")
    n = xl.shape[0]
    flat = ops.reshape(xl, (n * math.prod(in_sp), xl.shape[-1]))
    cols = ops.matmul(flat, ops.reshape(w, (math.prod(ksize) * cout, xl.shape[-1])),
                      transpose_b=True)
    cols = ops.reshape(cols, (n,) + in_sp + ksize + (cout,))
    padded = tuple(o + b + a for o, (b, a) in zip(out_sp, pads))
    y = _col2im(cols, spatial=padded, strides=tuple(strides), dilations=tuple(dilations))
    if any(p != (0, 0) for p in pads):
        y = y[(slice(None),) + tuple(slice(b, b + o) for (b, _), o in zip(pads, out_sp))]
    return _from_last(y, last)


def conv2d_transpose(input, filters=None, output_shape=None, strides=None, padding="SAME",
                     data_format="NHWC", dilations=None, name=None, value=None, filter=None):
    """The transpose (gradient) of ``conv2d`` (``tf.nn.conv2d_transpose``).

    Args:
        input: ``(N, H, W, C_in)`` (or NCHW).
        filters: ``(KH, KW, C_out, C_in)``.
        output_shape: the full output shape ``(N, OH, OW, C_out)`` (or NCHW).

    Raises:
        ValueError: ``output_shape`` inconsistent with the input, strides and padding.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.conv2d_transpose(ef.ones((1, 2, 2, 1)), ef.ones((3, 3, 1, 1)), [1, 4, 4, 1],
        ...                     2, "SAME").shape
        TensorShape([1, 4, 4, 1])
    """
    input = value if input is None else input
    filters = filter if filters is None else filters
    return _conv_transpose(input, filters, output_shape, strides, padding, data_format,
                           dilations, 2, "conv2d_transpose")


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",
                     data_format="NWC", dilations=None, name=None):
    """The transpose of ``conv1d``; filters ``(K, C_out, C_in)``."""
    return _conv_transpose(input, filters, output_shape, strides, padding, data_format,
                           dilations, 1, "conv1d_transpose")


def conv3d_transpose(input, filters=None, output_shape=None, strides=None, padding="SAME",
                     data_format="NDHWC", dilations=None, name=None, value=None, filter=None):
    """The transpose of ``conv3d``; filters ``(KD, KH, KW, C_out, C_in)``."""
    input = value if input is None else input
    filters = filter if filters is None else filters
    return _conv_transpose(input, filters, output_shape, strides, padding, data_format,
                           dilations, 3, "conv3d_transpose")


def _depthwise(x, w, strides, padding, dilations, nd, opname):
    """Channels-last depthwise conv: filter ``(*K, C, M)`` -> output channels ``C * M``."""
    c, m = w.shape[-2], w.shape[-1]
    if x.shape[-1] != c:
        raise ValueError(f"{opname}: input has {x.shape[-1]} channels but the depthwise "
                         f"filter expects {c}")
    ksize = tuple(w.shape[:nd])
    cols = patches(x, ksize, strides, dilations, padding, opname)
    out_sp = tuple(cols.shape[1:1 + nd])
    n = x.shape[0]
    rows, kk = n * math.prod(out_sp), math.prod(ksize)
    flat = ops.transpose(ops.reshape(cols, (rows, kk, c)), (2, 0, 1))      # (C, rows, K)
    wc = ops.transpose(ops.reshape(w, (kk, c, m)), (1, 0, 2))              # (C, K, M)
    y = ops.transpose(ops.matmul(flat, wc), (1, 0, 2))                     # (rows, C, M)
    return ops.reshape(y, (n,) + out_sp + (c * m,))


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None,
                     name=None, rate=None):
    """Depthwise 2-D convolution (``tf.nn.depthwise_conv2d``).

    Args:
        input: ``(N, H, W, C)`` (or NCHW).
        filter: ``(KH, KW, C, M)``; output channel ``c * M + m`` uses ``filter[..., c, m]``.
        strides: 4 ints ``[1, sh, sw, 1]`` (or 2, or one int).
        dilations: TF1's ``rate`` is accepted too.

    Returns:
        ``(N, OH, OW, C * M)`` (or NCHW).
    """
    x = as_float_tensor(input, "depthwise_conv2d", "input")
    w = to_tensor(filter, x.dtype)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"depthwise_conv2d: input and filter must be 4-D, got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    last = data_format_channels_last(data_format, "depthwise_conv2d")
    padding = _check_padding(padding, "depthwise_conv2d", last)
    strides = _spatial_arg(strides, 2, last, "depthwise_conv2d", "strides")
    dilations = _spatial_arg(dilations if dilations is not None else rate, 2, last,
                             "depthwise_conv2d", "dilations")
    y = _depthwise(_to_last(x, last), w, strides, padding, dilations, 2, "depthwise_conv2d")
    return _from_last(y, last)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,
                     data_format=None, dilations=None, name=None, rate=None):
    """Depthwise then 1x1 convolution (``tf.nn.separable_conv2d``).

    Args:
        depthwise_filter: ``(KH, KW, C, M)``.
        pointwise_filter: ``(1, 1, C * M, O)``.
    """
    x = as_float_tensor(input, "separable_conv2d", "input")
    pw = to_tensor(pointwise_filter, x.dtype)
    if pw.ndim != 4 or tuple(pw.shape[:2]) != (1, 1):
        raise ValueError(f"separable_conv2d: pointwise_filter must be (1, 1, C * M, O), got "
                         f"{tuple(pw.shape)}")
    y = depthwise_conv2d(x, depthwise_filter, strides, padding, data_format, dilations,
                         rate=rate)
    return conv2d(y, pw, 1, "VALID", data_format or "NHWC")


def separable_conv1d(input, depthwise_filter, pointwise_filter, strides, padding,
                     data_format=None, dilations=None, name=None):
    """1-D separable convolution (what ``tf.layers.separable_conv1d`` computes).

    Args:
        input: ``(N, W, C)`` (``NWC``) or ``(N, C, W)`` (``NCW``).
        depthwise_filter: ``(K, C, M)``.
        pointwise_filter: ``(1, C * M, O)``.
    """
    x = as_float_tensor(input, "separable_conv1d", "input")
    last = data_format_channels_last(data_format, "separable_conv1d")
    dw = to_tensor(depthwise_filter, x.dtype)
    pw = to_tensor(pointwise_filter, x.dtype)
    if dw.ndim != 3 or pw.ndim != 3 or pw.shape[0] != 1:
        raise ValueError(f"separable_conv1d: filters must be (K, C, M) and (1, C * M, O), got "
                         f"{tuple(dw.shape)} and {tuple(pw.shape)}")
    padding = _check_padding(padding, "separable_conv1d", last)
    strides = _spatial_arg(strides, 1, last, "separable_conv1d", "strides")
    dilations = _spatial_arg(dilations, 1, last, "separable_conv1d", "dilations")
    y = _depthwise(_to_last(x, last), dw, strides, padding, dilations, 1, "separable_conv1d")
    y = conv1d(y, pw, 1, "VALID", "NWC")
    return _from_last(y, last)
