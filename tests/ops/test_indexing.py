"""Indexing: getitem, gather (IndexedSlices gradients), gather_nd, scatter_nd, boolean_mask,
one_hot, take_along_axis."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(3)


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


IDX = np.array([2, 0, 2, 1])

GRAD_CASES = [
    GradCase("getitem", lambda x: x[1:, ::2], rand(3, 4), order=2),
    GradCase("getitem", lambda x: x[np.array([0, 2, 0]), 1:], rand(3, 4), id="getitem-advanced"),
    GradCase("getitem", lambda x: x[..., None, 1], rand(2, 3), id="getitem-newaxis"),
    GradCase("getitem_grad", lambda x: x[np.array([1, 1])] * x[np.array([1, 1])], rand(3, 2),
             order=2, id="getitem-second-order"),
    GradCase("gather", lambda p: ef.gather(p, IDX), rand(3, 2), order=2),
    GradCase("gather", lambda p: ef.gather(p, np.array([[1, 0], [2, 2]]), axis=1), rand(2, 3, 2),
             id="gather-axis1"),
    GradCase("gather", lambda p: ef.gather(p, np.array([[1, 0], [2, 2]]), axis=1, batch_dims=1),
             rand(2, 3, 2), id="gather-batch-dims"),
    GradCase("gather", lambda p: ef.gather_nd(p, np.array([[0, 1], [1, 2], [0, 1]])),
             rand(2, 3, 2), id="gather_nd"),
    GradCase("unsorted_segment_sum",
             lambda u: ef.scatter_nd(np.array([[1], [0], [1]]), u, (3, 2)), rand(3, 2),
             id="scatter_nd"),
    GradCase("take_along_axis",
             lambda x: ef.take_along_axis(x, np.array([[2, 0], [1, 1]]), axis=1), rand(2, 3)),
    GradCase(["gather"], lambda x: ef.boolean_mask(x, np.array([True, False, True])),
             rand(3, 2), id="boolean_mask"),
    GradCase("getitem", lambda x: ef.strided_slice(x, [0, 3, 0], [2, 0, 1], [1, -2, 1],
                                                    begin_mask=1, shrink_axis_mask=4),
             rand(3, 4, 2), id="strided_slice"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_getitem_matches_numpy():
    a = rand(4, 5, 3)
    x = tensor(a)
    keys = [1, -1, (slice(None), 2), (Ellipsis, 0), (None, 1), (slice(1, None, 2), slice(None, -1)),
            ([0, 3, 3],), (np.array([1, 2]), np.array([0, 4])), (a[:, 0, 0] > 0,)]
    for k in keys:
        np.testing.assert_array_equal(to_numpy(x[k]), a[k])
    np.testing.assert_array_equal(to_numpy(x[tensor(np.array([3, 0]))]), a[[3, 0]])


def test_gather_gradient_is_indexed_slices_and_equals_dense():
    p = ef.Variable(rand(5, 3))
    with ef.GradientTape() as t:
        y = ef.reduce_sum(ef.gather(p, tensor(IDX)) * 2.0)
    g = t.gradient(y, p)
    assert isinstance(g, ef.IndexedSlices)
    assert g.dense_shape == (5, 3)
    dense = np.zeros((5, 3))
    np.add.at(dense, IDX, 2.0)
    np.testing.assert_allclose(to_numpy(g.to_dense()), dense)


def test_indexed_slices_accumulate_with_dense():
    p = ef.Variable(rand(4, 2))
    with ef.GradientTape() as t:
        y = ef.reduce_sum(ef.gather(p, tensor(np.array([0, 0])))) + ef.reduce_sum(p * p)
    g = t.gradient(y, p)
    want = 2 * to_numpy(p)
    want[0] += 2.0
    np.testing.assert_allclose(to_numpy(g), want)


def test_gather_matches_numpy_and_checks_range():
    a = rand(4, 3)
    np.testing.assert_array_equal(to_numpy(ef.gather(tensor(a), [3, 1])), a[[3, 1]])
    np.testing.assert_array_equal(to_numpy(ef.gather(tensor(a), [[2], [0]], axis=1)),
                                  np.take(a, [[2], [0]], axis=1))
    b = rand(2, 4, 3)
    idx = np.array([[0, 3], [1, 1]])
    want = np.stack([np.take(b[i], idx[i], axis=0) for i in range(2)])
    np.testing.assert_allclose(to_numpy(ef.gather(tensor(b), idx, axis=1, batch_dims=1)), want)
    np.testing.assert_array_equal(to_numpy(ef.batch_gather(tensor(b[..., 0]), idx)),
                                  np.take_along_axis(b[..., 0], idx, axis=1))
    if ef.get_backend() == "numpy":
        with pytest.raises(IndexError, match=r"indices contain 7, which is not in \[0, 4\)"):
            ef.gather(tensor(a), [7])
    with pytest.raises(TypeError, match="indices must be integers"):
        ef.gather(tensor(a), tensor(np.array([0.5])))
    with pytest.raises(ValueError, match="axis"):
        ef.gather(tensor(b), idx, axis=0, batch_dims=1)


def test_gather_nd_scatter_nd():
    a = rand(3, 4, 2)
    idx = np.array([[0, 1], [2, 3]])
    np.testing.assert_array_equal(to_numpy(ef.gather_nd(tensor(a), idx)), a[[0, 2], [1, 3]])
    np.testing.assert_array_equal(to_numpy(ef.gather_nd(tensor(a), np.array([[1]]))), a[[1]])
    got = ef.gather_nd(tensor(a), np.array([[1], [3]]), batch_dims=1)
    np.testing.assert_array_equal(to_numpy(got), a[[0, 1], [1, 3]][:, None][:, 0])
    s = ef.scatter_nd(np.array([[4], [3], [1], [7], [4]]),
                      tensor(np.array([9.0, 10, 11, 12, 1])), [8])
    np.testing.assert_array_equal(to_numpy(s), [0, 11, 0, 10, 10, 0, 0, 12])
    with pytest.raises(ValueError, match="updates must have shape"):
        ef.scatter_nd(np.array([[0]]), tensor(np.ones(2)), [3])


def test_boolean_mask_and_one_hot():
    a = rand(2, 3, 2)
    m = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(to_numpy(ef.boolean_mask(tensor(a), m)), a[m])
    np.testing.assert_array_equal(to_numpy(ef.boolean_mask(tensor(a), np.array([True, False]),
                                                          axis=2)), a[:, :, [0]])
    with pytest.raises(ValueError, match="does not match"):
        ef.boolean_mask(tensor(a), np.array([True]))
    oh = ef.one_hot(tensor(np.array([0, 2, -1, 5])), 3)
    assert oh.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(oh), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    oh2 = ef.one_hot(tensor(np.array([1, 0])), 2, on_value=5, off_value=-1, axis=0)
    np.testing.assert_array_equal(to_numpy(oh2), [[-1, 5], [5, -1]])
    assert oh2.dtype == np.int32  # on_value=5: a Python int, int32 as in TF


def test_one_hot_accepts_python_lists_and_numpy():
    np.testing.assert_array_equal(to_numpy(ef.one_hot([0, 2], 3)), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(to_numpy(ef.one_hot(np.array([[1]]), 2)), [[[0, 1]]])


def test_getitem_with_duplicates_accumulates_gradient():
    x = tensor(rand(3))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(x[[0, 0, 2]])
    np.testing.assert_array_equal(to_numpy(t.gradient(y, x)), [2.0, 0.0, 1.0])


def test_two_gathers_accumulate_as_indexed_slices():
    p = ef.Variable(rand(4, 2))
    with ef.GradientTape() as t:
        y = ef.reduce_sum(ef.gather(p, [0, 1])) + ef.reduce_sum(ef.gather(p, [1, 3]) * 3.0)
    g = t.gradient(y, p)
    assert isinstance(g, ef.IndexedSlices)
    assert to_numpy(g.indices).tolist() == [1, 3, 0, 1] or to_numpy(g.indices).tolist() == [0, 1, 1, 3]
    np.testing.assert_allclose(to_numpy(g.to_dense()), [[1, 1], [4, 4], [0, 0], [3, 3]])


def test_strided_slice_masks_match_numpy():
    x = rand(4, 5, 3)
    t = tensor(x)
    cases = [
        (dict(begin=[1, 0], end=[3, 5], strides=[1, 2]), x[1:3, 0:5:2]),
        (dict(begin=[0, 4], end=[0, 0], strides=[1, -1], begin_mask=1, end_mask=3),
         x[:, 4::-1]),
        (dict(begin=[0, 2], end=[0, 3], strides=[1, 1], ellipsis_mask=1, shrink_axis_mask=2),
         x[..., 2]),
        (dict(begin=[1, 0, 0], end=[2, 0, 0], strides=[1, 1, 1], new_axis_mask=2,
              shrink_axis_mask=1, end_mask=4), x[1, None, :]),
    ]
    for kw, want in cases:
        np.testing.assert_array_equal(to_numpy(ef.strided_slice(t, **kw)), want)
    np.testing.assert_array_equal(to_numpy(ef.strided_slice(t, [1], [3])), x[1:3])
    with pytest.raises(ValueError, match="strides\\[0\\] must be non-zero"):
        ef.strided_slice(t, [0], [2], [0])
    with pytest.raises(ValueError, match="same length"):
        ef.strided_slice(t, [0, 1], [2], [1])


def test_clipping_utilities_at_top_level():
    clipped = ef.clip_by_norm(tensor(np.array([3.0, 4.0])), 1.0)
    np.testing.assert_allclose(to_numpy(clipped), [0.6, 0.8])
    assert float(to_numpy(ef.global_norm([tensor(np.array([3.0, 4.0]))]))) == 5.0
    (c,), norm = ef.clip_by_global_norm([tensor(np.array([6.0, 8.0]))], 5.0)
    np.testing.assert_allclose(to_numpy(c), [3.0, 4.0])
