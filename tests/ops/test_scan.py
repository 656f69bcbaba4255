"""cumsum/cumprod (exclusive, reverse), sort/argsort, unique."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(5)


def rand(*shape):
    return R.uniform(0.5, 2, size=shape) * R.choice([-1, 1], size=shape)


GRAD_CASES = [
    GradCase("cumsum", lambda x: ef.cumsum(x, axis=1), rand(2, 4), order=2),
    GradCase("cumsum", lambda x: ef.cumsum(x, axis=0, exclusive=True, reverse=True), rand(4, 2),
             id="cumsum-exclusive-reverse"),
    GradCase("cumprod", lambda x: ef.cumprod(x, axis=1), rand(2, 4)),
    GradCase("cumprod", lambda x: ef.cumprod(x, axis=0, exclusive=True), rand(4), id="cumprod-excl"),
    GradCase("take_along_axis", lambda x: ef.sort(x, direction="DESCENDING"), rand(3, 5),
             id="sort"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_scans_match_tf_examples():
    x = tensor(np.array([1.0, 2.0, 3.0]))
    assert to_numpy(ef.cumsum(x)).tolist() == [1, 3, 6]
    assert to_numpy(ef.cumsum(x, exclusive=True)).tolist() == [0, 1, 3]
    assert to_numpy(ef.cumsum(x, reverse=True)).tolist() == [6, 5, 3]
    assert to_numpy(ef.cumsum(x, exclusive=True, reverse=True)).tolist() == [5, 3, 0]
    assert to_numpy(ef.cumprod(x, exclusive=True)).tolist() == [1, 1, 2]
    with pytest.raises(ValueError, match="rank >= 1"):
        ef.cumsum(tensor(np.float64(1.0)))


def test_sort_argsort():
    a = np.array([[3.0, 1.0, 2.0, 1.0], [0.0, -1.0, 5.0, 5.0]])
    np.testing.assert_array_equal(to_numpy(ef.sort(tensor(a))), np.sort(a))
    np.testing.assert_array_equal(to_numpy(ef.sort(tensor(a), direction="DESCENDING")),
                                  -np.sort(-a))
    idx = ef.argsort(tensor(a), axis=0)
    assert idx.dtype == np.int32
    np.testing.assert_array_equal(to_numpy(idx), np.argsort(a, axis=0, kind="stable"))
    d = to_numpy(ef.argsort(tensor(a), direction="DESCENDING", stable=True))
    np.testing.assert_array_equal(d, [[0, 2, 1, 3], [2, 3, 0, 1]])
    with pytest.raises(ValueError, match="direction must be"):
        ef.sort(tensor(a), direction="UP")


def test_unique_keeps_first_occurrence_order():
    y, idx = ef.unique(tensor(np.array([1, 1, 2, 4, 4, 4, 7, 8, 8])))
    assert to_numpy(y).tolist() == [1, 2, 4, 7, 8]
    assert to_numpy(idx).tolist() == [0, 0, 1, 2, 2, 2, 3, 4, 4]
    y, idx, c = ef.unique_with_counts(tensor(np.array([5, 3, 5, 1])))
    assert to_numpy(y).tolist() == [5, 3, 1]
    assert to_numpy(idx).tolist() == [0, 1, 0, 2]
    assert to_numpy(c).tolist() == [2, 1, 1]
    with pytest.raises(ValueError, match="1-D"):
        ef.unique(tensor(np.ones((2, 2))))
