"""The fused ReLU kernels against NumPy references (fresh random inputs, every dtype path)."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels import activation as ka
from tests.gradcheck import tensor, to_numpy


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_and_grad_match_numpy(dtype):
    rng = np.random.default_rng()
    x = rng.standard_normal((64, 33)).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]
    g = rng.standard_normal((64, 33)).astype(dtype)
    want = np.where(x > 0, x, 0).astype(dtype)
    got = backend.to_numpy(ka.relu(backend.to_device(x)))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)  # NaN -> 0, like where(x > 0, x, 0)
    want_g = np.where(x > 0, g, 0).astype(dtype)
    got_g = backend.to_numpy(ka.relu_grad(backend.to_device(g), backend.to_device(x)))
    assert got_g.dtype == dtype
    np.testing.assert_array_equal(got_g, want_g)


def test_relu_grad_passes_nonfinite_gradients_only_where_active():
    g = np.array([np.inf, np.nan, 3.0, -np.inf], np.float32)
    y = np.array([0.0, 1.0, 2.0, -1.0], np.float32)
    got = backend.to_numpy(ka.relu_grad(backend.to_device(g), backend.to_device(y)))
    np.testing.assert_array_equal(got, [0.0, np.nan, 3.0, 0.0])


def test_nn_relu_uses_one_op_each_way_and_matches_reference():
    rng = np.random.default_rng()
    x0 = rng.standard_normal((50, 40)).astype(np.float32)
    g0 = rng.standard_normal((50, 40)).astype(np.float32)
    x = tensor(x0)
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.nn.relu(x)
    dx = t.gradient(y, x, output_gradients=tensor(g0))
    np.testing.assert_array_equal(to_numpy(y), np.maximum(x0, 0))
    np.testing.assert_array_equal(to_numpy(dx), np.where(x0 > 0, g0, 0))
    with pytest.raises(TypeError):
        ef.nn.relu(tensor(np.ones(3, np.int32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(40, 17), (3, 5, 17)])
def test_bias_relu_matches_numpy(dtype, shape):
    rng = np.random.default_rng()
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:2] = [np.nan, 0.0]
    b = rng.standard_normal(shape[-1]).astype(dtype)
    got = backend.to_numpy(ka.bias_relu(backend.to_device(x), backend.to_device(b)))
    pre = x + b
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(got, np.where(pre > 0, pre, 0).astype(dtype))
    with pytest.raises(ValueError, match="bias"):
        ka.bias_relu(backend.to_device(x), backend.to_device(b[:-1]))
