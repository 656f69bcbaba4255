"""A canned classifier's export answers TF Serving's `:classify` with no signature_name (its
default signature is the classify view, as TF's canned heads export it) and `:predict` on the
`predict` signature."""
import base64

import numpy as np

import eagerflow.feature_column as fc
from eagerflow import estimator as est
from eagerflow.io import Example, Feature, Features, FloatList

from eagerflow.serving import Loader

from .helpers import Rest, make_server, single


def _example(a):
    return Example(features=Features(feature={
        "a": Feature(float_list=FloatList(value=[float(a)]))})).SerializeToString()


def test_canned_classifier_default_signature_is_classify(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 1)).astype(np.float32)
    y = (x > 0).astype(np.int64)
    cols = [fc.numeric_column("a")]
    m = est.LinearClassifier(cols, model_dir=str(tmp_path / "model"),
                             config=est.RunConfig(log_step_count_steps=None))
    m.train(lambda: iter([({"a": x}, y)] * 20), steps=20)
    m.export_saved_model(str(tmp_path / "export"),
                         est.build_parsing_serving_input_receiver_fn(
                             fc.make_parse_example_spec(cols)))
    srv = make_server(single("lin", tmp_path / "export"), loader=Loader()).start(10)
    rest = Rest(srv.rest_port)
    try:
        values = [-2.0, 0.1, 3.0]
        status, body = rest.post("/v1/models/lin:classify", {"examples": [
            {"a": v} for v in values]})
        assert status == 200, body
        # TF Serving's classify answer: per example a list of [class label, score]
        labels = [[c for c, _ in r] for r in body["results"]]
        scores = np.array([[s for _, s in r] for r in body["results"]])
        assert labels == [["0", "1"]] * 3
        np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-5)
        assert scores[0, 1] < scores[1, 1] < scores[2, 1]  # learned: p(click) grows with a
        status, body = rest.post("/v1/models/lin:predict", {
            "signature_name": "predict",
            "instances": [{"b64": base64.b64encode(_example(v)).decode()} for v in values]})
        assert status == 200, body
        np.testing.assert_allclose([p["logistic"][0] for p in body["predictions"]],
                                   scores[:, 1], rtol=1e-5)
        status, body = rest.get("/v1/models/lin/metadata")
        sigs = body["metadata"]["signature_def"]["signature_def"]
        assert sigs["serving_default"]["method_name"] == "tensorflow/serving/classify"
        assert sigs["predict"]["method_name"] == "tensorflow/serving/predict"
    finally:
        rest.close()
        srv.stop()
