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
    sig = loaded.signatures["serving_default"]
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
