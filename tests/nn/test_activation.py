"""Activations, bias_add and dropout against NumPy/SciPy references, with gradients."""
import numpy as np
import pytest
from scipy import special

import eagerflow as ef
import eagerflow.nn as nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

X = np.array([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5, 7.0])
SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

REFS = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (nn.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": (nn.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x))),
    "gelu": (nn.gelu, lambda x: 0.5 * x * (1 + special.erf(x / np.sqrt(2)))),
    "gelu_tanh": (lambda x: nn.gelu(x, approximate=True),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "softplus": (nn.softplus, lambda x: np.log1p(np.exp(x))),
    "softsign": (nn.softsign, lambda x: x / (1 + np.abs(x))),
    "swish": (nn.swish, lambda x: x * special.expit(x)),
    "silu_beta": (lambda x: nn.silu(x, beta=2.0), lambda x: x * special.expit(2 * x)),
    "sigmoid": (nn.sigmoid, special.expit),
    "tanh": (nn.tanh, np.tanh),
    "crelu": (nn.crelu, lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)])),
}

GRAD_CASES = [GradCase([], fn, X, order=2, id=name) for name, (fn, _) in REFS.items()] + [
    # relu and relu_grad are fused ops: order 2 runs relu_grad's own vjp
    GradCase(["relu", "relu_grad"], nn.relu,
             np.random.default_rng(3).standard_normal((5, 7)), order=2, id="relu_fused"),
    GradCase([], lambda x, b: nn.bias_add(x, b), np.ones((2, 3, 4)) * 0.5,
             np.array([0.1, 0.2, 0.3, 0.4]), id="bias_add_nhwc"),
    GradCase([], lambda x, b: nn.bias_add(x, b, data_format="NCHW"),
             np.ones((2, 4, 3, 2)) * 0.5, np.array([0.1, 0.2, 0.3, 0.4]), id="bias_add_nchw"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("name", sorted(REFS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(name, dtype):
    fn, ref = REFS[name]
    got = fn(tensor(X.astype(dtype)))
    assert got.dtype == dtype
    np.testing.assert_allclose(to_numpy(got), ref(X), rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6)


def test_dropout_gradient_is_the_mask_of_the_call():
    x0 = np.arange(1.0, 7.0).reshape(2, 3)
    x = tensor(x0)
    with ef.GradientTape() as t:
        t.watch(x)
        y = nn.dropout(x, 0.5, seed=3)
    np.testing.assert_allclose(to_numpy(t.gradient(y, x)), to_numpy(y) / x0)


def test_relu_gradient_at_zero_is_zero_and_softplus_is_stable():
    x = tensor(np.array([0.0, 0.0]))
    with ef.GradientTape() as t:
        t.watch(x)
        y = nn.relu(x)
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), [0.0, 0.0])
    big = to_numpy(nn.softplus(tensor(np.array([1e4, -1e4], np.float32))))
    np.testing.assert_allclose(big, [1e4, 0.0])


def test_bias_add_forward_and_errors():
    x = np.arange(24.0).reshape(2, 3, 4)
    b = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(to_numpy(nn.bias_add(tensor(x), tensor(b))), x + b)
    xc = np.arange(24.0).reshape(2, 4, 3)
    np.testing.assert_array_equal(to_numpy(nn.bias_add(tensor(xc), tensor(b), "NCHW")),
                                  xc + b[:, None])
    with pytest.raises(ValueError, match="channels"):
        nn.bias_add(tensor(x), tensor(b[:3]))
    with pytest.raises(ValueError, match="1-D"):
        nn.bias_add(tensor(x), tensor(np.ones((2, 2))))
    with pytest.raises(ValueError, match="rank"):
        nn.bias_add(tensor(b), tensor(b))
    with pytest.raises(ValueError, match="data_format"):
        nn.bias_add(tensor(x), tensor(b), "NHCW")


def test_dropout_scaling_seed_and_noise_shape():
    x = tensor(np.ones((200, 50), np.float32))
    ef.random.set_seed(1)
    a = to_numpy(nn.dropout(x, 0.3, seed=7))
    assert set(np.unique(a).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.02
    ef.random.set_seed(1)
    np.testing.assert_array_equal(to_numpy(nn.dropout(x, 0.3, seed=7)), a)
    rows = to_numpy(nn.dropout(x, 0.5, noise_shape=[200, 1]))
    assert all(len(set(r.tolist())) == 1 for r in rows)
    np.testing.assert_array_equal(to_numpy(nn.dropout(x, 0.0)), to_numpy(x))
    kp = to_numpy(nn.dropout(x, keep_prob=0.5))
    assert set(np.unique(kp).tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        nn.dropout(tensor(np.ones(3)), rate)


def test_dropout_bad_noise_shape_and_dtype():
    with pytest.raises(ValueError, match="noise_shape"):
        nn.dropout(tensor(np.ones((2, 3))), 0.5, noise_shape=[3, 3])
    with pytest.raises(TypeError, match="floating"):
        nn.dropout(tensor(np.ones(3, np.int64)), 0.5)
    with pytest.raises(TypeError, match="floating"):
        nn.relu(tensor(np.ones(3, np.int32)))


_MATMUL_BGRAD = ef.autograd.registry.get("matmul_bgrad")

RELU_LAYER_CASES = [
    # a 2-D x runs the one relu_layer op; order 2 runs the ops of its vjp and their vjps
    GradCase(["relu_layer", "relu_grad", "matmul_bgrad", "matmul"], nn.relu_layer,
             np.random.default_rng(4).standard_normal((6, 5)),
             np.random.default_rng(5).standard_normal((5, 4)),
             np.random.default_rng(6).standard_normal(4), order=2, id="relu_layer"),
    # a batch of one row, one input feature
    GradCase(["relu_layer", "matmul_bgrad"], nn.relu_layer,
             np.random.default_rng(7).standard_normal((1, 1)),
             np.random.default_rng(8).standard_normal((1, 3)),
             np.array([0.3, -0.2, 0.5]), order=2, id="relu_layer_1x1"),
    # other ranks: matmul, then the fused bias + ReLU pass
    GradCase(["bias_relu", "relu_grad", "matmul"], nn.relu_layer,
             np.random.default_rng(9).standard_normal((2, 3, 5)),
             np.random.default_rng(10).standard_normal((5, 4)),
             np.random.default_rng(11).standard_normal(4), order=2, id="relu_layer_rank3"),
    GradCase(["matmul_bgrad"], lambda x, gz: _MATMUL_BGRAD(x, gz),
             np.random.default_rng(12).standard_normal((7, 3)),
             np.random.default_rng(13).standard_normal((7, 4)), order=2, id="matmul_bgrad"),
]
GRAD_CASES += RELU_LAYER_CASES


@pytest.mark.parametrize("case", RELU_LAYER_CASES, ids=repr)
def test_relu_layer_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_layer_matches_reference_with_gradients(dtype):
    rng = np.random.default_rng()
    x0, w0 = rng.standard_normal((33, 7)).astype(dtype), rng.standard_normal((7, 9)).astype(dtype)
    b0, g0 = rng.standard_normal(9).astype(dtype), rng.standard_normal((33, 9)).astype(dtype)
    x, w, b = tensor(x0), tensor(w0), tensor(b0)
    with ef.GradientTape() as t:
        t.watch([x, w, b])
        y = nn.relu_layer(x, w, b)
    dx, dw, db = t.gradient(y, [x, w, b], output_gradients=tensor(g0))
    pre = x0.astype(np.float64) @ w0 + b0
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == dtype
    np.testing.assert_allclose(to_numpy(y), np.maximum(pre, 0), rtol=tol, atol=tol)
    dpre = np.where(pre > 0, g0, 0)
    np.testing.assert_allclose(to_numpy(db), dpre.sum(axis=0), rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(dw), x0.T.astype(np.float64) @ dpre, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(dx), dpre @ w0.T.astype(np.float64), rtol=tol, atol=tol)
    with pytest.raises(ValueError, match="biases"):
        nn.relu_layer(x, w, tensor(np.ones(3, dtype)))


def test_relu_layer_argument_errors_and_other_ranks():
    x = tensor(np.ones((4, 3)))
    with pytest.raises(ValueError, match="inner dimensions"):
        nn.relu_layer(x, tensor(np.ones((2, 5))), tensor(np.ones(5)))
    with pytest.raises(ValueError, match="rank >= 2"):
        nn.relu_layer(x, tensor(np.ones(3)), tensor(np.ones(1)))
    with pytest.raises(TypeError, match="dtype"):
        nn.relu_layer(x, tensor(np.ones((3, 2), np.float32)), tensor(np.ones(2)))
    with pytest.raises(TypeError, match="floating"):
        nn.relu_layer(tensor(np.ones((4, 3), np.int64)), tensor(np.ones((3, 2))),
                      tensor(np.ones(2)))
    with pytest.raises(ValueError, match="biases of shape"):
        nn.relu_layer(x, tensor(np.ones((3, 2))), tensor(np.ones((1, 2))))
    # a rank-3 input keeps matmul + bias_relu and gives the same values
    rng = np.random.default_rng(1)
    x3, w, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(to_numpy(nn.relu_layer(tensor(x3), tensor(w), tensor(b))),
                               np.maximum(x3 @ w + b, 0), rtol=1e-12)
    # biases given as a list take x's dtype
    y = nn.relu_layer(tensor(np.ones((2, 3), np.float32)), tensor(np.ones((3, 2), np.float32)),
                      [0.5, -4.0])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(y), [[3.5, 0.0], [3.5, 0.0]])
