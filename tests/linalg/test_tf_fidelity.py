"""Fidelity to TensorFlow for tf.linalg / tf.math behaviours that eagerflow got wrong or
lacked: expected values come from TF's documentation or source (cited per test)."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.linalg as linalg
from tests.gradcheck import check_grads, tensor, to_numpy

R = np.random.default_rng(5)


# --- tf.linalg.norm on complex input ---------------------------------------------------
# TF (python/ops/linalg_ops.py, norm_v2): the euclidean/fro norm is
# ``sqrt(reduce_sum(tensor * math_ops.conj(tensor)))``, i.e. sqrt(sum |z|^2).
def test_norm_complex_vector_uses_conjugate():
    z = tensor(np.array([3 + 4j, 0 + 0j], np.complex128))
    got = to_numpy(linalg.norm(z))
    assert got.real == pytest.approx(5.0) and got.imag == pytest.approx(0.0)
    got2 = to_numpy(linalg.norm(z, ord=2, axis=0))
    assert got2.real == pytest.approx(5.0) and got2.imag == pytest.approx(0.0)


def test_norm_complex_matrix_frobenius():
    a = np.array([[1 + 1j, 2 - 1j], [0 + 3j, 1 + 0j]], np.complex64)
    want = np.sqrt(np.sum(np.abs(a) ** 2))  # = sqrt(2 + 5 + 9 + 1) = sqrt(17)
    got = to_numpy(linalg.norm(tensor(a), ord="fro", axis=[-2, -1]))
    np.testing.assert_allclose(got.real, want, rtol=1e-6)
    np.testing.assert_allclose(got.imag, 0.0, atol=1e-6)


def test_norm_real_gradients_unchanged():
    check_grads(lambda x: linalg.norm(x, axis=-1), R.standard_normal((3, 4)))
    check_grads(lambda x: linalg.norm(x, ord="fro", axis=[0, 1]), R.standard_normal((3, 4)))


# --- tf.math.reduce_variance / reduce_std -----------------------------------------------
# TF (python/ops/math_ops.py, reduce_variance): ``if means.dtype.is_integer: raise
# TypeError("Input must be either real or complex. ...")``; reduce_std calls it.
def test_reduce_variance_rejects_integers():
    with pytest.raises(TypeError, match="real or complex"):
        ef.math.reduce_variance(ef.constant([1, 2, 3]))
    with pytest.raises(TypeError, match="real or complex"):
        ef.math.reduce_std(ef.constant([1, 2, 3]))
    assert float(ef.math.reduce_variance(ef.constant([1.0, 2.0])).numpy()) == 0.25


# --- tf.math.truncatediv / truncatemod ---------------------------------------------------
# TF docs (tf.math.truncatediv): "Truncation designates that negative numbers will round
# fractional quantities toward zero. I.e. -7 / 5 = -1." tf.math.truncatemod: "the result
# here is consistent with a truncating divide. E.g. truncate(x / y) * y + truncate_mod(x,
# y) = x" (C's fmod), whereas floormod follows Python's sign rule.
def test_truncatediv_truncatemod_ints():
    x = ef.constant([-7, 7, -7, 7, -7], dtype=np.int32)
    y = ef.constant([2, -2, -2, 2, 5], dtype=np.int32)
    q = to_numpy(ef.math.truncatediv(x, y))
    r = to_numpy(ef.math.truncatemod(x, y))
    assert q.tolist() == [-3, -3, 3, 3, -1]
    assert r.tolist() == [-1, 1, -1, 1, -2]
    assert (q * to_numpy(y) + r).tolist() == to_numpy(x).tolist()
    assert q.dtype == np.int32 and r.dtype == np.int32
    # floormod keeps Python's sign rule
    assert to_numpy(ef.math.floormod(x, y)).tolist() == [1, -1, -1, 1, 3]


def test_truncatediv_truncatemod_floats():
    x = ef.constant([-7.5, 7.5])
    y = ef.constant([2.0, -2.0])
    assert to_numpy(ef.math.truncatediv(x, y)).tolist() == [-3.0, -3.0]
    assert to_numpy(ef.math.truncatemod(x, y)).tolist() == [-1.5, 1.5]


# --- tf.math.xdivy --------------------------------------------------------------------
# TF docs: "Returns 0 if x == 0, and x / y otherwise, elementwise." Gradient (math_grad.py,
# _XDivyGrad): d/dx = xdivy(x != 0, y), d/dy = xdivy(-x, y ** 2).
def test_xdivy_values():
    got = to_numpy(ef.math.xdivy(ef.constant([0.0, 1.0, 0.0, 3.0]),
                                 ef.constant([0.0, 2.0, np.nan, 4.0])))
    np.testing.assert_allclose(got, [0.0, 0.5, 0.0, 0.75])
    assert to_numpy(ef.math.xdivy(ef.constant([0.0, 1.0]), 2.0)).tolist() == [0.0, 0.5]


def test_xdivy_gradients():
    x = np.array([0.7, -1.3, 2.0])
    y = np.array([1.5, 2.5, -0.8])
    check_grads(ef.math.xdivy, x, y)
    xs, ys = tensor(np.array([0.0, 2.0])), tensor(np.array([0.0, 4.0]))
    with ef.GradientTape() as tape:
        tape.watch([xs, ys])
        out = ef.reduce_sum(ef.math.xdivy(xs, ys))
    gx, gy = tape.gradient(out, [xs, ys])
    np.testing.assert_allclose(to_numpy(gx), [0.0, 0.25])
    np.testing.assert_allclose(to_numpy(gy), [0.0, -2.0 / 16.0])


# --- tf.linalg.pinv -------------------------------------------------------------------
# TF (python/ops/linalg/linalg_impl.py, pinv): rcond defaults to
# ``10 * max(num_rows, num_cols) * np.finfo(dtype).eps``; singular values <= rcond * max(s)
# are treated as zero; result ``v @ diag(1/s) @ u^H`` of shape (..., n, m).
def test_pinv_docstring_examples():
    a = np.array([[1.0, 0.4, 0.5], [0.4, 0.2, 0.25], [0.5, 0.25, 0.35]], np.float32)
    np.testing.assert_allclose(to_numpy(ef.matmul(linalg.pinv(tensor(a)), tensor(a))),
                               np.eye(3), atol=1e-4)
    b = np.array([[1.0, 0.4, 0.5, 1.0], [0.4, 0.2, 0.25, 2.0], [0.5, 0.25, 0.35, 3.0]],
                 np.float32)
    want = [[0.76, 0.37, 0.21, -0.02], [0.37, 0.43, -0.33, 0.02],
            [0.21, -0.33, 0.81, 0.01], [-0.02, 0.02, 0.01, 1.0]]
    got = to_numpy(ef.matmul(linalg.pinv(tensor(b)), tensor(b)))
    np.testing.assert_allclose(got, want, atol=6e-3)


def test_pinv_rank_deficient_and_rcond():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: pinv = a / 25
    np.testing.assert_allclose(to_numpy(linalg.pinv(tensor(a))), a / 25.0, rtol=1e-12)
    # a large rcond drops the smaller singular value (diag(4, 1) -> diag(1/4, 0))
    d = np.diag([4.0, 1.0])
    np.testing.assert_allclose(to_numpy(linalg.pinv(tensor(d), rcond=0.5)),
                               np.diag([0.25, 0.0]), atol=1e-12)
    np.testing.assert_allclose(to_numpy(linalg.pinv(tensor(d))), np.diag([0.25, 1.0]))
    x = R.standard_normal((2, 3, 4))
    got = to_numpy(linalg.pinv(tensor(x)))
    assert got.shape == (2, 4, 3)
    np.testing.assert_allclose(got, np.linalg.pinv(x), rtol=1e-10, atol=1e-10)


def test_pinv_gradient():
    check_grads(linalg.pinv, R.standard_normal((3, 2)), expect_ops=("svd",))
    check_grads(linalg.pinv, R.standard_normal((2, 4)))
