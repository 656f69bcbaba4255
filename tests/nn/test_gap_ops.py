"""``ef.nn`` weighted_moments, compute_average_loss, scale_regularization_loss,
space_to_depth and depth_to_space: NumPy references written here, TF's edge cases, argument
errors and float64 gradient checks."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import nn
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(41)


def rand(*shape):
    return R.standard_normal(shape)


# --- weighted_moments -------------------------------------------------------------------------
def np_weighted_moments(x, axes, w):
    wb = np.broadcast_to(w, np.broadcast_shapes(np.shape(w), x.shape))
    total = np.sum(wb, axis=axes, keepdims=True)
    mean = np.sum(wb * x, axis=axes, keepdims=True) / total
    var = np.sum(wb * (x - mean) ** 2, axis=axes, keepdims=True) / total
    return mean, var


@pytest.mark.parametrize("xs,axes,ws", [((6,), [0], (6,)), ((4, 5), [0], (4, 1)),
                                        ((4, 5), [1], (4, 5)), ((2, 3, 4), [0, 2], (3, 1)),
                                        ((2, 3, 4), [-1], ()), ((3, 4), 1, (4,))])
@pytest.mark.parametrize("keepdims", [False, True])
def test_weighted_moments_match_numpy(xs, axes, ws, keepdims):
    x = rand(*xs)
    w = R.uniform(0.1, 3.0, size=ws)
    mean, var = nn.weighted_moments(tensor(x), axes, tensor(w), keepdims=keepdims)
    ax = tuple(a % len(xs) for a in (axes if isinstance(axes, list) else [axes]))
    want_m, want_v = np_weighted_moments(x, ax, w)
    if not keepdims:
        want_m, want_v = np.squeeze(want_m, ax), np.squeeze(want_v, ax)
    assert to_numpy(mean).shape == want_m.shape and to_numpy(var).shape == want_v.shape
    np.testing.assert_allclose(to_numpy(mean), want_m, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(var), want_v, rtol=1e-12)


def test_weighted_moments_doc_values_and_unit_weights_equal_moments():
    m, v = nn.weighted_moments(ef.constant([1.0, 3.0]), [0], ef.constant([1.0, 3.0]))
    assert (float(m.numpy()), float(v.numpy())) == (2.5, 0.75)
    x = rand(5, 3)
    m, v = nn.weighted_moments(tensor(x), [0], tensor(np.ones(3)), keep_dims=True)
    m2, v2 = nn.moments(tensor(x), [0], keepdims=True)
    np.testing.assert_allclose(to_numpy(m), to_numpy(m2), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(v), to_numpy(v2), rtol=1e-12)


def test_weighted_moments_zero_weights_float16_and_weight_cast():
    m, v = nn.weighted_moments(tensor(rand(2, 3)), [1], tensor(np.array([[1.0], [0.0]])))
    assert np.isfinite(to_numpy(m)).all() and to_numpy(m)[1] == 0 and to_numpy(v)[1] == 0
    x16 = np.array([[1.0, 2.0], [3.0, 5.0]], np.float16)
    m, v = nn.weighted_moments(tensor(x16), [1], [1, 3])   # a Python list of ints
    assert to_numpy(m).dtype == np.float16 and to_numpy(v).dtype == np.float16
    np.testing.assert_allclose(to_numpy(m).astype(np.float64), [1.75, 4.5])
    np.testing.assert_allclose(to_numpy(v).astype(np.float64), [0.1875, 0.75])


def test_weighted_moments_errors_name_the_argument():
    with pytest.raises(TypeError, match="weighted_moments: x must be a floating-point"):
        nn.weighted_moments(tensor(np.array([1, 2])), [0], tensor(np.ones(2)))
    with pytest.raises(ValueError, match="axis 2 in axes is out of range"):
        nn.weighted_moments(tensor(rand(2, 3)), [2], tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"frequency_weights of shape \(4,\) do not broadcast"):
        nn.weighted_moments(tensor(rand(2, 3)), [1], tensor(np.ones(4)))
    with pytest.raises(TypeError, match="axes must be an int or a list of ints"):
        nn.weighted_moments(tensor(rand(2, 3)), [0.5], tensor(np.ones(3)))


# --- compute_average_loss / scale_regularization_loss ------------------------------------------
def test_compute_average_loss_defaults_to_the_batch_size():
    loss = R.uniform(0, 2, size=8)
    got = nn.compute_average_loss(tensor(loss))
    assert to_numpy(got).shape == () and to_numpy(got).dtype == np.float64
    np.testing.assert_allclose(to_numpy(got), loss.sum() / 8, rtol=1e-14)
    loss2 = R.uniform(0, 2, size=(4, 3))   # more dims: still divided by the first
    np.testing.assert_allclose(to_numpy(nn.compute_average_loss(tensor(loss2))),
                               loss2.sum() / 4, rtol=1e-14)


@pytest.mark.parametrize("ls,ws", [((6,), ()), ((6,), (6,)), ((6,), (6, 1)), ((6, 2), (6,)),
                                   ((6, 2), (6, 2)), ((6, 2), (1, 2))])
def test_compute_average_loss_sample_weight_and_global_batch(ls, ws):
    loss, w = R.uniform(0, 2, size=ls), R.uniform(0, 1, size=ws)
    wl = w
    if len(ws) == len(ls) + 1:
        wl = w[..., 0]
    elif len(ws) and len(ws) == len(ls) - 1:
        wl = w[..., None]
    want = np.sum(loss * wl)
    got = nn.compute_average_loss(tensor(loss), sample_weight=tensor(w), global_batch_size=10)
    np.testing.assert_allclose(to_numpy(got), want / 10, rtol=1e-14)
    got = nn.compute_average_loss(tensor(loss), sample_weight=tensor(w))
    np.testing.assert_allclose(to_numpy(got), want / 6, rtol=1e-14)


def test_compute_average_loss_zero_batch_and_float32():
    assert float(to_numpy(nn.compute_average_loss(tensor(np.ones(3)), global_batch_size=0))) == 0
    assert float(to_numpy(nn.compute_average_loss(tensor(np.zeros(0))))) == 0.0
    got = nn.compute_average_loss(ef.constant([1.0, 2.0, 3.0]), sample_weight=[1, 0, 2],
                                  global_batch_size=np.int32(7))
    assert to_numpy(got).dtype == np.float32
    assert float(to_numpy(got)) == pytest.approx(1.0)
    got = nn.compute_average_loss(ef.constant([1.0, 2.0]), global_batch_size=ef.constant(4))
    assert float(to_numpy(got)) == pytest.approx(0.75)


def test_compute_average_loss_errors_name_the_argument():
    loss = tensor(np.ones(4))
    with pytest.raises(ValueError, match="per_example_loss.*at least rank 1"):
        nn.compute_average_loss(tensor(np.float64(1.0)))
    with pytest.raises(TypeError, match="per_example_loss must be a floating-point"):
        nn.compute_average_loss(tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="global_batch_size must be an integer"):
        nn.compute_average_loss(loss, global_batch_size=4.0)
    with pytest.raises(ValueError, match="global_batch_size must be scalar"):
        nn.compute_average_loss(loss, global_batch_size=[4])
    with pytest.raises(InvalidArgumentError, match="global_batch_size must be non-negative"):
        nn.compute_average_loss(loss, global_batch_size=-1)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        nn.compute_average_loss(loss, sample_weight=tensor(np.ones(3)))
    with pytest.raises(ValueError, match="sample_weight of shape .* not of size 1"):
        nn.compute_average_loss(loss, sample_weight=tensor(np.ones((4, 2))))


def test_scale_regularization_loss():
    reg = rand(3, 2)
    got = nn.scale_regularization_loss(tensor(reg))
    np.testing.assert_allclose(to_numpy(got), reg.sum(), rtol=1e-14)
    assert float(to_numpy(nn.scale_regularization_loss([0.5, 1.5]))) == 2.0
    got = nn.scale_regularization_loss(nn.l2_loss(tensor(reg)))
    np.testing.assert_allclose(to_numpy(got), 0.5 * np.sum(reg ** 2), rtol=1e-14)
    got = nn.scale_regularization_loss(tensor(np.array([1, 2], np.int32)))
    assert to_numpy(got).dtype == np.float64 and float(to_numpy(got)) == 3.0
    with pytest.raises(TypeError, match="regularization_loss must be numeric"):
        nn.scale_regularization_loss(tensor(np.array([True])))


# --- space_to_depth / depth_to_space -----------------------------------------------------------
def np_space_to_depth(x, b):
    n, h, w, c = x.shape
    out = np.empty((n, h // b, w // b, b * b * c), x.dtype)
    for i in range(h // b):
        for j in range(w // b):
            for bi in range(b):
                for bj in range(b):
                    out[:, i, j, (bi * b + bj) * c:(bi * b + bj + 1) * c] = \
                        x[:, i * b + bi, j * b + bj, :]
    return out


def test_space_to_depth_tf_doc_examples():
    x = np.array([[[[1], [2]], [[3], [4]]]])
    assert to_numpy(nn.space_to_depth(tensor(x), 2)).tolist() == [[[[1, 2, 3, 4]]]]
    x = np.array([[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]])
    assert to_numpy(nn.space_to_depth(tensor(x), 2)).tolist() == \
        [[[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]]]
    x = np.arange(1, 17).reshape(1, 4, 4, 1)
    want = [[[[1, 2, 5, 6], [3, 4, 7, 8]], [[9, 10, 13, 14], [11, 12, 15, 16]]]]
    assert to_numpy(nn.space_to_depth(tensor(x), 2)).tolist() == want
    # depth_to_space's documented example is the inverse of the last one
    assert to_numpy(nn.depth_to_space(tensor(np.array(want)), 2)).tolist() == x.tolist()


@pytest.mark.parametrize("shape,b", [((2, 4, 6, 3), 2), ((1, 6, 3, 2), 3), ((3, 0, 4, 2), 2),
                                     ((1, 8, 8, 1), 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_space_to_depth_and_back_match_numpy(shape, b, dtype):
    x = (rand(*shape) * 10).astype(dtype)
    y = to_numpy(nn.space_to_depth(tensor(x), b))
    want = np_space_to_depth(x, b)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(to_numpy(nn.depth_to_space(tensor(want), b)), x)


def test_nchw_is_the_same_mapping_on_the_channels_first_layout():
    x = rand(2, 4, 6, 3)
    nchw = np.transpose(x, (0, 3, 1, 2))
    got = to_numpy(nn.space_to_depth(tensor(nchw), 2, data_format="NCHW"))
    np.testing.assert_array_equal(got, np.transpose(np_space_to_depth(x, 2), (0, 3, 1, 2)))
    back = to_numpy(nn.depth_to_space(tensor(got), 2, data_format="NCHW"))
    np.testing.assert_array_equal(back, nchw)


def test_block_ops_errors_name_the_argument():
    x = tensor(rand(1, 4, 4, 4))
    with pytest.raises(InvalidArgumentError, match="attr 'block_size' of 1 must be at least"):
        nn.space_to_depth(x, 1)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        nn.depth_to_space(x, 2.0)
    with pytest.raises(InvalidArgumentError, match="input rank should be 4 instead of 3"):
        nn.space_to_depth(tensor(rand(4, 4, 4)), 2)
    with pytest.raises(InvalidArgumentError, match="Image width 4 and height 3 of input"):
        nn.space_to_depth(tensor(rand(1, 3, 4, 1)), 2)
    with pytest.raises(InvalidArgumentError, match="Input depth dimension 4 should be divisible"):
        nn.depth_to_space(x, 3)
    with pytest.raises(ValueError, match="data_format must be 'NHWC' or 'NCHW'.*NCHW_VECT_C"):
        nn.space_to_depth(x, 2, data_format="NCHW_VECT_C")


def test_gradients_of_the_block_ops_are_each_other():
    x, g = tensor(rand(2, 4, 6, 3)), rand(2, 2, 3, 12)
    with ef.GradientTape() as tape:
        tape.watch(x)
        target = ef.reduce_sum(nn.space_to_depth(x, 2) * tensor(g))
    np.testing.assert_array_equal(to_numpy(tape.gradient(target, x)),
                                  to_numpy(nn.depth_to_space(tensor(g), 2)))
    y, g2 = tensor(rand(2, 2, 3, 12)), rand(2, 4, 6, 3)
    with ef.GradientTape() as tape:
        tape.watch(y)
        target = ef.reduce_sum(nn.depth_to_space(y, 2) * tensor(g2))
    np.testing.assert_array_equal(to_numpy(tape.gradient(target, y)),
                                  to_numpy(nn.space_to_depth(tensor(g2), 2)))


# --- gradient checks ----------------------------------------------------------------------------
GRAD_CASES = [
    GradCase(("multiply", "reduce_sum", "divide_no_nan", "squared_difference"),
             lambda x, w: nn.weighted_moments(x, [0, 2], w), rand(3, 2, 4),
             R.uniform(0.5, 2, size=(3, 1, 4)), order=2, id="weighted_moments"),
    GradCase(("multiply", "reduce_sum", "divide_no_nan"),
             lambda loss, w: nn.compute_average_loss(loss, sample_weight=w), rand(5, 2),
             rand(5), order=2, id="compute_average_loss"),
    GradCase(("reduce_sum", "divide"), lambda r: nn.scale_regularization_loss(r), rand(3, 2),
             id="scale_regularization_loss"),
    GradCase(("reshape", "transpose"), lambda x: nn.space_to_depth(x, 2), rand(2, 4, 2, 3),
             order=2, id="space_to_depth"),
    GradCase(("reshape", "transpose"), lambda x: nn.depth_to_space(x, 2, data_format="NCHW"),
             rand(2, 8, 2, 3), id="depth_to_space-nchw"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)
