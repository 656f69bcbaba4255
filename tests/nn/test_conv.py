"""Convolutions and pooling against direct NumPy loops, TF's SAME/VALID output shapes, the
transpose against the gradient of the convolution, and gradient checks."""
import itertools
import math

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.nn as nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(5)


def tf_pads(n, k, s, d, padding):
    """TF's documented arithmetic, written independently of the implementation."""
    eff = (k - 1) * d + 1
    if padding == "VALID":
        return math.ceil((n - eff + 1) / s), 0, 0
    out = math.ceil(n / s)
    total = max((out - 1) * s + eff - n, 0)
    return out, total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilations):
    """Direct channels-last convolution: out[n, o..., c] = sum x[n, o*s + k*d, ci] w[k, ci, c]."""
    nd = x.ndim - 2
    geo = [tf_pads(x.shape[1 + i], w.shape[i], strides[i], dilations[i], padding)
           for i in range(nd)]
    xp = np.pad(x, [(0, 0)] + [(g[1], g[2]) for g in geo] + [(0, 0)])
    out = np.zeros((x.shape[0],) + tuple(g[0] for g in geo) + (w.shape[-1],))
    for o in itertools.product(*[range(g[0]) for g in geo]):
        for k in itertools.product(*[range(kk) for kk in w.shape[:nd]]):
            pos = tuple(o[i] * strides[i] + k[i] * dilations[i] for i in range(nd))
            out[(slice(None),) + o] += xp[(slice(None),) + pos] @ w[k]
    return out


def ref_pool(x, ksize, strides, padding, kind):
    nd = x.ndim - 2
    geo = [tf_pads(x.shape[1 + i], ksize[i], strides[i], 1, padding) for i in range(nd)]
    out = np.zeros((x.shape[0],) + tuple(g[0] for g in geo) + (x.shape[-1],))
    for o in itertools.product(*[range(g[0]) for g in geo]):
        sl = []
        for i in range(nd):
            start = o[i] * strides[i] - geo[i][1]
            sl.append(slice(max(start, 0), min(start + ksize[i], x.shape[1 + i])))
        win = x[(slice(None),) + tuple(sl)].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + o] = win.max(1) if kind == "max" else win.mean(1)
    return out


CONV2D = [  # (input shape, kernel, strides, dilations, padding)
    ((2, 7, 6, 3), (3, 3), (1, 1), (1, 1), "SAME"),
    ((2, 7, 6, 3), (3, 2), (2, 3), (1, 1), "SAME"),
    ((1, 8, 9, 2), (3, 3), (2, 2), (1, 1), "VALID"),
    ((1, 9, 7, 2), (3, 2), (1, 1), (2, 3), "SAME"),
    ((1, 9, 8, 2), (2, 3), (2, 1), (2, 2), "VALID"),
    ((1, 4, 4, 1), (5, 5), (1, 1), (1, 1), "SAME"),
]


@pytest.mark.parametrize("shape,k,s,d,padding", CONV2D)
def test_conv2d_matches_direct_loops(shape, k, s, d, padding):
    x = R.standard_normal(shape)
    w = R.standard_normal(k + (shape[-1], 4))
    got = nn.conv2d(tensor(x), tensor(w), s, padding, dilations=d)
    np.testing.assert_allclose(to_numpy(got), ref_conv(x, w, s, padding, d), rtol=1e-10,
                               atol=1e-10)
    xc = np.transpose(x, (0, 3, 1, 2))
    gotc = nn.conv2d(tensor(xc), tensor(w), [1, 1] + list(s), padding, data_format="NCHW",
                     dilations=[1, 1] + list(d))
    np.testing.assert_allclose(to_numpy(gotc), np.transpose(to_numpy(got), (0, 3, 1, 2)),
                               rtol=1e-10, atol=1e-10)


def test_tf_output_shapes():
    x = tensor(np.zeros((1, 5, 5, 1)))
    w = tensor(np.zeros((3, 3, 1, 1)))
    assert nn.conv2d(x, w, 2, "SAME").shape == (1, 3, 3, 1)
    assert nn.conv2d(x, w, 2, "VALID").shape == (1, 2, 2, 1)
    assert nn.conv2d(x, w, [1, 2, 2, 1], "VALID", dilations=[1, 2, 2, 1]).shape == (1, 1, 1, 1)
    assert nn.max_pool(x, 2, 2, "SAME").shape == (1, 3, 3, 1)
    assert nn.max_pool(x, 2, 2, "VALID").shape == (1, 2, 2, 1)


def test_conv1d_conv3d_and_explicit_padding():
    x = R.standard_normal((2, 9, 3))
    w = R.standard_normal((4, 3, 2))
    np.testing.assert_allclose(to_numpy(nn.conv1d(tensor(x), tensor(w), 2, "SAME")),
                               ref_conv(x, w, (2,), "SAME", (1,)), atol=1e-10)
    xc = np.transpose(x, (0, 2, 1))
    np.testing.assert_allclose(
        to_numpy(nn.conv1d(tensor(xc), tensor(w), 2, "SAME", data_format="NCW")),
        np.transpose(ref_conv(x, w, (2,), "SAME", (1,)), (0, 2, 1)), atol=1e-10)
    x3 = R.standard_normal((1, 5, 4, 6, 2))
    w3 = R.standard_normal((3, 2, 3, 2, 3))
    np.testing.assert_allclose(
        to_numpy(nn.conv3d(tensor(x3), tensor(w3), [1, 2, 1, 2, 1], "SAME")),
        ref_conv(x3, w3, (2, 1, 2), "SAME", (1, 1, 1)), atol=1e-10)
    x2 = R.standard_normal((1, 5, 5, 2))
    w2 = R.standard_normal((3, 3, 2, 1))
    got = nn.conv2d(tensor(x2), tensor(w2), 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    np.testing.assert_allclose(to_numpy(got), ref_conv(x2, w2, (1, 1), "SAME", (1, 1)),
                               atol=1e-10)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv2d_transpose_is_the_input_gradient(padding, stride):
    x = R.standard_normal((2, 7, 8, 3))
    w = R.standard_normal((3, 2, 3, 4))
    xt = tensor(x)
    with ef.GradientTape() as t:
        t.watch(xt)
        y = nn.conv2d(xt, tensor(w), stride, padding)
    g = R.standard_normal(tuple(y.shape))
    want = to_numpy(t.gradient(y, xt, output_gradients=tensor(g)))
    got = nn.conv2d_transpose(tensor(g), tensor(w), x.shape, stride, padding)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-10, atol=1e-10)
    gc = np.transpose(g, (0, 3, 1, 2))
    gotc = nn.conv2d_transpose(tensor(gc), tensor(w), (2, 3, 7, 8), stride, padding,
                               data_format="NCHW")
    np.testing.assert_allclose(to_numpy(gotc), np.transpose(want, (0, 3, 1, 2)), atol=1e-10)


def test_conv3d_transpose_shape_and_bad_output_shape():
    x = tensor(R.standard_normal((1, 2, 2, 2, 3)))
    w = tensor(R.standard_normal((2, 2, 2, 5, 3)))
    assert nn.conv3d_transpose(x, w, [1, 4, 4, 4, 5], 2, "SAME").shape == (1, 4, 4, 4, 5)
    with pytest.raises(ValueError, match="output_shape"):
        nn.conv3d_transpose(x, w, [1, 9, 4, 4, 5], 2, "SAME")


def test_depthwise_and_separable():
    x = R.standard_normal((2, 6, 5, 3))
    dw = R.standard_normal((3, 3, 3, 2))
    got = to_numpy(nn.depthwise_conv2d(tensor(x), tensor(dw), [1, 2, 2, 1], "SAME"))
    want = np.stack([ref_conv(x[..., c:c + 1], dw[:, :, c:c + 1, m:m + 1], (2, 2), "SAME",
                              (1, 1))[..., 0] for c in range(3) for m in range(2)], axis=-1)
    np.testing.assert_allclose(got, want, atol=1e-10)
    pw = R.standard_normal((1, 1, 6, 4))
    sep = to_numpy(nn.separable_conv2d(tensor(x), tensor(dw), tensor(pw), [1, 2, 2, 1], "SAME"))
    np.testing.assert_allclose(sep, want @ pw[0, 0], atol=1e-10)
    x1 = R.standard_normal((2, 7, 3))
    s1 = to_numpy(nn.separable_conv1d(tensor(x1), tensor(dw[0]), tensor(pw[0]), 1, "VALID"))
    d1 = np.stack([ref_conv(x1[..., c:c + 1], dw[0][:, c:c + 1, m:m + 1], (1,), "VALID",
                            (1,))[..., 0] for c in range(3) for m in range(2)], axis=-1)
    np.testing.assert_allclose(s1, d1 @ pw[0, 0], atol=1e-10)


POOLS = [((2, 7, 6, 2), (3, 3), (2, 2), "SAME"), ((1, 7, 6, 2), (2, 3), (2, 1), "VALID"),
         ((1, 5, 5, 1), (4, 4), (3, 3), "SAME")]


@pytest.mark.parametrize("shape,k,s,padding", POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_matches_reference(shape, k, s, padding, kind):
    x = R.standard_normal(shape)
    fn = nn.max_pool2d if kind == "max" else nn.avg_pool2d
    got = fn(tensor(x), k, s, padding)
    np.testing.assert_allclose(to_numpy(got), ref_pool(x, k, s, padding, kind), atol=1e-12)
    gen = nn.max_pool if kind == "max" else nn.avg_pool
    xc = np.transpose(x, (0, 3, 1, 2))
    gotc = gen(tensor(xc), [1, 1] + list(k), [1, 1] + list(s), padding, data_format="NCHW")
    np.testing.assert_allclose(to_numpy(gotc), np.transpose(to_numpy(got), (0, 3, 1, 2)))


def test_pool1d_3d():
    x = R.standard_normal((2, 9, 3))
    np.testing.assert_allclose(to_numpy(nn.max_pool1d(tensor(x), 3, 2, "SAME")),
                               ref_pool(x, (3,), (2,), "SAME", "max"))
    np.testing.assert_allclose(to_numpy(nn.avg_pool1d(tensor(x), 2, 2, "VALID")),
                               ref_pool(x, (2,), (2,), "VALID", "avg"))
    x3 = R.standard_normal((1, 5, 4, 3, 2))
    np.testing.assert_allclose(to_numpy(nn.max_pool3d(tensor(x3), 2, 2, "SAME")),
                               ref_pool(x3, (2, 2, 2), (2, 2, 2), "SAME", "max"))
    np.testing.assert_allclose(to_numpy(nn.avg_pool3d(tensor(x3), 3, 1, "SAME")),
                               ref_pool(x3, (3, 3, 3), (1, 1, 1), "SAME", "avg"))
    np.testing.assert_allclose(to_numpy(nn.pool(tensor(x), [3], "AVG", [2], "SAME")),
                               ref_pool(x, (3,), (2,), "SAME", "avg"))


def test_bad_arguments():
    x = tensor(np.zeros((1, 4, 4, 2)))
    w = tensor(np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="padding"):
        nn.conv2d(x, w, 1, "FULL")
    with pytest.raises(ValueError, match="channels"):
        nn.conv2d(x, tensor(np.zeros((3, 3, 3, 1))), 1, "SAME")
    with pytest.raises(ValueError, match="4-D"):
        nn.conv2d(tensor(np.zeros((4, 4, 2))), w, 1, "SAME")
    with pytest.raises(ValueError, match="strides"):
        nn.conv2d(x, w, [2, 2, 2, 1], "SAME")
    with pytest.raises(ValueError, match="data_format"):
        nn.conv2d(x, w, 1, "SAME", data_format="HWNC")
    with pytest.raises(ValueError, match="larger than"):
        nn.conv2d(x, tensor(np.zeros((5, 5, 2, 1))), 1, "VALID")
    with pytest.raises(ValueError, match="padding"):
        nn.max_pool(x, 2, 2, "same_ish")
    with pytest.raises(ValueError, match="pooling_type"):
        nn.pool(x, [2, 2], "MIN")


def _conv_case(k, s, d, padding, shape=(1, 5, 6, 2)):
    return GradCase(["im2col"], lambda x, w: nn.conv2d(x, w, s, padding, dilations=d),
                    R.standard_normal(shape), R.standard_normal(k + (shape[-1], 3)),
                    order=2, id=f"conv2d_k{k}_s{s}_d{d}_{padding}")


W_T = R.standard_normal((3, 3, 2, 2))
GRAD_CASES = [
    GradCase(["im2col"], lambda x: nn.conv2d(x, tensor(np.ones((2, 2, 1, 1))), 1, "VALID"),
             R.standard_normal((1, 3, 3, 1)), order=2, id="im2col"),
    GradCase(["col2im"], lambda x: nn.conv2d_transpose(x, tensor(W_T), [1, 5, 5, 2], 2, "SAME"),
             R.standard_normal((1, 3, 3, 2)), order=2, id="col2im"),
    _conv_case((3, 3), (1, 1), (1, 1), "SAME"),
    _conv_case((3, 2), (2, 3), (1, 1), "SAME"),
    _conv_case((2, 3), (2, 2), (1, 1), "VALID"),
    _conv_case((2, 2), (1, 1), (2, 2), "SAME"),
    GradCase(["im2col"], lambda x, w: nn.conv1d(x, w, 2, "VALID", dilations=2),
             R.standard_normal((2, 9, 2)), R.standard_normal((3, 2, 2)), id="conv1d"),
    GradCase(["im2col"], lambda x, w: nn.conv3d(x, w, [1, 2, 1, 1, 1], "SAME"),
             R.standard_normal((1, 3, 4, 3, 2)), R.standard_normal((2, 2, 3, 2, 2)),
             id="conv3d"),
    GradCase(["col2im"], lambda x, w: nn.conv2d_transpose(x, w, [1, 7, 6, 2], 2, "VALID"),
             R.standard_normal((1, 3, 2, 3)), R.standard_normal((3, 3, 2, 3)),
             id="conv2d_transpose_valid"),
    GradCase(["col2im"], lambda x, w: nn.conv3d_transpose(x, w, [1, 4, 3, 4, 2], 2, "SAME"),
             R.standard_normal((1, 2, 2, 2, 1)), R.standard_normal((2, 2, 2, 2, 1)),
             id="conv3d_transpose"),
    GradCase(["im2col"], lambda x, w: nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME",
                                                          dilations=[2, 2]),
             R.standard_normal((1, 5, 5, 2)), R.standard_normal((2, 2, 2, 2)),
             id="depthwise_conv2d"),
    GradCase(["im2col"], lambda x, dw, pw: nn.separable_conv2d(x, dw, pw, [1, 2, 2, 1],
                                                               "VALID"),
             R.standard_normal((1, 5, 6, 2)), R.standard_normal((3, 3, 2, 2)),
             R.standard_normal((1, 1, 4, 3)), id="separable_conv2d"),
    GradCase(["im2col"], lambda x: nn.max_pool(x, 3, 2, "SAME"),
             R.permutation(60).reshape(1, 5, 6, 2) * 0.1, id="max_pool"),
    GradCase(["im2col"], lambda x: nn.avg_pool(x, 3, 2, "SAME"),
             R.standard_normal((1, 5, 6, 2)), order=2, id="avg_pool"),
    GradCase(["im2col"], lambda x: nn.avg_pool3d(x, 2, 1, "VALID", data_format="NCDHW"),
             R.standard_normal((1, 2, 3, 3, 3)), id="avg_pool3d_ncdhw"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)
