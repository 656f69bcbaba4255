"""linalg expm and logm: SciPy references in float32 and float64 (with and without
squaring, symmetric positive definite and general inputs), the identities expm(logm(A)) = A
and logm(expm(A)) = A, Fréchet-derivative gradients, bad input."""
import numpy as np
import pytest
import scipy.linalg

import eagerflow as ef
import eagerflow.linalg as linalg
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(3)


def rand(*shape):
    return R.standard_normal(shape)


def batched(fn, a):
    flat = a.reshape((-1,) + a.shape[-2:])
    return np.stack([fn(m) for m in flat]).reshape(a.shape)


def near_identity(*shape, scale=0.4):
    """``expm(scale * noise)``: a real logarithm exists, and it is ``scale * noise``."""
    return batched(scipy.linalg.expm, scale * rand(*shape))


def spd(*shape):
    a = rand(*shape)
    return a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(shape[-1])


GRAD_CASES = [
    GradCase("matrix_exponential", lambda a: linalg.expm(a), 0.5 * rand(2, 3, 3), order=2),
    GradCase("matrix_exponential", lambda a: linalg.expm(a), 3.0 * rand(2, 3, 3),
             id="expm-with-squaring"),
    GradCase("matrix_logarithm", lambda a: linalg.logm(a), near_identity(2, 3, 3)),
    GradCase("matrix_logarithm", lambda a: linalg.logm(a), spd(1, 3, 3), id="logm-spd"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [0.1, 1.0, 8.0])
def test_expm_matches_scipy(dtype, scale):
    a = scale * rand(2, 3, 4, 4)
    a[0, 0] = 0.0  # the zero matrix (exp = I) in the same batch as large norms
    want = batched(scipy.linalg.expm, a)
    got = to_numpy(linalg.expm(tensor(a.astype(dtype))))
    assert got.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logm_matches_references_general_and_spd(dtype):
    x = 0.6 * rand(2, 4, 4)
    general = batched(scipy.linalg.expm, x)
    general[1] *= 20.0  # far from the identity: several square roots
    want_general = x.copy()
    want_general[1] += np.log(20.0) * np.eye(4)
    pos = spd(3, 4, 4)
    want_pos = batched(lambda m: np.real(scipy.linalg.logm(m)), pos)
    tol = 2e-4 if dtype == np.float32 else 1e-9
    for a, want in ((general, want_general), (pos, want_pos)):
        got = to_numpy(linalg.logm(tensor(a.astype(dtype))))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_logm_rotation_has_complex_spectrum_but_real_log():
    t = 0.9
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    np.testing.assert_allclose(to_numpy(linalg.logm(tensor(rot))),
                               np.array([[0.0, -t], [t, 0.0]]), atol=1e-12)


def test_identities():
    a = near_identity(3, 4, 4, scale=0.5)
    np.testing.assert_allclose(to_numpy(linalg.expm(linalg.logm(tensor(a)))), a, rtol=1e-10,
                               atol=1e-10)
    p = spd(2, 3, 3)
    np.testing.assert_allclose(to_numpy(linalg.expm(linalg.logm(tensor(p)))), p, rtol=1e-10,
                               atol=1e-10)
    small = 0.3 * rand(2, 3, 3)
    np.testing.assert_allclose(to_numpy(linalg.logm(linalg.expm(tensor(small)))), small,
                               atol=1e-11)
    # exp(A + B) = exp(A) exp(B) for commuting A and B
    d = np.diag([0.5, -1.0, 2.0])
    np.testing.assert_allclose(to_numpy(linalg.expm(tensor(d))), np.diag(np.exp(np.diag(d))),
                               rtol=1e-13)


def test_empty_and_bad_input():
    assert tuple(linalg.expm(tensor(np.zeros((0, 2, 2)))).shape) == (0, 2, 2)
    assert tuple(linalg.logm(tensor(np.zeros((0, 2, 2)))).shape) == (0, 2, 2)
    with pytest.raises(ValueError, match=r"expm: input must be square .*\(2, 3\)"):
        linalg.expm(tensor(rand(2, 3)))
    with pytest.raises(ValueError, match=r"logm: input must be square"):
        linalg.logm(tensor(rand(2, 3)))
    with pytest.raises(linalg.LinAlgError, match="logm: .*negative real axis"):
        linalg.logm(tensor(np.diag([1.0, -2.0, 3.0])))
    with pytest.raises(TypeError, match="expm: input must be float32, float64 or complex"):
        linalg.expm(tensor(np.eye(2, dtype=np.int64)))


def test_expm_gradient_matches_scipy_frechet():
    a, g = 0.7 * rand(3, 3), rand(3, 3)
    x = tensor(a)
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.reduce_sum(linalg.expm(x) * tensor(g))
    want = scipy.linalg.expm_frechet(a.T, g, compute_expm=False)
    np.testing.assert_allclose(to_numpy(tape.gradient(y, x)), want, rtol=1e-10)


def test_logm_singular_raises():
    with pytest.raises(linalg.LinAlgError, match="logm: .*singular"):
        linalg.logm(tensor(np.array([[1.0, 2.0], [2.0, 4.0]])))


def test_logm_eigh_and_inverse_scaling_paths_agree():
    from eagerflow import backend
    from eagerflow.linalg.matrix_functions import _logm_iss
    p = spd(2, 4, 4)
    p = 0.5 * (p + np.swapaxes(p, -1, -2))
    via_eigh = to_numpy(linalg.logm(tensor(p)))
    via_iss = backend.to_numpy(_logm_iss(backend.xp(), tensor(p)._data))
    np.testing.assert_allclose(via_eigh, via_iss, rtol=1e-9, atol=1e-9)
