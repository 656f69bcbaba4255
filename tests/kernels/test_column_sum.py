"""The tiled row reduction behind ``reduce_sum(x, axis=0)`` of 2-D float arrays (the dense
layers' bias gradients): against NumPy in float64, on the backend under test."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels.column_sum import column_sum, fast_path


@pytest.mark.parametrize("rows,cols", [(1024, 1), (4096, 400), (5000, 33), (70000, 3),
                                       (2048, 1000), (3, 5), (0, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sum_matches_numpy(rows, cols, dtype, rng):
    x = rng.standard_normal((rows, cols)).astype(dtype)
    got = backend.to_numpy(column_sum(backend.asarray(x)))
    assert got.dtype == dtype and got.shape == (cols,)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, x.astype(np.float64).sum(axis=0), rtol=tol,
                               atol=tol * np.sqrt(max(rows, 1)))


def test_non_contiguous_input(rng):
    x = rng.standard_normal((3000, 64)).astype(np.float32)
    view = backend.asarray(x)[:, ::2]
    np.testing.assert_allclose(backend.to_numpy(column_sum(view)), x[:, ::2].sum(axis=0),
                               rtol=1e-5, atol=1e-3)


def test_fast_path_only_for_large_2d_float_device_arrays():
    on_gpu = backend.get_backend() == "cupy"
    assert fast_path(backend.asarray(np.zeros((4096, 8), np.float32))) == on_gpu
    assert not fast_path(backend.asarray(np.zeros((4096, 8), np.int64)))
    assert not fast_path(backend.asarray(np.zeros((8, 8), np.float32)))
    assert not fast_path(np.zeros((4096, 8), np.float32))


@pytest.mark.parametrize("axis,keepdims", [(0, False), ([0], True), (-2, False), ((0,), True)])
def test_reduce_sum_rows_and_its_gradient(axis, keepdims, rng):
    x = rng.standard_normal((2048, 7)).astype(np.float64)
    t = ef.constant(x)
    with ef.GradientTape() as tape:
        tape.watch(t)
        y = ef.reduce_sum(t, axis=axis, keepdims=keepdims)
        loss = ef.reduce_sum(y * ef.constant(np.arange(7.0).reshape(y.shape)))
    want = x.sum(axis=0, keepdims=keepdims)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(loss, t).numpy(),
                               np.broadcast_to(np.arange(7.0), x.shape))
