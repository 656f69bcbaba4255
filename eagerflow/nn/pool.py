"""Pooling (``tf.nn.max_pool/avg_pool`` 1d/2d/3d) over the im2col patches of ``conv``.

SAME padding follows TF: max pooling never picks a padded position, average pooling
divides by the number of real (unpadded) elements of each window. Max pooling shares the
gradient equally among tied maxima of a window (TF sends it to one of them).
"""
import numpy as np

from .. import backend, ops
from ..autograd.tensor import _wrap
from ._common import as_float_tensor, data_format_channels_last
from .conv import _check_padding, _from_last, _spatial_arg, _to_last, patches

__all__ = ["max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "pool"]


def _pool(input, ksize, strides, padding, data_format, kind, nd, opname):
    x = as_float_tensor(input, opname, "input")
    if nd is None:
        nd = x.ndim - 2
    if nd not in (1, 2, 3) or x.ndim != nd + 2:
        raise ValueError(f"{opname}: input must be {nd + 2 if nd in (1, 2, 3) else '3-D to 5'}"
                         f"-D, got shape {tuple(x.shape)}")
    last = data_format_channels_last(data_format, opname)
    padding = _check_padding(padding, opname, last)
    if not isinstance(padding, str):
        raise ValueError(f"{opname}: padding must be 'SAME' or 'VALID', got {padding!r}")
    ksize = _spatial_arg(ksize, nd, last, opname, "ksize")
    strides = _spatial_arg(strides, nd, last, opname, "strides")
    if min(ksize + strides) < 1:
        raise ValueError(f"{opname}: ksize and strides must be >= 1")
    xl = _to_last(x, last)
    dil = (1,) * nd
    red = tuple(range(1 + nd, 1 + 2 * nd))
    if kind == "max":
        cols = patches(xl, ksize, strides, dil, padding, opname, pad_value=float("-inf"))
        y = ops.reduce_max(cols, axis=red)
    else:
        cols = patches(xl, ksize, strides, dil, padding, opname)
        y = ops.reduce_sum(cols, axis=red)
        if padding == "SAME":
            # the count of real elements per window depends only on the spatial position
            ones = _wrap(backend.array_module(xl._data).ones(
                (1,) + tuple(xl.shape[1:-1]) + (1,), dtype=xl.dtype))
            counts = ops.reduce_sum(patches(ones, ksize, strides, dil, padding, opname),
                                    axis=red)
            y = y / counts
        else:
            y = y / float(np.prod(ksize))
    return _from_last(y, last)


def max_pool(input, ksize, strides, padding, data_format=None, name=None, value=None):
    """Max pooling; the rank of ``input`` (3, 4 or 5) picks 1-D, 2-D or 3-D.

    Args:
        input: ``(N, *spatial, C)`` (channels last, the default) or ``(N, C, *spatial)``.
        ksize: window size: an int, one per spatial dim, or ``rank`` ints with 1 on batch
            and channels.
        strides: like ksize.
        padding: ``'SAME'`` or ``'VALID'``.

    Returns:
        ``(N, *out, C)``, out as TF computes it (SAME ``ceil(n / s)``, VALID
        ``ceil((n - k + 1) / s)``).

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> x = ef.reshape(ef.range(16.0), (1, 4, 4, 1))
        >>> nn.max_pool(x, 2, 2, "VALID").numpy().ravel().tolist()
        [5.0, 7.0, 13.0, 15.0]
    """
    input = value if input is None else input
    return _pool(input, ksize, strides, padding, data_format, "max", None, "max_pool")


def avg_pool(input, ksize, strides, padding, data_format=None, name=None, value=None):
    """Average pooling (see :func:`max_pool`); SAME windows average their real elements."""
    input = value if input is None else input
    return _pool(input, ksize, strides, padding, data_format, "avg", None, "avg_pool")


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """1-D max pooling of ``(N, W, C)`` (or ``NCW``)."""
    return _pool(input, ksize, strides, padding, data_format, "max", 1, "max_pool1d")


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """2-D max pooling of ``(N, H, W, C)`` (or ``NCHW``)."""
    return _pool(input, ksize, strides, padding, data_format, "max", 2, "max_pool2d")


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """3-D max pooling of ``(N, D, H, W, C)`` (or ``NCDHW``)."""
    return _pool(input, ksize, strides, padding, data_format, "max", 3, "max_pool3d")


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """1-D average pooling of ``(N, W, C)`` (or ``NCW``)."""
    return _pool(input, ksize, strides, padding, data_format, "avg", 1, "avg_pool1d")


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """2-D average pooling of ``(N, H, W, C)`` (or ``NCHW``)."""
    return _pool(input, ksize, strides, padding, data_format, "avg", 2, "avg_pool2d")


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """3-D average pooling of ``(N, D, H, W, C)`` (or ``NCDHW``)."""
    return _pool(input, ksize, strides, padding, data_format, "avg", 3, "avg_pool3d")


def pool(input, window_shape, pooling_type, strides=None, padding="VALID",
         data_format=None, dilations=None, name=None):
    """``tf.nn.pool``: ``pooling_type`` ``'MAX'`` or ``'AVG'`` (dilations must be 1)."""
    if dilations is not None and any(int(d) != 1 for d in np.atleast_1d(dilations)):
        raise ValueError("pool: dilations other than 1 are not supported")
    kind = {"MAX": "max", "AVG": "avg"}.get(str(pooling_type).upper())
    if kind is None:
        raise ValueError(f"pool: pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    return _pool(input, window_shape, strides if strides is not None else 1, padding,
                 data_format, kind, len(window_shape), "pool")
