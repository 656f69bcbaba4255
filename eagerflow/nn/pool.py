"""Pooling (``tf.nn.max_pool/avg_pool`` 1d/2d/3d) over the im2col patches of ``conv``; and
the block rearrangements ``space_to_depth`` / ``depth_to_space``.

SAME padding follows TF: max pooling never picks a padded position, average pooling
divides by the number of real (unpadded) elements of each window. Max pooling shares the
gradient equally among tied maxima of a window (TF sends it to one of them).
"""
import numpy as np

from .. import backend, ops
from ..autograd.tensor import _wrap
from ..autograd.tensor import Tensor
from ..io.errors import InvalidArgumentError
from ._common import as_float_tensor, data_format_channels_last, to_tensor
from .conv import _check_padding, _from_last, _spatial_arg, _to_last, patches

__all__ = ["max_pool", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "pool", "space_to_depth", "depth_to_space"]


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


# --- space_to_depth / depth_to_space (spacetodepth_op.cc, depthtospace_op.cc) ---------------
def _block_args(input, block_size, data_format, opname):
    x = to_tensor(input)
    if isinstance(block_size, Tensor):
        block_size = block_size.numpy()
    b = backend.to_numpy(block_size)  # a CuPy scalar too (np.asarray refuses those)
    if b.ndim != 0 or b.dtype.kind not in "iu":
        raise TypeError(f"{opname}: block_size must be an integer, got {block_size!r}")
    b = int(b)
    if b < 2:
        raise InvalidArgumentError(f"{opname}: Value for attr 'block_size' of {b} must be at "
                                   "least minimum 2")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"{opname}: data_format must be 'NHWC' or 'NCHW', got "
                         f"{data_format!r}" + (" (NCHW_VECT_C is not supported)"
                                               if data_format == "NCHW_VECT_C" else ""))
    if x.ndim != 4:
        raise InvalidArgumentError(f"{opname}: input rank should be 4 instead of {x.ndim} "
                                   f"(shape {tuple(x.shape)})")
    if data_format == "NCHW":
        x = ops.transpose(x, (0, 2, 3, 1))
    return x, b


def space_to_depth(input, block_size, data_format="NHWC", name=None):
    """Moves ``block_size x block_size`` spatial blocks into the depth (``tf.nn.space_to_depth``).

    For NHWC, ``out[n, i, j, (bi * block_size + bj) * C + c] = input[n, i * block_size + bi,
    j * block_size + bj, c]``: the output has shape ``(N, H / bs, W / bs, bs * bs * C)``.
    ``'NCHW'`` applies the same mapping to the channels-first layout. Any dtype; the
    gradient is :func:`depth_to_space` of the output gradient.

    Args:
        input: a 4-D tensor.
        block_size: an integer >= 2 dividing the height and the width.
        data_format: ``'NHWC'`` (default) or ``'NCHW'``.

    Raises:
        TypeError: a non-integer ``block_size``.
        InvalidArgumentError: ``block_size`` < 2, an ``input`` that is not 4-D, or a height or
            width not divisible by ``block_size``.
        ValueError: another ``data_format``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> x = ef.reshape(ef.constant([1, 2, 3, 4]), [1, 2, 2, 1])
        >>> nn.space_to_depth(x, 2).numpy().tolist()
        [[[[1, 2, 3, 4]]]]
    """
    opname = "space_to_depth"
    x, b = _block_args(input, block_size, data_format, opname)
    n, h, w, c = (int(d) for d in x.shape)
    if h % b or w % b:
        raise InvalidArgumentError(f"{opname}: Image width {w} and height {h} of input should "
                                   f"be divisible by block_size: {b}")
    y = ops.reshape(x, (n, h // b, b, w // b, b, c))
    y = ops.reshape(ops.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
    return ops.transpose(y, (0, 3, 1, 2)) if data_format == "NCHW" else y


def depth_to_space(input, block_size, data_format="NHWC", name=None):
    """Moves depth into ``block_size x block_size`` spatial blocks (``tf.nn.depth_to_space``),
    the inverse of :func:`space_to_depth` (TF's default "DCR" order).

    For NHWC, ``out[n, i * block_size + bi, j * block_size + bj, c] = input[n, i, j,
    (bi * block_size + bj) * C_out + c]`` with ``C_out = C / bs ** 2``. Any dtype; the
    gradient is :func:`space_to_depth` of the output gradient.

    Args:
        input: a 4-D tensor.
        block_size: an integer >= 2; ``block_size ** 2`` must divide the depth.
        data_format: ``'NHWC'`` (default) or ``'NCHW'``.

    Raises:
        TypeError: a non-integer ``block_size``.
        InvalidArgumentError: ``block_size`` < 2, an ``input`` that is not 4-D, or a depth not
            divisible by ``block_size ** 2``.
        ValueError: another ``data_format``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> x = ef.reshape(ef.constant([1, 2, 3, 4]), [1, 1, 1, 4])
        >>> nn.depth_to_space(x, 2).numpy().reshape(-1).tolist()
        [1, 2, 3, 4]
    """
    opname = "depth_to_space"
    x, b = _block_args(input, block_size, data_format, opname)
    n, h, w, c = (int(d) for d in x.shape)
    if c % (b * b):
        raise InvalidArgumentError(f"{opname}: Input depth dimension {c} should be divisible "
                                   f"by: {b * b} (block_size {b} squared)")
    co = c // (b * b)
    y = ops.reshape(x, (n, h, w, b, b, co))
    y = ops.reshape(ops.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, co))
    return ops.transpose(y, (0, 3, 1, 2)) if data_format == "NCHW" else y
