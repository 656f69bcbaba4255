"""TF1's SavedModelBuilder, signature_def_utils and constants, eagerly."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import saved_model
from eagerflow.saved_model import builder, signature_constants, signature_def_utils, tag_constants


def _seed_export(path):
    """The seed's SavedModelBuilder snippet: inputs {'image'}, outputs {'prediction'}, tags
    ['serve'], a 'predict' and the default signature."""
    w = ef.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="final_layer/w")
    signature = signature_def_utils.predict_signature_def(
        inputs={"image": ef.TensorSpec([None, 3], ef.float32, name="image")},
        outputs={"prediction": lambda image: ef.nn.softmax(image @ w)})
    b = builder.SavedModelBuilder(path)
    b.add_meta_graph_and_variables(
        sess=None, tags=[tag_constants.SERVING],
        signature_def_map={"predict": signature,
                           signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature})
    return b.save(), w


def test_seed_snippet_exports_and_serves(tmp_path):
    path, w = _seed_export(str(tmp_path / "1"))
    m = saved_model.load(path)
    assert set(m.signatures) == {"predict", "serving_default"}
    sig = m.signatures["serving_default"]
    assert sig.method_name == signature_constants.PREDICT_METHOD_NAME
    assert sig.inputs["image"].name == "image:0" and sig.inputs["image"].shape == (None, 3)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    logits = x @ np.arange(6, dtype=np.float32).reshape(3, 2)
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(sig(image=x)["prediction"], want, rtol=1e-5)


def test_classification_and_regression_signatures(tmp_path):
    from eagerflow.io import FixedLenFeature
    from eagerflow.saved_model import parse_example_op
    spec = {"x": FixedLenFeature([1], ef.float32, 0.0)}
    ex = ef.TensorSpec([None], ef.string, name="tf_example")
    cls = signature_def_utils.classification_signature_def(
        ex, classes=None, scores=lambda inputs: parse_example_op(inputs, spec)["x"] * 2.0)
    reg = signature_def_utils.regression_signature_def(
        ex, predictions=lambda inputs: parse_example_op(inputs, spec)["x"] + 1.0)
    b = builder.SavedModelBuilder(str(tmp_path / "2"))
    b.add_meta_graph_and_variables(None, ["serve"], signature_def_map={"classify": cls,
                                                                       "regress": reg})
    m = saved_model.load(b.save())
    assert m.signatures["classify"].method_name == "tensorflow/serving/classify"
    assert set(m.signatures["regress"].outputs) == {"outputs"}
    empty = np.array([b""], dtype=object)
    assert m.signatures["regress"](inputs=empty)["outputs"].ravel().tolist() == [1.0]


def test_builder_errors(tmp_path):
    path, _ = _seed_export(str(tmp_path / "3"))
    with pytest.raises(FileExistsError, match="isn't empty"):
        builder.SavedModelBuilder(path)
    b = builder.SavedModelBuilder(str(tmp_path / "4"))
    with pytest.raises(AssertionError, match="add_meta_graph_and_variables"):
        b.save()
    v = ef.Variable([1.0], name="v")
    bad = signature_def_utils.predict_signature_def(
        inputs={"x": ef.TensorSpec([None, 1], ef.float32)}, outputs={"y": lambda x: v * 2.0})
    with pytest.raises(saved_model.TraceError, match="not computed from the signature's inputs"):
        b.add_meta_graph_and_variables(None, ["serve"], signature_def_map={"p": bad})
    with pytest.raises(TypeError, match="TensorSpec"):
        signature_def_utils.predict_signature_def(inputs={"x": np.ones(2)}, outputs={"y": abs})
    with pytest.raises(ValueError, match="cannot both be None"):
        signature_def_utils.classification_signature_def(ef.TensorSpec([None], ef.string),
                                                         None, None)


def test_tf1_top_level_spellings_simple_save_and_loader(tmp_path):
    assert saved_model.SERVING == "serve" and saved_model.Builder is builder.SavedModelBuilder
    assert saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY == "serving_default"
    assert saved_model.CLASSIFY_METHOD_NAME == "tensorflow/serving/classify"
    w = ef.Variable([[3.0]], name="w_simple")
    path = str(tmp_path / "7")
    assert not saved_model.contains_saved_model(path)
    saved_model.simple_save(None, path, inputs={"x": ef.TensorSpec([None, 1], ef.float32)},
                            outputs={"y": lambda x: x @ w + 1.0})
    assert saved_model.contains_saved_model(path)
    m = saved_model.loader.load(None, [saved_model.SERVING], path)
    sig = m.signatures["serving_default"]
    assert set(m.signatures) == {"serving_default"} and sig.method_name == \
        saved_model.PREDICT_METHOD_NAME
    assert sig(x=np.array([[1.0], [2.0]], np.float32))["y"].ravel().tolist() == [4.0, 7.0]
    with pytest.raises(FileExistsError):
        saved_model.simple_save(None, path, inputs={"x": ef.TensorSpec([None, 1], ef.float32)},
                                outputs={"y": lambda x: x})
