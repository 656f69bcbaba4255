"""Elementwise math: binary arithmetic with broadcasting, unary functions, comparisons.

Binary ops follow TensorFlow: two tensors must share a dtype (no silent promotion); a
Python scalar takes the tensor's dtype; a list is converted to the tensor's dtype.
"""
import math as _pymath

import numpy as np

from ..autograd.registry import DeviceMismatchError, defvjp, get, register
from ..autograd.state import recorders_state
from ..autograd.tensor import Tensor, _wrap
from ..backend import _cupy, array_module
from ..backend import asarray as backend_asarray
from ..backend.dtypes import as_dtype, is_floating, python_int_dtype
from ..kernels.special import erf as _erf_kernel
from ..kernels.special import nextafter as _nextafter_kernel
from .broadcast import unbroadcast

__all__ = [
    "add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "mod", "pow",
    "maximum", "minimum", "squared_difference", "divide_no_nan", "truncatediv", "truncatemod",
    "xdivy", "negative", "abs", "sign",
    "exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "tanh", "sigmoid",
    "erf", "erfc", "floor", "ceil", "round", "rint", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "is_nan", "is_finite", "is_inf", "where", "cast",
    "identity", "stop_gradient", "add_n", "atan2", "real_div", "scalar_mul", "log_sigmoid",
    "xlogy", "zeros_like", "ones_like", "to_float", "to_double", "to_int32", "to_int64",
    "multiply_no_nan", "nextafter", "polyval",
]

_np_ndarray = np.ndarray
_scalar_types = (int, float, bool, complex, np.generic)


def _xp(a):
    return np if type(a) is _np_ndarray else array_module(a)


def _operands(name, x, y):
    """Raw arrays for a binary op, with TensorFlow's dtype rules checked."""
    if isinstance(x, Tensor):
        a = x._data
        if isinstance(y, Tensor):
            b = y._data
            if type(a) is not type(b) and not (isinstance(a, _np_ndarray) and isinstance(b, _np_ndarray)):
                raise DeviceMismatchError(
                    f"{name}: inputs live on different devices ({type(a).__module__} and "
                    f"{type(b).__module__} arrays); move one first with x.cpu() or x.gpu()")
            if a.dtype != b.dtype:
                raise TypeError(f"{name}: x has dtype {a.dtype} but y has dtype {b.dtype}; "
                                "cast one of them with ef.cast")
            return a, b
        return a, _coerce(name, y, a)
    if isinstance(y, Tensor):
        b = y._data
        return _coerce(name, x, b), b
    xp = _xp_of_values(x, y)
    # Python lists as tf.convert_to_tensor converts them (int32 / float32)
    a = xp.asarray(backend_asarray(x)) if not isinstance(x, _scalar_types) else x
    if isinstance(a, _scalar_types):
        a = _host_default(xp, a)
    return a, _coerce(name, y, a)


def _xp_of_values(x, y):
    for v in (x, y):
        if _cupy.loaded() is not None and isinstance(v, _cupy.loaded().ndarray):
            return _cupy.loaded()
    from .. import backend
    return backend.state.xp


def _host_default(xp, v):
    if isinstance(v, bool):
        return xp.asarray(v)
    if isinstance(v, int):
        return xp.asarray(v, dtype=python_int_dtype(v))
    if isinstance(v, float):
        return xp.asarray(v, dtype=np.float32)
    return xp.asarray(v)


def _coerce(name, v, like):
    """Converts the non-tensor operand ``v`` to go with the array ``like``."""
    if isinstance(v, np.generic):  # before the float check: np.float64 subclasses float
        return v.astype(like.dtype) if v.dtype.kind == like.dtype.kind else v
    if isinstance(v, (int, float, bool)):
        return v  # a weak Python scalar: NumPy/CuPy keep like's dtype
    xp = _xp(like)
    if isinstance(v, (list, tuple)):
        return xp.asarray(v, dtype=like.dtype)
    if isinstance(v, _np_ndarray) or (xp is not np and isinstance(v, xp.ndarray)):
        if xp is not np and isinstance(v, _np_ndarray):
            raise DeviceMismatchError(f"{name}: a NumPy array cannot be combined with a GPU "
                                      "tensor; convert it with ef.constant first")
        if xp is np and not isinstance(v, _np_ndarray):
            raise DeviceMismatchError(f"{name}: a GPU array cannot be combined with a CPU "
                                      "tensor")
        if v.dtype != like.dtype:
            raise TypeError(f"{name}: x has dtype {like.dtype} but y has dtype {v.dtype}; "
                            "cast one of them with ef.cast")
        return v
    if isinstance(v, Tensor):  # pragma: no cover - handled by the caller
        return v._data
    raise TypeError(f"{name}: cannot use an operand of type {type(v).__name__}")


def _run_binary(op, x, y):
    a, b = _operands(op.name, x, y)
    try:
        out = op.forward(None, a, b)
    except ValueError as e:
        if "broadcast" in str(e) or "shape" in str(e):
            raise ValueError(f"{op.name}: shapes {tuple(np.shape(a))} and "
                             f"{tuple(np.shape(b))} are not broadcast-compatible") from None
        raise
    t = _wrap(out)
    recs = recorders_state.recorders
    if recs:
        inputs = (x, y)
        for r in recs:
            r.record(op, inputs, t, {})
    return t


def _run_unary(op, x):
    a = x._data if isinstance(x, Tensor) else _to_array(x)
    t = _wrap(op.forward(None, a))
    recs = recorders_state.recorders
    if recs:
        for r in recs:
            r.record(op, (x,), t, {})
    return t


def _to_array(x):
    from ..autograd.tensor import _to_array as to_array
    return to_array(x)


def _binary(name, fwd, dx=None, dy=None, doc=None):
    op = register(name, fwd)
    if dx is not None or dy is not None:
        defvjp(op, dx, dy)

    def fn(x, y, name=None):
        return _run_binary(op, x, y)

    fn.__name__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}(x, y)`` with broadcasting (``tf.math.{name}``)."
    return fn


def _unary(name, fwd, dx=None, doc=None):
    op = register(name, fwd)
    if dx is not None:
        defvjp(op, dx)

    def fn(x, name=None):
        return _run_unary(op, x)

    fn.__name__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}(x)`` (``tf.math.{name}``)."
    return fn


def _mod2(a, b):
    """The array module of whichever operand is an array."""
    if isinstance(a, _np_ndarray) or isinstance(b, _np_ndarray):
        return np
    return array_module(b if isinstance(a, _scalar_types) else a)


def _ufunc2(name):
    def fwd(xp, a, b):
        return getattr(_mod2(a, b), name)(a, b)
    return fwd


def _ufunc1(name):
    def fwd(xp, a):
        return getattr(_xp(a), name)(a)
    return fwd


def _ub(fn):
    """Wraps a vjp maker so its result is unbroadcast to the input's shape."""
    def maker_x(g, ans, x, y):
        return unbroadcast(fn(g, ans, x, y), x.shape)
    return maker_x


def _uby(fn):
    def maker_y(g, ans, x, y):
        return unbroadcast(fn(g, ans, x, y), y.shape)
    return maker_y


# --- binary arithmetic ----------------------------------------------------------------
add = _binary("add", lambda xp, a, b: a + b,
              _ub(lambda g, ans, x, y: g), _uby(lambda g, ans, x, y: g))
subtract = _binary("subtract", lambda xp, a, b: a - b,
                   _ub(lambda g, ans, x, y: g), _uby(lambda g, ans, x, y: negative(g)))
multiply = _binary("multiply", lambda xp, a, b: a * b,
                   _ub(lambda g, ans, x, y: multiply(g, y)),
                   _uby(lambda g, ans, x, y: multiply(g, x)))
divide = _binary("divide", lambda xp, a, b: a / b,
                 _ub(lambda g, ans, x, y: divide(g, y)),
                 _uby(lambda g, ans, x, y: negative(divide(multiply(g, ans), y))))
truediv = real_div = divide
floordiv = _binary("floordiv", lambda xp, a, b: a // b)


def _truncatediv_fwd(xp, a, b):
    # C semantics: the quotient rounds toward zero (TF: -7 / 5 = -1), unlike floordiv
    xp = _mod2(a, b)
    if np.result_type(a, b).kind in "iu":
        q = xp.abs(a) // xp.abs(b)
        return xp.where((a < 0) != (b < 0), -q, q)
    return xp.trunc(a / b)


# TF registers no gradient for TruncateDiv / TruncateMod (math_grad.py): constants here too
truncatediv = _binary("truncatediv", _truncatediv_fwd, doc=(
    "``x / y`` rounded toward zero, elementwise (``tf.math.truncatediv``): "
    "``truncatediv(-7, 2) == -3`` where ``floordiv`` gives -4."))
truncatemod = _binary("truncatemod", lambda xp, a, b: _mod2(a, b).fmod(a, b), doc=(
    "C's remainder, with the sign of ``x`` (``tf.math.truncatemod``): "
    "``truncatemod(-7, 2) == -1`` where ``floormod`` gives 1."))


def _floormod_fwd(xp, a, b):
    return a % b


floormod = _binary("floormod", _floormod_fwd,
                   _ub(lambda g, ans, x, y: g),
                   _uby(lambda g, ans, x, y: negative(multiply(g, floor(divide(x, y))))))
mod = floormod


def _pow_dy(g, ans, x, y):
    safe = where(greater(x, 0), x, ones_like(x))
    return multiply(multiply(g, ans), where(greater(x, 0), log(safe), zeros_like(safe)))


pow = _binary("pow", lambda xp, a, b: a ** b,
              _ub(lambda g, ans, x, y: multiply(g, multiply(y, x ** subtract(y, 1)))
                  if isinstance(y, Tensor) else multiply(g, multiply(y, x ** (y - 1)))),
              _uby(_pow_dy))
maximum = _binary("maximum", _ufunc2("maximum"),
                  _ub(lambda g, ans, x, y: where(greater_equal(x, y), g, zeros_like(g))),
                  _uby(lambda g, ans, x, y: where(less(x, y), g, zeros_like(g))))
minimum = _binary("minimum", _ufunc2("minimum"),
                  _ub(lambda g, ans, x, y: where(less_equal(x, y), g, zeros_like(g))),
                  _uby(lambda g, ans, x, y: where(greater(x, y), g, zeros_like(g))))
squared_difference = _binary(
    "squared_difference", lambda xp, a, b: (a - b) * (a - b),
    _ub(lambda g, ans, x, y: multiply(g, multiply(2.0, subtract(x, y)))),
    _uby(lambda g, ans, x, y: multiply(g, multiply(-2.0, subtract(x, y)))))
atan2 = _binary("atan2", _ufunc2("arctan2"),
                _ub(lambda g, ans, x, y: multiply(g, divide(y, add(square(x), square(y))))),
                _uby(lambda g, ans, x, y: multiply(g, divide(negative(x),
                                                              add(square(x), square(y))))))


def _div_no_nan_fwd(xp, a, b):
    xp = _mod2(a, b)
    zero = b == 0
    return xp.where(zero, 0, a / xp.where(zero, 1, b))


divide_no_nan = _binary(
    "divide_no_nan", _div_no_nan_fwd,
    _ub(lambda g, ans, x, y: divide_no_nan(g, y)),
    _uby(lambda g, ans, x, y: negative(multiply(g, divide_no_nan(ans, y)))))


def _xlogy_fwd(xp, a, b):
    xp = _mod2(a, b)
    return xp.where(a == 0, 0, a * xp.log(xp.where(a == 0, 1, b)))


xlogy = _binary("xlogy", _xlogy_fwd,
                _ub(lambda g, ans, x, y: multiply(g, where(equal(x, 0), zeros_like(ans), log(y)))),
                _uby(lambda g, ans, x, y: multiply(g, divide_no_nan(x, y))))


def _result_dtype(a, b):
    """The dtype of a binary op's result (the operands share it, or one is a Python scalar)."""
    for v in (a, b):
        if hasattr(v, "ndim") and not isinstance(v, np.generic):
            return v.dtype
    return np.result_type(a, b)


def _mul_no_nan_fwd(xp, a, b):
    xp = _mod2(a, b)
    dt = _result_dtype(a, b)
    if dt.kind not in "fc":
        raise TypeError(f"multiply_no_nan: x and y must be floating or complex, got {dt}")
    a, b = xp.asarray(a, dtype=dt), xp.asarray(b, dtype=dt)
    zero = b == 0
    nil = xp.zeros((), dtype=dt)
    # zero x first where y == 0, so inf * 0 never runs (and warns)
    return xp.where(zero, nil, xp.where(zero, nil, a) * b)


multiply_no_nan = _binary(
    "multiply_no_nan", _mul_no_nan_fwd,
    _ub(lambda g, ans, x, y: multiply_no_nan(g, y)),
    _uby(lambda g, ans, x, y: multiply_no_nan(x, g)),
    doc=("``x * y``, but 0 wherever ``y == 0`` even if ``x`` is inf or NaN "
         "(``tf.math.multiply_no_nan``); floating or complex dtypes. TF's gradients: "
         "``multiply_no_nan(g, y)`` and ``multiply_no_nan(x, g)``.\n\n"
         "    Example:\n"
         "        >>> import eagerflow as ef\n"
         "        >>> ef.math.multiply_no_nan(ef.constant([float('inf'), 2.0]),\n"
         "        ...                         ef.constant([0.0, 3.0])).numpy().tolist()\n"
         "        [0.0, 6.0]\n"))


def _nextafter_fwd(xp, a, b):
    xp = _mod2(a, b)
    dt = _result_dtype(a, b)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"nextafter: x1 and x2 must be float32 or float64, got {dt}")
    return _nextafter_kernel(xp.asarray(a, dtype=dt), xp.asarray(b, dtype=dt))


# TF's _NextAfterGrad: 1 for x1 and 0 for x2 (summed over broadcast axes)
nextafter = _binary(
    "nextafter", _nextafter_fwd,
    _ub(lambda g, ans, x, y: g),
    lambda g, ans, x, y: zeros_like(y),
    doc=("The next representable value after ``x1`` in the direction of ``x2``, "
         "elementwise (``tf.math.nextafter``); float32 or float64.\n\n"
         "    Example:\n"
         "        >>> import eagerflow as ef\n"
         "        >>> x = ef.constant([1.0], dtype=ef.float64)\n"
         "        >>> (ef.math.nextafter(x, 2.0) - x).numpy().tolist()\n"
         "        [2.220446049250313e-16]\n"))


def polyval(coeffs, x, name=None):
    """Evaluates the polynomial ``coeffs[0] * x**(n-1) + ... + coeffs[n-1]`` by Horner's
    rule (``tf.math.polyval``).

    Args:
        coeffs: a list of tensors (or Python numbers), highest degree first; each
            broadcasts against ``x``.
        x: tensor.

    Returns:
        ``zeros_like(x)`` for no coefficients, ``coeffs[0]`` as a tensor for one, else
        the broadcast polynomial. Differentiable in ``x`` and in every coefficient.

    Raises:
        ValueError: when ``coeffs`` is not a list (as TF).

    Example:
        >>> import eagerflow as ef
        >>> ef.math.polyval([2.0, 0.0, 1.0], ef.constant([3.0])).numpy().tolist()
        [19.0]
    """
    if not isinstance(coeffs, list):
        raise ValueError(f"polyval: argument coeffs must be a list, got {type(coeffs).__name__}")
    if not isinstance(x, Tensor):
        x = _wrap(_to_array(x))
    if not coeffs:
        return zeros_like(x)
    p = coeffs[0]
    for c in coeffs[1:]:
        p = add(c, multiply(p, x))
    return p if isinstance(p, Tensor) else _wrap(_to_array(p))


def xdivy(x, y, name=None):
    """``0`` where ``x == 0``, else ``x / y`` (``tf.math.xdivy``), with TF's gradients
    ``(x != 0) / y`` and ``-x / y**2`` (zero where ``x == 0``)."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _wrap(_to_array(x))
    if not isinstance(x, Tensor):
        x = _wrap(_coerce("xdivy", x, y._data)) if not isinstance(x, (int, float)) else \
            _wrap(_xp(y._data).asarray(x, dtype=y.dtype))
    if not isinstance(y, Tensor):
        y = _wrap(_coerce("xdivy", y, x._data)) if not isinstance(y, (int, float)) else \
            _wrap(_xp(x._data).asarray(y, dtype=x.dtype))
    zero = equal(x, 0)
    q = divide(x, where(zero, ones_like(y), y))
    return where(zero, zeros_like(q), q)


def scalar_mul(scalar, x, name=None):
    """``scalar * x`` (``tf.math.scalar_mul``)."""
    return multiply(x, scalar)


# --- unary ---------------------------------------------------------------------------
negative = _unary("negative", lambda xp, a: -a, lambda g, ans, x: negative(g))
abs = _unary("abs", _ufunc1("abs"), lambda g, ans, x: multiply(g, sign(x)))
sign = _unary("sign", _ufunc1("sign"), lambda g, ans, x: zeros_like(g))
exp = _unary("exp", _ufunc1("exp"), lambda g, ans, x: multiply(g, ans))
expm1 = _unary("expm1", _ufunc1("expm1"), lambda g, ans, x: multiply(g, add(ans, 1.0)))
log = _unary("log", _ufunc1("log"), lambda g, ans, x: divide(g, x))
log1p = _unary("log1p", _ufunc1("log1p"), lambda g, ans, x: divide(g, add(x, 1.0)))
sqrt = _unary("sqrt", _ufunc1("sqrt"), lambda g, ans, x: divide(multiply(g, 0.5), ans))
rsqrt = _unary("rsqrt", lambda xp, a: 1.0 / _xp(a).sqrt(a),
               lambda g, ans, x: multiply(g, multiply(-0.5, ans * ans * ans)))
square = _unary("square", lambda xp, a: a * a, lambda g, ans, x: multiply(g, multiply(2.0, x)))
reciprocal = _unary("reciprocal", lambda xp, a: 1.0 / a,
                    lambda g, ans, x: negative(multiply(g, square(ans))))
sin = _unary("sin", _ufunc1("sin"), lambda g, ans, x: multiply(g, cos(x)))
cos = _unary("cos", _ufunc1("cos"), lambda g, ans, x: negative(multiply(g, sin(x))))
tan = _unary("tan", _ufunc1("tan"), lambda g, ans, x: multiply(g, add(square(ans), 1.0)))
asin = _unary("asin", _ufunc1("arcsin"),
              lambda g, ans, x: multiply(g, rsqrt(subtract(1.0, square(x)))))
acos = _unary("acos", _ufunc1("arccos"),
              lambda g, ans, x: negative(multiply(g, rsqrt(subtract(1.0, square(x))))))
atan = _unary("atan", _ufunc1("arctan"),
              lambda g, ans, x: divide(g, add(square(x), 1.0)))
sinh = _unary("sinh", _ufunc1("sinh"), lambda g, ans, x: multiply(g, cosh(x)))
cosh = _unary("cosh", _ufunc1("cosh"), lambda g, ans, x: multiply(g, sinh(x)))
asinh = _unary("asinh", _ufunc1("arcsinh"),
               lambda g, ans, x: multiply(g, rsqrt(add(square(x), 1.0))))
acosh = _unary("acosh", _ufunc1("arccosh"),
               lambda g, ans, x: multiply(g, rsqrt(subtract(square(x), 1.0))))
atanh = _unary("atanh", _ufunc1("arctanh"),
               lambda g, ans, x: divide(g, subtract(1.0, square(x))))
tanh = _unary("tanh", _ufunc1("tanh"),
              lambda g, ans, x: multiply(g, subtract(1.0, square(ans))))


def _sigmoid_fwd(xp, a):
    xp = _xp(a)
    # numerically stable for large |a| in both directions
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


sigmoid = _unary("sigmoid", _sigmoid_fwd,
                 lambda g, ans, x: multiply(g, multiply(ans, subtract(1.0, ans))))


def _log_sigmoid_fwd(xp, a):
    xp = _xp(a)
    return (-xp.logaddexp(0, -a)).astype(a.dtype, copy=False)


log_sigmoid = _unary("log_sigmoid", _log_sigmoid_fwd,
                     lambda g, ans, x: multiply(g, sigmoid(negative(x))))
_two_over_sqrt_pi = 2.0 / _pymath.sqrt(_pymath.pi)
erf = _unary("erf", lambda xp, a: _erf_kernel(a, complement=False),
             lambda g, ans, x: multiply(g, multiply(_two_over_sqrt_pi, exp(negative(square(x))))))
erfc = _unary("erfc", lambda xp, a: _erf_kernel(a, complement=True),
              lambda g, ans, x: multiply(g, multiply(-_two_over_sqrt_pi,
                                                     exp(negative(square(x))))))
# TensorFlow registers no gradient for rounding ops: they are recorded as constants.
floor = _unary("floor", _ufunc1("floor"))
ceil = _unary("ceil", _ufunc1("ceil"))
rint = _unary("rint", _ufunc1("rint"))
round = _unary("round", lambda xp, a: _xp(a).round(a),
               doc="Rounds half to even, elementwise (``tf.math.round``).")

# --- comparisons and logic (no gradients) ---------------------------------------------
equal = _binary("equal", lambda xp, a, b: a == b)
not_equal = _binary("not_equal", lambda xp, a, b: a != b)
less = _binary("less", lambda xp, a, b: a < b)
less_equal = _binary("less_equal", lambda xp, a, b: a <= b)
greater = _binary("greater", lambda xp, a, b: a > b)
greater_equal = _binary("greater_equal", lambda xp, a, b: a >= b)


def _bool_check(fn):
    def fwd(xp, a, b):
        for v in (a, b):
            if getattr(v, "dtype", np.dtype(bool)) != np.bool_ and not isinstance(v, bool):
                raise TypeError(f"logical ops need bool inputs, got {getattr(v, 'dtype', type(v))}")
        return fn(a, b)
    return fwd


logical_and = _binary("logical_and", _bool_check(lambda a, b: a & b))
logical_or = _binary("logical_or", _bool_check(lambda a, b: a | b))
logical_xor = _binary("logical_xor", _bool_check(lambda a, b: a ^ b))


def _not_fwd(xp, a):
    if a.dtype != np.bool_:
        raise TypeError(f"logical_not needs a bool input, got {a.dtype}")
    return ~a


logical_not = _unary("logical_not", _not_fwd)
is_nan = _unary("is_nan", _ufunc1("isnan"))
is_finite = _unary("is_finite", _ufunc1("isfinite"))
is_inf = _unary("is_inf", _ufunc1("isinf"))


# --- where, clip, cast, identity -------------------------------------------------------
def _where_fwd(xp, c, a, b):
    if getattr(c, "dtype", None) != np.bool_:
        raise TypeError(f"where: condition must be bool, got {getattr(c, 'dtype', type(c))}")
    out = xp.where(c, a, b)
    if getattr(a, "dtype", None) is not None and a.dtype == getattr(b, "dtype", None):
        out = out.astype(a.dtype, copy=False)  # CuPy's where answers bfloat16 in float32
    return out


_where3 = register("where", _where_fwd)
defvjp(_where3, None,
       lambda g, ans, c, x, y: unbroadcast(where(c, g, zeros_like(g)), x.shape),
       lambda g, ans, c, x, y: unbroadcast(where(c, zeros_like(g), g), y.shape))


def where(condition, x=None, y=None, name=None):
    """Elementwise ``x if condition else y`` with broadcasting (``tf.where``, TF2).

    With only ``condition``, returns the int64 coordinates of its true elements, shape
    ``(num_true, rank)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.where(ef.constant([True, False]), 1.0, 2.0).numpy().tolist()
        [1.0, 2.0]
    """
    if x is None and y is None:
        return get("where_indices")(condition)
    if x is None or y is None:
        raise ValueError("where: x and y must both be given, or neither")
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype != y.dtype:
        raise TypeError(f"where: x has dtype {x.dtype} but y has dtype {y.dtype}")
    if not isinstance(x, Tensor) and isinstance(y, Tensor):
        x = _wrap(_coerce("where", x, y._data)) if not isinstance(x, (int, float)) else \
            _wrap(_xp(y._data).asarray(x, dtype=y.dtype))
    if not isinstance(y, Tensor) and isinstance(x, Tensor):
        y = _wrap(_coerce("where", y, x._data)) if not isinstance(y, (int, float)) else \
            _wrap(_xp(x._data).asarray(y, dtype=x.dtype))
    return _where3(condition, x, y)


register("where_indices", lambda xp, c: xp.argwhere(c).astype(np.int64))


def _cast_fwd(xp, a, dtype):
    if not hasattr(a, "astype"):  # a Python scalar or list
        return xp.asarray(a, dtype=dtype)
    return a.astype(dtype, copy=False) if a.dtype != dtype else a


def _cast_vjp(g, ans, x, dtype):
    if is_floating(x.dtype) and is_floating(dtype):
        return cast(g, x.dtype)
    return None


_cast = register("cast", _cast_fwd)
defvjp(_cast, _cast_vjp)


def cast(x, dtype, name=None):
    """Casts ``x`` to ``dtype`` (``tf.cast``); the gradient flows between float types.

    As in TF, a Python number or list is first a tensor of its default dtype (float32 for
    floats: ``cast(0.1, float64)`` is ``0.10000000149...``), and a ``SparseTensor`` or
    ``IndexedSlices`` has its values cast.

    Example:
        >>> import eagerflow as ef
        >>> ef.cast(ef.constant([1.7, -1.7]), ef.int32).numpy().tolist()
        [1, -1]
    """
    from ..autograd.indexed_slices import IndexedSlices
    from ..autograd.sparse_tensor import SparseTensor
    dtype = as_dtype(dtype)
    if isinstance(x, SparseTensor):
        return SparseTensor(x.indices, cast(x.values, dtype), x.dense_shape)
    if isinstance(x, IndexedSlices):
        return IndexedSlices(cast(x.values, dtype), x.indices, x.dense_shape)
    if isinstance(x, Tensor) and x.dtype == dtype:
        return x
    if not isinstance(x, Tensor) and not hasattr(x, "dtype"):
        from ..autograd.tensor import convert_to_tensor
        x = convert_to_tensor(x)
        if x.dtype == dtype:
            return x
    return _cast(x, dtype=dtype)


def to_float(x, name="ToFloat"):
    """TF1's ``tf.to_float``: ``cast(x, float32)``."""
    return cast(x, np.float32)


def to_double(x, name="ToDouble"):
    """TF1's ``tf.to_double``: ``cast(x, float64)``."""
    return cast(x, np.float64)


def to_int32(x, name="ToInt32"):
    """TF1's ``tf.to_int32``: ``cast(x, int32)``."""
    return cast(x, np.int32)


def to_int64(x, name="ToInt64"):
    """TF1's ``tf.to_int64``: ``cast(x, int64)``."""
    return cast(x, np.int64)


_identity = register("identity", lambda xp, a: a.copy())
defvjp(_identity, lambda g, ans, x: g)


def identity(x, name=None):
    """Returns a tensor with the same value as ``x`` (``tf.identity``).

    The result is a snapshot: a later ``assign`` to a variable ``x`` does not change it.
    """
    return _identity(x)


_stop = register("stop_gradient", lambda xp, a: a)


def stop_gradient(x, name=None):
    """Returns ``x`` with no gradient flowing back through it (``tf.stop_gradient``)."""
    return _stop(x)


def add_n(inputs, name=None):
    """Sums a list of same-shape, same-dtype tensors (``tf.add_n``)."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("add_n: inputs must be a non-empty list")
    shapes = {tuple(getattr(t, "shape", np.shape(t))) for t in inputs}
    if len(shapes) > 1:
        raise ValueError(f"add_n: all inputs must have the same shape, got {sorted(shapes)}")
    out = inputs[0]
    for t in inputs[1:]:
        out = add(out, t)
    return out if isinstance(out, Tensor) else _wrap(_to_array(out))


_zeros_like = register("zeros_like", lambda xp, a, dtype=None: xp.zeros_like(a, dtype=dtype))
_ones_like = register("ones_like", lambda xp, a, dtype=None: xp.ones_like(a, dtype=dtype))


def zeros_like(x, dtype=None, name=None):
    """A tensor of zeros with the shape (and dtype, unless given) of ``x``."""
    return _zeros_like(x, dtype=None if dtype is None else as_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    """A tensor of ones with the shape (and dtype, unless given) of ``x``."""
    return _ones_like(x, dtype=None if dtype is None else as_dtype(dtype))
