"""Request handling that must match TF Serving's sources exactly (REST and gRPC), each case
with the TF Serving file it comes from."""
import grpc
import pytest

from eagerflow.io import Example, Feature, Features, FloatList
from eagerflow.serving.protos import apis_pb2

from .fake_model import write_fake
from .helpers import Rest, make_server, single, stubs

P = "/v1/models/half_plus_two"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"


@pytest.fixture(scope="module")
def hp2(tmp_path_factory):
    base = tmp_path_factory.mktemp("fidelity")
    write_fake(str(base / "00000123"))
    server = make_server(single("half_plus_two", base)).start(10)
    rest = Rest(server.rest_port)
    channel, pred, _ = stubs(server.grpc_port)
    yield rest, pred
    channel.close()
    rest.close()
    server.stop()


def _error(resp, status, text):
    st, body = resp
    assert st == status, body
    assert set(body) == {"error"} and text in body["error"], body


# util/json_tensor.cc IsLosslessDecimal: a JSON integer fed to DT_FLOAT must satisfy
# |v| <= 2**24 - 1 (DT_DOUBLE: 2**53 - 1), a decimal must be within the type's finite range
# (NaN/Infinity pass); otherwise LossyDecimalError, INVALID_ARGUMENT -> HTTP 400.
@pytest.mark.parametrize("body,text", [
    ('{"instances": [16777217]}', "Cannot convert JSON value: 16777217 to float without "
                                  "loss of precision."),
    ('{"instances": [[1.0], [-16777216]]}', "Cannot convert JSON value: -16777216 to float"),
    ('{"inputs": [[1e39]]}', "to float without loss of precision."),
    ('{"instances": [{"x": [3e38]}, {"x": [-1e300]}]}', "to float without loss of precision"),
])
def test_predict_lossy_float_values_are_400(hp2, body, text):
    rest, _ = hp2
    _error(rest.post(P + ":predict", raw=body), 400, text)


def test_predict_float_values_within_range_pass(hp2):
    rest, _ = hp2
    st, body = rest.post(P + ":predict", raw='{"instances": [16777215, NaN, -Infinity]}')
    assert st == 200, body
    assert body["predictions"][2] == float("-inf")
    assert rest.post(P + ":predict", {"inputs": [[2.0], [1e30]]})[0] == 200


def test_example_feature_lossy_float_is_400(hp2):
    # json_tensor.cc AddValueToFeature: a decimal feature value goes through the same
    # IsLosslessDecimal<float> check.
    rest, _ = hp2
    _error(rest.post(P + ":regress", raw='{"signature_name": "regress_x_to_y", '
                                         '"examples": [{"x": 1e39}]}'),
           400, "to float without loss of precision.")


def test_classify_regress_ignore_other_keys(hp2):
    # json_tensor.cc FillClassifyRegressRequestFromJson reads only "signature_name",
    # "context" and "examples"; any other key of the body is ignored.
    rest, _ = hp2
    assert rest.post(P + ":regress", {"signature_name": "regress_x_to_y", "model": "m",
                                      "examples": [{"x": 80.0}]}) == (200, {"results": [42]})
    assert rest.post(P + ":classify", {"signature_name": "classify_x_to_y",
                                       "instances": [1.0], "examples": [{"x": 20.0}]}) == \
        (200, {"results": [[["", 12]]]})


def _example(**feats):
    return Example(features=Features(feature={
        k: Feature(float_list=FloatList(value=[v])) for k, v in feats.items()}))


def test_classify_regress_unknown_signature(hp2):
    # classifier.cc / regressor.cc Get{Classification,Regression}SignatureDef:
    # InvalidArgument "No signature was found with the name: <name>" (gRPC and REST).
    rest, pred = hp2
    for verb in ("classify", "regress"):
        _error(rest.post(P + f":{verb}", {"signature_name": "nope", "examples": [{"x": 1.0}]}),
               400, "No signature was found with the name: nope")
    c = apis_pb2.ClassificationRequest()
    c.model_spec.name, c.model_spec.signature_name = "half_plus_two", "nope"
    c.input.example_list.examples.extend([_example(x=1.0)])
    r = apis_pb2.RegressionRequest()
    r.model_spec.name, r.model_spec.signature_name = "half_plus_two", "nope"
    r.input.example_list.examples.extend([_example(x=1.0)])
    for call, req in ((pred.Classify, c), (pred.Regress, r)):
        with pytest.raises(grpc.RpcError) as e:
            call(req, timeout=10)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details() == "No signature was found with the name: nope"


def _multi(tasks, *examples):
    req = apis_pb2.MultiInferenceRequest()
    for name, sig, method in tasks:
        t = req.tasks.add(method_name=method)
        t.model_spec.name, t.model_spec.signature_name = name, sig
    req.input.example_list.examples.extend(examples)
    return req


def test_multi_inference(hp2):
    # prediction_service.proto rpc MultiInference; multi_inference.cc runs every task on
    # the one input and answers one InferenceResult per task, in order, with model_spec
    # {name, signature_name, version}.
    _, pred = hp2
    resp = pred.MultiInference(_multi([("half_plus_two", "classify_x_to_y", CLASSIFY),
                                       ("half_plus_two", "regress_x_to_y2", REGRESS)],
                                      _example(x=20.0), _example(x=2.0)), timeout=10)
    assert len(resp.results) == 2
    first, second = resp.results
    assert first.WhichOneof("result") == "classification_result"
    assert [[(c.label, c.score) for c in cl.classes]
            for cl in first.classification_result.classifications] == [[("", 12.0)],
                                                                        [("", 3.0)]]
    assert (first.model_spec.name, first.model_spec.signature_name,
            first.model_spec.version.value) == ("half_plus_two", "classify_x_to_y", 123)
    assert second.WhichOneof("result") == "regression_result"
    assert [g.value for g in second.regression_result.regressions] == [13.0, 4.0]
    assert second.model_spec.signature_name == "regress_x_to_y2"


@pytest.mark.parametrize("tasks,code,text", [
    ([("half_plus_two", "classify_x_to_y", CLASSIFY), ("half_plus_two", "classify_x_to_y",
                                                        CLASSIFY)],
     grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: classify_x_to_y"),
    ([("half_plus_two", "classify_x_to_y", CLASSIFY), ("other", "regress_x_to_y", REGRESS)],
     grpc.StatusCode.INVALID_ARGUMENT,
     "All ModelSpecs in a MultiInferenceRequest must access the same model name."),
    ([("half_plus_two", "nope", REGRESS)], grpc.StatusCode.INVALID_ARGUMENT,
     "Requested signature not found in model graph: nope"),
    ([("half_plus_two", "serving_default", "tensorflow/serving/predict")],
     grpc.StatusCode.UNIMPLEMENTED,
     "Unsupported signature method_name: tensorflow/serving/predict"),
    ([("half_plus_two", "classify_x_to_y", REGRESS)], grpc.StatusCode.INVALID_ARGUMENT,
     "Expected regression signature method_name to be tensorflow/serving/regress"),
    ([("nope", "classify_x_to_y", CLASSIFY)], grpc.StatusCode.NOT_FOUND,
     "Servable not found for request: Latest(nope)"),
])
def test_multi_inference_errors(hp2, tasks, code, text):
    _, pred = hp2
    with pytest.raises(grpc.RpcError) as e:
        pred.MultiInference(_multi(tasks, _example(x=1.0)), timeout=10)
    assert e.value.code() == code and text in e.value.details()
