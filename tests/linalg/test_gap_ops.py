"""``ef.linalg`` cross, global_norm, normalize, matrix_rank, lu, lu_reconstruct, lu_solve:
NumPy references written here (and SciPy's ``lu_factor`` where SciPy is installed), edge
cases, argument errors and float64 gradient checks."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.linalg as linalg
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(31)


def rand(*shape):
    return R.standard_normal(shape)


def well_conditioned(*shape):
    """Random square matrices kept away from singularity (and from pivot ties)."""
    n = shape[-1]
    return rand(*shape) + 3.0 * np.eye(n) * R.choice([-1.0, 1.0], size=shape[:-1])[..., None]


# --- cross --------------------------------------------------------------------------------------
def np_cross(a, b):
    a, b = np.broadcast_arrays(a, b)
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def test_cross_unit_vectors():
    e = np.eye(3)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        np.testing.assert_array_equal(to_numpy(linalg.cross(tensor(e[i]), tensor(e[j]))), e[k])
        np.testing.assert_array_equal(to_numpy(linalg.cross(tensor(e[j]), tensor(e[i]))), -e[k])


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((4, 3), (4, 3)), ((2, 5, 3), (2, 5, 3)),
                                   ((3,), (4, 3)), ((2, 1, 3), (1, 5, 3)), ((0, 3), (0, 3))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_matches_numpy(sa, sb, dtype):
    a, b = rand(*sa).astype(dtype), rand(*sb).astype(dtype)
    got = to_numpy(linalg.cross(tensor(a), tensor(b)))
    assert got.dtype == dtype and got.shape == np.broadcast_shapes(sa, sb)
    np.testing.assert_allclose(got, np_cross(a, b), rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_cross_integers():
    a = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    b = np.array([[7, 8, 9], [1, 0, -1]], np.int32)
    got = to_numpy(linalg.cross(tensor(a), tensor(b)))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np_cross(a, b))


def test_cross_errors_name_the_argument():
    with pytest.raises(InvalidArgumentError, match="only defined for 3-element vectors; b"):
        linalg.cross(tensor(rand(2, 3)), tensor(rand(2, 4)))
    with pytest.raises(InvalidArgumentError, match="a must be at least 1-D"):
        linalg.cross(tensor(np.float64(1.0)), tensor(rand(3)))
    with pytest.raises(TypeError, match="a has dtype float32 but b has dtype float64"):
        linalg.cross(tensor(rand(3).astype(np.float32)), tensor(rand(3)))
    with pytest.raises(InvalidArgumentError, match="do not broadcast"):
        linalg.cross(tensor(rand(2, 3)), tensor(rand(4, 3)))
    with pytest.raises(TypeError, match="a must be a real number type"):
        linalg.cross(tensor(np.array([True, False, True])), tensor(np.array([True] * 3)))


# --- global_norm ------------------------------------------------------------------------------
def test_global_norm_matches_numpy_and_skips_none():
    ts = [rand(3), rand(2, 4), None, rand(1, 1, 5)]
    want = np.sqrt(sum(np.sum(t ** 2) for t in ts if t is not None))
    got = linalg.global_norm([tensor(t) if t is not None else None for t in ts])
    assert to_numpy(got).shape == () and to_numpy(got).dtype == np.float64
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-14)
    got = linalg.global_norm(tuple(tensor(t) for t in ts if t is not None))
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-14)


def test_global_norm_indexed_slices_count_their_values():
    vals = rand(2, 3)
    sl = ef.IndexedSlices(tensor(vals), tensor(np.array([4, 4])), (6, 3))  # repeated index
    dense = rand(5)
    got = to_numpy(linalg.global_norm([sl, tensor(dense)]))
    np.testing.assert_allclose(got, np.sqrt(np.sum(vals ** 2) + np.sum(dense ** 2)))


def test_global_norm_edge_cases_and_errors():
    zero = linalg.global_norm([None, None])
    assert float(to_numpy(zero)) == 0.0 and to_numpy(zero).dtype == np.float32
    assert float(to_numpy(linalg.global_norm([]))) == 0.0
    assert float(to_numpy(linalg.global_norm([tensor(np.zeros((0, 3)))]))) == 0.0
    with pytest.raises(TypeError, match="t_list should be a sequence"):
        linalg.global_norm(tensor(rand(3)))
    with pytest.raises(TypeError, match=r"t_list\[1\] has dtype float32"):
        linalg.global_norm([tensor(rand(2)), tensor(rand(2).astype(np.float32))])
    with pytest.raises(TypeError, match=r"t_list\[0\] must be a floating-point"):
        linalg.global_norm([tensor(np.array([1, 2]))])


# --- normalize --------------------------------------------------------------------------------
@pytest.mark.parametrize("ord,axis", [("euclidean", None), ("euclidean", 1), (1, 0), (np.inf, -1),
                                      (2, 1), (3.5, 1), ("fro", (0, 1)), (1, (1, 0)),
                                      (np.inf, (0, 1)), (2, (0, 1))])
def test_normalize_matches_numpy(ord, axis):
    x = rand(4, 5)
    normalized, n = linalg.normalize(tensor(x), ord=ord, axis=axis)
    if axis is None:
        want = np.sqrt(np.sum(x ** 2)).reshape(1, 1)
    elif isinstance(axis, tuple):
        mat = x if axis == (0, 1) else x.T
        want = np.asarray(np.linalg.norm(mat, ord=ord)).reshape(1, 1)
    else:
        o = 2 if ord == "euclidean" else ord
        want = np.sum(np.abs(x) ** o, axis=axis, keepdims=True) ** (1 / o) if o not in (
            np.inf,) else np.max(np.abs(x), axis=axis, keepdims=True)
    np.testing.assert_allclose(to_numpy(n), want, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(normalized), x / want, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_normalize_zero_vector_is_nan_and_bad_ord():
    normalized, n = linalg.normalize(tensor(np.zeros(3)))
    assert to_numpy(n).tolist() == [0.0]
    assert np.isnan(to_numpy(normalized)).all()
    with pytest.raises(ValueError, match="'ord' must be a supported"):
        linalg.normalize(tensor(rand(3)), ord="nuc")
    with pytest.raises(ValueError, match="out of range"):
        linalg.normalize(tensor(rand(3)), axis=2)


# --- matrix_rank ------------------------------------------------------------------------------
def test_matrix_rank_known_ranks_batch_and_dtypes():
    u, v = rand(2, 5, 2), rand(2, 2, 4)
    batch = np.stack([np.eye(5, 4), u[0] @ v[0], np.zeros((5, 4)), u[1] @ v[1]])
    got = linalg.matrix_rank(tensor(batch))
    assert to_numpy(got).dtype == np.int32
    assert to_numpy(got).tolist() == [4, 2, 0, 2]
    assert int(to_numpy(linalg.matrix_rank(tensor(batch.astype(np.float32)))[1])) == 2
    assert int(to_numpy(linalg.matrix_rank([[1.0, 2.0], [2.0, 4.0]]))) == 1


def test_matrix_rank_default_tol_is_tfs():
    # s = (1, d): counted when d > max(s) * eps * max(m, n)
    eps = np.finfo(np.float64).eps
    q = np.linalg.qr(rand(3, 3))[0]
    for d, want in ((eps * 3 * 4, 2), (eps * 3 / 4, 1)):
        a = q[:, :2] @ np.diag([1.0, d]) @ np.linalg.qr(rand(2, 2))[0]
        a = np.concatenate([a, np.zeros((3, 1))], axis=1)          # 3 x 3, rank <= 2
        assert int(to_numpy(linalg.matrix_rank(tensor(a)))) == want
    a = np.diag([1.0, 1e-3, 1e-6])
    assert int(to_numpy(linalg.matrix_rank(tensor(a), tol=1e-4))) == 2
    assert int(to_numpy(linalg.matrix_rank(tensor(a), tol=tensor(np.float64(1e-7))))) == 3


def test_matrix_rank_edge_cases_and_errors():
    assert to_numpy(linalg.matrix_rank(tensor(np.zeros((2, 0, 3))))).tolist() == [0, 0]
    with pytest.raises(TypeError, match="`float`-like `dtype`"):
        linalg.matrix_rank(tensor(np.eye(2, dtype=np.int64)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        linalg.matrix_rank(tensor(rand(3)))


# --- lu -----------------------------------------------------------------------------------------
def _factors(lu_np):
    n = lu_np.shape[-1]
    return np.tril(lu_np, -1) + np.eye(n), np.triu(lu_np)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 5, 5), (3, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lu_identity_from_tf_docs(shape, dtype):
    a = rand(*shape).astype(dtype)
    lu_, p = linalg.lu(tensor(a))
    lu_np, p_np = to_numpy(lu_), to_numpy(p)
    assert lu_np.dtype == dtype and p_np.dtype == np.int32
    assert lu_np.shape == shape and p_np.shape == shape[:-1]
    low, up = _factors(lu_np)
    permuted = np.take_along_axis(a, p_np[..., None].astype(np.int64), axis=-2)
    np.testing.assert_allclose(low @ up, permuted, rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-13)
    # partial pivoting: every multiplier is at most 1 in magnitude
    assert np.all(np.abs(np.tril(lu_np, -1)) <= 1 + 1e-6)
    for row in p_np.reshape(-1, shape[-1]):
        assert sorted(row.tolist()) == list(range(shape[-1]))


def test_lu_matches_scipy_lu_factor():
    sl = pytest.importorskip("scipy.linalg")
    a = rand(3, 6, 6)
    lu_, p = linalg.lu(tensor(a), output_idx_type=ef.int64)
    assert to_numpy(p).dtype == np.int64
    for i in range(3):
        packed, piv = sl.lu_factor(a[i])
        perm = np.arange(6)
        for k, j in enumerate(piv):  # LAPACK's row swaps, composed into a permutation
            perm[[k, j]] = perm[[j, k]]
        np.testing.assert_allclose(to_numpy(lu_)[i], packed, rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(to_numpy(p)[i], perm)


def test_lu_tie_picks_first_row_and_complex_input():
    lu_, p = linalg.lu(tensor(np.array([[2.0, 1.0], [-2.0, 3.0]])))
    assert to_numpy(p).tolist() == [0, 1]
    np.testing.assert_allclose(to_numpy(lu_), [[2.0, 1.0], [-1.0, 4.0]])
    a = rand(4, 4) + 1j * rand(4, 4)
    lu_, p = linalg.lu(tensor(a))
    low, up = _factors(to_numpy(lu_))
    np.testing.assert_allclose(low @ up, a[to_numpy(p)], atol=1e-12)


def test_lu_empty_and_errors():
    lu_, p = linalg.lu(tensor(np.zeros((2, 0, 0))))
    assert to_numpy(lu_).shape == (2, 0, 0) and to_numpy(p).shape == (2, 0)
    lu_, p = linalg.lu(tensor(np.zeros((0, 3, 3))))
    assert to_numpy(lu_).shape == (0, 3, 3) and to_numpy(p).shape == (0, 3)
    with pytest.raises(InvalidArgumentError, match="Input is not invertible"):
        linalg.lu(tensor(np.array([[1.0, 2.0], [2.0, 4.0]])))
    with pytest.raises(ValueError, match="lu: input must be square"):
        linalg.lu(tensor(rand(2, 3)))
    with pytest.raises(ValueError, match="lu: input must have rank >= 2"):
        linalg.lu(tensor(rand(3)))
    with pytest.raises(TypeError, match="lu: input must be float32, float64 or complex"):
        linalg.lu(tensor(np.eye(2, dtype=np.int32)))
    with pytest.raises(TypeError, match="output_idx_type must be int32 or int64"):
        linalg.lu(tensor(np.eye(2)), output_idx_type=ef.float32)


# --- lu_reconstruct / lu_solve ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)])
def test_lu_reconstruct_round_trip(shape):
    a = rand(*shape)
    got = to_numpy(linalg.lu_reconstruct(*linalg.lu(tensor(a))))
    np.testing.assert_allclose(got, a, rtol=1e-12, atol=1e-13)


def test_lu_reconstruct_from_given_factors():
    packed = np.array([[4.0, 1.0], [0.5, 2.0]])
    low, up = _factors(packed)
    perm = np.array([1, 0], np.int32)
    want = np.empty((2, 2))
    want[perm] = low @ up          # row i of L U is row perm[i] of the matrix
    np.testing.assert_allclose(to_numpy(linalg.lu_reconstruct(tensor(packed), tensor(perm))),
                               want)
    np.testing.assert_allclose(to_numpy(linalg.lu_reconstruct(tensor(packed), [1, 0])), want)


@pytest.mark.parametrize("sa,sb", [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1)),
                                   ((4, 4), (3, 4, 2)), ((2, 1, 3, 3), (5, 3, 2))])
def test_lu_solve_matches_numpy(sa, sb):
    a, b = well_conditioned(*sa), rand(*sb)
    lu_, p = linalg.lu(tensor(a))
    got = to_numpy(linalg.lu_solve(lu_, p, tensor(b)))
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    want = np.linalg.solve(np.broadcast_to(a, batch + sa[-2:]),
                           np.broadcast_to(b, batch + sb[-2:]))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_lu_reconstruct_and_solve_errors():
    lu_, p = linalg.lu(tensor(well_conditioned(2, 3, 3)))
    with pytest.raises(ValueError, match=r"`rank\(lower_upper\)` must equal `rank\(perm\) \+ 1`"):
        linalg.lu_reconstruct(lu_, tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match="lower_upper must be square"):
        linalg.lu_reconstruct(tensor(rand(3, 2)), tensor(np.array([0, 1, 2])))
    with pytest.raises(TypeError, match="perm must be int32 or int64"):
        linalg.lu_reconstruct(lu_, tensor(rand(2, 3)))
    with pytest.raises(ValueError, match="lu_solve: Input `rhs` must have at least 2 dim"):
        linalg.lu_solve(lu_, p, tensor(rand(3)))
    with pytest.raises(ValueError, match=r"`lower_upper.shape\[-1\]` must equal `rhs.shape\[-2\]`"):
        linalg.lu_solve(lu_, p, tensor(rand(2, 4, 1)))
    with pytest.raises(TypeError, match="rhs has dtype float32"):
        linalg.lu_solve(lu_, p, tensor(rand(2, 3, 1).astype(np.float32)))
    with pytest.raises(ValueError, match="do not broadcast"):
        linalg.lu_solve(lu_, p, tensor(rand(4, 3, 1)))


# --- gradient checks ----------------------------------------------------------------------------
_A3 = well_conditioned(2, 3, 3)
_A4 = well_conditioned(4, 4)

GRAD_CASES = [
    GradCase(("multiply", "subtract", "concat"), lambda a, b: linalg.cross(a, b), rand(2, 4, 3),
             rand(2, 4, 3), order=2, id="cross"),
    GradCase(("multiply", "subtract", "concat"), lambda a, b: linalg.cross(a, b), rand(3),
             rand(5, 3), id="cross-broadcast"),
    GradCase(("multiply", "reduce_sum", "sqrt"),
             lambda a, b, c: linalg.global_norm([a, None, b, ef.IndexedSlices(
                 c, tensor(np.array([0, 2])), (4, 3))]), rand(3), rand(2, 2), rand(2, 3),
             order=2, id="global_norm"),
    GradCase(("sqrt", "divide"), lambda x: linalg.normalize(x, axis=1), rand(3, 4), order=2,
             id="normalize"),
    GradCase(("singular_values", "divide"), lambda x: linalg.normalize(x, ord=2, axis=(-2, -1)),
             rand(2, 3, 4), id="normalize-matrix-2"),
    GradCase("lu", lambda a: linalg.lu(a)[0], _A3, order=2, id="lu"),
    GradCase("lu", lambda a: linalg.lu(a)[0], rand(5, 5), id="lu-random"),
    GradCase(("lu", "matrix_band_part", "take_along_axis"),
             lambda a: linalg.lu_reconstruct(*linalg.lu(a)), _A4, id="lu_reconstruct"),
    GradCase(("matrix_band_part", "take_along_axis"),
             lambda packed: linalg.lu_reconstruct(packed, tensor(np.array([2, 0, 1]))),
             rand(3, 3), order=2, id="lu_reconstruct-factors"),
    GradCase(("lu", "matrix_triangular_solve", "take_along_axis"),
             lambda a, b: linalg.lu_solve(*linalg.lu(a), b), _A3, rand(3, 2), order=2,
             id="lu_solve"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_lu_reconstruct_gradient_is_identity_map():
    # lu_reconstruct(lu(a)) = a, so the gradient of <g, a'> with respect to a is g
    a, g = _A4, rand(4, 4)
    x = tensor(a)
    with ef.GradientTape() as tape:
        tape.watch(x)
        target = ef.reduce_sum(linalg.lu_reconstruct(*linalg.lu(x)) * tensor(g))
    np.testing.assert_allclose(to_numpy(tape.gradient(target, x)), g, rtol=1e-10, atol=1e-12)
