"""dcn_cross (DCN-V2's cross layer after its matmul) against a NumPy reference, the fused
kernels' twins against the composition, and first/second-order gradient checks."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import nn
from eagerflow.kernels import dcn_cross as kcross
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(11)


def ref(x0, x, xw, b):
    return x0 * (xw + b) + x


def _args(n=5, d=4):
    return [R.standard_normal((n, d)) for _ in range(3)] + [R.standard_normal(d)]


GRAD_CASES = [
    GradCase(["dcn_cross", "dcn_cross_grad"], nn.dcn_cross, *_args(), order=2, id="dcn_cross"),
    # x0 is x (the first cross layer): both gradient paths add up
    GradCase(["dcn_cross"], lambda x0, xw, b: nn.dcn_cross(x0, x0, xw, b),
             *[a for i, a in enumerate(_args(3, 6)) if i != 1], id="dcn_cross_first_layer"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12),
                                        (np.float16, 2e-3)])
@pytest.mark.parametrize("n,d", [(37, 29), (1, 1), (0, 8), (1100, 3)])
def test_forward_and_gradients_match_reference(dtype, rtol, n, d):
    x0, x, xw = (R.standard_normal((n, d)).astype(dtype) for _ in range(3))
    b, g = R.standard_normal(d).astype(dtype), R.standard_normal((n, d)).astype(dtype)
    ts = [tensor(a) for a in (x0, x, xw, b)]
    with ef.GradientTape() as t:
        for v in ts:
            t.watch(v)
        y = nn.dcn_cross(*ts)
    grads = t.gradient(y, ts, output_gradients=tensor(g))
    f64 = [a.astype(np.float64) for a in (x0, x, xw, b, g)]
    assert y.dtype == dtype and tuple(y.shape) == (n, d)
    np.testing.assert_allclose(to_numpy(y), ref(*f64[:4]), rtol=rtol, atol=rtol * 10)
    gx0, gx, gxw, gb = f64[4] * (f64[2] + f64[3]), f64[4], f64[4] * f64[0], \
        (f64[4] * f64[0]).sum(axis=0)
    for got, want in zip(grads, (gx0, gx, gxw, gb)):
        assert got.dtype == dtype
        np.testing.assert_allclose(to_numpy(got), want, rtol=rtol * 4, atol=rtol * 40)


def test_kernel_twins_take_non_contiguous_inputs():
    # the CPU twin copies strided views to contiguous ones; the result is the composition's
    x0 = np.asfortranarray(R.standard_normal((6, 3)).astype(np.float32))
    xw = R.standard_normal((3, 6)).astype(np.float32).T
    x, b = R.standard_normal((6, 3)).astype(np.float32), R.standard_normal(6)[::2].astype(np.float32)
    np.testing.assert_allclose(kcross.cross(x0, xw, b, x), ref(x0, x, xw, b), rtol=1e-6)
    dxw, dx0, db = kcross.cross_grad(x, x0, xw, b)
    np.testing.assert_allclose(dxw, x * x0, rtol=1e-6)
    np.testing.assert_allclose(dx0, x * (xw + b), rtol=1e-6)
    np.testing.assert_allclose(db, (x * x0).sum(axis=0), rtol=1e-5)


def test_is_the_canned_dcn_v2_layer():
    # DCNClassifier's v2 cross layer computes x0 * (x W + b) + x through this op
    x0, w, b = R.standard_normal((4, 3)), R.standard_normal((3, 3)), R.standard_normal(3)
    out = nn.dcn_cross(tensor(x0), tensor(x0), ef.matmul(tensor(x0), tensor(w)), tensor(b))
    np.testing.assert_allclose(to_numpy(out), x0 * (x0 @ w + b) + x0, rtol=1e-12)


def test_rejects_bad_shapes_and_dtypes():
    a = tensor(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="one shape"):
        nn.dcn_cross(a, a, tensor(np.ones((3, 5), np.float32)), tensor(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="one shape"):
        nn.dcn_cross(a, a, a, tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="one shape"):
        v = tensor(np.ones(4, np.float32))
        nn.dcn_cross(v, v, v, v)
    with pytest.raises(TypeError, match="one dtype"):
        nn.dcn_cross(a, a, a, tensor(np.ones(4, np.float64)))
    with pytest.raises(TypeError, match="xw"):
        nn.dcn_cross(a, a, tensor(np.ones((3, 4), np.int32)), tensor(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="bias"):
        kcross.cross(np.ones((2, 2)), np.ones((2, 2)), np.ones(3), np.ones((2, 2)))
