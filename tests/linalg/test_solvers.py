"""linalg solves, inverses, determinants and the factored solvers (cholesky_solve, logdet,
lstsq): NumPy/SciPy references in float32 and float64, gradients, bad input."""
import numpy as np
import pytest
import scipy.linalg

import eagerflow as ef
import eagerflow.linalg as linalg
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(11)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


def rand(*shape):
    return R.standard_normal(shape)


def well(*shape):
    """Well-conditioned square matrices: random plus a multiple of the identity."""
    n = shape[-1]
    return rand(*shape) + 3.0 * np.eye(n)


def spd(*shape):
    a = rand(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(a):
    return 0.5 * (a + linalg.adjoint(a))


GRAD_CASES = [
    GradCase("matrix_solve", lambda a, b: linalg.solve(a, b), well(2, 3, 3), rand(2, 3, 2),
             order=2),
    GradCase("matrix_solve", lambda a, b: linalg.solve(a, b, adjoint=True), well(3, 3),
             rand(2, 3, 2), id="matrix_solve-adjoint-broadcast"),
    GradCase("matrix_triangular_solve", lambda a, b: linalg.triangular_solve(a, b),
             well(2, 3, 3), rand(2, 3, 2), order=2),
    GradCase("matrix_triangular_solve",
             lambda a, b: linalg.triangular_solve(a, b, lower=False, adjoint=True),
             well(3, 3), rand(2, 3, 1), id="triangular_solve-upper-adjoint-broadcast"),
    GradCase("matrix_inverse", lambda a: linalg.inv(a), well(2, 3, 3), order=2),
    GradCase("matrix_inverse", lambda a: linalg.inv(a, adjoint=True), well(3, 3),
             id="inv-adjoint"),
    GradCase("matrix_determinant", lambda a: linalg.det(a), well(2, 3, 3), order=2),
    GradCase("log_matrix_determinant", lambda a: linalg.slogdet(a), well(2, 3, 3), order=2),
    GradCase(["cholesky", "matrix_triangular_solve"],
             lambda c, b: linalg.cholesky_solve(linalg.cholesky(sym(c)), b), spd(2, 3, 3),
             rand(2, 3, 2), id="cholesky_solve"),
    GradCase(["cholesky", "log"], lambda a: linalg.logdet(sym(a)), spd(2, 3, 3), id="logdet"),
    GradCase(["cholesky", "matrix_triangular_solve"],
             lambda a, b: linalg.lstsq(a, b, l2_regularizer=0.1), rand(2, 5, 3), rand(2, 5, 2),
             id="lstsq-fast-tall"),
    GradCase(["cholesky"], lambda a, b: linalg.lstsq(a, b), rand(3, 5), rand(3, 2),
             id="lstsq-fast-wide"),
    GradCase(["qr", "matrix_triangular_solve"], lambda a, b: linalg.lstsq(a, b, fast=False),
             rand(5, 3), rand(5, 2), id="lstsq-qr-tall"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solve_inv_det_slogdet_match_numpy(dtype):
    a = well(2, 3, 4, 4).astype(dtype)
    b = rand(2, 3, 4, 2).astype(dtype)
    ta, tb = tensor(a), tensor(b)
    tol = TOL[dtype]
    x = linalg.solve(ta, tb)
    assert x.dtype == dtype and tuple(x.shape) == (2, 3, 4, 2)
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(a, b), **tol)
    np.testing.assert_allclose(to_numpy(linalg.solve(ta, tb, adjoint=True)),
                               np.linalg.solve(np.swapaxes(a, -1, -2), b), **tol)
    np.testing.assert_allclose(to_numpy(linalg.inv(ta)), np.linalg.inv(a), **tol)
    np.testing.assert_allclose(to_numpy(linalg.det(ta)), np.linalg.det(a),
                               rtol=tol["rtol"] * 10)
    sign, logabs = linalg.slogdet(tensor(-a))
    ws, wl = np.linalg.slogdet(-a)
    np.testing.assert_array_equal(to_numpy(sign), ws)
    np.testing.assert_allclose(to_numpy(logabs), wl, **tol)
    # identity: inv(A) @ A = I
    np.testing.assert_allclose(to_numpy(linalg.inv(ta) @ ta), np.broadcast_to(np.eye(4), a.shape),
                               atol=tol["atol"] * 10)


def test_solve_broadcasts_batch_dimensions():
    a, b = well(3, 3), rand(2, 4, 3, 2)
    np.testing.assert_allclose(to_numpy(linalg.solve(tensor(a), tensor(b))),
                               np.linalg.solve(a, b), rtol=1e-10)
    a2, b2 = well(2, 1, 3, 3), rand(5, 3, 1)
    np.testing.assert_allclose(to_numpy(linalg.solve(tensor(a2), tensor(b2))),
                               np.linalg.solve(a2, np.broadcast_to(b2, (2, 5, 3, 1))),
                               rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lower,adjoint", [(True, False), (True, True), (False, False),
                                           (False, True)])
def test_triangular_solve_matches_scipy(dtype, lower, adjoint):
    a = well(2, 4, 4).astype(dtype)  # the other triangle must be ignored
    b = rand(2, 4, 3).astype(dtype)
    got = to_numpy(linalg.triangular_solve(tensor(a), tensor(b), lower=lower, adjoint=adjoint))
    want = np.stack([scipy.linalg.solve_triangular(a[i], b[i], lower=lower,
                                                   trans="T" if adjoint else "N")
                     for i in range(2)])
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_solve_and_logdet(dtype):
    a = spd(3, 4, 4).astype(dtype)
    b = rand(3, 4, 2).astype(dtype)
    c = linalg.cholesky(tensor(a))
    np.testing.assert_allclose(to_numpy(linalg.cholesky_solve(c, tensor(b))),
                               np.linalg.solve(a, b), **TOL[dtype])
    np.testing.assert_allclose(to_numpy(linalg.logdet(tensor(a))), np.linalg.slogdet(a)[1],
                               **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n", [(6, 3), (3, 3), (3, 5)])
def test_lstsq_matches_numpy(dtype, m, n):
    a = rand(2, m, n).astype(dtype)
    b = rand(2, m, 2).astype(dtype)
    want = np.stack([np.linalg.lstsq(a[i].astype(np.float64), b[i].astype(np.float64),
                                     rcond=None)[0] for i in range(2)])
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-8)
    for fast in (True, False):
        got = to_numpy(linalg.lstsq(tensor(a), tensor(b), fast=fast))
        assert got.shape == (2, n, 2)
        np.testing.assert_allclose(got, want, **tol)


def test_lstsq_l2_regularizer():
    a, b = rand(5, 3), rand(5, 2)
    lam = 0.7
    want = np.linalg.solve(a.T @ a + lam * np.eye(3), a.T @ b)
    np.testing.assert_allclose(to_numpy(linalg.lstsq(tensor(a), tensor(b), l2_regularizer=lam)),
                               want, rtol=1e-10)
    aw, bw = rand(2, 4), rand(2, 1)
    want_w = aw.T @ np.linalg.solve(aw @ aw.T + lam * np.eye(2), bw)
    np.testing.assert_allclose(
        to_numpy(linalg.lstsq(tensor(aw), tensor(bw), l2_regularizer=lam)), want_w, rtol=1e-10)


def test_empty_batches():
    a = tensor(np.zeros((0, 3, 3)))
    b = tensor(np.zeros((0, 3, 2)))
    assert tuple(linalg.solve(a, b).shape) == (0, 3, 2)
    assert tuple(linalg.triangular_solve(a, b).shape) == (0, 3, 2)
    assert tuple(linalg.inv(a).shape) == (0, 3, 3)
    assert tuple(linalg.det(a).shape) == (0,)
    assert [tuple(t.shape) for t in linalg.slogdet(a)] == [(0,), (0,)]


def test_bad_input():
    sq, rect = tensor(well(3, 3)), tensor(rand(3, 4))
    with pytest.raises(ValueError, match=r"solve: matrix must be square .* got shape \(3, 4\)"):
        linalg.solve(rect, tensor(rand(3, 1)))
    with pytest.raises(ValueError, match=r"solve: matrix has shape \(3, 3\) but rhs has shape "
                                         r"\(4, 1\)"):
        linalg.solve(sq, tensor(rand(4, 1)))
    with pytest.raises(ValueError, match=r"solve: rhs must have rank >= 2.*got shape \(3,\)"):
        linalg.solve(sq, tensor(rand(3)))
    with pytest.raises(ValueError, match=r"batch dimensions of matrix \(shape \(2, 3, 3\)\) "
                                         r"and rhs \(shape \(4, 3, 1\)\) do not broadcast"):
        linalg.solve(tensor(well(2, 3, 3)), tensor(rand(4, 3, 1)))
    with pytest.raises(TypeError, match="solve: matrix has dtype float64 but rhs has dtype "
                                        "float32"):
        linalg.solve(sq, tensor(rand(3, 1).astype(np.float32)))
    with pytest.raises(TypeError, match="inv: input must be float32, float64 or complex"):
        linalg.inv(tensor(np.eye(2, dtype=np.int64)))
    for fn in (linalg.inv, linalg.det, linalg.slogdet, linalg.logdet):
        with pytest.raises(ValueError, match=r"must be square \(shape \(\.\.\., n, n\)\)"):
            fn(rect)
    with pytest.raises(ValueError, match=r"triangular_solve: matrix has shape \(3, 3\) but rhs"):
        linalg.triangular_solve(sq, tensor(rand(2, 2)))
    with pytest.raises(ValueError, match=r"cholesky_solve: chol has shape \(3, 3\) but rhs"):
        linalg.cholesky_solve(sq, tensor(rand(2, 2)))
    with pytest.raises(ValueError, match="lstsq: matrix has shape .* same number of rows"):
        linalg.lstsq(rect, tensor(rand(4, 1)))


def test_singular_matrix_behaviour_per_backend():
    singular = tensor(np.zeros((2, 2)))
    if ef.get_backend() == "numpy":
        with pytest.raises(linalg.LinAlgError, match="inv: the matrix is singular"):
            linalg.inv(singular)
    else:  # documented: CuPy's batched solver reports nothing, the result is not finite
        assert not np.all(np.isfinite(to_numpy(linalg.inv(singular))))
