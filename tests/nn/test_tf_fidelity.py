"""tf.nn / tf.compat.v1.losses behaviours pinned to TensorFlow's sources (each test cites the
file whose formula or kernel gives the expected values)."""
import math

import numpy as np
import pytest
from scipy import special

import eagerflow as ef
import eagerflow.nn as nn
from eagerflow import backend, losses
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

R = np.random.default_rng(11)
X = R.standard_normal((3, 4))
X[0, 0] = 0.7  # keep finite differences away from the kinks at 0
POS = np.abs(R.standard_normal((3, 4))) + 0.5
TARGETS = np.array([[0.0, 0.5, 2.0, 3.5], [1.0, 4.0, 0.25, 7.0], [2.5, 0.0, 1.5, 9.0]])
TABLE = R.standard_normal((4, 3)) * 2.0


def _grad(fn, x):
    x = tensor(np.asarray(x, np.float64))
    with ef.GradientTape() as t:
        t.watch(x)
        y = ef.reduce_sum(fn(x))
    return to_numpy(t.gradient(y, x))


# float64 finite-difference checks of the ops changed here (compositions: no new registered
# op, so the cases declare none)
GRAD_CASES = [
    GradCase([], lambda x: nn.selu(x), X, order=2, id="selu_tf_branches"),
    GradCase([], lambda x: nn.elu(x), X, order=2, id="elu_tf_branches"),
    GradCase([], lambda x, b: nn.swish(x, b), X, np.array([1.7]), order=2,
             id="swish_tensor_beta"),
    GradCase([], lambda p: nn.embedding_lookup(p, tensor(np.array([[0, 2], [3, 2]])),
                                               max_norm=1.5), TABLE, id="embedding_max_norm"),
    GradCase([], lambda t, x: nn.log_poisson_loss(t, x, compute_full_loss=True), POS + 1.0,
             X, id="log_poisson_full"),
    GradCase([], lambda t, x: nn.log_poisson_loss(t, x), TARGETS, X, order=2,
             id="log_poisson"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_selu_gradient_at_zero_is_scale():
    # core/kernels/relu_op_functor.h SeluGrad: activations < 0 ? g * (act + scale_alpha)
    # : g * scale, so at 0 the gradient is scale (eagerflow gave scale * alpha)
    np.testing.assert_allclose(_grad(nn.selu, [0.0, -1.0, 2.0]),
                               [SELU_SCALE, SELU_SCALE * SELU_ALPHA * math.exp(-1.0),
                                SELU_SCALE])
    np.testing.assert_allclose(to_numpy(nn.selu(tensor(np.array([0.0, -1.0, 2.0])))),
                               [0.0, SELU_SCALE * SELU_ALPHA * math.expm1(-1.0),
                                2.0 * SELU_SCALE])


def test_elu_gradient_at_zero_is_one():
    # EluGrad: activations < 0 ? g * (act + 1) : g
    np.testing.assert_allclose(_grad(nn.elu, [0.0, -2.0, 3.0]), [1.0, math.exp(-2.0), 1.0])


def test_leaky_relu_casts_integer_features_to_float32():
    # nn_ops.leaky_relu: "if features.dtype.is_integer: features = cast(features, float32)"
    y = nn.leaky_relu(tensor(np.array([-5, 0, 3], np.int32)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(to_numpy(y), [-1.0, 0.0, 3.0])


def test_swish_beta_tensor_gets_tf_gradient():
    # nn_impl.swish: beta_grad = reduce_sum(dy * features^2 * s * (1 - s)), s = sigmoid(b x)
    x = np.array([-2.0, 0.5, 3.0])
    b = ef.Variable(np.array(0.75))
    with ef.GradientTape() as t:
        y = ef.reduce_sum(nn.swish(tensor(x), b))
    s = special.expit(0.75 * x)
    np.testing.assert_allclose(to_numpy(t.gradient(y, b)), np.sum(x * x * s * (1 - s)))
    np.testing.assert_allclose(to_numpy(nn.swish(tensor(x), b)), x * s)


def test_dropout_noise_shape_none_entries_take_x_dims():
    # nn_ops._get_noise_shape: a None dim of noise_shape (of x's rank) becomes x's dim
    ef.random.set_seed(5)
    y = to_numpy(nn.dropout(tensor(np.ones((4, 6))), rate=0.5, noise_shape=[None, 1], seed=3))
    assert y.shape == (4, 6)
    for row in y:  # one mask value per row, scaled by 1 / (1 - rate)
        assert len(set(row.tolist())) == 1 and row[0] in (0.0, 2.0)


def test_embedding_max_norm_zero_row_has_finite_gradient():
    # clip_ops.clip_by_norm's two-tap where: a zero row is left alone with gradient 1
    # (sqrt'(0) made it NaN); a row of norm 5 > 1 is scaled to x / 5
    table = ef.Variable(np.array([[0.0, 0.0], [3.0, 4.0]]))
    with ef.GradientTape() as t:
        out = nn.embedding_lookup(table, [0, 1], max_norm=1.0)
        y = ef.reduce_sum(out)
    np.testing.assert_allclose(to_numpy(out), [[0.0, 0.0], [0.6, 0.8]])
    g = to_numpy(t.gradient(y, table))
    # d/dx of sum(x / |x|) at (3, 4): (1 - x (x1 + x2) / |x|^2) / |x|
    np.testing.assert_allclose(g, [[1.0, 1.0], [(1 - 3 * 7 / 25) / 5, (1 - 4 * 7 / 25) / 5]])


def test_top_k_integer_minimum():
    # TopK orders by value: INT32_MIN is the smallest, not (by the overflow of -v) the largest
    r = nn.top_k(tensor(np.array([5, -2 ** 31, 3, 5], np.int32)), 4)
    assert to_numpy(r.values).tolist() == [5, 5, 3, -2 ** 31]
    assert to_numpy(r.indices).tolist() == [0, 3, 2, 1]
    r = nn.top_k(tensor(np.array([0, 255, 7], np.uint8)), 2)
    assert to_numpy(r.indices).tolist() == [1, 2]


def test_in_top_k_follows_tf_kernel():
    # core/kernels/in_topk_op.h: True when fewer than k predictions are strictly larger than
    # the target's (ties favour the target); False for an out-of-range target or any
    # non-finite prediction in the row
    p = np.array([[0.1, 0.9, 0.9, 0.3],
                  [0.5, 0.5, 0.5, 0.5],
                  [0.1, np.nan, 0.2, 0.3],
                  [0.1, 0.2, np.inf, 0.3],
                  [0.4, 0.3, 0.2, 0.1],
                  [0.4, 0.3, 0.2, 0.1]], np.float32)
    t = np.array([2, 3, 3, 2, 4, -1], np.int32)
    got = to_numpy(nn.in_top_k(tensor(p), tensor(t), 1)).tolist()
    assert got == [True, True, False, False, False, False]
    assert to_numpy(nn.in_top_k(tensor(p[:1]), tensor(np.array([3])), 2)).tolist() == [False]
    assert to_numpy(nn.in_top_k(tensor(p[:1]), tensor(np.array([3])), 3)).tolist() == [True]
    # TF2's order (targets, predictions, k)
    assert to_numpy(nn.in_top_k(tensor(t[:2]), tensor(p[:2]), 1)).tolist() == [True, True]
    assert nn.in_top_k(tensor(p), tensor(t), 1).dtype == np.bool_


def test_log_poisson_loss_values():
    # nn_impl.log_poisson_loss: exp(c) - c * z, plus z log z - z + 0.5 log(2 pi z) where
    # z > 1 (0 for z in [0, 1]) with compute_full_loss
    z = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    c = np.array([0.3, -1.0, 0.0, 1.2, 2.0])
    base = np.exp(c) - c * z
    np.testing.assert_allclose(to_numpy(nn.log_poisson_loss(tensor(z), tensor(c))), base)
    zz = np.where(z > 1, z, 1.0)
    stirling = np.where(z > 1, zz * np.log(zz) - zz + 0.5 * np.log(2 * np.pi * zz), 0.0)
    np.testing.assert_allclose(to_numpy(nn.log_poisson_loss(tensor(z), tensor(c),
                                                            compute_full_loss=True)),
                               base + stirling)
    with pytest.raises(ValueError):
        nn.log_poisson_loss(tensor(z[:2]), tensor(c))


def test_fused_batch_norm_avg_factor_needs_statistics():
    # nn_impl.fused_batch_norm: (not is_training or exponential_avg_factor != 1.0) and mean
    # or variance None -> ValueError
    x = tensor(R.standard_normal((2, 2, 2, 3)))
    with pytest.raises(ValueError, match="exponential_avg_factor"):
        nn.fused_batch_norm(x, tensor(np.ones(3)), tensor(np.zeros(3)),
                            exponential_avg_factor=0.5)


def test_moments_float16_computed_in_float32():
    # nn_impl.moments: float16 input is cast to float32, the statistics cast back
    a = (np.random.default_rng(0).standard_normal(64) * 3 + 1000).astype(np.float16)
    m, v = nn.moments(tensor(a), [0])
    a32 = a.astype(np.float32)
    assert m.dtype == np.float16 and v.dtype == np.float16
    assert to_numpy(m) == np.float16(a32.mean())
    assert to_numpy(v) == np.float16(((a32 - a32.mean()) ** 2).mean())


def test_sparse_xent_out_of_range_label_is_invalid_argument():
    # SparseSoftmaxXentWithLogitsOp fails with InvalidArgumentError on the CPU; its GPU
    # kernel gives NaN for the bad rows instead
    labels, logits = tensor(np.array([0, 3, -1])), tensor(np.zeros((3, 3)))
    if backend.get_backend() == "numpy":
        with pytest.raises(InvalidArgumentError, match="valid range"):
            nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    else:
        got = to_numpy(nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        assert got[0] == pytest.approx(np.log(3.0)) and np.isnan(got[1:]).all()


def test_losses_weights_must_be_scalar_or_same_rank():
    # weights_broadcast_ops.assert_broadcastable: weights of another non-zero rank are
    # rejected even where NumPy would broadcast them
    y = np.ones((2, 3))
    p = np.zeros((2, 3))
    with pytest.raises(ValueError, match="rank"):
        losses.mean_squared_error(tensor(y), tensor(p), weights=np.ones(3))
    got = losses.mean_squared_error(tensor(y), tensor(p), weights=np.array([[1.0], [0.0]]))
    assert float(to_numpy(got)) == 1.0  # sum 3 over 3 non-zero-weighted elements


def test_sparse_softmax_cross_entropy_squeezes_weights():
    # losses_impl._remove_squeezable_dimensions: weights of rank(labels) + 1 are squeezed
    logits = R.standard_normal((3, 4))
    labels = np.array([1, 0, 3])
    w = np.array([[1.0], [0.0], [2.0]])
    per = -special.log_softmax(logits, axis=1)[np.arange(3), labels]
    got = losses.sparse_softmax_cross_entropy(tensor(labels), tensor(logits), weights=w)
    np.testing.assert_allclose(float(to_numpy(got)), (per[0] + 2 * per[2]) / 2)
