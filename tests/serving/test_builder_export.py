"""The seed's SavedModelBuilder snippet, exported eagerly and served over REST with the
seed's request shape (issue 12)."""
import numpy as np

import eagerflow as ef
from eagerflow.saved_model import builder, signature_constants, signature_def_utils
from eagerflow.serving import Loader

from .helpers import Rest, make_server, single


def test_saved_model_builder_export_is_served(tmp_path):
    w = ef.Variable(np.array([[1.0, -1.0], [0.5, 0.5], [0.0, 2.0]], np.float32), name="w")
    signature = signature_def_utils.predict_signature_def(
        inputs={"image": ef.TensorSpec([None, 3], ef.float32, name="image")},
        outputs={"prediction": lambda image: ef.nn.softmax(image @ w)})
    base = tmp_path / "classifier"
    b = builder.SavedModelBuilder(str(base / "1"))
    b.add_meta_graph_and_variables(sess=None, tags=["serve"], signature_def_map={
        "predict": signature,
        signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature})
    b.save()
    srv = make_server(single("classifier", base), loader=Loader()).start(10)
    rest = Rest(srv.rest_port)
    try:
        images = [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]
        status, body = rest.post("/v1/models/classifier:predict", {"instances": images})
        assert status == 200
        logits = np.array(images, np.float32) @ w.numpy()
        want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        np.testing.assert_allclose(np.array(body["predictions"]), want, rtol=1e-5)
        status, body = rest.post("/v1/models/classifier:predict",
                                 {"signature_name": "predict", "inputs": {"image": images}})
        assert status == 200 and np.array(body["outputs"]).shape == (2, 2)
    finally:
        rest.close()
        srv.stop()
