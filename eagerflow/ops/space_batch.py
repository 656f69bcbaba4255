"""``tf.space_to_batch_nd`` / ``tf.space_to_batch`` and ``tf.batch_to_space``: moving blocks
of spatial positions into the batch dimension and back, each the other's adjoint (so each
one's gradient is the other op); plus ``tf.required_space_to_batch_paddings``.

``block_shape``, ``paddings`` and ``crops`` fix the output shape and are read on the host,
as TensorFlow keeps them in host memory.
"""
import math as _math

import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import constant
from ..errors import InvalidArgumentError
from .manip import _dbg, _host, _tensor

__all__ = ["space_to_batch_nd", "space_to_batch", "batch_to_space", "batch_to_space_nd",
           "required_space_to_batch_paddings"]


def _s2b_fwd(xp, a, block_shape, paddings):
    m = len(block_shape)
    rest = a.shape[1 + m:]
    p = xp.pad(a, ((0, 0),) + paddings + ((0, 0),) * len(rest))
    split = [a.shape[0]]
    for size, b in zip(p.shape[1:1 + m], block_shape):
        split += [size // b, b]
    perm = (tuple(range(2, 2 * m + 1, 2)) + (0,) + tuple(range(1, 2 * m, 2)) +
            tuple(range(2 * m + 1, 2 * m + 1 + len(rest))))
    out = p.reshape(tuple(split) + rest).transpose(perm)
    return out.reshape((a.shape[0] * _math.prod(block_shape),) + out.shape[m + 1:])


def _b2s_fwd(xp, a, block_shape, crops):
    m = len(block_shape)
    spatial, rest = a.shape[1:1 + m], a.shape[1 + m:]
    batch = a.shape[0] // _math.prod(block_shape)
    r = a.reshape(tuple(block_shape) + (batch,) + spatial + rest)
    perm = (m,) + sum(((m + 1 + i, i) for i in range(m)), ()) + \
        tuple(range(2 * m + 1, 2 * m + 1 + len(rest)))
    full = r.transpose(perm).reshape(
        (batch,) + tuple(s * b for s, b in zip(spatial, block_shape)) + rest)
    key = (slice(None),) + tuple(slice(lo, full.shape[1 + i] - hi)
                                 for i, (lo, hi) in enumerate(crops))
    return full[key]


_s2b = register("space_to_batch_nd", _s2b_fwd)
_b2s = register("batch_to_space_nd", _b2s_fwd)
# space_to_batch is zero-padding then a permutation of entries; its adjoint is the inverse
# permutation then cropping the padding away: batch_to_space with crops = paddings
defvjp(_s2b, lambda g, ans, x, block_shape, paddings: _b2s(
    g, block_shape=block_shape, crops=paddings))
defvjp(_b2s, lambda g, ans, x, block_shape, crops: _s2b(
    g, block_shape=block_shape, paddings=crops))


def _args(opname, input, block_shape, pads, what):
    x = _tensor(input)
    bs = _host(block_shape)
    if bs.ndim != 1 or (bs.size and bs.dtype.kind not in "iu"):
        raise InvalidArgumentError(f"{opname}: block_shape must be one-dimensional ints, got "
                                   f"{bs.tolist()!r}")
    m = bs.size
    pd = _host(pads)
    if pd.size == 0:
        pd = pd.reshape(-1, 2) if pd.ndim == 2 else np.zeros((0, 2), dtype=np.int64)
    if pd.shape != (m, 2) or (pd.size and pd.dtype.kind not in "iu"):
        raise InvalidArgumentError(f"{opname}: {what} should have shape [{m}, 2] instead of "
                                   f"{_dbg(pd.shape)}")
    if x.ndim < 1 + m:
        raise InvalidArgumentError(f"{opname}: input rank should be >= {1 + m} instead of "
                                   f"{x.ndim}")
    if (bs <= 0).any():
        raise InvalidArgumentError(f"{opname}: block_shape must be positive, got "
                                   f"{bs.tolist()}")
    if (pd < 0).any():
        raise InvalidArgumentError(f"{opname}: {what.capitalize()} must be non-negative, got "
                                   f"{pd.tolist()}")
    return x, tuple(int(b) for b in bs), tuple((int(lo), int(hi)) for lo, hi in pd)


def space_to_batch_nd(input, block_shape, paddings, name=None):
    """Zero-pads the spatial dimensions and moves ``block_shape`` blocks of them into the
    batch (``tf.space_to_batch_nd``).

    Args:
        input: ``(batch,) + spatial + remaining`` with ``M = len(block_shape)`` spatial dims.
        block_shape: 1-D positive ints of length M.
        paddings: ``(M, 2)`` non-negative ints, ``[pad_start, pad_end]`` per spatial dim;
            each padded size must be divisible by its block size.

    Returns:
        Shape ``(batch * prod(block_shape),) + (padded // block_shape) + remaining``;
        differentiable (the gradient is :func:`batch_to_space` with ``crops=paddings``).

    Raises:
        InvalidArgumentError: bad shapes or values (TF's messages).

    Example:
        >>> import eagerflow as ef
        >>> x = ef.reshape(ef.range(1, 5), (1, 2, 2, 1))
        >>> ef.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]]).numpy().reshape(-1).tolist()
        [1, 2, 3, 4]
    """
    x, bs, pads = _args("space_to_batch_nd", input, block_shape, paddings, "paddings")
    for i, (b, (lo, hi)) in enumerate(zip(bs, pads)):
        size = x.shape[1 + i] + lo + hi
        if size % b:
            raise InvalidArgumentError(f"space_to_batch_nd: padded_shape[{i}]={size} is not "
                                       f"divisible by block_shape[{i}]={b}")
    return _s2b(x, block_shape=bs, paddings=pads)


def space_to_batch(input, block_shape, paddings, name=None):
    """TF2's ``tf.space_to_batch``: the same as :func:`space_to_batch_nd`.

    Example:
        >>> import eagerflow as ef
        >>> ef.space_to_batch(ef.ones((1, 4, 1)), [2], [[0, 0]]).shape
        TensorShape([2, 2, 1])
    """
    return space_to_batch_nd(input, block_shape, paddings)


def batch_to_space(input, block_shape, crops, name=None):
    """Moves blocks of the batch back into the spatial dimensions and crops them
    (TF2's ``tf.batch_to_space``, i.e. ``batch_to_space_nd``; the reverse of
    :func:`space_to_batch_nd`).

    Args:
        input: ``(batch,) + spatial + remaining``; ``batch`` must be divisible by
            ``prod(block_shape)``.
        block_shape: 1-D positive ints of length M (an int ``b`` means ``[b, b]``, as TF2).
        crops: ``(M, 2)`` non-negative ints, ``[crop_start, crop_end]`` per spatial dim.

    Returns:
        Shape ``(batch / prod(block_shape),) + (spatial * block_shape - crops) +
        remaining``; differentiable (the gradient is :func:`space_to_batch_nd`).

    Raises:
        InvalidArgumentError: bad shapes or values (TF's messages).

    Example:
        >>> import eagerflow as ef
        >>> x = ef.reshape(ef.range(1, 5), (4, 1, 1, 1))
        >>> ef.batch_to_space(x, [2, 2], [[0, 0], [0, 0]]).numpy().reshape(2, 2).tolist()
        [[1, 2], [3, 4]]
    """
    if isinstance(block_shape, (int, np.integer)):
        block_shape = [int(block_shape)] * 2
    x, bs, crops = _args("batch_to_space", input, block_shape, crops, "crops")
    prod = _math.prod(bs)
    if x.shape[0] % prod:
        raise InvalidArgumentError(f"batch_to_space: Input batch dimension ({x.shape[0]}) is "
                                   f"not divisible by product of block sizes ({prod})")
    for i, (b, (lo, hi)) in enumerate(zip(bs, crops)):
        size = x.shape[1 + i] * b - lo - hi
        if size < 0:
            raise InvalidArgumentError(f"batch_to_space: cropped_shape[{i}]={size} must be "
                                       "non-negative")
    return _b2s(x, block_shape=bs, crops=crops)


batch_to_space_nd = batch_to_space


def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None):
    """The paddings (and crops) that make ``input_shape`` divisible by ``block_shape``
    (``tf.required_space_to_batch_paddings``).

    Args:
        input_shape: 1-D ints, the M spatial sizes.
        block_shape: 1-D positive ints of length M.
        base_paddings: optional ``(M, 2)`` ints of minimal padding (default zeros).

    Returns:
        ``(paddings, crops)``, int32 tensors of shape ``(M, 2)``: ``paddings`` extends
        ``base_paddings``' ends so the padded sizes divide; ``crops`` is ``[0, extra]``.

    Raises:
        ValueError: arguments of incompatible shapes.

    Example:
        >>> import eagerflow as ef
        >>> p, c = ef.required_space_to_batch_paddings([5, 4], [2, 3], [[1, 0], [0, 0]])
        >>> p.numpy().tolist(), c.numpy().tolist()
        ([[1, 0], [0, 2]], [[0, 0], [0, 2]])
    """
    bs = _host(block_shape).astype(np.int64)
    if bs.ndim != 1:
        raise ValueError(f"required_space_to_batch_paddings: block_shape must have rank 1, "
                         f"got shape {bs.shape}")
    m = bs.size
    shape = _host(input_shape).astype(np.int64)
    if shape.shape != (m,):
        raise ValueError(f"required_space_to_batch_paddings: Shapes {shape.shape} and {(m,)} "
                         "are incompatible (input_shape needs one size per block dimension)")
    base = np.zeros((m, 2), np.int64) if base_paddings is None else \
        _host(base_paddings).astype(np.int64)
    if base.size == 0 and m == 0:
        base = base.reshape(0, 2)
    if base.shape != (m, 2):
        raise ValueError(f"required_space_to_batch_paddings: Shapes {base.shape} and {(m, 2)} "
                         "are incompatible (base_paddings)")
    if (bs <= 0).any():
        raise ValueError(f"required_space_to_batch_paddings: block_shape must be positive, "
                         f"got {bs.tolist()}")
    full = shape + base[:, 0] + base[:, 1]
    extra = (bs - full % bs) % bs
    paddings = np.stack([base[:, 0], base[:, 1] + extra], axis=1).astype(np.int32)
    crops = np.stack([np.zeros_like(extra), extra], axis=1).astype(np.int32)
    return constant(paddings.reshape(m, 2)), constant(crops.reshape(m, 2))
