"""Matrix structure: band_part, diag, diag_part, set_diag, trace, adjoint, eye, transposes,
l2_normalize, and the 3-vector cross product. Leading dimensions are batch dimensions
throughout.

``band_part``, ``diag`` and ``diag_part`` are registered ops (each one's vjp is the other's
forward); the rest are compositions of them and core ops.
"""
import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import _wrap
from ..backend import array_module
from ..ops import creation
from ..io.errors import InvalidArgumentError
from ..ops.math import maximum, multiply, rsqrt, square, subtract, where
from ..ops.reduce import normalize_axis, reduce_sum
from ..ops.array import matrix_transpose as _core_matrix_transpose
from ..ops.array import stack, unstack
from .validation import as_tensor, check_matrix

__all__ = ["adjoint", "band_part", "diag", "diag_part", "set_diag", "trace", "eye",
           "transpose", "matrix_transpose", "l2_normalize", "eye_like", "diag_mask", "cross"]


def _int_k(k, opname):
    if isinstance(k, (tuple, list)):
        if len(k) == 2 and int(k[0]) == int(k[1]):
            return int(k[0])
        raise NotImplementedError(f"{opname}: only a single diagonal k is supported, got "
                                  f"k={list(k)}")
    return int(k)


def _diag_index(m, n, k):
    """Row and column indices of diagonal ``k`` of an ``m x n`` matrix, and its length."""
    length = min(m - max(-k, 0), n - max(k, 0))
    return max(-k, 0), max(k, 0), max(length, 0)


def eye_like(x, n=None):
    """A constant identity of shape ``x.shape[:-2] + (n, n)`` on ``x``'s device and dtype."""
    n = x.shape[-1] if n is None else n
    xp = array_module(x._data)
    return _wrap(xp.broadcast_to(xp.eye(n, dtype=x.dtype), tuple(x.shape[:-2]) + (n, n)))


def diag_mask(x, k=0):
    """A constant bool mask, True on diagonal ``k`` of the last two dims of ``x``."""
    xp = array_module(x._data)
    m, n = x.shape[-2], x.shape[-1]
    return _wrap(xp.arange(n)[None, :] - xp.arange(m)[:, None] == k)


# --- band_part --------------------------------------------------------------------------
def _band_fwd(xp, a, num_lower, num_upper):
    m, n = a.shape[-2], a.shape[-1]
    d = xp.arange(n)[None, :] - xp.arange(m)[:, None]  # column minus row
    keep = xp.ones((m, n), dtype=bool)
    if num_lower >= 0:
        keep &= -d <= num_lower
    if num_upper >= 0:
        keep &= d <= num_upper
    return xp.where(keep, a, xp.zeros((), dtype=a.dtype))


_band = register("matrix_band_part", _band_fwd)
defvjp(_band, lambda g, ans, a, num_lower, num_upper:
       _band(g, num_lower=num_lower, num_upper=num_upper))


def band_part(input, num_lower, num_upper, name=None):
    """Keeps a band around the diagonal of each matrix, zeroing the rest
    (``tf.linalg.band_part``).

    Args:
        input: tensor of shape ``(..., m, n)``.
        num_lower: number of subdiagonals to keep; negative keeps the whole lower triangle.
        num_upper: number of superdiagonals to keep; negative keeps the whole upper triangle.

    Returns:
        A tensor of the same shape: ``band_part(x, -1, 0)`` is the lower triangle.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.band_part(ef.ones((2, 2)), 0, -1).numpy().tolist()
        [[1.0, 1.0], [0.0, 1.0]]
    """
    x = check_matrix(input, "band_part", "input", float_only=False)
    return _band(x, num_lower=int(num_lower), num_upper=int(num_upper))


# --- diag / diag_part ---------------------------------------------------------------------
def _matrix_diag_fwd(xp, d, k, num_rows, num_cols, padding_value):
    r0, c0, length = _diag_index(num_rows, num_cols, k)
    out = xp.full(d.shape[:-1] + (num_rows, num_cols), padding_value, dtype=d.dtype)
    idx = xp.arange(length)
    out[..., idx + r0, idx + c0] = d
    return out


def _diag_part_fwd(xp, a, k):
    r0, c0, length = _diag_index(a.shape[-2], a.shape[-1], k)
    idx = xp.arange(length)
    return a[..., idx + r0, idx + c0]


_matrix_diag = register("matrix_diag", _matrix_diag_fwd)
_diag_part = register("matrix_diag_part", _diag_part_fwd)
defvjp(_matrix_diag, lambda g, ans, d, k, num_rows, num_cols, padding_value:
       _diag_part(g, k=k))
defvjp(_diag_part, lambda g, ans, a, k: _matrix_diag(
    g, k=k, num_rows=a.shape[-2], num_cols=a.shape[-1], padding_value=0))


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """Builds matrices with ``diagonal`` on diagonal ``k`` (``tf.linalg.diag``).

    Args:
        diagonal: tensor of shape ``(..., length)``.
        k: the diagonal (0 main, > 0 above, < 0 below). Only a single diagonal is supported.
        num_rows, num_cols: output size; -1 picks the smallest that fits. One of them must
            be the smallest that fits, as in TF.
        padding_value: the value off the diagonal.

    Returns:
        A tensor of shape ``(..., num_rows, num_cols)``.

    Raises:
        ValueError: for a scalar ``diagonal`` or sizes that do not fit it.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.diag(ef.constant([1.0, 2.0])).numpy().tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    d = as_tensor(diagonal)
    if d.ndim < 1:
        raise ValueError(f"diag: diagonal must have rank >= 1, got shape {tuple(d.shape)}")
    k = _int_k(k, "diag")
    length = d.shape[-1]
    min_rows, min_cols = length + max(-k, 0), length + max(k, 0)
    num_rows, num_cols = int(num_rows), int(num_cols)
    if num_rows < 0 and num_cols < 0:  # TF makes a square matrix
        num_rows = num_cols = max(min_rows, min_cols)
    elif num_rows < 0:
        num_rows = min_rows
    elif num_cols < 0:
        num_cols = min_cols
    if num_rows < min_rows or num_cols < min_cols or (
            num_rows != min_rows and num_cols != min_cols):
        raise ValueError(f"diag: a diagonal of length {length} at k={k} does not fit a "
                         f"{num_rows}x{num_cols} matrix (one of num_rows={min_rows}, "
                         f"num_cols={min_cols} must hold)")
    return _matrix_diag(d, k=k, num_rows=num_rows, num_cols=num_cols,
                        padding_value=padding_value)


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):
    """Diagonal ``k`` of each matrix (``tf.linalg.diag_part``).

    Args:
        input: tensor of shape ``(..., m, n)``.
        k: the diagonal (0 main, > 0 above, < 0 below).

    Returns:
        A tensor of shape ``(..., length)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.diag_part(ef.constant([[1.0, 2.0], [3.0, 4.0]])).numpy().tolist()
        [1.0, 4.0]
    """
    x = check_matrix(input, "diag_part", "input", float_only=False)
    k = _int_k(k, "diag_part")
    if _diag_index(x.shape[-2], x.shape[-1], k)[2] <= 0 and x.shape[-2] and x.shape[-1]:
        raise ValueError(f"diag_part: diagonal k={k} lies outside a matrix of shape "
                         f"{tuple(x.shape[-2:])}")
    return _diag_part(x, k=k)


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):
    """Returns ``input`` with diagonal ``k`` replaced by ``diagonal`` (``tf.linalg.set_diag``).

    Args:
        input: tensor of shape ``(..., m, n)``.
        diagonal: tensor of shape ``(..., length)`` (the same batch shape).

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.set_diag(ef.zeros((2, 2)), ef.constant([1.0, 2.0])).numpy().tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    x = check_matrix(input, "set_diag", "input", float_only=False)
    d = as_tensor(diagonal)
    k = _int_k(k, "set_diag")
    m, n = x.shape[-2], x.shape[-1]
    length = _diag_index(m, n, k)[2]
    want = tuple(x.shape[:-2]) + (length,)
    if tuple(d.shape) != want:
        raise ValueError(f"set_diag: diagonal must have shape {want} for input of shape "
                         f"{tuple(x.shape)} and k={k}, got {tuple(d.shape)}")
    if d.dtype != x.dtype:
        raise TypeError(f"set_diag: diagonal has dtype {d.dtype} but input has {x.dtype}")
    full = _matrix_diag(d, k=k, num_rows=m, num_cols=n, padding_value=0)
    return where(diag_mask(x, k), full, x)


def trace(x, name=None):
    """Sum of the main diagonal of each matrix (``tf.linalg.trace``): ``(..., m, n) -> (...)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.trace(ef.eye(3)).numpy().item()
        3.0
    """
    x = check_matrix(x, "trace", "x", float_only=False)
    return reduce_sum(_diag_part(x, k=0), axis=-1)


def adjoint(matrix, name=None):
    """Conjugate transpose of the last two dimensions (``tf.linalg.adjoint``)."""
    x = check_matrix(matrix, "adjoint", "matrix", float_only=False)
    return _core_matrix_transpose(x, conjugate=True)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swaps the last two dimensions (``tf.linalg.matrix_transpose``)."""
    x = check_matrix(a, "matrix_transpose", "a", float_only=False)
    return _core_matrix_transpose(x, conjugate=conjugate)


transpose = matrix_transpose


def eye(num_rows, num_columns=None, batch_shape=None, dtype=np.float32, name=None):
    """Identity matrices of shape ``batch_shape + (num_rows, num_columns)`` (``tf.eye``).

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.eye(2, batch_shape=[3]).shape.as_list()
        [3, 2, 2]
    """
    return creation.eye(num_rows, num_columns, batch_shape=batch_shape, dtype=dtype)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (``tf.linalg.l2_normalize``).

    Args:
        x: a float tensor.
        axis: the axis or axes to normalize over (None: all of them).
        epsilon: lower bound on the squared norm, so zero vectors stay finite.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.l2_normalize(ef.constant([3.0, 4.0])).numpy().tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("l2_normalize: give axis or dim, not both")
        axis = dim
    x = as_tensor(x)
    ax = normalize_axis(axis, x.ndim, "l2_normalize")
    sq = reduce_sum(square(x), axis=ax, keepdims=True)
    return multiply(x, rsqrt(maximum(sq, epsilon)))


def cross(a, b, name=None):
    """Cross product of 3-element vectors along the last dimension (``tf.linalg.cross``).

    ``out[..., :] = a[..., :] x b[..., :]``. TF requires ``a`` and ``b`` of the same shape;
    here the leading (batch) dimensions may also broadcast against each other, so a single
    vector can be crossed with a batch. Gradients to both: ``b x g`` for ``a`` and
    ``g x a`` for ``b`` (TF's _CrossGrad), summed over broadcast dimensions.

    Args:
        a: tensor of shape ``(..., 3)``, a real number type.
        b: tensor of shape ``(..., 3)`` with ``a``'s dtype.

    Returns:
        A tensor of the broadcast shape ``(..., 3)``.

    Raises:
        TypeError: mismatched or non-real dtypes.
        InvalidArgumentError: a scalar, a last dimension other than 3, or batch dimensions
            that do not broadcast.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.cross(ef.constant([1.0, 0.0, 0.0]), ef.constant([0.0, 1.0, 0.0])).numpy().tolist()
        [0.0, 0.0, 1.0]
    """
    x, y = as_tensor(a), as_tensor(b)
    for nm, t in (("a", x), ("b", y)):
        if t.dtype.kind not in "iuf":
            raise TypeError(f"cross: {nm} must be a real number type (float or integer), got "
                            f"{t.dtype}")
        if t.ndim < 1:
            raise InvalidArgumentError(f"cross: {nm} must be at least 1-D, got shape "
                                       f"{tuple(t.shape)}")
        if t.shape[-1] != 3:
            raise InvalidArgumentError(f"cross: Cross-products are only defined for 3-element "
                                       f"vectors; {nm} has shape {tuple(t.shape)}")
    if x.dtype != y.dtype:
        raise TypeError(f"cross: a has dtype {x.dtype} but b has dtype {y.dtype}; they must "
                        "match")
    try:
        np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
    except ValueError:
        raise InvalidArgumentError(f"cross: the shapes of a {tuple(x.shape)} and b "
                                   f"{tuple(y.shape)} do not broadcast") from None
    x0, x1, x2 = unstack(x, axis=-1)
    y0, y1, y2 = unstack(y, axis=-1)
    return stack([subtract(multiply(x1, y2), multiply(x2, y1)),
                  subtract(multiply(x2, y0), multiply(x0, y2)),
                  subtract(multiply(x0, y1), multiply(x1, y0))], axis=-1)
