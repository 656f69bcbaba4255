"""TF math ops that fill gaps: segment/unsorted_segment_prod, sparse_segment_sum/mean/sqrt_n,
cumulative_logsumexp, multiply_no_nan, nextafter, polyval and confusion_matrix.

Every forward is compared with a plain NumPy reference written here; every differentiable
op has a float64 finite-difference gradient check (``GRAD_CASES``).
"""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import kernels
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(7)
SIDS = np.array([0, 0, 2, 2, 2, 3, 5])           # sorted; segments 1 and 4 empty
UIDS = np.array([4, -1, 0, 4, 2, -3, 0])         # unsorted; negatives dropped; 1, 3 empty
IDX = np.array([0, 3, 3, 1, 4, 2])               # rows of a (5, ...) table, 3 repeated
SEG = np.array([0, 0, 1, 3, 3, 3])               # sorted; segment 2 empty


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


def nonzero(*shape):
    """Values away from 0 (products stay well conditioned)."""
    return R.uniform(0.5, 1.5, size=shape) * R.choice([-1.0, 1.0], size=shape)


def with_zeros():
    """(7, 2) data for SIDS: one zero in segment 0, two in segment 2 (column 0)."""
    d = nonzero(7, 2)
    d[1, 0] = 0.0
    d[2, 0] = d[4, 0] = 0.0
    d[3, 1] = 0.0
    return d


def raises_checked(exc, match):
    """Like ``pytest.raises``; the block ends with ``kernels.check_errors()``, which raises a
    range error the GPU twin recorded on the device (the CPU raises at once)."""
    return pytest.raises(exc, match=match)


# --- NumPy references ------------------------------------------------------------------------
def ref_segment(data, ids, n, reduce_fn, empty):
    out = np.full((n,) + data.shape[ids.ndim:], empty, dtype=data.dtype)
    flat_ids = ids.reshape(-1)
    flat = data.reshape((flat_ids.size,) + data.shape[ids.ndim:])
    for s in range(n):
        rows = flat[flat_ids == s]
        if len(rows):
            out[s] = reduce_fn(rows)
    return out


def ref_prod(data, ids, n):
    return ref_segment(data, ids, n, lambda r: np.prod(r, axis=0, dtype=data.dtype), 1)


def ref_sparse(data, idx, seg, n, reduction):
    out = np.zeros((n,) + data.shape[1:], dtype=data.dtype)
    for s in range(n):
        rows = data[idx[seg == s]]
        k = len(rows)
        if k:
            total = rows.sum(axis=0)
            out[s] = {"sum": total, "mean": total / k, "sqrt_n": total / np.sqrt(k)}[reduction]
    return out


def ref_cumulative_logsumexp(x, axis, exclusive, reverse):
    y = np.moveaxis(x, axis, -1)
    if reverse:
        y = y[..., ::-1]
    out = np.empty_like(y)
    for i in range(y.shape[-1]):
        part = y[..., :i] if exclusive else y[..., :i + 1]
        if part.shape[-1] == 0:
            out[..., i] = -np.inf
            continue
        m = part.max(axis=-1, keepdims=True)
        out[..., i] = (m + np.log(np.exp(part - m).sum(axis=-1, keepdims=True)))[..., 0]
    if reverse:
        out = out[..., ::-1]
    return np.moveaxis(out, -1, axis)


def ref_confusion(labels, predictions, n, weights=None, dtype=np.int32):
    out = np.zeros((n, n), dtype=dtype)
    w = np.ones(len(labels)) if weights is None else np.asarray(weights)
    for lab, pred, wt in zip(labels, predictions, w.astype(dtype)):
        out[lab, pred] += wt
    return out


# --- gradient checks ---------------------------------------------------------------------------
def _cls(ex, rev):
    def fn(x):
        y = ef.math.cumulative_logsumexp(x, axis=1, exclusive=ex, reverse=rev)
        # the empty sum (-inf) of an exclusive scan has no finite difference: leave it out
        if ex:
            y = y[:, :-1] if rev else y[:, 1:]
        return y
    return fn


L6 = np.array([0, 1, 3, 3, 2, 1])
P6 = np.array([0, 2, 3, 3, 1, 1])

GRAD_CASES = [
    GradCase("segment_prod", lambda d: ef.math.segment_prod(d, SIDS), nonzero(7, 2), order=2),
    GradCase("segment_prod", lambda d: ef.math.segment_prod(d, SIDS), with_zeros(),
             id="segment_prod-zeros"),
    GradCase("unsorted_segment_prod", lambda d: ef.math.unsorted_segment_prod(d, UIDS, 6),
             nonzero(7, 3), order=2),
    GradCase("unsorted_segment_prod", lambda d: ef.math.unsorted_segment_prod(d, UIDS, 5),
             with_zeros(), id="unsorted_segment_prod-zeros"),
    GradCase("unsorted_segment_prod",
             lambda d: ef.math.unsorted_segment_prod(d, UIDS[:6].reshape(2, 3), 5),
             nonzero(2, 3, 2), id="unsorted_segment_prod-2d-ids"),
    GradCase("sparse_segment_sum", lambda d, i, s: ef.math.sparse_segment_sum(d, i, s),
             rand(5, 3), IDX, SEG, order=2),
    GradCase("sparse_segment_sum",
             lambda d, i, s: ef.math.sparse_segment_sum(d, i, s, num_segments=6,
                                                        sparse_gradient=True),
             rand(5, 3), IDX, SEG, id="sparse_segment_sum-indexed-slices"),
    GradCase("sparse_segment_mean",
             lambda d, i, s: ef.math.sparse_segment_mean(d, i, s, num_segments=5),
             rand(5, 3), IDX, SEG, order=2),
    GradCase("sparse_segment_sqrt_n", lambda d, i, s: ef.math.sparse_segment_sqrt_n(d, i, s),
             rand(5, 2, 2), IDX, SEG, order=2),
    GradCase("sparse_segment_sqrt_n",
             lambda d, i, s: ef.math.sparse_segment_sqrt_n(d, i, s, sparse_gradient=True),
             rand(5, 2), IDX, SEG, id="sparse_segment_sqrt_n-indexed-slices"),
    GradCase("cumulative_logsumexp", lambda x: ef.math.cumulative_logsumexp(x), rand(6),
             order=2, id="cumulative_logsumexp-1d"),
] + [
    GradCase("cumulative_logsumexp", _cls(ex, rev), rand(3, 5),
             id=f"cumulative_logsumexp-exclusive={ex}-reverse={rev}")
    for ex in (False, True) for rev in (False, True)
] + [
    GradCase("multiply_no_nan", lambda x, y: ef.math.multiply_no_nan(x, y), rand(3, 4),
             np.array([0.0, 1.5, -0.5, 0.0]), order=2),
    GradCase("nextafter", lambda a, b: ef.math.nextafter(a, b), rand(3, 2), rand(2) + 10.0),
    GradCase(("add", "multiply"), lambda c0, c1, c2, x: ef.math.polyval([c0, c1, c2], x),
             rand(4), rand(1), rand(4), rand(4), order=2, id="polyval"),
    GradCase("unsorted_segment_sum",
             lambda w: ef.math.confusion_matrix(L6, P6, num_classes=4, weights=w,
                                                dtype=ef.float64),
             rand(6), id="confusion_matrix-weights"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


# --- segment_prod / unsorted_segment_prod ----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_segment_prod_matches_reference(dtype):
    d = (R.integers(-3, 4, size=(7, 3)) if np.dtype(dtype).kind == "i"
         else rand(7, 3)).astype(dtype)
    got = ef.math.segment_prod(tensor(d), SIDS)
    assert got.dtype == dtype
    want = ref_prod(d, SIDS, 6)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)
    assert np.all(to_numpy(got)[[1, 4]] == 1)  # empty segments give 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_unsorted_segment_prod_matches_reference(dtype):
    d = (R.integers(-3, 4, size=(7, 2)) if np.dtype(dtype).kind == "i"
         else rand(7, 2)).astype(dtype)
    got = ef.math.unsorted_segment_prod(tensor(d), UIDS, 6)
    assert got.dtype == dtype
    np.testing.assert_allclose(to_numpy(got), ref_prod(d, UIDS, 6), rtol=1e-6)
    # ids with the leading shape of data (TF allows any prefix shape)
    d3 = rand(2, 3, 2)
    ids = np.array([[1, 0, 1], [-1, 1, 3]])
    got = ef.math.unsorted_segment_prod(tensor(d3), tensor(ids), tensor(np.int64(4)))
    np.testing.assert_allclose(to_numpy(got), ref_prod(d3, ids, 4), rtol=1e-12)


def test_prod_with_zeros_and_long_segments():
    d = with_zeros()
    np.testing.assert_array_equal(to_numpy(ef.math.segment_prod(tensor(d), SIDS)),
                                  ref_prod(d, SIDS, 6))
    # a long run (many scan steps) next to short ones, unsorted
    ids = R.integers(0, 3, size=300)
    x = R.uniform(0.9, 1.1, size=(300, 2))
    np.testing.assert_allclose(to_numpy(ef.math.unsorted_segment_prod(tensor(x), ids, 4)),
                               ref_prod(x, ids, 4), rtol=1e-10)
    srt = np.sort(ids)
    np.testing.assert_allclose(to_numpy(ef.math.segment_prod(tensor(x), srt)),
                               ref_prod(x, srt, 3), rtol=1e-10)


def test_prod_gradient_with_zeros_matches_reference():
    d = with_zeros()
    t = tensor(d)
    with ef.GradientTape() as tape:
        tape.watch(t)
        y = ef.math.segment_prod(t, SIDS)
    g = to_numpy(tape.gradient(y, t))
    want = np.zeros_like(d)
    for i, s in enumerate(SIDS):
        others = d[(SIDS == s) & (np.arange(len(d)) != i)]
        want[i] = np.prod(others, axis=0)  # the product of the other rows, zeros included
    np.testing.assert_allclose(g, want, rtol=1e-12)
    assert np.all(g[2:5, 0] == 0)  # two zeros in a segment: no gradient at all


def test_prod_empty_inputs():
    e = tensor(np.zeros((0, 3)))
    out = ef.math.segment_prod(e, np.zeros(0, np.int64))
    assert tuple(out.shape) == (0, 3)
    out = ef.math.unsorted_segment_prod(e, np.zeros(0, np.int64), 2)
    np.testing.assert_array_equal(to_numpy(out), np.ones((2, 3)))
    out = ef.math.unsorted_segment_prod(tensor(rand(3, 2)), np.array([-1, -2, -1]), 0)
    assert tuple(out.shape) == (0, 2)


def test_prod_bad_arguments():
    d = tensor(rand(4, 2))
    with raises_checked(ValueError, "segment ids are not increasing"):
        ef.math.segment_prod(d, np.array([0, 2, 1, 2]))
        kernels.check_errors()
    with raises_checked(ValueError, "segment ids must be >= 0"):
        ef.math.segment_prod(d, np.array([-1, 0, 0, 1]))
        kernels.check_errors()
    with pytest.raises(ValueError, match="segment ids must be >= 0"):
        ef.math.segment_prod(d, np.array([-2, -2, -1, -1]))
    with pytest.raises(ValueError, match="segment_ids should be a vector"):
        ef.math.segment_prod(d, np.array([0, 1]))
    with pytest.raises(TypeError, match="segment_ids must be integers"):
        ef.math.segment_prod(d, tensor(np.array([0.0, 0.0, 1.0, 1.0])))
    with pytest.raises(TypeError, match="data must be numeric"):
        ef.math.unsorted_segment_prod(tensor(np.array([True, False])), np.array([0, 0]), 1)
    with raises_checked(ValueError, "segment_ids must be < num_segments"):
        ef.math.unsorted_segment_prod(d, np.array([0, 3, 1, 0]), 3)
        kernels.check_errors()
    with pytest.raises(ValueError, match="num_segments must be >= 0"):
        ef.math.unsorted_segment_prod(d, np.array([0, 0, 1, 0]), -1)
    with pytest.raises(ValueError, match="segment_ids shape .* must be a prefix"):
        ef.math.unsorted_segment_prod(d, np.array([0, 0, 1]), 2)


# --- sparse_segment_sum / mean / sqrt_n --------------------------------------------------------
@pytest.mark.parametrize("reduction", ["sum", "mean", "sqrt_n"])
@pytest.mark.parametrize("num_segments", [None, 6])
def test_sparse_segment_matches_reference(reduction, num_segments):
    fn = getattr(ef.math, f"sparse_segment_{reduction}")
    d = rand(5, 3)
    got = fn(tensor(d), IDX, SEG, num_segments=num_segments)
    n = SEG[-1] + 1 if num_segments is None else num_segments
    np.testing.assert_allclose(to_numpy(got), ref_sparse(d, IDX, SEG, n, reduction),
                               rtol=1e-12)
    # Tensor indices, int32 ids, float32 data
    d32 = d.astype(np.float32)
    got = fn(tensor(d32), tensor(IDX.astype(np.int32)), tensor(SEG.astype(np.int32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(to_numpy(got), ref_sparse(d32, IDX, SEG, 4, reduction),
                               rtol=1e-6)


def test_sparse_segment_sum_tf_examples_and_ints():
    c = np.array([[1, 2, 3, 4], [-1, -2, -3, -4], [5, 6, 7, 8]], dtype=np.int32)
    got = ef.math.sparse_segment_sum(tensor(c), [0, 1], [0, 0])
    assert got.dtype == np.int32
    np.testing.assert_array_equal(to_numpy(got), [[0, 0, 0, 0]])
    got = ef.math.sparse_segment_sum(tensor(c), [0, 1], [0, 2], num_segments=4)
    np.testing.assert_array_equal(to_numpy(got), [[1, 2, 3, 4], [0, 0, 0, 0],
                                                  [-1, -2, -3, -4], [0, 0, 0, 0]])
    got = ef.math.sparse_segment_sum(tensor(c), [0, 1, 2], [0, 0, 1])
    np.testing.assert_array_equal(to_numpy(got), to_numpy(ef.math.segment_sum(tensor(c),
                                                                              [0, 0, 1])))


def test_sparse_segment_empty_and_gradient_kinds():
    d = tensor(rand(5, 3))
    empty = np.zeros(0, np.int64)
    out = ef.math.sparse_segment_mean(d, empty, empty, num_segments=2)
    np.testing.assert_array_equal(to_numpy(out), np.zeros((2, 3)))
    assert tuple(ef.math.sparse_segment_sum(d, empty, empty).shape) == (0, 3)
    with ef.GradientTape(persistent=True) as tape:
        tape.watch(d)
        dense = ef.math.sparse_segment_sum(d, IDX, SEG)
        sparse = ef.math.sparse_segment_sum(d, IDX, SEG, sparse_gradient=True)
    gd, gs = tape.gradient(dense, d), tape.gradient(sparse, d)
    assert isinstance(gd, ef.Tensor) and isinstance(gs, ef.IndexedSlices)
    np.testing.assert_array_equal(to_numpy(gs.indices), IDX)
    want = np.zeros((5, 3))
    np.add.at(want, IDX, 1.0)  # each pick of a row adds one
    np.testing.assert_allclose(to_numpy(gd), want)
    np.testing.assert_allclose(to_numpy(gs), want)


def test_sparse_segment_bad_arguments():
    d = tensor(rand(4, 2))
    with raises_checked(ValueError, "segment ids are not increasing"):
        ef.math.sparse_segment_sum(d, [0, 1], [1, 0])
        kernels.check_errors()
    with raises_checked(ValueError, r"indices out of range \[0, 4\)"):
        ef.math.sparse_segment_sum(d, [0, 4], [0, 0])
        kernels.check_errors()
    with raises_checked(ValueError, "indices out of range"):
        ef.math.sparse_segment_sum(d, [-1, 0], [0, 0])
        kernels.check_errors()
    with raises_checked(ValueError, "segment ids must be >= 0"):
        ef.math.sparse_segment_sum(d, [0, 1], [-1, 0], num_segments=2)
        kernels.check_errors()
    with raises_checked(ValueError, "segment ids must be < num_segments"):
        ef.math.sparse_segment_sum(d, [0, 1], [0, 2], num_segments=2)
        kernels.check_errors()
    with pytest.raises(ValueError, match="segment_ids and indices should have the same size"):
        ef.math.sparse_segment_sum(d, [0, 1], [0])
    with pytest.raises(ValueError, match="indices should be a vector"):
        ef.math.sparse_segment_sum(d, [[0, 1]], [0, 0])
    with pytest.raises(TypeError, match="indices must be integers"):
        ef.math.sparse_segment_sum(d, tensor(np.array([0.0])), [0])
    with pytest.raises(TypeError, match="data must be floating"):
        ef.math.sparse_segment_mean(tensor(np.array([[1, 2]])), [0], [0])
    with pytest.raises(ValueError, match="num_segments must be >= 0"):
        ef.math.sparse_segment_sqrt_n(d, [0], [0], num_segments=-1)


# --- cumulative_logsumexp -------------------------------------------------------------------------
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumulative_logsumexp_matches_reference(exclusive, reverse, axis):
    x = rand(4, 7) * 5
    got = ef.math.cumulative_logsumexp(tensor(x), axis=axis, exclusive=exclusive,
                                       reverse=reverse)
    np.testing.assert_allclose(to_numpy(got), ref_cumulative_logsumexp(x, axis, exclusive,
                                                                       reverse), rtol=1e-12)


def test_cumulative_logsumexp_is_stable_and_keeps_dtype():
    x = np.array([-1000.0, 0.0, 1000.0, 1000.0])
    got = to_numpy(ef.math.cumulative_logsumexp(tensor(x)))
    np.testing.assert_allclose(got, [-1000.0, 0.0, 1000.0, 1000.0 + np.log(2.0)], rtol=1e-12)
    got = ef.math.cumulative_logsumexp(tensor(x.astype(np.float32)), exclusive=True)
    assert got.dtype == np.float32
    np.testing.assert_allclose(to_numpy(got), [-np.inf, -1000.0, 0.0, 1000.0], rtol=1e-6)
    assert tuple(ef.math.cumulative_logsumexp(tensor(np.zeros((2, 0))), axis=1).shape) == (2, 0)
    assert tuple(ef.math.cumulative_logsumexp(tensor(np.zeros(0))).shape) == (0,)


def test_cumulative_logsumexp_bad_arguments():
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        ef.math.cumulative_logsumexp(tensor(np.array([1, 2])))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        ef.math.cumulative_logsumexp(tensor(rand(2, 2)), axis=2)
    with pytest.raises(ValueError, match="rank >= 1"):
        ef.math.cumulative_logsumexp(tensor(np.float64(1.0)))


# --- multiply_no_nan / nextafter / polyval ---------------------------------------------------------
def test_multiply_no_nan_matches_reference():
    x = np.array([[np.inf, np.nan, 2.0, -np.inf], [1.0, np.nan, 3.0, 4.0]])
    y = np.array([0.0, 0.0, 0.5, np.nan])
    with np.errstate(invalid="ignore"):
        want = np.where(y == 0, 0.0, x * y)
    np.testing.assert_array_equal(to_numpy(ef.math.multiply_no_nan(tensor(x), tensor(y))), want)
    got = ef.math.multiply_no_nan(tensor(x.astype(np.float32)), 0.0)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(got), np.zeros((2, 4)))
    got = ef.math.multiply_no_nan(tensor(np.zeros((0, 3))), tensor(np.ones(3)))
    assert tuple(got.shape) == (0, 3)
    # TF's gradient: d/dx = multiply_no_nan(g, y) (0 where y == 0, even for x = inf)
    xt = tensor(np.array([np.inf, 2.0]))
    with ef.GradientTape() as tape:
        tape.watch(xt)
        out = ef.math.multiply_no_nan(xt, tensor(np.array([0.0, 3.0])))
    np.testing.assert_array_equal(to_numpy(tape.gradient(out, xt)), [0.0, 3.0])
    with pytest.raises(TypeError, match="x and y must be floating"):
        ef.math.multiply_no_nan(tensor(np.array([1, 2])), tensor(np.array([0, 1])))
    with pytest.raises(TypeError, match="dtype"):
        ef.math.multiply_no_nan(tensor(np.ones(2)), tensor(np.ones(2, np.float32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_matches_numpy(dtype):
    a = np.array([1.0, 0.0, -2.5, 3.0, np.inf], dtype=dtype)
    b = np.array([2.0, -1.0, -2.5, 0.0, 0.0], dtype=dtype)
    got = ef.math.nextafter(tensor(a), tensor(b))
    assert got.dtype == dtype
    np.testing.assert_array_equal(to_numpy(got), np.nextafter(a, b))
    np.testing.assert_array_equal(to_numpy(ef.math.nextafter(tensor(a), 10.0)),
                                  np.nextafter(a, dtype(10.0)))
    # subnormals, signed zeros, the largest finite values, infinities and NaN (the GPU's
    # float32 nextafterf flushed subnormal results)
    tiny = np.finfo(dtype).smallest_subnormal
    big = np.finfo(dtype).max
    a = np.array([0.0, 0.0, tiny, -tiny, -0.0, big, -big, np.inf, np.nan, 1.0, 2 * tiny],
                 dtype=dtype)
    b = np.array([1.0, -1.0, 0.0, 0.0, 1.0, np.inf, -np.inf, 0.0, 1.0, np.nan, 5.0],
                 dtype=dtype)
    np.testing.assert_array_equal(to_numpy(ef.math.nextafter(tensor(a), tensor(b))),
                                  np.nextafter(a, b))
    with pytest.raises(TypeError, match="x1 and x2 must be float32 or float64"):
        ef.math.nextafter(tensor(a.astype(np.float16)), tensor(b.astype(np.float16)))


def test_polyval_matches_numpy():
    c = [1.5, -2.0, 0.25, 3.0]
    x = rand(3, 2)
    np.testing.assert_allclose(to_numpy(ef.math.polyval(c, tensor(x))), np.polyval(c, x),
                               rtol=1e-12)
    # tensor coefficients broadcast against x
    cs = [rand(2), rand(3, 1), rand(2)]
    want = (cs[0] * x + cs[1]) * x + cs[2]
    got = ef.math.polyval([tensor(v) for v in cs], tensor(x))
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(ef.math.polyval([], tensor(x))), np.zeros((3, 2)))
    one = ef.math.polyval([tensor(np.array([4.0]))], tensor(x))  # TF returns coeffs[0]
    np.testing.assert_array_equal(to_numpy(one), [4.0])
    with pytest.raises(ValueError, match="coeffs must be a list"):
        ef.math.polyval((1.0, 2.0), tensor(x))


# --- confusion_matrix ------------------------------------------------------------------------------
def test_confusion_matrix_matches_reference():
    lab = R.integers(0, 5, size=40)
    pred = R.integers(0, 5, size=40)
    got = ef.math.confusion_matrix(tensor(lab), tensor(pred))
    assert got.dtype == np.int32
    n = max(lab.max(), pred.max()) + 1
    np.testing.assert_array_equal(to_numpy(got), ref_confusion(lab, pred, n))
    # TF's docstring example
    np.testing.assert_array_equal(to_numpy(ef.math.confusion_matrix([1, 2, 4], [2, 2, 4])),
                                  ref_confusion([1, 2, 4], [2, 2, 4], 5))
    got = ef.math.confusion_matrix(lab, pred, num_classes=7, dtype=ef.int64)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(to_numpy(got), ref_confusion(lab, pred, 7, dtype=np.int64))


def test_confusion_matrix_weights_and_shapes():
    lab, pred = np.array([0, 1, 1, 2]), np.array([0, 2, 2, 2])
    w = np.array([0.5, 1.7, 2.2, -1.5])
    got = ef.math.confusion_matrix(lab, pred, weights=tensor(w), dtype=ef.float64)
    np.testing.assert_allclose(to_numpy(got), ref_confusion(lab, pred, 3, w, np.float64))
    # weights are cast to dtype first: float weights truncate for an int matrix (as TF)
    got = ef.math.confusion_matrix(lab, pred, weights=tensor(w))
    np.testing.assert_array_equal(to_numpy(got), ref_confusion(lab, pred, 3, w, np.int32))
    # float labels are cast to int64; a trailing dim of 1 is squeezed
    got = ef.math.confusion_matrix(tensor(lab.astype(np.float32)), tensor(pred[:, None]))
    np.testing.assert_array_equal(to_numpy(got), ref_confusion(lab, pred, 3))
    empty = ef.math.confusion_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64),
                                     num_classes=2)
    np.testing.assert_array_equal(to_numpy(empty), np.zeros((2, 2), np.int32))


def test_confusion_matrix_bad_arguments():
    with raises_checked(ValueError, "`labels` contains negative values"):
        ef.math.confusion_matrix([0, -1], [0, 0])
        kernels.check_errors()
    with raises_checked(ValueError, "`predictions` contains negative values"):
        ef.math.confusion_matrix([0, 1], [-2, 0], num_classes=3)
        kernels.check_errors()
    with raises_checked(ValueError, "`labels` out of bound"):
        ef.math.confusion_matrix([0, 3], [0, 1], num_classes=3)
        kernels.check_errors()
    with raises_checked(ValueError, "`predictions` out of bound"):
        ef.math.confusion_matrix([0, 1], [0, 3], num_classes=3)
        kernels.check_errors()
    with pytest.raises(ValueError, match="labels and predictions must be 1-D"):
        ef.math.confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="weights must have the shape of predictions"):
        ef.math.confusion_matrix([0, 1], [0, 1], weights=[1.0])
    with pytest.raises(ValueError, match="num_classes cannot be inferred"):
        ef.math.confusion_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64))


# --- namespaces ----------------------------------------------------------------------------------
def test_exports_and_tf1_aliases():
    for name in ("segment_prod", "unsorted_segment_prod", "sparse_segment_sum",
                 "sparse_segment_mean", "sparse_segment_sqrt_n", "cumulative_logsumexp",
                 "confusion_matrix", "multiply_no_nan", "nextafter", "polyval"):
        assert name in ef.math.__all__ and callable(getattr(ef.math, name))
    assert ef.segment_prod is ef.math.segment_prod
    assert ef.unsorted_segment_prod is ef.math.unsorted_segment_prod
    # TF1 argument orders: sparse_segment_*(data, indices, segment_ids, name, num_segments)
    # and confusion_matrix(labels, predictions, num_classes, dtype, name, weights)
    d = rand(5, 3)
    got = ef.sparse_segment_sum(tensor(d), IDX, SEG, None, 6)
    np.testing.assert_allclose(to_numpy(got), ref_sparse(d, IDX, SEG, 6, "sum"), rtol=1e-12)
    got = ef.confusion_matrix([1, 2], [2, 2], 4, ef.float32)
    assert got.dtype == np.float32 and tuple(got.shape) == (4, 4)
