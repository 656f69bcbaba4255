"""grad, value_and_grad, custom_gradient."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import tensor, to_numpy


def test_value_and_grad_and_argnums():
    f = lambda x, y: ef.reduce_sum(x * y * y)  # noqa: E731
    v, (gx, gy) = ef.value_and_grad(f, argnums=(0, 1))(tensor(np.array([2.0])),
                                                        tensor(np.array([3.0])))
    assert float(v) == 18.0 and to_numpy(gx).tolist() == [9.0] and to_numpy(gy).tolist() == [12.0]
    g = ef.grad(f, argnums=1)(tensor(np.array([2.0])), tensor(np.array([3.0])))
    assert to_numpy(g).tolist() == [12.0]
    (val, aux), g = ef.value_and_grad(lambda x: (x * x, "aux"), has_aux=True)(tensor(np.array(3.0)))
    assert aux == "aux" and float(g) == 6.0


def test_grad_composes():
    f = lambda x: x ** 4.0  # noqa: E731
    assert float(ef.grad(ef.grad(ef.grad(f)))(ef.constant(np.float64(2.0)))) == pytest.approx(48.0)


def test_grad_errors():
    with pytest.raises(ValueError, match="scalar"):
        ef.grad(lambda x: x * 2.0)(tensor(np.ones(2)))
    with pytest.raises(ValueError, match="argnums 3 is out of range"):
        ef.grad(lambda x: x, argnums=3)(tensor(np.ones(())))
    with pytest.raises(TypeError, match="must return a Tensor"):
        ef.grad(lambda x: 1.0)(tensor(np.ones(())))


def test_custom_gradient_replaces_the_vjp():
    @ef.custom_gradient
    def clipped_identity(x):
        def grad_fn(dy):
            return ef.clip_by_value(dy, -1.0, 1.0)
        return ef.identity(x), grad_fn

    x = tensor(np.array([1.0, 2.0]))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(clipped_identity(x) * 5.0)
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), [1.0, 1.0])
    np.testing.assert_array_equal(to_numpy(clipped_identity(x)), [1.0, 2.0])


def test_custom_gradient_log1pexp_is_stable():
    @ef.custom_gradient
    def log1pexp(x):
        e = ef.exp(x)
        return ef.log(1.0 + e), lambda dy: dy * (1.0 - 1.0 / (1.0 + e))

    x = tensor(np.array(100.0))
    with ef.GradientTape() as t:
        t.watch(x)
        y = log1pexp(x)
    assert float(t.gradient(y, x)) == pytest.approx(1.0)


def test_custom_gradient_with_variables():
    w = ef.Variable(np.array([2.0]))

    @ef.custom_gradient
    def scale(x):
        def grad_fn(dy, variables=None):
            return dy * w, [dy * x * 10.0]
        return x * w, grad_fn

    x = tensor(np.array([3.0]))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(scale(x))
    gx, gw = t.gradient(y, [x, w])
    assert to_numpy(gx).tolist() == [2.0] and to_numpy(gw).tolist() == [30.0]

    @ef.custom_gradient
    def bad(x):
        return x * w, lambda dy: dy
    with pytest.raises(TypeError, match="variables"):
        with ef.GradientTape():
            bad(x)
