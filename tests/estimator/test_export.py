"""Estimator.export_saved_model: parsing and raw receivers, parity with predict()."""
import os

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import estimator as est
from eagerflow import saved_model
from eagerflow.io import Example, Feature, Features, FloatList

R = np.random.default_rng(3)
X = R.standard_normal((256, 2)).astype(np.float32)
Y = (X[:, :1] + X[:, 1:] > 0).astype(np.int64)


def _train(tmp_path):
    cols = [fc.numeric_column("a"), fc.numeric_column("b")]
    m = est.DNNClassifier([8], cols, model_dir=str(tmp_path / "model"),
                          config=est.RunConfig(save_checkpoints_steps=50,
                                               log_step_count_steps=None))
    m.train(lambda: iter([({"a": X[:, :1], "b": X[:, 1:]}, Y)] * 40), steps=40)
    return m, cols


def _examples(rows):
    return np.array([Example(features=Features(feature={
        "a": Feature(float_list=FloatList(value=[float(r[0])])),
        "b": Feature(float_list=FloatList(value=[float(r[1])]))})).SerializeToString()
        for r in rows], dtype=object)


def test_parsing_receiver_export_matches_predict(tmp_path):
    m, cols = _train(tmp_path)
    spec = fc.make_parse_example_spec(cols)
    path = m.export_saved_model(str(tmp_path / "export"),
                                est.build_parsing_serving_input_receiver_fn(spec))
    assert isinstance(path, bytes) and int(os.path.basename(path.decode())) > 0
    loaded = saved_model.load(path.decode())
    assert {"serving_default", "predict", "classification"} <= set(loaded.signatures)
    # as TF's canned heads: classify is the default signature, predict keeps every output
    default = loaded.signatures["serving_default"]
    assert default.method_name == "tensorflow/serving/classify"
    assert set(default.inputs) == {"inputs"} and set(default.outputs) == {"scores", "classes"}
    sig = loaded.signatures["predict"]
    assert sig.method_name == "tensorflow/serving/predict"
    assert sig.inputs["examples"].name == "input_example_tensor:0"
    for n in (1, 5, 33):
        rows = X[:n]
        got = sig(examples=_examples(rows))
        want = list(m.predict(lambda: ({"a": rows[:, :1], "b": rows[:, 1:]},),
                              yield_single_examples=False))[0]
        np.testing.assert_allclose(got["probabilities"], want["probabilities"], rtol=1e-5)
        assert got["classes"].tolist() == want["classes"].tolist()
        assert got["all_classes"].shape == (n, 2)
    cls = loaded.signatures["classification"]
    assert cls.method_name == "tensorflow/serving/classify"
    out = cls(inputs=_examples(X[:3]))
    assert set(out) == {"scores", "classes"} and out["scores"].shape == (3, 2)


def test_raw_receiver_and_errors(tmp_path):
    m, cols = _train(tmp_path)
    recv = est.build_raw_serving_input_receiver_fn({"a": ef.TensorSpec([None, 1], ef.float32),
                                                    "b": ef.TensorSpec([None, 1], ef.float32)})
    path = m.export_saved_model(str(tmp_path / "raw"), recv).decode()
    sig = saved_model.load(path).signatures["serving_default"]
    got = sig(a=X[:4, :1], b=X[:4, 1:])
    want = list(m.predict(lambda: ({"a": X[:4, :1], "b": X[:4, 1:]},),
                          yield_single_examples=False))[0]
    np.testing.assert_allclose(got["logits"], want["logits"], rtol=1e-5)
    fresh = est.DNNClassifier([8], cols, model_dir=str(tmp_path / "untrained"))
    with pytest.raises(ValueError, match="Couldn't find trained model"):
        fresh.export_saved_model(str(tmp_path / "x"), recv)
    with pytest.raises(TypeError, match="ServingInputReceiver"):
        m.export_saved_model(str(tmp_path / "x"), lambda: {"a": 1})
    # an eager export serves predictions: TRAIN/EVAL graphs (TF1 sessions) are refused,
    # PREDICT (TF's default) is the export above
    with pytest.raises(NotImplementedError, match="experimental_mode 'train'"):
        m.export_saved_model(str(tmp_path / "x"), recv, experimental_mode=est.ModeKeys.TRAIN)
    assert not os.path.exists(tmp_path / "x")
    p2 = m.export_saved_model(str(tmp_path / "p"), recv, experimental_mode=est.ModeKeys.PREDICT)
    assert "serving_default" in saved_model.load(p2.decode()).signatures


def test_wide_and_deep_with_every_column_kind_exports(tmp_path):
    from eagerflow.io import BytesList, Int64List
    rng = np.random.default_rng(5)
    n = 128
    words = np.array([f"w{i}" for i in rng.integers(0, 6, n)], dtype=object)
    color = np.array(["red", "green", "blue", "pink"], dtype=object)[rng.integers(0, 4, n)]
    ident = rng.integers(0, 5, n)
    age = rng.uniform(0, 90, n).astype(np.float32)
    y = ((age > 40) ^ (ident % 2 == 0)).astype(np.int64)[:, None]
    h = fc.categorical_column_with_hash_bucket("word", 20)
    v = fc.categorical_column_with_vocabulary_list("color", ["red", "green", "blue"],
                                                   num_oov_buckets=1)
    i = fc.categorical_column_with_identity("ident", 5)
    b = fc.bucketized_column(fc.numeric_column("age"), [18.0, 40.0, 65.0])
    wide = [h, v, i, b, fc.crossed_column(["word", v], 50), fc.crossed_column([b, i], 30)]
    deep = [fc.numeric_column("age"), fc.embedding_column(h, 3), fc.indicator_column(v),
            fc.embedding_column(i, 2, combiner="sqrtn")]
    feats = {"word": words[:, None], "color": color[:, None], "ident": ident[:, None],
             "age": age[:, None]}
    m = est.DNNLinearCombinedClassifier(linear_feature_columns=wide, dnn_feature_columns=deep,
                                        dnn_hidden_units=[8], model_dir=str(tmp_path / "m"))
    m.train(lambda: iter([(feats, y)] * 20), steps=20)

    def example(k):
        return Example(features=Features(feature={
            "word": Feature(bytes_list=BytesList(value=[words[k].encode()])),
            "color": Feature(bytes_list=BytesList(value=[color[k].encode()])),
            "ident": Feature(int64_list=Int64List(value=[int(ident[k])])),
            "age": Feature(float_list=FloatList(value=[float(age[k])]))})).SerializeToString()
    spec = fc.make_parse_example_spec(wide + deep)
    path = m.export_saved_model(str(tmp_path / "e"),
                                est.build_parsing_serving_input_receiver_fn(spec)).decode()
    sig = saved_model.load(path).signatures["predict"]
    for size in (1, 7):
        serialized = np.array([example(k) for k in range(size)], dtype=object)
        got = sig(examples=serialized)
        parsed = ef.io.parse_example(serialized, spec)  # the same (sparse) inputs, eagerly
        want = list(m.predict(lambda: (parsed,), yield_single_examples=False))[0]
        np.testing.assert_allclose(got["logistic"], want["logistic"], rtol=1e-5,
                                   atol=1e-6)


def _canned(name, model_dir):
    """Every canned estimator on one numeric and one hashed categorical feature."""
    num = fc.numeric_column("a")
    cat = fc.categorical_column_with_hash_bucket("c", 11)
    emb = fc.embedding_column(cat, 3)
    cfg = est.RunConfig(log_step_count_steps=None)
    kw = dict(model_dir=model_dir, config=cfg)
    make = {
        "LinearClassifier": lambda: est.LinearClassifier([num, cat], **kw),
        "LinearRegressor": lambda: est.LinearRegressor([num, cat], **kw),
        "DNNClassifier": lambda: est.DNNClassifier([4], [num, emb], **kw),
        "DNNRegressor": lambda: est.DNNRegressor([4], [num, emb], **kw),
        "DNNLinearCombinedClassifier": lambda: est.DNNLinearCombinedClassifier(
            linear_feature_columns=[cat], dnn_feature_columns=[num, emb],
            dnn_hidden_units=[4], **kw),
        "DNNLinearCombinedRegressor": lambda: est.DNNLinearCombinedRegressor(
            linear_feature_columns=[cat], dnn_feature_columns=[num, emb],
            dnn_hidden_units=[4], **kw),
        "DeepFMClassifier": lambda: est.DeepFMClassifier([emb], hidden_units=[4],
                                                         dense_columns=[num], **kw),
        "DCNClassifier": lambda: est.DCNClassifier([num, emb], num_cross_layers=2,
                                                   hidden_units=[4], **kw),
    }[name]
    return make(), [num, cat]


CANNED = ["LinearClassifier", "LinearRegressor", "DNNClassifier", "DNNRegressor",
          "DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor", "DeepFMClassifier",
          "DCNClassifier"]


@pytest.mark.parametrize("name", CANNED)
def test_every_canned_estimator_export_load_parity(tmp_path, name):
    from eagerflow.io import BytesList
    rng = np.random.default_rng(11)
    n = 64
    a = rng.standard_normal((n, 1)).astype(np.float32)
    c = np.array([f"v{k}" for k in rng.integers(0, 7, n)], dtype=object)[:, None]
    y = (a[:, 0] > 0).astype(np.int64)[:, None]
    if "Regressor" in name:
        y = a * 2.0 + 1.0
    m, raw_cols = _canned(name, str(tmp_path / "m"))
    m.train(lambda: iter([({"a": a, "c": c}, y)] * 5), steps=5)

    def serialized(k):
        return np.array([Example(features=Features(feature={
            "a": Feature(float_list=FloatList(value=[float(a[i, 0])])),
            "c": Feature(bytes_list=BytesList(value=[c[i, 0].encode()]))})).SerializeToString()
            for i in range(k)], dtype=object)

    spec = fc.make_parse_example_spec(raw_cols)
    parsing = saved_model.load(m.export_saved_model(
        str(tmp_path / "p"), est.build_parsing_serving_input_receiver_fn(spec)).decode())
    raw = saved_model.load(m.export_saved_model(
        str(tmp_path / "r"), est.build_raw_serving_input_receiver_fn(
            {"a": ef.TensorSpec([None, 1], ef.float32),
             "c": ef.TensorSpec([None, 1], ef.string)})).decode())
    head_sig = "regression" if "Regressor" in name else "classification"
    assert {"serving_default", "predict", head_sig} <= set(parsing.signatures)
    key = "predictions" if "Regressor" in name else "probabilities"
    for k in (1, 5):
        want = list(m.predict(lambda: ({"a": a[:k], "c": c[:k]},),
                              yield_single_examples=False))[0]
        got_p = parsing.signatures["predict"](examples=serialized(k))
        got_r = raw.signatures["serving_default"](a=a[:k], c=c[:k])
        for got in (got_p, got_r):
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)
            assert got[key].shape[0] == k


def _eo_model_fn(export_outputs):
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, zeros_initializer

    def model_fn(features, labels, mode):
        w = get_variable("w", [1, 1], initializer=zeros_initializer())
        logit = features["a"] @ w + 0.25
        prob = ef.sigmoid(logit)
        if mode == est.ModeKeys.PREDICT:
            both = ef.concat([1.0 - prob, prob], axis=1)
            classes = ef.constant(np.array([[b"no", b"yes"]], dtype=object))
            return est.EstimatorSpec(mode, predictions={"prob": prob, "logit": logit},
                                     export_outputs=export_outputs(prob, logit, both, classes))
        loss = ef.reduce_mean(ef.square(logit - labels))
        return est.EstimatorSpec(mode, loss=loss, train_op=GradientDescentOptimizer(0.1)
                                 .minimize(loss, global_step=get_global_step()))
    return model_fn


def _eo_export(tmp_path, export_outputs, receiver="parsing"):
    m = est.Estimator(_eo_model_fn(export_outputs), model_dir=str(tmp_path / "m"))
    m.train(lambda: iter([({"a": X[:, :1]}, X[:, 1:])] * 3), steps=3)
    spec = {"a": ef.io.FixedLenFeature([1], ef.float32)}
    fn = est.build_parsing_serving_input_receiver_fn(spec) if receiver == "parsing" else \
        est.build_raw_serving_input_receiver_fn({"a": ef.TensorSpec([None, 1], ef.float32)})
    path = m.export_saved_model(str(tmp_path / receiver), fn).decode()
    want = list(m.predict(lambda: ({"a": X[:4, :1]},), yield_single_examples=False))[0]
    return saved_model.load(path), want


def test_export_outputs_of_a_custom_model_fn_become_the_signatures(tmp_path):
    def outputs(prob, logit, both, classes):
        return {"serving_default": est.PredictOutput({"p": prob}),
                "cls": est.ClassificationOutput(scores=both, classes=classes),
                "reg": est.RegressionOutput(logit)}
    loaded, want = _eo_export(tmp_path, outputs)
    sigs = loaded.signatures
    assert set(sigs) == {"serving_default", "cls", "reg"}
    assert sigs["serving_default"].method_name == "tensorflow/serving/predict"
    assert set(sigs["serving_default"].outputs) == {"p"}
    got = sigs["serving_default"](examples=_examples(X[:4]))
    np.testing.assert_allclose(got["p"], want["prob"], rtol=1e-6)
    cls = sigs["cls"]
    assert cls.method_name == "tensorflow/serving/classify" and set(cls.inputs) == {"inputs"}
    out = cls(inputs=_examples(X[:4]))
    np.testing.assert_allclose(out["scores"][:, 1], want["prob"][:, 0], rtol=1e-6)
    assert sigs["reg"].method_name == "tensorflow/serving/regress"
    np.testing.assert_allclose(sigs["reg"](inputs=_examples(X[:4]))["outputs"],
                               want["logit"], rtol=1e-6)


def test_export_outputs_single_entry_is_default_and_errors(tmp_path):
    loaded, want = _eo_export(tmp_path, lambda p, lg, b, c: {"scores": est.PredictOutput(lg)},
                              receiver="raw")
    assert set(loaded.signatures) == {"scores", "serving_default"}
    got = loaded.signatures["serving_default"](a=X[:4, :1])
    np.testing.assert_allclose(got["output"], want["logit"], rtol=1e-6)
    # classify needs one string input: left out under a raw float receiver, as TF does
    loaded, _ = _eo_export(tmp_path / "r2", lambda p, lg, b, c: {
        "serving_default": est.PredictOutput({"p": p}), "reg": est.RegressionOutput(lg)},
        receiver="raw")
    assert set(loaded.signatures) == {"serving_default"}
    with pytest.raises(ValueError, match="none of them is specified as the default"):
        _eo_export(tmp_path / "r3", lambda p, lg, b, c: {"a": est.PredictOutput(p),
                                                          "b": est.PredictOutput(lg)})
    with pytest.raises(TypeError, match="must be a PredictOutput"):
        _eo_export(tmp_path / "r4", lambda p, lg, b, c: {"serving_default": p})
