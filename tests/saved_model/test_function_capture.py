"""``ef.function`` as a step compiler: on the CuPy backend calls are captured into a CUDA
graph and replayed; on NumPy they run eagerly. The same tests run on both: results must
equal a plain eager run either way, and on the GPU the graph must actually be used."""
import logging

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend

ON_GPU = backend.get_backend() == "cupy"


def _mlp(seed=0, sizes=(8, 16, 16, 1)):
    rng = np.random.default_rng(seed)
    ws = [ef.Variable(rng.standard_normal((i, o)).astype(np.float32) * 0.3, name=f"w{k}")
          for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]))]
    bs = [ef.Variable(np.zeros(o, np.float32), name=f"b{k}") for k, o in enumerate(sizes[1:])]
    return ws, bs


def _forward(ws, bs, x):
    h = x
    for w, b in zip(ws[:-1], bs[:-1]):
        h = ef.nn.relu_layer(h, w, b)
    return ef.matmul(h, ws[-1]) + bs[-1]


def _batches(n, batch=32, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.standard_normal((batch, 8)).astype(np.float32)
        y = (x[:, :1] > 0).astype(np.float32)
        out.append((ef.constant(x), ef.constant(y)))
    return out


def _train(step_fn_factory, steps=7):
    ws, bs = _mlp()
    opt = ef.train.AdamOptimizer(0.01)
    step = step_fn_factory(ws, bs, opt)
    losses = [float(step(x, y)) for x, y in _batches(steps)]
    return losses, [v.numpy() for v in ws + bs], step


def _step(ws, bs, opt):
    def step(x, y):
        with ef.GradientTape() as tape:
            logits = _forward(ws, bs, x)
            loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=y,
                                                                          logits=logits))
        grads = tape.gradient(loss, ws + bs)
        opt.apply_gradients(zip(grads, ws + bs))
        return loss
    return step


def test_captured_mlp_adam_steps_equal_eager_steps():
    eager_losses, eager_vars, _ = _train(_step)
    losses, vars_, fn = _train(lambda *a: ef.function(_step(*a)))
    np.testing.assert_allclose(losses, eager_losses, rtol=2e-5, atol=1e-6)
    for got, want in zip(vars_, eager_vars):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert fn.eager_reasons == []
    assert fn.captured_signatures == (1 if ON_GPU else 0)


def _embedding_model(seed=0):
    rng = np.random.default_rng(seed)
    table = ef.Variable(rng.standard_normal((50, 4)).astype(np.float32), name="table")
    w = ef.Variable(rng.standard_normal((4 * 3, 1)).astype(np.float32), name="w")
    return table, w


def _sparse_step(table, w, opt):
    def step(ids, y):
        with ef.GradientTape() as tape:
            e = ef.reshape(ef.nn.embedding_lookup(table, ids), (-1, 12))
            fm = ef.nn.fm_interaction(ef.reshape(e, (-1, 3, 4)))
            logits = ef.matmul(e, w) + fm
            loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=y,
                                                                          logits=logits))
        g = tape.gradient(loss, [table, w])
        opt.apply_gradients(zip(g, [table, w]))
        return {"loss": loss, "logits": logits}
    return step


@pytest.mark.parametrize("opt_name", ["lazy_adam", "adagrad"])
def test_captured_sparse_embedding_step_equals_eager(opt_name):
    """Sparse gradients (deduplicated on the device with no host read) replay too."""
    rng = np.random.default_rng(3)
    data = [(ef.constant(rng.integers(0, 50, (16, 3))),
             ef.constant((rng.random((16, 1)) < 0.3).astype(np.float32))) for _ in range(6)]

    def run(wrap):
        table, w = _embedding_model()
        opt = (ef.train.LazyAdamOptimizer(0.05) if opt_name == "lazy_adam"
               else ef.train.AdagradOptimizer(0.1))
        step = wrap(_sparse_step(table, w, opt))
        outs = [step(ids, y) for ids, y in data]
        return [float(o["loss"]) for o in outs], table.numpy(), w.numpy(), step

    want_l, want_t, want_w, _ = run(lambda f: f)
    got_l, got_t, got_w, fn = run(ef.function)
    np.testing.assert_allclose(got_l, want_l, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(got_t, want_t, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(got_w, want_w, rtol=2e-5, atol=1e-6)
    assert fn.eager_reasons == []
    assert fn.captured_signatures == (1 if ON_GPU else 0)


def test_python_side_effects_run_at_warmup_and_capture_only():
    calls = []
    v = ef.Variable([0.0])

    @ef.function(warmup_calls=1)
    def bump(x):
        calls.append(1)
        v.assign_add(x)
        return v * 2.0

    outs = [float(bump(ef.constant([1.0]))[0]) for _ in range(5)]
    assert outs == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert float(v[0]) == 5.0
    # warm-up call + the capture on the GPU; every call eagerly on the CPU
    assert len(calls) == (2 if ON_GPU else 5)


def test_outputs_are_not_overwritten_by_the_next_call():
    @ef.function(warmup_calls=1)
    def double(x):
        return x * 2.0

    kept = [double(ef.constant([float(i)])) for i in range(4)]
    assert [float(k[0]) for k in kept] == [0.0, 2.0, 4.0, 6.0]


def test_new_shapes_and_python_arguments_make_new_signatures():
    @ef.function(warmup_calls=1)
    def scale(x, k):
        return x * k

    for _ in range(3):
        np.testing.assert_allclose(scale(ef.ones((2, 3)), 2.0).numpy(), np.full((2, 3), 2.0))
        np.testing.assert_allclose(scale(ef.ones((4,)), 3.0).numpy(), np.full(4, 3.0))
        np.testing.assert_allclose(scale(ef.ones((4,)), 5.0).numpy(), np.full(4, 5.0))
        # host arrays are inputs too (copied into the graph's buffer)
        np.testing.assert_allclose(scale(np.arange(4, dtype=np.float32), 1.0).numpy(),
                                   np.arange(4))
    assert scale.captured_signatures == (4 if ON_GPU else 0)


def test_host_read_inside_falls_back_to_eager_with_a_logged_reason(caplog):
    v = ef.Variable([1.0])

    @ef.function(warmup_calls=1)
    def step(x):
        v.assign_add(x)
        if float(ef.reduce_sum(v)) > 100.0:  # a host read: cannot be captured
            v.assign(ef.zeros_like(v))
        return v + 0.0

    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        outs = [float(step(ef.constant([1.0]))[0]) for _ in range(4)]
    assert outs == [2.0, 3.0, 4.0, 5.0]  # nothing ran twice, nothing was lost
    if ON_GPU:
        assert len(step.eager_reasons) == 1 and "captur" in caplog.text
    assert step.captured_signatures == 0


def test_learning_rate_schedule_is_not_frozen_into_a_graph():
    w = ef.Variable([1.0])
    rates = iter([0.1, 0.2, 0.3, 0.4, 0.5])
    opt = ef.train.GradientDescentOptimizer(lambda: next(rates))

    @ef.function(warmup_calls=1)
    def step():
        with ef.GradientTape() as tape:
            loss = ef.reduce_sum(w * 1.0)
        opt.apply_gradients([(tape.gradient(loss, w), w)])
        return loss

    for _ in range(4):
        step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.2 - 0.3 - 0.4], atol=1e-6)
    if ON_GPU:
        assert "schedule" in step.eager_reasons[0]


def test_restored_variable_buffer_triggers_a_new_capture(caplog):
    w = ef.Variable([1.0, 2.0])

    @ef.function(warmup_calls=1)
    def read():
        return w * 1.0

    for _ in range(3):
        read()
    w._set_array(backend.asarray(np.array([5.0, 6.0], np.float32)))  # what restore does
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        np.testing.assert_allclose(read().numpy(), [5.0, 6.0])
        np.testing.assert_allclose(read().numpy(), [5.0, 6.0])
    assert read.captured_signatures == (1 if ON_GPU else 0) and read.eager_reasons == []
    assert ("capturing again" in caplog.text) == ON_GPU


def test_an_outer_tape_sees_the_ops_of_an_eager_call():
    w = ef.Variable([3.0])
    f = ef.function(lambda x: w * x, warmup_calls=1)
    for _ in range(3):
        f(ef.constant([1.0]))
    with ef.GradientTape() as tape:
        y = f(ef.constant([2.0]))
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0])


def test_variables_created_inside_are_created_once():
    made = []

    @ef.function(warmup_calls=1)
    def step(x):
        if not made:
            made.append(ef.Variable([0.0]))
        made[0].assign_add(x)
        return made[0] * 1.0

    outs = [float(step(ef.constant([1.0]))[0]) for _ in range(4)]
    assert outs == [1.0, 2.0, 3.0, 4.0] and len(made) == 1


def test_bad_arguments():
    with pytest.raises(TypeError, match="capture must be a bool"):
        ef.function(lambda: 1, capture="yes")
    with pytest.raises(ValueError, match="warmup_calls"):
        ef.function(lambda: 1, warmup_calls=0)


def test_capture_false_and_methods():
    class Model:
        def __init__(self):
            self.v = ef.Variable([1.0])
            self.n = 0

        @ef.function(warmup_calls=1)
        def inc(self, x):
            self.n += 1
            self.v.assign_add(x)
            return self.v * 1.0

    a, b = Model(), Model()
    for _ in range(3):
        a.inc(ef.constant([1.0]))
    b.inc(ef.constant([10.0]))
    assert float(a.v[0]) == 4.0 and float(b.v[0]) == 11.0
    f = ef.function(lambda x: x + 1.0, capture=False)
    for _ in range(3):
        assert float(f(ef.constant([1.0]))[0]) == 2.0
    assert f.captured_signatures == 0


def test_tf32_switch():
    with pytest.raises(TypeError, match="bool"):
        ef.config.set_allow_tf32(1)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 256)).astype(np.float32)
    b = rng.standard_normal((256, 32)).astype(np.float32)
    want = a.astype(np.float64) @ b
    try:
        ef.config.set_allow_tf32(True)
        assert ef.config.experimental.tensor_float_32_execution_enabled()
        got = ef.matmul(ef.constant(a), ef.constant(b)).numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-3 * np.abs(want).max())
    finally:
        ef.config.set_allow_tf32(False)
    got = ef.matmul(ef.constant(a), ef.constant(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
@pytest.mark.parametrize("layout", ["cc", "tc", "ct", "tt", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_own_cublas_gemm_layouts_inside_a_capture(layout, dtype):
    """The ctypes cuBLAS path (the only GEMM a capture can use) against NumPy."""
    rng = np.random.default_rng(5)
    m, k, n = 37, 53, 29
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    xp = backend.xp()
    da, db = xp.asarray(a), xp.asarray(b)
    if layout[0] == "t":
        da = xp.asarray(np.ascontiguousarray(a.T)).T
    if layout[1:] == "t":
        db = xp.asarray(np.ascontiguousarray(b.T)).T
    if layout == "strided":
        da = xp.asarray(np.repeat(a, 2, axis=1))[:, ::2]
    f = ef.function(lambda x, y: ef.matmul(x, y), warmup_calls=1)
    for _ in range(3):
        got = f(ef.constant(da), ef.constant(db)).numpy()
    assert f.captured_signatures == 1
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, a @ b, rtol=tol, atol=tol * 10)


def test_many_python_values_stop_making_signatures(caplog):
    from eagerflow.saved_model import capture
    f = ef.function(lambda x, k: x * k, warmup_calls=1)
    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        for rnd in range(2):
            for k in range(capture._MAX_SIGNATURES + 6):
                assert float(f(ef.constant([1.0]), float(k))[0]) == float(k)
    if ON_GPU:  # on the CPU every call is eager and nothing is keyed
        assert caplog.text.count("argument signatures") == 1
    assert f.captured_signatures == (capture._MAX_SIGNATURES if ON_GPU else 0)


def test_object_arguments_run_eagerly_every_call():
    class Scale:
        def __init__(self, k):
            self.k = k
    calls = []

    @ef.function(warmup_calls=1)
    def f(x, s):
        calls.append(1)
        return x * s.k

    for k in range(4):
        assert float(f(ef.constant([2.0]), Scale(float(k)))[0]) == 2.0 * k
    assert len(calls) == 4 and f.captured_signatures == 0


def test_variable_created_at_every_call_is_not_captured():
    made = []

    @ef.function(warmup_calls=1)
    def f(x):
        made.append(ef.Variable([1.0]))
        return made[-1] + x

    outs = [float(f(ef.constant([float(i)]))[0]) for i in range(3)]
    assert outs == [1.0, 2.0, 3.0] and f.captured_signatures == 0
    if ON_GPU:
        assert "created inside a CUDA-graph capture" in f.eager_reasons[0]


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_stack_of_many_parts_are_captured(axis):
    """CuPy's concatenate of many arrays copies a pointer table from the host, which a
    capture refuses; inside a capture the parts go into slices of the output instead."""
    rng = np.random.default_rng(2)
    parts = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(30)]

    def f(*xs):
        return ef.concat(list(xs), axis=axis) * 2.0, ef.stack(list(xs), axis=1)

    fn = ef.function(f)
    for _ in range(4):
        cat, st = fn(*(ef.constant(p) for p in parts))
    np.testing.assert_array_equal(cat.numpy(), np.concatenate(parts, axis=axis) * 2.0)
    np.testing.assert_array_equal(st.numpy(), np.stack(parts, axis=1))
    assert fn.captured_signatures == (1 if ON_GPU else 0)


@pytest.mark.gpu
@pytest.mark.skipif(not ON_GPU, reason="needs the cupy backend")
def test_buffer_replaced_during_capture_and_host_outputs_fall_back():
    from eagerflow.backend import cuda_graph

    @ef.function(warmup_calls=1)
    def replaces(x):
        if cuda_graph.capturing():
            cuda_graph.bump_buffer_epoch()  # what a restore inside the call would do
        return x * 2.0

    @ef.function(warmup_calls=1)
    def host_out(x):
        return ef.constant(np.array([b"a"], dtype=object)), x + 1.0

    x = ef.constant([1.0, 2.0])
    for _ in range(3):
        np.testing.assert_allclose(replaces(x).numpy(), [2.0, 4.0])
        np.testing.assert_allclose(host_out(x)[1].numpy(), [2.0, 3.0])
    assert "replaced during the capture" in replaces.eager_reasons[0]
    assert "not a device array" in host_out.eager_reasons[0]
