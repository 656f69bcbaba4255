"""Export by tracing and the graph runtime: parity at several batch sizes, half_plus_two,
untraceable code, format errors, input validation."""
import json
import os

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import saved_model
from eagerflow.io import Example, Feature, Features, FloatList
from eagerflow.variables import VariableStore
from tests.gradcheck import to_numpy


def _example(**floats):
    return Example(features=Features(feature={
        k: Feature(float_list=FloatList(value=[v])) for k, v in floats.items()})).SerializeToString()


def test_half_plus_two_matches_tf_serving(tmp_path):
    path = saved_model.write_half_plus_two(str(tmp_path / "00000123"))
    m = saved_model.load(path)
    assert m.version == 123
    assert sorted(m.signatures) == ["classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y",
                                    "regress_x_to_y2", "serving_default"]
    sd = m.signatures["serving_default"]
    assert sd.method_name == "tensorflow/serving/predict"
    assert sd.inputs["x"].name == "x:0" and sd.inputs["x"].shape == (None, 1)
    assert sd.outputs["y"].name == "y:0" and sd.outputs["y"].dtype == np.float32
    y = sd(x=np.array([[1.0], [2.0], [5.0]], np.float32))["y"]
    assert y.ravel().tolist() == [2.5, 3.0, 4.5]
    ex = np.array([_example(x=80.0)], dtype=object)
    assert m.signatures["regress_x_to_y"](inputs=ex)["outputs"].ravel().tolist() == [42.0]
    assert m.signatures["regress_x_to_y2"](inputs=ex)["outputs"].ravel().tolist() == [43.0]
    assert m.signatures["regress_x_to_y"].inputs["inputs"].name == "tf_example:0"
    assert m.signatures["regress_x_to_y"].outputs["outputs"].name == "y:0"
    sc = m.signatures["classify_x_to_y"](inputs=np.array([_example(x=20.0)] * 3, dtype=object))
    assert sc["scores"].ravel().tolist() == [12.0, 12.0, 12.0]
    y3 = m.signatures["regress_x2_to_y3"](inputs=np.array([[4.0]], np.float32))["outputs"]
    assert y3.ravel().tolist() == [5.0]
    assert (tmp_path / "00000123" / "assets" / "foo.txt").read_text() == "asset-file-contents"
    with pytest.raises(Exception, match="x"):
        m.signatures["regress_x_to_y"](inputs=np.array([_example(x2=1.0)], dtype=object))


def _mlp_function():
    rng = np.random.default_rng(0)
    w1 = ef.Variable(rng.standard_normal((4, 8)).astype(np.float32), name="dense/kernel")
    b1 = ef.Variable(rng.standard_normal(8).astype(np.float32), name="dense/bias")
    w2 = ef.Variable(rng.standard_normal((8, 1)).astype(np.float32), name="logits/kernel")
    table = ef.Variable(rng.standard_normal((10, 3)).astype(np.float32), name="emb")

    @ef.function(input_signature=[ef.TensorSpec([None, 4], ef.float32, name="dense"),
                                  ef.TensorSpec([None, 2], ef.int64, name="ids")])
    def model(x, ids):
        e = ef.reshape(ef.gather(table, ids), (-1, 6))         # batch * 2 rows -> (batch, 6)
        flat = ef.reshape(ef.gather(table, ef.reshape(ids, (-1,))), (ids.shape[0], -1))
        h = ef.maximum(x @ w1 + b1, 0.0)
        logit = h @ w2 + ef.reduce_sum(e * flat, axis=1, keepdims=True)
        return {"logit": logit, "prob": ef.sigmoid(logit)}
    return model


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_export_parity_at_several_batch_sizes(tmp_path, batch):
    model = _mlp_function()
    path = saved_model.save(model, str(tmp_path / "1"))
    sig = saved_model.load(path).signatures["serving_default"]
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 4)).astype(np.float32)
    ids = rng.integers(0, 10, (batch, 2))
    want = model(ef.constant(x), ef.constant(ids))
    got = sig(dense=x, ids=ids)
    np.testing.assert_allclose(got["logit"], to_numpy(want["logit"]), rtol=1e-6)
    np.testing.assert_allclose(got["prob"], to_numpy(want["prob"]), rtol=1e-6)
    assert sig.outputs["prob"].shape == (None, 1)


def test_untraceable_host_code_is_a_clear_error(tmp_path):
    @ef.function(input_signature=[ef.TensorSpec([None, 2], ef.float32)])
    def leaky(x):
        host = x.numpy().sum(axis=1, keepdims=True)  # leaves the op graph
        return x * ef.constant(host)

    with pytest.raises(saved_model.TraceError, match="computed outside eagerflow ops"):
        saved_model.save(leaky, str(tmp_path / "1"))
    assert not (tmp_path / "1").exists()


def test_input_validation(tmp_path):
    sig = saved_model.load(saved_model.write_half_plus_two(str(tmp_path / "1"))) \
        .signatures["serving_default"]
    with pytest.raises(ValueError, match=r"takes inputs \['x'\]; missing \['x'\]"):
        sig(y=np.ones((1, 1)))
    # shapes are not enforced, as in TF Serving: half_plus_two is elementwise
    assert sig(x=np.array([1.0, 2.0, 5.0]))["y"].tolist() == [2.5, 3.0, 4.5]
    assert sig(x=np.ones((2, 3)))["y"].shape == (2, 3)
    two = saved_model.load(saved_model.save(_mlp_function(), str(tmp_path / "2")))
    with pytest.raises(ValueError, match="disagree on the batch size: 3 and 2"):
        two.signatures["serving_default"](dense=np.ones((3, 4), np.float32),
                                          ids=np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match="must be numeric"):
        sig(x=np.array([["a"]]))


def test_format_errors_and_completeness(tmp_path):
    path = saved_model.write_half_plus_two(str(tmp_path / "7"))
    assert saved_model.is_complete(path) and saved_model.estimate_memory(path) > 0
    assert not saved_model.is_complete(str(tmp_path / "missing"))
    half = tmp_path / "8"
    half.mkdir()
    (half / "variables").mkdir()
    assert not saved_model.is_complete(str(half))
    with pytest.raises(saved_model.ExportFormatError, match="no saved_model.json"):
        saved_model.load(str(half))
    doc = json.loads((tmp_path / "7" / "saved_model.json").read_text())
    doc["format_version"] = 99
    (tmp_path / "7" / "saved_model.json").write_text(json.dumps(doc))
    with pytest.raises(saved_model.ExportFormatError, match="newer than"):
        saved_model.load(path)
    doc["format_version"] = 1
    doc["signatures"]["serving_default"]["graph"]["nodes"][0]["op"] = "no_such_op"
    (tmp_path / "7" / "saved_model.json").write_text(json.dumps(doc))
    with pytest.raises(saved_model.ExportFormatError, match="no_such_op"):
        saved_model.load(path)
    with pytest.raises(FileExistsError, match="not empty"):
        saved_model.write_half_plus_two(path)
    with pytest.raises(FileNotFoundError):
        saved_model.load(str(tmp_path / "nope"))


def test_an_output_that_is_a_constant_is_exported(tmp_path):
    # an output computed by no op (a constant) used to be left out of the constants list
    @ef.function(input_signature=[ef.TensorSpec([None, 1], ef.float32, name="x")])
    def f(x):
        return {"y": x * 2.0, "labels": ef.constant([[1.0, 2.0]])}
    saved_model.save(f, str(tmp_path / "1"))
    got = saved_model.load(str(tmp_path / "1")).signatures["serving_default"](
        x=np.ones((3, 1), np.float32))
    assert got["labels"].tolist() == [[1.0, 2.0]] and got["y"].shape == (3, 1)

    @ef.function(input_signature=[ef.TensorSpec([None, 1], ef.float32, name="x")])
    def host(x):
        return {"n": ef.constant(np.zeros(int(x.shape[0])))}  # host code: not a graph
    with pytest.raises(saved_model.TraceError, match="an output differs between batch sizes"):
        saved_model.save(host, str(tmp_path / "2"))
