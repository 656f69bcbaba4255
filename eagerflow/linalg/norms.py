"""Vector and matrix norms (``tf.linalg.norm``, ``normalize``, ``global_norm``), as
compositions of core ops (and of the singular values for the matrix 2-norm), so the tape
differentiates them."""
import numbers

import numpy as np

from ..autograd.indexed_slices import IndexedSlices
from ..ops.math import abs as _abs
from ..ops.math import add_n, cast, divide, multiply, pow, sqrt
from ..ops.reduce import reduce_max, reduce_sum
from ..ops.array import _conj, expand_dims, transpose
from .decompositions import _singular_values
from .validation import as_tensor, check_float

__all__ = ["norm", "normalize", "global_norm"]

_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def _is_inf(o):
    return isinstance(o, numbers.Real) and not isinstance(o, bool) and o == np.inf


def _check_axis(axis, nd):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        if len(axis) != 2 or not all(isinstance(a, (int, np.integer)) for a in axis):
            raise ValueError("norm: 'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        ax = tuple(int(a) for a in axis)
        if not all(-nd <= a < nd for a in ax):
            raise ValueError(f"norm: axis {list(ax)} is out of range for rank {nd}")
        ax = tuple(a % nd for a in ax)
        if ax[0] == ax[1]:
            raise ValueError("norm: 'axis' must be None, an integer, or a tuple of 2 unique "
                             f"integers, got {axis}")
        return ax
    if not isinstance(axis, (int, np.integer)):
        raise ValueError("norm: 'axis' must be None, an integer, or a tuple of 2 unique "
                         f"integers, got {axis!r}")
    if not -nd <= int(axis) < max(nd, 1):
        raise ValueError(f"norm: axis {axis} is out of range for rank {nd}")
    return int(axis) % max(nd, 1)


def _sum_sq(x, axis, keepdims):
    """``sum(x * conj(x))`` over ``axis``, as TF's norm computes it (linalg_ops.py: ``tensor *
    math_ops.conj(tensor)``): for complex input ``x * x`` would be wrong."""
    sq = multiply(x, _conj(x)) if x.dtype.kind == "c" else multiply(x, x)
    return reduce_sum(sq, axis=axis, keepdims=keepdims)


def _keep(result, nd, axes, keepdims):
    if not keepdims:
        return result
    for a in sorted(axes):
        result = expand_dims(result, a)
    return result


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """Vector or matrix norm (``tf.linalg.norm``).

    Args:
        tensor: a float tensor.
        ord: ``'euclidean'`` (default), ``'fro'`` (matrices only), ``1``, ``2``,
            ``np.inf``, or for vectors any real ``p > 0``.
        axis: None (the whole tensor as one vector), an int (a batch of vectors) or a pair
            of ints (a batch of matrices: the first names rows, the second columns).
        keepdims: keep the reduced axes with size 1.

    Returns:
        The norms; for matrices ``ord=1`` is the largest absolute column sum, ``np.inf``
        the largest absolute row sum and ``2`` the largest singular value.

    Raises:
        ValueError: an unsupported ``ord`` or a bad ``axis``.

    Example:
        >>> import eagerflow as ef
        >>> float(ef.linalg.norm(ef.constant([3.0, 4.0])).numpy())
        5.0
    """
    x = as_tensor(tensor)
    check_float(x, "norm", "tensor")
    nd = x.ndim
    ax = _check_axis(axis, nd)
    keepdims = bool(keepdims)
    is_str = isinstance(ord, str)
    if isinstance(ax, tuple):
        valid = ord in ("euclidean", "fro") if is_str else (
            not isinstance(ord, bool) and (ord in (1, 2) or _is_inf(ord)))
        if not valid:
            raise ValueError(f"norm: 'ord' must be a supported matrix norm in "
                             f"{list(_MATRIX_ORDS)}, got {ord!r}")
        rows, cols = ax
        if ord in ("euclidean", "fro"):
            return sqrt(_sum_sq(x, ax, keepdims))
        if ord == 1:
            out = reduce_max(reduce_sum(_abs(x), axis=rows, keepdims=True), axis=cols,
                             keepdims=True)
        elif _is_inf(ord):
            out = reduce_max(reduce_sum(_abs(x), axis=cols, keepdims=True), axis=rows,
                             keepdims=True)
        else:  # 2: the largest singular value
            perm = [i for i in range(nd) if i not in ax] + [rows, cols]
            s = _singular_values(transpose(x, perm))
            return _keep(reduce_max(s, axis=-1), nd, ax, keepdims)
        return out if keepdims else reduce_sum(out, axis=ax)  # drop the two size-1 axes
    if is_str and ord != "euclidean":
        raise ValueError(f"norm: 'ord' must be a supported vector norm ('euclidean', 1, 2, "
                         f"np.inf or a real > 0), got {ord!r}")
    if not is_str and (isinstance(ord, bool) or not isinstance(ord, numbers.Real)
                       or not ord > 0):
        raise ValueError(f"norm: 'ord' must be a supported vector norm ('euclidean', 1, 2, "
                         f"np.inf or a real > 0), got {ord!r}")
    red = ax
    if ord in ("euclidean", 2):
        return sqrt(_sum_sq(x, red, keepdims))
    if ord == 1:
        return reduce_sum(_abs(x), axis=red, keepdims=keepdims)
    if _is_inf(ord):
        return reduce_max(_abs(x), axis=red, keepdims=keepdims)
    p = float(ord)
    return pow(reduce_sum(pow(_abs(x), p), axis=red, keepdims=keepdims), 1.0 / p)


def normalize(tensor, ord="euclidean", axis=None, name=None):
    """``tensor`` divided by its norm, and that norm (``tf.linalg.normalize``).

    The norm is :func:`norm` with the same ``ord`` and ``axis`` and ``keepdims=True``, so it
    broadcasts against ``tensor``. As in TF a zero norm gives NaN (0 / 0), not an epsilon
    guard (that is :func:`l2_normalize`).

    Args:
        tensor: a float tensor.
        ord: as :func:`norm`.
        axis: as :func:`norm`: None (the whole tensor), an int, or a pair of ints.

    Returns:
        ``(normalized, norm)``: ``normalized`` has ``tensor``'s shape; ``norm`` has size 1
        on the reduced dimensions.

    Raises:
        ValueError: an unsupported ``ord`` or a bad ``axis`` (from :func:`norm`).

    Example:
        >>> import eagerflow as ef
        >>> x, n = ef.linalg.normalize(ef.constant([3.0, 4.0]))
        >>> [round(v, 4) for v in x.numpy().tolist()], n.numpy().tolist()
        ([0.6, 0.8], [5.0])
    """
    x = as_tensor(tensor)
    n = norm(x, ord=ord, axis=axis, keepdims=True)
    if n.dtype != x.dtype:
        n = cast(n, x.dtype)
    return divide(x, n), n


def global_norm(t_list, name=None):
    """``sqrt(sum(l2_norm(t) ** 2 for t in t_list))`` (``tf.linalg.global_norm``).

    As TF (clip_ops.global_norm): None entries are skipped, an ``IndexedSlices`` counts by
    its ``values``, and every entry must share one floating dtype. With no tensor at all the
    result is a float32 0.0. Differentiable with respect to every entry (the gradient of the
    square root is infinite at a zero norm, as in TF).

    Args:
        t_list: a list or tuple of tensors, IndexedSlices or None.

    Returns:
        A scalar of the entries' dtype.

    Raises:
        TypeError: ``t_list`` not a sequence (a single tensor), non-floating entries, or
            entries of different dtypes.

    Example:
        >>> import eagerflow as ef
        >>> float(ef.linalg.global_norm([ef.constant([3.0]), None, ef.constant([[4.0]])]).numpy())
        5.0
    """
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"global_norm: t_list should be a sequence of tensors, got "
                        f"{type(t_list).__name__}")
    sums, dtype = [], None
    for i, t in enumerate(t_list):
        if t is None:
            continue
        v = as_tensor(t.values if isinstance(t, IndexedSlices) else t)
        if v.dtype.kind != "f":
            raise TypeError(f"global_norm: t_list[{i}] must be a floating-point tensor, got "
                            f"dtype {v.dtype}")
        if dtype is None:
            dtype = v.dtype
        elif v.dtype != dtype:
            raise TypeError(f"global_norm: t_list[{i}] has dtype {v.dtype} but t_list's "
                            f"first tensor has {dtype}; every entry must share one dtype")
        sums.append(reduce_sum(multiply(v, v)))
    if not sums:
        return as_tensor(np.zeros((), np.float32))
    return sqrt(add_n(sums) if len(sums) > 1 else sums[0])
