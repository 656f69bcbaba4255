"""top_k, zero_fraction, l2_loss, l2_normalize, moments, batch_normalization,
fused_batch_norm."""
import numpy as np
import pytest

import eagerflow.nn as nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(11)
X = R.standard_normal((3, 4, 5, 2))
V = R.permutation(20).reshape(4, 5) * 0.37

GRAD_CASES = [
    GradCase(["top_k"], lambda x: nn.top_k(x, 3).values, V, order=2, id="top_k"),
    GradCase([], nn.l2_loss, X, order=2, id="l2_loss"),
    GradCase([], lambda x: nn.l2_normalize(x, axis=-1), X, order=2, id="l2_normalize"),
    # order 1 only: TF stops the gradient through the mean inside the variance, so the
    # second derivative (like TF's) leaves out the mean's dependence on x
    GradCase([], lambda x: nn.moments(x, [0, 1, 2]), X, id="moments"),
    GradCase([], lambda x, m, v, o, s: nn.batch_normalization(x, m, v, o, s, 1e-3),
             X, R.standard_normal(2), R.uniform(0.5, 2, 2), R.standard_normal(2),
             R.standard_normal(2), id="batch_normalization"),
    GradCase([], lambda x, s, o: nn.fused_batch_norm(x, s, o)[0], X, R.uniform(0.5, 2, 2),
             R.standard_normal(2), id="fused_batch_norm"),
    GradCase([], lambda x, s, o: nn.fused_batch_norm(
        x, s, o, data_format="NCHW")[0], X, R.uniform(0.5, 2, 4), R.standard_normal(4),
        id="fused_batch_norm_nchw"),
    GradCase([], lambda x: nn.local_response_normalization(x, 2, 1.5, 0.3, 0.75),
             R.standard_normal((2, 3, 2, 6)), order=2, id="lrn"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_top_k():
    r = nn.top_k(tensor(V), 2)
    want = np.argsort(-V, axis=1, kind="stable")[:, :2]
    np.testing.assert_array_equal(to_numpy(r.indices), want)
    assert r.indices.dtype == np.int32
    np.testing.assert_array_equal(to_numpy(r.values), np.take_along_axis(V, want, 1))
    ties = nn.top_k(tensor(np.array([1.0, 3.0, 3.0, 2.0])), 3)
    np.testing.assert_array_equal(to_numpy(ties.indices), [1, 2, 3])
    ints = nn.top_k(tensor(np.array([5, 1, 9])), 1)
    np.testing.assert_array_equal(to_numpy(ints.values), [9])
    with pytest.raises(ValueError, match="k must be"):
        nn.top_k(tensor(V), 6)


def test_simple_statistics():
    z = np.array([[0.0, 1.0], [0.0, 0.0]])
    assert float(to_numpy(nn.zero_fraction(tensor(z)))) == 0.75
    assert nn.zero_fraction(tensor(z)).dtype == np.float32
    np.testing.assert_allclose(float(to_numpy(nn.l2_loss(tensor(X)))), (X ** 2).sum() / 2)
    np.testing.assert_allclose(to_numpy(nn.l2_normalize(tensor(X), axis=[1, 2])),
                               X / np.sqrt((X ** 2).sum(axis=(1, 2), keepdims=True)))
    np.testing.assert_array_equal(to_numpy(nn.l2_normalize(tensor(np.zeros(3)), 0)), 0.0)
    m, v = nn.moments(tensor(X), axes=[0, 1, 2])
    np.testing.assert_allclose(to_numpy(m), X.mean((0, 1, 2)))
    np.testing.assert_allclose(to_numpy(v), X.var((0, 1, 2)))
    m, v = nn.moments(tensor(X), axes=[1], keepdims=True)
    assert m.shape == (3, 1, 5, 2) and v.shape == (3, 1, 5, 2)


def test_batch_normalization_reference():
    m, v, o, s = np.array([0.1, -0.2]), np.array([1.5, 0.5]), np.array([0.3, 0.0]), \
        np.array([2.0, 1.0])
    got = nn.batch_normalization(tensor(X), tensor(m), tensor(v), tensor(o), tensor(s), 1e-3)
    np.testing.assert_allclose(to_numpy(got), (X - m) / np.sqrt(v + 1e-3) * s + o)
    got = nn.batch_normalization(tensor(X), tensor(m), tensor(v), None, None, 0.0)
    np.testing.assert_allclose(to_numpy(got), (X - m) / np.sqrt(v))


def test_fused_batch_norm_training_and_inference():
    s, o = np.array([2.0, 0.5]), np.array([0.1, 0.2])
    y, bm, bv = nn.fused_batch_norm(tensor(X), tensor(s), tensor(o), epsilon=1e-3)
    mu, var = X.mean((0, 1, 2)), X.var((0, 1, 2))
    np.testing.assert_allclose(to_numpy(y), (X - mu) / np.sqrt(var + 1e-3) * s + o)
    n = 3 * 4 * 5
    np.testing.assert_allclose(to_numpy(bm), mu)
    np.testing.assert_allclose(to_numpy(bv), var * n / (n - 1))
    y, _, bv2 = nn.fused_batch_norm(tensor(X), tensor(s), tensor(o), tensor(np.zeros(2)),
                                    tensor(np.ones(2)), exponential_avg_factor=0.1)
    np.testing.assert_allclose(to_numpy(bv2), 0.9 + 0.1 * var * n / (n - 1))
    y, m2, v2 = nn.fused_batch_norm(tensor(X), tensor(s), tensor(o), tensor(mu), tensor(var),
                                    epsilon=1e-3, is_training=False)
    np.testing.assert_allclose(to_numpy(y), (X - mu) / np.sqrt(var + 1e-3) * s + o)
    xc = np.transpose(X, (0, 3, 1, 2))
    yc, _, _ = nn.fused_batch_norm(tensor(xc), tensor(s), tensor(o), data_format="NCHW",
                                   epsilon=1e-3)
    np.testing.assert_allclose(to_numpy(yc), np.transpose(
        (X - mu) / np.sqrt(var + 1e-3) * s + o, (0, 3, 1, 2)))


def test_fused_batch_norm_errors():
    with pytest.raises(ValueError, match="4-D or 5-D"):
        nn.fused_batch_norm(tensor(X[0]), tensor(np.ones(2)), tensor(np.ones(2)))
    with pytest.raises(ValueError, match="scale must have shape"):
        nn.fused_batch_norm(tensor(X), tensor(np.ones(3)), tensor(np.ones(2)))
    with pytest.raises(ValueError, match="required"):
        nn.fused_batch_norm(tensor(X), tensor(np.ones(2)), tensor(np.ones(2)),
                            is_training=False)


def test_local_response_normalization_reference():
    x = R.standard_normal((2, 3, 2, 7))
    r, bias, alpha, beta = 2, 1.5, 0.3, 0.75
    sq = np.zeros_like(x)
    for d in range(7):
        sq[..., d] = (x[..., max(d - r, 0):d + r + 1] ** 2).sum(-1)
    want = x / (bias + alpha * sq) ** beta
    np.testing.assert_allclose(to_numpy(nn.lrn(tensor(x), r, bias, alpha, beta)), want)
    with pytest.raises(ValueError, match="4-D"):
        nn.lrn(tensor(x[0]))
