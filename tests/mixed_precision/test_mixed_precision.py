"""Mixed precision: dtype policies, layers that compute in bfloat16 over float32 variables,
16-bit sums, canned estimators under a policy, loss scaling for float16."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import backend, estimator as est
from eagerflow.mixed_precision import (LossScaleOptimizer, Policy, global_policy, policy_scope,
                                       set_global_policy)
from eagerflow.variables import VariableStore

ON_GPU = backend.get_backend() == "cupy"
BF16 = ef.bfloat16


@pytest.fixture(autouse=True)
def _default_policy():
    yield
    set_global_policy(None)


def _bf16_round(a):
    return np.asarray(a, np.float32).astype(BF16).astype(np.float32)


def test_policies_and_their_errors():
    p = Policy("mixed_bfloat16")
    assert (p.compute_dtype, p.variable_dtype, p.is_mixed) == ("bfloat16", "float32", True)
    assert Policy("float64").compute_dtype == Policy("float64").variable_dtype == "float64"
    assert repr(Policy("mixed_float16")) == '<Policy "mixed_float16">'
    assert Policy(p) == p and global_policy() == Policy("float32")
    for bad in ("mixed_int8", "int32", 3, None):
        with pytest.raises(ValueError, match="unknown policy"):
            Policy(bad)
    with policy_scope("mixed_bfloat16") as inner:
        assert global_policy() == inner == p
    assert global_policy().name == "float32"
    assert ef.as_dtype("bfloat16") == BF16 and ef.bfloat16.itemsize == 2


@pytest.mark.parametrize("activation", ["relu", None, "tanh"])
def test_dense_computes_in_bfloat16_with_float32_variables(activation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 24)).astype(np.float32)
    with VariableStore().as_default():
        set_global_policy("mixed_bfloat16")
        layer = ef.layers.Dense(16, activation=activation,
                                bias_initializer=ef.constant_initializer(0.1))
        set_global_policy(None)  # the policy is the layer's from its creation on
        with ef.GradientTape() as tape:
            y = layer(ef.constant(x))
            loss = ef.reduce_sum(ef.cast(y, ef.float32) ** 2)
        gk, gb = tape.gradient(loss, [layer.kernel, layer.bias])
        k, b = layer.kernel.numpy(), layer.bias.numpy()
    assert y.dtype == BF16 and layer.kernel.dtype == np.float32 and layer.compute_dtype == BF16
    assert gk.dtype == gb.dtype == np.float32
    # reference: float32 arithmetic on the bfloat16-rounded operands
    pre = _bf16_round(x) @ _bf16_round(k) + _bf16_round(b)
    act = {"relu": lambda v: np.maximum(v, 0), None: lambda v: v, "tanh": np.tanh}[activation]
    want = act(pre)
    np.testing.assert_allclose(y.numpy().astype(np.float32), want, rtol=2e-2, atol=2e-2)
    dpre = 2 * want * {"relu": (pre > 0), None: 1.0, "tanh": 1 - want ** 2}[activation]
    np.testing.assert_allclose(gk.numpy(), x.T @ dpre, rtol=5e-2, atol=0.5)
    np.testing.assert_allclose(gb.numpy(), dpre.sum(0), rtol=5e-2, atol=0.5)


def test_a_layer_can_keep_float32_under_a_mixed_global_policy():
    with VariableStore().as_default(), policy_scope("mixed_bfloat16"):
        assert ef.layers.Dense(3, dtype="float32")(ef.ones((2, 4))).dtype == np.float32
        assert ef.layers.Dense(3)(ef.ones((2, 4))).dtype == BF16
        assert ef.layers.Dense(3, dtype=Policy("float32")).dtype_policy.name == "float32"


def test_embedding_gathers_float32_rows_and_casts_them():
    with VariableStore().as_default(), policy_scope("mixed_bfloat16"):
        layer = ef.layers.Embedding(10, 4)
        with ef.GradientTape() as tape:
            out = layer(ef.constant(np.array([[1, 3], [3, 9]])))
            loss = ef.reduce_sum(ef.cast(out, ef.float32))
        g = tape.gradient(loss, layer.embeddings)
    assert out.dtype == BF16 and layer.embeddings.dtype == np.float32
    rows = ef.convert_to_tensor(g).numpy()  # IndexedSlices or dense: the same rows
    assert rows.dtype == np.float32
    np.testing.assert_array_equal(rows[:, 0], [0, 1, 0, 2, 0, 0, 0, 0, 0, 1])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_sums_of_16_bit_floats_accumulate_in_float32(dtype):
    n = 65536 if dtype == "bfloat16" else 8192
    total = ef.reduce_sum(ef.ones([n], dtype=dtype))
    assert total.dtype == ef.as_dtype(dtype) and float(total.numpy()) == n  # not 256 / 2048
    cols = ef.reduce_sum(ef.ones([n, 3], dtype=dtype), axis=0)
    np.testing.assert_array_equal(cols.numpy().astype(np.float32), [n, n, n])


def test_bfloat16_matmul_rounds_once():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((33, 70)).astype(np.float32)
    b = rng.standard_normal((70, 9)).astype(np.float32)
    got = ef.matmul(ef.cast(a, BF16), ef.cast(b, BF16))
    assert got.dtype == BF16
    want = _bf16_round(a) @ _bf16_round(b)
    np.testing.assert_allclose(got.numpy().astype(np.float32), want, rtol=1e-2, atol=1e-2)


def test_a_captured_bfloat16_step_equals_the_eager_one():
    """On the GPU the step's bfloat16 GEMMs go through eagerflow's own cuBLAS handle
    inside the capture; on the CPU it runs eagerly (the same numbers)."""
    rng = np.random.default_rng(2)
    x = ef.constant(rng.standard_normal((32, 8)).astype(np.float32))
    k1 = rng.standard_normal((8, 8)).astype(np.float32)
    results = []
    for wrap in (lambda f: f, ef.function):
        with VariableStore().as_default(), policy_scope("mixed_bfloat16"):
            l1 = ef.layers.Dense(8, activation="relu",
                                 kernel_initializer=ef.constant_initializer(k1))
            l2 = ef.layers.Dense(1, kernel_initializer=ef.constant_initializer(0.3))
            opt = ef.train.AdamOptimizer(0.01)

            def step(x):
                with ef.GradientTape() as tape:
                    loss = ef.reduce_mean(ef.cast(l2(l1(x)), ef.float32) ** 2)
                variables = l1.variables + l2.variables
                opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
                return loss
            f = wrap(step)
            losses = [float(f(x).numpy()) for _ in range(6)]
            results.append((losses, l1.kernel.numpy()))
            if wrap is ef.function:
                assert f.captured_signatures == (1 if ON_GPU else 0)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


R = np.random.default_rng(7)
N = 2048
X = R.standard_normal((N, 4)).astype(np.float32)
Y = (R.random(N) < 1 / (1 + np.exp(-(X @ [1.5, -1.0, 0.5, 0.0])))).astype(np.int64)[:, None]


def _input(epochs=None):
    def fn():
        def gen():
            e = 0
            while epochs is None or e < epochs:
                for i in range(0, N, 256):
                    yield {"x": X[i:i + 256]}, Y[i:i + 256]
                e += 1
        return gen()
    return fn


def test_a_canned_estimator_trains_under_mixed_bfloat16(tmp_path):
    aucs = {}
    for policy in ("float32", "mixed_bfloat16"):
        with policy_scope(policy):
            m = est.DNNClassifier([16, 8], [fc.numeric_column("x", shape=(4,))],
                                  optimizer="Adam", config=est.RunConfig(
                                      model_dir=str(tmp_path / policy), tf_random_seed=3,
                                      log_step_count_steps=None))
            m.train(_input(), steps=120)
            res = m.evaluate(_input(epochs=1))
            pred = next(m.predict(_input(epochs=1)))
        aucs[policy] = res["auc"]
        assert m.get_variable_value("dnn/hiddenlayer_0/kernel").dtype == np.float32
        assert pred["logits"].dtype == np.float32 and pred["probabilities"].dtype == np.float32
    assert aucs["float32"] > 0.75
    assert abs(aucs["mixed_bfloat16"] - aucs["float32"]) < 0.01, aucs


def _half_model(x):
    with policy_scope("mixed_float16"):
        layer = ef.layers.Dense(1, kernel_initializer=ef.constant_initializer(0.5))
    layer(x)  # built: its variables exist
    return layer


def test_loss_scaling_gives_the_inner_optimizers_update():
    x = ef.constant(np.ones((4, 3), np.float32))
    out = []
    for scaled in (False, True):
        with VariableStore().as_default():
            layer = _half_model(x)
            opt = ef.train.GradientDescentOptimizer(0.1)
            if scaled:
                opt = LossScaleOptimizer(opt, initial_scale=1024.0)
            loss = lambda: ef.reduce_mean(ef.cast(layer(x), ef.float32) ** 2)  # noqa: E731
            opt.minimize(loss, var_list=layer.variables)
            out.append(layer.kernel.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-3)
    assert not np.allclose(out[0], 0.5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_dynamic_loss_scale_skips_overflowing_steps_and_grows():
    with VariableStore().as_default():
        gs = ef.train.get_or_create_global_step()
        x = ef.constant(np.full((4, 3), 30.0, np.float32))
        layer = _half_model(x)
        opt = LossScaleOptimizer(ef.train.GradientDescentOptimizer(1e-4),
                                 initial_scale=2.0 ** 20, dynamic_growth_steps=2)

        def loss():
            return ef.reduce_mean(ef.cast(layer(x), ef.float32) ** 2)
        before = layer.kernel.numpy().copy()
        opt.minimize(loss, global_step=gs, var_list=layer.variables)
        # 2**20 * the float16 gradient overflows: no update, the scale halves, the step counts
        np.testing.assert_array_equal(layer.kernel.numpy(), before)
        assert opt.loss_scale == 2.0 ** 19 and opt.skipped_steps == 1 and int(gs.numpy()) == 1
        for _ in range(20):  # halves until the scaled gradient fits float16
            opt.minimize(loss, global_step=gs, var_list=layer.variables)
            if not np.array_equal(layer.kernel.numpy(), before):
                break
        assert not np.array_equal(layer.kernel.numpy(), before)
        skipped, scale = opt.skipped_steps, opt.loss_scale
        assert skipped > 1 and scale == 2.0 ** 20 / 2 ** skipped
        assert int(gs.numpy()) == skipped + 1  # every step counted, skipped or not
        opt.minimize(loss, global_step=gs, var_list=layer.variables)
        assert opt.loss_scale == 2 * scale  # two good steps in a row: the scale doubles
        assert opt.get_name() == "GradientDescent" and opt.dynamic_growth_steps == 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_the_dynamic_scale_outlives_the_optimizer_and_is_checkpointed(tmp_path):
    """An Estimator's model_fn makes a new optimizer every step: the scale must continue,
    and a checkpoint must keep it."""
    x = ef.constant(np.full((4, 3), 30.0, np.float32))
    with VariableStore().as_default():
        layer = _half_model(x)

        def step(growth=1000):
            opt = LossScaleOptimizer(ef.train.GradientDescentOptimizer(1e-4),
                                     initial_scale=2.0 ** 20, dynamic_growth_steps=growth)
            opt.minimize(lambda: ef.reduce_mean(ef.cast(layer(x), ef.float32) ** 2),
                         var_list=layer.variables)
            return opt
        step()
        assert step().loss_scale == 2.0 ** 18  # the second object halved the first's scale
        names = {v.name: v for v in ef.global_variables()}
        scale, good = (names["LossScaleOptimizer/current_loss_scale"],
                       names["LossScaleOptimizer/good_steps"])
        assert not scale.trainable and float(scale.numpy()) == 2.0 ** 18
        while int(good.numpy()) == 0:  # halve until a step is good
            step()
        kept = float(scale.numpy())
        # the host copy follows the device value through good steps and the doubling
        opt = step(growth=int(good.numpy()) + 1)
        assert opt.loss_scale == 2 * kept and int(good.numpy()) == 0
        assert float(backend.to_numpy(scale._data)) == 2 * kept
        saver = ef.train.Saver()
        path = saver.save(str(tmp_path / "model.ckpt"))
        scale.assign(1.0)
        good.assign(7)
        saver.restore(path)
        assert LossScaleOptimizer(ef.train.GradientDescentOptimizer(1e-4)).loss_scale \
            == 2 * kept
        assert int(good.numpy()) == 0


def test_a_fixed_scale_makes_no_variables():
    with VariableStore().as_default():
        x = ef.constant(np.ones((4, 3), np.float32))
        layer = _half_model(x)
        opt = LossScaleOptimizer(ef.train.GradientDescentOptimizer(0.1), dynamic=False,
                                 initial_scale=64)
        opt.minimize(lambda: ef.reduce_mean(ef.cast(layer(x), ef.float32) ** 2),
                     var_list=layer.variables)
        assert opt.loss_scale == 64.0
        assert not [v for v in ef.global_variables() if "LossScale" in v.name]


def test_loss_scale_optimizer_arguments():
    sgd = ef.train.GradientDescentOptimizer(0.1)
    with pytest.raises(TypeError, match="inner_optimizer"):
        LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="initial_scale is required"):
        LossScaleOptimizer(sgd, dynamic=False)
    with pytest.raises(ValueError, match="dynamic_growth_steps applies only"):
        LossScaleOptimizer(sgd, dynamic=False, initial_scale=8, dynamic_growth_steps=3)
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="positive finite"):
            LossScaleOptimizer(sgd, initial_scale=bad)
    with pytest.raises(ValueError, match="dynamic_growth_steps must be >= 1"):
        LossScaleOptimizer(sgd, dynamic_growth_steps=0)
    fixed = LossScaleOptimizer(sgd, dynamic=False, initial_scale=8)
    assert fixed.loss_scale == 8.0 and fixed.dynamic_growth_steps is None
    assert fixed.inner_optimizer is sgd
    assert float(fixed.get_scaled_loss(ef.constant(2.0)).numpy()) == 16.0
    (g,) = fixed.get_unscaled_gradients([ef.constant(16.0)])
    assert float(g.numpy()) == 2.0 and fixed.get_unscaled_gradients([None]) == [None]
