import math

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.train as train
from tests.gradcheck import tensor, to_numpy


def val(sched, step):
    return float(to_numpy(sched(tensor(np.array(step, np.int64)))))


def test_exponential_family():
    for step in (0, 7, 25):
        assert math.isclose(val(train.ExponentialDecay(0.1, 10, 0.5), step),
                            0.1 * 0.5 ** (step / 10), rel_tol=1e-6)
        assert math.isclose(val(train.ExponentialDecay(0.1, 10, 0.5, staircase=True), step),
                            0.1 * 0.5 ** (step // 10), rel_tol=1e-6)
        assert math.isclose(val(train.NaturalExpDecay(0.1, 10, 0.5), step),
                            0.1 * math.exp(-0.5 * step / 10), rel_tol=1e-6)
        assert math.isclose(val(train.InverseTimeDecay(0.1, 10, 0.5, staircase=True), step),
                            0.1 / (1 + 0.5 * (step // 10)), rel_tol=1e-6)


def test_piecewise_constant_intervals():
    s = train.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [val(s, x) for x in (0, 10, 11, 20, 21)] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.1])
    with pytest.raises(ValueError, match="one more element"):
        train.PiecewiseConstantDecay([1, 2], [1.0])


def test_polynomial_and_cosine():
    p = train.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0)
    assert val(p, 5) == pytest.approx(0.09 * 0.25 + 0.01)
    assert val(p, 50) == pytest.approx(0.01)
    pc = train.PolynomialDecay(0.1, 10, end_learning_rate=0.0, cycle=True)
    assert val(pc, 15) == pytest.approx(0.1 * (1 - 15 / 20))
    assert val(pc, 0) == pytest.approx(0.1)
    c = train.CosineDecay(0.1, 100, alpha=0.1)
    assert val(c, 50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert val(c, 500) == pytest.approx(0.01)
    r = train.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    assert val(r, 10) == pytest.approx(0.5)      # second period starts at m_mul
    assert val(r, 20) == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    r1 = train.CosineDecayRestarts(1.0, 10, t_mul=1.0)
    assert val(r1, 15) == pytest.approx(0.5)


def test_linear_warmup_and_tf1_bound_form():
    w = train.LinearWarmup(train.ExponentialDecay(1.0, 10, 0.5), warmup_steps=4,
                           warmup_learning_rate=0.0)
    target = 0.5 ** 0.4
    assert val(w, 2) == pytest.approx(0.5 * target, rel=1e-6)
    assert val(w, 8) == pytest.approx(0.5 ** 0.8, rel=1e-6)
    step = ef.Variable(np.int64(3), trainable=False, name="gs")
    f = train.linear_warmup(0.2, step, warmup_steps=6)
    assert float(f()) == pytest.approx(0.1)
    g = train.cosine_decay(1.0, step, 6)
    assert float(g) == pytest.approx(0.5)


def test_clip_by_norm_and_value():
    t = tensor(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(to_numpy(train.clip_by_norm(t, 1.0)), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(to_numpy(train.clip_by_norm(t, 10.0)), to_numpy(t))
    np.testing.assert_allclose(to_numpy(train.clip_by_norm(t, 1.0, axes=[1])),
                               [[0.6, 0.8], [0, 0]])
    s = ef.IndexedSlices(tensor(np.array([[3.0, 4.0]])), tensor(np.array([1])), (3, 2))
    cs = train.clip_by_value(s, -1.0, 3.5)
    assert isinstance(cs, ef.IndexedSlices)
    np.testing.assert_allclose(to_numpy(cs.values), [[3.0, 3.5]])


def test_clip_by_global_norm_with_indexed_slices():
    a = tensor(np.array([1.0, 2.0]))
    s = ef.IndexedSlices(tensor(np.array([[2.0, 4.0]])), tensor(np.array([0])), (2, 2))
    norm = np.sqrt(1 + 4 + 4 + 16)
    out, gn = train.clip_by_global_norm([a, None, s], 1.0)
    assert float(gn) == pytest.approx(norm)
    assert out[1] is None and isinstance(out[2], ef.IndexedSlices)
    np.testing.assert_allclose(to_numpy(out[0]), [1 / norm, 2 / norm])
    np.testing.assert_allclose(to_numpy(out[2].values), [[2 / norm, 4 / norm]])
    assert float(train.global_norm([a, s])) == pytest.approx(norm)
    out, _ = train.clip_by_global_norm([tensor(np.array([np.inf, 1.0]))], 1.0)
    assert np.isnan(to_numpy(out[0])).all()
    with pytest.raises(TypeError, match="sequence"):
        train.clip_by_global_norm(a, 1.0)


def test_clip_by_global_norm_gradient():
    x = ef.Variable(np.array([3.0, 4.0]))
    with ef.GradientTape() as tape:
        (c,), _ = train.clip_by_global_norm([x * 1.0], 1.0)
        y = ef.reduce_sum(c)
    g = to_numpy(tape.gradient(y, x))
    # y = (x0 + x1) / |x|; dy/dx_i = 1/|x| - (x0 + x1) x_i / |x|^3
    n = 5.0
    np.testing.assert_allclose(g, [1 / n - 7 * 3 / n ** 3, 1 / n - 7 * 4 / n ** 3])
