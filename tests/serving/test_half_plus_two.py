"""End to end against the real eagerflow half_plus_two export (REST and gRPC)."""
import grpc
import numpy as np
import pytest

from eagerflow import saved_model
from eagerflow.io import Example, Feature, Features, FloatList
from eagerflow.serving import Loader
from eagerflow.serving.protos import apis_pb2, tensor_pb2
from eagerflow.serving.tensor_codec import make_ndarray, make_tensor_proto

from .helpers import single, stubs

P = "/v1/models/half_plus_two"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from .helpers import Rest, make_server
    base = tmp_path_factory.mktemp("models") / "half_plus_two"
    saved_model.write_half_plus_two(str(base / "00000123"))
    (base / "00000124.tmp").mkdir()  # a half-written export beside it is ignored
    srv = make_server(single("half_plus_two", base), loader=Loader()).start(10)
    rest = Rest(srv.rest_port)
    channel, pred, model = stubs(srv.grpc_port)
    yield srv, rest, pred, model
    channel.close()
    rest.close()
    srv.stop()


def _ex(**feats):
    return Example(features=Features(feature={
        k: Feature(float_list=FloatList(value=[v])) for k, v in feats.items()}))


def test_rest_predict_classify_regress(server):
    _, rest, _, _ = server
    # the seed's curl request and answer, exactly
    assert rest.post(P + ":predict", {"instances": [1.0, 2.0, 5.0]}) == \
        (200, {"predictions": [2.5, 3.0, 4.5]})
    assert rest.post(P + ":predict", {"instances": [[1.0, 2.0], [3.0, 4.0]]}) == \
        (200, {"predictions": [[2.5, 3.0], [3.5, 4.0]]})
    assert rest.post(P + ":predict", {"instances": [[1.0], [2.0], [5.0]]}) == \
        (200, {"predictions": [[2.5], [3.0], [4.5]]})
    assert rest.post(P + ":predict", {"inputs": [[3.0], [4.0]]}) == \
        (200, {"outputs": [[3.5], [4.0]]})
    assert rest.post(P + ":regress", {"signature_name": "regress_x_to_y",
                                      "examples": [{"x": 80.0}]}) == (200, {"results": [42]})
    assert rest.post(P + ":classify", {"signature_name": "classify_x_to_y",
                                       "examples": [{"x": 20.0}]}) == \
        (200, {"results": [[["", 12]]]})
    st, body = rest.post(P + ":classify", {"signature_name": "classify_x_to_y",
                                           "examples": [{"y": 20.0}]})
    assert st == 400 and "x" in body["error"]
    st, body = rest.post(P + ":predict", {"instances": [[[1.0]]]})
    assert st in (200, 400)  # another rank passes through to the graph, as in TF Serving
    st, body = rest.post(P + ":predict", {"instances": [["a"]]})
    assert st == 400 and "error" in body


def test_rest_status_and_metadata(server):
    _, rest, _, _ = server
    assert rest.get(P) == (200, {"model_version_status": [{
        "version": "123", "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""}}]})
    st, meta = rest.get(P + "/metadata")
    assert st == 200 and meta["model_spec"]["version"] == "123"
    sigs = meta["metadata"]["signature_def"]["signature_def"]
    assert sorted(sigs) == ["classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y",
                            "regress_x_to_y2", "serving_default"]
    assert sigs["regress_x_to_y"]["inputs"]["inputs"]["dtype"] == "DT_STRING"
    assert sigs["classify_x_to_y"]["method_name"] == "tensorflow/serving/classify"


def test_grpc_predict(server):
    _, _, pred, _ = server
    req = apis_pb2.PredictRequest()
    req.model_spec.name = "half_plus_two"
    make_tensor_proto(np.array([[1.0], [2.0], [5.0]], np.float32), out=req.inputs["x"])
    resp = pred.Predict(req, timeout=10)
    assert make_ndarray(resp.outputs["y"]).ravel().tolist() == [2.5, 3.0, 4.5]
    assert list(resp.outputs["y"].float_val) == [2.5, 3.0, 4.5]  # typed field, as TF
    assert (resp.model_spec.name, resp.model_spec.version.value,
            resp.model_spec.signature_name) == ("half_plus_two", 123, "serving_default")
    # tensor_content input and "repeat the last value" decoding
    req2 = apis_pb2.PredictRequest()
    req2.model_spec.name = "half_plus_two"
    req2.model_spec.version.value = 123
    t = req2.inputs["x"]
    t.dtype = tensor_pb2.DT_FLOAT
    t.tensor_shape.dim.add().size = 3
    t.tensor_shape.dim.add().size = 1
    t.float_val.append(4.0)
    assert list(pred.Predict(req2, timeout=10).outputs["y"].float_val) == [4.0, 4.0, 4.0]


@pytest.mark.parametrize("mutate,code,text", [
    (lambda r: r.model_spec.ClearField("name"), grpc.StatusCode.INVALID_ARGUMENT,
     "Missing ModelSpec"),
    (lambda r: setattr(r.model_spec, "name", "nope"), grpc.StatusCode.NOT_FOUND,
     "Servable not found for request: Latest(nope)"),
    (lambda r: r.model_spec.version.__setattr__("value", 9), grpc.StatusCode.NOT_FOUND,
     "Specific(half_plus_two, 9)"),
    (lambda r: setattr(r.model_spec, "version_label", "canary"),
     grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: canary"),
    (lambda r: setattr(r.model_spec, "signature_name", "k"),
     grpc.StatusCode.FAILED_PRECONDITION, 'Serving signature key "k" not found.'),
    (lambda r: r.inputs["extra"].CopyFrom(make_tensor_proto(np.ones(1, np.float32))),
     grpc.StatusCode.INVALID_ARGUMENT, "input size does not match signature: 2!=1"),
    (lambda r: r.inputs["x"].CopyFrom(make_tensor_proto(np.ones((1, 1), np.float64))),
     grpc.StatusCode.INVALID_ARGUMENT, "Expects arg[0] to be float but double is provided"),
    (lambda r: r.output_filter.append("zz"), grpc.StatusCode.INVALID_ARGUMENT,
     "output tensor alias not found in signature: zz"),
    (lambda r: r.output_filter.extend(["y", "y"]), grpc.StatusCode.INVALID_ARGUMENT,
     "duplicate output tensor alias: y"),
])
def test_grpc_predict_errors(server, mutate, code, text):
    _, _, pred, _ = server
    req = apis_pb2.PredictRequest()
    req.model_spec.name = "half_plus_two"
    make_tensor_proto(np.ones((1, 1), np.float32), out=req.inputs["x"])
    mutate(req)
    with pytest.raises(grpc.RpcError) as e:
        pred.Predict(req, timeout=10)
    assert e.value.code() == code and text in e.value.details()


def test_grpc_classify_regress(server):
    _, _, pred, _ = server
    req = apis_pb2.ClassificationRequest()
    req.model_spec.name = "half_plus_two"
    req.model_spec.signature_name = "classify_x_to_y"
    req.input.example_list.examples.extend([_ex(x=20.0), _ex(x=2.0)])
    resp = pred.Classify(req, timeout=10)
    assert [[(c.label, c.score) for c in cl.classes]
            for cl in resp.result.classifications] == [[("", 12.0)], [("", 3.0)]]
    r = apis_pb2.RegressionRequest()
    r.model_spec.name = "half_plus_two"
    r.model_spec.signature_name = "regress_x_to_y2"
    ctx = r.input.example_list_with_context
    ctx.context.CopyFrom(_ex(x=4.0))
    ctx.examples.extend([_ex(x2=1.0)])
    out = pred.Regress(r, timeout=10)
    assert [g.value for g in out.result.regressions] == [5.0]
    assert out.model_spec.version.value == 123
    r.model_spec.signature_name = "classify_x_to_y"
    with pytest.raises(grpc.RpcError) as e:
        pred.Regress(r, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Expected regression signature method_name" in e.value.details()
    r.ClearField("input")
    r.model_spec.signature_name = "regress_x_to_y"
    with pytest.raises(grpc.RpcError, match="Input is empty"):
        pred.Regress(r, timeout=10)


def test_grpc_metadata_and_status(server):
    _, _, pred, model = server
    req = apis_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    req.model_spec.name = "half_plus_two"
    resp = pred.GetModelMetadata(req, timeout=10)
    assert resp.model_spec.version.value == 123
    any_ = resp.metadata["signature_def"]
    assert any_.type_url == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    sdm = apis_pb2.SignatureDefMap()
    any_.Unpack(sdm)
    sd = sdm.signature_def["serving_default"]
    assert sd.method_name == "tensorflow/serving/predict"
    assert sd.inputs["x"].name == "x:0" and sd.inputs["x"].dtype == tensor_pb2.DT_FLOAT
    assert [d.size for d in sd.inputs["x"].tensor_shape.dim] == [-1, 1]
    bad = apis_pb2.GetModelMetadataRequest(metadata_field=["graph"])
    bad.model_spec.name = "half_plus_two"
    with pytest.raises(grpc.RpcError, match="Metadata field graph is not supported"):
        pred.GetModelMetadata(bad, timeout=10)
    st = model.GetModelStatus(apis_pb2.GetModelStatusRequest(
        model_spec=apis_pb2.ModelSpec(name="half_plus_two")), timeout=10)
    assert [(s.version, s.state, s.status.error_code) for s in st.model_version_status] == \
        [(123, apis_pb2.ModelVersionStatus.AVAILABLE, 0)]
    with pytest.raises(grpc.RpcError) as e:
        model.GetModelStatus(apis_pb2.GetModelStatusRequest(
            model_spec=apis_pb2.ModelSpec(name="nope")), timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_grpc_reload_config(server, tmp_path):
    srv, rest, _, model = server
    other = tmp_path / "other"
    saved_model.write_half_plus_two(str(other / "7"))
    req = apis_pb2.ReloadConfigRequest()
    base_hp2 = srv.core.model_configs[0].base_path
    for name, base in (("half_plus_two", base_hp2), ("other", str(other))):
        c = req.config.model_config_list.config.add()
        c.name, c.base_path, c.model_platform = name, base, "tensorflow"
    model.HandleReloadConfigRequest(req, timeout=10)
    srv.core.manager.wait_until_settled(10)
    assert rest.get("/v1/models/other")[1]["model_version_status"][0]["version"] == "7"
    assert rest.get(P)[0] == 200
    bad = apis_pb2.ReloadConfigRequest()
    bad.config.model_config_list.config.add(name="../x", base_path="/x")
    with pytest.raises(grpc.RpcError) as e:
        model.HandleReloadConfigRequest(bad, timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rest.get("/v1/models/other")[0] == 200  # a rejected config changes nothing
