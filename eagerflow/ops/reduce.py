"""Reductions: reduce_sum/mean/max/min/prod/any/all/logsumexp, argmax/argmin, moments.

``axis`` is None (all axes), an int, or a tuple/list of ints (negative counts from the end).
"""
import numpy as np

from ..kernels import column_sum as _column_sum
from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend.dtypes import is_real_floating
from .math import (cast, divide, equal, exp, multiply, subtract, square, sqrt)

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
           "reduce_any", "reduce_all", "reduce_logsumexp", "reduce_variance", "reduce_std",
           "argmax", "argmin", "count_nonzero", "normalize_axis"]


def normalize_axis(axis, ndim, opname):
    """``axis`` as a sorted tuple of non-negative ints (None stays None)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{opname}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: axis {axis} repeats an axis")
    return tuple(sorted(out))


def _keep_shape(shape, axis):
    """The shape of a keepdims reduction over ``axis``."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


def _grad_broadcast(g, x, axis, keepdims):
    from .array import broadcast_to, reshape
    if not keepdims:
        g = reshape(g, _keep_shape(tuple(x.shape), axis))
    return broadcast_to(g, tuple(x.shape))


def _sum_fwd(xp, a, axis=None, keepdims=False):
    if a.dtype == np.bool_:
        a = a.astype(np.int64)
    if a.dtype.itemsize == 2 and is_real_floating(a.dtype):
        # 16-bit floats add up in float32, as TF's GPU kernels do: in bfloat16 a running
        # total stops growing once it is 256x larger than the terms (a bias gradient over
        # a batch of 65536 rows would be mostly rounding). A float32 copy, not sum(dtype=):
        # CuPy's column sum with a dtype took 1.6 ms for (65536, 400), the copy 0.15 ms
        return _sum_fwd(xp, a.astype(np.float32), axis, keepdims).astype(a.dtype)
    if a.ndim == 2 and _is_rows_axis(axis) and _column_sum.fast_path(a):
        # the bias gradient of a dense layer: a tiled kernel (see kernels/column_sum.py)
        out = _column_sum.column_sum(a)
        return out.reshape(1, -1) if keepdims else out
    # integers keep their dtype as in TF (NumPy sums int32 into int64)
    return xp.sum(a, axis=axis, keepdims=keepdims, dtype=a.dtype if a.dtype.kind in "iu" else None)


def _is_rows_axis(axis):
    if isinstance(axis, (list, tuple)):
        return len(axis) == 1 and _is_rows_axis(axis[0])
    return isinstance(axis, (int, np.integer)) and int(axis) in (0, -2)


_sum = register("reduce_sum", _sum_fwd)
defvjp(_sum, lambda g, ans, x, axis=None, keepdims=False: _grad_broadcast(g, x, axis, keepdims))


def _count(x, axis):
    shape = tuple(x.shape)
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[i] for i in axis]))


def _mean_fwd(xp, a, axis=None, keepdims=False):
    out = xp.mean(a, axis=axis, keepdims=keepdims)
    if a.dtype.kind in "iu":
        out = out.astype(a.dtype)  # TF's integer mean truncates
    return out


_mean = register("reduce_mean", _mean_fwd)
defvjp(_mean, lambda g, ans, x, axis=None, keepdims=False:
       divide(_grad_broadcast(g, x, axis, keepdims), float(max(_count(x, axis), 1))))


def _minmax_vjp(g, ans, x, axis=None, keepdims=False):
    # ties share the gradient equally, as TF does
    ans_b = _grad_broadcast(ans, x, axis, keepdims)
    ind = cast(equal(x, ans_b), x.dtype)
    n = _sum(ind, axis=axis, keepdims=True)
    return divide(multiply(_grad_broadcast(g, x, axis, keepdims), ind),
                  _grad_broadcast(n, x, axis, True))


def _empty_reduction(xp, a, axis, keepdims, lowest):
    """The result of reducing an empty axis as TF's reducers give it: filled with their
    identity, the dtype's lowest value for max and logsumexp (-inf for floats) and its
    highest for min (Eigen's MaxReducer/MinReducer initial values); None when the reduced
    axes are not empty."""
    axes = tuple(range(a.ndim)) if axis is None else axis
    if a.size != 0 or not any(a.shape[i] == 0 for i in axes):
        return None
    shape = tuple((1 if i in axes else d) for i, d in enumerate(a.shape)) if keepdims else \
        tuple(d for i, d in enumerate(a.shape) if i not in axes)
    dt = a.dtype
    if dt.kind == "b":
        value = not lowest
    elif dt.kind in "iu":
        value = np.iinfo(dt).min if lowest else np.iinfo(dt).max
    else:
        value = -np.inf if lowest else np.inf
    return xp.full(shape, value, dtype=dt)


def _max_fwd(xp, a, axis=None, keepdims=False):
    empty = _empty_reduction(xp, a, axis, keepdims, lowest=True)
    return empty if empty is not None else xp.max(a, axis=axis, keepdims=keepdims)


def _min_fwd(xp, a, axis=None, keepdims=False):
    empty = _empty_reduction(xp, a, axis, keepdims, lowest=False)
    return empty if empty is not None else xp.min(a, axis=axis, keepdims=keepdims)


_max = register("reduce_max", _max_fwd)
defvjp(_max, _minmax_vjp)
_min = register("reduce_min", _min_fwd)
defvjp(_min, _minmax_vjp)


def _prod_vjp(g, ans, x, axis=None, keepdims=False):
    # the product of all *other* elements, via exclusive cumprods from both ends (zero-safe)
    from .scan import cumprod
    from .array import reshape, transpose
    nd = x.ndim
    red = tuple(range(nd)) if axis is None else axis
    keep = tuple(i for i in range(nd) if i not in red)
    perm = red + keep
    xt = transpose(x, perm)
    tshape = tuple(xt.shape)
    r = int(np.prod([tshape[i] for i in range(len(red))])) if red else 1
    flat = reshape(xt, (r, -1))
    left = cumprod(flat, axis=0, exclusive=True)
    right = cumprod(flat, axis=0, exclusive=True, reverse=True)
    others = reshape(multiply(left, right), tshape)
    inv = tuple(np.argsort(perm))
    return multiply(_grad_broadcast(g, x, axis, keepdims), transpose(others, inv))


_prod = register("reduce_prod", lambda xp, a, axis=None, keepdims=False:
                 xp.prod(a, axis=axis, keepdims=keepdims,
                         dtype=a.dtype if a.dtype.kind in "iu" else None))
defvjp(_prod, _prod_vjp)
_any = register("reduce_any", lambda xp, a, axis=None, keepdims=False:
                xp.any(a, axis=axis, keepdims=keepdims))
_all = register("reduce_all", lambda xp, a, axis=None, keepdims=False:
                xp.all(a, axis=axis, keepdims=keepdims))


def _lse_fwd(xp, a, axis=None, keepdims=False):
    empty = _empty_reduction(xp, a, axis, keepdims, lowest=True)  # log(0) = -inf
    if empty is not None:
        return empty
    m = xp.max(a, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.sum(xp.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = out.reshape(_drop(out.shape, axis))
    return out


def _drop(shape, axis):
    if axis is None:
        return ()
    return tuple(d for i, d in enumerate(shape) if i not in axis)


_lse = register("reduce_logsumexp", _lse_fwd)
defvjp(_lse, lambda g, ans, x, axis=None, keepdims=False: multiply(
    _grad_broadcast(g, x, axis, keepdims),
    exp(subtract(x, _grad_broadcast(ans, x, axis, keepdims)))))


def _make(op, name, doc):
    def fn(input_tensor, axis=None, keepdims=False, name=None):
        x = input_tensor
        nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
        ax = normalize_axis(axis, nd, name_)
        return op(x, axis=ax, keepdims=bool(keepdims))
    name_ = name
    fn.__name__ = name
    fn.__doc__ = doc
    return fn


reduce_sum = _make(_sum, "reduce_sum", """Sum over ``axis`` (``tf.reduce_sum``).

    Args:
        input_tensor: the tensor to reduce.
        axis: None (all), an int, or a tuple of ints.
        keepdims: keep reduced axes with size 1.

    Example:
        >>> import eagerflow as ef
        >>> ef.reduce_sum(ef.constant([[1.0, 2.0], [3.0, 4.0]]), axis=1).numpy().tolist()
        [3.0, 7.0]
    """)
reduce_mean = _make(_mean, "reduce_mean", "Mean over ``axis`` (``tf.reduce_mean``); integer "
                    "inputs give a truncated integer mean as in TF.")
reduce_max = _make(_max, "reduce_max", "Maximum over ``axis``; tied maxima share the gradient.")
reduce_min = _make(_min, "reduce_min", "Minimum over ``axis``; tied minima share the gradient.")
reduce_prod = _make(_prod, "reduce_prod", "Product over ``axis`` (zero-safe gradient).")
reduce_any = _make(_any, "reduce_any", "Logical or over ``axis`` (bool input).")
reduce_all = _make(_all, "reduce_all", "Logical and over ``axis`` (bool input).")
reduce_logsumexp = _make(_lse, "reduce_logsumexp",
                         "``log(sum(exp(x)))`` over ``axis``, computed stably.")


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance over ``axis`` (``tf.math.reduce_variance``).

    Raises:
        TypeError: integer input, as TF (math_ops.py: "Input must be either real or
            complex"); TF does not truncate an integer variance, it refuses it.
    """
    dt = input_tensor.dtype if isinstance(input_tensor, Tensor) else np.asarray(
        input_tensor).dtype
    if np.dtype(dt).kind in "iub":
        raise TypeError(f"reduce_variance: Input must be either real or complex, got "
                        f"{np.dtype(dt)}")
    m = reduce_mean(input_tensor, axis=axis, keepdims=True)
    return reduce_mean(square(subtract(input_tensor, m)), axis=axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over ``axis`` (``tf.math.reduce_std``)."""
    return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def _arg(kind):
    def fwd(xp, a, axis=0, output_type=np.dtype(np.int64)):
        if a.shape[axis] == 0:
            raise ValueError(f"arg{kind}: axis {axis} of shape {tuple(a.shape)} is empty")
        return getattr(xp, "arg" + kind)(a, axis=axis).astype(output_type)
    return fwd


_argmax = register("argmax", _arg("max"))
_argmin = register("argmin", _arg("min"))


def argmax(input, axis=None, output_type=np.int64, name=None):
    """Index of the largest value along ``axis`` (TF's default axis is 0)."""
    x = input
    nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
    ax = normalize_axis(0 if axis is None else axis, nd, "argmax")[0]
    return _argmax(x, axis=ax, output_type=np.dtype(output_type))


def argmin(input, axis=None, output_type=np.int64, name=None):
    """Index of the smallest value along ``axis`` (TF's default axis is 0)."""
    x = input
    nd = x.ndim if isinstance(x, Tensor) else np.ndim(x)
    ax = normalize_axis(0 if axis is None else axis, nd, "argmin")[0]
    return _argmin(x, axis=ax, output_type=np.dtype(output_type))


def count_nonzero(input, axis=None, keepdims=False, dtype=np.int64, name=None):
    """Number of non-zero elements over ``axis`` (``tf.math.count_nonzero``)."""
    from .math import not_equal
    x = input if isinstance(input, Tensor) else _wrap(_to_array(input))
    nz = not_equal(x, 0) if x.dtype != np.bool_ else x
    return cast(reduce_sum(cast(nz, np.int64), axis=axis, keepdims=keepdims), dtype)
