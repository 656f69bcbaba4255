"""Special functions (tf.math.lgamma ... bessel_i1e): values against scipy.special on the
host, known values, dtype rules, broadcasting, and float64 gradient checks."""
import math

import numpy as np
import pytest
import scipy.special as sp

import eagerflow as ef
from eagerflow.ops.special import igamma_grad_a
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(7)


def rand(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape)


def ints(*shape, hi=4):
    return R.integers(0, hi, size=shape).astype(np.float64)


POS = dict(lo=0.3, hi=4.0)
UNIT = dict(lo=-0.95, hi=0.95)
PROB = dict(lo=0.02, hi=0.98)
WIDE = dict(lo=-4.0, hi=4.0)

UNARY = [
    # name, scipy reference, input domain
    ("lgamma", sp.gammaln, dict(lo=-3.5, hi=6.0)), ("digamma", sp.digamma, POS),
    ("erfinv", sp.erfinv, UNIT), ("ndtri", sp.ndtri, PROB), ("bessel_i0", sp.i0, WIDE),
    ("bessel_i0e", sp.i0e, WIDE), ("bessel_i1", sp.i1, WIDE), ("bessel_i1e", sp.i1e, WIDE),
]

BINARY = [
    # name, scipy reference, first-argument sampler, second-argument domain
    ("polygamma", sp.polygamma, ints, POS), ("igamma", sp.gammainc, rand, dict(lo=0.05, hi=8)),
    ("igammac", sp.gammaincc, rand, dict(lo=0.05, hi=8)), ("zeta", sp.zeta, rand, POS),
]
FIRST = {"polygamma": {}, "igamma": POS, "igammac": POS, "zeta": dict(lo=1.5, hi=5.0)}


def first_arg(name, *shape):
    sampler = next(s for n, _, s, _ in BINARY if n == name)
    return sampler(*shape, **FIRST[name])


def fn(name):
    return getattr(ef.math, name)


A3, B3 = rand(3, 1, lo=0.5, hi=3.0), rand(4, lo=0.5, hi=3.0)
N3, ZX = ints(3, 1), rand(3, 1, lo=1.5, hi=4.0)

GRAD_CASES = (
    [GradCase(n, fn(n), rand(3, 4, **dom)) for n, _, dom in UNARY]
    + [
        GradCase("polygamma", lambda x: ef.math.polygamma(tensor(N3), x), rand(4, **POS),
                 id="polygamma-x-bcast"),
        GradCase(["igamma"], ef.math.igamma, rand(3, 1, **POS), rand(4, lo=0.1, hi=6.0),
                 id="igamma-a-and-x-bcast"),
        GradCase(["igammac"], ef.math.igammac, rand(3, 1, **POS), rand(4, lo=0.1, hi=6.0),
                 id="igammac-a-and-x-bcast"),
        GradCase("zeta", lambda q: ef.math.zeta(tensor(ZX), q), rand(4, **POS),
                 id="zeta-q-bcast"),
        GradCase("betainc", lambda x: ef.math.betainc(tensor(A3), tensor(B3), x),
                 rand(4, lo=0.1, hi=0.9), id="betainc-x-bcast"),
        # second order: each gradient is itself made of differentiable ops
        GradCase(["lgamma", "digamma"], ef.math.lgamma, rand(4, **POS), order=2),
        GradCase(["digamma", "polygamma"], ef.math.digamma, rand(4, **POS), order=2),
        GradCase("erfinv", ef.math.erfinv, rand(4, lo=-0.8, hi=0.8), order=2),
        GradCase("ndtri", ef.math.ndtri, rand(4, lo=0.1, hi=0.9), order=2),
        GradCase(["bessel_i0", "bessel_i1"], ef.math.bessel_i0, rand(4, **WIDE), order=2),
        GradCase(["bessel_i1", "bessel_i0"], ef.math.bessel_i1, rand(4, **WIDE), order=2),
        GradCase(["bessel_i0e", "bessel_i1e"], ef.math.bessel_i0e, rand(4, lo=0.2, hi=3),
                 order=2),
        GradCase(["bessel_i1e", "bessel_i0e"], ef.math.bessel_i1e, rand(4, lo=-3, hi=-0.2),
                 order=2),
        GradCase("igamma", lambda x: ef.math.igamma(tensor(A3), x), rand(4, lo=0.2, hi=5),
                 order=2, id="igamma-x-order2"),
        GradCase("zeta", lambda q: ef.math.zeta(tensor(ZX), q), rand(4, **POS), order=2,
                 id="zeta-q-order2"),
        GradCase("betainc", lambda x: ef.math.betainc(tensor(A3), tensor(B3), x),
                 rand(4, lo=0.2, hi=0.8), order=2, id="betainc-x-order2"),
    ]
)


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,ref,dom", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_matches_scipy(name, ref, dom, dtype):
    x = rand(4, 5, **dom).astype(dtype)
    out = fn(name)(tensor(x))
    assert out.dtype == dtype and out.shape == (4, 5)
    np.testing.assert_allclose(to_numpy(out), ref(x.astype(np.float64)), **tol(dtype))


@pytest.mark.parametrize("name,ref,sampler,dom", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_matches_scipy_with_broadcasting(name, ref, sampler, dom, dtype):
    a = first_arg(name, 2, 1, 3).astype(dtype)
    x = rand(4, 1, **dom).astype(dtype)
    out = fn(name)(tensor(a), tensor(x))
    assert out.dtype == dtype and out.shape == (2, 4, 3)
    want = ref(a.astype(np.float64), x.astype(np.float64))
    np.testing.assert_allclose(to_numpy(out), want, **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_betainc_matches_scipy_with_broadcasting(dtype):
    a, b = rand(2, 1, 1, **POS).astype(dtype), rand(3, 1, **POS).astype(dtype)
    x = rand(4, lo=0.0, hi=1.0).astype(dtype)
    out = ef.math.betainc(tensor(a), tensor(b), tensor(x))
    assert out.dtype == dtype and out.shape == (2, 3, 4)
    want = sp.betainc(*(v.astype(np.float64) for v in (a, b, x)))
    np.testing.assert_allclose(to_numpy(out), want, **tol(dtype))


def test_known_values():
    def val(t):
        return to_numpy(t).tolist()

    f64 = lambda *v: tensor(np.array(v, np.float64))  # noqa: E731
    np.testing.assert_allclose(val(ef.math.lgamma(f64(0.5, 1.0, 2.0, 5.0))),
                               [math.log(math.sqrt(math.pi)), 0.0, 0.0, math.log(24.0)],
                               atol=1e-15)
    euler_gamma = 0.5772156649015329
    np.testing.assert_allclose(val(ef.math.digamma(f64(1.0))), [-euler_gamma], rtol=1e-15)
    assert val(ef.math.erfinv(f64(0.0, 1.0, -1.0))) == [0.0, math.inf, -math.inf]
    assert val(ef.math.ndtri(f64(0.5, 0.0, 1.0))) == [0.0, -math.inf, math.inf]
    np.testing.assert_allclose(val(ef.math.zeta(f64(2.0), f64(1.0))), [math.pi ** 2 / 6],
                               rtol=1e-15)
    np.testing.assert_allclose(val(ef.math.polygamma(f64(1.0), f64(1.0))),
                               [math.pi ** 2 / 6], rtol=1e-14)
    np.testing.assert_allclose(val(ef.math.igamma(f64(1.0), f64(2.0))), [1 - math.exp(-2)],
                               rtol=1e-15)
    np.testing.assert_allclose(val(ef.math.igammac(f64(1.0), f64(2.0))), [math.exp(-2)],
                               rtol=1e-15)
    np.testing.assert_allclose(val(ef.math.betainc(f64(1.0), f64(1.0), f64(0.3))), [0.3],
                               rtol=1e-15)
    assert val(ef.math.bessel_i0(f64(0.0))) == [1.0]
    assert val(ef.math.bessel_i1e(f64(0.0))) == [0.0]


def test_polygamma_is_nan_unless_the_order_is_a_non_negative_integer():
    out = ef.math.polygamma(tensor([0.0, 2.0, 1.5, -1.0]), tensor(np.full(4, 1.0)))
    got = to_numpy(out)
    np.testing.assert_allclose(got[:2], [sp.digamma(1.0), sp.polygamma(2, 1.0)], rtol=1e-14)
    assert np.isnan(got[2:]).all()


@pytest.mark.parametrize("dtype", [ef.float16, ef.bfloat16])
def test_low_precision_floats_keep_their_dtype(dtype):
    x = np.array([0.5, 1.5, 3.0])
    out = ef.math.lgamma(tensor(x.astype(dtype)))
    assert out.dtype == dtype
    np.testing.assert_allclose(to_numpy(out).astype(np.float64), sp.gammaln(x), rtol=1e-2,
                               atol=1e-2)


def test_integer_inputs_are_computed_in_float32_as_erf_does():
    i = tensor(np.array([1, 2, 3], np.int32))
    assert ef.erf(i).dtype == np.float32  # the rule these ops follow
    out = ef.math.lgamma(i)
    assert out.dtype == np.float32
    np.testing.assert_allclose(to_numpy(out), sp.gammaln([1.0, 2.0, 3.0]), atol=1e-6)
    out = ef.math.igamma(tensor(np.array([1, 2], np.int64)), tensor(np.array([1, 1], np.int64)))
    assert out.dtype == np.float32
    np.testing.assert_allclose(to_numpy(out), sp.gammainc([1, 2], [1, 1]), rtol=1e-6)


@pytest.mark.parametrize("value,dtype_name", [
    (np.array([True, False]), "bool"), (np.array([1 + 1j]), "complex128"),
    (np.array(["a"], dtype=object), "object")])
@pytest.mark.parametrize("op", ["lgamma", "bessel_i1e", "igamma", "betainc"])
def test_non_float_dtypes_raise_naming_the_dtype(op, value, dtype_name):
    t = ef.constant(value)
    args = {"igamma": (t, t), "betainc": (t, t, t)}.get(op, (t,))
    with pytest.raises(TypeError, match=f"{op}: expected a float tensor.*{dtype_name}"):
        fn(op)(*args)


def test_mixed_dtypes_and_shapes_raise_like_binary_ops():
    x32, x64 = tensor(np.ones(3, np.float32)), tensor(np.ones(3))
    with pytest.raises(TypeError, match="igamma: x has dtype float32 but y has dtype float64"):
        ef.math.igamma(x32, x64)
    with pytest.raises(TypeError, match="float64"):
        ef.math.betainc(x32, x32, x64)
    with pytest.raises(ValueError, match=r"zeta: shapes \(3,\) and \(2,\)"):
        ef.math.zeta(x64, tensor(np.ones(2)))
    with pytest.raises(ValueError, match=r"betainc: shapes \(3,\), \(3,\), \(2,\)"):
        ef.math.betainc(x64, x64, tensor(np.ones(2)))


def test_python_scalars_take_the_tensor_dtype():
    x32 = tensor(np.array([0.5, 2.0], np.float32))
    for out in (ef.math.polygamma(1, x32), ef.math.igamma(2.0, x32), ef.math.zeta(3.0, x32),
                ef.math.betainc(2.0, 3.0, x32)):
        assert out.dtype == np.float32
    np.testing.assert_allclose(to_numpy(ef.math.polygamma(1, x32)), sp.polygamma(1, [0.5, 2.0]),
                               rtol=1e-6)
    assert ef.math.betainc(2.0, 3.0, 0.5).dtype == np.float32  # Python floats: float32


def test_numpy_scalar_operands_follow_the_tensor_device():
    """A NumPy scalar next to a tensor (the binary ops pass them through) is made an array
    of the tensor's module: on CuPy the scalar must not pick NumPy and scipy.special."""
    from eagerflow.backend import array_module
    from eagerflow.ops.special import _float_arrays
    x = ef.constant(np.array([0.5, 2.0], np.float32))
    xp, arrays, out = _float_arrays("igamma", (np.float32(2.0), x._data))
    assert xp is array_module(x._data) and out == np.float32
    assert all(array_module(a) is xp and not isinstance(a, np.generic) for a in arrays)
    for got in (ef.math.igamma(np.float32(2.0), x), ef.math.polygamma(np.float32(1.0), x),
                ef.math.betainc(np.float32(2.0), np.float32(3.0), x)):
        assert got.dtype == np.float32
    np.testing.assert_allclose(to_numpy(ef.math.igamma(np.float32(2.0), x)),
                               sp.gammainc(2.0, [0.5, 2.0]), rtol=1e-6)


def test_empty_inputs():
    e = tensor(np.zeros((0, 3)))
    for name, _, _ in UNARY:
        assert fn(name)(e).shape == (0, 3)
    for name, _, _, _ in BINARY:
        assert fn(name)(e, tensor(np.ones(3))).shape == (0, 3)
    assert ef.math.betainc(e, 1.0, 0.5).shape == (0, 3)
    assert to_numpy(igamma_grad_a(e, e)).shape == (0, 3)
    with ef.GradientTape() as t:
        t.watch(e)
        y = ef.reduce_sum(ef.math.igamma(e, e))
    assert to_numpy(t.gradient(y, e)).shape == (0, 3)


def test_igamma_grad_a_matches_a_finite_difference_on_both_branches():
    # the series (x <= max(a, 1)) and the continued fraction (x > max(a, 1)), small to large
    a = np.array([0.05, 0.5, 1.0, 2.5, 10.0, 80.0, 0.3, 1.5, 4.0, 30.0, 200.0])
    x = np.array([0.01, 0.4, 1.0, 2.0, 9.0, 75.0, 1.7, 6.0, 20.0, 45.0, 260.0])
    h = 1e-5 * a
    fd = (sp.gammainc(a - 2 * h, x) - 8 * sp.gammainc(a - h, x) + 8 * sp.gammainc(a + h, x)
          - sp.gammainc(a + 2 * h, x)) / (12 * h)
    got = to_numpy(igamma_grad_a(tensor(a), tensor(x)))
    np.testing.assert_allclose(got, fd, rtol=1e-6)
    with ef.GradientTape(persistent=True) as t:
        ta, tx = tensor(a), tensor(x)
        t.watch([ta, tx])
        lower = ef.reduce_sum(ef.math.igamma(ta, tx))
        upper = ef.reduce_sum(ef.math.igammac(ta, tx))
    np.testing.assert_allclose(to_numpy(t.gradient(lower, ta)), fd, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(t.gradient(upper, ta)), -fd, rtol=1e-6)


def test_igamma_grad_a_edges():
    a = tensor(np.array([1.0, 2.0, 0.0, -1.0, 1.0, np.nan]))
    x = tensor(np.array([0.0, np.inf, 1.0, 1.0, -1.0, 1.0]))
    got = to_numpy(igamma_grad_a(a, x))
    assert got[:2].tolist() == [0.0, 0.0]
    assert np.isnan(got[2:]).all()
    out32 = igamma_grad_a(tensor(np.array([1.0], np.float32)), tensor(np.array([1.0], np.float32)))
    assert out32.dtype == np.float32


def test_ops_without_a_tf_gradient_give_none():
    """TF has no gradient for polygamma's order, zeta's x, betainc's a and b."""
    a, b, x = tensor([2.0]), tensor([3.0]), tensor([0.5])
    with ef.GradientTape(persistent=True) as t:
        t.watch([a, b, x])
        poly = ef.math.polygamma(a, b)
        z = ef.math.zeta(b, x)
        beta = ef.math.betainc(a, b, x)
    assert t.gradient(poly, a) is None and t.gradient(z, b) is None
    ga, gb, gx = t.gradient(beta, [a, b, x])
    assert ga is None and gb is None
    want = sp.beta(2.0, 3.0) ** -1 * 0.5 * 0.5 ** 2  # x^(a-1) (1-x)^(b-1) / B(a, b)
    np.testing.assert_allclose(to_numpy(gx), [want], rtol=1e-6)


def test_bessel_i1_gradients_at_zero():
    x = tensor(np.array([0.0, 1.0]))
    with ef.GradientTape(persistent=True) as t:
        t.watch(x)
        i1, i1e = ef.reduce_sum(ef.math.bessel_i1(x)), ef.reduce_sum(ef.math.bessel_i1e(x))
    g1, g1e = to_numpy(t.gradient(i1, x)), to_numpy(t.gradient(i1e, x))
    assert g1[0] == 1.0 and g1e[0] == 0.5
    np.testing.assert_allclose(g1[1], sp.i0(1.0) - sp.i1(1.0), rtol=1e-12)
    np.testing.assert_allclose(g1e[1], sp.i0e(1.0) - 2 * sp.i1e(1.0), rtol=1e-12)


def test_float32_gradients_stay_float32():
    x = tensor(np.array([0.5, 1.5], np.float32))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(ef.math.lgamma(x) + ef.math.igamma(2.0, x) + ef.math.igamma(x, 1.0))
    g = t.gradient(y, x)
    assert g.dtype == np.float32
    want = sp.digamma([0.5, 1.5]) + np.exp(-np.array([0.5, 1.5])) * [0.5, 1.5]
    h = 1e-6
    want += (sp.gammainc([0.5 + h, 1.5 + h], 1.0) - sp.gammainc([0.5 - h, 1.5 - h], 1.0)) / (2 * h)
    np.testing.assert_allclose(to_numpy(g), want, rtol=1e-4)


def test_names_and_aliases():
    for name in ("lgamma", "digamma", "polygamma", "igamma", "igammac", "betainc", "zeta"):
        assert getattr(ef, name) is getattr(ef.math, name)  # TF1 top-level spellings
    for name in ("bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e"):
        assert getattr(ef.math.special, name) is getattr(ef.math, name)
    assert set(ef.math.special.__all__) <= set(ef.math.__all__)
    from eagerflow.autograd.registry import get
    assert get("lgamma").forward.__module__ == "eagerflow.ops.special"  # found by export
