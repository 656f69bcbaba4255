"""Reductions: NumPy references, hypothesis properties over random shapes, gradients."""
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import eagerflow as ef
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(1)


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


TIES = np.array([[1.0, 3.0, 3.0], [2.0, 0.5, -1.0]])

GRAD_CASES = [
    GradCase("reduce_sum", lambda x: ef.reduce_sum(x, axis=1), rand(3, 4), order=2),
    GradCase("reduce_sum", lambda x: ef.reduce_sum(x, axis=(0, 2), keepdims=True), rand(2, 3, 2),
             id="reduce_sum-keepdims"),
    GradCase("reduce_mean", lambda x: ef.reduce_mean(x, axis=-1), rand(3, 4), order=2),
    GradCase("reduce_max", lambda x: ef.reduce_max(x, axis=0), rand(3, 4)),
    GradCase("reduce_max", lambda x: ef.reduce_max(x + ef.constant(TIES) * 0.0, axis=1) * 1.0,
             TIES.copy(), id="reduce_max-ties"),
    GradCase("reduce_min", lambda x: ef.reduce_min(x, axis=None), rand(3, 4)),
    GradCase("reduce_prod", lambda x: ef.reduce_prod(x, axis=1), rand(3, 4), order=2),
    GradCase("reduce_prod", lambda x: ef.reduce_prod(x),
             np.array([[0.0, 2.0], [3.0, 0.5]]), id="reduce_prod-zero"),
    GradCase("reduce_logsumexp", lambda x: ef.reduce_logsumexp(x, axis=1), rand(3, 4), order=2),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


REFS = {
    "reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
    "reduce_prod": np.prod,
    "reduce_logsumexp": lambda a, axis, keepdims: scipy.special.logsumexp(a, axis=axis,
                                                                          keepdims=keepdims),
}


@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    a = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
    nd = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd,
                                   unique=True).map(tuple)))
    keep = draw(st.booleans())
    return a, axis, keep


@settings(max_examples=60, deadline=None)
@given(array_and_axis(), st.sampled_from(sorted(REFS)))
def test_reductions_match_numpy_on_random_shapes(data, name):
    a, axis, keep = data
    got = to_numpy(getattr(ef, name)(tensor(a), axis=axis, keepdims=keep))
    want = REFS[name](a, axis=axis, keepdims=keep)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(array_and_axis())
def test_reduce_sum_gradient_is_ones_of_input_shape(data):
    a, axis, keep = data
    x = tensor(a)
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(ef.reduce_sum(x, axis=axis, keepdims=keep))
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), np.ones_like(a))


def test_any_all_argmax_argmin():
    b = tensor(np.array([[True, False], [True, True]]))
    np.testing.assert_array_equal(to_numpy(ef.reduce_any(b, axis=1)), [True, True])
    np.testing.assert_array_equal(to_numpy(ef.reduce_all(b, axis=1)), [False, True])
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert to_numpy(ef.argmax(tensor(a))).tolist() == [1, 0, 1]  # TF's default axis is 0
    assert to_numpy(ef.argmin(tensor(a), axis=1)).tolist() == [0, 1]
    assert ef.argmax(tensor(a), output_type=ef.int32).dtype == np.int32


def test_integer_mean_truncates_like_tf():
    assert to_numpy(ef.reduce_mean(tensor(np.array([1, 2], np.int64)))) == 1


def test_variance_std_count_nonzero():
    a = rand(4, 5)
    np.testing.assert_allclose(to_numpy(ef.reduce_variance(tensor(a), axis=0)), a.var(axis=0))
    np.testing.assert_allclose(to_numpy(ef.reduce_std(tensor(a))), a.std())
    assert to_numpy(ef.count_nonzero(tensor(np.array([0.0, 1.0, 2.0])))) == 2


def test_bad_axis_and_empty_max():
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor of rank 2"):
        ef.reduce_sum(tensor(rand(2, 2)), axis=2)
    with pytest.raises(ValueError, match="repeats"):
        ef.reduce_sum(tensor(rand(2, 2)), axis=(0, 0))
    assert to_numpy(ef.reduce_sum(tensor(np.zeros((0, 3))), axis=0)).tolist() == [0, 0, 0]


def test_empty_reductions_give_the_reducers_identity():
    """TF (Eigen's reducers; tensorflow#3510): max of nothing is the dtype's lowest value
    (-inf for floats), min its highest, logsumexp -inf; not an error."""
    e = tensor(np.zeros((0, 3)))
    assert to_numpy(ef.reduce_max(e, axis=0)).tolist() == [-np.inf] * 3
    assert to_numpy(ef.reduce_min(e, axis=0, keepdims=True)).tolist() == [[np.inf] * 3]
    assert to_numpy(ef.reduce_logsumexp(e, axis=0)).tolist() == [-np.inf] * 3
    assert to_numpy(ef.reduce_max(e)).tolist() == -np.inf
    ints = tensor(np.zeros((2, 0), np.int32))
    assert to_numpy(ef.reduce_max(ints, axis=1)).tolist() == [np.iinfo(np.int32).min] * 2
    assert to_numpy(ef.reduce_min(ints, axis=1)).dtype == np.int32
    assert to_numpy(ef.reduce_max(ints, axis=0)).shape == (0,)  # nothing reduced is empty
    flags = tensor(np.zeros((0, 2), bool))
    assert to_numpy(ef.reduce_max(flags, axis=0)).tolist() == [False, False]
    assert to_numpy(ef.reduce_min(flags, axis=0)).tolist() == [True, True]


def test_logsumexp_is_stable():
    a = np.array([[1e4, 1e4], [-1e4, -1e4]], np.float32)
    got = to_numpy(ef.reduce_logsumexp(tensor(a), axis=1))
    np.testing.assert_allclose(got, [1e4 + np.log(2), -1e4 + np.log(2)], rtol=1e-6)
    inf = to_numpy(ef.reduce_logsumexp(tensor(np.array([-np.inf, -np.inf]))))
    assert inf == -np.inf


def test_tf_math_namespace_holds_reductions_segments_and_nn_functions():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    t = tensor(x)
    np.testing.assert_allclose(to_numpy(ef.math.reduce_sum(t, axis=1)), x.sum(1))
    np.testing.assert_allclose(to_numpy(ef.math.reduce_logsumexp(t)),
                               np.log(np.exp(x).sum()))
    np.testing.assert_allclose(to_numpy(ef.math.exp(t)), np.exp(x))
    assert to_numpy(ef.math.argmax(t, axis=1)).tolist() == [2, 0]
    np.testing.assert_allclose(to_numpy(ef.math.cumsum(t, axis=1)), np.cumsum(x, 1))
    np.testing.assert_allclose(
        to_numpy(ef.math.unsorted_segment_sum(t, np.array([1, 1]), 2)), [[0, 0, 0], x.sum(0)])
    np.testing.assert_allclose(to_numpy(ef.math.segment_mean(t, np.array([0, 0]))),
                               [x.mean(0)])
    assert to_numpy(ef.math.bincount(tensor(np.array([2, 2, 0])))).tolist() == [1, 0, 2]
    np.testing.assert_allclose(to_numpy(ef.math.softplus(t)), np.log1p(np.exp(x)))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(to_numpy(ef.math.softmax(t)), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(to_numpy(ef.math.l2_normalize(t, axis=1)),
                               x / np.linalg.norm(x, axis=1, keepdims=True))
    assert to_numpy(ef.math.top_k(t, 1).indices).tolist() == [[2], [0]]
    assert float(to_numpy(ef.math.zero_fraction(t))) == pytest.approx(1 / 6)
    assert ef.math.top_k is ef.nn.top_k and ef.math.reduce_sum is ef.reduce_sum
