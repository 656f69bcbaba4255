"""More of ``tf.math``: complex parts, ``in_top_k``, ``invert_permutation``, ``lbeta``...

``__all__`` lists every name (all are in ``tf.math``); ``TOP_LEVEL`` the ones TF2 also
exports at the top level (only ``tf.complex``: ``conj``, ``real``, ``imag``, ``angle``,
``lbeta``, ``accumulate_n``, ``invert_permutation`` and ``is_non_decreasing`` are
top-level in TF1 only).

Python values convert as ``tf.convert_to_tensor`` converts them (ints to int32, floats to
float32). Gradients are TensorFlow's (``math_grad.py``); for a complex input the gradient
of a real loss ``L`` is TF's ``dL/dRe(z) + 1j * dL/dIm(z)``: ``real(z)`` sends back
``complex(g, 0)``, ``imag(z)`` ``complex(0, g)``, ``conj(z)`` ``conj(g)``, and
``complex(re, im)`` sends ``real(g)`` and ``imag(g)`` to its two inputs.

Example:
    >>> import eagerflow as ef
    >>> z = ef.complex(ef.constant([3.0]), ef.constant([4.0]))
    >>> ef.math.imag(ef.math.conj(z)).numpy().tolist()
    [-4.0]
"""
import math as _pymath
import operator

import numpy as np

from ..autograd.indexed_slices import IndexedSlices
from ..autograd.registry import defvjp, register
from ..autograd.tensor import Tensor, convert_to_tensor
from ..backend import to_numpy
from ..backend.dtypes import as_dtype, is_real_floating
from ..errors import InvalidArgumentError
from .array import _conj
from .broadcast import unbroadcast
from .math import _binary, _mod2, _result_dtype, _ub, _uby
from .math import abs as _abs
from .math import (add, add_n, cast, divide, divide_no_nan, less, multiply, negative,
                   not_equal, ones_like, square, subtract, where, xdivy, zeros_like)
from .reduce import _grad_broadcast, _make, reduce_sum
from .special import lgamma, ndtri

__all__ = [
    "complex", "conj", "real", "imag", "angle", "in_top_k", "invert_permutation",
    "is_non_decreasing", "is_strictly_increasing", "lbeta", "reciprocal_no_nan",
    "reduce_euclidean_norm", "softsign", "xlog1py", "accumulate_n", "erfcinv",
]
TOP_LEVEL = ["complex"]

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _is_real_numeric(dt):
    """TF's ``is_numeric`` less complex: integers and real floats (bool is not numeric)."""
    return dt.kind in "iu" or is_real_floating(dt)


def _is_float_or_complex(dt):
    return is_real_floating(dt) or dt.kind == "c"


# --- complex numbers ---------------------------------------------------------------------
def _complex_fwd(xp, re, im):
    try:
        re, im = xp.broadcast_arrays(re, im)
    except ValueError:
        raise InvalidArgumentError(
            f"complex: real of shape {tuple(re.shape)} and imag of shape {tuple(im.shape)} "
            "are not broadcast-compatible") from None
    out = xp.empty(re.shape, dtype=np.result_type(re.dtype, np.complex64))
    # part by part: re + 1j * im would turn an infinite imag into a NaN real part
    out.real = re
    out.imag = im
    return out


def _real_fwd(xp, a):
    return xp.ascontiguousarray(xp.real(a))


def _imag_fwd(xp, a):
    return xp.ascontiguousarray(xp.imag(a))


def _angle_dx(g, ans, x):
    # TF's -complex(g, 0) / complex(im, re), in real arithmetic (so that it differentiates
    # again correctly): complex(-g * im, g * re) / |x|^2
    re, im = _real(x), _imag(x)
    r2 = add(square(re), square(im))
    return _complex(divide(multiply(negative(g), im), r2), divide(multiply(g, re), r2))


_complex = register("complex", _complex_fwd)
defvjp(_complex, lambda g, ans, re, im: unbroadcast(real(g), re.shape),
       lambda g, ans, re, im: unbroadcast(imag(g), im.shape))
_real = register("real", _real_fwd)
defvjp(_real, lambda g, ans, x: _complex(g, zeros_like(g)))
_imag = register("imag", _imag_fwd)
defvjp(_imag, lambda g, ans, x: _complex(zeros_like(g), g))
_angle = register("angle", lambda xp, a: xp.angle(a))
defvjp(_angle, _angle_dx)


def complex(real, imag, name=None):
    """Builds ``real + 1j * imag`` elementwise, with broadcasting (``tf.complex``).

    Args:
        real: float32 or float64 tensor (a Python float is float32, as in TF).
        imag: tensor of the same dtype as ``real``.

    Returns:
        complex64 for float32 parts, complex128 for float64 parts. The gradients are
        ``real(g)`` for ``real`` and ``imag(g)`` for ``imag`` (TF's ``_ComplexGrad``).

    Raises:
        TypeError: when the parts are not both float32 or both float64.
        InvalidArgumentError: shapes that do not broadcast.

    Example:
        >>> import eagerflow as ef
        >>> ef.complex(ef.constant([2.25, 3.25]), ef.constant([4.75, 5.75])).numpy().tolist()
        [(2.25+4.75j), (3.25+5.75j)]
    """
    re, im = convert_to_tensor(real), convert_to_tensor(imag)
    if (re.dtype, im.dtype) not in ((_F32, _F32), (_F64, _F64)):
        raise TypeError(f"complex: real and imag must both be float32 or both float64, got "
                        f"{re.dtype} and {im.dtype}")
    return _complex(re, im)


def conj(x, name=None):
    """The complex conjugate, elementwise; a real input comes back unchanged (``tf.math.conj``).

    Args:
        x: numeric tensor (integer, float or complex).

    Returns:
        ``x``'s conjugate, same dtype; ``x`` itself when it is real. The gradient is
        ``conj(g)``.

    Raises:
        TypeError: for bool or string tensors.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.conj(ef.constant([-2.25 + 4.75j])).numpy().tolist()
        [(-2.25-4.75j)]
    """
    t = convert_to_tensor(x)
    if t.dtype.kind == "c":
        return _conj(t)
    if _is_real_numeric(t.dtype):
        return t
    raise TypeError(f"conj: x must be a numeric tensor (integer, float or complex), got "
                    f"dtype {t.dtype}")


def real(input, name=None):
    """The real part of a complex tensor; a real input comes back unchanged (``tf.math.real``).

    Args:
        input: numeric tensor.

    Returns:
        float32 for complex64, float64 for complex128; ``input`` itself when it is real.
        The gradient is ``complex(g, 0)``.

    Raises:
        TypeError: for bool or string tensors.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.real(ef.constant([-2.25 + 4.75j, 3.25 + 5.75j])).numpy().tolist()
        [-2.25, 3.25]
    """
    t = convert_to_tensor(input)
    if t.dtype.kind == "c":
        return _real(t)
    if _is_real_numeric(t.dtype):
        return t
    raise TypeError(f"real: input must be a numeric tensor (integer, float or complex), "
                    f"got dtype {t.dtype}")


def imag(input, name=None):
    """The imaginary part of a complex tensor; zeros for a real one (``tf.math.imag``).

    Args:
        input: tensor.

    Returns:
        float32 for complex64, float64 for complex128; ``zeros_like(input)`` (no gradient)
        when ``input`` is real. The gradient is ``complex(0, g)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.imag(ef.constant([-2.25 + 4.75j, 3.25 + 5.75j])).numpy().tolist()
        [4.75, 5.75]
    """
    t = convert_to_tensor(input)
    if t.dtype.kind == "c":
        return _imag(t)
    return zeros_like(t)


def angle(input, name=None):
    """The argument ``atan2(imag, real)`` of each element (``tf.math.angle``).

    Args:
        input: float or complex tensor.

    Returns:
        float32 for complex64, float64 for complex128. A real input gives ``pi`` where it
        is negative and 0 elsewhere (NaN included), with no gradient, as in TF. The
        gradient of a complex input is TF's ``-complex(g, 0) / complex(imag, real)``.

    Raises:
        TypeError: for integer, bool or string tensors.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.constant([-2.25 + 4.75j, 3.25 + 5.75j], dtype=ef.complex64)
        >>> [round(v, 4) for v in ef.math.angle(x).numpy().tolist()]
        [2.0132, 1.0563]
    """
    t = convert_to_tensor(input)
    if t.dtype.kind == "c":
        return _angle(t)
    if is_real_floating(t.dtype):
        return where(less(t, 0), multiply(ones_like(t), _pymath.pi), zeros_like(t))
    raise TypeError(f"angle: input must be a float or complex tensor, got dtype {t.dtype}")


# --- in_top_k / invert_permutation / monotonicity (no gradients) -------------------------
def _in_top_k_fwd(xp, targets, predictions, k):
    n, c = predictions.shape
    if c == 0:
        return xp.zeros(n, dtype=np.bool_)
    t = targets.astype(np.int64, copy=False)
    valid = (t >= 0) & (t < c)
    picked = xp.take_along_axis(predictions, xp.where(valid, t, 0)[:, None], axis=1)
    finite = xp.all(xp.isfinite(predictions), axis=1)
    more = xp.sum(predictions > picked, axis=1)
    return valid & finite & (more < k)


_in_top_k = register("in_top_k", _in_top_k_fwd)


def in_top_k(targets, predictions, k, name=None):
    """Whether each target is among its row's ``k`` largest predictions (``tf.math.in_top_k``).

    TF2's argument order: ``(targets, predictions, k)``.

    As TF's InTopK kernel: ``out[i]`` is True when fewer than ``k`` predictions of row
    ``i`` are strictly larger than the target's, so every class tied with the ``k``-th
    largest value counts as in the top ``k``; it is False when the target is out of
    ``[0, classes)`` or any prediction of the row is inf or NaN.

    Args:
        targets: int32 or int64 tensor ``(batch,)`` of class ids.
        predictions: float32 tensor ``(batch, classes)``.
        k: Python int, or a scalar tensor of the targets' dtype.

    Returns:
        bool tensor ``(batch,)``; no gradient.

    Raises:
        TypeError: wrong dtypes (targets not int32/int64, predictions not float32, k not
            an integer of the targets' dtype).
        ValueError: predictions not 2-D, targets not 1-D, batch sizes that differ, or a
            k that is not a scalar.

    Example:
        >>> import eagerflow as ef
        >>> pred = ef.constant([[1.2, -0.3, 2.8, 5.2], [0.1, 0.0, 0.0, 0.0],
        ...                     [0.0, 0.5, 0.3, 0.3]])
        >>> ef.math.in_top_k(ef.constant([0, 1, 3]), pred, 2).numpy().tolist()
        [False, True, True]
    """
    t, p = convert_to_tensor(targets), convert_to_tensor(predictions)
    if t.dtype not in (np.int32, np.int64):
        raise TypeError(f"in_top_k: targets must be int32 or int64, got dtype {t.dtype}")
    if p.dtype != np.float32:
        raise TypeError(f"in_top_k: predictions must be float32, got dtype {p.dtype}")
    if p.ndim != 2 or t.ndim != 1 or t.shape[0] != p.shape[0]:
        raise ValueError(f"in_top_k: predictions must be (batch, classes) and targets "
                         f"(batch,), got shapes {tuple(p.shape)} and {tuple(t.shape)}")
    if isinstance(k, Tensor):
        if k.ndim != 0:
            raise ValueError(f"in_top_k: k must be a scalar, got shape {tuple(k.shape)}")
        if k.dtype != t.dtype:
            raise TypeError(f"in_top_k: k must have the targets' dtype {t.dtype}, got "
                            f"{k.dtype}")
    else:
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"in_top_k: k must be an int or an integer scalar tensor, got "
                            f"{type(k).__name__}")
        k = operator.index(k)
    return _in_top_k(t, p, k)


def _invert_permutation_fwd(xp, a):
    # TF validates the values (its kernel reports the first bad position): one host read
    host = to_numpy(a)
    n = host.size
    in_range = (host >= 0) & (host < n)
    first = np.zeros(n, dtype=np.bool_)
    idx = np.flatnonzero(in_range)
    first[idx[np.unique(host[idx], return_index=True)[1]]] = True
    bad = np.flatnonzero(~first)  # out of range, or a value seen before
    if bad.size:
        i = int(bad[0])
        v = int(host[i])
        what = f"is not between 0 and {n}" if not in_range[i] else "is duplicated in the input"
        raise InvalidArgumentError(f"invert_permutation: x[{i}] = {v} {what}")
    out = xp.empty_like(a)
    out[a] = xp.arange(n, dtype=a.dtype)
    return out


_invert_permutation = register("invert_permutation", _invert_permutation_fwd)


def invert_permutation(x, name=None):
    """The inverse permutation: ``y[x[i]] = i`` (``tf.math.invert_permutation``).

    The values are checked as TF checks them, which reads ``x`` on the host once (a GPU
    synchronisation); the result is computed on ``x``'s device.

    Args:
        x: 1-D int32 or int64 tensor holding a permutation of ``0 .. len(x) - 1``.

    Returns:
        Tensor of ``x``'s dtype and shape; no gradient.

    Raises:
        TypeError: ``x`` not int32 or int64.
        ValueError: ``x`` not 1-D.
        InvalidArgumentError: a value outside ``[0, len(x))`` or repeated.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.invert_permutation(ef.constant([3, 4, 0, 2, 1])).numpy().tolist()
        [2, 4, 3, 0, 1]
    """
    t = convert_to_tensor(x)
    if t.dtype not in (np.int32, np.int64):
        raise TypeError(f"invert_permutation: x must be int32 or int64, got dtype {t.dtype}")
    if t.ndim != 1:
        raise ValueError(f"invert_permutation: x must be a 1-D vector, got shape "
                         f"{tuple(t.shape)}")
    return _invert_permutation(t)


def _monotonic_fwd(strict):
    def fwd(xp, a):
        flat = a.reshape(-1)
        # TF compares the differences x[1:] - x[:-1] with 0: unsigned differences wrap,
        # inf - inf is NaN (so [inf, inf] is not non-decreasing)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = flat[1:] - flat[:-1]
            ok = diff > 0 if strict else diff >= 0
        return xp.asarray(xp.all(ok))
    return fwd


_non_decreasing = register("is_non_decreasing", _monotonic_fwd(strict=False))
_strictly_increasing = register("is_strictly_increasing", _monotonic_fwd(strict=True))


def _monotonic(op, x):
    t = convert_to_tensor(x)
    if not _is_real_numeric(t.dtype):
        raise TypeError(f"{op.name}: x must be a real numeric tensor (integer or float), "
                        f"got dtype {t.dtype}")
    return op(t)


def is_non_decreasing(x, name=None):
    """Whether ``x[i] <= x[i + 1]`` for all neighbours, row-major (``tf.math.is_non_decreasing``).

    As TF, the test is ``x[1:] - x[:-1] >= 0`` in ``x``'s dtype, so unsigned differences
    wrap and ``[inf, inf]`` is False; fewer than two elements give True.

    Args:
        x: integer or float tensor of any shape.

    Returns:
        bool scalar tensor.

    Raises:
        TypeError: bool, complex or string ``x``.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.is_non_decreasing(ef.constant([1, 1, 2])).numpy().tolist()
        True
    """
    return _monotonic(_non_decreasing, x)


def is_strictly_increasing(x, name=None):
    """Whether ``x[i] < x[i + 1]`` for all neighbours (``tf.math.is_strictly_increasing``).

    As TF, the test is ``x[1:] - x[:-1] > 0`` in ``x``'s dtype; fewer than two elements
    give True.

    Args:
        x: integer or float tensor of any shape.

    Returns:
        bool scalar tensor.

    Raises:
        TypeError: bool, complex or string ``x``.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.is_strictly_increasing(ef.constant([1, 1, 2])).numpy().tolist()
        False
    """
    return _monotonic(_strictly_increasing, x)


# --- compositions ------------------------------------------------------------------------
def lbeta(x, name=None):
    """``log(|Beta(x)|)`` over the last axis (``tf.math.lbeta``).

    Computed as TF does: ``reduce_sum(lgamma(x), -1) - lgamma(reduce_sum(x, -1))``.

    Args:
        x: float tensor of rank >= 1.

    Returns:
        Tensor of ``x``'s dtype and shape without the last axis; an empty last axis gives
        ``-inf`` (``0 - lgamma(0)``, as TF). Differentiable (through ``lgamma``).

    Raises:
        TypeError: ``x`` not a float tensor.
        ValueError: ``x`` a scalar.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.lbeta(ef.constant([1.0, 2.0]))), 6)  # log(1/2)
        -0.693147
    """
    t = convert_to_tensor(x)
    if not is_real_floating(t.dtype):
        raise TypeError(f"lbeta: x must be a float tensor, got dtype {t.dtype}")
    if t.ndim == 0:
        raise ValueError("lbeta: x must have rank >= 1 (the last axis is reduced), got a "
                         "scalar")
    return subtract(reduce_sum(lgamma(t), axis=-1), lgamma(reduce_sum(t, axis=-1)))


def reciprocal_no_nan(x, name=None):
    """``1 / x``, but 0 where ``x == 0`` (``tf.math.reciprocal_no_nan``).

    Args:
        x: float or complex tensor.

    Returns:
        Tensor of ``x``'s dtype; the gradient is ``divide_no_nan``'s (0 where ``x == 0``).

    Raises:
        TypeError: integer, bool or string ``x``.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.reciprocal_no_nan(ef.constant([2.0, 0.5, 0.0, 1.0])).numpy().tolist()
        [0.5, 2.0, 0.0, 1.0]
    """
    t = convert_to_tensor(x)
    if not _is_float_or_complex(t.dtype):
        raise TypeError(f"reciprocal_no_nan: x must be a float or complex tensor, got dtype "
                        f"{t.dtype}")
    return divide_no_nan(ones_like(t), t)


def erfcinv(x, name=None):
    """The inverse of ``erfc`` on ``[0, 2]``: ``-ndtri(x / 2) / sqrt(2)`` (``tf.math.erfcinv``).

    Args:
        x: float tensor.

    Returns:
        Tensor of ``x``'s dtype (``+inf`` at 0, ``-inf`` at 2, NaN outside); differentiable
        (through ``ndtri``).

    Raises:
        TypeError: ``x`` not a float tensor.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.erfcinv(ef.constant([1.0])).numpy().tolist()
        [-0.0]
    """
    t = convert_to_tensor(x)
    if not is_real_floating(t.dtype):
        raise TypeError(f"erfcinv: x must be a float tensor, got dtype {t.dtype}")
    return multiply(negative(ndtri(multiply(t, 0.5))), _pymath.sqrt(0.5))


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """The elementwise sum of a list of tensors, as ``add_n`` (``tf.math.accumulate_n``).

    Args:
        inputs: non-empty list or tuple of tensors of one dtype and one shape.
        shape: optional expected shape (None entries match any size).
        tensor_dtype: optional expected dtype.

    Returns:
        The sum (``inputs[0]`` itself for one input); the gradient is ``g`` for each input.

    Raises:
        ValueError: empty or non-list ``inputs``, ``IndexedSlices`` among them, dtypes or
            shapes that differ, or a ``shape`` they do not match.
        TypeError: ``tensor_dtype`` other than the inputs' dtype.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.constant([[1, 2], [3, 4]])
        >>> b = ef.constant([[5, 0], [0, 6]])
        >>> ef.math.accumulate_n([a, b, a]).numpy().tolist()
        [[7, 4], [6, 14]]
    """
    bad = ValueError("accumulate_n: inputs must be a list of at least one Tensor with the "
                     "same dtype and shape")
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise bad
    if any(isinstance(v, IndexedSlices) for v in inputs):
        raise bad
    ts = [convert_to_tensor(v) for v in inputs]
    if any(t.dtype != ts[0].dtype for t in ts):
        raise bad
    want = None if shape is None else tuple(None if d is None else int(d) for d in shape)
    for t in ts:
        want = _merge_shapes(want, tuple(t.shape))
    if tensor_dtype is not None and as_dtype(tensor_dtype) != ts[0].dtype:
        raise TypeError(f"accumulate_n: tensor_dtype is {as_dtype(tensor_dtype)}, but the "
                        f"inputs are {ts[0].dtype}")
    return ts[0] if len(ts) == 1 else add_n(ts)


def _merge_shapes(a, b):
    """TF's ``TensorShape.merge_with`` (None dims are unknown); ValueError on a conflict."""
    if a is None:
        return b
    if len(a) != len(b) or any(x is not None and y is not None and x != y
                               for x, y in zip(a, b)):
        raise ValueError(f"accumulate_n: shapes {a} and {b} are not compatible")
    return tuple(y if x is None else x for x, y in zip(a, b))


# --- softsign / xlog1py / reduce_euclidean_norm (registered, with TF's gradients) ---------
_softsign = register("softsign", lambda xp, a: a / (1 + xp.abs(a)))
defvjp(_softsign, lambda g, ans, x: divide(g, square(add(_abs(x), 1.0))))


def softsign(features, name=None):
    """``features / (abs(features) + 1)`` elementwise (``tf.math.softsign``).

    Args:
        features: float tensor.

    Returns:
        Tensor of the same dtype; the gradient is TF's ``g / (1 + |x|)**2``.

    Raises:
        TypeError: ``features`` not a float tensor.

    Example:
        >>> import eagerflow as ef
        >>> ef.math.softsign(ef.constant([-3.0, 0.0, 1.0])).numpy().tolist()
        [-0.75, 0.0, 0.5]
    """
    t = convert_to_tensor(features)
    if not is_real_floating(t.dtype):
        raise TypeError(f"softsign: features must be a float tensor, got dtype {t.dtype}")
    return _softsign(t)


def _xlog1py_fwd(xp, a, b):
    xp = _mod2(a, b)
    dt = np.dtype(_result_dtype(a, b))
    if not _is_float_or_complex(dt):
        raise TypeError(f"xlog1py: x and y must be float or complex tensors, got dtype {dt}")
    a, b = xp.asarray(a, dtype=dt), xp.asarray(b, dtype=dt)
    zero = a == 0
    nil = xp.zeros((), dtype=dt)
    # y is replaced where x == 0, so that 0 * log1p(-1) or 0 * NaN never runs
    return xp.where(zero, nil, a * xp.log1p(xp.where(zero, nil, b)))


xlog1py = _binary(
    "xlog1py", _xlog1py_fwd,
    _ub(lambda g, ans, x, y: multiply(g, xlog1py(cast(not_equal(x, 0), x.dtype), y))),
    _uby(lambda g, ans, x, y: multiply(g, xdivy(x, add(y, 1.0)))),
    doc=("``x * log1p(y)``, but 0 wherever ``x == 0`` (``tf.math.xlog1py``), with "
         "broadcasting.\n\n"
         "    Args:\n"
         "        x: float or complex tensor.\n"
         "        y: tensor of the same dtype (a Python number takes ``x``'s dtype).\n\n"
         "    Returns:\n"
         "        Tensor of the common dtype: 0 where ``x == 0`` whatever ``y`` is (NaN "
         "too). TF's\n"
         "        gradients: ``xlog1py(x != 0, y) * g`` for ``x`` (0 where ``x == 0``) and\n"
         "        ``xdivy(x, y + 1) * g`` for ``y``.\n\n"
         "    Raises:\n"
         "        TypeError: integer or bool dtypes, or two tensors of different dtypes.\n\n"
         "    Example:\n"
         "        >>> import eagerflow as ef\n"
         "        >>> ef.math.xlog1py(ef.constant([0.0, 2.0]), ef.constant([-1.0, 0.0]))"
         ".numpy().tolist()\n"
         "        [0.0, 0.0]\n"))


def _euclidean_norm_fwd(xp, a, axis=None, keepdims=False):
    dt = a.dtype
    if dt.kind == "c":
        sq = a.real * a.real + a.imag * a.imag
        return xp.sqrt(xp.sum(sq, axis=axis, keepdims=keepdims)).astype(dt)
    if dt.kind in "iu":
        # in the integer dtype, and the root truncated, as TF (sqrt(17) -> 4)
        s = xp.sum(a * a, axis=axis, keepdims=keepdims, dtype=dt)
        return xp.sqrt(s).astype(dt)
    if not is_real_floating(dt):
        raise TypeError(f"reduce_euclidean_norm: input_tensor must be numeric (integer, "
                        f"float or complex), got dtype {dt}")
    acc = np.float32 if dt.itemsize == 2 else dt  # float16/bfloat16 add up in float32
    b = a.astype(acc, copy=False)
    return xp.sqrt(xp.sum(b * b, axis=axis, keepdims=keepdims)).astype(dt, copy=False)


def _euclidean_norm_vjp(g, ans, x, axis=None, keepdims=False):
    # TF's _EuclideanNormGrad: x / (norm / g) (NaN where the norm is 0 and g is not)
    return divide(x, divide(_grad_broadcast(ans, x, axis, keepdims),
                            _grad_broadcast(g, x, axis, keepdims)))


_euclidean_norm = register("reduce_euclidean_norm", _euclidean_norm_fwd)
defvjp(_euclidean_norm, _euclidean_norm_vjp)
reduce_euclidean_norm = _make(_euclidean_norm, "reduce_euclidean_norm", """\
``sqrt(sum(|x|**2))`` over ``axis`` (``tf.math.reduce_euclidean_norm``).

    Args:
        input_tensor: integer, float or complex tensor.
        axis: None (all axes), an int, or a tuple of ints.
        keepdims: keep reduced axes with size 1.

    Returns:
        Tensor of the input's dtype: an integer input gives the truncated root
        (``[[1, 2, 3], [1, 1, 1]]`` -> 4), a complex one a complex result with zero
        imaginary part. The gradient is TF's ``x / (norm / g)``.

    Raises:
        TypeError: bool or string input.
        ValueError: an axis out of range or repeated.

    Example:
        >>> import eagerflow as ef
        >>> y = ef.constant([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        >>> ef.math.reduce_euclidean_norm(y, 1, keepdims=True).numpy().tolist()
        [[3.7416574954986572], [1.7320507764816284]]
    """)
