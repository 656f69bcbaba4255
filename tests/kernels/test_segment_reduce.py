"""segment_reduce / unsorted_segment_reduce against a plain-NumPy reference of TF's rules.

Runs on the current backend; on a GPU the CPU twin is also checked on host copies.
"""
import numpy as np
import pytest

from eagerflow import backend
from eagerflow.kernels import (REDUCTIONS, check_errors, clear_errors, segment_reduce,
                               unsorted_segment_reduce)
from eagerflow.kernels.segment_reduce import segment_reduce_cpu

ON_GPU = backend.get_backend() == "cupy"
dev = backend.to_device
host = backend.to_numpy


def reference(data, ids, nseg, reduction, sorted_ids):
    """TF semantics in float64: empties are 0, except unsorted max/min (dtype's limits)."""
    flat_ids = ids.reshape(-1)
    width = int(np.prod(data.shape[ids.ndim:], dtype=np.int64))
    flat = data.reshape(flat_ids.size, width).astype(np.float64)
    keep = flat_ids >= 0
    flat_ids, flat = flat_ids[keep], flat[keep]
    counts = np.bincount(flat_ids, minlength=nseg)[:nseg]
    if reduction in ("max", "min"):
        out = np.full((nseg, flat.shape[1]), -np.inf if reduction == "max" else np.inf)
        (np.maximum if reduction == "max" else np.minimum).at(out, flat_ids, flat)
        if sorted_ids:
            empty = 0
        else:
            info = np.finfo(data.dtype) if data.dtype.kind == "f" else np.iinfo(data.dtype)
            empty = info.min if reduction == "max" else info.max
        out[counts == 0] = empty
    else:
        out = np.zeros((nseg, flat.shape[1]))
        np.add.at(out, flat_ids, flat)
        if reduction == "mean":
            out /= np.maximum(counts, 1)[:, None]
        elif reduction == "sqrt_n":
            out /= np.sqrt(np.maximum(counts, 1))[:, None]
    return out.reshape((nseg,) + data.shape[ids.ndim:])


def run_both(data, ids, nseg, reduction, sorted_ids):
    fn = segment_reduce if sorted_ids else unsorted_segment_reduce
    results = [host(fn(dev(data), dev(ids), nseg, reduction))]
    if ON_GPU:
        results.append(segment_reduce_cpu(data, ids, nseg, reduction, sorted_ids))
    return results


def check(data, ids, nseg, reduction, sorted_ids, rtol):
    ref = reference(data, ids, nseg, reduction, sorted_ids)
    for got in run_both(data, ids, nseg, reduction, sorted_ids):
        assert got.dtype == data.dtype and got.shape == ref.shape
        np.testing.assert_allclose(got.astype(np.float64), ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("sorted_ids", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("dtype,idx_dtype", [(np.float32, np.int32), (np.float64, np.int64)])
def test_matches_reference(reduction, sorted_ids, dtype, idx_dtype):
    rng = np.random.default_rng(REDUCTIONS.index(reduction) * 2 + sorted_ids)
    nseg = 40  # ~25% of segments stay empty
    ids = rng.integers(0, 30, 200).astype(idx_dtype)
    ids[::7] = 33  # a lone segment past a gap
    if sorted_ids:
        ids = np.sort(ids)
    else:
        ids[::11] = -1  # dropped, as in TF
    data = rng.standard_normal((200, 2, 3)).astype(dtype)
    check(data, ids, nseg, reduction, sorted_ids, 1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("reduction", ["sum", "max", "min"])
def test_int_data(reduction):
    rng = np.random.default_rng(7)
    ids = rng.integers(0, 6, 50)
    data = rng.integers(-100, 100, (50, 3)).astype(np.int32)
    check(data, ids, 8, reduction, False, 0)
    check(data, np.sort(ids), 8, reduction, True, 0)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint16, np.uint32])
@pytest.mark.parametrize("reduction", ["sum", "max", "min"])
def test_narrow_and_unsigned_int_data(reduction, dtype):
    # the GPU kernel has int32/int64 atomics only: these run in int64 there
    rng = np.random.default_rng(11)
    ids = rng.integers(0, 6, 40)
    data = rng.integers(0, 5, (40, 2)).astype(dtype)
    check(data, ids, 8, reduction, False, 0)
    check(data, np.sort(ids), 8, reduction, True, 0)


def test_int8_sums_wrap_in_the_dtype():
    data, ids = np.array([100, 100, 1], np.int8), np.array([0, 0, 1])
    for got in run_both(data, ids, 2, "sum", False):
        assert got.dtype == np.int8 and got.tolist() == [-56, 1]


def test_tensorflow_examples():
    c = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [4, 3, 2, 1]], np.int32)
    got = unsorted_segment_reduce(dev(c), dev(np.array([0, 1, 0])), 2, "max")
    np.testing.assert_array_equal(host(got), [[4, 3, 3, 4], [5, 6, 7, 8]])
    c = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [5, 6, 7, 8]], np.int32)
    got = segment_reduce(dev(c), dev(np.array([0, 0, 1])), None, "max")
    np.testing.assert_array_equal(host(got), [[4, 3, 3, 4], [5, 6, 7, 8]])


def test_empty_segment_conventions():
    data = dev(np.array([[-np.inf], [3.0]], np.float32))
    ids = dev(np.array([0, 2]))
    lowest, highest = np.finfo(np.float32).min, np.finfo(np.float32).max
    expect = {
        ("sum", True): [-np.inf, 0, 3], ("mean", True): [-np.inf, 0, 3],
        ("sqrt_n", True): [-np.inf, 0, 3], ("max", True): [-np.inf, 0, 3],
        ("min", True): [-np.inf, 0, 3],
        ("sum", False): [-np.inf, 0, 3], ("mean", False): [-np.inf, 0, 3],
        # TF's unsorted max starts from lowest(), so even a -inf row gives lowest().
        ("max", False): [lowest, lowest, 3], ("min", False): [-np.inf, highest, 3],
    }
    for (reduction, sorted_ids), want in expect.items():
        fn = segment_reduce if sorted_ids else unsorted_segment_reduce
        got = host(fn(data, ids, 3, reduction))[:, 0]
        np.testing.assert_array_equal(got, np.array(want, np.float32), err_msg=str(reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_data(reduction):
    data = np.zeros((0, 3), np.float64)
    ids = np.zeros(0, np.int64)
    check(data, ids, 4, reduction, False, 0)
    check(data, ids, 4, reduction, True, 0)
    got = host(segment_reduce(dev(data), dev(ids), None, reduction))
    assert got.shape == (0, 3)


def test_num_segments_inferred_for_sorted():
    got = segment_reduce(dev(np.ones((4, 2))), dev(np.array([0, 0, 3, 3])))
    np.testing.assert_array_equal(host(got), [[2, 2], [0, 0], [0, 0], [2, 2]])
    with pytest.raises(TypeError, match="num_segments is required"):
        unsorted_segment_reduce(dev(np.ones(2)), dev(np.array([0, 1])), None)


def test_segment_ids_as_prefix_of_data_shape():
    rng = np.random.default_rng(8)
    ids = rng.integers(-1, 5, (3, 4))
    data = rng.standard_normal((3, 4, 2))
    check(data, ids, 5, "sum", False, 1e-12)
    check(data, ids, 5, "mean", False, 1e-12)


def test_float16():
    rng = np.random.default_rng(9)
    ids = np.sort(rng.integers(0, 5, 40))
    data = rng.standard_normal((40, 3)).astype(np.float16)
    for reduction in ("sum", "mean", "max"):
        check(data, ids, 6, reduction, True, 2e-2)
    got = host(unsorted_segment_reduce(dev(data), dev(ids), 6, "max"))
    assert got[5, 0] == np.finfo(np.float16).min


def _raises(exc, pattern, fn, *args):
    """On the CPU the call raises; on the GPU ``check_errors`` raises afterwards."""
    if not ON_GPU:
        with pytest.raises(exc, match=pattern):
            fn(*args)
        return
    clear_errors()
    fn(*args)
    with pytest.raises(exc, match=pattern):
        check_errors()
    check_errors()


def test_bad_segment_ids():
    data = dev(np.ones((4, 2), np.float32))
    _raises(IndexError, r"segment_ids\[3\] = 5 is out of range for num_segments = 5",
            segment_reduce, data, dev(np.array([0, 1, 1, 5])), 5, "sum")
    _raises(IndexError, r"segment_ids\[2\] = 9 is out of range for num_segments = 3",
            unsorted_segment_reduce, data, dev(np.array([0, -1, 9, 1], np.int32)), 3, "max")
    _raises(IndexError, r"segment_ids\[0\] = -1 is negative",
            segment_reduce, data, dev(np.array([-1, 0, 1, 1])), 3, "sum")
    _raises(ValueError, r"not sorted: segment_ids\[2\] = 0 < previous id 1",
            segment_reduce, data, dev(np.array([0, 1, 0, 1])), 3, "mean")


def test_bad_arguments():
    data = dev(np.ones((4, 2), np.float32))
    ids = dev(np.array([0, 0, 1, 1]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        segment_reduce(data, ids, 2, "prod")
    with pytest.raises(ValueError, match=r"prefix of data shape \(4, 2\)"):
        segment_reduce(data, dev(np.array([0, 1])), 2, "sum")
    with pytest.raises(TypeError, match="floating"):
        segment_reduce(dev(np.ones(4, np.int32)), ids, 2, "mean")
