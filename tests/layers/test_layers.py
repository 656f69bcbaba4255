import numpy as np
import pytest

import eagerflow as ef
import eagerflow.train as train
from eagerflow import layers, nn
import eagerflow.variables as vs
from tests.gradcheck import check_grads, tensor, to_numpy


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def var_gradcheck(fn, var, seed=0, eps=1e-6):
    """Tape gradient of sum(fn() * c) w.r.t. var against a central difference."""
    rng = np.random.default_rng(seed)
    out = fn()
    c = tensor(rng.standard_normal(tuple(out.shape)))
    with ef.GradientTape() as tape:
        y = ef.reduce_sum(fn() * c)
    g = to_numpy(tape.gradient(y, var))
    d = rng.standard_normal(tuple(var.shape))
    base = to_numpy(var).copy()

    def f(sign):
        var.assign(tensor(base + sign * eps * d))
        return float(to_numpy(ef.reduce_sum(fn() * c)))
    numeric = (f(1) - f(-1)) / (2 * eps)
    var.assign(tensor(base))
    np.testing.assert_allclose(float(np.sum(g * d)), numeric, rtol=1e-5, atol=1e-7)


def test_dense_names_shapes_params(store):
    x = tensor(np.ones((4, 3), np.float32))
    a, b = layers.Dense(5, activation="relu"), layers.Dense(2, use_bias=False)
    y = b(a(x))
    assert y.shape == (4, 2)
    assert [v.name for v in a.variables] == ["dense/kernel", "dense/bias"]
    assert [v.name for v in b.variables] == ["dense_1/kernel"]
    assert a.count_params() == 3 * 5 + 5 and b.count_params() == 5 * 2
    assert a.name == "dense" and store.names() == ["dense/kernel", "dense/bias",
                                                   "dense_1/kernel"]
    y3 = layers.Dense(7, name="fc")(tensor(np.ones((2, 5, 3), np.float32)))
    assert y3.shape == (2, 5, 7)
    with pytest.raises(ValueError, match="incompatible"):
        a(tensor(np.ones((4, 4), np.float32)))
    with pytest.raises(ValueError, match="unknown activation"):
        layers.Dense(3, activation="relu7")


def test_functional_dense_shares_by_name_and_scope(store):
    x = tensor(np.ones((2, 3), np.float32))
    y1 = layers.dense(x, 4, name="fc1")
    y2 = layers.dense(x, 4, name="fc1")
    np.testing.assert_array_equal(to_numpy(y1), to_numpy(y2))
    with vs.variable_scope("tower"):
        layers.dense(x, 4)
        layers.dense(x, 4)
    assert store.names() == ["fc1/kernel", "fc1/bias", "tower/dense/kernel",
                             "tower/dense/bias", "tower/dense_1/kernel", "tower/dense_1/bias"]
    # an Estimator re-enters the store every step: unnamed layers get the same names again
    with store.as_default():
        layers.dense(x, 2)
    with store.as_default():
        layers.dense(x, 2)
    assert "dense/kernel" in store.names() and "dense_1/kernel" not in store.names()
    with pytest.raises(ValueError, match="does not exist"):
        layers.dense(x, 4, name="new_one", reuse=True)


def test_dense_gradients(store):
    layer = layers.Dense(3, activation="tanh")
    x0 = np.random.default_rng(1).standard_normal((4, 2))
    layer(tensor(x0))
    layer.kernel.assign(tensor(np.random.default_rng(2).standard_normal((2, 3))))
    check_grads(lambda x: layer(x), x0)
    var_gradcheck(lambda: layer(tensor(x0)), layer.kernel)
    var_gradcheck(lambda: layer(tensor(x0)), layer.bias)


def test_dense_relu_matches_the_composition(store):
    # Dense(activation=relu) runs relu_layer's fused GEMM + bias + ReLU op; it must give what
    # relu(matmul + bias) gives, values and gradients, including pre-activations exactly 0
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((64, 5)).astype(np.float32)
    x0[:, 0] = 0.0
    layer = layers.Dense(4, activation=nn.relu)
    layer(tensor(x0))
    layer.bias.assign(tensor(np.array([0.5, -0.25, 0.0, 1.0], np.float32)))
    k = rng.standard_normal((5, 4)).astype(np.float32)
    k[1:, 2] = 0.0  # unit 2: x @ k + b == 0 exactly on every row with x[:, 0] == 0
    layer.kernel.assign(tensor(k))
    c = tensor(rng.standard_normal((64, 4)).astype(np.float32))
    x = tensor(x0)
    with ef.GradientTape() as tape:
        y = layer(x)
        loss = ef.reduce_sum(y * c)
    fused = [to_numpy(g) for g in tape.gradient(loss, [layer.kernel, layer.bias])]
    with ef.GradientTape() as tape:
        y_ref = nn.relu(ef.matmul(x, layer.kernel) + layer.bias)
        loss_ref = ef.reduce_sum(y_ref * c)
    ref = [to_numpy(g) for g in tape.gradient(loss_ref, [layer.kernel, layer.bias])]
    assert (to_numpy(y_ref)[:, 2] == 0).any()
    with ef.GradientTape() as tape:
        layer(x)
    assert [n.op.name for n in tape._nodes][-1] == "relu_layer"  # the fused path ran
    np.testing.assert_array_equal(to_numpy(y), to_numpy(y_ref))
    for a, b in zip(fused, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # a rank-3 input and other activations keep the unfused path
    assert layers.Dense(4, activation="relu", name="d3")(
        tensor(np.ones((2, 3, 5), np.float32))).shape == (2, 3, 4)


def test_dropout_and_flatten(store):
    x = tensor(np.ones((200, 50), np.float32))
    np.testing.assert_array_equal(to_numpy(layers.dropout(x, 0.3)), to_numpy(x))
    y = to_numpy(layers.Dropout(0.3, seed=1)(x, training=True))
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / 0.7, rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.02
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.0)
    z = tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert layers.flatten(z).shape == (2, 12)
    cf = to_numpy(layers.Flatten(data_format="channels_first")(z))
    np.testing.assert_array_equal(cf, np.arange(24).reshape(2, 3, 4).transpose(0, 2, 1)
                                  .reshape(2, 12))


def test_batch_normalization_training_and_inference(store):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((32, 4)) * 3 + 1
    bn = layers.BatchNormalization(momentum=0.9)
    y = to_numpy(bn(tensor(x0), training=True))
    np.testing.assert_allclose(y, (x0 - x0.mean(0)) / np.sqrt(x0.var(0) + 1e-3), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(bn.moving_mean), 0.1 * x0.mean(0), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(bn.moving_variance), 0.9 + 0.1 * x0.var(0), rtol=1e-6)
    yi = to_numpy(bn(tensor(x0), training=False))
    np.testing.assert_allclose(yi, (x0 - 0.1 * x0.mean(0)) / np.sqrt(
        0.9 + 0.1 * x0.var(0) + 1e-3), rtol=1e-6)
    assert [v.name for v in bn.variables] == [
        "batch_normalization/gamma", "batch_normalization/beta",
        "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [v.name for v in bn.trainable_variables] == ["batch_normalization/gamma",
                                                        "batch_normalization/beta"]
    bn.gamma.assign(tensor(rng.standard_normal(4)))
    check_grads(lambda x: bn(x, training=True), x0[:6])
    var_gradcheck(lambda: bn(tensor(x0[:6]), training=True), bn.gamma)
    # 4-D channels-last inputs take TF's fused path: Bessel-corrected moving variance
    x4 = rng.standard_normal((2, 3, 3, 2))
    bn4 = layers.BatchNormalization(momentum=0.0, name="bn4")
    bn4(tensor(x4), training=True)
    np.testing.assert_allclose(to_numpy(bn4.moving_variance),
                               x4.reshape(-1, 2).var(0, ddof=1), rtol=1e-6)


def test_embedding_sparse_gradient(store):
    emb = layers.Embedding(10, 4)
    ids = tensor(np.array([[1, 2], [2, 7]]))
    y = emb(ids)
    assert y.shape == (2, 2, 4) and emb.embeddings.name == "embedding/embeddings"
    assert np.abs(to_numpy(emb.embeddings)).max() <= 0.05
    with ef.GradientTape() as tape:
        loss = ef.reduce_sum(emb(ids))
    g = tape.gradient(loss, emb.embeddings)
    assert isinstance(g, ef.IndexedSlices)
    dense = to_numpy(g.to_dense())
    np.testing.assert_array_equal(dense[:, 0], [0, 1, 2, 0, 0, 0, 0, 1, 0, 0])


def test_sequential_names_and_training_flag(store):
    model = layers.Sequential([layers.Dense(8, activation="relu"), layers.Dropout(0.5),
                               layers.BatchNormalization(), layers.Dense(1)])
    x = tensor(np.ones((4, 3), np.float32))
    assert model(x, training=True).shape == (4, 1)
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(model(x)))
    names = [v.name for v in model.variables]
    assert names[:2] == ["sequential/dense/kernel", "sequential/dense/bias"]
    assert "sequential/batch_normalization/moving_mean" in names
    assert model.count_params() == 3 * 8 + 8 + 8 * 4 + 8 + 1


@pytest.mark.parametrize("make,shape,out,params", [
    (lambda: layers.Conv1D(5, 2), (2, 7, 3), (2, 6, 5), 2 * 3 * 5 + 5),
    (lambda: layers.Conv2D(4, 3, padding="same", strides=2), (2, 6, 6, 3), (2, 3, 3, 4),
     3 * 3 * 3 * 4 + 4),
    (lambda: layers.Conv3D(2, 2), (1, 4, 4, 4, 2), (1, 3, 3, 3, 2), 8 * 2 * 2 + 2),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2), (2, 5, 5, 3), (2, 11, 11, 4),
     9 * 4 * 3 + 4),
    (lambda: layers.Conv3DTranspose(3, 2, strides=2, padding="same"), (1, 2, 2, 2, 2),
     (1, 4, 4, 4, 3), 8 * 3 * 2 + 3),
    (lambda: layers.SeparableConv1D(5, 3, depth_multiplier=2), (2, 7, 3), (2, 5, 5),
     3 * 3 * 2 + 6 * 5 + 5),
    (lambda: layers.SeparableConv2D(4, 3), (2, 6, 6, 3), (2, 4, 4, 4), 9 * 3 + 3 * 4 + 4),
    (lambda: layers.MaxPooling2D(2, 2), (2, 6, 6, 3), (2, 3, 3, 3), 0),
    (lambda: layers.AveragePooling1D(3, 1, padding="same"), (2, 7, 3), (2, 7, 3), 0),
    (lambda: layers.MaxPooling3D(2), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), 0),
])
def test_conv_and_pool_shapes(make, shape, out, params):
    layer = make()
    assert layer(tensor(np.ones(shape, np.float32))).shape == out
    assert layer.count_params() == params


def test_conv_names_and_gradients(store):
    x0 = np.random.default_rng(3).standard_normal((1, 4, 4, 2))
    conv = layers.Conv2D(3, 2, activation="relu")
    conv(tensor(x0))
    assert [v.name for v in conv.variables] == ["conv2d/kernel", "conv2d/bias"]
    conv.bias.assign(tensor(np.full(3, 0.5)))
    var_gradcheck(lambda: conv(tensor(x0)), conv.kernel)
    check_grads(lambda x: layers.max_pooling2d(x, 2, 2), x0)


def test_mlp_classifier_reaches_accuracy(store):
    ef.random.set_seed(0)
    rng = np.random.default_rng(0)
    n = 512
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = ((x[:, 0] ** 2 + x[:, 1] ** 2) < 1.2).astype(np.int64)  # a ring: not linear
    xt, yt = tensor(x), tensor(y)
    opt = train.AdamOptimizer(0.05)
    step = train.get_or_create_global_step()

    def model(inp):
        h = layers.dense(inp, 16, activation="relu", name="h1")
        h = layers.dense(h, 16, activation="relu", name="h2")
        return layers.dense(h, 2, name="logits")

    for _ in range(150):
        with ef.GradientTape():
            logits = model(xt)
            loss = ef.reduce_mean(nn.sparse_softmax_cross_entropy_with_logits(
                labels=yt, logits=logits))
            opt.minimize(loss, global_step=step)
    acc = (to_numpy(ef.argmax(model(xt), axis=1)) == y).mean()
    assert acc > 0.95 and int(step.numpy()) == 150


def test_layer_dtype_follows_first_input(store):
    layer = layers.Dense(2, name="d64")
    y = layer(tensor(np.ones((3, 4))))
    assert layer.kernel.dtype == np.float64 and y.dtype == np.float64
    bn = layers.BatchNormalization(name="bn64")
    assert bn(tensor(np.ones((3, 4))), training=True).dtype == np.float64
    assert bn.moving_mean.dtype == np.float64
    assert vs.zeros_initializer(dtype=ef.float64)((2,)).dtype == np.float64
