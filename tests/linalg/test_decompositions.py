"""linalg factorizations: cholesky, qr, svd, eigh, eigvalsh, and norm. NumPy references in
float32 and float64, the reconstruction identities, gradients (eigh/svd on well-separated
spectra, with eigenvector signs fixed so finite differences are well defined), bad input."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.linalg as linalg
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(5)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}


def rand(*shape):
    return R.standard_normal(shape)


def spd(*shape):
    a = rand(*shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def orthogonal(*shape):
    return np.linalg.qr(rand(*shape))[0]


def separated_sym(batch, n):
    """Symmetric matrices with eigenvalues 1, 2.5, 4, ... (gaps of 1.5)."""
    q = orthogonal(batch, n, n)
    w = 1.0 + 1.5 * np.arange(n)
    return q @ (w[:, None] * np.swapaxes(q, -1, -2))


def separated(batch, m, n):
    """Matrices with singular values 4, 3, 2, ... (well separated, non-zero)."""
    k = min(m, n)
    u, v = orthogonal(batch, m, k), orthogonal(batch, n, k)
    s = 4.0 - np.arange(k)
    return u @ (s[:, None] * np.swapaxes(v, -1, -2))


def sym(a):
    return 0.5 * (a + linalg.adjoint(a))


def _fix_sign(vecs, ref):
    """Multiplies column j of each matrix in ``vecs`` by the sign of ``ref[..., 0, j]``."""
    return vecs * ef.sign(ref[..., :1, :])


def _eigh_fixed(a):
    e, v = linalg.eigh(a)
    return e, _fix_sign(v, v)


def _svd_fixed(a, full_matrices=False):
    s, u, v = linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    sgn = ef.sign(u[..., :1, :k])
    return s, u[..., :, :k] * sgn, v[..., :, :k] * sgn


GRAD_CASES = [
    GradCase("cholesky", lambda a: linalg.cholesky(sym(a)), spd(2, 3, 3), order=2),
    GradCase("cholesky", lambda a: linalg.cholesky(sym(a)), spd(4, 4), id="cholesky-4x4"),
    GradCase("self_adjoint_eig", _eigh_fixed, separated_sym(2, 3), order=2),
    GradCase("self_adjoint_eig", lambda a: _eigh_fixed(sym(a)), separated_sym(1, 4),
             id="eigh-symmetrized"),
    GradCase("self_adjoint_eigvals", lambda a: linalg.eigvalsh(a), separated_sym(2, 3)),
    GradCase("svd", _svd_fixed, separated(2, 3, 3), order=2),
    GradCase("svd", _svd_fixed, separated(2, 5, 3), id="svd-tall"),
    GradCase("svd", _svd_fixed, separated(2, 3, 5), id="svd-wide"),
    GradCase("svd", lambda a: _svd_fixed(a, full_matrices=True), separated(1, 3, 3),
             id="svd-full-square"),
    GradCase("singular_values", lambda a: linalg.svd(a, compute_uv=False), separated(2, 4, 3)),
    GradCase("qr", lambda a: linalg.qr(a), rand(2, 3, 3), order=2),
    GradCase("qr", lambda a: linalg.qr(a), rand(2, 5, 3), id="qr-tall"),
    GradCase("qr", lambda a: linalg.qr(a), rand(2, 3, 5), id="qr-wide"),
    GradCase("qr", lambda a: linalg.qr(a, full_matrices=True), rand(3, 4), id="qr-full-wide"),
    GradCase("singular_values", lambda a: linalg.norm(a, ord=2, axis=(-2, -1)),
             separated(2, 3, 4), id="norm-2-matrix"),
    GradCase(["abs", "reduce_max"], lambda a: linalg.norm(a, ord=1, axis=(0, 1)), rand(3, 4),
             id="norm-1-matrix"),
    GradCase(["pow"], lambda a: linalg.norm(a, ord=3, axis=-1), rand(2, 4), id="norm-p"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_matches_numpy_and_reconstructs(dtype):
    a = spd(2, 3, 5, 5).astype(dtype)
    chol = linalg.cholesky(tensor(a))
    assert chol.dtype == dtype
    np.testing.assert_allclose(to_numpy(chol), np.linalg.cholesky(a), **TOL[dtype])
    np.testing.assert_allclose(to_numpy(chol @ linalg.adjoint(chol)), a,
                               rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


def test_cholesky_rejects_non_positive_definite_input():
    a = spd(3, 4, 4)
    a[1] = -a[1]  # one bad matrix in the batch is enough
    with pytest.raises(linalg.LinAlgError, match="cholesky: .*not .*positive definite"):
        linalg.cholesky(tensor(a))
    indefinite = np.diag([1.0, -1.0, 2.0]).astype(np.float32)
    with pytest.raises(linalg.LinAlgError, match="positive definite"):
        linalg.cholesky(tensor(indefinite))
    with pytest.raises(ValueError, match=r"cholesky: input must be square .*\(3, 4\)"):
        linalg.cholesky(tensor(rand(3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n", [(5, 3), (4, 4), (3, 5)])
@pytest.mark.parametrize("full", [False, True])
def test_qr_shapes_identity_and_orthogonality(dtype, m, n, full):
    a = rand(2, m, n).astype(dtype)
    q, r = linalg.qr(tensor(a), full_matrices=full)
    qn, rn = to_numpy(q), to_numpy(r)
    wq, wr = np.linalg.qr(a, mode="complete" if full else "reduced")
    assert qn.shape == wq.shape and rn.shape == wr.shape and qn.dtype == dtype
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(qn @ rn, a, **tol)
    np.testing.assert_allclose(np.swapaxes(qn, -1, -2) @ qn, np.broadcast_to(
        np.eye(qn.shape[-1]), (2,) + (qn.shape[-1],) * 2), **tol)
    np.testing.assert_array_equal(rn, np.triu(rn))
    np.testing.assert_allclose(np.abs(rn), np.abs(wr), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n", [(5, 3), (4, 4), (3, 5)])
def test_svd_matches_numpy_and_reconstructs(dtype, m, n):
    a = rand(3, m, n).astype(dtype)
    s, u, v = linalg.svd(tensor(a))
    sn, un, vn = to_numpy(s), to_numpy(u), to_numpy(v)
    k = min(m, n)
    assert sn.shape == (3, k) and un.shape == (3, m, k) and vn.shape == (3, n, k)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sn, np.linalg.svd(a, compute_uv=False), **tol)
    # TF returns v itself (not v^H): a = u diag(s) v^T
    np.testing.assert_allclose((un * sn[:, None, :]) @ np.swapaxes(vn, -1, -2), a, **tol)
    np.testing.assert_allclose(to_numpy(linalg.svd(tensor(a), compute_uv=False)), sn, **tol)
    sf, uf, vf = linalg.svd(tensor(a), full_matrices=True)
    assert tuple(uf.shape) == (3, m, m) and tuple(vf.shape) == (3, n, n)
    np.testing.assert_allclose(to_numpy(uf)[..., :k] * sn[:, None, :] @
                               np.swapaxes(to_numpy(vf)[..., :k], -1, -2), a, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eigh_and_eigvalsh_match_numpy(dtype):
    a = rand(2, 3, 4, 4)
    a = (a + np.swapaxes(a, -1, -2)).astype(dtype)
    e, v = linalg.eigh(tensor(a))
    en, vn = to_numpy(e), to_numpy(v)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(en, np.linalg.eigvalsh(a), **tol)
    np.testing.assert_allclose((vn * en[..., None, :]) @ np.swapaxes(vn, -1, -2), a, **tol)
    np.testing.assert_allclose(to_numpy(linalg.eigvalsh(tensor(a))), en, **tol)
    # only the lower triangle is read, as in TF
    np.testing.assert_allclose(to_numpy(linalg.eigvalsh(tensor(np.tril(a)))), en, **tol)


def test_degenerate_spectrum_gives_non_finite_eigenvector_gradient():
    x = tensor(np.eye(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        with ef.GradientTape() as tape:
            tape.watch(x)
            _, v = linalg.eigh(x)
            y = ef.reduce_sum(v * tensor(rand(3, 3)))
        grad = tape.gradient(y, x)
    assert not np.all(np.isfinite(to_numpy(grad)))


def test_empty_batches():
    a = tensor(np.zeros((0, 3, 3)))
    assert tuple(linalg.cholesky(a).shape) == (0, 3, 3)
    assert [tuple(t.shape) for t in linalg.eigh(a)] == [(0, 3), (0, 3, 3)]
    assert [tuple(t.shape) for t in linalg.svd(tensor(np.zeros((0, 4, 3))))] == \
        [(0, 3), (0, 4, 3), (0, 3, 3)]
    assert [tuple(t.shape) for t in linalg.qr(tensor(np.zeros((0, 4, 3))))] == \
        [(0, 4, 3), (0, 3, 3)]


@pytest.mark.parametrize("ord,axis", [
    ("euclidean", None), ("euclidean", -1), ("euclidean", (0, 1)), ("fro", (1, 2)),
    (1, 0), (2, 1), (np.inf, -1), (0.5, 1), (3, None), (1, (1, 2)), (2, (1, 2)),
    (np.inf, (1, 2)), (1, (2, 1)), (np.inf, (2, 1)), (2, (-1, 0))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_matches_numpy(ord, axis, keepdims):
    x = rand(2, 3, 4)
    got = to_numpy(linalg.norm(tensor(x), ord=ord, axis=axis, keepdims=keepdims))
    np_ord = {"euclidean": None}.get(ord, ord) if isinstance(ord, str) else ord
    if axis is None:
        want = np.linalg.norm(x.ravel(), ord=np_ord)
        if keepdims:
            want = np.reshape(want, (1, 1, 1))
    else:
        want = np.linalg.norm(x, ord=np_ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_norm_float32():
    x = rand(3, 4).astype(np.float32)
    got = linalg.norm(tensor(x), ord=2, axis=(0, 1))
    assert got.dtype == np.float32
    np.testing.assert_allclose(to_numpy(got), np.linalg.norm(x, 2), rtol=1e-5)


def test_bad_norm_and_svd_arguments():
    x = tensor(rand(2, 3))
    with pytest.raises(ValueError, match="'ord' must be a supported matrix norm"):
        linalg.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm"):
        linalg.norm(x, ord="fro", axis=1)
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm"):
        linalg.norm(x, ord=-1)
    with pytest.raises(ValueError, match="tuple of 2 unique integers"):
        linalg.norm(x, axis=(1, 1))
    with pytest.raises(ValueError, match="tuple of 2 unique integers"):
        linalg.norm(x, axis=(0, 1, 2))
    with pytest.raises(TypeError, match="svd: tensor must be float32, float64 or complex"):
        linalg.svd(tensor(np.ones((2, 2), dtype=np.int32)))
    with pytest.raises(ValueError, match=r"eigh: tensor must be square"):
        linalg.eigh(x)
    with pytest.raises(ValueError, match=r"qr: input must have rank >= 2"):
        linalg.qr(tensor(rand(3)))


def test_unsupported_gradients_raise():
    x = tensor(separated(1, 4, 3)[0])
    with ef.GradientTape() as tape:
        tape.watch(x)
        q, r = linalg.qr(x, full_matrices=True)
        y = ef.reduce_sum(q)
    with pytest.raises(NotImplementedError, match="qr: the gradient is not implemented"):
        tape.gradient(y, x)
    with ef.GradientTape() as tape:
        tape.watch(x)
        s, u, v = linalg.svd(x, full_matrices=True)
        y = ef.reduce_sum(u)
    with pytest.raises(NotImplementedError, match="svd: the gradient of full_matrices=True"):
        tape.gradient(y, x)


def test_float32_stays_float32():
    a = spd(2, 3, 3).astype(np.float32)
    b = rand(2, 3, 2).astype(np.float32)
    ta, tb = tensor(a), tensor(b)
    outs = [linalg.cholesky(ta), *linalg.qr(ta), *linalg.svd(ta), linalg.svd(ta, compute_uv=False),
            *linalg.eigh(ta), linalg.eigvalsh(ta), linalg.inv(ta), linalg.det(ta),
            *linalg.slogdet(ta), linalg.logdet(ta), linalg.solve(ta, tb),
            linalg.triangular_solve(ta, tb), linalg.lstsq(ta, tb), linalg.lstsq(ta, tb, fast=False),
            linalg.expm(ta), linalg.logm(ta), linalg.norm(ta, ord=2, axis=(-2, -1)),
            linalg.trace(ta), linalg.band_part(ta, 0, 0), linalg.l2_normalize(ta)]
    assert [o.dtype for o in outs] == [np.dtype(np.float32)] * len(outs)


def test_complex128_forwards():
    a = rand(2, 3, 3) + 1j * rand(2, 3, 3)
    h = a @ np.conj(np.swapaxes(a, -1, -2)) + 3 * np.eye(3)
    b = rand(2, 3, 2) + 1j * rand(2, 3, 2)
    ta, th = tensor(a), tensor(h)
    np.testing.assert_allclose(to_numpy(linalg.cholesky(th)), np.linalg.cholesky(h), atol=1e-12)
    np.testing.assert_allclose(to_numpy(linalg.solve(ta, tensor(b))), np.linalg.solve(a, b),
                               atol=1e-12)
    np.testing.assert_allclose(to_numpy(linalg.inv(ta)), np.linalg.inv(a), atol=1e-12)
    np.testing.assert_allclose(to_numpy(linalg.det(ta)), np.linalg.det(a), atol=1e-12)
    np.testing.assert_allclose(to_numpy(linalg.eigvalsh(th)), np.linalg.eigvalsh(h), atol=1e-12)
    s, u, v = (to_numpy(t) for t in linalg.svd(ta))
    np.testing.assert_allclose((u * s[:, None, :]) @ np.conj(np.swapaxes(v, -1, -2)), a,
                               atol=1e-12)
    q, r = linalg.qr(ta)
    np.testing.assert_allclose(to_numpy(q @ r), a, atol=1e-12)
    shifted = a + 3 * np.eye(3)
    np.testing.assert_allclose(to_numpy(linalg.expm(linalg.logm(tensor(shifted)))), shifted,
                               atol=1e-11)
