"""``ef.sparse.maximum`` / ``minimum`` / ``softmax``: TF's documented examples, NumPy
references written here (the union of indices with implicit zeros, the per-row softmax of
the present values), TF's kernel behaviour on duplicates, argument errors and float64
gradient checks. (``sparse.segment_*`` wrap ``ops.segment.sparse_segment_*``, which another
change adds; they are not tested here.)"""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

S = ef.sparse
R = np.random.default_rng(23)


def rand_sparse(shape, density=0.5, dtype=np.float64, rng=R):
    """(indices, values, dense) of a random canonical SparseTensor; values avoid 0."""
    dense = rng.uniform(0.5, 3, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    dense = dense.astype(dtype)
    dense[rng.uniform(size=shape) > density] = 0
    idx = np.argwhere(dense != 0).astype(np.int64).reshape(-1, len(shape))
    return idx, dense[tuple(idx.T)] if idx.size else np.zeros(0, dtype), dense


def sp_of(idx, vals, shape):
    return ef.SparseTensor(tensor(np.asarray(idx, np.int64).reshape(-1, len(shape))),
                           vals if isinstance(vals, ef.Tensor) else tensor(vals),
                           tensor(np.asarray(shape, np.int64)))


def parts(sp):
    return to_numpy(sp.indices), to_numpy(sp.values), to_numpy(sp.dense_shape)


def np_union(ia, ib):
    """The sorted union of two index sets without duplicates (a NumPy reference)."""
    rows = {tuple(r) for r in ia.tolist()} | {tuple(r) for r in ib.tolist()}
    return np.asarray(sorted(rows), dtype=np.int64).reshape(-1, ia.shape[1])


# --- maximum / minimum ---------------------------------------------------------------------
def test_maximum_minimum_doc_example():
    sp_zero = ef.SparseTensor([[0]], ef.constant([0]), [7])
    sp_one = ef.SparseTensor([[1]], ef.constant([1]), [7])
    mx = S.maximum(sp_zero, sp_one)
    mn = S.minimum(sp_zero, sp_one)
    assert to_numpy(mx.indices).tolist() == [[0], [1]]
    assert to_numpy(mx.values).tolist() == [0, 1]
    assert to_numpy(mn.values).tolist() == [0, 0]
    assert to_numpy(mx.dense_shape).tolist() == [7]
    assert to_numpy(mx.indices).dtype == np.int64 and to_numpy(mx.dense_shape).dtype == np.int64


@pytest.mark.parametrize("shape", [(5,), (4, 6), (3, 4, 5), (2, 0, 3)])
@pytest.mark.parametrize("kind", ["max", "min"])
def test_maximum_minimum_match_numpy(shape, kind):
    ia, va, da = rand_sparse(shape)
    ib, vb, db = rand_sparse(shape)
    op = S.maximum if kind == "max" else S.minimum
    ref = np.maximum(da, db) if kind == "max" else np.minimum(da, db)
    out = op(sp_of(ia, va, shape), sp_of(ib, vb, shape))
    idx, vals, dshape = parts(out)
    want_idx = np_union(ia, ib)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(vals, ref[tuple(want_idx.T)] if want_idx.size else
                               np.zeros(0))
    assert dshape.tolist() == list(shape)
    assert vals.dtype == np.float64


def test_implicit_zeros_take_part_and_results_stay_stored():
    a = sp_of([[0, 0], [1, 1]], np.array([-2.0, 4.0]), [2, 2])
    b = sp_of([[0, 1], [1, 1]], np.array([-3.0, 1.0]), [2, 2])
    mx = S.maximum(a, b)
    # (0, 0): max(-2, 0) = 0 and (0, 1): max(0, -3) = 0 stay in the index set, as TF
    assert to_numpy(mx.indices).tolist() == [[0, 0], [0, 1], [1, 1]]
    assert to_numpy(mx.values).tolist() == [0.0, 0.0, 4.0]
    mn = S.minimum(a, b)
    assert to_numpy(mn.values).tolist() == [-2.0, -3.0, 1.0]


def test_operands_in_any_order_give_the_canonical_result():
    a = sp_of([[1, 0], [0, 2], [0, 0]], np.array([5.0, -1.0, 2.0]), [2, 3])
    b = sp_of([[0, 2], [1, 2]], np.array([3.0, -6.0]), [2, 3])
    out = S.maximum(a, b)
    assert to_numpy(out.indices).tolist() == [[0, 0], [0, 2], [1, 0], [1, 2]]
    assert to_numpy(out.values).tolist() == [2.0, 3.0, 5.0, 0.0]


def test_duplicate_indices_pair_in_order_as_tf_kernel():
    # TF's merge pairs the k-th copy of an index in a with the k-th copy in b
    a = sp_of([[0, 1], [0, 1], [1, 0]], np.array([2.0, 3.0, -1.0]), [2, 2])
    b = sp_of([[0, 1], [1, 1]], np.array([5.0, -4.0]), [2, 2])
    out = S.maximum(a, b)
    assert to_numpy(out.indices).tolist() == [[0, 1], [0, 1], [1, 0], [1, 1]]
    assert to_numpy(out.values).tolist() == [5.0, 3.0, 0.0, 0.0]


def test_integer_values_and_empty_operands():
    a = ef.SparseTensor([[0], [3]], ef.constant([-4, 7], dtype=ef.int32), [5])
    empty = ef.SparseTensor(np.zeros((0, 1), np.int64), ef.constant([], dtype=ef.int32), [5])
    out = S.maximum(a, empty)
    assert to_numpy(out.values).tolist() == [0, 7]
    assert to_numpy(out.values).dtype == np.int32
    out = S.minimum(empty, a)
    assert to_numpy(out.values).tolist() == [-4, 0]
    both = S.maximum(empty, empty)
    assert to_numpy(both.indices).shape == (0, 1) and to_numpy(both.values).size == 0


def test_maximum_errors_name_the_argument():
    a = sp_of([[0, 0]], np.array([1.0]), [2, 2])
    with pytest.raises(InvalidArgumentError, match="do not have the same ranks"):
        S.maximum(a, sp_of([[0]], np.array([1.0]), [2]))
    with pytest.raises(InvalidArgumentError, match="shapes do not match: got 2 and 3"):
        S.minimum(a, sp_of([[0, 0]], np.array([1.0]), [2, 3]))
    with pytest.raises(TypeError, match="sp_b.values has float32"):
        S.maximum(a, sp_of([[0, 0]], np.array([1.0], np.float32), [2, 2]))
    with pytest.raises(TypeError, match="sp_b must be a SparseTensor"):
        S.maximum(a, tensor(np.ones((2, 2))))
    with pytest.raises(TypeError, match="real number type"):
        S.maximum(ef.SparseTensor([[0]], ef.constant([True]), [2]),
                  ef.SparseTensor([[1]], ef.constant([False]), [2]))
    with pytest.raises(InvalidArgumentError, match=r"sp_a.indices\[0\] = \[2, 0\] is out of"):
        S.maximum(sp_of([[2, 0]], np.array([1.0]), [2, 2]), a)


# --- softmax ---------------------------------------------------------------------------------
def np_sparse_softmax(idx, vals):
    """Softmax over entries sharing idx[:, :-1] (written independently of the library)."""
    out = np.empty_like(vals)
    groups = {}
    for i, row in enumerate(idx[:, :-1].tolist()):
        groups.setdefault(tuple(row), []).append(i)
    for members in groups.values():
        v = vals[members]
        e = np.exp(v - v.max())
        out[members] = e / e.sum()
    return out


def test_softmax_doc_example():
    # tf.sparse.softmax docs: a [2, 2, 2] input, softmax along the last dimension's
    # present entries; an entry alone in its row becomes 1
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) - 1.0
    idx = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 1], [1, 1, 1]])
    out = S.softmax(sp_of(idx, values, [2, 2, 2]))
    got = to_numpy(out.values)
    e = np.exp([0.0, 1.0])
    np.testing.assert_allclose(got, [e[0] / e.sum(), e[1] / e.sum(), 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(to_numpy(out.indices), idx)
    assert to_numpy(out.dense_shape).tolist() == [2, 2, 2]


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (4, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_matches_numpy(shape, dtype):
    idx, vals, _ = rand_sparse(shape, density=0.6, dtype=dtype)
    out = S.softmax(sp_of(idx, vals * 30, shape))   # large values: the max shift matters
    got = to_numpy(out.values)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, np_sparse_softmax(idx, (vals * 30).astype(np.float64)),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-30)


def test_softmax_keeps_values_aligned_for_any_order():
    idx = np.array([[1, 2], [0, 0], [1, 0], [0, 1]])
    vals = np.array([3.0, 1.0, 1.0, 2.0])
    got = to_numpy(S.softmax(sp_of(idx, vals, [2, 3])).values)
    np.testing.assert_allclose(got, np_sparse_softmax(idx, vals))
    np.testing.assert_array_equal(to_numpy(S.softmax(sp_of(idx, vals, [2, 3])).indices), idx)


def test_softmax_empty_and_errors():
    empty = sp_of(np.zeros((0, 2)), np.zeros(0), [3, 4])
    out = S.softmax(empty)
    assert to_numpy(out.values).shape == (0,) and to_numpy(out.indices).shape == (0, 2)
    with pytest.raises(InvalidArgumentError, match="rank >= 2"):
        S.softmax(sp_of([[1]], np.array([1.0]), [3]))
    with pytest.raises(TypeError, match="sp_input.values must be float32 or float64"):
        S.softmax(ef.SparseTensor([[0, 0]], ef.constant([1]), [2, 2]))
    with pytest.raises(TypeError, match="sp_input must be a SparseTensor"):
        S.softmax(tensor(np.ones((2, 2))))
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        S.softmax(sp_of([[0, 5]], np.array([1.0]), [2, 2]))


def test_softmax_gradient_is_tfs_sparse_softmax_grad():
    idx, vals, _ = rand_sparse((3, 4, 5), density=0.5)
    g = R.standard_normal(vals.shape)
    v = tensor(vals)
    with ef.GradientTape() as tape:
        tape.watch(v)
        y = S.softmax(sp_of(idx, v, (3, 4, 5))).values
        target = ef.reduce_sum(y * tensor(g))
    got = to_numpy(tape.gradient(target, v))
    yn = np_sparse_softmax(idx, vals)
    # _SparseSoftmaxGrad: (g - sum_row(g * y)) * y
    row_sum = np.zeros_like(yn)
    for i, row in enumerate(idx[:, :-1].tolist()):
        same = (idx[:, :-1] == row).all(axis=1)
        row_sum[i] = np.sum(g[same] * yn[same])
    np.testing.assert_allclose(got, (g - row_sum) * yn, rtol=1e-10, atol=1e-12)


# --- gradient checks -------------------------------------------------------------------------
_IA, _VA, _ = rand_sparse((3, 4), density=0.6)
_IB, _VB, _ = rand_sparse((3, 4), density=0.6)
_IS, _VS, _ = rand_sparse((2, 3, 4), density=0.7)


def _binary(op):
    return lambda va, vb: op(sp_of(_IA, va, (3, 4)), sp_of(_IB, vb, (3, 4))).values


GRAD_CASES = [
    GradCase(("unsorted_segment_sum", "maximum"), _binary(S.maximum), _VA, _VB,
             id="sparse.maximum"),
    GradCase(("unsorted_segment_sum", "minimum"), _binary(S.minimum), _VA, _VB,
             id="sparse.minimum"),
    GradCase(("unsorted_segment_max", "exp", "gather", "unsorted_segment_sum", "divide"),
             lambda v: S.softmax(sp_of(_IS, v, (2, 3, 4))).values, _VS, order=2,
             id="sparse.softmax"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("kind", ["sum", "mean", "sqrt_n"])
def test_sparse_segment_namespace_matches_reference(kind):
    # tf.sparse.segment_*: rows data[indices] reduced over sorted segment ids; an empty
    # segment (1 here) is 0, and num_segments pads the output
    data = np.arange(12, dtype=np.float64).reshape(4, 3)
    indices, seg = np.array([3, 0, 0, 2]), np.array([0, 0, 2, 2])
    got = to_numpy(getattr(ef.sparse, f"segment_{kind}")(tensor(data), tensor(indices),
                                                          tensor(seg), num_segments=4))
    want = np.zeros((4, 3))
    for s in range(4):
        rows = data[indices[seg == s]]
        if len(rows):
            scale = {"sum": 1.0, "mean": len(rows), "sqrt_n": np.sqrt(len(rows))}[kind]
            want[s] = rows.sum(0) / scale
    np.testing.assert_allclose(got, want)


def test_tf1_top_level_aliases_are_the_namespaced_functions():
    assert ef.sparse_maximum is ef.sparse.maximum and ef.sparse_softmax is ef.sparse.softmax
    assert ef.cross is ef.linalg.cross and ef.space_to_depth is ef.nn.space_to_depth
