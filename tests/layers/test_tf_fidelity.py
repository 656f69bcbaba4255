"""tf.compat.v1.layers behaviours pinned to TensorFlow/Keras sources (each test cites them):
BatchNormalization's parameter shape/dtype and fused path, weight and activity regularizer
losses, ``reuse=tf.AUTO_REUSE`` on functional layers, causal Conv1D, partitioned scopes and
mixed-precision convolutions."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.variables as vs
from eagerflow import layers
from eagerflow.mixed_precision import policy_scope
from eagerflow.variables.partitioners import fixed_size_partitioner
from tests.gradcheck import tensor, to_numpy


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def test_batch_norm_multi_axis_param_shape_and_moving_update():
    # keras BatchNormalizationBase.build: with several axes "Parameter shape is the original
    # shape but with 1 in all non-axis dims"; the moving statistics move by
    # (moving - batch) * (1 - momentum) (_assign_moving_average), with the biased variance
    # (non-fused path: more than one axis is never fused).
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 2 + 1
    bn = layers.BatchNormalization(axis=[1, 2], momentum=0.9)
    y = to_numpy(bn(tensor(x), training=True))
    assert [tuple(v.shape) for v in bn.variables] == [(1, 3, 5, 1)] * 4
    mean = x.mean(axis=(0, 3), keepdims=True)
    var = x.var(axis=(0, 3), keepdims=True)
    np.testing.assert_allclose(to_numpy(bn.moving_mean), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(bn.moving_variance), 0.9 + 0.1 * var, rtol=1e-5)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_batch_norm_5d_channel_axis_takes_the_fused_path():
    # keras V1 BatchNormalizationBase.build: fused = rank in (4, 5) and _fused_can_be_used(),
    # data formats NCDHW (axis 1) / NDHWC (axis 4); fused_batch_norm's batch variance is
    # Bessel-corrected (_bessels_correction_test_only keeps it). Other 5-D axes are not fused.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 2, 2, 4)).astype(np.float32)
    last = layers.BatchNormalization(momentum=0.0, name="ndhwc")
    last(tensor(x), training=True)
    np.testing.assert_allclose(to_numpy(last.moving_variance),
                               x.reshape(-1, 4).var(0, ddof=1), rtol=1e-5)
    first = layers.BatchNormalization(axis=1, momentum=0.0, name="ncdhw")
    first(tensor(x), training=True)
    np.testing.assert_allclose(to_numpy(first.moving_variance),
                               x.transpose(1, 0, 2, 3, 4).reshape(3, -1).var(1, ddof=1),
                               rtol=1e-5)
    other = layers.BatchNormalization(axis=2, momentum=0.0, name="not_fused")
    other(tensor(x), training=True)
    np.testing.assert_allclose(to_numpy(other.moving_variance),
                               x.transpose(2, 0, 1, 3, 4).reshape(2, -1).var(1), rtol=1e-5)


def test_batch_norm_float16_keeps_float32_variables():
    # keras BatchNormalizationBase._param_dtype: "Raise parameters of fp16 batch norm to
    # fp32"; the output keeps the input's dtype (the math of 16-bit inputs is in float32).
    x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float16)
    bn = layers.BatchNormalization(name="bn16")
    y = bn(tensor(x), training=True)
    assert [v.dtype for v in bn.variables] == [np.float32] * 4
    assert y.dtype == np.float16
    xf = x.astype(np.float32)
    np.testing.assert_allclose(to_numpy(y).astype(np.float32),
                               (xf - xf.mean(0)) / np.sqrt(xf.var(0) + 1e-3), rtol=2e-3)
    np.testing.assert_allclose(to_numpy(bn.moving_mean), 0.01 * xf.mean(0), rtol=1e-5)


def test_batch_norm_moving_statistics_are_never_partitioned():
    # keras BatchNormalizationBase.build: "Disable variable partitioning when creating the
    # moving mean and variance" (gamma/beta still follow the scope's partitioner).
    x = tensor(np.arange(24, dtype=np.float32).reshape(4, 6))
    with vs.variable_scope("p", partitioner=fixed_size_partitioner(2)):
        y = layers.batch_normalization(x, training=True)
    names = vs.get_default_store().names()
    assert "p/batch_normalization/moving_mean" in names
    assert "p/batch_normalization/moving_variance" in names
    assert "p/batch_normalization/gamma/part_0" in names
    xn = to_numpy(x)
    np.testing.assert_allclose(to_numpy(y), (xn - xn.mean(0)) / np.sqrt(xn.var(0) + 1e-3),
                               rtol=1e-5)


def test_dense_and_conv_read_partitioned_kernels():
    # a PartitionedVariable kernel reads as its shards concatenated (TF converts it with
    # tf.concat when the layer uses it)
    with vs.variable_scope("q", partitioner=fixed_size_partitioner(2),
                           initializer=ef.constant_initializer(0.5)):
        y = layers.dense(ef.ones((2, 6)), 4, use_bias=False)
        z = layers.conv2d(ef.ones((1, 4, 4, 2)), 3, 2, use_bias=False)
    np.testing.assert_allclose(to_numpy(y), np.full((2, 4), 3.0))
    np.testing.assert_allclose(to_numpy(z), np.full((1, 3, 3, 3), 4.0))


def test_layer_losses_hold_the_weight_regularizers():
    # legacy tf.layers Layer.add_weight -> _handle_weight_regularization: the regularizer's
    # loss on the variable is in layer.losses (and once in REGULARIZATION_LOSSES); a layer
    # that only reuses the variable adds none (_should_add_regularizer).
    def reg(w):
        return 0.1 * ef.reduce_sum(w * w)
    init = ef.constant_initializer(2.0)
    d = layers.Dense(3, kernel_initializer=init, kernel_regularizer=reg, name="fc")
    d(ef.ones((2, 4)))
    assert len(d.losses) == 1
    np.testing.assert_allclose(float(to_numpy(d.losses[0])), 0.1 * 4.0 * 12, rtol=1e-6)
    again = layers.Dense(3, kernel_regularizer=reg, name="fc", _reuse=True)
    again(ef.ones((2, 4)))
    assert again.losses == []
    assert len(vs.get_regularization_losses()) == 1
    model = layers.Sequential([layers.Dense(2, kernel_initializer=init, kernel_regularizer=reg)])
    model(ef.ones((1, 5)))
    np.testing.assert_allclose(float(to_numpy(model.losses[0])), 0.1 * 4.0 * 10, rtol=1e-6)


def test_activity_regularizer_loss_is_divided_by_the_batch_size():
    # keras base_layer_v1._handle_activity_regularization: activity_loss / batch_size
    # ("Make activity regularization strength batch-agnostic").
    d = layers.Dense(2, kernel_initializer=ef.constant_initializer(1.0),
                     activity_regularizer=lambda y: ef.reduce_sum(y), name="act")
    out = d(ef.ones((4, 3)))  # every output is 3
    assert len(d.losses) == 1
    np.testing.assert_allclose(float(to_numpy(d.losses[0])),
                               float(np.sum(to_numpy(out))) / 4, rtol=1e-6)


def test_functional_layers_take_auto_reuse():
    # legacy tf.layers pass `reuse` to the layer's variable_scope: tf.AUTO_REUSE creates the
    # variables on the first call and shares them afterwards.
    with vs.VariableStore(reuse=None).as_default() as s:
        x = ef.ones((2, 3))
        a = layers.dense(x, 4, name="shared", reuse=vs.AUTO_REUSE)
        b = layers.dense(x, 4, name="shared", reuse=vs.AUTO_REUSE)
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
        assert s.names() == ["shared/kernel", "shared/bias"]
        with pytest.raises(ValueError, match="does not exist"):
            layers.dense(x, 4, name="missing", reuse=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv1d_causal_padding(data_format):
    # keras Conv._compute_causal_padding: dilation * (kernel - 1) zeros before the time axis,
    # then a VALID convolution (Conv1D and SeparableConv1D only).
    x = np.arange(12, dtype=np.float32).reshape(1, 6, 2)
    xin = x if data_format == "channels_last" else x.transpose(0, 2, 1)
    conv = layers.Conv1D(1, 3, padding="causal", dilation_rate=2, data_format=data_format,
                         kernel_initializer="ones", use_bias=False)
    y = to_numpy(conv(tensor(xin))).reshape(-1)
    s = x[0].sum(1)
    padded = np.concatenate([np.zeros(4, np.float32), s])
    want = padded[0:6] + padded[2:8] + padded[4:10]
    np.testing.assert_allclose(y, want)
    sep = layers.SeparableConv1D(1, 2, padding="causal", depthwise_initializer="ones",
                                 pointwise_initializer="ones", use_bias=False)
    ys = to_numpy(sep(tensor(x))).reshape(-1)
    np.testing.assert_allclose(ys, s + np.concatenate([[0.0], s[:-1]]))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(1, 3, padding="causal")


def test_conv_computes_in_the_mixed_policy_dtype():
    # Keras autocasting: under mixed_bfloat16 a conv layer's float32 variables are read as
    # bfloat16 and its output is bfloat16 (as Dense already does).
    with policy_scope("mixed_bfloat16"):
        conv = layers.Conv2D(2, 2, kernel_initializer="ones")
    y = conv(ef.ones((1, 3, 3, 1)))
    assert conv.kernel.dtype == np.float32 and y.dtype == ef.bfloat16
    np.testing.assert_allclose(to_numpy(ef.cast(y, "float32")), np.full((1, 2, 2, 2), 4.0))
