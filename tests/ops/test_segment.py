"""Segment ops: TF semantics (empty segments, negative ids), gradients, bincount."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import kernels
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(4)
IDS = np.array([0, 0, 1, 3, 3, 3])
UIDS = np.array([3, -1, 0, 3, 1, 0])


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


def _ties():
    d = rand(6, 2)
    d[1] = d[0]  # a tie inside segment 0
    return d


GRAD_CASES = (
    [GradCase(f"segment_{r}", lambda d, r=r: getattr(ef, f"segment_{r}")(d, IDS), rand(6, 2))
     for r in ("sum", "mean", "sqrt_n", "max", "min")]
    + [GradCase(f"unsorted_segment_{r}",
                lambda d, r=r: getattr(ef, f"unsorted_segment_{r}")(d, UIDS, 5), rand(6, 2))
       for r in ("sum", "mean", "sqrt_n")]
    # max/min of an empty segment is the dtype's extreme value: no empty segments here
    + [GradCase(f"unsorted_segment_{r}",
                lambda d, r=r: getattr(ef, f"unsorted_segment_{r}")(d, UIDS % 3, 3), rand(6, 2))
       for r in ("max", "min")]
    + [GradCase("segment_max", lambda d: ef.segment_max(d, IDS), _ties(), id="segment_max-ties"),
       GradCase("unsorted_segment_sum", lambda d: ef.unsorted_segment_sum(d * d, UIDS, 4),
                rand(6), order=2, id="unsorted_segment_sum-2nd")]
)


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def _ref(data, ids, n, red, sorted_):
    out = np.zeros((n,) + data.shape[1:])
    for s in range(n):
        rows = data[ids == s]
        if len(rows) == 0:
            if red in ("max", "min") and not sorted_:
                out[s] = np.finfo(data.dtype).min if red == "max" else np.finfo(data.dtype).max
            continue
        out[s] = {"sum": rows.sum(0), "mean": rows.mean(0),
                  "sqrt_n": rows.sum(0) / np.sqrt(len(rows)), "max": rows.max(0),
                  "min": rows.min(0)}[red]
    return out


@pytest.mark.parametrize("red", ["sum", "mean", "sqrt_n", "max", "min"])
def test_forward_against_reference(red):
    d = rand(6, 3)
    got = to_numpy(getattr(ef, f"segment_{red}")(tensor(d), IDS))
    np.testing.assert_allclose(got, _ref(d, IDS, 4, red, True))
    got = to_numpy(getattr(ef, f"unsorted_segment_{red}")(tensor(d), UIDS, 5))
    np.testing.assert_allclose(got, _ref(d, UIDS, 5, red, False))


def test_bad_ids():
    with pytest.raises(TypeError, match="segment_ids must be integers"):
        ef.unsorted_segment_sum(tensor(rand(2)), tensor(np.array([0.0, 1.0])), 2)
    with pytest.raises(ValueError, match="num_segments must be >= 0"):
        ef.unsorted_segment_sum(tensor(rand(2)), np.array([0, 1]), -1)
    with pytest.raises(IndexError, match="5"):
        ef.unsorted_segment_sum(tensor(rand(2)), np.array([0, 5]), 2)
        kernels.check_errors()  # the GPU twin flags bad ids on the device; raised at a sync


def test_bincount():
    a = np.array([1, 1, 3, 0])
    np.testing.assert_array_equal(to_numpy(ef.bincount(tensor(a))), [1, 2, 0, 1])
    np.testing.assert_array_equal(to_numpy(ef.bincount(tensor(a), minlength=6)), [1, 2, 0, 1, 0, 0])
    np.testing.assert_array_equal(to_numpy(ef.bincount(tensor(a), maxlength=2)), [1, 2])
    w = np.array([0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(to_numpy(ef.bincount(tensor(a), weights=tensor(w))), [3, 1.5, 0, 2])
