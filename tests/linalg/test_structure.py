"""linalg structure ops: band_part, diag, diag_part, set_diag, trace, adjoint, eye,
transposes, l2_normalize, and the re-exported products."""
import numpy as np
import pytest

import eagerflow.linalg as linalg
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(7)


def rand(*shape):
    return R.standard_normal(shape)


GRAD_CASES = [
    GradCase("matrix_band_part", lambda x: linalg.band_part(x, 1, 0), rand(2, 3, 4), order=2),
    GradCase("matrix_band_part", lambda x: linalg.band_part(x, -1, 1), rand(4, 3),
             id="band_part-lower"),
    GradCase("matrix_diag", lambda d: linalg.diag(d), rand(2, 3), order=2),
    GradCase("matrix_diag", lambda d: linalg.diag(d, k=1, num_rows=3), rand(2, 2),
             id="matrix_diag-k1"),
    GradCase("matrix_diag_part", lambda x: linalg.diag_part(x), rand(2, 3, 4), order=2),
    GradCase("matrix_diag_part", lambda x: linalg.diag_part(x, k=-1), rand(4, 3),
             id="matrix_diag_part-k-1"),
    GradCase(["matrix_diag", "where"], lambda x, d: linalg.set_diag(x, d), rand(2, 3, 3),
             rand(2, 3), id="set_diag"),
    GradCase("matrix_diag_part", lambda x: linalg.trace(x), rand(2, 3, 3), id="trace"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def _np_band(a, lo, up):
    m, n = a.shape[-2:]
    i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    keep = ((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up))
    return np.where(keep, a, 0)


@pytest.mark.parametrize("lo,up", [(0, 0), (-1, 0), (0, -1), (1, 2), (-1, -1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_band_part_matches_numpy(lo, up, dtype):
    a = rand(2, 3, 4, 5).astype(dtype)
    got = to_numpy(linalg.band_part(tensor(a), lo, up))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, _np_band(a, lo, up))
    if (lo, up) == (-1, 0):
        np.testing.assert_array_equal(got, np.tril(a))


def test_diag_and_diag_part_with_k():
    d = rand(2, 3)
    m = to_numpy(linalg.diag(tensor(d)))
    np.testing.assert_array_equal(m, np.stack([np.diag(r) for r in d]))
    m1 = to_numpy(linalg.diag(tensor(d), k=1))
    assert m1.shape == (2, 4, 4)
    np.testing.assert_array_equal(m1[1], np.diag(d[1], k=1))
    mneg = to_numpy(linalg.diag(tensor(d), k=-2, padding_value=9.0))
    assert mneg.shape == (2, 5, 5)
    np.testing.assert_array_equal(np.diagonal(mneg[0], -2), d[0])
    assert mneg[0, 0, 0] == 9.0
    rect = to_numpy(linalg.diag(tensor(d), num_rows=3, num_cols=5))
    assert rect.shape == (2, 3, 5)
    np.testing.assert_array_equal(rect[0][:, :3], np.diag(d[0]))
    a = rand(2, 3, 5)
    for k in (-2, 0, 1, 4):
        np.testing.assert_array_equal(to_numpy(linalg.diag_part(tensor(a), k=k)),
                                      np.diagonal(a, k, axis1=-2, axis2=-1))


def test_set_diag_trace_adjoint_transpose():
    a = rand(2, 3, 4)
    d = rand(2, 3)
    got = to_numpy(linalg.set_diag(tensor(a), tensor(d)))
    want = a.copy()
    for b in range(2):
        want[b][np.arange(3), np.arange(3)] = d[b]
    np.testing.assert_array_equal(got, want)
    d1 = rand(2, 3)
    got1 = to_numpy(linalg.set_diag(tensor(a), tensor(d1), k=1))
    np.testing.assert_array_equal(np.diagonal(got1, 1, -2, -1), d1)
    np.testing.assert_allclose(to_numpy(linalg.trace(tensor(a))),
                               np.trace(a, axis1=-2, axis2=-1))
    np.testing.assert_array_equal(to_numpy(linalg.adjoint(tensor(a))), np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(to_numpy(linalg.transpose(tensor(a))), np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(to_numpy(linalg.matrix_transpose(tensor(a))),
                                  np.swapaxes(a, -1, -2))


def test_eye_and_reexports():
    e = linalg.eye(2, 3, batch_shape=[4])
    assert tuple(e.shape) == (4, 2, 3) and e.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(e)[3], np.eye(2, 3))
    a, b = rand(2, 3, 4), rand(2, 4)
    np.testing.assert_allclose(to_numpy(linalg.matvec(tensor(a), tensor(b))),
                               np.einsum("bij,bj->bi", a, b))
    np.testing.assert_allclose(to_numpy(linalg.einsum("bij,bj->bi", tensor(a), tensor(b))),
                               np.einsum("bij,bj->bi", a, b))
    np.testing.assert_allclose(to_numpy(linalg.tensordot(tensor(a), tensor(b.T), 1)),
                               np.tensordot(a, b.T, 1))


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
def test_l2_normalize(axis):
    x = rand(3, 4)
    want = x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), 1e-12))
    np.testing.assert_allclose(to_numpy(linalg.l2_normalize(tensor(x), axis=axis)), want,
                               rtol=1e-12)
    zero = to_numpy(linalg.l2_normalize(tensor(np.zeros((2, 3))), axis=1))
    np.testing.assert_array_equal(zero, np.zeros((2, 3)))


def test_l2_normalize_gradient():
    run_case(GradCase(["multiply", "rsqrt"], lambda x: linalg.l2_normalize(x, axis=-1),
                      rand(2, 3)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="band_part: input must have rank >= 2"):
        linalg.band_part(tensor(rand(3)), 0, 0)
    with pytest.raises(ValueError, match="diag_part: diagonal k=5 lies outside"):
        linalg.diag_part(tensor(rand(3, 3)), k=5)
    with pytest.raises(ValueError, match=r"set_diag: diagonal must have shape \(2, 3\)"):
        linalg.set_diag(tensor(rand(2, 3, 3)), tensor(rand(3)))
    with pytest.raises(ValueError, match="does not fit a 2x2 matrix"):
        linalg.diag(tensor(rand(3)), num_rows=2, num_cols=2)
    with pytest.raises(ValueError, match="diag: diagonal must have rank >= 1"):
        linalg.diag(tensor(np.float64(1.0)))
    with pytest.raises(NotImplementedError, match="single diagonal"):
        linalg.diag_part(tensor(rand(3, 3)), k=(0, 1))
    with pytest.raises(ValueError, match="l2_normalize: axis 2 is out of range"):
        linalg.l2_normalize(tensor(rand(2, 2)), axis=2)
