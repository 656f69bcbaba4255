"""Special functions of ``tf.math``: gamma family, inverse error functions, incomplete gamma
and beta, Hurwitz zeta, modified Bessel functions, with TensorFlow's gradients.

Values come from the array's own backend (``scipy.special`` for NumPy arrays,
``cupyx.scipy.special`` for CuPy arrays, see :mod:`eagerflow.backend.special`). Like
TensorFlow these ops take floats; integer inputs are computed in float32, as ``ef.erf``
does, and float16/bfloat16 are computed in float32 and returned in their own dtype. The
two- and three-argument ops broadcast and follow the binary ops' dtype rules (tensors must
share a dtype; a Python scalar takes the tensor's).

Gradients are TensorFlow's (``math_grad.py``). Where TF has none, neither has eagerflow:
``polygamma`` w.r.t. ``a``, ``zeta`` w.r.t. ``x`` and ``betainc`` w.r.t. ``a`` and ``b``
give None, as ``tf.GradientTape`` does. ``igamma``/``igammac`` w.r.t. ``a`` use
:func:`igamma_grad_a` (TF's ``IgammaGradA``).

Example:
    >>> import eagerflow as ef
    >>> round(float(ef.math.lgamma(ef.constant(5.0))), 4)  # log(4!)
    3.1781
"""
import math as _pymath

import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.state import recorders_state
from ..autograd.tensor import Tensor, _wrap
from ..backend import array_module
from ..backend.dtypes import bfloat16
from ..backend.special import special_module
from .broadcast import unbroadcast
from .math import (_operands, _run_binary, _to_array, _ub, _uby, _unary, add, divide, equal,
                   exp, log, multiply, negative, ones_like, reciprocal, sign, square, subtract,
                   where, xlogy)

__all__ = [
    "lgamma", "digamma", "polygamma", "erfinv", "ndtri", "igamma", "igammac", "betainc", "zeta", "bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e",
]

_LOW_PRECISION = (np.dtype(np.float16), np.dtype(bfloat16))


# --- forwards ------------------------------------------------------------------------
def _float_arrays(name, args):
    """``args`` as arrays of one float dtype to compute in, and the dtype of the result.

    Integers compute in float32 (as ``ef.erf``); float16/bfloat16 compute in float32 and
    come back in their own dtype; bool, complex and strings raise TypeError.
    """
    # the reference is an array when there is one: a NumPy scalar (``_coerce`` passes them
    # through) also has a dtype but would pick NumPy and scipy for a CuPy operand
    ref = next((a for a in args if hasattr(a, "dtype") and not isinstance(a, np.generic)),
               None)
    if ref is None:
        ref = next((a for a in args if hasattr(a, "dtype")), None)
    if ref is None:
        ref = np.asarray(args[0])
    dtype = ref.dtype
    if dtype in (np.float32, np.float64):
        compute, out = dtype, dtype
    elif dtype in _LOW_PRECISION:
        compute, out = np.dtype(np.float32), dtype
    elif dtype.kind in "iu":
        compute = out = np.dtype(np.float32)
    else:
        raise TypeError(f"{name}: expected a float tensor (float16, bfloat16, float32 or "
                        f"float64), got dtype {dtype}")
    xp = array_module(ref)
    arrays = [a.astype(compute, copy=False) if array_module(a) is xp and hasattr(a, "ndim")
              and not isinstance(a, np.generic) else xp.asarray(a, dtype=compute)
              for a in args]
    return xp, arrays, out


def _scipy_fwd(name, fn_name):
    """A forward computing ``<special module>.<fn_name>(*args)`` on the inputs' device."""
    def fwd(xp, *args):
        xp, arrays, out = _float_arrays(name, args)
        return xp.asarray(getattr(special_module(arrays[0]), fn_name)(*arrays), dtype=out)
    fwd.__name__ = f"_{name}_fwd"
    return fwd


def _polygamma_fwd(xp, n, x):
    xp, (n, x), out = _float_arrays("polygamma", (n, x))
    with np.errstate(invalid="ignore"):  # scipy's (-1)**(n+1) for a non-integer n
        y = special_module(x).polygamma(n, x)
    # TF: NaN unless n is a non-negative integer
    y = xp.where((n < 0) | (xp.floor(n) != n), xp.nan, y)
    return xp.asarray(y, dtype=out)


# --- the derivative of igamma w.r.t. a (TF's IgammaGradA) ------------------------------
_EPS = np.finfo(np.float64).eps
_MAX_ITER = 2000
_BIG = 4.503599627370496e15  # Cephes' rescaling threshold of the continued fraction


def _converged(xp, step, total, active):
    return bool(xp.all((xp.abs(step) <= _EPS * xp.abs(total)) | ~active))


def _dp_da_series(xp, sp, a, x, active):
    """dP/da from P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)), for x <= max(a, 1).

    The terms ``c_n = c_{n-1} x / (a+n)`` are differentiated alongside (forward mode).
    """
    c, dc = xp.ones_like(x), xp.zeros_like(x)
    s, ds = c.copy(), dc.copy()
    r = a.copy()
    for i in range(_MAX_ITER):
        r += 1.0
        t = x / r
        dc = t * (dc - c / r)
        c = c * t
        s += c
        ds += dc
        if i % 8 == 7 and _converged(xp, dc, ds, active) and _converged(xp, c, s, active):
            break
    logx = xp.log(x)
    ax = xp.exp(a * logx - x - sp.gammaln(a + 1.0))
    return ax * (ds + s * (logx - sp.digamma(a + 1.0)))


def _dq_da_fraction(xp, sp, a, x, active):
    """dQ/da from Q = x^a e^-x / Gamma(a) * CF, Cephes' continued fraction of ``igamc``
    (for x > max(a, 1)), each convergent ``p_k / q_k`` differentiated alongside."""
    y = 1.0 - a
    z = x + y + 1.0
    p2, q2, p1, q1 = xp.ones_like(x), x.copy(), x + 1.0, z * x
    dp2, dq2, dp1, dq1 = xp.zeros_like(x), xp.zeros_like(x), xp.zeros_like(x), -x
    ans = p1 / q1
    dans = (dp1 - ans * dq1) / q1
    for k in range(1, _MAX_ITER + 1):
        y = y + 1.0
        z = z + 2.0
        yk = y * k
        p = p1 * z - p2 * yk
        q = q1 * z - q2 * yk
        dp = dp1 * z - p1 - dp2 * yk + p2 * k  # d(y*k)/da = -k, dz/da = -1
        dq = dq1 * z - q1 - dq2 * yk + q2 * k
        ok = q != 0
        qs = xp.where(ok, q, 1.0)
        new = xp.where(ok, p / qs, ans)
        dnew = xp.where(ok, (dp - new * dq) / qs, dans)
        step, ans, dans = dnew - dans, new, dnew
        p2, q2, p1, q1, dp2, dq2, dp1, dq1 = p1, q1, p, q, dp1, dq1, dp, dq
        scale = xp.where(xp.abs(p) > _BIG, 1.0 / _BIG, 1.0)
        p2, q2, p1, q1 = p2 * scale, q2 * scale, p1 * scale, q1 * scale
        dp2, dq2, dp1, dq1 = dp2 * scale, dq2 * scale, dp1 * scale, dq1 * scale
        if k % 8 == 0 and _converged(xp, step, dans, active):
            break
    logx = xp.log(x)
    ax = xp.exp(a * logx - x - sp.gammaln(a))
    return ax * (dans + ans * (logx - sp.digamma(a)))


def _igamma_grad_a_fwd(xp, a, x):
    xp, (a, x), out = _float_arrays("igamma_grad_a", (a, x))
    sp = special_module(a)
    a, x = xp.broadcast_arrays(a.astype(np.float64), x.astype(np.float64))
    valid = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    use_cf = valid & (x > 1.0) & (x > a)
    use_series = valid & ~use_cf
    a_safe = xp.where(valid, a, 1.0)
    # each branch gets harmless stand-ins where the other one applies
    series = _dp_da_series(xp, sp, a_safe, xp.where(use_series, x, 0.5), use_series)
    cf = _dq_da_fraction(xp, sp, a_safe, xp.where(use_cf, x, a_safe + 2.0), use_cf)
    g = xp.where(use_cf, -cf, series)
    # P(a, 0) = 0 and P(a, inf) = 1 for every a > 0: flat in a; NaN outside the domain
    flat = (a > 0) & xp.isfinite(a) & ((x == 0) | (x == xp.inf))
    g = xp.where(valid, g, xp.where(flat, 0.0, xp.nan))
    return xp.asarray(g, dtype=out)


# --- registration --------------------------------------------------------------------
_SQRT_PI_OVER_2 = _pymath.sqrt(_pymath.pi) / 2.0
_SQRT_2PI = _pymath.sqrt(2.0 * _pymath.pi)


def _tensors_like(g, *values):
    """Non-tensor op inputs (Python scalars, arrays) as tensors of the gradient's dtype."""
    xp = array_module(g._data)
    return [v if isinstance(v, Tensor) else _wrap(xp.asarray(v, dtype=g.dtype))
            for v in values]


def _binary_op(name, fwd, *vjps):
    op = register(name, fwd)
    if vjps:
        defvjp(op, *vjps)
    return op


def _lgamma_dx(g, ans, x):
    return multiply(g, digamma(x))


def _digamma_dx(g, ans, x):
    return multiply(g, polygamma(1.0, x))


def _polygamma_dx(g, ans, n, x):
    n, x = _tensors_like(g, n, x)
    return multiply(g, polygamma(add(n, 1.0), x))


def _igamma_da(g, ans, a, x):
    a, x = _tensors_like(g, a, x)
    return multiply(g, igamma_grad_a(a, x))


def _igamma_dx(g, ans, a, x):
    a, x = _tensors_like(g, a, x)
    # in log space: Gamma(a) and x^(a-1) can be huge on their own
    return multiply(g, exp(subtract(subtract(multiply(subtract(a, 1.0), log(x)), x),
                                    lgamma(a))))


def _negated(fn):
    return lambda g, ans, a, x: negative(fn(g, ans, a, x))


def _zeta_dq(g, ans, x, q):
    x, q = _tensors_like(g, x, q)
    return multiply(g, multiply(negative(x), zeta(add(x, 1.0), q)))


def _betainc_dx(g, ans, a, b, x):
    a, b, x = _tensors_like(g, a, b, x)
    log_beta = subtract(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    # xlogy keeps the a == 1 / b == 1 tails at zero (TF uses xlog1py(b - 1, -x))
    log_dx = subtract(add(xlogy(subtract(b, 1.0), subtract(1.0, x)),
                          xlogy(subtract(a, 1.0), x)), log_beta)
    return unbroadcast(multiply(g, exp(log_dx)), x.shape)


def _safe_x(x):
    """(x == 0, x with zeros replaced by ones) for gradients that divide by x."""
    zero = equal(x, 0.0)
    return zero, where(zero, ones_like(x), x)


def _bessel_i1_dx(g, ans, x):
    zero, safe = _safe_x(x)  # d i1 / dx = 1 at x = 0, where i0 - i1/x is 0/0
    return multiply(g, where(zero, ones_like(x), subtract(bessel_i0(x), divide(ans, safe))))


def _bessel_i1e_dx(g, ans, x):
    zero, safe = _safe_x(x)  # 1/2 at x = 0
    d = subtract(bessel_i0e(x), multiply(ans, add(sign(x), reciprocal(safe))))
    return multiply(g, where(zero, multiply(ones_like(x), 0.5), d))


def _doc(tf_name, text, example):
    return (f"{text} (``tf.math.{tf_name}``).\n\n    Example:\n        >>> import eagerflow "
            f"as ef\n        {example}\n")


lgamma = _unary("lgamma", _scipy_fwd("lgamma", "gammaln"), _lgamma_dx, _doc(
    "lgamma", "``log(|Gamma(x)|)`` elementwise; gradient ``digamma(x)``",
    ">>> round(float(ef.math.lgamma(ef.constant(0.5))), 6)  # log(sqrt(pi))\n        0.572365"))
digamma = _unary("digamma", _scipy_fwd("digamma", "digamma"), _digamma_dx, _doc(
    "digamma", "``psi(x) = d/dx lgamma(x)`` elementwise; gradient ``polygamma(1, x)``",
    ">>> round(float(ef.math.digamma(ef.constant(1.0))), 6)  # -Euler's gamma\n        "
    "-0.577216"))
erfinv = _unary("erfinv", _scipy_fwd("erfinv", "erfinv"),
                lambda g, ans, x: multiply(g, multiply(_SQRT_PI_OVER_2, exp(square(ans)))),
                _doc("erfinv", "The inverse of ``erf`` on ``[-1, 1]`` (``+-inf`` at ``+-1``)",
                     ">>> float(ef.math.erfinv(ef.constant(0.0)))\n        0.0"))
ndtri = _unary("ndtri", _scipy_fwd("ndtri", "ndtri"),
               lambda g, ans, x: multiply(g, multiply(_SQRT_2PI,
                                                      exp(multiply(square(ans), 0.5)))),
               _doc("ndtri", "The standard normal quantile function (inverse of ``ndtr``)",
                    ">>> float(ef.math.ndtri(ef.constant(0.5)))\n        0.0"))
bessel_i0 = _unary("bessel_i0", _scipy_fwd("bessel_i0", "i0"),
                   lambda g, ans, x: multiply(g, bessel_i1(x)), _doc(
    "bessel_i0", "The modified Bessel function of order 0, ``I0(x)``",
    ">>> float(ef.math.bessel_i0(ef.constant(0.0)))\n        1.0"))
bessel_i0e = _unary("bessel_i0e", _scipy_fwd("bessel_i0e", "i0e"),
                    lambda g, ans, x: multiply(g, subtract(bessel_i1e(x),
                                                           multiply(sign(x), ans))), _doc(
    "bessel_i0e", "The exponentially scaled ``I0``: ``exp(-|x|) * I0(x)``",
    ">>> float(ef.math.bessel_i0e(ef.constant(0.0)))\n        1.0"))
bessel_i1 = _unary("bessel_i1", _scipy_fwd("bessel_i1", "i1"), _bessel_i1_dx, _doc(
    "bessel_i1", "The modified Bessel function of order 1, ``I1(x)``",
    ">>> float(ef.math.bessel_i1(ef.constant(0.0)))\n        0.0"))
bessel_i1e = _unary("bessel_i1e", _scipy_fwd("bessel_i1e", "i1e"), _bessel_i1e_dx, _doc(
    "bessel_i1e", "The exponentially scaled ``I1``: ``exp(-|x|) * I1(x)``",
    ">>> float(ef.math.bessel_i1e(ef.constant(0.0)))\n        0.0"))

_polygamma = _binary_op("polygamma", _polygamma_fwd, None, _uby(_polygamma_dx))
_igamma_grad_a = _binary_op("igamma_grad_a", _igamma_grad_a_fwd)  # TF: not differentiable
_igamma = _binary_op("igamma", _scipy_fwd("igamma", "gammainc"), _ub(_igamma_da),
                     _uby(_igamma_dx))
_igammac = _binary_op("igammac", _scipy_fwd("igammac", "gammaincc"),
                      _ub(_negated(_igamma_da)), _uby(_negated(_igamma_dx)))
_zeta = _binary_op("zeta", _scipy_fwd("zeta", "zeta"), None, _uby(_zeta_dq))
_betainc = _binary_op("betainc", _scipy_fwd("betainc", "betainc"), None, None, _betainc_dx)


def polygamma(a, x, name=None):
    """The ``a``-th derivative of ``digamma`` at ``x``, elementwise with broadcasting
    (``tf.math.polygamma``).

    ``a`` must hold non-negative integers (as floats); other values give NaN. The gradient
    w.r.t. ``x`` is ``polygamma(a + 1, x)``; ``a`` has none (as in TF).

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.polygamma(1.0, ef.constant(1.0))), 6)  # pi^2 / 6
        1.644934
    """
    return _run_binary(_polygamma, a, x)


def igamma(a, x, name=None):
    """The regularized lower incomplete gamma function ``P(a, x)`` (``tf.math.igamma``).

    Differentiable w.r.t. both ``a`` (through :func:`igamma_grad_a`) and ``x``.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.igamma(1.0, ef.constant(1.0))), 6)  # 1 - exp(-1)
        0.632121
    """
    return _run_binary(_igamma, a, x)


def igammac(a, x, name=None):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``
    (``tf.math.igammac``), differentiable w.r.t. ``a`` and ``x``.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.igammac(1.0, ef.constant(1.0))), 6)  # exp(-1)
        0.367879
    """
    return _run_binary(_igammac, a, x)


def igamma_grad_a(a, x, name=None):
    """``d igamma(a, x) / da`` (TF's ``raw_ops.IgammaGradA``), itself not differentiable.

    Computed in float64 by differentiating the series of ``P`` (``x <= max(a, 1)``) or the
    continued fraction of ``Q`` (otherwise) term by term.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow.ops.special import igamma_grad_a
        >>> round(float(igamma_grad_a(1.0, ef.constant(1.0))), 6)
        -0.43173
    """
    return _run_binary(_igamma_grad_a, a, x)


def zeta(x, q, name=None):
    """The Hurwitz zeta function ``sum_n (n + q)^-x`` (``tf.math.zeta``), with broadcasting.

    The gradient w.r.t. ``q`` is ``-x * zeta(x + 1, q)``; ``x`` has none (as in TF).

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.zeta(ef.constant(2.0), 1.0)), 6)  # pi^2 / 6
        1.644934
    """
    return _run_binary(_zeta, x, q)


def betainc(a, b, x, name=None):
    """The regularized incomplete beta function ``I_x(a, b)`` (``tf.math.betainc``), with
    broadcasting.

    Only ``x`` has a gradient; ``a`` and ``b`` get None (as in TF).

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.math.betainc(2.0, 3.0, ef.constant(0.5))), 6)
        0.6875
    """
    if not any(isinstance(v, Tensor) for v in (a, b, x)):
        x = _wrap(_to_array(x))  # all Python values: x decides the dtype, as TF's would
    args = (a, b, x)
    ref = next(v for v in args if isinstance(v, Tensor))
    arrays = [ref._data if v is ref else _operands("betainc", ref, v)[1] for v in args]
    try:
        out = _wrap(_betainc.forward(None, *arrays))
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        shapes = ", ".join(str(tuple(np.shape(v))) for v in arrays)
        raise ValueError(f"betainc: shapes {shapes} are not broadcast-compatible") from None
    for r in recorders_state.recorders:
        r.record(_betainc, args, out, {})
    return out
