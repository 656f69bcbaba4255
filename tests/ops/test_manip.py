"""Manipulation ops: tensor_scatter_nd_*, roll, repeat, meshgrid, searchsorted, histograms,
unravel_index, shape_n, reverse_sequence, dynamic_partition/stitch, broadcast shapes,
parallel_stack, realdiv and the space/batch ops, against NumPy references and the examples
of TensorFlow's documentation."""
import doctest

import numpy as np
import pytest

import eagerflow as ef
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(7)


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


def npv(t):
    return to_numpy(t)


def bad_index(fn, match):
    """``fn`` must raise InvalidArgumentError for an index out of range: at once on the CPU,
    at ``check_errors()`` on the GPU (whose result is returned)."""
    if ef.get_backend() == "numpy":
        with pytest.raises(InvalidArgumentError, match=match):
            fn()
        return None
    out = fn()
    with pytest.raises(InvalidArgumentError):
        ef.kernels.check_errors()
    return out


IDX_DUP = np.array([[1], [3], [1]])
IDX_2D = np.array([[0, 1], [2, 3], [0, 1]])


def _s2b(x):
    return ef.space_to_batch_nd(x, [2, 3], [[1, 1], [2, 0]])


GRAD_CASES = [
    GradCase("tensor_scatter_nd_update",
             lambda t, u: ef.tensor_scatter_nd_update(t, IDX_DUP, u), rand(5, 2), rand(3, 2),
             order=2, id="tensor_scatter_nd_update-duplicates"),
    GradCase("tensor_scatter_nd_update",
             lambda t, u: ef.tensor_scatter_nd_update(t, np.array([[2, 1], [0, 0]]), u),
             rand(3, 2, 4), rand(2, 4), id="tensor_scatter_nd_update-slices"),
    GradCase("tensor_scatter_nd_add", lambda t, u: ef.tensor_scatter_nd_add(t, IDX_2D, u),
             rand(3, 4), rand(3), order=2),
    GradCase("tensor_scatter_nd_sub", lambda t, u: ef.tensor_scatter_nd_sub(t, IDX_DUP, u),
             rand(4, 3), rand(3, 3), order=2),
    GradCase("tensor_scatter_nd_max",
             lambda t, u: ef.tensor_scatter_nd_max(t, np.array([[[0], [2]], [[3], [0]]]), u),
             rand(4, 3), rand(2, 2, 3)),
    GradCase("tensor_scatter_nd_min", lambda t, u: ef.tensor_scatter_nd_min(t, IDX_2D[:2], u),
             rand(3, 4), rand(2)),
    GradCase("roll", lambda x: ef.roll(x, [1, -2, 1], [0, -1, 0]), rand(3, 4), order=2),
    GradCase("gather", lambda x: ef.repeat(x, [1, 0, 3], axis=1), rand(2, 3), order=2,
             id="repeat"),
    GradCase("gather", lambda x: ef.repeat(x, 2), rand(2, 2), id="repeat-flat"),
    GradCase("broadcast_to", lambda x, y, z: ef.meshgrid(x, y, z), rand(2), rand(3), rand(4),
             id="meshgrid"),
    GradCase("reverse_sequence", lambda x: ef.reverse_sequence(x, [2, 4, 0], seq_axis=1),
             rand(3, 4, 2), order=2),
    GradCase("reverse_sequence",
             lambda x: ef.reverse_sequence(x, [1, 3], seq_axis=0, batch_axis=-1),
             rand(3, 4, 2), id="reverse_sequence-batch-after-seq"),
    GradCase(["gather", "split"],
             lambda x: ef.dynamic_partition(x, np.array([[1, 0], [2, 1]]), 3),
             rand(2, 2, 3), id="dynamic_partition"),
    GradCase("gather",
             lambda a, b: ef.dynamic_stitch([np.array([0, 4]), np.array([[4], [1]])], [a, b]),
             rand(2, 3), rand(2, 1, 3), order=2, id="dynamic_stitch-duplicates-missing"),
    GradCase(["space_to_batch_nd", "batch_to_space_nd"], _s2b, rand(2, 4, 4, 2), order=2),
    GradCase(["batch_to_space_nd", "space_to_batch_nd"],
             lambda x: ef.batch_to_space(x, [2, 1], [[1, 2], [0, 1]]), rand(4, 3, 2, 1),
             order=2),
    GradCase("divide", lambda x, y: ef.realdiv(x, y), rand(2, 3), rand(3) + 3.0,
             id="realdiv"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_docstring_examples():
    from eagerflow.ops import manip, space_batch, tensor_scatter
    for mod in (manip, space_batch, tensor_scatter):
        assert doctest.testmod(mod, optionflags=doctest.ELLIPSIS).failed == 0


# --- tensor_scatter_nd_* --------------------------------------------------------------------
def _np_scatter(mode, t, idx, u):
    out = t.copy()
    k = idx.shape[-1]
    rows = idx.reshape(-1, k)
    ups = u.reshape((rows.shape[0],) + t.shape[k:])
    for r, v in zip(rows, ups):
        key = tuple(r)
        if mode == "update":
            out[key] = v
        elif mode == "add":
            out[key] += v
        elif mode == "sub":
            out[key] -= v
        elif mode == "max":
            out[key] = np.maximum(out[key], v)
        else:
            out[key] = np.minimum(out[key], v)
    return out


def test_tensor_scatter_examples_from_tf_docs():
    upd = ef.tensor_scatter_nd_update([0] * 8, [[1], [3], [4], [7]], [9, 10, 11, 12])
    assert upd.dtype == np.int32
    assert npv(upd).tolist() == [0, 9, 0, 10, 11, 0, 0, 12]
    got = ef.tensor_scatter_nd_update([[1, 1], [1, 1], [1, 1]], [[0, 1], [2, 0]], [5, 10])
    assert npv(got).tolist() == [[1, 5], [1, 1], [10, 1]]
    ones = ef.ones([8], dtype=ef.int32)
    idx, ups = [[4], [3], [1], [7]], [9, 10, 11, 12]
    assert npv(ef.tensor_scatter_nd_add(ones, idx, ups)).tolist() == [1, 12, 1, 11, 10, 1, 1, 13]
    assert npv(ef.tensor_scatter_nd_sub(ones, idx, ups)).tolist() == \
        [1, -10, 1, -9, -8, 1, 1, -11]
    z = [0] * 8
    assert npv(ef.tensor_scatter_nd_max(z, [[1], [4], [5]], [1, -1, 1])).tolist() == \
        [0, 1, 0, 0, 0, 1, 0, 0]
    assert npv(ef.tensor_scatter_nd_min(z, [[1], [4], [5]], [1, -1, 1])).tolist() == \
        [0, 0, 0, 0, -1, 0, 0, 0]
    # slices: index depth 1 into a rank-3 tensor
    t = np.zeros((4, 4, 4), np.float32)
    u = np.stack([np.full((4, 4), 5.0), np.full((4, 4), 6.0)]).astype(np.float32)
    got = ef.tensor_scatter_nd_add(tensor(t), [[0], [2]], tensor(u))
    np.testing.assert_array_equal(npv(got), _np_scatter("add", t, np.array([[0], [2]]), u))


@pytest.mark.parametrize("mode", ["update", "add", "sub", "max", "min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_tensor_scatter_matches_numpy(mode, dtype):
    t = (rand(5, 4, 3) * 10).astype(dtype)
    idx = np.array([[[1, 2], [4, 0]], [[1, 2], [0, 3]], [[4, 0], [1, 2]]], np.int64)
    u = (rand(3, 2, 3) * 10).astype(dtype)
    fn = getattr(ef, f"tensor_scatter_nd_{mode}")
    got = fn(tensor(t), tensor(idx), tensor(u))
    assert got.dtype == dtype and got.shape == t.shape
    np.testing.assert_allclose(npv(got), _np_scatter(mode, t, idx, u), rtol=1e-6)


@pytest.mark.parametrize("mode", ["update", "add", "sub"])
def test_tensor_scatter_complex_and_narrow_dtypes(mode):
    fn = getattr(ef, f"tensor_scatter_nd_{mode}")
    idx = np.array([[1], [0], [1]])
    for dtype in (np.complex64, np.complex128, np.float16, np.uint8, np.int16):
        t = (np.arange(6).reshape(3, 2) * (1 + 1j if dtype in (np.complex64, np.complex128)
                                           else 1)).astype(dtype)
        u = (np.arange(6).reshape(3, 2) + 7).astype(dtype)
        got = fn(tensor(t), idx, tensor(u))
        assert got.dtype == dtype
        np.testing.assert_array_equal(npv(got), _np_scatter(mode, t, idx, u))


def test_tensor_scatter_update_last_duplicate_wins_and_gradients():
    t = tensor(np.zeros(4))
    u = tensor(np.array([1.0, 2.0, 3.0, 4.0]))
    with ef.GradientTape() as tape:
        tape.watch([t, u])
        y = ef.tensor_scatter_nd_update(t, [[2], [0], [2], [2]], u)
        loss = ef.reduce_sum(y * tensor(np.array([10.0, 20.0, 30.0, 40.0])))
    assert npv(y).tolist() == [2.0, 0.0, 4.0, 0.0]
    gt, gu = tape.gradient(loss, [t, u])
    assert npv(gt).tolist() == [0.0, 20.0, 0.0, 40.0]
    assert npv(gu).tolist() == [0.0, 10.0, 0.0, 30.0]  # only the last writer of row 2


def test_tensor_scatter_add_gradient_and_max_ties_share():
    t, u = tensor(np.array([1.0, 2.0])), tensor(np.array([1.0, 0.0, 5.0]))
    with ef.GradientTape() as tape:
        tape.watch([t, u])
        y = ef.tensor_scatter_nd_max(t, [[0], [0], [1]], u)
    assert npv(y).tolist() == [1.0, 5.0]
    gt, gu = tape.gradient(y, [t, u])
    assert npv(gt).tolist() == [0.5, 0.0]  # TF: ties split the gradient
    assert npv(gu).tolist() == [0.5, 0.0, 1.0]
    with ef.GradientTape() as tape:
        tape.watch([t, u])
        y = ef.reduce_sum(ef.tensor_scatter_nd_add(t, [[1], [1], [0]], u) *
                          tensor(np.array([3.0, 7.0])))
    gt, gu = tape.gradient(y, [t, u])
    assert npv(gt).tolist() == [3.0, 7.0] and npv(gu).tolist() == [7.0, 7.0, 3.0]


def test_tensor_scatter_dtype_conversion_and_empty():
    t = tensor(np.zeros(3, np.float64))
    got = ef.tensor_scatter_nd_add(t, [[1]], [2])  # the Python int converts to float64
    assert got.dtype == np.float64 and npv(got).tolist() == [0.0, 2.0, 0.0]
    got = ef.tensor_scatter_nd_update([0, 0], [[1]], tensor(np.array([2.5], np.float32)))
    assert got.dtype == np.float32 and npv(got).tolist() == [0.0, 2.5]  # TF's matching
    with pytest.raises(TypeError, match=r"updates: cannot convert \[1.5\]"):  # not truncated
        ef.tensor_scatter_nd_update(ef.constant([1, 2]), [[0]], [1.5])
    with pytest.raises(InvalidArgumentError, match="updates must have dtype int32"):
        ef.tensor_scatter_nd_update(ef.constant([1, 2]), [[0]], ef.constant([1.0]))
    empty = ef.tensor_scatter_nd_update(tensor(np.arange(3.0)), np.zeros((0, 1), np.int32),
                                        tensor(np.zeros(0)))
    assert npv(empty).tolist() == [0.0, 1.0, 2.0]
    none = ef.tensor_scatter_nd_add(tensor(np.zeros((0, 2))), np.zeros((0, 1), np.int64),
                                    tensor(np.zeros((0, 2))))
    assert none.shape == (0, 2)
    b = ef.tensor_scatter_nd_update(ef.constant([True, False]), [[1]], [True])
    assert npv(b).tolist() == [True, True]


def test_tensor_scatter_errors():
    t = ef.zeros((4, 3))
    with pytest.raises(InvalidArgumentError, match=r"Outer dimensions of indices and update "
                                                   r"must match. Indices shape: \[2,1\]"):
        ef.tensor_scatter_nd_update(t, [[0], [1]], ef.zeros((3, 3)))
    with pytest.raises(InvalidArgumentError, match="Inner dimensions of output shape"):
        ef.tensor_scatter_nd_add(t, [[0], [1]], ef.zeros((2,)))
    with pytest.raises(InvalidArgumentError, match=r"The inner 1 dimensions of output.shape="
                                                   r"\[4,3\] must match"):
        ef.tensor_scatter_nd_add(t, [[0], [1]], ef.zeros((2, 2)))
    with pytest.raises(InvalidArgumentError, match="Inner dimensions"):  # depth > rank
        ef.tensor_scatter_nd_add(t, [[0, 0, 0]], ef.zeros((1,)))
    with pytest.raises(InvalidArgumentError, match="Indices shape must have rank at least one"):
        ef.tensor_scatter_nd_add(t, 0, ef.zeros((3,)))
    with pytest.raises(InvalidArgumentError, match="Updates shape must have rank at least one"):
        ef.tensor_scatter_nd_add(t, [0, 1], 1.0)
    with pytest.raises(InvalidArgumentError, match="empty output shape"):
        ef.tensor_scatter_nd_add(ef.zeros((0, 3)), [[0]], ef.zeros((1, 3)))
    with pytest.raises(InvalidArgumentError, match="at least 2 axes"):
        ef.tensor_scatter_nd_add(t, [1], ef.zeros((3,)))
    with pytest.raises(InvalidArgumentError, match="empty output shape"):  # as TF: no index
        ef.tensor_scatter_nd_update(t, np.zeros((2, 0), np.int32), ef.zeros((2, 4, 3)))
    with pytest.raises(InvalidArgumentError, match="Requested rank: 0"):
        ef.tensor_scatter_nd_update(t, np.zeros((0, 0), np.int32), ef.zeros((0, 4, 3)))
    with pytest.raises(TypeError, match="indices must be int32 or int64"):
        ef.tensor_scatter_nd_update(t, [[0.5]], ef.zeros((1, 3)))
    with pytest.raises(TypeError, match="not supported"):
        ef.tensor_scatter_nd_add(ef.constant([True]), [[0]], [False])
    with pytest.raises(TypeError, match="real numbers"):
        ef.tensor_scatter_nd_max(ef.constant([1j]), [[0]], [2j])


@pytest.mark.parametrize("mode", ["update", "add", "max"])
def test_tensor_scatter_out_of_range(mode):
    fn = getattr(ef, f"tensor_scatter_nd_{mode}")
    t = tensor(np.zeros(4))
    out = bad_index(lambda: fn(t, [[1], [5], [2]], tensor(np.ones(3))),
                    r"indices\[1\] = \[5\] does not index into shape \[4\]")
    if out is not None:  # the GPU skipped the bad update, as TF's GPU kernel does
        assert npv(out).tolist() == [0.0, 1.0, 1.0, 0.0]
    bad_index(lambda: fn(tensor(np.zeros((2, 3))), [[[0, 0], [1, -1]]], tensor(np.ones((1, 2)))),
              r"indices\[0,1\] = \[1, -1\] does not index into shape \[2,3\]")
    if ef.get_backend() == "numpy":
        with pytest.raises(IndexError):
            fn(t, [[4]], tensor(np.ones(1)))


# --- roll / repeat / meshgrid ---------------------------------------------------------------
def test_roll_matches_numpy():
    x = np.arange(24).reshape(2, 3, 4)
    t = tensor(x)
    for shift, axis in [(2, 0), (-1, 2), ([1, 5], [1, -1]), ([1, 2, -4], [2, 2, 0]), (7, -2)]:
        want = np.roll(x, shift, axis)
        np.testing.assert_array_equal(npv(ef.roll(t, shift, axis)), want)
    assert npv(ef.roll([0, 1, 2, 3, 4], 2, 0)).tolist() == [3, 4, 0, 1, 2]
    # TF's docs: shifting along multiple dimensions
    m = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert npv(ef.roll(m, shift=[1, -2], axis=[0, 1])).tolist() == \
        [[7, 8, 9, 5, 6], [2, 3, 4, 0, 1]]
    assert npv(ef.roll(m, shift=[2, -3], axis=[1, 1])).tolist() == \
        [[1, 2, 3, 4, 0], [6, 7, 8, 9, 5]]
    assert ef.roll(tensor(np.zeros((0, 3))), 1, 0).shape == (0, 3)
    np.testing.assert_array_equal(npv(ef.roll(t, ef.constant(1), ef.constant(2))),
                                  np.roll(x, 1, 2))


def test_roll_errors():
    with pytest.raises(InvalidArgumentError, match="same size"):
        ef.roll(ef.zeros((2, 2)), [1, 2], [0])
    with pytest.raises(InvalidArgumentError, match="axis 2 is out of range"):
        ef.roll(ef.zeros((2, 2)), 1, 2)
    with pytest.raises(InvalidArgumentError, match="1-D or higher"):
        ef.roll(ef.constant(1.0), 1, 0)
    with pytest.raises(InvalidArgumentError, match="scalar or a 1-D vector"):
        ef.roll(ef.zeros((2, 2)), [[1]], [[0]])


def test_repeat_matches_tf_docs_and_numpy():
    m = [[1, 2], [3, 4]]
    assert npv(ef.repeat(m, repeats=[2, 3], axis=0)).tolist() == \
        [[1, 2], [1, 2], [3, 4], [3, 4], [3, 4]]
    assert npv(ef.repeat(m, repeats=[2, 3], axis=1)).tolist() == \
        [[1, 1, 2, 2, 2], [3, 3, 4, 4, 4]]
    assert npv(ef.repeat(3, repeats=4)).tolist() == [3, 3, 3, 3]
    assert npv(ef.repeat(m, repeats=2)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    x = rand(3, 4)
    np.testing.assert_array_equal(npv(ef.repeat(tensor(x), [0, 1, 2, 3], axis=-1)),
                                  np.repeat(x, [0, 1, 2, 3], axis=-1))
    np.testing.assert_array_equal(npv(ef.repeat(tensor(x), [2], axis=0)), np.repeat(x, 2, 0))
    assert npv(ef.repeat([1, 2, 3], [2, -1, 1], axis=0)).tolist() == [1, 1, 3]  # TF: -1 -> 0
    assert ef.repeat(tensor(np.zeros((0, 2))), 3, axis=0).shape == (0, 2)
    assert npv(ef.repeat(5, 2, axis=0)).tolist() == [5, 5]  # a scalar is a vector of one
    with pytest.raises(ValueError, match="Dimensions 3 and 2 are not compatible"):
        ef.repeat([1, 2, 3], [1, 2], axis=0)
    with pytest.raises(InvalidArgumentError, match="nonnegative"):
        ef.repeat([1, 2], -1)
    with pytest.raises(ValueError, match="rank at most 1"):
        ef.repeat([1, 2], [[1, 2]], axis=0)
    with pytest.raises(ValueError, match="out of range"):
        ef.repeat([1, 2], 2, axis=1)


def test_meshgrid():
    X, Y = ef.meshgrid([1, 2, 3], [4, 5, 6])
    assert npv(X).tolist() == [[1, 2, 3]] * 3
    assert npv(Y).tolist() == [[4, 4, 4], [5, 5, 5], [6, 6, 6]]
    a, b, c = rand(2), rand(3), rand(4)
    for indexing in ("xy", "ij"):
        got = ef.meshgrid(tensor(a), tensor(b), tensor(c), indexing=indexing)
        for g, w in zip(got, np.meshgrid(a, b, c, indexing=indexing)):
            np.testing.assert_array_equal(npv(g), w)
    (only,) = ef.meshgrid(tensor(np.arange(6).reshape(2, 3)))  # inputs are flattened
    assert npv(only).tolist() == list(range(6))
    assert ef.meshgrid() == []
    with pytest.raises(ValueError, match="either 'xy' or 'ij'"):
        ef.meshgrid([1], [2], indexing="xyz")
    with pytest.raises(TypeError, match="'sparse' is an invalid keyword"):
        ef.meshgrid([1], sparse=True)
    with pytest.raises(InvalidArgumentError, match="dtype"):
        ef.meshgrid(ef.constant([1]), ef.constant([1.0]))
    with pytest.raises(TypeError, match="cannot convert"):  # the first value fixes the dtype
        ef.meshgrid([1, 2], [0.5])
    assert ef.meshgrid([0.5], [1, 2])[1].dtype == np.float32


# --- searchsorted / histograms / unravel_index / shape_n --------------------------------------
def test_searchsorted_tf_examples_and_numpy():
    seq = [[0, 3, 9, 9, 10], [1, 2, 3, 4, 5]]
    vals = [[2, 4, 9], [0, 2, 6]]
    assert npv(ef.searchsorted(seq, vals)).tolist() == [[1, 2, 2], [0, 1, 5]]
    assert npv(ef.searchsorted(seq, vals, side="right")).tolist() == [[1, 2, 4], [0, 2, 5]]
    s = np.sort(np.round(rand(3, 2, 17), 1), axis=-1)
    v = np.round(rand(3, 2, 9), 1)
    for side in ("left", "right"):
        got = ef.searchsorted(tensor(s), tensor(v), side=side, out_type=ef.int64)
        assert got.dtype == np.int64
        want = np.stack([np.searchsorted(r, q, side=side)
                         for r, q in zip(s.reshape(-1, 17), v.reshape(-1, 9))]).reshape(v.shape)
        np.testing.assert_array_equal(npv(got), want)
    got = ef.searchsorted(tensor(s.reshape(6, 17)), tensor(v.reshape(2, 3, 9)))
    assert got.dtype == np.int32 and got.shape == (2, 3, 9)  # rows counted, as TF's reshape
    assert npv(ef.searchsorted(tensor(np.zeros((2, 0))), tensor(np.ones((2, 3))))).tolist() == \
        [[0, 0, 0], [0, 0, 0]]
    assert npv(ef.searchsorted([1.0, 2.0, 3.0], [0.5, 2.0, 9.0])).tolist() == [0, 1, 3]


def test_searchsorted_errors():
    with pytest.raises(ValueError, match="must be either 'right' or 'left'"):
        ef.searchsorted([1, 2], [1], side="middle")
    with pytest.raises(InvalidArgumentError, match="Leading dim_size"):
        ef.searchsorted([[1, 2]], [[1], [2]])
    with pytest.raises(InvalidArgumentError, match="dtype"):
        ef.searchsorted(ef.constant([1, 2]), ef.constant([1.0]))
    with pytest.raises(TypeError, match="out_type"):
        ef.searchsorted([1, 2], [1], out_type=ef.float32)
    with pytest.raises(ValueError, match="rank >= 1"):
        ef.searchsorted([1, 2], 1)


def _np_hist_bins(v, lo, hi, nbins):
    v = np.asarray(v, np.float32)
    lo, hi = np.float32(lo), np.float32(hi)
    idx = np.floor(np.float32(nbins) * ((v - lo) / (hi - lo)))
    return np.clip(idx, 0, nbins - 1).astype(np.int32)


def test_histogram_fixed_width_tf_examples_and_reference():
    vals = [-1.0, 0.0, 1.5, 2.0, 5.0, 15]
    assert npv(ef.histogram_fixed_width(vals, [0.0, 5.0], nbins=5)).tolist() == [2, 1, 1, 0, 2]
    bins = ef.histogram_fixed_width_bins(vals, [0.0, 5.0], nbins=5)
    assert bins.dtype == np.int32 and npv(bins).tolist() == [0, 0, 1, 2, 4, 4]
    v = rand(4, 50).astype(np.float32) * 3
    got = ef.histogram_fixed_width_bins(tensor(v), [-2.5, 4.0], nbins=7)
    assert got.shape == (4, 50)
    np.testing.assert_array_equal(npv(got), _np_hist_bins(v, -2.5, 4.0, 7))
    h = ef.histogram_fixed_width(tensor(v), ef.constant([-2.5, 4.0]), nbins=7, dtype=ef.int64)
    assert h.dtype == np.int64 and int(npv(h).sum()) == v.size
    np.testing.assert_array_equal(npv(h), np.bincount(_np_hist_bins(v, -2.5, 4.0, 7).ravel(),
                                                      minlength=7))
    assert npv(ef.histogram_fixed_width([1, 2, 3, 9], [0, 10], nbins=5)).tolist() == \
        [1, 2, 0, 0, 1]
    assert npv(ef.histogram_fixed_width(tensor(np.zeros(0)), [0.0, 1.0], 3)).tolist() == [0] * 3


def test_histogram_errors():
    with pytest.raises(InvalidArgumentError, match=r"value_range\[0\] < value_range\[1\], but "
                                                   r"got '\[1.0, 1.0\]'"):
        ef.histogram_fixed_width([1.0], [1.0, 1.0])
    with pytest.raises(InvalidArgumentError, match="nbins should be a positive number, but "
                                                   "got '0'"):
        ef.histogram_fixed_width_bins([1.0], [0.0, 1.0], nbins=0)
    with pytest.raises(InvalidArgumentError, match="vector of 2 elements"):
        ef.histogram_fixed_width([1.0], [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="dtype"):
        ef.histogram_fixed_width([1.0], [0.0, 1.0], dtype=ef.float32)


def test_unravel_index():
    assert npv(ef.unravel_index([2, 5, 7], [3, 3])).tolist() == [[0, 1, 2], [2, 2, 1]]
    assert npv(ef.unravel_index(1621, [6, 7, 8, 9])).tolist() == [3, 1, 4, 1]
    idx = np.array([0, 17, 59, 33], np.int64)
    got = ef.unravel_index(tensor(idx), tensor(np.array([3, 4, 5], np.int64)))
    assert got.dtype == np.int64 and got.shape == (3, 4)
    np.testing.assert_array_equal(npv(got), np.stack(np.unravel_index(idx, (3, 4, 5))))
    assert ef.unravel_index(tensor(np.zeros(0, np.int32)), [2, 2]).shape == (2, 0)
    with pytest.raises(InvalidArgumentError, match="cannot contain a dim of zero, but dims "
                                                   "contains zero at index 1"):
        ef.unravel_index([1], [3, 0])
    with pytest.raises(InvalidArgumentError, match="cannot be negative. Got dim = -2"):
        ef.unravel_index([1], [-2])
    with pytest.raises(InvalidArgumentError, match="scalar or vector"):
        ef.unravel_index([[1]], [3])
    bad_index(lambda: ef.unravel_index([1, 9], [3, 3]), "index is out of bound as with dims")
    bad_index(lambda: ef.unravel_index([-1], [3, 3]), "index is out of bound as with dims")


def test_shape_n():
    got = ef.shape_n([ef.zeros((2, 3)), [1, 2], ef.constant(1.0)], out_type=ef.int64)
    assert [npv(s).tolist() for s in got] == [[2, 3], [2], []]
    assert all(s.dtype == np.int64 for s in got)
    assert ef.shape_n([ef.zeros((1,))])[0].dtype == np.int32
    with pytest.raises(TypeError, match="out_type"):
        ef.shape_n([ef.zeros(1)], out_type=ef.float32)


# --- reverse_sequence -------------------------------------------------------------------------
def _np_reverse_sequence(x, lengths, seq_axis, batch_axis):
    out = x.copy()
    for b, n in enumerate(lengths):
        src = [slice(None)] * x.ndim
        src[batch_axis], src[seq_axis] = b, slice(0, n)
        dst = list(src)
        dst[seq_axis] = slice(n - 1, None, -1) if n else slice(0, 0)
        out[tuple(src)] = x[tuple(dst)]
    return out


def test_reverse_sequence():
    x = [[1, 2, 3, 4, 5, 0, 0, 0], [1, 2, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 0, 0, 0, 0],
         [1, 2, 3, 4, 5, 6, 7, 8]]
    got = ef.reverse_sequence(x, [7, 2, 3, 5], seq_axis=1, batch_axis=0)
    assert npv(got).tolist() == [[0, 0, 5, 4, 3, 2, 1, 0], [2, 1, 0, 0, 0, 0, 0, 0],
                                 [3, 2, 1, 4, 0, 0, 0, 0], [5, 4, 3, 2, 1, 6, 7, 8]]
    got = ef.reverse_sequence(np.array(x).T, [7, 2, 3, 5], seq_axis=0, batch_axis=1)
    assert npv(got).T.tolist()[0] == [0, 0, 5, 4, 3, 2, 1, 0]
    y = rand(3, 5, 4, 2)
    for sa, ba, lens in [(1, 0, [5, 0, 3]), (2, 3, [4, 1]), (-3, -4, [2, 5, 5]),
                         (0, 2, [1, 3, 0, 2])]:
        want = _np_reverse_sequence(y, lens, sa % 4, ba % 4)
        got = ef.reverse_sequence(tensor(y), tensor(np.array(lens, np.int64)), sa, ba)
        np.testing.assert_array_equal(npv(got), want)


def test_reverse_sequence_errors():
    x = ef.zeros((2, 3))
    with pytest.raises(InvalidArgumentError, match="seq_axis is required"):
        ef.reverse_sequence(x, [1, 1])
    with pytest.raises(InvalidArgumentError, match="batch_dim == seq_dim == 0"):
        ef.reverse_sequence(x, [1, 1], seq_axis=0, batch_axis=0)
    with pytest.raises(InvalidArgumentError, match="seq_axis must be < input rank"):
        ef.reverse_sequence(x, [1, 1], seq_axis=2)
    with pytest.raises(InvalidArgumentError, match=r"Length of seq_lengths != input.dims\(0\)"):
        ef.reverse_sequence(x, [1, 1, 1], seq_axis=1)
    bad_index(lambda: ef.reverse_sequence(x, [1, 4], seq_axis=1), "seq_lengths")
    bad_index(lambda: ef.reverse_sequence(x, [-1, 1], seq_axis=1), "seq_lengths")


# --- dynamic_partition / dynamic_stitch -----------------------------------------------------
def test_dynamic_partition():
    parts = ef.dynamic_partition([10, 20, 30, 40, 50], [0, 0, 1, 1, 0], 2)
    assert [npv(p).tolist() for p in parts] == [[10, 20, 50], [30, 40]]
    parts = ef.dynamic_partition([10, 20, 30, 40, 50], [1, 0, 2, 1, 0], 4)
    assert [npv(p).tolist() for p in parts] == [[20, 50], [10, 40], [30], []]
    d = rand(2, 3, 4)
    p = np.array([[2, 0, 2], [1, 2, 0]])
    got = ef.dynamic_partition(tensor(d), tensor(p), 3)
    for i, g in enumerate(got):
        np.testing.assert_array_equal(npv(g), d[p == i])
    assert got[0].shape == (2, 4)
    empty = ef.dynamic_partition(tensor(np.zeros((0, 2))), np.zeros(0, np.int32), 2)
    assert [e.shape for e in empty] == [(0, 2), (0, 2)]


def test_dynamic_partition_errors():
    with pytest.raises(InvalidArgumentError, match=r"partitions\[1\] = 2 is not in \[0, 2\)"):
        ef.dynamic_partition([1, 2], [0, 2], 2)
    with pytest.raises(InvalidArgumentError, match=r"partitions\[0,1\] = -1"):
        ef.dynamic_partition([[1, 2]], [[0, -1]], 2)
    with pytest.raises(InvalidArgumentError, match="data.shape must start with partitions"):
        ef.dynamic_partition([1, 2], [0, 1, 0], 2)
    with pytest.raises(InvalidArgumentError, match="at least 1"):
        ef.dynamic_partition([1, 2], [0, 0], 0)


def test_dynamic_stitch():
    merged = ef.dynamic_stitch([6, [4, 1], [[5, 2], [0, 3]]],
                               [[61, 62], [[41, 42], [11, 12]],
                                [[[51, 52], [21, 22]], [[1, 2], [31, 32]]]])
    assert npv(merged).tolist() == [[1, 2], [11, 12], [21, 22], [31, 32], [41, 42], [51, 52],
                                    [61, 62]]
    # TF's docs: partition and stitch are inverses
    x = ef.constant([0.1, -1.0, 5.2, 4.3, -1.0, 7.4])
    mask = ef.cast(ef.not_equal(x, -1.0), ef.int32)
    parts = ef.dynamic_partition(x, mask, 2)
    parts[1] = parts[1] + 1.0
    where = ef.dynamic_partition(ef.range(6), mask, 2)
    np.testing.assert_allclose(npv(ef.dynamic_stitch(where, parts)),
                               [1.1, -1.0, 6.2, 5.3, -1.0, 8.4], rtol=1e-6)
    assert npv(ef.dynamic_stitch([[0, 1], [1]], [[1.0, 2.0], [3.0]])).tolist() == [1.0, 3.0]
    assert npv(ef.dynamic_stitch([[0, 3]], [[1, 2]])).tolist() == [1, 0, 0, 2]
    assert ef.dynamic_stitch([np.zeros(0, np.int32)], [tensor(np.zeros((0, 3)))]).shape == (0, 3)


def test_dynamic_stitch_gradient_goes_to_the_winner():
    a, b = tensor(np.array([1.0, 2.0])), tensor(np.array([3.0]))
    with ef.GradientTape() as tape:
        tape.watch([a, b])
        y = ef.dynamic_stitch([[0, 2], [2]], [a, b])
        loss = ef.reduce_sum(y * tensor(np.array([5.0, 6.0, 7.0])))
    assert npv(y).tolist() == [1.0, 0.0, 3.0]
    ga, gb = tape.gradient(loss, [a, b])
    assert npv(ga).tolist() == [5.0, 0.0] and npv(gb).tolist() == [7.0]


def test_dynamic_stitch_errors():
    with pytest.raises(InvalidArgumentError, match=r"data\[1\].shape = \[3\] does not start "
                                                   r"with indices\[1\].shape = \[2\]"):
        ef.dynamic_stitch([[0], [1, 2]], [[1], [1, 2, 3]])
    with pytest.raises(InvalidArgumentError, match="Need data"):
        ef.dynamic_stitch([[0], [1]], [[[1, 2]], [[1]]])
    with pytest.raises(InvalidArgumentError, match="out of range"):
        ef.dynamic_stitch([[0, -1]], [[1, 2]])
    with pytest.raises(InvalidArgumentError, match="as many data as indices"):
        ef.dynamic_stitch([[0]], [])
    with pytest.raises(InvalidArgumentError, match="dtype"):
        ef.dynamic_stitch([[0], [1]], [ef.constant([1]), ef.constant([1.0])])


# --- broadcast shapes / parallel_stack / realdiv ---------------------------------------------
def test_broadcast_shapes():
    assert npv(ef.broadcast_dynamic_shape([1, 2, 3], [5, 1, 3])).tolist() == [5, 2, 3]
    got = ef.broadcast_dynamic_shape(tensor(np.array([4, 1], np.int64)),
                                     tensor(np.array([3, 1, 5], np.int64)))
    assert got.dtype == np.int64 and npv(got).tolist() == [3, 4, 5]
    assert npv(ef.broadcast_dynamic_shape(ef.constant([], dtype=ef.int32), [2])).tolist() == [2]
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[2,3\] vs. \[4\]"):
        ef.broadcast_dynamic_shape([2, 3], [4])
    s = ef.broadcast_static_shape(ef.TensorShape([1, 2, 3]), ef.TensorShape([5, 1, 3]))
    assert isinstance(s, ef.TensorShape) and s == (5, 2, 3)
    assert ef.broadcast_static_shape([None, 1, 4], [2, 3, None]) == (2, 3, 4)
    assert ef.broadcast_static_shape([None], [1]) == (None,)
    with pytest.raises(ValueError, match=r"Incompatible shapes for broadcasting.*Received: "
                                         r"\(2, 3\) and \(4,\)"):
        ef.broadcast_static_shape(ef.TensorShape([2, 3]), ef.TensorShape([4]))


def test_parallel_stack_and_realdiv():
    vals = [rand(2, 3) for _ in range(3)]
    np.testing.assert_array_equal(npv(ef.parallel_stack([tensor(v) for v in vals])),
                                  np.stack(vals))
    assert npv(ef.parallel_stack([[1, 4], [2, 5], [3, 6]])).tolist() == [[1, 4], [2, 5], [3, 6]]
    got = ef.realdiv(tensor(np.array([1.0, 3.0])), 2)
    assert got.dtype == np.float64 and npv(got).tolist() == [0.5, 1.5]
    assert ef.realdiv(1.0, 4.0).dtype == np.float32
    x = np.array([1 + 1j, 2.0])
    np.testing.assert_allclose(npv(ef.realdiv(tensor(x), tensor(x))), [1, 1])
    with pytest.raises(TypeError, match="floating or complex"):
        ef.realdiv(ef.constant([1, 2]), ef.constant([2, 2]))
    with pytest.raises(InvalidArgumentError, match="dtype"):
        ef.realdiv(ef.constant([1.0]), tensor(np.array([1.0])))


# --- space_to_batch / batch_to_space ---------------------------------------------------------
def _np_space_to_batch(x, block, pads):
    m = len(block)
    p = np.pad(x, [(0, 0)] + [tuple(q) for q in pads] + [(0, 0)] * (x.ndim - 1 - m))
    out_sp = [p.shape[1 + i] // block[i] for i in range(m)]
    out = np.zeros((x.shape[0] * int(np.prod(block)),) + tuple(out_sp) + x.shape[1 + m:],
                   x.dtype)
    for off in np.ndindex(*block):
        boff = int(np.ravel_multi_index(off, block)) if m else 0
        for n in range(x.shape[0]):
            key = (n,) + tuple(slice(o, None, b) for o, b in zip(off, block))
            out[boff * x.shape[0] + n] = p[key]
    return out


SPACE_CASES = [  # (input shape, block_shape, paddings)
    ((2, 4, 6, 3), [2, 3], [[1, 1], [2, 1]]),
    ((3, 5, 2), [3], [[0, 1]]),
    ((1, 2, 3, 4, 1), [1, 3, 2], [[0, 0], [1, 2], [1, 1]]),
    ((2, 3), [], []),
]


@pytest.mark.parametrize("shape,block,pads", SPACE_CASES)
def test_space_to_batch_matches_reference_and_round_trips(shape, block, pads):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    got = ef.space_to_batch_nd(tensor(x), block, pads)
    want = _np_space_to_batch(x, block, pads)
    np.testing.assert_array_equal(npv(got), want)
    np.testing.assert_array_equal(npv(ef.space_to_batch(tensor(x), block, pads)), want)
    back = ef.batch_to_space(got, block, pads)
    np.testing.assert_array_equal(npv(back), x)


def test_space_batch_tf_doc_examples():
    x = np.array([[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]])
    got = ef.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    assert npv(got).tolist() == [[[[1, 2, 3]]], [[[4, 5, 6]]], [[[7, 8, 9]]], [[[10, 11, 12]]]]
    x = np.arange(1, 17).reshape(1, 4, 4, 1)
    got = ef.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]])
    assert npv(got)[..., 0].tolist() == [[[1, 3], [9, 11]], [[2, 4], [10, 12]],
                                         [[5, 7], [13, 15]], [[6, 8], [14, 16]]]
    x = np.arange(1, 17).reshape(2, 2, 4, 1)
    got = ef.space_to_batch_nd(x, [2, 2], [[0, 0], [2, 0]])
    assert got.shape == (8, 1, 3, 1)
    assert npv(got)[:, 0, :, 0].tolist() == [[0, 1, 3], [0, 9, 11], [0, 2, 4], [0, 10, 12],
                                             [0, 5, 7], [0, 13, 15], [0, 6, 8], [0, 14, 16]]
    np.testing.assert_array_equal(npv(ef.batch_to_space(got, [2, 2], [[0, 0], [2, 0]])), x)
    y = np.arange(1, 5).reshape(4, 1, 1, 1)
    assert npv(ef.batch_to_space(y, 2, [[0, 0], [0, 0]]))[0, ..., 0].tolist() == [[1, 2], [3, 4]]


def test_space_batch_errors():
    x = ef.zeros((2, 4, 4, 1))
    with pytest.raises(InvalidArgumentError, match=r"padded_shape\[1\]=5 is not divisible by "
                                                   r"block_shape\[1\]=2"):
        ef.space_to_batch_nd(x, [2, 2], [[0, 0], [1, 0]])
    with pytest.raises(InvalidArgumentError, match=r"paddings should have shape \[2, 2\]"):
        ef.space_to_batch_nd(x, [2, 2], [[0, 0]])
    with pytest.raises(InvalidArgumentError, match="input rank should be >= 4 instead of 3"):
        ef.space_to_batch_nd(ef.zeros((2, 4, 4)), [2, 2, 1], [[0, 0]] * 3)
    with pytest.raises(InvalidArgumentError, match="Paddings must be non-negative"):
        ef.space_to_batch_nd(x, [2, 2], [[0, 0], [-2, 0]])
    with pytest.raises(InvalidArgumentError, match="block_shape must be positive"):
        ef.space_to_batch_nd(x, [0, 2], [[0, 0], [0, 0]])
    with pytest.raises(InvalidArgumentError, match=r"Input batch dimension \(2\) is not "
                                                   r"divisible by product of block sizes \(4\)"):
        ef.batch_to_space(x, [2, 2], [[0, 0], [0, 0]])
    with pytest.raises(InvalidArgumentError, match=r"cropped_shape\[0\]=-1"):
        ef.batch_to_space(ef.zeros((4, 1, 1, 1)), [2, 2], [[3, 0], [0, 0]])
    with pytest.raises(InvalidArgumentError, match="Crops must be non-negative"):
        ef.batch_to_space(ef.zeros((4, 1, 1, 1)), [2, 2], [[-1, 0], [0, 0]])


def test_required_space_to_batch_paddings():
    p, c = ef.required_space_to_batch_paddings([5, 4], [2, 3], [[1, 0], [0, 0]])
    assert p.dtype == np.int32 and npv(p).tolist() == [[1, 0], [0, 2]]
    assert npv(c).tolist() == [[0, 0], [0, 2]]
    p, c = ef.required_space_to_batch_paddings([7], [4])
    assert npv(p).tolist() == [[0, 1]] and npv(c).tolist() == [[0, 1]]
    p, c = ef.required_space_to_batch_paddings([], [])
    assert p.shape == (0, 2) and c.shape == (0, 2)
    x = ef.zeros((1, 5, 4, 1))
    p, _ = ef.required_space_to_batch_paddings([5, 4], [2, 3])
    assert ef.space_to_batch_nd(x, [2, 3], p).shape == (6, 3, 2, 1)
    with pytest.raises(ValueError, match="incompatible"):
        ef.required_space_to_batch_paddings([5, 4, 3], [2, 3])
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2, 2\) are incompatible"):
        ef.required_space_to_batch_paddings([5, 4], [2, 3], [1, 2, 3])
