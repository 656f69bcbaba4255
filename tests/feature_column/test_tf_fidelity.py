"""Feature-column and head behaviours checked against TensorFlow's sources (each test names
the TF code it follows; expected values are worked out from that code by hand)."""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow.estimator import ModeKeys
from eagerflow.estimator.canned import BinaryClassHead, RegressionHead
from eagerflow.variables import VariableStore, global_variables
from tests.gradcheck import to_numpy

TABLE = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]], np.float32)


def _table_init(shape, dtype=None, partition_info=None):
    return TABLE


def _weighted():
    ids = fc.categorical_column_with_identity("i", 3)
    return fc.weighted_categorical_column(ids, "w")


FEATS = {"i": np.array([[0, 1], [2, 1]]), "w": np.array([[2.0, -1.0], [1.0, 0.5]], np.float32)}


# embedding_ops.safe_embedding_lookup_sparse: ids < 0 are always pruned, but weights <= 0
# only `if combiner != "sum"`; a weighted sum keeps negative weights.
def test_sum_combiner_keeps_negative_weights():
    col = fc.embedding_column(_weighted(), 2, combiner="sum", initializer=_table_init)
    with VariableStore().as_default():
        got = to_numpy(fc.input_layer(FEATS, [col]))
    want = np.array([2 * TABLE[0] - TABLE[1], TABLE[2] + 0.5 * TABLE[1]])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_mean_combiner_drops_nonpositive_weights():
    col = fc.embedding_column(_weighted(), 2, combiner="mean", initializer=_table_init)
    with VariableStore().as_default():
        got = to_numpy(fc.input_layer(FEATS, [col]))
    want = np.array([TABLE[0], (TABLE[2] + 0.5 * TABLE[1]) / 1.5])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_linear_model_sum_combiner_keeps_negative_weights():
    # the weights start at zero: d(sum of logits)/d(weights) is each id's summed weight
    with VariableStore().as_default():
        with ef.GradientTape() as tape:
            loss = ef.reduce_sum(fc.linear_model(FEATS, [_weighted()]))
        (var,) = [v for v in global_variables()
                  if v.name == "linear_model/i_weighted_by_w/weights"]
        grad = tape.gradient(loss, var)
    dense = to_numpy(grad.to_dense() if isinstance(grad, ef.IndexedSlices) else grad)
    np.testing.assert_allclose(dense, [[2.0], [-1.0 + 0.5], [1.0]], rtol=1e-6)


# feature_column_v2.CrossedColumn.transform_feature: a key whose get_sparse_tensors has a
# weight_tensor raises "crossed_column does not support weight_tensor ...".
def test_crossed_column_rejects_weighted_key():
    cross = fc.crossed_column([_weighted(), "s"], 10)
    feats = dict(FEATS, s=np.array([["a"], ["b"]], dtype=object))
    with pytest.raises(ValueError, match="crossed_column does not support weight_tensor"):
        with VariableStore().as_default():
            fc.input_layer(feats, [fc.indicator_column(cross)])


def _shared():
    a = fc.categorical_column_with_vocabulary_list("a", ["x", "y", "z"])
    b = fc.categorical_column_with_vocabulary_list("b", ["x", "y", "z"])
    return fc.shared_embedding_columns([b, a], 2)


SHARED_FEATS = {"a": np.array([["y"], ["z"]], dtype=object),
                "b": np.array([["y"], ["x"]], dtype=object)}


# feature_column._SharedEmbeddingColumn._get_dense_tensor_internal: the table lives in the
# graph collection `shared_embedding_collection_name`; a later input_layer call finds it there
# and reuses it (one variable, named by the first call's scope).
def test_shared_embedding_table_is_shared_across_input_layer_calls():
    eb, ea = _shared()
    with VariableStore().as_default():
        user = to_numpy(fc.input_layer(SHARED_FEATS, [ea]))
        item = to_numpy(fc.input_layer(SHARED_FEATS, [eb]))
        names = [v.name for v in global_variables()]
    assert names == ["input_layer/a_b_shared_embedding/embedding_weights"]
    # both features hold "y" in row 0: the same row of the one table
    np.testing.assert_array_equal(user[0], item[0])


# feature_column._LinearModel opens variable_scope(None, default_name=column._var_scope_name),
# which for a shared embedding column is the collection name.
def test_linear_model_scopes_shared_embedding_by_collection_name():
    eb, ea = _shared()
    with VariableStore().as_default():
        fc.linear_model(SHARED_FEATS, [ea])
        names = sorted(v.name for v in global_variables())
    assert names == ["linear_model/a_b_shared_embedding/embedding_weights",
                     "linear_model/a_b_shared_embedding/weights", "linear_model/bias_weights"]


# lookup_ops.TextFileInitializer reads lines with io::InputBuffer::ReadLine: split at '\n'
# only, one trailing '\r' removed (a lone '\r' stays inside the entry).
def test_vocabulary_file_lines_are_split_like_tf(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes("a\rb\nc\r\n\u00e9\n".encode("utf-8"))
    col = fc.categorical_column_with_vocabulary_file("v", str(path))
    assert col.num_buckets == 3
    with VariableStore().as_default():
        got = to_numpy(fc.input_layer(
            {"v": np.array([["a\rb"], ["c"], ["\u00e9"], ["a"]], dtype=object)},
            [fc.indicator_column(col)]))
    np.testing.assert_array_equal(got, [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])


def _eval_metrics(head, features, logits, labels):
    with VariableStore().as_default():
        spec = head.create_estimator_spec(features, ModeKeys.EVAL,
                                          ef.constant(np.asarray(logits, np.float32)),
                                          labels=labels)
        out = {}
        for k, (value, _) in spec.eval_metric_ops.items():
            out[k] = float(value()) if callable(value) else float(to_numpy(value))
        return out, float(to_numpy(spec.loss))


# binary_class_head.BinaryClassHead: thresholds must lie in (0, 1); for each threshold t it
# adds accuracy/precision/recall 'positive_threshold_%g' metrics (metric_keys.MetricKeys);
# precision and recall count logistic > t as positive (Precision(thresholds=t)).
def test_binary_head_threshold_metrics():
    with pytest.raises(ValueError, match="thresholds not in"):
        BinaryClassHead(thresholds=[1.0])
    head = BinaryClassHead(thresholds=[0.5])
    # logistic: 0.5 (logit 0), ~0.73, ~0.27, ~0.88
    logits = [[0.0], [1.0], [-1.0], [2.0]]
    labels = np.array([[1], [0], [0], [1]])
    m, _ = _eval_metrics(head, {}, logits, labels)
    # > 0.5: rows 1, 3 -> tp 1 (row 3), fp 1 (row 1), fn 1 (row 0)
    assert m["precision/positive_threshold_0.5"] == pytest.approx(0.5)
    assert m["recall/positive_threshold_0.5"] == pytest.approx(0.5)
    assert "accuracy/positive_threshold_0.5" in m


# base_head.get_weights_and_check_match_logits: a NumericColumn weight column gives its dense
# tensor (normalizer_fn applied); the regression head allows per-example weights for
# label_dimension > 1 (allow_per_logit_weights, broadcast over the labels).
def test_weight_column_numeric_column_applies_normalizer():
    head = BinaryClassHead(weight_column=fc.numeric_column("w", normalizer_fn=lambda x: x * 0.0))
    m, loss = _eval_metrics(head, {"w": np.array([[1.0], [2.0]], np.float32)},
                            [[1.0], [-1.0]], np.array([[1], [1]]))
    assert loss == 0.0


def test_regression_head_per_example_weights_with_label_dimension():
    head = RegressionHead(label_dimension=2, weight_column="w")
    logits = [[1.0, 2.0], [3.0, 5.0]]
    labels = np.array([[0.0, 0.0], [3.0, 3.0]], np.float32)
    m, loss = _eval_metrics(head, {"w": np.array([[2.0], [1.0]], np.float32)}, logits, labels)
    # per-element squared errors [[1, 4], [0, 4]], weights [[2, 2], [1, 1]]
    assert loss == pytest.approx((2 + 8 + 0 + 4) / 4)  # SUM_OVER_BATCH_SIZE: / (2 * 2)
    assert m["average_loss"] == pytest.approx(14 / 6)
    assert m["label/mean"] == pytest.approx((0 + 0 + 3 + 3) / 6)


def _one_ftrl_step_weight(tmp_path, **kw):
    from eagerflow import estimator as est
    cols = [fc.numeric_column(f"x{i:02d}") for i in range(30)]
    feats = {f"x{i:02d}": np.ones((1, 1), np.float32) for i in range(30)}
    m = est.LinearClassifier(cols, config=est.RunConfig(model_dir=str(tmp_path)), **kw)
    m.train(lambda: iter([(feats, np.ones((1, 1), np.int64))]), steps=1)
    return float(m.get_variable_value("linear/linear_model/x00/weights").reshape(-1)[0])


# linear.py: `get_optimizer_instance(optimizer or _get_default_optimizer(feature_columns),
# learning_rate=_LEARNING_RATE)` with _LEARNING_RATE = 0.2: the default optimizer='Ftrl' (a
# name) trains at 0.2; only optimizer=None gives Ftrl(min(0.2, 1/sqrt(#columns))).
# One Ftrl step from zero (accumulator 0.1, gradient g = sigmoid(0) - 1 = -0.5):
# w = -g * lr / sqrt(0.1 + g**2).
def test_linear_classifier_named_ftrl_uses_learning_rate_0_2(tmp_path):
    w = _one_ftrl_step_weight(tmp_path / "named")
    assert w == pytest.approx(0.5 * 0.2 / np.sqrt(0.35), rel=1e-5)
    w = _one_ftrl_step_weight(tmp_path / "none", optimizer=None)
    assert w == pytest.approx(0.5 * (1 / np.sqrt(30)) / np.sqrt(0.35), rel=1e-5)
