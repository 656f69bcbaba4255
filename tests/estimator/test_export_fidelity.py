"""What an exported canned Estimator looks like to TF users and TF Serving clients, checked
against tensorflow_estimator's sources (each test names the file it follows; the expected
values are read off that code or its docstring examples):

- head/binary_class_head.py, multi_class_head.py, regression_head.py, base_head.py:
  prediction keys (and their order), dtypes, shapes; export_outputs; metric keys; losses;
- canned/prediction_keys.py, canned/metric_keys.py;
- export/export.py (receivers), tensorflow/python/saved_model/model_utils/export_output.py
  and export_utils.py (signatures), signature_constants.py (keys and method names).
"""
import math

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import estimator as est
from eagerflow import saved_model
from eagerflow.estimator.canned import BinaryClassHead, MultiClassHead, RegressionHead
from eagerflow.io import Example, Feature, Features, FloatList
from eagerflow.variables import VariableStore
from tests.gradcheck import to_numpy

CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
PREDICT = "tensorflow/serving/predict"

R = np.random.default_rng(21)
X = R.standard_normal((64, 1)).astype(np.float32)
COLS = [fc.numeric_column("a")]


def _np(t):
    return t if isinstance(t, np.ndarray) else to_numpy(t)


def _examples(values):
    return np.array([Example(features=Features(feature={
        "a": Feature(float_list=FloatList(value=[float(v)]))})).SerializeToString()
        for v in np.ravel(values)], dtype=object)


def _trained(kind, model_dir):
    cfg = est.RunConfig(log_step_count_steps=None)
    if kind == "binary":
        m, y = est.LinearClassifier(COLS, model_dir=model_dir, config=cfg), \
            (X > 0).astype(np.int64)
    elif kind == "vocab":
        m = est.LinearClassifier(COLS, model_dir=model_dir, config=cfg,
                                 label_vocabulary=["neg", "pos"])
        y = np.where(X > 0, "pos", "neg").astype(object)
    elif kind == "multi":
        m = est.LinearClassifier(COLS, n_classes=3, model_dir=model_dir, config=cfg)
        y = np.digitize(X, [-0.5, 0.5]).astype(np.int64)
    else:
        m, y = est.LinearRegressor(COLS, model_dir=model_dir, config=cfg), X * 2.0
    m.train(lambda: iter([({"a": X}, y)] * 3), steps=3)
    return m


def _batch_predictions(m, rows):
    return list(m.predict(lambda: ({"a": rows},), yield_single_examples=False))[0]


def _export(m, path):
    recv = est.build_parsing_serving_input_receiver_fn(fc.make_parse_example_spec(COLS))
    return saved_model.load(m.export_saved_model(path, recv).decode())


# ---------------------------------------------------------------- 1. prediction dicts

# binary_class_head.predictions: keys in this order; class_ids = expand_dims(argmax(
# [0, logit])) int64 [B,1]; classes = as_string(class_ids) [B,1]; base_head.all_class_ids =
# tile(tf.range(2)) -> int32 [B,2]; all_classes = tile(as_string(range(2))) [B,2].
BINARY_KEYS = ["logits", "logistic", "probabilities", "class_ids", "classes",
               "all_class_ids", "all_classes"]


def test_binary_predict_keys_order_dtypes_and_shapes(tmp_path):
    m = _trained("binary", str(tmp_path / "m"))
    p = _batch_predictions(m, X[:3])
    assert list(p) == BINARY_KEYS
    want = {"logits": (np.float32, (3, 1)), "logistic": (np.float32, (3, 1)),
            "probabilities": (np.float32, (3, 2)), "class_ids": (np.int64, (3, 1)),
            "classes": (object, (3, 1)), "all_class_ids": (np.int32, (3, 2)),
            "all_classes": (object, (3, 2))}
    for k, (dtype, shape) in want.items():
        assert p[k].dtype == np.dtype(dtype) and p[k].shape == shape, k
    assert p["all_class_ids"].tolist() == [[0, 1]] * 3
    assert p["all_classes"].tolist() == [[b"0", b"1"]] * 3
    assert p["classes"].ravel().tolist() == [b"1" if v > 0 else b"0"
                                             for v in p["logits"].ravel()]
    one = next(m.predict(lambda: ({"a": X[:1]},)))
    assert list(one) == BINARY_KEYS
    assert one["all_class_ids"].dtype == np.int32 and one["all_class_ids"].tolist() == [0, 1]
    assert one["class_ids"].dtype == np.int64 and one["class_ids"].shape == (1,)


def test_binary_label_vocabulary_classes(tmp_path):
    m = _trained("vocab", str(tmp_path / "m"))
    p = _batch_predictions(m, X[:4])
    assert p["all_classes"].tolist() == [[b"neg", b"pos"]] * 4
    assert p["classes"].ravel().tolist() == [b"pos" if c else b"neg"
                                             for c in p["class_ids"].ravel()]


def test_binary_probabilities_are_the_softmax_of_zero_and_the_logit():
    # probabilities = softmax(concat([zeros_like(logits), logits])): the tail probability
    # survives in float32 (1 - sigmoid(30) would be 0); a logit of 0 is class 0 (argmax tie)
    head = BinaryClassHead()
    p = head.predictions(ef.constant(np.array([[-30.0], [30.0], [0.0]], np.float32)))
    prob = _np(p["probabilities"])
    tail = 1.0 / (1.0 + math.exp(30.0))
    np.testing.assert_allclose(prob[0], [1.0, tail], rtol=1e-5)
    np.testing.assert_allclose(prob[1], [tail, 1.0], rtol=1e-5)
    np.testing.assert_allclose(prob[2], [0.5, 0.5])
    assert _np(p["class_ids"]).ravel().tolist() == [0, 1, 0]


def test_multiclass_predict_keys_dtypes_and_vocabulary(tmp_path):
    m = _trained("multi", str(tmp_path / "m"))
    p = _batch_predictions(m, X[:2])
    assert list(p) == ["logits", "probabilities", "class_ids", "classes", "all_class_ids",
                       "all_classes"]
    assert p["class_ids"].dtype == np.int64 and p["class_ids"].shape == (2, 1)
    assert p["all_class_ids"].dtype == np.int32 and p["all_class_ids"].tolist() == \
        [[0, 1, 2]] * 2
    assert p["all_classes"].tolist() == [[b"0", b"1", b"2"]] * 2
    head = MultiClassHead(3, label_vocabulary=("x", "y", "z"))
    pv = head.predictions(ef.constant(np.array([[0.0, 5.0, 1.0]], np.float32)))
    assert _np(pv["classes"]).tolist() == [[b"y"]]
    assert _np(pv["all_classes"]).tolist() == [[b"x", b"y", b"z"]]


def test_regression_predictions_and_inverse_link():
    head = RegressionHead()
    logits = ef.constant(np.array([[45.0], [41.0]], np.float32))
    assert list(head.predictions(logits)) == ["predictions"]
    head = RegressionHead(inverse_link_fn=ef.exp)
    p = head.predictions(ef.constant(np.array([[0.0], [1.0]], np.float32)))
    assert list(p) == ["predictions", "logits"]
    np.testing.assert_allclose(_np(p["predictions"]).ravel(), [1.0, math.e], rtol=1e-6)


def test_prediction_keys_select_and_validate():
    head = BinaryClassHead()
    p = head.predictions(ef.constant(np.array([[1.0]], np.float32)), keys=["logistic"])
    assert list(p) == ["logistic"]
    with pytest.raises(ValueError, match="Prediction key must be in PredictionKeys"):
        head.predictions(ef.constant(np.array([[1.0]], np.float32)), keys=["predictions"])


# ---------------------------------------------------------------- 2. export signatures

def test_heads_set_tfs_export_outputs():
    logits = ef.constant(np.array([[0.5], [-1.0]], np.float32))
    spec = BinaryClassHead().create_estimator_spec({}, est.ModeKeys.PREDICT, logits)
    eo = spec.export_outputs
    assert list(eo) == ["serving_default", "classification", "regression", "predict"]
    assert eo["serving_default"] is eo["classification"]
    cls = eo["classification"]
    assert isinstance(cls, est.ClassificationOutput)
    assert cls.scores is spec.predictions["probabilities"]
    assert _np(cls.classes).tolist() == [[b"0", b"1"]] * 2
    assert isinstance(eo["regression"], est.RegressionOutput)
    assert eo["regression"].value is spec.predictions["logistic"]
    assert isinstance(eo["predict"], est.PredictOutput)
    assert list(eo["predict"].outputs) == BINARY_KEYS
    multi = MultiClassHead(3).create_estimator_spec(
        {}, est.ModeKeys.PREDICT, ef.constant(np.zeros((2, 3), np.float32))).export_outputs
    assert list(multi) == ["serving_default", "classification", "predict"]
    reg = RegressionHead().create_estimator_spec({}, est.ModeKeys.PREDICT, logits)
    assert list(reg.export_outputs) == ["serving_default", "regression", "predict"]
    assert reg.export_outputs["regression"].value is reg.predictions["predictions"]


def test_binary_classifier_export_has_tfs_four_signatures(tmp_path):
    m = _trained("binary", str(tmp_path / "m"))
    loaded = _export(m, str(tmp_path / "e"))
    sigs = loaded.signatures
    assert set(sigs) == {"serving_default", "classification", "regression", "predict"}
    for key, method in (("serving_default", CLASSIFY), ("classification", CLASSIFY),
                        ("regression", REGRESS), ("predict", PREDICT)):
        assert sigs[key].method_name == method, key
    for key in ("serving_default", "classification", "regression"):
        assert set(sigs[key].inputs) == {"inputs"}
        assert sigs[key].inputs["inputs"].name == "input_example_tensor:0"
        assert sigs[key].inputs["inputs"].dtype == np.dtype(object)
    assert set(sigs["predict"].inputs) == {"examples"}
    assert sigs["predict"].inputs["examples"].name == "input_example_tensor:0"
    assert tuple(sigs["predict"].inputs["examples"].shape) == (None,)
    assert set(sigs["classification"].outputs) == {"classes", "scores"}
    assert set(sigs["regression"].outputs) == {"outputs"}
    assert set(sigs["predict"].outputs) == set(BINARY_KEYS)
    assert sigs["predict"].outputs["all_class_ids"].dtype == np.int32
    assert sigs["predict"].outputs["class_ids"].dtype == np.int64
    rows = X[:5]
    want = _batch_predictions(m, rows)
    reg = sigs["regression"](inputs=_examples(rows))
    np.testing.assert_allclose(reg["outputs"], want["logistic"], rtol=1e-5)
    cls = sigs["serving_default"](inputs=_examples(rows))
    assert np.asarray(cls["classes"]).tolist() == [[b"0", b"1"]] * 5
    np.testing.assert_allclose(cls["scores"], want["probabilities"], rtol=1e-5)
    pred = sigs["predict"](examples=_examples(rows))
    assert np.asarray(pred["all_class_ids"]).dtype == np.int32


@pytest.mark.parametrize("kind,keys", [
    ("multi", {"serving_default": CLASSIFY, "classification": CLASSIFY, "predict": PREDICT}),
    ("regressor", {"serving_default": REGRESS, "regression": REGRESS, "predict": PREDICT}),
])
def test_multiclass_and_regressor_signatures(tmp_path, kind, keys):
    loaded = _export(_trained(kind, str(tmp_path / "m")), str(tmp_path / "e"))
    assert {k: s.method_name for k, s in loaded.signatures.items()} == keys


def test_custom_model_fn_without_export_outputs_gets_one_predict_default(tmp_path):
    # export_utils.get_export_outputs: export_outputs=None -> {serving_default:
    # PredictOutput(predictions)}, whatever the prediction keys look like
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, zeros_initializer

    def model_fn(features, labels, mode):
        w = get_variable("w", [1, 1], initializer=zeros_initializer())
        logit = features["a"] @ w
        p = ef.sigmoid(logit)
        if mode == est.ModeKeys.PREDICT:
            return est.EstimatorSpec(mode, predictions={
                "probabilities": ef.concat([1.0 - p, p], axis=1), "classes": logit,
                "predictions": p})
        loss = ef.reduce_mean(ef.square(logit - labels))
        return est.EstimatorSpec(mode, loss=loss, train_op=GradientDescentOptimizer(0.1)
                                 .minimize(loss, global_step=get_global_step()))
    m = est.Estimator(model_fn, model_dir=str(tmp_path / "m"))
    m.train(lambda: iter([({"a": X}, X)] * 2), steps=2)
    loaded = _export(m, str(tmp_path / "e"))
    assert set(loaded.signatures) == {"serving_default"}
    sig = loaded.signatures["serving_default"]
    assert sig.method_name == PREDICT and set(sig.inputs) == {"examples"}
    assert set(sig.outputs) == {"probabilities", "classes", "predictions"}


def test_export_output_classes_validate_like_tf():
    f = ef.constant(np.zeros((2, 2), np.float32))
    s = ef.constant(np.array([[b"a", b"b"]] * 2, dtype=object))
    i = ef.constant(np.zeros((2, 1), np.int64))
    with pytest.raises(ValueError, match="Classification scores must be a float32 Tensor"):
        est.ClassificationOutput(scores=i)
    with pytest.raises(ValueError, match="Classification classes must be a string Tensor"):
        est.ClassificationOutput(classes=f)
    with pytest.raises(ValueError, match="At least one of scores and classes must be set"):
        est.ClassificationOutput()
    with pytest.raises(ValueError, match="Regression output value must be a float32"):
        est.RegressionOutput(i)
    with pytest.raises(ValueError, match="Prediction output value must be a Tensor"):
        est.PredictOutput({"x": 1.0})
    assert est.PredictOutput(f).outputs == {"output": f}
    c = est.ClassificationOutput(scores=f, classes=s)
    assert c.scores is f and c.classes is s
    assert isinstance(c, est.export.ExportOutput)


def test_raw_receiver_follows_build_raw_serving_input_receiver_fn(tmp_path):
    # _placeholder_from_tensor: shape [default_batch_size] + shape[1:], dtype kept, named
    # after the given tensor
    recv = est.build_raw_serving_input_receiver_fn(
        {"a": ef.TensorSpec([7, 1], ef.float32, name="a_in")})()
    spec = recv.receiver_tensors["a"]
    assert tuple(spec.shape) == (None, 1) and spec.dtype == np.float32 and spec.name == "a_in"
    recv = est.build_raw_serving_input_receiver_fn({"a": np.zeros((2, 3), np.int64)},
                                                   default_batch_size=4)()
    assert tuple(recv.receiver_tensors["a"].shape) == (4, 3)
    parsing = est.build_parsing_serving_input_receiver_fn(
        fc.make_parse_example_spec(COLS))()
    assert list(parsing.receiver_tensors) == ["examples"]
    assert parsing.receiver_tensors["examples"].name == "input_example_tensor"
    assert tuple(parsing.receiver_tensors["examples"].shape) == (None,)


def test_receiver_tensors_alternatives_add_named_signatures(tmp_path):
    # export_utils.build_all_signature_defs: each alternative input group gets every export
    # output as "<name>:<key>"; classify/regress need one string input (left out here)
    m = _trained("binary", str(tmp_path / "m"))
    spec = fc.make_parse_example_spec(COLS)
    base = est.build_parsing_serving_input_receiver_fn(spec)

    def recv():
        r = base()
        return est.ServingInputReceiver(
            r.features, r.receiver_tensors, sample_inputs=r.sample_inputs,
            receiver_tensors_alternatives={"raw": {"a": ef.TensorSpec([None, 1], ef.float32)}})
    loaded = saved_model.load(m.export_saved_model(str(tmp_path / "e"), recv).decode())
    assert set(loaded.signatures) == {"serving_default", "classification", "regression",
                                      "predict", "raw:predict"}
    got = loaded.signatures["raw:predict"](a=X[:3])
    want = _batch_predictions(m, X[:3])
    np.testing.assert_allclose(got["logistic"], want["logistic"], rtol=1e-5)


def test_tensor_serving_input_receiver_passes_one_tensor(tmp_path):
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, ones_initializer

    def model_fn(features, labels, mode):
        assert isinstance(features, ef.Tensor)  # not a dict
        w = get_variable("w", [2, 1], initializer=ones_initializer())
        y = features @ w
        if mode == est.ModeKeys.PREDICT:
            return est.EstimatorSpec(mode, predictions=y)
        loss = ef.reduce_mean(ef.square(y - labels))
        return est.EstimatorSpec(mode, loss=loss, train_op=GradientDescentOptimizer(1e-9)
                                 .minimize(loss, global_step=get_global_step()))
    m = est.Estimator(model_fn, model_dir=str(tmp_path / "m"))
    x = np.ones((4, 2), np.float32)
    m.train(lambda: iter([(x, x[:, :1])]), steps=1)
    spec = ef.TensorSpec([None, 2], ef.float32, name="x")
    loaded = saved_model.load(m.export_saved_model(
        str(tmp_path / "e"), lambda: est.export.TensorServingInputReceiver(spec, spec)).decode())
    sig = loaded.signatures["serving_default"]
    assert set(sig.inputs) == {"input"} and set(sig.outputs) == {"output"}
    np.testing.assert_allclose(sig(input=x)["output"], [[2.0]] * 4, rtol=1e-6)


def test_canned_classifier_served_like_tf_serving(tmp_path):
    """A TF Serving client: `:classify` (default signature), `:regress` on `regression`
    (the logistic), `:predict` on `predict`, and the metadata dtypes of TF's export."""
    from eagerflow.serving import Loader
    from tests.serving.helpers import Rest, make_server, single
    m = _trained("binary", str(tmp_path / "m"))
    m.export_saved_model(str(tmp_path / "export"), est.build_parsing_serving_input_receiver_fn(
        fc.make_parse_example_spec(COLS)))
    srv = make_server(single("lin", tmp_path / "export"), loader=Loader()).start(10)
    rest = Rest(srv.rest_port)
    try:
        values = [-2.0, 0.5, 3.0]
        want = _batch_predictions(m, np.array(values, np.float32)[:, None])
        status, body = rest.post("/v1/models/lin:regress", {
            "signature_name": "regression", "examples": [{"a": v} for v in values]})
        assert status == 200, body
        np.testing.assert_allclose(body["results"], want["logistic"].ravel(), rtol=1e-5)
        status, body = rest.post("/v1/models/lin:classify", {
            "examples": [{"a": v} for v in values]})
        assert status == 200, body
        assert [[c for c, _ in r] for r in body["results"]] == [["0", "1"]] * 3
        status, body = rest.get("/v1/models/lin/metadata")
        sigs = body["metadata"]["signature_def"]["signature_def"]
        assert set(sigs) == {"serving_default", "classification", "regression", "predict"}
        outs = sigs["predict"]["outputs"]
        assert outs["all_class_ids"]["dtype"] == "DT_INT32"
        assert outs["class_ids"]["dtype"] == "DT_INT64"
        assert outs["classes"]["dtype"] == "DT_STRING"
        assert outs["probabilities"]["dtype"] == "DT_FLOAT"
        assert sigs["regression"]["method_name"] == REGRESS
        assert sigs["regression"]["inputs"]["inputs"]["name"] == "input_example_tensor:0"
    finally:
        rest.close()
        srv.stop()


# ---------------------------------------------------------------- 3. metrics and losses

def _eval(head, features, logits, labels, **kw):
    # metric state lives in the default store: a fresh one per evaluation (as an Estimator)
    with VariableStore().as_default():
        spec = head.create_estimator_spec(features, est.ModeKeys.EVAL,
                                          ef.constant(np.asarray(logits, np.float32)),
                                          labels=labels, **kw)
        out = {}
        for k, (value, _) in spec.eval_metric_ops.items():
            out[k] = float(value()) if callable(value) and not isinstance(value, ef.Tensor) \
                else float(_np(value))
        return out, float(_np(spec.loss))


def test_head_loss_takes_a_single_feature_tensor():
    # a model_fn with one feature Tensor (TensorServingInputReceiver's features): the head
    # never takes bool() of it (an error for several elements, a host read for one)
    logits = np.array([[45.0], [-41.0]], np.float32)
    labels = np.array([[1], [1]], np.int32)
    for features in (ef.constant([[1.0], [2.0]]), ef.constant([[1.0]])):
        loss = BinaryClassHead().loss(labels, logits, features=features)
        assert float(_np(loss)) == pytest.approx(20.5)


def test_tf_docstring_examples_loss_and_metrics():
    """The `Usage` examples of binary_class_head.py, multi_class_head.py and
    regression_head.py: head.loss(), head.metrics()/update_metrics(), predictions()."""
    f = {"x": np.array([[42.0]], np.float32)}
    head = BinaryClassHead()
    logits = np.array([[45.0], [-41.0]], np.float32)
    labels = np.array([[1], [1]], np.int32)
    assert float(_np(head.loss(labels, logits, features=f))) == pytest.approx(20.5)
    m = head.update_metrics(head.metrics(), f, logits, labels)
    got = {k: round(float(_np(v.result())), 2) for k, v in m.items()}
    assert got == {"accuracy": 0.5, "accuracy_baseline": 1.0, "auc": 0.0,
                   "auc_precision_recall": 1.0, "average_loss": 20.5, "label/mean": 1.0,
                   "precision": 1.0, "prediction/mean": 0.5, "recall": 0.5}
    # the same through an EVAL EstimatorSpec
    ev, loss = _eval(head, f, logits, labels)
    assert {k: round(v, 2) for k, v in ev.items()} == got and loss == pytest.approx(20.5)
    head = MultiClassHead(3)
    logits = np.array([[10, 0, 0], [0, 10, 0]], np.float32)
    labels = np.array([[1], [1]], np.int64)
    assert float(_np(head.loss(labels, logits, features=f))) == pytest.approx(5.0, abs=1e-3)
    m = head.update_metrics(head.metrics(), f, logits, labels)
    assert {k: round(float(_np(v.result())), 2) for k, v in m.items()} == \
        {"accuracy": 0.5, "average_loss": 5.0}
    head = RegressionHead()
    logits = np.array([[45.0], [41.0]], np.float32)
    labels = np.array([[43], [44]], np.int32)
    assert float(_np(head.loss(labels, logits, features=f))) == pytest.approx(6.5)
    m = head.update_metrics(head.metrics(), f, logits, labels)
    assert {k: round(float(_np(v.result())), 2) for k, v in m.items()} == \
        {"average_loss": 6.5, "label/mean": 43.5, "prediction/mean": 43.0}


def test_estimator_evaluate_metric_keys(tmp_path):
    m = _trained("binary", str(tmp_path / "b"))
    y = (X > 0).astype(np.int64)
    assert set(m.evaluate(lambda: iter([({"a": X}, y)]))) == {
        "accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss",
        "label/mean", "loss", "precision", "prediction/mean", "recall", "global_step"}
    m = _trained("multi", str(tmp_path / "m"))
    y = np.digitize(X, [-0.5, 0.5]).astype(np.int64)
    assert set(m.evaluate(lambda: iter([({"a": X}, y)]))) == {
        "accuracy", "average_loss", "loss", "global_step"}
    m = _trained("regressor", str(tmp_path / "r"))
    assert set(m.evaluate(lambda: iter([({"a": X}, X * 2.0)]))) == {
        "average_loss", "label/mean", "prediction/mean", "loss", "global_step"}


def test_loss_reductions():
    # losses_utils.compute_weighted_loss: SUM_OVER_BATCH_SIZE (and AUTO) = weighted sum /
    # number of loss elements; SUM = weighted sum; TF1 losses.Reduction MEAN = weighted sum /
    # sum of weights, SUM_BY_NONZERO_WEIGHTS = weighted sum / number of non-zero weights.
    # average_loss (Keras Mean with sample_weight) is the weighted mean whatever the reduction
    logits = np.array([[1.0], [2.0], [4.0]], np.float32)
    labels = np.array([[0.0], [0.0], [0.0]], np.float32)
    f = {"w": np.array([[2.0], [0.0], [2.0]], np.float32)}
    weighted_sum = 2 * 1 + 0 * 4 + 2 * 16

    def loss(reduction):
        return _eval(RegressionHead(weight_column="w", loss_reduction=reduction), f, logits,
                     labels)
    for r in ("sum_over_batch_size", "auto", ef.losses.Reduction.SUM_OVER_BATCH_SIZE):
        assert loss(r)[1] == pytest.approx(weighted_sum / 3)
    for r in ("sum", ef.losses.Reduction.SUM):
        assert loss(r)[1] == pytest.approx(weighted_sum)
    assert loss(ef.losses.Reduction.MEAN)[1] == pytest.approx(weighted_sum / 4.0)
    assert loss(ef.losses.Reduction.SUM_BY_NONZERO_WEIGHTS)[1] == pytest.approx(
        weighted_sum / 2)
    assert loss("sum")[0]["average_loss"] == pytest.approx(weighted_sum / 4.0)
    with pytest.raises(ValueError, match="Invalid loss_reduction"):
        RegressionHead(loss_reduction="none")


def test_binary_threshold_accuracy_counts_logistic_above_threshold():
    # Keras BinaryAccuracy(threshold=t): y_pred > t is positive; a logistic of exactly 0.5
    # (logit 0) is negative at t = 0.5
    head = BinaryClassHead(thresholds=[0.5])
    m, _ = _eval(head, {}, [[0.0], [3.0]], np.array([[1], [1]]))
    assert m["accuracy/positive_threshold_0.5"] == pytest.approx(0.5)
    assert m["precision/positive_threshold_0.5"] == pytest.approx(1.0)
    assert m["recall/positive_threshold_0.5"] == pytest.approx(0.5)


def test_head_name_suffixes_metric_keys_and_regularization_loss():
    head = BinaryClassHead(name="ctr")
    m, loss = _eval(head, {}, [[0.0], [1.0]], np.array([[1], [0]]))
    assert "auc/ctr" in m and "average_loss/ctr" in m and "auc" not in m
    reg = [ef.constant(np.float32(0.5)), ef.constant(np.float32(0.25))]
    m, loss = _eval(RegressionHead(), {}, [[1.0], [3.0]], np.array([[0.0], [0.0]], np.float32),
                    regularization_losses=reg)
    # the training loss adds add_n(regularization_losses); average_loss does not
    assert loss == pytest.approx(5.0 + 0.75)
    assert m["regularization_loss"] == pytest.approx(0.75)
    assert m["average_loss"] == pytest.approx(5.0)


def test_head_constructor_arguments_follow_tf():
    # BinaryClassHead(weight_column, thresholds, label_vocabulary, loss_reduction, loss_fn,
    # name); label_vocabulary must be a list or tuple
    head = BinaryClassHead(None, [0.3])
    assert head.thresholds == (0.3,) and head.label_vocabulary is None
    with pytest.raises(ValueError, match="label_vocabulary should be a list or a tuple"):
        BinaryClassHead(label_vocabulary={"a", "b"})
    with pytest.raises(ValueError, match='"label_vocabulary" does not have "n_classes"'):
        MultiClassHead(3, label_vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="n_classes must be > 2"):
        MultiClassHead(2)
    with pytest.raises(ValueError, match="loss_fn must contain argument: logits"):
        RegressionHead(loss_fn=lambda labels, preds: labels)


def test_label_dtypes_checked_like_tf():
    logits = ef.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="Labels dtype should be integer"):
        MultiClassHead(3).loss(np.array([[0.0], [1.0]], np.float32), logits)
    with pytest.raises(ValueError, match="Labels dtype should be string if there is a "
                                         "vocabulary"):
        MultiClassHead(3, label_vocabulary=["a", "b", "c"]).loss(
            np.array([[0], [1]], np.int64), logits)
    head = MultiClassHead(3, label_vocabulary=["a", "b", "c"])
    assert float(_np(head.loss(np.array([["b"], ["c"]]), logits))) == pytest.approx(
        math.log(3.0), rel=1e-5)


def test_custom_loss_fn_is_reduced_by_the_head():
    def loss_fn(labels, logits, features):
        return ef.abs(logits - labels) * features["s"]
    head = RegressionHead(loss_fn=loss_fn)
    loss = head.loss(np.array([[1.0], [1.0]], np.float32),
                     ef.constant(np.array([[3.0], [0.0]], np.float32)),
                     features={"s": ef.constant(np.array([[1.0], [2.0]], np.float32))})
    assert float(_np(loss)) == pytest.approx((2.0 + 2.0) / 2)


def test_create_estimator_spec_with_an_optimizer_trains(tmp_path):
    from eagerflow.layers import dense

    def model_fn(features, labels, mode):
        logits = dense(features["a"], 1, name="logits")
        return BinaryClassHead().create_estimator_spec(
            features=features, mode=mode, logits=logits, labels=labels,
            optimizer=ef.train.GradientDescentOptimizer(0.5))
    m = est.Estimator(model_fn, model_dir=str(tmp_path / "m"))
    y = (X > 0).astype(np.int64)
    m.train(lambda: iter([({"a": X}, y)] * 20), steps=20)
    res = m.evaluate(lambda: iter([({"a": X}, y)]))
    assert res["global_step"] == 20 and res["accuracy"] > 0.9
    with pytest.raises(ValueError, match="train_op_fn and optimizer cannot both be None"):
        BinaryClassHead().create_estimator_spec(
            {}, est.ModeKeys.TRAIN, ef.constant(np.zeros((1, 1), np.float32)),
            labels=np.ones((1, 1), np.int64))
