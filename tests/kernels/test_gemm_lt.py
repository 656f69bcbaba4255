"""The fused dense-layer GEMMs (``kernels/gemm_lt.py``): ``linear_relu`` and ``matmul_bgrad``
against NumPy in float64, on the backend under test (cuBLASLt epilogues on the GPU, the
unfused kernels on the CPU), and the fused ``relu_layer`` step under ``ef.function``."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels import gemm_lt
from tests.gradcheck import check_grads, tensor, to_numpy

ON_GPU = backend.get_backend() == "cupy"

# (m, k, n): odd sizes (no multiple of 8/16), a batch of one, one input feature, an empty
# batch, and a layer of the CTR model's width
SHAPES = [(33, 17, 9), (1, 5, 3), (7, 1, 4), (0, 6, 5), (64, 16, 16), (130, 40, 25),
          (2048, 400, 400), (5, 3, 1)]
LAYOUTS = ["c", "f", "strided", "offset"]


def _tol(dtype):
    return (2e-5, 2e-5) if dtype == np.float32 else (1e-12, 1e-12)


def _device(a, layout):
    """``a`` on the backend, laid out as asked (same values)."""
    xp = backend.xp()
    if layout == "c":
        return xp.asarray(a)
    if layout == "f":
        return xp.asfortranarray(xp.asarray(a))
    if layout == "strided":  # every other column of a wider array
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype) if a.ndim else a
        wide[..., ::2] = a
        return xp.asarray(wide)[..., ::2]
    # a view one element into its buffer: not aligned like a fresh allocation
    flat = xp.asarray(np.concatenate([np.zeros(1, a.dtype), a.ravel()]))
    return flat[1:].reshape(a.shape)


def _ref_linear_relu(x, w, b):
    return np.maximum(x.astype(np.float64) @ w + b, 0)


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_relu_matches_numpy(m, k, n, dtype, rng):
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    got = backend.to_numpy(gemm_lt.linear_relu(backend.asarray(x), backend.asarray(w),
                                               backend.asarray(b)))
    assert got.dtype == dtype and got.shape == (m, n)
    rtol, atol = _tol(dtype)
    np.testing.assert_allclose(got, _ref_linear_relu(x, w, b), rtol=rtol,
                               atol=atol * np.sqrt(k))


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_bgrad_matches_numpy(m, k, n, dtype, rng):
    x = rng.standard_normal((m, k)).astype(dtype)
    gz = rng.standard_normal((m, n)).astype(dtype)
    dw, db = gemm_lt.matmul_bgrad(backend.asarray(x), backend.asarray(gz))
    dw, db = backend.to_numpy(dw), backend.to_numpy(db)
    assert dw.dtype == dtype and dw.shape == (k, n) and dw.flags.c_contiguous
    assert db.dtype == dtype and db.shape == (n,)
    rtol, atol = _tol(dtype)
    np.testing.assert_allclose(dw, x.T.astype(np.float64) @ gz, rtol=rtol,
                               atol=atol * np.sqrt(max(m, 1)))
    np.testing.assert_allclose(db, gz.astype(np.float64).sum(axis=0), rtol=rtol,
                               atol=atol * np.sqrt(max(m, 1)))


@pytest.mark.parametrize("layout_x", LAYOUTS)
@pytest.mark.parametrize("layout_w", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs(layout_x, layout_w, dtype, rng):
    m, k, n = 37, 13, 11
    x = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    gz = rng.standard_normal((m, n)).astype(dtype)
    rtol, atol = _tol(dtype)
    y = gemm_lt.linear_relu(_device(x, layout_x), _device(w, layout_w), _device(b, layout_w))
    np.testing.assert_allclose(backend.to_numpy(y), _ref_linear_relu(x, w, b), rtol=rtol,
                               atol=atol * 10)
    dw, db = gemm_lt.matmul_bgrad(_device(x, layout_x), _device(gz, layout_w))
    np.testing.assert_allclose(backend.to_numpy(dw), x.T.astype(np.float64) @ gz, rtol=rtol,
                               atol=atol * 10)
    np.testing.assert_allclose(backend.to_numpy(db), gz.sum(axis=0), rtol=rtol, atol=atol * 10)


def test_relu_of_exactly_zero_is_zero():
    x = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    w = np.eye(2, dtype=np.float32)
    b = np.array([-1.0, 0.0], np.float32)  # x @ w + b is exactly 0 on the first row
    y = backend.to_numpy(gemm_lt.linear_relu(*map(backend.asarray, (x, w, b))))
    np.testing.assert_array_equal(y, [[0.0, 0.0], [0.0, 1.0]])
    assert not np.signbit(y).any()


def test_tf32_switch_applies():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    w = rng.standard_normal((512, 64)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    gz = rng.standard_normal((256, 64)).astype(np.float32)
    want = _ref_linear_relu(x, w, b)
    try:
        ef.config.set_allow_tf32(True)
        y = backend.to_numpy(gemm_lt.linear_relu(*map(backend.asarray, (x, w, b))))
        dw, _ = gemm_lt.matmul_bgrad(backend.asarray(x), backend.asarray(gz))
    finally:
        ef.config.set_allow_tf32(False)
    np.testing.assert_allclose(y, want, rtol=0, atol=5e-3 * np.abs(want).max())
    ref_dw = x.T.astype(np.float64) @ gz
    np.testing.assert_allclose(backend.to_numpy(dw), ref_dw, rtol=0,
                               atol=5e-3 * np.abs(ref_dw).max())
    # and back to full float32 precision
    y = backend.to_numpy(gemm_lt.linear_relu(*map(backend.asarray, (x, w, b))))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-4)


def test_errors():
    a = backend.asarray(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        gemm_lt.linear_relu(backend.asarray(np.ones(3, np.float32)), a, a[0])
    with pytest.raises(ValueError, match="inner dimension"):
        gemm_lt.linear_relu(a, a, backend.asarray(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="b of shape"):
        gemm_lt.linear_relu(a, a.T, backend.asarray(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="2-D"):
        gemm_lt.matmul_bgrad(a, backend.asarray(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="rows"):
        gemm_lt.matmul_bgrad(a, backend.asarray(np.ones((5, 2), np.float32)))


def test_unfused_dtypes_and_mixed_dtypes_fall_back():
    x = np.arange(6, dtype=np.float16).reshape(2, 3)
    w = np.ones((3, 2), np.float16)
    b = np.array([-4.0, 0.0], np.float16)
    y = backend.to_numpy(gemm_lt.linear_relu(*map(backend.asarray, (x, w, b))))
    np.testing.assert_array_equal(y, [[0.0, 3.0], [8.0, 12.0]])
    assert gemm_lt.last_path()["linear_relu"] == ("fallback" if ON_GPU else "numpy")
    dw, db = gemm_lt.matmul_bgrad(backend.asarray(x.astype(np.float32)),
                                  backend.asarray(np.ones((2, 2), np.float32)))
    np.testing.assert_array_equal(backend.to_numpy(db), [2.0, 2.0])
    # operands of different dtypes: not one cuBLASLt problem, the unfused path
    xm = backend.asarray(x.astype(np.float32))
    y = gemm_lt.linear_relu(xm, backend.asarray(w.astype(np.float64)),
                            backend.asarray(b.astype(np.float32)))
    np.testing.assert_array_equal(backend.to_numpy(y), [[0.0, 3.0], [8.0, 12.0]])
    assert gemm_lt.last_path()["linear_relu"] == ("fallback" if ON_GPU else "numpy")


# --- relu_layer: finite differences in float64 ------------------------------------------

@pytest.mark.parametrize("m,k,n", [(9, 4, 3), (1, 1, 2), (16, 7, 5)])
def test_relu_layer_gradients_by_finite_differences(m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    x = rng.standard_normal((m, k))
    w = rng.standard_normal((k, n))
    b = rng.standard_normal(n) * 0.5
    for wrt in ([0], [1], [2], [0, 1, 2]):
        check_grads(ef.nn.relu_layer, x, w, b, wrt=wrt, order=2,
                    expect_ops=("relu_layer",))


def test_relu_layer_empty_batch_has_zero_gradients():
    x, w = tensor(np.zeros((0, 4))), tensor(np.ones((4, 3)))
    b = tensor(np.ones(3))
    with ef.GradientTape() as tape:
        tape.watch([x, w, b])
        y = ef.nn.relu_layer(x, w, b)
        loss = ef.reduce_sum(y)
    dx, dw, db = tape.gradient(loss, [x, w, b])
    assert tuple(y.shape) == (0, 3) and tuple(dx.shape) == (0, 4)
    np.testing.assert_array_equal(to_numpy(dw), np.zeros((4, 3)))
    np.testing.assert_array_equal(to_numpy(db), np.zeros(3))


# --- the fused step under ef.function (a CUDA graph on the GPU) --------------------------

def _two_layer_step(params, opt, c):
    w0, b0, w1, b1 = params

    def step(x):
        with ef.GradientTape() as tape:
            h = ef.nn.relu_layer(x, w0, b0)
            y = ef.nn.relu_layer(h, w1, b1)  # dx of this layer is needed too
            loss = ef.reduce_mean(y * c)
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss
    return step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_relu_layer_step_captures_under_function(dtype):
    rng = np.random.default_rng(2)
    shapes = [(19, 37), (37,), (37, 11), (11,)]
    init = [rng.standard_normal(s).astype(dtype) * 0.3 for s in shapes]
    c = ef.constant(rng.standard_normal((67, 11)).astype(dtype))
    xs = [ef.constant(rng.standard_normal((67, 19)).astype(dtype)) for _ in range(5)]

    def run(wrap):
        params = [ef.Variable(a) for a in init]
        step = wrap(_two_layer_step(params, ef.train.GradientDescentOptimizer(0.5), c))
        losses = [float(step(x)) for x in xs]
        return losses, [p.numpy() for p in params], step

    want_l, want_p, _ = run(lambda f: f)
    got_l, got_p, fn = run(ef.function)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got_l, want_l, rtol=rtol, atol=rtol)
    for got, want in zip(got_p, want_p):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    assert fn.eager_reasons == []
    assert fn.captured_signatures == (1 if ON_GPU else 0)


# --- GPU only: the cuBLASLt path is the one taken ----------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
@pytest.mark.parametrize("m,k,n", [(4096, 400, 400), (33, 17, 9), (1, 5, 3)])
def test_cublaslt_path_is_taken_for_float32(m, k, n, rng):
    assert gemm_lt.available()
    x = backend.asarray(rng.standard_normal((m, k)).astype(np.float32))
    w = backend.asarray(rng.standard_normal((k, n)).astype(np.float32))
    b = backend.asarray(rng.standard_normal(n).astype(np.float32))
    gemm_lt.linear_relu(x, w, b)
    gemm_lt.matmul_bgrad(x, backend.asarray(rng.standard_normal((m, n)).astype(np.float32)))
    paths = gemm_lt.last_path()
    assert paths["linear_relu"] == "cublaslt:RELU_BIAS"
    assert paths["matmul_bgrad"].startswith("cublaslt:")


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
def test_cublaslt_path_inside_a_capture():
    """The epilogue GEMMs are what a captured step replays (not the fallback)."""
    rng = np.random.default_rng(4)
    w = ef.Variable(rng.standard_normal((64, 32)).astype(np.float32))
    b = ef.Variable(rng.standard_normal(32).astype(np.float32))
    seen = []

    @ef.function(warmup_calls=1)
    def f(x):
        with ef.GradientTape() as tape:
            y = ef.nn.relu_layer(x, w, b)
        out = tape.gradient(y, [w, b])
        seen.append(gemm_lt.last_path())
        return out

    x = rng.standard_normal((256, 64)).astype(np.float32)
    for _ in range(3):
        dw, db = f(ef.constant(x))
    assert f.captured_signatures == 1 and len(seen) == 2  # warm-up, capture
    assert seen[-1]["linear_relu"] == "cublaslt:RELU_BIAS"
    assert seen[-1]["matmul_bgrad"].startswith("cublaslt:")
    gz = (x.astype(np.float64) @ w.numpy() + b.numpy() > 0).astype(np.float64)
    np.testing.assert_allclose(dw.numpy(), x.T @ gz, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db.numpy(), gz.sum(axis=0), rtol=1e-5, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
def test_autotuned_candidates_give_the_same_results(monkeypatch, rng):
    monkeypatch.setattr(gemm_lt._options, "candidates", 4)
    m, k, n = 515, 77, 45  # a problem no other test plans
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    gz = rng.standard_normal((m, n)).astype(np.float32)
    tuned = []
    real_tune = gemm_lt._Lt._tune
    monkeypatch.setattr(gemm_lt._Lt, "_tune",
                        lambda self, *a, **k: tuned.append(1) or real_tune(self, *a, **k))
    for i in range(2):  # the tuning call, then the cached choice
        y = gemm_lt.linear_relu(*map(backend.asarray, (x, w, b)))
        dw, db = gemm_lt.matmul_bgrad(backend.asarray(x), backend.asarray(gz))
        np.testing.assert_allclose(backend.to_numpy(y), _ref_linear_relu(x, w, b), rtol=2e-5,
                                   atol=2e-4)
        np.testing.assert_allclose(backend.to_numpy(dw), x.T.astype(np.float64) @ gz,
                                   rtol=2e-5, atol=5e-4)
        np.testing.assert_allclose(backend.to_numpy(db), gz.sum(axis=0), rtol=2e-5, atol=5e-4)
        if i == 0:
            first = len(tuned)
    assert first >= 1 and len(tuned) == first  # tuned once per problem, then cached
    assert gemm_lt.last_path()["linear_relu"] == "cublaslt:RELU_BIAS"
    plans = [p for p in gemm_lt._lt().plans.values() if p is not None and len(p.algos) > 1]
    assert plans and all(p.algo in p.algos for p in plans)


# --- weight gradients split over row blocks (kernels/gemm.py split_k) ---------------------

def test_split_k_rule():
    from eagerflow.kernels.gemm import split_k
    assert split_k(65536, 400, 400) == 8     # 16 output tiles: 8 blocks of 8192 rows
    assert split_k(65536, 429, 400) == 8
    assert split_k(4096, 400, 400) == 1      # a short batch fills the GPU by itself
    assert split_k(10000, 400, 400) == 4     # 2500-row blocks (8 would be 1250 < 2048)
    assert split_k(65537, 400, 400) == 1     # no equal blocks
    assert split_k(65536, 1024, 1024) == 1   # 64 tiles: enough without splitting


@pytest.mark.parametrize("layout", ["c", "f", "offset"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_weight_gradient_matches_numpy_and_repeats_bitwise(layout, dtype, rng,
                                                                 monkeypatch):
    monkeypatch.setattr(gemm_lt._options, "split_k", True)
    m, k, n = 16384, 37, 29
    x = rng.standard_normal((m, k)).astype(dtype)
    gz = rng.standard_normal((m, n)).astype(dtype)
    xd, gd = _device(x, layout), _device(gz, layout)
    dw, db = gemm_lt.matmul_bgrad(xd, gd)
    assert gemm_lt.last_path()["matmul_bgrad"] == ("split-k" if ON_GPU else "numpy")
    rtol, atol = (1e-4, 1e-3) if dtype == np.float32 else (1e-12, 1e-10)
    np.testing.assert_allclose(to_numpy(dw), x.T.astype(np.float64) @ gz, rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_numpy(db), gz.sum(axis=0, dtype=np.float64), rtol=rtol,
                               atol=atol)
    assert to_numpy(dw).flags.c_contiguous and dw.shape == (k, n) and dw.dtype == dtype
    again, _ = gemm_lt.matmul_bgrad(xd, gd)
    np.testing.assert_array_equal(to_numpy(again), to_numpy(dw))  # a fixed order of sums


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
def test_split_weight_gradient_inside_a_capture_equals_eager(monkeypatch):
    monkeypatch.setattr(gemm_lt._options, "split_k", True)
    rng = np.random.default_rng(5)
    w = ef.Variable(rng.standard_normal((24, 16)).astype(np.float32))
    b = ef.Variable(rng.standard_normal(16).astype(np.float32))
    seen = []

    def grads(x):
        with ef.GradientTape() as tape:
            y = ef.nn.relu_layer(x, w, b)
        out = tape.gradient(y, [w, b])
        seen.append(gemm_lt.last_path()["matmul_bgrad"])
        return out

    x = ef.constant(rng.standard_normal((16384, 24)).astype(np.float32))
    want = [t.numpy() for t in grads(x)]
    f = ef.function(grads, warmup_calls=1)
    for _ in range(3):
        got = [t.numpy() for t in f(x)]
    assert f.captured_signatures == 1 and seen == ["split-k"] * 3
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
