"""Elementwise math: forward against NumPy, float64 gradient checks, TF dtype rules."""
import math

import numpy as np
import pytest
import scipy.special

import eagerflow as ef
from eagerflow.autograd.registry import DeviceMismatchError
from tests.gradcheck import GradCase, check_grads, run_case, tensor, to_numpy

R = np.random.default_rng(0)


def rand(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape)


POS = dict(lo=0.5, hi=2.0)
UNIT = dict(lo=-0.8, hi=0.8)

UNARY = [
    # name, numpy reference, input domain
    ("negative", np.negative, {}), ("abs", np.abs, {}), ("exp", np.exp, {}),
    ("expm1", np.expm1, {}), ("log", np.log, POS), ("log1p", np.log1p, POS),
    ("sqrt", np.sqrt, POS), ("rsqrt", lambda x: 1 / np.sqrt(x), POS),
    ("square", np.square, {}), ("reciprocal", lambda x: 1 / x, POS), ("sin", np.sin, {}),
    ("cos", np.cos, {}), ("tan", np.tan, UNIT), ("asin", np.arcsin, UNIT),
    ("acos", np.arccos, UNIT), ("atan", np.arctan, {}), ("sinh", np.sinh, {}),
    ("cosh", np.cosh, {}), ("asinh", np.arcsinh, {}), ("acosh", np.arccosh, dict(lo=1.5, hi=3)),
    ("atanh", np.arctanh, UNIT), ("tanh", np.tanh, {}),
    ("sigmoid", scipy.special.expit, {}), ("log_sigmoid", lambda x: -np.logaddexp(0, -x), {}),
    ("erf", scipy.special.erf, {}), ("erfc", scipy.special.erfc, {}),
]

BINARY = [
    ("add", np.add, {}, {}), ("subtract", np.subtract, {}, {}),
    ("multiply", np.multiply, {}, {}), ("divide", np.divide, {}, POS),
    ("pow", np.power, POS, {}), ("maximum", np.maximum, {}, {}),
    ("minimum", np.minimum, {}, {}), ("squared_difference", lambda a, b: (a - b) ** 2, {}, {}),
    ("atan2", np.arctan2, {}, POS), ("floormod", np.mod, {}, POS),
    ("divide_no_nan", np.divide, {}, POS), ("xlogy", lambda a, b: a * np.log(b), {}, POS),
]

GRAD_CASES = (
    [GradCase(n, getattr(ef, n), rand(3, 4, **dom)) for n, _, dom in UNARY]
    + [GradCase(n, getattr(ef, n), rand(3, 4, **da), rand(4, **db), id=n + "-bcast")
       for n, _, da, db in BINARY]
    + [
        GradCase("sign", lambda x: ef.sign(x) * x, rand(5)),
        GradCase(["where"], lambda x, y: ef.where(x > 0, x, y), rand(3, 4), rand(1, 4)),
        GradCase(["cast"], lambda x: ef.cast(ef.cast(x, ef.float32), ef.float64) * x, rand(4),
                 eps=1e-2, rtol=1e-3),
        GradCase(["identity"], lambda x: ef.identity(x) * 2.0, rand(4)),
        GradCase(["exp", "multiply"], lambda x: ef.exp(x) * x, rand(2, 3), order=2),
        GradCase(["tanh", "pow"], lambda x: ef.tanh(x) ** 3.0, rand(4), order=2),
        GradCase(["divide", "sin"], lambda x, y: ef.sin(x) / y, rand(3), rand(3, **POS), order=2),
        GradCase(["sigmoid", "log"], lambda x: ef.log(ef.sigmoid(x)), rand(4), order=2),
    ]
)


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("name,ref,dom", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_forward(name, ref, dom, dtype):
    x = rand(4, 5, **dom).astype(dtype)
    out = getattr(ef, name)(tensor(x))
    assert out.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_numpy(out), ref(x.astype(np.float64)), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("name,ref,da,db", BINARY, ids=[b[0] for b in BINARY])
def test_binary_forward_broadcasting(name, ref, da, db):
    a, b = rand(2, 1, 3, **da), rand(4, 1, **db)
    out = getattr(ef, name)(tensor(a), tensor(b))
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(to_numpy(out), ref(a, b), rtol=1e-12, atol=1e-12)


def test_operators_match_numpy():
    a, b = rand(3, 4), rand(3, 4, **POS)
    x, y = tensor(a), tensor(b)
    pairs = [(x + y, a + b), (x - y, a - b), (x * y, a * b), (x / y, a / b),
             (x // y, a // b), (x % y, a % b), (y ** x, b ** a), (-x, -a), (abs(x), abs(a)),
             (2.0 - x, 2.0 - a), (3.0 / y, 3.0 / b), (x @ y.T, a @ b.T), (+x, a)]
    for got, want in pairs:
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)
    for got, want in [(x < y, a < b), (x <= y, a <= b), (x > y, a > b), (x >= y, a >= b),
                      (x == x, a == a), (x != y, a != b)]:
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(to_numpy(got), want)


def test_numpy_array_on_the_left_defers_to_tensor():
    a = rand(3)
    if ef.get_backend() == "cupy":  # host data next to a GPU tensor: never a silent copy
        with pytest.raises(DeviceMismatchError, match="NumPy array cannot be combined"):
            a + tensor(a)
        return
    out = a + tensor(a)
    assert isinstance(out, ef.Tensor)
    np.testing.assert_allclose(to_numpy(out), 2 * a)


def test_python_scalars_keep_the_tensor_dtype():
    x = tensor(np.ones(3, np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (1 + x).dtype == np.float32
    i = tensor(np.arange(3, dtype=np.int64))
    assert (i + 1).dtype == np.int64
    assert (x + [1, 2, 3]).dtype == np.float32


def test_dtype_mix_is_an_error_naming_both_dtypes():
    x = tensor(np.ones(3, np.float32))
    y = tensor(np.ones(3, np.float64))
    with pytest.raises(TypeError, match="add: x has dtype float32 but y has dtype float64"):
        x + y
    with pytest.raises(TypeError, match="float64"):
        ef.multiply(x, tensor(np.ones(3)))


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"multiply: shapes \(2, 3\) and \(4,\)"):
        ef.multiply(tensor(rand(2, 3)), tensor(rand(4)))


def test_mixing_numpy_and_cupy_is_a_clear_error():
    from eagerflow import backend
    if backend.get_backend() != "cupy":
        cp = None
    else:
        import importlib
        cp = importlib.import_module("cupy")
    x = ef.Tensor.__new__(ef.Tensor)
    x._data = np.ones(3)  # a tensor left on the host
    if cp is None:
        # simulate a foreign device array: a Tensor holding an object of another array type
        class Foreign(np.ndarray):
            pass
        y = ef.Tensor.__new__(ef.Tensor)
        y._data = np.ones(3).view(Foreign)
        out = x + y  # an ndarray subclass is still host memory: allowed
        assert out.shape == (3,)
    else:
        y = ef.Tensor(cp.ones(3))
        with pytest.raises(DeviceMismatchError, match="different devices"):
            x + y


def test_empty_inputs():
    e = tensor(np.zeros((0, 3)))
    assert ef.exp(e).shape == (0, 3)
    assert (e + tensor(rand(3))).shape == (0, 3)


def test_comparisons_and_logic():
    a = tensor(np.array([True, False, True]))
    b = tensor(np.array([True, True, False]))
    np.testing.assert_array_equal(to_numpy(ef.logical_and(a, b)), [True, False, False])
    np.testing.assert_array_equal(to_numpy(ef.logical_or(a, b)), [True, True, True])
    np.testing.assert_array_equal(to_numpy(ef.logical_xor(a, b)), [False, True, True])
    np.testing.assert_array_equal(to_numpy(~a), [False, True, False])
    with pytest.raises(TypeError, match="bool"):
        ef.logical_not(tensor(np.ones(2)))
    v = tensor(np.array([np.nan, np.inf, 1.0]))
    np.testing.assert_array_equal(to_numpy(ef.is_nan(v)), [True, False, False])
    np.testing.assert_array_equal(to_numpy(ef.is_finite(v)), [False, False, True])
    np.testing.assert_array_equal(to_numpy(ef.is_inf(v)), [False, True, False])


def test_rounding_has_no_gradient_and_matches_numpy():
    a = np.array([-1.5, -0.5, 0.5, 1.5, 2.5])
    for fn, ref in [(ef.floor, np.floor), (ef.ceil, np.ceil), (ef.round, np.round)]:
        np.testing.assert_array_equal(to_numpy(fn(tensor(a))), ref(a))
    x = tensor(a)
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(ef.floor(x) * 1.0)
    assert t.gradient(y, x) is None


def test_sigmoid_is_stable_for_huge_logits():
    x = tensor(np.array([-1e4, 0.0, 1e4], np.float32))
    np.testing.assert_allclose(to_numpy(ef.sigmoid(x)), [0.0, 0.5, 1.0])
    assert np.isfinite(to_numpy(ef.log_sigmoid(x))).all()


def test_clip_by_value_forward_and_gradient():
    a = np.array([-2.0, 0.5, 3.0])
    x = tensor(a)
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(ef.clip_by_value(x, -1.0, 1.0))
    np.testing.assert_array_equal(to_numpy(ef.clip_by_value(x, -1.0, 1.0)), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), [0.0, 1.0, 0.0])


def test_where_variants():
    c = tensor(np.array([True, False]))
    np.testing.assert_array_equal(to_numpy(ef.where(c, 1.0, 2.0)), [1.0, 2.0])
    idx = ef.where(tensor(np.array([[True, False], [False, True]])))
    np.testing.assert_array_equal(to_numpy(idx), [[0, 0], [1, 1]])
    assert idx.dtype == np.int64
    with pytest.raises(ValueError, match="both be given"):
        ef.where(c, 1.0)
    with pytest.raises(TypeError, match="condition must be bool"):
        ef.where(tensor(np.ones(2)), tensor(np.ones(2)), tensor(np.ones(2)))


def test_add_n_and_errors():
    a = rand(2, 2)
    np.testing.assert_allclose(to_numpy(ef.add_n([tensor(a)] * 3)), 3 * a)
    with pytest.raises(ValueError, match="non-empty"):
        ef.add_n([])
    with pytest.raises(ValueError, match="same shape"):
        ef.add_n([tensor(rand(2)), tensor(rand(3))])


def test_cast_gradient_only_between_floats():
    x = tensor(np.array([1.7, -2.2]))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(ef.cast(ef.cast(x, ef.int64), ef.float64))
    assert t.gradient(y, x) is None
    np.testing.assert_array_equal(to_numpy(ef.cast(x, ef.int32)), [1, -2])


def test_pow_gradient_at_zero_base_is_finite():
    x = tensor(np.array([0.0, 2.0]))
    y = tensor(np.array([2.0, 2.0]))
    with ef.GradientTape() as t:
        t.watch([x, y])
        z = ef.reduce_sum(ef.pow(x, y))
    gx, gy = t.gradient(z, [x, y])
    np.testing.assert_allclose(to_numpy(gx), [0.0, 4.0])
    np.testing.assert_allclose(to_numpy(gy), [0.0, 4.0 * math.log(2.0)])


def test_second_order_through_nested_tapes():
    check_grads(lambda x: ef.reduce_sum(ef.sin(x) * ef.exp(x)), rand(3), order=2)


def test_numpy_scalars_take_the_tensor_dtype_on_either_side():
    x = tensor(np.ones(2, np.float32))
    assert (np.float64(2.0) * x).dtype == np.float32
    assert (x * np.float64(2.0)).dtype == np.float32
    assert (x + np.float32(1.0)).dtype == np.float32


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4),
       st.sampled_from(["add", "subtract", "multiply", "maximum", "squared_difference"]))
def test_broadcasting_matches_numpy_and_gradients_unbroadcast(shapes, name):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(len(sa) * 7 + len(sb))
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x, y = tensor(a), tensor(b)
    ref = dict(BINARY_REFS)[name]
    with ef.GradientTape() as t:
        t.watch([x, y])
        z = getattr(ef, name)(x, y)
        s = ef.reduce_sum(z)
    assert tuple(z.shape) == tuple(out_shape)
    np.testing.assert_allclose(to_numpy(z), ref(a, b), rtol=1e-12)
    gx, gy = t.gradient(s, [x, y])
    assert tuple(gx.shape) == tuple(sa) and tuple(gy.shape) == tuple(sb)
    if name == "add":  # d/dx sum(x + y): how often each element of x was broadcast
        np.testing.assert_allclose(to_numpy(gx), _np_unbroadcast(np.ones(out_shape), sa))
        np.testing.assert_allclose(to_numpy(gy), _np_unbroadcast(np.ones(out_shape), sb))


def _np_unbroadcast(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


BINARY_REFS = [(n, r) for n, r, _, _ in BINARY]


def test_cast_of_python_values():
    assert ef.cast(2.5, ef.int32).numpy().tolist() == 2
    assert ef.cast([1, 2], ef.float32).dtype == np.float32
