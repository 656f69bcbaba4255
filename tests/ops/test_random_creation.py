"""Random ops (TF seed semantics, statistics) and creation ops."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import to_numpy


def test_global_and_op_seed_reproduce_sequences():
    ef.random.set_seed(42)
    a1, a2 = ef.random.normal((3,), seed=1), ef.random.normal((3,), seed=1)
    ef.random.set_seed(42)
    b1, b2 = ef.random.normal((3,), seed=1), ef.random.normal((3,), seed=1)
    np.testing.assert_array_equal(to_numpy(a1), to_numpy(b1))
    np.testing.assert_array_equal(to_numpy(a2), to_numpy(b2))
    assert not np.array_equal(to_numpy(a1), to_numpy(a2))  # next values of the sequence
    ef.random.set_seed(43)
    assert not np.array_equal(to_numpy(ef.random.normal((3,), seed=1)), to_numpy(a1))


def test_statistics():
    ef.random.set_seed(0)
    n = to_numpy(ef.random.normal((20000,), mean=1.0, stddev=2.0))
    assert abs(n.mean() - 1.0) < 0.06 and abs(n.std() - 2.0) < 0.06
    u = to_numpy(ef.random.uniform((20000,), minval=-1.0, maxval=3.0))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    t = to_numpy(ef.random.truncated_normal((20000,), stddev=0.5))
    assert np.abs(t).max() <= 1.0 and abs(t.std() - 0.5 * 0.87962566) < 0.02
    i = to_numpy(ef.random.uniform((1000,), minval=2, maxval=5, dtype=ef.int64))
    assert i.dtype == np.int64 and set(np.unique(i)) == {2, 3, 4}
    assert ef.random.normal((2,), dtype=ef.float64).dtype == np.float64


def test_categorical_and_shuffle():
    ef.random.set_seed(1)
    logits = ef.constant(np.log([[0.1, 0.9], [0.9, 0.1]]))
    s = to_numpy(ef.random.categorical(logits, 4000))
    assert s.shape == (2, 4000)
    assert abs(s[0].mean() - 0.9) < 0.03 and abs(s[1].mean() - 0.1) < 0.03
    x = ef.constant(np.arange(10))
    sh = to_numpy(ef.random.shuffle(x, seed=3))
    assert sorted(sh.tolist()) == list(range(10))


def test_random_errors():
    with pytest.raises(ValueError, match="maxval must be given"):
        ef.random.uniform((2,), dtype=ef.int64)
    with pytest.raises(TypeError, match="float type"):
        ef.random.normal((2,), dtype=ef.int32)
    with pytest.raises(ValueError, match=">= 0"):
        ef.random.normal((-1,))
    with pytest.raises(ValueError, match="2-D"):
        ef.random.categorical(ef.constant([1.0, 2.0]), 1)
    with pytest.raises(TypeError, match="seed must be an int"):
        ef.random.set_seed(1.5)


def test_creation():
    assert to_numpy(ef.zeros((2, 3))).sum() == 0 and ef.zeros(2).dtype == np.float32
    assert ef.ones((2,), dtype=ef.int32).dtype == np.int32
    np.testing.assert_array_equal(to_numpy(ef.fill([2], 7)), [7, 7])
    assert ef.fill([2], 7).dtype == np.int32 and ef.fill([1], 1.5).dtype == np.float32
    np.testing.assert_array_equal(to_numpy(ef.range(5)), np.arange(5))
    np.testing.assert_allclose(to_numpy(ef.range(1.0, 2.0, 0.25)), [1.0, 1.25, 1.5, 1.75])
    assert ef.range(3).dtype == np.int32 and ef.range(1.0, 2.0).dtype == np.float32
    np.testing.assert_allclose(to_numpy(ef.linspace(0.0, 1.0, 5)), np.linspace(0, 1, 5))
    assert ef.eye(3, batch_shape=[2]).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="delta must not be 0"):
        ef.range(0, 5, 0)
