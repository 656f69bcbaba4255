"""tf.math additions of eagerflow/ops/math_extra.py: complex parts, in_top_k,
invert_permutation, monotonicity checks, lbeta, reciprocal_no_nan, reduce_euclidean_norm,
softsign, xlog1py, accumulate_n, erfcinv.

Values come from NumPy/scipy references and TensorFlow's documented examples; every
differentiable op has a float64 finite-difference check (``GRAD_CASES``). Complex gradients
are checked through ``complex(a, b)`` of real inputs (check_grads takes float64 arrays) and,
separately, against TF's formulas on complex sources.
"""
import doctest
import math

import numpy as np
import pytest
import scipy.special as sp

import eagerflow as ef
from eagerflow.errors import InvalidArgumentError
from eagerflow.ops import math_extra
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(11)
M = ef.math


def rand(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape)


def away_from_zero(*shape):
    return R.uniform(0.5, 2.0, size=shape) * R.choice([-1.0, 1.0], size=shape)


def parts(z):
    return M.real(z), M.imag(z)


GRAD_CASES = [
    GradCase(["complex", "angle"], lambda a, b: M.angle(M.complex(a, b)),
             away_from_zero(3, 4), away_from_zero(3, 4)),
    GradCase(["complex", "real", "imag"], lambda a, b: parts(M.complex(a, b)),
             rand(3, 1), rand(4), id="complex-bcast-real-imag"),
    GradCase(["conj", "complex", "real", "imag"], lambda a, b: parts(M.conj(M.complex(a, b))),
             rand(2, 3), rand(2, 3), id="conj"),
    GradCase(["complex", "angle", "real", "imag"], lambda a, b: M.angle(M.complex(a, b)),
             away_from_zero(5), away_from_zero(5), order=2, id="angle-order2"),
    GradCase(["complex", "real", "imag", "conj"],
             lambda a, b: M.imag(M.conj(M.complex(a, b))) * M.real(M.complex(b, a)),
             rand(4), rand(4), order=2, id="complex-parts-order2"),
    GradCase("reduce_euclidean_norm", lambda x: M.reduce_euclidean_norm(x, axis=1),
             rand(3, 4), order=2),
    GradCase("reduce_euclidean_norm",
             lambda x: M.reduce_euclidean_norm(x, axis=(0, 2), keepdims=True), rand(2, 3, 2),
             id="reduce_euclidean_norm-keepdims"),
    GradCase("reduce_euclidean_norm", M.reduce_euclidean_norm, rand(3, 2),
             id="reduce_euclidean_norm-all"),
    GradCase(["reduce_euclidean_norm", "complex", "real"],
             lambda a, b: M.real(M.reduce_euclidean_norm(M.complex(a, b), axis=0)),
             rand(3, 2), rand(3, 2), id="reduce_euclidean_norm-complex"),
    GradCase("softsign", M.softsign, rand(3, 4), order=2),
    GradCase("xlog1py", M.xlog1py, away_from_zero(3, 1), rand(4, lo=-0.8, hi=3.0), order=2,
             id="xlog1py-bcast-order2"),
    GradCase("xlog1py", lambda y: M.xlog1py(2.5, y), rand(4, lo=-0.5, hi=2.0),
             id="xlog1py-scalar-x"),
    GradCase(["lgamma", "reduce_sum"], M.lbeta, rand(2, 3, lo=0.3, hi=4.0), order=2,
             id="lbeta"),
    GradCase("divide_no_nan", M.reciprocal_no_nan, away_from_zero(3, 4), order=2,
             id="reciprocal_no_nan"),
    GradCase("ndtri", M.erfcinv, rand(4, lo=0.2, hi=1.8), order=2, id="erfcinv"),
    GradCase("add", lambda a, b, c: M.accumulate_n([a, b, c]), rand(2, 3), rand(2, 3),
             rand(2, 3), id="accumulate_n"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def val(t):
    return to_numpy(t)


def c(values, dtype=np.complex128):
    return tensor(np.asarray(values, dtype=dtype))


# --- namespaces and docs -----------------------------------------------------------------
def test_every_name_is_in_tf_math_and_top_level_only_complex():
    for n in math_extra.__all__:
        assert getattr(ef.math, n) is getattr(math_extra, n)
    assert math_extra.TOP_LEVEL == ["complex"]
    assert ef.complex is ef.math.complex


def test_docstring_examples():
    assert doctest.testmod(math_extra).failed == 0


# --- complex / real / imag / conj / angle ----------------------------------------------------
@pytest.mark.parametrize("dtype,want", [(np.float32, np.complex64), (np.float64, np.complex128)])
def test_complex_dtypes_and_broadcasting(dtype, want):
    re, im = rand(3, 1).astype(dtype), rand(4).astype(dtype)
    out = M.complex(tensor(re), tensor(im))
    assert out.dtype == want and out.shape == (3, 4)
    np.testing.assert_array_equal(val(out), re + 1j * im.astype(want))


def test_complex_conversions_and_errors():
    assert M.complex(1.0, 2.0).dtype == np.complex64  # Python floats are float32, as TF's
    assert val(M.complex([1.0], [2.0])).tolist() == [1 + 2j]
    f64 = tensor(np.array([2.0]))
    with pytest.raises(TypeError, match="float32 or both float64.*float32 and float64"):
        M.complex(1.0, f64)  # TF converts each part on its own: float32 vs float64
    with pytest.raises(TypeError, match="real and imag"):
        M.complex(tensor(np.array([1], np.int32)), tensor(np.array([1], np.int32)))
    with pytest.raises(InvalidArgumentError, match="broadcast"):
        M.complex(tensor(rand(3)), tensor(rand(4)))
    # infinite parts stay where they are (re + 1j * im would give a NaN real part)
    z = val(M.complex(tensor(np.array([1.0, np.inf])), tensor(np.array([np.inf, -np.inf]))))
    assert z.real.tolist() == [1.0, np.inf] and z.imag.tolist() == [np.inf, -np.inf]
    assert M.complex(tensor(np.zeros((0, 2))), 0.0 * tensor(np.zeros(2))).shape == (0, 2)


def test_real_imag_conj_angle_values():
    z = c([-2.25 + 4.75j, 3.25 + 5.75j], np.complex64)  # TF's docstring examples
    assert val(M.real(z)).tolist() == [-2.25, 3.25] and M.real(z).dtype == np.float32
    assert val(M.imag(z)).tolist() == [4.75, 5.75] and M.imag(z).dtype == np.float32
    assert val(M.conj(z)).tolist() == [-2.25 - 4.75j, 3.25 - 5.75j]
    np.testing.assert_allclose(val(M.angle(z)), [2.0131705, 1.056345], rtol=1e-6)
    assert M.angle(z).dtype == np.float32
    w = R.standard_normal(6) + 1j * R.standard_normal(6)
    np.testing.assert_allclose(val(M.angle(c(w))), np.angle(w), rtol=1e-15)  # atan2: 1 ulp
    np.testing.assert_array_equal(val(M.conj(c(w))), np.conj(w))
    assert M.real(c(w)).dtype == np.float64


def test_real_inputs_follow_tf():
    x = tensor(np.array([-1.5, 0.0, 2.0, np.nan], np.float32))
    assert M.real(x) is x and M.conj(x) is x
    i = tensor(np.array([1, -2], np.int64))
    assert M.real(i) is i and M.conj(i) is i
    im = M.imag(x)
    assert im.dtype == np.float32 and val(im).tolist() == [0.0] * 4
    # angle of a real tensor: pi where negative, 0 elsewhere (NaN too), float dtype kept
    np.testing.assert_array_equal(val(M.angle(x)), np.array([np.pi, 0, 0, 0], np.float32))
    assert M.real([1.0, 2.0]).dtype == np.float32  # Python values convert as TF's
    b = tensor(np.array([True]))
    for fn, arg in ((M.real, "input"), (M.conj, "x")):
        with pytest.raises(TypeError, match=f"{arg} must be a numeric tensor"):
            fn(b)
    with pytest.raises(TypeError, match="angle: input must be a float or complex"):
        M.angle(i)


def _grad(fn, z):
    with ef.GradientTape() as tape:
        tape.watch(z)
        y = fn(z)
    return tape.gradient(y, z)


def test_complex_gradients_follow_tf_convention():
    """TF's math_grad.py: Real -> complex(g, 0), Imag -> complex(0, g), Conj -> conj(g),
    Angle -> -complex(g, 0) / complex(im, re); the gradient of a real loss is
    dL/dRe + 1j dL/dIm."""
    zs = np.array([1 + 1j, 3 - 4j, -2 + 0.5j])
    z = c(zs)
    assert val(_grad(M.real, z)).tolist() == [1 + 0j] * 3
    assert val(_grad(M.imag, z)).tolist() == [1j] * 3
    assert val(_grad(lambda t: M.imag(M.conj(t)), z)).tolist() == [-1j] * 3
    assert val(_grad(lambda t: M.real(M.conj(t)), z)).tolist() == [1 + 0j] * 3
    np.testing.assert_allclose(val(_grad(M.angle, z)), -1.0 / (zs.imag + 1j * zs.real),
                               rtol=1e-14)
    np.testing.assert_allclose(val(_grad(lambda t: M.real(M.reduce_euclidean_norm(t)), z)),
                               zs / np.sqrt(np.sum(np.abs(zs) ** 2)), rtol=1e-14)
    # complex(re, im) sends real(g) and imag(g) back
    re, im = tensor(np.array([1.0, 2.0])), tensor(np.array([3.0, -1.0]))
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([re, im])
        w = M.complex(re, im)
        loss = M.real(w) * 2.0 + M.imag(w) * 5.0
    assert val(tape.gradient(loss, re)).tolist() == [2.0, 2.0]
    assert val(tape.gradient(loss, im)).tolist() == [5.0, 5.0]
    g = val(tape.gradient(w, re, output_gradients=c([1 + 2j, 3 - 4j])))
    assert g.tolist() == [1.0, 3.0]


def test_real_input_parts_have_no_gradient():
    x = tensor(np.array([-1.0, 2.0]))
    assert _grad(M.imag, x) is None and _grad(M.angle, x) is None
    assert val(_grad(M.real, x)).tolist() == [1.0, 1.0]


# --- in_top_k ------------------------------------------------------------------------------
def ref_in_top_k(targets, predictions, k):
    out = []
    for t, row in zip(targets, predictions):
        if not 0 <= t < row.size or not np.all(np.isfinite(row)):
            out.append(False)
        else:
            out.append(int(np.sum(row > row[t])) < k)
    return out


def test_in_top_k_tf_example_and_reference():
    pred = tensor(np.array([[1.2, -0.3, 2.8, 5.2], [0.1, 0.0, 0.0, 0.0],
                            [0.0, 0.5, 0.3, 0.3]], np.float32))
    assert val(M.in_top_k(tensor(np.array([0, 1, 3], np.int32)), pred, 2)).tolist() == \
        [False, True, True]
    p = np.round(R.uniform(0, 3, size=(40, 6))).astype(np.float32)  # many ties
    t = R.integers(-1, 7, size=40)
    for k in (0, 1, 2, 6):
        got = M.in_top_k(tensor(t.astype(np.int64)), tensor(p), k)
        assert got.dtype == np.bool_ and val(got).tolist() == ref_in_top_k(t, p, k)


def test_in_top_k_ties_non_finite_and_range():
    p = np.array([[1.0, 1.0, 1.0], [1.0, np.nan, 0.0], [2.0, np.inf, 0.0],
                  [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)
    t = np.array([2, 0, 0, 3, -1], np.int32)
    # all tied: in the top 1; any NaN or inf in the row: False; target out of range: False
    assert val(M.in_top_k(tensor(t), tensor(p), 1)).tolist() == [True, False, False, False,
                                                                 False]
    k = tensor(np.array(3, np.int32))
    assert val(M.in_top_k(tensor(t), tensor(p), k)).tolist() == [True, False, False,
                                                                 False, False]
    empty = M.in_top_k(tensor(np.zeros(0, np.int32)), tensor(np.zeros((0, 3), np.float32)), 1)
    assert empty.shape == (0,)
    none = M.in_top_k(tensor(np.array([0], np.int32)), tensor(np.zeros((1, 0), np.float32)), 1)
    assert val(none).tolist() == [False]


def test_in_top_k_argument_errors():
    t, p = tensor(np.array([0, 1], np.int32)), tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="predictions must be float32"):
        M.in_top_k(t, tensor(np.zeros((2, 3))), 1)
    with pytest.raises(TypeError, match="targets must be int32 or int64"):
        M.in_top_k(p, p, 1)  # TF1's (predictions, targets) order is not guessed here
    with pytest.raises(ValueError, match=r"\(batch, classes\).*\(3,\)"):
        M.in_top_k(tensor(np.array([0, 1, 2], np.int32)), p, 1)
    with pytest.raises(ValueError, match="k must be a scalar"):
        M.in_top_k(t, p, tensor(np.array([1], np.int32)))
    with pytest.raises(TypeError, match="k must have the targets' dtype"):
        M.in_top_k(t, p, tensor(np.array(1, np.int64)))
    with pytest.raises(TypeError, match="k must be an int"):
        M.in_top_k(t, p, 1.5)


# --- invert_permutation ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_invert_permutation(dtype):
    assert val(M.invert_permutation([3, 4, 0, 2, 1])).tolist() == [2, 4, 3, 0, 1]  # TF's
    perm = R.permutation(50).astype(dtype)
    out = M.invert_permutation(tensor(perm))
    assert out.dtype == dtype
    np.testing.assert_array_equal(val(out), np.argsort(perm))
    assert M.invert_permutation(tensor(np.zeros(0, dtype))).shape == (0,)


def test_invert_permutation_errors():
    with pytest.raises(InvalidArgumentError, match=r"x\[2\] = 1 is duplicated"):
        M.invert_permutation([0, 1, 1, 5])
    with pytest.raises(InvalidArgumentError, match=r"x\[1\] = -1 is not between 0 and 3"):
        M.invert_permutation([0, -1, 0])
    with pytest.raises(InvalidArgumentError, match=r"x\[0\] = 3 is not between 0 and 3"):
        M.invert_permutation([3, 1, 1])
    with pytest.raises(TypeError, match="x must be int32 or int64"):
        M.invert_permutation([0.0, 1.0])
    with pytest.raises(ValueError, match="1-D"):
        M.invert_permutation([[0, 1]])


# --- is_non_decreasing / is_strictly_increasing ---------------------------------------------
@pytest.mark.parametrize("values,nd,si", [
    ([1, 1, 2], True, False), ([1, 2, 3], True, True), ([3, 2], False, False),
    ([], True, True), ([5], True, True), ([[1, 2], [2, 3]], True, False),
    ([[1, 2], [3, 4]], True, True), ([1.0, np.nan], False, False),
    ([-np.inf, 0.0, np.inf], True, True),
])
def test_monotonicity(values, nd, si):
    x = ef.constant(values)
    a, b = M.is_non_decreasing(x), M.is_strictly_increasing(x)
    assert a.shape == () and a.dtype == np.bool_
    assert bool(val(a)) is nd and bool(val(b)) is si


def test_monotonicity_uses_tf_differences():
    # TF tests x[1:] - x[:-1] in x's dtype: inf - inf is NaN, unsigned differences wrap
    assert bool(val(M.is_non_decreasing([np.inf, np.inf]))) is False
    assert bool(val(M.is_strictly_increasing(tensor(np.array([250, 3], np.uint8))))) is True
    for bad in (tensor(np.array([True, False])), c([1j, 2j])):
        with pytest.raises(TypeError, match="x must be a real numeric tensor"):
            M.is_non_decreasing(bad)


# --- lbeta, reciprocal_no_nan, erfcinv ----------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lbeta_matches_scipy(dtype):
    x = rand(2, 3, 4, lo=0.2, hi=5.0).astype(dtype)
    out = M.lbeta(tensor(x))
    assert out.dtype == dtype and out.shape == (2, 3)
    x64 = x.astype(np.float64)
    want = sp.gammaln(x64).sum(-1) - sp.gammaln(x64.sum(-1))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(val(out), want, **tol)
    np.testing.assert_allclose(val(M.lbeta(tensor(np.array([2.0, 3.0])))),
                               math.log(sp.beta(2.0, 3.0)), rtol=1e-14)


def test_lbeta_edges():
    assert val(M.lbeta(tensor(np.zeros((2, 0))))).tolist() == [-np.inf, -np.inf]  # as TF
    assert M.lbeta([1.0, 2.0]).dtype == np.float32
    with pytest.raises(TypeError, match="lbeta: x must be a float tensor"):
        M.lbeta([1, 2])
    with pytest.raises(ValueError, match="rank >= 1"):
        M.lbeta(ef.constant(2.0))


def test_reciprocal_no_nan():
    x = ef.constant([2.0, 0.5, 0.0, 1.0])  # TF's docstring example
    assert val(M.reciprocal_no_nan(x)).tolist() == [0.5, 2.0, 0.0, 1.0]
    z = np.array([1 + 1j, 0j, -2j])
    np.testing.assert_allclose(val(M.reciprocal_no_nan(c(z))), [0.5 - 0.5j, 0, 0.5j])
    assert val(_grad(M.reciprocal_no_nan, tensor(np.array([0.0, 2.0])))).tolist() == \
        [0.0, -0.25]
    with pytest.raises(TypeError, match="x must be a float or complex"):
        M.reciprocal_no_nan([1, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfcinv(dtype):
    x = rand(20, lo=0.01, hi=1.99).astype(dtype)
    out = M.erfcinv(tensor(x))
    assert out.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(val(out), sp.erfcinv(x.astype(np.float64)), **tol)
    edges = val(M.erfcinv(tensor(np.array([0.0, 2.0, -0.5, 2.5], dtype))))
    assert edges[0] == np.inf and edges[1] == -np.inf and np.isnan(edges[2:]).all()
    with pytest.raises(TypeError, match="erfcinv: x must be a float tensor"):
        M.erfcinv([1])


# --- reduce_euclidean_norm ------------------------------------------------------------------------
def test_reduce_euclidean_norm_tf_examples():
    x = ef.constant([[1, 2, 3], [1, 1, 1]])
    out = M.reduce_euclidean_norm(x)
    assert out.dtype == np.int32 and val(out).tolist() == 4  # the truncated sqrt(17)
    y = ef.constant([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(val(M.reduce_euclidean_norm(y)), math.sqrt(17), rtol=1e-6)
    np.testing.assert_allclose(val(M.reduce_euclidean_norm(y, 0)), np.sqrt([2, 5, 10]),
                               rtol=1e-6)
    np.testing.assert_allclose(val(M.reduce_euclidean_norm(y, 1)), np.sqrt([14, 3]),
                               rtol=1e-6)
    kept = M.reduce_euclidean_norm(y, 1, keepdims=True)
    assert kept.shape == (2, 1) and kept.dtype == np.float32
    np.testing.assert_allclose(val(M.reduce_euclidean_norm(y, [0, 1])), math.sqrt(17),
                               rtol=1e-6)


def test_reduce_euclidean_norm_complex_empty_and_errors():
    z = R.standard_normal((3, 4)) + 1j * R.standard_normal((3, 4))
    out = M.reduce_euclidean_norm(c(z), axis=-1)
    assert out.dtype == np.complex128
    np.testing.assert_allclose(val(out), np.linalg.norm(z, axis=-1), rtol=1e-14)
    assert np.all(val(out).imag == 0)
    empty = M.reduce_euclidean_norm(tensor(np.zeros((0, 3))), axis=0)
    assert val(empty).tolist() == [0.0, 0.0, 0.0]
    x = tensor(np.array([[3.0, np.inf], [np.nan, 1.0]]))
    got = val(M.reduce_euclidean_norm(x, axis=1))
    assert got[0] == np.inf and np.isnan(got[1])
    with pytest.raises(TypeError, match="input_tensor must be numeric"):
        M.reduce_euclidean_norm(tensor(np.array([True])))
    with pytest.raises(ValueError, match="out of range"):
        M.reduce_euclidean_norm(y_ := tensor(rand(2, 2)), axis=2)
    with pytest.raises(ValueError, match="repeats"):
        M.reduce_euclidean_norm(y_, axis=[0, 0])


def test_reduce_euclidean_norm_gradient_at_zero_is_tfs():
    """TF's gradient x / (norm / g) is NaN for a zero row with g != 0, 0 where g == 0."""
    x = tensor(np.array([[0.0, 0.0], [3.0, 4.0]]))
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = M.reduce_euclidean_norm(x, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = val(tape.gradient(y, x))
    assert np.isnan(g[0]).all()
    np.testing.assert_allclose(g[1], [0.6, 0.8], rtol=1e-15)


# --- softsign / xlog1py / accumulate_n ------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softsign(dtype):
    x = np.concatenate([rand(10), [0.0, np.inf, -np.inf]]).astype(dtype)
    with np.errstate(invalid="ignore"):
        out = M.softsign(tensor(x))
    assert out.dtype == dtype
    np.testing.assert_allclose(val(out)[:11], x[:11] / (1 + np.abs(x[:11])), rtol=1e-6)
    assert np.isnan(val(out)[11:]).all()  # inf / inf, as TF's kernel computes it
    np.testing.assert_allclose(val(out)[:11], val(ef.nn.softsign(tensor(x[:11]))), rtol=1e-6)
    g = val(_grad(M.softsign, tensor(np.array([0.0, -3.0]))))
    assert g.tolist() == [1.0, 1.0 / 16.0]
    with pytest.raises(TypeError, match="softsign: features must be a float tensor"):
        M.softsign([1, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xlog1py_matches_scipy_with_broadcasting(dtype):
    x = away_from_zero(3, 1).astype(dtype)
    y = rand(4, lo=-0.9, hi=5.0).astype(dtype)
    out = M.xlog1py(tensor(x), tensor(y))
    assert out.dtype == dtype and out.shape == (3, 4)
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-14)
    np.testing.assert_allclose(val(out), sp.xlog1py(x, y), **tol)


def test_xlog1py_zero_x_and_errors():
    x = tensor(np.array([0.0, 0.0, 0.0, 1.0, 2.0]))
    y = tensor(np.array([np.nan, -1.0, 5.0, -1.0, np.e - 1]))
    with np.errstate(divide="ignore"):
        got = val(M.xlog1py(x, y))
    # 0 wherever x == 0, even for y = NaN or -1 (TF's kernel; scipy gives NaN for NaN y)
    assert got[:3].tolist() == [0.0, 0.0, 0.0] and got[3] == -np.inf
    np.testing.assert_allclose(got[4], 2.0, rtol=1e-15)
    assert M.xlog1py(2.0, 0.0).dtype == np.float32
    z = np.array([1 + 1j, 2 - 1j])
    np.testing.assert_allclose(val(M.xlog1py(c(z), c(z))), z * np.log1p(z), rtol=1e-14)
    with pytest.raises(TypeError, match="xlog1py: x and y must be float or complex"):
        M.xlog1py(ef.constant([1]), ef.constant([2]))
    with pytest.raises(TypeError, match="dtype"):
        M.xlog1py(ef.constant([1.0]), tensor(np.array([2.0])))


def test_xlog1py_gradient_at_zero_x_is_tfs():
    """TF: dx = xlog1py(x != 0, y) * g (0 where x == 0), dy = xdivy(x, y + 1) * g."""
    x, y = tensor(np.array([0.0, 2.0])), tensor(np.array([1.0, 3.0]))
    with ef.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        out = M.xlog1py(x, y)
    np.testing.assert_allclose(val(tape.gradient(out, x)), [0.0, math.log(4.0)], rtol=1e-15)
    np.testing.assert_allclose(val(tape.gradient(out, y)), [0.0, 0.5], rtol=1e-15)


def test_accumulate_n():
    a, b = ef.constant([[1, 2], [3, 4]]), ef.constant([[5, 0], [0, 6]])  # TF's example
    assert val(M.accumulate_n([a, b, a])).tolist() == [[7, 4], [6, 14]]
    out = M.accumulate_n((a, b, a), shape=[2, 2], tensor_dtype=ef.int32)
    assert val(out).tolist() == [[7, 4], [6, 14]] and out.dtype == np.int32
    assert M.accumulate_n([a]) is a
    assert val(M.accumulate_n([a, b], shape=[None, 2])).tolist() == [[6, 2], [3, 10]]
    for bad in ([], a, [a, ef.constant([[1.0, 2.0], [3.0, 4.0]])],
                [ef.IndexedSlices(a, ef.constant([0, 1]), (2, 2))]):
        with pytest.raises(ValueError, match="at least one Tensor with the same dtype"):
            M.accumulate_n(bad)
    with pytest.raises(ValueError, match="not compatible"):
        M.accumulate_n([a, ef.constant([1, 2])])
    with pytest.raises(ValueError, match="not compatible"):
        M.accumulate_n([a, b], shape=[2, 3])
    with pytest.raises(TypeError, match="tensor_dtype is float32"):
        M.accumulate_n([a, b], tensor_dtype=ef.float32)
