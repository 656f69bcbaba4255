"""The fused FM-interaction kernels (``fm``, ``fm_grad``) against a float64 NumPy reference,
on the backend under test (the numba twin on numpy, the RawKernels on cupy)."""
import itertools

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels import fm as kfm

ON_GPU = backend.get_backend() == "cupy"
dev = backend.to_device
host = backend.to_numpy


def ref_fm(e):
    e = np.asarray(e, np.float64)
    s = e.sum(axis=1)
    return 0.5 * (s * s - (e * e).sum(axis=1)).sum(axis=1, keepdims=True)


def ref_fm_grad(g, e):
    e = np.asarray(e, np.float64)
    g = np.asarray(g, np.float64).reshape(e.shape[0], 1, 1)
    return g * (e.sum(axis=1, keepdims=True) - e)


TOL = {np.float32: 2e-5, np.float64: 1e-12}
# D = 1, 3, 33, 100 take the awkward paths (lanes idle, lanes looping over several dims),
# 4/8/16/32/64 the common ones
SHAPES = ([(b, f, d) for b, f, d in itertools.product([0, 1, 5, 1000], [1, 2, 26],
                                                       [1, 3, 16, 33])]
          + [(300, 26, d) for d in (4, 8, 32, 64, 100)] + [(70000, 3, 16)])


def atols(e0, g0, tol):
    """Absolute tolerances scaled by the size of the terms that cancel: ``sum_d (sum_f
    |e|)^2`` for fm (float32 accumulates in float32 on the GPU), ``|g| sum_f |e|`` for
    fm_grad."""
    a = np.abs(np.asarray(e0, np.float64))
    fwd = ((a.sum(axis=1) ** 2).sum(axis=1)).max(initial=1.0)
    g = np.abs(np.asarray(g0, np.float64)).reshape(-1, 1)
    bwd = (g * a.sum(axis=1)).max(initial=1.0)
    return tol * fwd, tol * bwd


def _check(e0, g0, dtype):
    tol = TOL[dtype]
    fwd_atol, bwd_atol = atols(e0, g0, tol)
    y = kfm.fm(dev(e0))
    assert y.dtype == dtype and tuple(y.shape) == (e0.shape[0], 1)
    np.testing.assert_allclose(host(y), ref_fm(e0), rtol=tol, atol=fwd_atol)
    de = kfm.fm_grad(dev(g0), dev(e0))
    assert de.dtype == dtype and tuple(de.shape) == e0.shape
    np.testing.assert_allclose(host(de), ref_fm_grad(g0, e0), rtol=tol, atol=bwd_atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_reference(rng, shape, dtype):
    e0 = rng.standard_normal(shape).astype(dtype)
    g0 = rng.standard_normal((shape[0], 1)).astype(dtype)
    _check(e0, g0, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0, 4, 3), (5, 0, 3), (5, 4, 0), (0, 0, 0)])
def test_empty_dimensions_give_zeros(shape, dtype):
    e = dev(np.ones(shape, dtype))
    y = kfm.fm(e)
    assert y.dtype == dtype and tuple(y.shape) == (shape[0], 1)
    assert not host(y).any()
    de = kfm.fm_grad(dev(np.ones((shape[0], 1), dtype)), e)
    assert de.dtype == dtype and tuple(de.shape) == shape
    assert not host(de).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs(rng, dtype):
    base = rng.standard_normal((40, 16, 26)).astype(dtype)
    e0 = base.transpose(0, 2, 1)  # (40, 26, 16), dims strided
    e = dev(base).transpose(0, 2, 1)
    assert not e.flags.c_contiguous
    gbase = rng.standard_normal((40, 3)).astype(dtype)
    g = dev(gbase)[:, 1:2]  # (40, 1), strided
    fwd_atol, bwd_atol = atols(e0, gbase[:, 1:2], TOL[dtype])
    np.testing.assert_allclose(host(kfm.fm(e)), ref_fm(e0), rtol=TOL[dtype], atol=fwd_atol)
    np.testing.assert_allclose(host(kfm.fm_grad(g, e)), ref_fm_grad(gbase[:, 1:2], e0),
                               rtol=TOL[dtype], atol=bwd_atol)
    # a strided slice of every axis
    big = rng.standard_normal((30, 9, 70)).astype(dtype)
    e0 = big[::3, 1::2, 2::4]  # (10, 4, 17)
    e = dev(big)[::3, 1::2, 2::4]
    g0 = rng.standard_normal(10).astype(dtype)
    fwd_atol, bwd_atol = atols(e0, g0, TOL[dtype])
    np.testing.assert_allclose(host(kfm.fm(e)), ref_fm(e0), rtol=TOL[dtype], atol=fwd_atol)
    np.testing.assert_allclose(host(kfm.fm_grad(dev(g0), e)), ref_fm_grad(g0, e0),
                               rtol=TOL[dtype], atol=bwd_atol)


def test_gradient_of_shape_batch_only(rng):
    e0 = rng.standard_normal((6, 5, 3))
    g0 = rng.standard_normal(6)
    np.testing.assert_allclose(host(kfm.fm_grad(dev(g0), dev(e0))), ref_fm_grad(g0, e0),
                               rtol=1e-12, atol=1e-12)


def test_float16_is_computed_in_float32_and_rounded_back(rng):
    e0 = rng.standard_normal((50, 26, 16)).astype(np.float16)
    g0 = rng.standard_normal((50, 1)).astype(np.float16)
    y = kfm.fm(dev(e0))
    assert y.dtype == np.float16
    want = ref_fm(e0)
    # one float16 rounding of the float32 result: 2**-11 relative
    np.testing.assert_allclose(host(y).astype(np.float64), want, rtol=1e-3,
                               atol=1e-3 * np.abs(want).max())
    de = kfm.fm_grad(dev(g0), dev(e0))
    assert de.dtype == np.float16
    np.testing.assert_allclose(host(de).astype(np.float64), ref_fm_grad(g0, e0), rtol=1e-3,
                               atol=2e-3)


@pytest.mark.parametrize("dim", [3, 16])
def test_forward_is_deterministic(rng, dim):
    e = dev(rng.standard_normal((5000, 26, dim)).astype(np.float32))
    first = host(kfm.fm(e))
    for _ in range(3):
        np.testing.assert_array_equal(host(kfm.fm(e)), first)


def test_rejects_wrong_rank():
    with pytest.raises(ValueError, match="batch, fields, dim"):
        kfm.fm(dev(np.ones((3, 4))))
    with pytest.raises(ValueError, match="batch, fields, dim"):
        kfm.fm_grad(dev(np.ones((3, 1))), dev(np.ones((3, 4))))


@pytest.mark.parametrize("dim", [3, 16])
def test_forward_and_backward_replay_inside_a_captured_function(rng, dim):
    """No host read or sync in either kernel: ef.function captures them on the GPU (and
    runs them eagerly on the CPU)."""
    e0 = rng.standard_normal((64, 26, dim)).astype(np.float32)
    g0 = rng.standard_normal((64, 1)).astype(np.float32)

    @ef.function(warmup_calls=1)
    def step(e, g):
        with ef.GradientTape() as tape:
            tape.watch(e)
            y = ef.nn.fm_interaction(e)
        return {"y": y, "de": tape.gradient(y, e, output_gradients=g)}

    for _ in range(3):
        out = step(ef.constant(e0), ef.constant(g0))
    fwd_atol, bwd_atol = atols(e0, g0, 2e-5)
    np.testing.assert_allclose(out["y"].numpy(), ref_fm(e0), rtol=2e-5, atol=fwd_atol)
    np.testing.assert_allclose(out["de"].numpy(), ref_fm_grad(g0, e0), rtol=2e-5,
                               atol=bwd_atol)
    assert step.eager_reasons == []
    assert step.captured_signatures == (1 if ON_GPU else 0)


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
@pytest.mark.parametrize("dim", [1, 3, 16, 33, 64])
def test_gpu_twin_matches_cpu_twin(rng, dim):
    e0 = rng.standard_normal((257, 26, dim)).astype(np.float32)
    g0 = rng.standard_normal((257, 1)).astype(np.float32)
    fwd_atol, bwd_atol = atols(e0, g0, 2e-5)
    np.testing.assert_allclose(host(kfm.fm_gpu(dev(e0))), kfm.fm(e0), rtol=2e-5,
                               atol=fwd_atol)
    np.testing.assert_allclose(host(kfm.fm_grad_gpu(dev(g0), dev(e0))), kfm.fm_grad(g0, e0),
                               rtol=2e-5, atol=bwd_atol)
