"""``ef.sparse`` ops: TF's documented examples, a NumPy reference on random inputs (empty ones
too), argument errors and float64 gradient checks."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

S = ef.sparse
R = np.random.default_rng(11)


# --- helpers -------------------------------------------------------------------------------
def rand_sparse(shape, density=0.4, dtype=np.float64, rng=R):
    """(indices, values, dense) of a random canonical SparseTensor with ``shape``."""
    dense = rng.uniform(-3, 3, size=shape).astype(dtype)
    dense[rng.uniform(size=shape) > density] = 0
    dense[dense == 0] = 0  # (no -0.0)
    idx = np.argwhere(dense != 0).astype(np.int64).reshape(-1, len(shape))
    return idx, dense[tuple(idx.T)] if idx.size else np.zeros(0, dtype), dense


def sp_of(idx, vals, shape):
    return ef.SparseTensor(tensor(np.asarray(idx, np.int64).reshape(-1, len(shape))),
                           vals if isinstance(vals, ef.Tensor) else tensor(vals),
                           tensor(np.asarray(shape, np.int64)))


def parts(sp):
    return (to_numpy(sp.indices), to_numpy(sp.values), to_numpy(sp.dense_shape))


def dense_of(sp):
    return to_numpy(S.to_dense(sp))


def assert_canonical(sp):
    idx = to_numpy(sp.indices)
    assert idx.dtype == np.int64 and to_numpy(sp.dense_shape).dtype == np.int64
    if idx.shape[0] > 1:
        order = np.lexsort(idx.T[::-1])
        assert (order == np.arange(idx.shape[0])).all(), idx.tolist()


def doc_x(values):
    return ef.SparseTensor([[0, 0], [0, 2], [1, 1]], ef.constant(values), [2, 3])


# --- reduce_sum / reduce_max ---------------------------------------------------------------
def test_reduce_sum_doc_examples():
    x = doc_x([1, 1, 1])
    assert S.reduce_sum(x).numpy().tolist() == 3
    assert S.reduce_sum(x, 0).numpy().tolist() == [1, 1, 1]
    assert S.reduce_sum(x, 1).numpy().tolist() == [2, 1]
    assert S.reduce_sum(x, -1).numpy().tolist() == [2, 1]
    assert S.reduce_sum(x, 1, keepdims=True).numpy().tolist() == [[2], [1]]
    assert S.reduce_sum(x, [0, 1]).numpy().tolist() == 3
    assert S.reduce_sum(x).dtype == x.values.dtype  # the values dtype, as in TF


def test_reduce_max_doc_examples():
    x = doc_x([1, 2, 3])
    assert S.reduce_max(x).numpy().tolist() == 3
    assert S.reduce_max(x, 0).numpy().tolist() == [1, 3, 2]
    assert S.reduce_max(x, 1).numpy().tolist() == [2, 3]
    assert S.reduce_max(x, 1, keepdims=True).numpy().tolist() == [[2], [3]]
    assert S.reduce_max(x, [0, 1]).numpy().tolist() == 3
    y = ef.SparseTensor([[0, 0], [1, 0], [1, 1]], ef.constant([-7, 4, 3]), [3, 2])
    assert S.reduce_max(y, 1).numpy().tolist() == [-7, 4, 0]


def _np_reduce(dense, present, axis, keepdims, kind):
    if kind == "sum":
        return np.sum(dense, axis=axis, keepdims=keepdims)
    masked = np.where(present, dense, -np.inf)
    out = np.max(masked, axis=axis, keepdims=keepdims)
    return np.where(np.isneginf(out), 0.0, out)


@pytest.mark.parametrize("kind", ["sum", "max"])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 2), [2, 0], (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_matches_numpy(kind, axis, keepdims):
    shape = (3, 4, 5)
    fn = S.reduce_sum if kind == "sum" else S.reduce_max
    for density in (0.3, 0.0):  # 0.0: the empty SparseTensor
        idx, vals, dense = rand_sparse(shape, density)
        present = dense != 0
        sp = sp_of(idx, vals, shape)
        want = _np_reduce(dense, present, None if axis is None else tuple(axis)
                          if isinstance(axis, (tuple, list)) else axis, keepdims, kind)
        got = to_numpy(fn(sp, axis, keepdims=keepdims))
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        # the sparse result holds exactly the groups that have a value
        out = fn(sp, axis, keepdims=keepdims, output_is_sparse=True)
        assert_canonical(out)
        oi, ov, os_ = parts(out)
        assert tuple(os_.tolist()) == np.shape(want)
        np.testing.assert_allclose(dense_of(out), want, rtol=1e-12)
        any_present = np.any(present, axis=None if axis is None else tuple(np.atleast_1d(axis)),
                             keepdims=keepdims)
        assert oi.shape[0] == int(np.sum(any_present))


def test_reduce_max_only_present_values_and_sparse_zero_sums():
    sp = ef.SparseTensor([[0, 0], [0, 1], [1, 0]], ef.constant([-2.0, -5.0, 0.0]), [3, 2])
    assert S.reduce_max(sp, 1).numpy().tolist() == [-2.0, 0.0, 0.0]
    s = ef.SparseTensor([[0, 0], [0, 1]], ef.constant([1.0, -1.0]), [2, 2])
    out = S.reduce_sum(s, 1, output_is_sparse=True)
    assert parts(out)[0].tolist() == [[0]] and parts(out)[1].tolist() == [0.0]
    out = S.reduce_sum_sparse(s, 0, keepdims=True)
    assert parts(out)[0].tolist() == [[0, 0], [0, 1]] and parts(out)[2].tolist() == [1, 2]
    assert parts(S.reduce_max_sparse(s))[1].tolist() == [1.0]


def test_reduce_unsorted_and_duplicate_indices():
    sp = ef.SparseTensor([[1, 2], [0, 1], [1, 2]], ef.constant([1.0, 2.0, 4.0]), [2, 3])
    assert S.reduce_sum(sp, 0).numpy().tolist() == [0.0, 2.0, 5.0]
    assert S.reduce_max(sp, 0).numpy().tolist() == [0.0, 2.0, 4.0]


def test_reduce_bad_arguments():
    x = doc_x([1, 1, 1])
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension 2"):
        S.reduce_sum(x, 2)
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension -3"):
        S.reduce_max(x, [-3])
    with pytest.raises(TypeError, match="sp_input must be a SparseTensor"):
        S.reduce_sum(ef.constant([1.0]))
    with pytest.raises(TypeError, match="axis"):
        S.reduce_sum(x, 0.5)
    bad = ef.SparseTensor([[0, 5]], ef.constant([1.0]), [2, 3])
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        S.reduce_sum(bad, 0)


# --- sparse_dense_matmul -------------------------------------------------------------------
def test_sparse_dense_matmul_doc_shapes():
    a = ef.SparseTensor([[0, 0], [1, 2]], ef.constant([1.0, 2.0]), [2, 3])
    b = ef.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert S.sparse_dense_matmul(a, b).numpy().tolist() == [[1.0, 2.0], [10.0, 12.0]]
    out = S.sparse_dense_matmul(a, ef.constant([[1.0, 0.0], [0.0, 1.0]]), adjoint_a=True)
    assert out.numpy().tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]


@pytest.mark.parametrize("adjoint_a", [False, True])
@pytest.mark.parametrize("adjoint_b", [False, True])
@pytest.mark.parametrize("density", [0.35, 0.0])
def test_sparse_dense_matmul_matches_numpy(adjoint_a, adjoint_b, density):
    m, k, n = 4, 5, 3
    a_shape = (k, m) if adjoint_a else (m, k)
    idx, vals, dense_a = rand_sparse(a_shape, density)
    b = R.standard_normal((n, k) if adjoint_b else (k, n))
    opa = dense_a.T if adjoint_a else dense_a
    opb = b.T if adjoint_b else b
    got = S.sparse_dense_matmul(sp_of(idx, vals, a_shape), tensor(b), adjoint_a=adjoint_a,
                                adjoint_b=adjoint_b)
    np.testing.assert_allclose(to_numpy(got), opa @ opb, rtol=1e-12, atol=1e-12)
    # dense @ sparse, as tf.sparse.sparse_dense_matmul(dense, sparse) does: op(D) @ op(sp)
    ta, tb = adjoint_b, adjoint_a
    op_sp = dense_a.T if tb else dense_a
    d = R.standard_normal((op_sp.shape[0], n) if ta else (n, op_sp.shape[0]))
    got = S.sparse_dense_matmul(tensor(d), sp_of(idx, vals, a_shape), adjoint_a=ta,
                                adjoint_b=tb)
    np.testing.assert_allclose(to_numpy(got), (d.T if ta else d) @ op_sp, rtol=1e-12,
                               atol=1e-12)


def test_sparse_dense_matmul_duplicates_add():
    a = ef.SparseTensor([[0, 1], [0, 1]], ef.constant([1.0, 2.0]), [1, 2])
    assert S.sparse_dense_matmul(a, ef.constant([[1.0], [10.0]])).numpy().tolist() == [[30.0]]


def test_sparse_dense_matmul_bad_arguments():
    a = ef.SparseTensor([[0, 0], [1, 2]], ef.constant([1.0, 2.0]), [2, 3])
    with pytest.raises(InvalidArgumentError, match="inner dimension"):
        S.sparse_dense_matmul(a, ef.ones([2, 2]))
    with pytest.raises(InvalidArgumentError, match="b must be a matrix"):
        S.sparse_dense_matmul(a, ef.ones([3]))
    with pytest.raises(InvalidArgumentError, match="rank-2"):
        S.sparse_dense_matmul(ef.SparseTensor([[0, 0, 0]], [1.0], [1, 1, 1]), ef.ones([1, 1]))
    with pytest.raises(InvalidArgumentError, match="dtype"):
        S.sparse_dense_matmul(a, tensor(np.ones((3, 1))))
    oob = ef.SparseTensor([[0, 3]], ef.constant([1.0]), [2, 3])
    with pytest.raises(InvalidArgumentError, match=r"k \(3\).*out of bounds"):
        S.sparse_dense_matmul(oob, ef.ones([3, 1]))
    with pytest.raises(TypeError, match="sp_a must be a SparseTensor"):
        S.sparse_dense_matmul(ef.ones([2, 2]), ef.ones([2, 2]))


# --- add ----------------------------------------------------------------------------------
def test_add_doc_threshold_example():
    # the doc's logical sum [[ , 2], [.1, 0], [6, -.2]], each entry a sum of two operands
    idx = [[0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]
    total = np.array([2.0, 0.1, 0.0, 6.0, -0.2])
    part = np.array([1.0, 0.3, 5.0, 2.0, 0.4])
    a, b = sp_of(idx, part, [3, 2]), sp_of(idx, total - part, [3, 2])
    for thr, kept in ((0, 5), (0.11, 3), (0.21, 2)):
        out = S.add(a, b, threshold=thr)
        assert_canonical(out)
        assert parts(out)[0].shape[0] == kept
    out = S.add(a, b, threshold=0.21)
    assert parts(out)[0].tolist() == [[0, 1], [2, 0]]
    np.testing.assert_allclose(parts(out)[1], [2.0, 6.0])


def test_add_threshold_only_applies_to_summed_entries():
    # TF's SparseAdd kernel keeps an entry held by one operand whatever its magnitude
    a = ef.SparseTensor([[0, 0], [1, 1]], ef.constant([0.01, 1.0]), [2, 2])
    b = ef.SparseTensor([[1, 1]], ef.constant([-0.99]), [2, 2])
    out = S.add(a, b, threshold=0.5)
    assert parts(out)[0].tolist() == [[0, 0]]
    np.testing.assert_allclose(parts(out)[1], [0.01])


@pytest.mark.parametrize("density", [(0.4, 0.4), (0.0, 0.5), (0.0, 0.0)])
def test_add_matches_numpy(density):
    shape = (4, 3, 2)
    ia, va, da = rand_sparse(shape, density[0])
    ib, vb, db = rand_sparse(shape, density[1])
    a, b = sp_of(ia, va, shape), sp_of(ib, vb, shape)
    out = S.add(a, b)
    assert_canonical(out)
    np.testing.assert_allclose(dense_of(out), da + db, rtol=1e-12)
    union = (da != 0) | (db != 0)
    assert parts(out)[0].tolist() == np.argwhere(union).tolist()
    dense = R.standard_normal(shape)
    np.testing.assert_allclose(to_numpy(S.add(a, tensor(dense))), da + dense, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(S.add(tensor(dense), b)), db + dense, rtol=1e-12)


def test_add_unsorted_inputs_give_canonical_output():
    a = ef.SparseTensor([[1, 0], [0, 1]], ef.constant([1.0, 2.0]), [2, 2])
    b = ef.SparseTensor([[0, 1], [0, 0]], ef.constant([3.0, 4.0]), [2, 2])
    out = S.add(a, b)
    assert parts(out)[0].tolist() == [[0, 0], [0, 1], [1, 0]]
    assert parts(out)[1].tolist() == [4.0, 5.0, 1.0]


def test_add_bad_arguments():
    a = ef.SparseTensor([[0, 0]], ef.constant([1.0]), [2, 2])
    with pytest.raises(TypeError, match="At least one input should be SparseTensor"):
        S.add(ef.ones([2, 2]), ef.ones([2, 2]))
    with pytest.raises(InvalidArgumentError, match="shapes do not match"):
        S.add(a, ef.SparseTensor([[0, 0]], ef.constant([1.0]), [2, 3]))
    with pytest.raises(InvalidArgumentError, match="same ranks"):
        S.add(a, ef.SparseTensor([[0, 0, 0]], ef.constant([1.0]), [2, 2, 1]))
    with pytest.raises(InvalidArgumentError, match="threshold must be a scalar"):
        S.add(a, a, threshold=[0.1, 0.2])
    with pytest.raises(InvalidArgumentError, match="no broadcasting"):
        S.add(a, ef.ones([2]))
    with pytest.raises(InvalidArgumentError, match="dtype"):
        S.add(a, ef.SparseTensor([[0, 0]], tensor(np.array([1.0])), [2, 2]))


# --- reshape ------------------------------------------------------------------------------
def test_reshape_doc_example():
    sp = ef.SparseTensor([[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 2, 3]],
                         ["a", "b", "c", "d", "e"], [2, 3, 6])
    out = S.reshape(sp, [9, -1])
    assert parts(out)[0].tolist() == [[0, 0], [0, 1], [1, 2], [4, 2], [8, 1]]
    assert parts(out)[1].tolist() == ["a", "b", "c", "d", "e"]
    assert parts(out)[2].tolist() == [9, 4]


@pytest.mark.parametrize("new_shape", [[6, 10], [-1, 5], [3, -1, 2, 5], [60], [2, 30, -1]])
@pytest.mark.parametrize("density", [0.3, 0.0])
def test_reshape_matches_numpy(new_shape, density):
    idx, vals, dense = rand_sparse((3, 4, 5), density)
    out = S.reshape(sp_of(idx, vals, (3, 4, 5)), new_shape)
    assert_canonical(out)
    np.testing.assert_array_equal(dense_of(out), dense.reshape(new_shape))


def test_reshape_bad_arguments():
    sp = ef.SparseTensor([[0, 0]], ef.constant([1.0]), [2, 3])
    with pytest.raises(InvalidArgumentError, match="only one output dimension may be -1"):
        S.reshape(sp, [-1, -1])
    with pytest.raises(InvalidArgumentError, match="requires a multiple of 4"):
        S.reshape(sp, [4, -1])
    with pytest.raises(InvalidArgumentError, match="has 8"):
        S.reshape(sp, [2, 4])
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        S.reshape(sp, [-2, -3])
    with pytest.raises(InvalidArgumentError, match="shape must be a vector"):
        S.reshape(sp, [[6]])


# --- concat -------------------------------------------------------------------------------
def test_concat_doc_examples():
    a = ef.SparseTensor([[0, 2], [1, 0], [1, 1]], ["a", "b", "c"], [2, 3])
    b = ef.SparseTensor([[0, 1], [0, 2]], ["d", "e"], [2, 4])
    out = S.concat(1, [a, b])
    assert parts(out)[0].tolist() == [[0, 2], [0, 4], [0, 5], [1, 0], [1, 1]]
    assert parts(out)[1].tolist() == ["a", "d", "e", "b", "c"]
    assert parts(out)[2].tolist() == [2, 7]
    a3 = ef.SparseTensor([[0, 2], [1, 0], [2, 1]], ["a", "b", "c"], [3, 3])
    with pytest.raises(InvalidArgumentError, match="Input shapes must match"):
        S.concat(1, [a3, b])
    out = S.concat(1, [a3, b], expand_nonconcat_dims=True)
    assert parts(out)[0].tolist() == [[0, 2], [0, 4], [0, 5], [1, 0], [2, 1]]
    assert parts(out)[1].tolist() == ["a", "d", "e", "b", "c"]
    assert parts(out)[2].tolist() == [3, 7]


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_concat_matches_numpy(axis):
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes = [tuple(s[d] + (i if d == axis % 3 else 0) for d in range(3))
              for i, s in enumerate(shapes)]
    data = [rand_sparse(s, dens) for s, dens in zip(shapes, (0.4, 0.0, 0.3))]
    out = S.concat(axis, [sp_of(i, v, s) for (i, v, _), s in zip(data, shapes)])
    assert_canonical(out)
    np.testing.assert_array_equal(dense_of(out), np.concatenate([d for *_, d in data], axis))


def test_concat_single_and_bad_arguments():
    a = ef.SparseTensor([[0, 0]], ef.constant([1.0]), [2, 2])
    assert S.concat(0, [a]) is a
    with pytest.raises(ValueError, match="must not be empty"):
        S.concat(0, [])
    with pytest.raises(TypeError, match="sp_inputs must be a list"):
        S.concat(0, a)
    with pytest.raises(TypeError, match=r"sp_inputs\[1\] must be a SparseTensor"):
        S.concat(0, [a, ef.ones([2, 2])])
    with pytest.raises(InvalidArgumentError, match="must be in range"):
        S.concat(2, [a, a])
    with pytest.raises(InvalidArgumentError, match="Ranks of all input tensors must match"):
        S.concat(0, [a, ef.SparseTensor([[0]], ef.constant([1.0]), [2])])


# --- fill_empty_rows ----------------------------------------------------------------------
def test_fill_empty_rows_doc_example():
    sp = ef.SparseTensor([[0, 1], [0, 3], [2, 0], [3, 1]], ["a", "b", "c", "d"], [5, 6])
    out, empty = S.fill_empty_rows(sp, "x")
    assert parts(out)[0].tolist() == [[0, 1], [0, 3], [1, 0], [2, 0], [3, 1], [4, 0]]
    assert parts(out)[1].tolist() == ["a", "b", "x", "c", "d", "x"]
    assert parts(out)[2].tolist() == [5, 6]
    assert empty.numpy().tolist() == [False, True, False, False, True]


@pytest.mark.parametrize("density", [0.3, 0.0])
def test_fill_empty_rows_matches_numpy(density):
    idx, vals, dense = rand_sparse((6, 3, 2), density)
    out, empty = S.fill_empty_rows(sp_of(idx, vals, (6, 3, 2)), 7.5)
    assert_canonical(out)
    want_empty = ~np.any(dense != 0, axis=(1, 2))
    assert to_numpy(empty).tolist() == want_empty.tolist()
    want = dense.copy()
    want[want_empty, 0, 0] = 7.5
    np.testing.assert_array_equal(dense_of(out), want)


def test_fill_empty_rows_bad_arguments():
    sp = ef.SparseTensor([[0, 1]], ef.constant([1.0]), [2, 2])
    with pytest.raises(InvalidArgumentError, match="default_value must be a scalar"):
        S.fill_empty_rows(sp, [1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="is invalid"):
        S.fill_empty_rows(ef.SparseTensor([[3, 0]], ef.constant([1.0]), [2, 2]), 0.0)
    with pytest.raises(TypeError, match="sp_input must be a SparseTensor"):
        S.fill_empty_rows(ef.ones([2, 2]), 0.0)


# --- retain, slice, split -----------------------------------------------------------------
def test_retain_doc_example_and_reference():
    sp = ef.SparseTensor([[0, 1], [0, 3], [2, 0], [3, 1]], ["a", "b", "c", "d"], [4, 5])
    out = S.retain(sp, [True, False, False, True])
    assert parts(out)[0].tolist() == [[0, 1], [3, 1]]
    assert parts(out)[1].tolist() == ["a", "d"]
    assert parts(out)[2].tolist() == [4, 5]
    idx, vals, _ = rand_sparse((5, 5), 0.5)
    keep = R.uniform(size=idx.shape[0]) > 0.5
    out = S.retain(sp_of(idx, vals, (5, 5)), ef.constant(keep))
    assert parts(out)[0].tolist() == idx[keep].tolist()
    np.testing.assert_array_equal(parts(out)[1], vals[keep])
    empty = S.retain(sp_of(np.zeros((0, 2)), np.zeros(0), (5, 5)), np.zeros(0, bool))
    assert parts(empty)[0].shape == (0, 2)
    with pytest.raises(ValueError, match="to_retain has 2 entries"):
        S.retain(sp, [True, False])
    with pytest.raises(ValueError, match="must be a vector"):
        S.retain(sp, [[True, False, False, True]])


def _doc_2x7():
    return ef.SparseTensor([[0, 2], [0, 4], [0, 5], [1, 0], [1, 1]],
                           ef.constant([1, 2, 3, 4, 5]), [2, 7])


def test_slice_doc_example():
    sp = _doc_2x7()
    out = S.slice(sp, [0, 0], [2, 4])
    assert parts(out)[2].tolist() == [2, 4]
    assert dense_of(out).tolist() == [[0, 0, 1, 0], [4, 5, 0, 0]]
    out = S.slice(sp, [0, 4], [2, 3])
    assert parts(out)[2].tolist() == [2, 3]
    assert dense_of(out).tolist() == [[2, 3, 0], [0, 0, 0]]


@pytest.mark.parametrize("start,size", [([1, 0, 2], [2, 3, 2]), ([0, 2, 1], [9, 9, 9]),
                                        ([3, 4, 5], [1, 1, 1]), ([0, 0, 0], [0, 2, 2])])
@pytest.mark.parametrize("density", [0.4, 0.0])
def test_slice_matches_numpy(start, size, density):
    idx, vals, dense = rand_sparse((3, 4, 5), density)
    out = S.slice(sp_of(idx, vals, (3, 4, 5)), start, size)
    assert_canonical(out)
    want = dense[tuple(np.s_[s:s + z] for s, z in zip(start, size))]
    assert parts(out)[2].tolist() == list(want.shape)
    np.testing.assert_array_equal(dense_of(out), want)


def test_slice_bad_arguments():
    sp = _doc_2x7()
    with pytest.raises(InvalidArgumentError, match="Expected start and size to have 2"):
        S.slice(sp, [0], [1])
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        S.slice(sp, [0, -1], [1, 1])
    with pytest.raises(TypeError, match="start must be integers"):
        S.slice(sp, [0.5, 0], [1, 1])


def test_split_doc_example():
    sp = _doc_2x7()
    for axis in (1, -1):
        p0, p1 = S.split(sp_input=sp, num_split=2, axis=axis)
        assert dense_of(p0).tolist() == [[0, 0, 1, 0], [4, 5, 0, 0]]
        assert dense_of(p1).tolist() == [[2, 3, 0], [0, 0, 0]]
    p0, p1 = S.split(sp_input=sp, num_split=2, axis=0)
    assert dense_of(p0).tolist() == [[0, 0, 1, 0, 2, 3, 0]]
    assert dense_of(p1).tolist() == [[4, 5, 0, 0, 0, 0, 0]]


@pytest.mark.parametrize("num_split,axis", [(3, 2), (2, 0), (4, 1), (1, 1), (5, -1)])
@pytest.mark.parametrize("density", [0.4, 0.0])
def test_split_matches_numpy(num_split, axis, density):
    idx, vals, dense = rand_sparse((3, 4, 7), density)
    pieces = S.split(sp_input=sp_of(idx, vals, (3, 4, 7)), num_split=num_split, axis=axis)
    want = np.array_split(dense, num_split, axis=axis)  # first pieces one longer, like TF
    assert len(pieces) == num_split
    for p, w in zip(pieces, want):
        assert_canonical(p)
        np.testing.assert_array_equal(dense_of(p), w)


def test_split_bad_arguments():
    sp = _doc_2x7()
    with pytest.raises(InvalidArgumentError, match="between 1 and the splitting dimension"):
        S.split(sp_input=sp, num_split=3, axis=0)
    with pytest.raises(InvalidArgumentError, match="between 1"):
        S.split(sp_input=sp, num_split=0, axis=1)
    with pytest.raises(InvalidArgumentError, match="must be in range"):
        S.split(sp_input=sp, num_split=2, axis=2)
    with pytest.raises(TypeError, match="num_split must be a Python integer"):
        S.split(sp_input=sp, num_split=2.0, axis=1)
    with pytest.raises(TypeError, match="sp_input must be a SparseTensor"):
        S.split(num_split=2, axis=1)


# --- to_indicator, from_dense -------------------------------------------------------------
def test_to_indicator_doc_example():
    sp = ef.SparseTensor([[0, 0, 0], [0, 1, 0], [1, 0, 3], [1, 1, 1], [1, 1, 2], [1, 1, 3],
                          [1, 2, 1]], ef.constant([0, 10, 103, 150, 149, 150, 121]), [2, 3, 4])
    out = S.to_indicator(sp, 200).numpy()
    assert out.shape == (2, 3, 200) and out.dtype == bool
    assert np.argwhere(out).tolist() == [[0, 0, 0], [0, 1, 10], [1, 0, 103], [1, 1, 149],
                                         [1, 1, 150], [1, 2, 121]]
    empty = S.to_indicator(ef.SparseTensor(np.zeros((0, 2), np.int64), ef.constant(
        np.zeros(0, np.int64)), [2, 3]), 4)
    assert empty.numpy().tolist() == [[False] * 4] * 2
    with pytest.raises(InvalidArgumentError, match="out of range"):
        S.to_indicator(sp, 150)
    with pytest.raises(TypeError, match="int32 or int64"):
        S.to_indicator(ef.SparseTensor([[0, 0]], [1.0], [1, 1]), 3)


def test_from_dense_matches_numpy():
    for density in (0.4, 0.0):
        _, _, dense = rand_sparse((3, 4), density)
        out = S.from_dense(tensor(dense))
        assert_canonical(out)
        assert parts(out)[0].tolist() == np.argwhere(dense != 0).tolist()
        np.testing.assert_array_equal(parts(out)[1], dense[dense != 0])
        assert parts(out)[2].tolist() == [3, 4]
    out = S.from_dense(ef.constant([["", "a"], ["b", ""]]))
    assert parts(out)[0].tolist() == [[0, 1], [1, 0]] and parts(out)[1].tolist() == ["a", "b"]
    np.testing.assert_array_equal(dense_of(S.from_dense(tensor(dense))), dense)


def test_results_are_int64_tensors():
    out = S.concat(0, [_doc_2x7(), _doc_2x7()])
    for comp in (out.indices, out.values, out.dense_shape):
        assert isinstance(comp, ef.Tensor)
    assert out.indices.dtype == np.int64 and out.dense_shape.dtype == np.int64


# --- gradients (float64 finite differences) -------------------------------------------------
_I3 = rand_sparse((3, 4, 2), 0.5, rng=np.random.default_rng(3))[0]
_I2 = rand_sparse((4, 5), 0.5, rng=np.random.default_rng(5))[0]
_J2 = rand_sparse((4, 5), 0.5, rng=np.random.default_rng(6))[0]
_MASK = (np.arange(12).reshape(3, 4) % 3 != 0).astype(np.float64)


def _v(n):
    return np.random.default_rng(n).uniform(-2, 2, size=n)


def _sp3(v):
    return sp_of(_I3, v, (3, 4, 2))


def _sp2(v, idx=_I2, shape=(4, 5)):
    return sp_of(idx, v, shape)


def _sdmm(adjoint_a, adjoint_b):
    def fn(v, b):
        shape = (5, 4) if adjoint_a else (4, 5)
        idx = _I2[:, ::-1] if adjoint_a else _I2
        return S.sparse_dense_matmul(_sp2(v, idx, shape), b, adjoint_a=adjoint_a,
                                     adjoint_b=adjoint_b)
    return fn


GRAD_CASES = [
    GradCase("unsorted_segment_sum", lambda v: S.reduce_sum(_sp3(v), [0, 2]), _v(len(_I3)),
             id="sparse.reduce_sum"),
    GradCase("unsorted_segment_sum",
             lambda v: S.reduce_sum(_sp3(v), 1, output_is_sparse=True).values, _v(len(_I3)),
             id="sparse.reduce_sum-sparse"),
    GradCase(("unsorted_segment_max", "where"), lambda v: S.reduce_max(_sp3(v), 2),
             _v(len(_I3)), id="sparse.reduce_max"),
] + [
    GradCase(("gather", "multiply", "unsorted_segment_sum"), _sdmm(aa, ab), _v(len(_I2)),
             np.random.default_rng(7).standard_normal((3, 5) if ab else (5, 3)),
             id=f"sparse.sparse_dense_matmul-{aa}-{ab}")
    for aa in (False, True) for ab in (False, True)
] + [
    GradCase(("transpose", "unsorted_segment_sum"),
             lambda d, v: S.sparse_dense_matmul(d, _sp2(v)), np.random.default_rng(8)
             .standard_normal((2, 4)), _v(len(_I2)), id="sparse.sparse_dense_matmul-dense-sp"),
    GradCase(("concat", "unsorted_segment_sum"),
             lambda va, vb: S.add(_sp2(va), _sp2(vb, _J2), threshold=0.3).values,
             _v(len(_I2)), _v(len(_J2)) + 0.01, id="sparse.add-sparse"),
    GradCase("add", lambda v, d: S.add(_sp2(v), d), _v(len(_I2)),
             np.random.default_rng(9).standard_normal((4, 5)), id="sparse.add-dense"),
    GradCase("identity", lambda v: S.reshape(_sp3(v), [-1, 6]).values, _v(len(_I3)),
             id="sparse.reshape"),
    GradCase(("concat", "gather"),
             lambda va, vb: S.concat(1, [_sp2(va), _sp2(vb, _J2)]).values, _v(len(_I2)),
             _v(len(_J2)), id="sparse.concat"),
    GradCase(("broadcast_to", "concat", "gather"),
             lambda v, dv: S.fill_empty_rows(sp_of(_I2[_I2[:, 0] != 1], v, (4, 5)),
                                             dv)[0].values,
             _v(int((_I2[:, 0] != 1).sum())), np.array(0.5), id="sparse.fill_empty_rows"),
    GradCase("gather", lambda v: S.retain(_sp2(v), np.arange(len(_I2)) % 2 == 0).values,
             _v(len(_I2)), id="sparse.retain"),
    GradCase("gather", lambda v: S.slice(_sp3(v), [1, 1, 0], [2, 2, 2]).values, _v(len(_I3)),
             id="sparse.slice"),
    GradCase("gather", lambda v: S.split(sp_input=_sp3(v), num_split=2, axis=1)[1].values,
             _v(len(_I3)), id="sparse.split"),
    # the mask keeps the zero pattern fixed under the finite-difference steps
    GradCase("multiply", lambda d: S.from_dense(d * tensor(_MASK)).values,
             np.random.default_rng(10).standard_normal((3, 4)), id="sparse.from_dense"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_gradients(case):
    run_case(case)


def test_tf1_top_level_spellings():
    import eagerflow as ef
    sp = ef.SparseTensor([[0, 1], [1, 0]], ef.constant(np.array([2.0, 3.0])), [2, 2])
    got = ef.sparse_tensor_dense_matmul(sp, ef.constant(np.eye(2)))
    np.testing.assert_array_equal(got.numpy(), [[0.0, 2.0], [3.0, 0.0]])
    assert float(ef.sparse_reduce_sum(sp).numpy()) == 5.0
    for name, target in [("sparse_add", "add"), ("sparse_concat", "concat"),
                         ("sparse_reshape", "reshape"), ("sparse_retain", "retain"),
                         ("sparse_slice", "slice"), ("sparse_split", "split"),
                         ("sparse_fill_empty_rows", "fill_empty_rows"),
                         ("sparse_to_indicator", "to_indicator"),
                         ("sparse_reduce_max", "reduce_max")]:
        assert getattr(ef, name) is getattr(ef.sparse, target)
