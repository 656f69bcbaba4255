"""The fused update kernels and the row deduplication, through their array API."""
import numpy as np
import pytest

from eagerflow import backend
from eagerflow.kernels import optimizer_updates as ou


def dev(a):
    return backend.to_device(np.ascontiguousarray(a))


def test_deduplicate_rows_sums_duplicates():
    idx = np.array([4, 1, 4, 4, 0, 1])
    vals = np.arange(12, dtype=np.float32).reshape(6, 2)
    uniq, summed = ou.deduplicate_rows(dev(idx), dev(vals))
    uniq, summed = backend.to_numpy(uniq), backend.to_numpy(summed)
    keep = uniq != ou.INDEX_PAD  # the GPU pads instead of synchronising
    assert sorted(uniq[keep].tolist()) == [0, 1, 4]
    got = {int(i): row.tolist() for i, row in zip(uniq[keep], summed[keep])}
    assert got == {0: [8.0, 9.0], 1: [12.0, 14.0], 4: [10.0, 13.0]}
    assert np.all(summed[~keep] == 0)


def test_sparse_update_skips_padding_rows():
    var = dev(np.ones((3, 2)))
    acc = dev(np.full((3, 2), 0.1))
    idx = dev(np.array([2, ou.INDEX_PAD]))
    ou.apply_sparse("adagrad", var, (acc,), idx, dev(np.ones((2, 2))), dev(np.array([0.5])))
    v = backend.to_numpy(var)
    np.testing.assert_allclose(v[2], 1 - 0.5 / np.sqrt(1.1))
    np.testing.assert_array_equal(v[:2], 1.0)


def test_kernel_argument_errors():
    var = dev(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="unknown optimizer update"):
        ou.apply_dense("adamw", var, (), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(ValueError, match="expected 2 slots"):
        ou.apply_dense("adam", var, (var,), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(ValueError, match="missing hyperparameters"):
        ou.apply_dense("momentum", var, (var.copy(),), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(TypeError, match="float32 or float64"):
        ou.apply_dense("sgd", dev(np.ones(3, np.int32)), (), var, dev(np.array([1], np.int32)))
    with pytest.raises(ValueError, match="does not match"):
        ou.apply_dense("sgd", var, (), dev(np.ones(4, np.float32)),
                       dev(np.array([0.1], np.float32)))
