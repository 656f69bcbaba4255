"""scatter_add / scatter_add_new: the backend's twin, the CPU twin and np.add.at agree.

Runs on the current backend (``EAGERFLOW_BACKEND=cupy`` runs the GPU twin; the CPU twin is
then checked on host copies of the same inputs).
"""
import numpy as np
import pytest

from eagerflow import backend
from eagerflow.kernels import check_errors, clear_errors, scatter_add, scatter_add_new
from eagerflow.kernels.scatter_add import _PARALLEL_MIN, scatter_add_cpu

ON_GPU = backend.get_backend() == "cupy"
dev = backend.to_device
host = backend.to_numpy


def reference(out, indices, values):
    """Plain NumPy: np.add.at in float64 on the rows flattened to (rows, -1)."""
    width = int(np.prod(out.shape[1:], dtype=np.int64))
    ref = out.astype(np.float64).reshape(out.shape[0], width)
    np.add.at(ref, indices.reshape(-1), values.astype(np.float64).reshape(indices.size, width))
    return ref.reshape(out.shape)


def tol(dtype):
    return {"float16": 2e-2, "float32": 1e-5, "float64": 1e-12}[np.dtype(dtype).name]


def make(rng, rows, idx_shape, trailing, dtype, idx_dtype=np.int64):
    out = rng.standard_normal((rows,) + trailing).astype(dtype)
    idx = rng.integers(0, rows, size=idx_shape).astype(idx_dtype)
    vals = rng.standard_normal(idx_shape + trailing).astype(dtype)
    return out, idx, vals


def run_both(out, idx, vals):
    """Runs the dispatcher on the backend and, on a GPU, the CPU twin on host copies."""
    got = host(scatter_add(dev(out), dev(idx), dev(vals)))
    results = [got]
    if ON_GPU:
        results.append(scatter_add_cpu(out.copy(), idx, vals))
    return results


@pytest.mark.parametrize("dtype,idx_dtype", [(np.float32, np.int32), (np.float32, np.int64),
                                             (np.float64, np.int64)])
def test_matches_reference_nd_with_duplicates(dtype, idx_dtype):
    rng = np.random.default_rng(0)
    out, idx, vals = make(rng, 37, (300,), (3, 4), dtype, idx_dtype)  # ~8 hits per row
    ref = reference(out, idx, vals)
    for got in run_both(out, idx, vals):
        assert got.dtype == np.dtype(dtype) and got.shape == out.shape
        np.testing.assert_allclose(got, ref, rtol=tol(dtype), atol=tol(dtype))


def test_parallel_path_matches_reference():
    rng = np.random.default_rng(1)
    n = _PARALLEL_MIN // 8 + 1000
    out, idx, vals = make(rng, 5000, (n,), (8,), np.float32)
    idx[: n // 4] = 7  # one hot row, as with power-law ids
    ref = reference(out, idx, vals)
    for got in run_both(out, idx, vals):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-3)


def test_all_indices_equal_and_1d_table():
    out = np.zeros(4, np.float64)
    idx = np.zeros(1000, np.int64)
    vals = np.full(1000, 0.5)
    for got in run_both(out, idx, vals):
        np.testing.assert_array_equal(got, [500.0, 0, 0, 0])


def test_nd_indices():
    rng = np.random.default_rng(2)
    out, idx, vals = make(rng, 6, (4, 5), (3,), np.float64)
    ref = reference(out, idx, vals)
    for got in run_both(out, idx, vals):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("rows,n,trailing", [(5, 0, (3,)), (0, 0, (2,)), (5, 4, (0,))])
def test_empty_inputs(rows, n, trailing):
    rng = np.random.default_rng(3)
    out, idx, vals = make(rng, max(rows, 1), (n,), trailing, np.float32)
    out = out[:rows]
    for got in run_both(out, idx, vals):
        np.testing.assert_array_equal(got, out)


def test_returns_out_in_place():
    out = dev(np.zeros((3, 2), np.float32))
    res = scatter_add(out, dev(np.array([1])), dev(np.ones((1, 2), np.float32)))
    assert res is out
    np.testing.assert_array_equal(host(out)[1], [1, 1])


def test_non_contiguous_out_is_updated_in_place():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((10, 8)).astype(np.float32)
    idx = rng.integers(0, 10, 30)
    vals = rng.standard_normal((30, 4)).astype(np.float32)
    ref = reference(base[:, ::2], idx, vals)
    big = dev(base.copy())
    scatter_add(big[:, ::2], dev(idx), dev(vals))
    np.testing.assert_allclose(host(big)[:, ::2], ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(host(big)[:, 1::2], base[:, 1::2])


def test_values_are_cast_to_out_dtype():
    out = np.zeros((2, 2), np.float32)
    got = host(scatter_add(dev(out), dev(np.array([1, 1])), dev(np.ones((2, 2)))))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[0, 0], [2, 2]])


def test_float16():
    rng = np.random.default_rng(5)
    out, idx, vals = make(rng, 20, (64,), (4,), np.float16)
    ref = reference(out, idx, vals)
    for got in run_both(out, idx, vals):
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float64), ref, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype,idx_dtype", [(np.float32, np.int64), (np.float64, np.int32)])
def test_scatter_add_new(dtype, idx_dtype):
    rng = np.random.default_rng(6)
    idx = rng.integers(0, 9, (50,)).astype(idx_dtype)
    vals = rng.standard_normal((50, 2, 3)).astype(dtype)
    ref = reference(np.zeros((12, 2, 3), dtype), idx, vals)
    got = scatter_add_new(dev(idx), dev(vals), 12)
    assert backend.array_module(got) is backend.xp()
    assert got.dtype == np.dtype(dtype) and got.shape == (12, 2, 3)
    np.testing.assert_allclose(host(got), ref, rtol=tol(dtype), atol=tol(dtype))
    empty = scatter_add_new(dev(idx[:0]), dev(vals[:0]), 3)
    np.testing.assert_array_equal(host(empty), np.zeros((3, 2, 3)))


@pytest.mark.parametrize("bad", [10, -1])
def test_out_of_range_index(bad):
    out = np.zeros((10, 2), np.float32)
    idx = np.array([1, 2, bad, 3], np.int64)
    vals = np.ones((4, 2), np.float32)
    if not ON_GPU:
        with pytest.raises(IndexError, match=rf"indices\[2\] = {bad} .*10 rows"):
            scatter_add(out, idx, vals)
        np.testing.assert_array_equal(out, 0)  # checked before any write
        return
    clear_errors()
    got = scatter_add(dev(out), dev(idx), dev(vals))  # no raise, no sync
    np.testing.assert_array_equal(host(got)[[1, 2, 3]], 1)  # the good rows are applied
    assert host(got).sum() == 6
    with pytest.raises(IndexError, match=rf"indices\[2\] = {bad} .*10 rows"):
        check_errors()
    check_errors()  # cleared
    with pytest.raises(IndexError, match=r"indices\[2\]"):
        scatter_add_cpu(out, idx, vals)


def test_shape_and_dtype_errors():
    out = dev(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"values has shape \(2, 2\).*\(2, 3\)"):
        scatter_add(out, dev(np.array([0, 1])), dev(np.ones((2, 2), np.float32)))
    with pytest.raises(TypeError, match="integers"):
        scatter_add(out, dev(np.array([0.0])), dev(np.ones((1, 3), np.float32)))


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
def test_mixed_backends_are_an_error():
    with pytest.raises(TypeError, match="one device"):
        scatter_add(dev(np.zeros((2, 1))), np.array([0]), dev(np.ones((1, 1))))
