"""GradientTape: TF's contract (watch, persistence, nesting, variables, unconnected, errors)."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import tensor, to_numpy


def test_watch_and_gradient():
    x = tensor(np.array([1.0, 2.0]))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(x * x * x)
    np.testing.assert_allclose(to_numpy(t.gradient(y, x)), 3 * np.array([1.0, 4.0]))


def test_unwatched_constant_has_no_gradient():
    x = tensor(np.array([1.0]))
    with ef.GradientTape() as t:
        y = x * 2.0
    assert t.gradient(y, x) is None
    with ef.GradientTape() as t:
        y = x * 2.0
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x, unconnected_gradients="zero")), [0.0])


def test_non_persistent_tape_is_single_use():
    x = tensor(np.array(3.0))
    with ef.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        t.gradient(y, x)


def test_persistent_tape_gives_several_gradients():
    x = tensor(np.array(3.0))
    with ef.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        z = y * y
    assert float(t.gradient(z, x)) == pytest.approx(108.0)
    assert float(t.gradient(y, x)) == pytest.approx(6.0)


def test_trainable_variables_are_watched_automatically():
    v = ef.Variable(np.array([1.0, 2.0]))
    frozen = ef.Variable(np.array([1.0, 2.0]), trainable=False)
    with ef.GradientTape() as t:
        y = ef.reduce_sum(v * frozen)
    gv, gf = t.gradient(y, [v, frozen])
    np.testing.assert_array_equal(to_numpy(gv), [1.0, 2.0])
    assert gf is None
    assert t.watched_variables() == (v,)
    with ef.GradientTape(watch_accessed_variables=False) as t:
        y = ef.reduce_sum(v * v)
    assert t.gradient(y, v) is None


def test_nested_tapes_give_second_derivatives():
    x = tensor(np.array(2.0))
    with ef.GradientTape() as outer:
        outer.watch(x)
        with ef.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(12.0)
    assert float(d2y) == pytest.approx(12.0)


def test_stop_recording_and_no_grad():
    x = tensor(np.array(2.0))
    with ef.GradientTape() as t:
        t.watch(x)
        with t.stop_recording():
            y = x * x
        z = x * 3.0
    assert t.gradient(y, x) is None
    with ef.GradientTape() as t:
        t.watch(x)
        with ef.no_grad():
            y = x * x
    assert t.gradient(y, x) is None
    assert float(ef.stop_gradient(x)) == 2.0
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.stop_gradient(x) * x
    assert float(t.gradient(y, x)) == 2.0
    del z


def test_output_gradients_and_structures():
    x = tensor(np.array([1.0, 2.0]))
    w = tensor(np.array(3.0))
    with ef.GradientTape() as t:
        t.watch([x, w])
        y = x * w
    g = t.gradient(y, {"x": x, "w": w}, output_gradients=tensor(np.array([1.0, 10.0])))
    np.testing.assert_array_equal(to_numpy(g["x"]), [3.0, 30.0])
    assert float(g["w"]) == 21.0
    with ef.GradientTape() as t:
        t.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="does not match target shape"):
        t.gradient(y, x, output_gradients=tensor(np.ones(3)))


def test_gradient_of_integer_source_is_an_error():
    i = tensor(np.array([1, 2]))
    with ef.GradientTape() as t:
        t.watch(i)
        y = i * 2
    with pytest.raises(ValueError, match="dtype of a source must be floating, got int64"):
        t.gradient(y, i)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        with ef.GradientTape() as t:
            t.watch(np.ones(2))
    x = tensor(np.ones(2))
    with ef.GradientTape() as t:
        t.watch(x)
        y = x * 2.0
    with pytest.raises(ValueError, match="unconnected_gradients"):
        t.gradient(y, x, unconnected_gradients="always")
    t2 = ef.GradientTape()
    with t2:
        with pytest.raises(ValueError, match="already recording"):
            t2.__enter__()


def test_jacobian_and_reset():
    x = tensor(np.array([1.0, 2.0, 3.0]))
    with ef.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    j = t.jacobian(y, x)
    np.testing.assert_allclose(to_numpy(j), np.diag([2.0, 4.0, 6.0]))
    t.reset()
    assert t.gradient(y, x) is None


def test_gradient_accumulates_over_reuse_and_multiple_targets():
    x = tensor(np.array(2.0))
    with ef.GradientTape() as t:
        t.watch(x)
        a = x * x
        b = x * 3.0
    assert float(t.gradient([a, b], x)) == pytest.approx(7.0)


def test_intermediate_source():
    x = tensor(np.array(2.0))
    with ef.GradientTape() as t:
        t.watch(x)
        h = x * x
        y = h * 3.0
    gh, gx = t.gradient(y, [h, x])
    assert float(gh) == 3.0 and float(gx) == 12.0


def test_multi_output_op_with_one_unused_output():
    x = tensor(np.arange(6.0).reshape(2, 3))
    with ef.GradientTape() as t:
        t.watch(x)
        a, b = ef.split(x, 2, axis=0)
        y = ef.reduce_sum(b * 2.0)
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), [[0, 0, 0], [2, 2, 2]])
