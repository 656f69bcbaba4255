import numpy as np
import pytest

import eagerflow as ef
import eagerflow.variables as vs
from eagerflow.variables import initializers as inits
from tests.gradcheck import to_numpy

SHAPE = (400, 300)


def draw(init, shape=SHAPE, dtype=ef.float32):
    return to_numpy(init(shape, dtype=dtype)).astype(np.float64)


def test_constant_and_trivial():
    assert to_numpy(vs.zeros_initializer()((2, 2))).sum() == 0
    assert to_numpy(vs.ones_initializer()((2, 2))).sum() == 4
    np.testing.assert_array_equal(to_numpy(vs.constant_initializer([1, 2, 3, 4])((2, 2))),
                                  [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="elements"):
        vs.constant_initializer([1, 2, 3])((2, 2))


@pytest.mark.parametrize("init,mean,std", [
    (vs.random_normal_initializer(1.0, 2.0, seed=1), 1.0, 2.0),
    (vs.random_uniform_initializer(-1.0, 3.0, seed=1), 1.0, 4 / np.sqrt(12)),
    (vs.random_uniform_initializer(seed=1), 0.5, 1 / np.sqrt(12)),
    (vs.truncated_normal_initializer(0.0, 1.0, seed=1), 0.0, 0.87962566103423978),
])
def test_basic_distributions(init, mean, std):
    x = draw(init)
    assert abs(x.mean() - mean) < 0.02 * max(std, 1)
    assert abs(x.std() - std) < 0.02 * std


def test_truncated_normal_bounds():
    x = draw(vs.truncated_normal_initializer(0.0, 0.5, seed=2))
    assert np.abs(x).max() <= 1.0


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("dist", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_variance(mode, dist):
    scale = 2.0
    x = draw(vs.variance_scaling_initializer(scale, mode, dist, seed=3))
    n = {"fan_in": 400, "fan_out": 300, "fan_avg": 350}[mode]
    np.testing.assert_allclose(x.var(), scale / n, rtol=0.03)
    if dist == "uniform":
        assert np.abs(x).max() <= np.sqrt(3 * scale / n)
    if dist == "truncated_normal":
        # TF divides the stddev by the std of a [-2, 2]-truncated unit normal
        assert np.abs(x).max() <= 2 * np.sqrt(scale / n) / .87962566103423978 + 1e-6


def test_truncated_constant_value():
    from scipy import stats
    assert inits.TRUNCATED_NORMAL_STDDEV_FACTOR == .87962566103423978
    np.testing.assert_allclose(stats.truncnorm(-2, 2).std(), .87962566103423978, rtol=1e-12)


def test_fans_and_named_initializers():
    assert inits.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert inits.compute_fans((7,)) == (7, 7)
    assert inits.compute_fans(()) == (1, 1)
    np.testing.assert_allclose(draw(vs.he_normal(seed=1)).var(), 2 / 400, rtol=0.03)
    np.testing.assert_allclose(draw(vs.he_uniform(seed=1)).var(), 2 / 400, rtol=0.03)
    np.testing.assert_allclose(draw(vs.glorot_normal_initializer(seed=1)).var(), 1 / 350,
                               rtol=0.03)
    np.testing.assert_allclose(draw(vs.lecun_uniform(seed=1)).var(), 1 / 400, rtol=0.03)
    assert isinstance(inits.get("glorot_uniform"), vs.GlorotUniform)
    with pytest.raises(ValueError, match="unknown initializer"):
        inits.get("glorot_unifrom")
    with pytest.raises(ValueError, match="mode"):
        vs.variance_scaling_initializer(mode="fan")
    with pytest.raises(ValueError, match="scale"):
        vs.variance_scaling_initializer(scale=0.0)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 5)])
def test_orthogonal(shape):
    q = draw(vs.orthogonal_initializer(gain=2.0, seed=4), shape).reshape(-1, shape[-1])
    small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(small, 4.0 * np.eye(min(q.shape)), atol=1e-5)
    with pytest.raises(ValueError, match="rank"):
        vs.orthogonal_initializer()((3,))


def test_identity():
    np.testing.assert_array_equal(draw(vs.identity_initializer(3.0), (2, 3)),
                                  3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        vs.identity_initializer()((2, 2, 2))


def test_seeded_reproducible():
    ef.random.set_seed(7)
    a = draw(vs.glorot_uniform_initializer(seed=1), (5, 5))
    b = draw(vs.glorot_uniform_initializer(seed=1), (5, 5))
    ef.random.set_seed(7)
    a2 = draw(vs.glorot_uniform_initializer(seed=1), (5, 5))
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, b)  # the op's sequence moves on, as in TF
