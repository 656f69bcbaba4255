"""Fidelity audit of ``tf.compat.v1.losses`` against TF's own source
(tensorflow/python/ops/losses/losses_impl.py and losses/util.py).

Every expected value below is transcribed from TF's formulas (or TF's documented examples
and its own unit tests, losses_test.py), not from eagerflow's output.
"""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import losses
from eagerflow.losses import Reduction
from eagerflow.variables import VariableStore, variable_scope
from tests.gradcheck import tensor, to_numpy

# losses_test.py's MeanPairwiseSquaredErrorTest data
MP_LABELS = np.array([[[1, 9, 2], [12, 11, 10], [9, 8, 7]],
                      [[-5, -5, 7], [6, 5, 4], [3, 2, 1]]], np.float32)
MP_PREDS = np.array([[[4, 8, 12], [1, 2, 3], [4, 5, 6]],
                     [[8, 1, 3], [7, 8, 9], [10, 11, 12]]], np.float32)


def mpse_per_example(labels, preds):
    """TF's per-example pairwise loss: 2 sum(d^2) / (n - 1) - 2 sum(d)^2 / (n (n - 1)),
    the mean over ordered pairs j != k of (d_j - d_k)^2."""
    d = (preds - labels).reshape(len(labels), -1).astype(np.float64)
    n = d.shape[1]
    return 2 * (d ** 2).sum(1) / (n - 1) - 2 * d.sum(1) ** 2 / (n * (n - 1))


# --- compute_weighted_loss ----------------------------------------------------------------

def test_weights_none_is_a_value_error():
    # TF: losses_test.py testValueErrorThrownWhenWeightIsNone (math_ops.cast(None) raises)
    with pytest.raises(ValueError):
        losses.compute_weighted_loss(tensor(np.ones((2, 3), np.float32)), weights=None)
    with pytest.raises(ValueError):
        losses.mean_squared_error(tensor(np.ones(3, np.float32)), tensor(np.zeros(3, np.float32)),
                                  weights=None)
    with pytest.raises(ValueError):
        losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS), weights=None)


def test_integer_losses_are_reduced_in_float32_then_cast_back():
    # TF: losses = cast(losses, float32); ...; loss = cast(loss, input_dtype)
    out = losses.compute_weighted_loss(tensor(np.array([1, 2], np.int64)))
    assert out.dtype == np.int64
    assert int(to_numpy(out)) == int(np.float32(3) / np.float32(2))  # 1.5 truncated to 1


def test_half_precision_losses_are_reduced_in_float32():
    # TF: the sum of two float16 60000s is computed in float32 (120000, beyond float16's
    # range), divided by the 2 present weights, and cast back to float16
    x = tensor(np.array([60000.0, 60000.0], np.float16))
    out = losses.compute_weighted_loss(x)
    assert out.dtype == np.float16
    assert float(to_numpy(out)) == 60000.0
    out = losses.compute_weighted_loss(x, reduction=Reduction.MEAN)
    assert float(to_numpy(out)) == 60000.0


def test_regression_losses_cast_half_inputs_to_float32():
    # TF: predictions = math_ops.cast(predictions, dtype=dtypes.float32) (and the labels)
    y = np.array([0.0, 0.0], np.float16)
    p = np.array([300.0, 300.0], np.float16)  # 300^2 = 90000 overflows float16
    out = losses.mean_squared_error(tensor(y), tensor(p))
    assert out.dtype == np.float32
    np.testing.assert_allclose(to_numpy(out), 90000.0)


def test_reduction_examples_from_tf_docs():
    # tf.compat.v1.losses.mean_squared_error's documented examples
    y, p, w = [1.0, 2.0, 3.0], [1.0, 3.0, 5.0], [0.0, 1.0, 0.25]
    np.testing.assert_allclose(to_numpy(losses.mean_squared_error(y, p, weights=w)), 1.0)
    got = losses.mean_squared_error(y, p, weights=w, reduction=Reduction.SUM_OVER_BATCH_SIZE)
    np.testing.assert_allclose(to_numpy(got), 2.0 / 3.0, rtol=1e-6)
    # softmax_cross_entropy's documented example: 0.57618
    got = losses.softmax_cross_entropy([[0, 1, 0], [0, 0, 1]],
                                       [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
                                       weights=[0.3, 0.7], label_smoothing=0.2)
    np.testing.assert_allclose(to_numpy(got), 0.57618, atol=1e-5)


# --- label smoothing, cosine_distance, sparse_softmax ------------------------------------

def test_negative_label_smoothing_is_ignored():
    # TF: `if label_smoothing > 0:` smooths; 0 or a negative value leaves the labels alone
    y = np.array([[1.0, 0.0, 1.0]], np.float32)
    x = np.array([[0.3, -1.2, 2.0]], np.float32)
    xent = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    got = losses.sigmoid_cross_entropy(tensor(y), tensor(x), label_smoothing=-0.2)
    np.testing.assert_allclose(to_numpy(got), xent.mean(), rtol=1e-6)
    onehot = np.array([[0.0, 1.0, 0.0]], np.float32)
    logsm = x - np.log(np.exp(x).sum(-1, keepdims=True))
    got = losses.softmax_cross_entropy(tensor(onehot), tensor(x), label_smoothing=-0.3)
    np.testing.assert_allclose(to_numpy(got), -(onehot * logsm).sum(), rtol=1e-6)


def test_cosine_distance_rejects_both_axis_and_dim():
    # TF: deprecated_argument_lookup('axis', axis, 'dim', dim) raises for both
    a = tensor(np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="axis"):
        losses.cosine_distance(a, a, axis=1, dim=0)
    # dim alone is the old name of axis; losses_test.py testMeasurementSpecificWeights
    preds = np.asarray([[1, 0, 0], [0, 0, -1], [1, 0, 0], [1, 0, 0], [0, 0, -1], [1, 0, 0]],
                       np.float32).reshape(3, 2, 3)
    labels = np.asarray([[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]],
                        np.float32).reshape(3, 2, 3)
    got = losses.cosine_distance(tensor(labels), tensor(preds), dim=2,
                                 weights=np.array([1, 0, 0, 1, 1, 1], np.float32).reshape(3, 2, 1))
    assert float(to_numpy(got)) == 3.0 / 4.0


def test_sparse_softmax_squeezes_logits_two_ranks_above_labels():
    # TF: confusion_matrix.remove_squeezable_dimensions(labels, logits, expected_rank_diff=1)
    # squeezes a trailing 1 of the logits when rank(logits) - rank(labels) == 2
    logits = np.array([[[0.5], [1.5], [-1.0]], [[2.0], [0.0], [1.0]]], np.float32)  # (2, 3, 1)
    labels = np.array([1, 0], np.int64)
    x = logits[..., 0]
    logsm = x - np.log(np.exp(x).sum(-1, keepdims=True))
    want = -logsm[np.arange(2), labels].mean()
    got = losses.sparse_softmax_cross_entropy(tensor(labels), tensor(logits))
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)


# --- mean_pairwise_squared_error ----------------------------------------------------------

def test_mean_pairwise_squared_error_3d():
    # losses_test.py test3d / test3dWeightedScalar (with TF's n - 1 normalisation)
    per = mpse_per_example(MP_LABELS, MP_PREDS)
    got = losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS))
    np.testing.assert_allclose(to_numpy(got), per.sum(), rtol=1e-6)
    got = losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS), weights=3.0)
    np.testing.assert_allclose(to_numpy(got), 3.0 * per.sum(), rtol=1e-6)


def test_mean_pairwise_squared_error_full_shape_weights():
    # TF: weighted_losses = (term1 - term2)[batch, 1, 1] * weights[batch, 3, 3], summed:
    # losses_test.py test3dWeighted2x3x3 expects 9 x the unweighted loss for ones((2, 3, 3))
    per = mpse_per_example(MP_LABELS, MP_PREDS)
    got = losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS),
                                             weights=np.ones((2, 3, 3), np.float32))
    np.testing.assert_allclose(to_numpy(got), 9 * per.sum(), rtol=1e-6)
    # zero weights in one row: n counts that example's non-zero weights only
    w = np.ones((2, 3, 3), np.float32)
    w[1, 0, :] = 0.0
    d1 = (MP_PREDS[1] - MP_LABELS[1]).reshape(-1).astype(np.float64)
    present = w[1].reshape(-1) != 0
    n1 = present.sum()
    per1 = 2 * (d1 ** 2).sum() / (n1 - 1) - 2 * d1.sum() ** 2 / (n1 * (n1 - 1))
    want = per[0] * w[0].sum() + per1 * w[1].sum()
    got = losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS), weights=w)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)


def test_mean_pairwise_squared_error_rejects_batch_weights_of_3d_inputs():
    # losses_test.py testInvalid3dWeighted2x0: weights (2,) for labels (2, 3, 3)
    with pytest.raises(ValueError, match="broadcast"):
        losses.mean_pairwise_squared_error(tensor(MP_LABELS), tensor(MP_PREDS),
                                           weights=np.asarray((1.2, 3.4), np.float32))


# --- loss collection (losses/util.py) -----------------------------------------------------

def test_losses_are_collected_per_store_entry():
    y, p = np.array([1.0, 2.0], np.float32), np.array([1.0, 4.0], np.float32)
    with VariableStore().as_default() as store:
        mse = losses.mean_squared_error(tensor(y), tensor(p))       # 2.0
        ad = losses.absolute_difference(tensor(y), tensor(p))       # 1.0
        losses.log_loss(tensor(y * 0), tensor(p * 0.1), loss_collection=None)
        got = losses.get_losses()
        assert len(got) == 2 and got[0] is mse and got[1] is ad
        # get_total_loss = add_n(get_losses() + get_regularization_losses())
        np.testing.assert_allclose(to_numpy(losses.get_total_loss()), 3.0)
        reg = losses.get_regularization_loss()
        assert float(to_numpy(reg)) == 0.0 and reg.dtype == np.float32
        extra = tensor(np.float32(0.5))
        losses.add_loss(extra)
        np.testing.assert_allclose(to_numpy(losses.get_total_loss()), 3.5)
        np.testing.assert_allclose(
            to_numpy(losses.get_total_loss(add_regularization_losses=False)), 3.5)
    # an Estimator enters its store around every model_fn call: each call starts empty
    with store.as_default():
        assert losses.get_losses() == []
        with pytest.raises(ValueError):
            losses.get_total_loss()


def test_get_losses_scope_filter():
    y, p = np.array([1.0], np.float32), np.array([3.0], np.float32)
    with VariableStore().as_default():
        with variable_scope("tower_0"):
            a = losses.mean_squared_error(tensor(y), tensor(p))
        b = losses.absolute_difference(tensor(y), tensor(p), scope="head")
        assert losses.get_losses(scope="tower_0") == [a]
        assert losses.get_losses(scope="head") == [b]
        assert len(losses.get_losses()) == 2


def test_regularization_losses_join_the_total():
    with VariableStore().as_default():
        w = ef.get_variable("w", [2], initializer=ef.constant_initializer(3.0),
                            regularizer=lambda v: ef.reduce_sum(v * v) * 0.5)
        assert len(losses.get_regularization_losses()) == 1
        np.testing.assert_allclose(to_numpy(losses.get_regularization_loss()), 9.0)
        losses.mean_squared_error(tensor(np.array([1.0], np.float32)),
                                  tensor(np.array([2.0], np.float32)))
        np.testing.assert_allclose(to_numpy(losses.get_total_loss()), 10.0)
        np.testing.assert_allclose(
            to_numpy(losses.get_total_loss(add_regularization_losses=False)), 1.0)
        assert w is not None


def test_top_level_eager_keeps_no_losses():
    # TF2 eager: "the loss_collection argument is ignored when executing eagerly"
    losses.mean_squared_error(tensor(np.array([1.0], np.float32)),
                              tensor(np.array([2.0], np.float32)))
    assert losses.get_losses() == []
