"""REST end to end on 127.0.0.1 with the fake half_plus_two (TF Serving semantics)."""
import base64
import math

import pytest

from .fake_model import write_fake
from .helpers import Rest, make_server, single

P = "/v1/models/half_plus_two"


@pytest.fixture(scope="module")
def hp2(tmp_path_factory):
    base = tmp_path_factory.mktemp("hp2")
    write_fake(str(base / "00000123"))
    server = make_server(single("half_plus_two", base)).start(10)
    client = Rest(server.rest_port)
    yield client
    client.close()
    server.stop()


def test_predict_spec_examples(hp2):
    assert hp2.post(P + ":predict", {"instances": [1.0, 2.0, 5.0]}) == \
        (200, {"predictions": [2.5, 3.0, 4.5]})
    assert hp2.post(P + ":predict", {"instances": [[1.0, 2.0], [3.0, 4.0]]}) == \
        (200, {"predictions": [[2.5, 3.0], [3.5, 4.0]]})
    assert hp2.post(P + ":predict", {"inputs": [3.0, 4.0]}) == (200, {"outputs": [3.5, 4.0]})
    assert hp2.post(P + "/versions/123:predict", {"instances": [[1.0]]}) == \
        (200, {"predictions": [[2.5]]})
    assert hp2.post("/V1/Models/half_plus_two:PREDICT", {"instances": [1.0]})[0] == 200
    assert hp2.post(P + ":predict", {"signature_name": "serving_default",
                                     "instances": [{"x": [1.0]}]}) == \
        (200, {"predictions": [[2.5]]})


def test_predict_nan_infinity_and_shortest_floats(hp2):
    status, body = hp2.post(P + ":predict", raw='{"instances": [NaN, Infinity, -Infinity, 0.2]}')
    assert status == 200
    out = body["predictions"]
    assert math.isnan(out[0]) and out[1] == math.inf and out[2] == -math.inf
    assert out[3] == 2.1  # float32 printed in its shortest form, not 2.0999999046325684


def test_predict_several_inputs_outputs_and_bytes(hp2):
    st, body = hp2.post(P + ":predict", {"signature_name": "multi", "instances": [
        {"u": [1, 2], "v": [3, 4]}, {"u": [5, 6], "v": [7, 8]}]})
    assert st == 200 and body == {"predictions": [{"sum": [4.0, 6.0], "diff": [-2.0, -2.0]},
                                                  {"sum": [12.0, 14.0], "diff": [-2.0, -2.0]}]}
    st, body = hp2.post(P + ":predict", {"signature_name": "multi",
                                         "inputs": {"u": [[1, 2]], "v": [[3, 4]]}})
    assert st == 200 and body == {"outputs": {"sum": [[4.0, 6.0]], "diff": [[-2.0, -2.0]]}}
    raw = b"\x00\xffbin"
    st, body = hp2.post(P + ":predict", {"signature_name": "echo", "instances": [
        {"b64": base64.b64encode(raw).decode()}, "text"]})
    assert st == 200
    assert body == {"predictions": [
        {"s_bytes": {"b64": base64.b64encode(raw).decode()}, "length": 5},
        {"s_bytes": {"b64": base64.b64encode(b"text").decode()}, "length": 4}]}


def test_classify_and_regress(hp2):
    assert hp2.post(P + ":regress", {"signature_name": "regress_x_to_y",
                                     "examples": [{"x": 80.0}]}) == (200, {"results": [42]})
    assert hp2.post(P + ":regress", {"signature_name": "regress_x_to_y2",
                                     "examples": [{"x": 2.0}, {"x": 4.0}]}) == \
        (200, {"results": [4.0, 5.0]})
    assert hp2.post(P + ":classify", {"signature_name": "classify_x_to_y",
                                      "examples": [{"x": 20.0}]}) == \
        (200, {"results": [[["", 12]]]})
    assert hp2.post(P + ":classify", {"signature_name": "classify_labels",
                                      "examples": [{"x": 1.0}]}) == \
        (200, {"results": [[["neg", 0.25], ["pos", 0.75]]]})
    st, body = hp2.post(P + ":regress", {"signature_name": "regress_x_to_y",
                                         "context": {"x": 10.0}, "examples": [{"x2": 1.0}]})
    assert (st, body) == (200, {"results": [7.0]})
    st, body = hp2.post(P + ":classify", {"signature_name": "classify_x_to_y",
                                          "examples": [{"y": 1.0}]})
    assert st == 400 and "x" in body["error"]  # Example without x


def test_status_and_metadata(hp2):
    expected = {"model_version_status": [{"version": "123", "state": "AVAILABLE", "status": {
        "error_code": "OK", "error_message": ""}}]}
    assert hp2.get(P) == (200, expected)
    assert hp2.get(P + "/versions/123") == (200, expected)
    st, meta = hp2.get(P + "/metadata")
    assert st == 200
    assert meta["model_spec"] == {"name": "half_plus_two", "signature_name": "",
                                  "version": "123"}
    sd = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sd == {"inputs": {"x": {"dtype": "DT_FLOAT", "tensor_shape": {
        "dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}], "unknown_rank": False},
        "name": "x:0"}}, "outputs": {"y": {"dtype": "DT_FLOAT", "tensor_shape": {
            "dim": [{"size": "-1", "name": ""}, {"size": "1", "name": ""}],
            "unknown_rank": False}, "name": "y:0"}},
        "method_name": "tensorflow/serving/predict"}


def _err(resp, status, text):
    st, body = resp
    assert st == status, body
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert text in body["error"], body["error"]
    assert "Traceback" not in body["error"]


@pytest.mark.parametrize("path,body,status,text", [
    (P + ":predict", None, 400, "JSON Parse error"),  # empty body
    (P + ":predict", "{bad json", 400, "JSON Parse error"),
    (P + ":predict", "[1, 2]", 400, "must be a JSON object"),
    (P + ":predict", b'{"instances": ["\xff"]}', 400, "JSON Parse error"),  # bad UTF-8
    (P + ":predict", '{"instance": [1.0]}', 400, "Missing 'inputs' or 'instances' key"),
    (P + ":predict", '{"instances": [1.0], "inputs": [1.0]}', 400, "only one of"),
    (P + ":predict", '{"instances": [[1.0], [2.0, 3.0]]}', 400, "ragged"),
    (P + ":predict", '{"instances": ["a"]}', 400, "Expected a number"),
    (P + ":predict", '{"instances": [{"z": 1.0}]}', 400, "Missing but required: {x}"),
    (P + ":predict", '{"signature_name": 3, "instances": [1]}', 400, "must be a string"),
    (P + ":predict", '{"signature_name": "nope", "instances": [1.0]}', 400,
     'Serving signature name: "nope" not found in signature def'),
    (P + ":predict", '{"signature_name": "multi", "instances": [{"u": [1, 2], "v": [1]}]}',
     400, "one shape"),  # the model rejects the shapes: 400 naming the problem
    (P + ":classify", '{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}', 400,
     "Expected classification signature method_name"),
    (P + ":regress", '{"examples": [{"x": 1.0}]}', 400,
     "Expected regression signature method_name"),
    (P + ":regress", '{"signature_name": "regress_x_to_y", "examples": [{"x": [1, 2.0]}]}',
     400, "mixes value types"),
    ("/v1/models/half:predict", '{"instances": [1.0]}', 404,
     "Servable not found for request: Latest(half)"),
    (P + "/versions/7:predict", '{"instances": [1.0]}', 404,
     "Servable not found for request: Specific(half_plus_two, 7)"),
    (P + "/versions/99999999999999999999:predict", '{"instances": [1.0]}', 400,
     "Failed to convert version"),
    (P + "/labels/stable:predict", '{"instances": [1.0]}', 400,
     "Unrecognized servable version label: stable"),
    ("/v1/models/..:predict", '{"instances": [1.0]}', 404, "Latest(..)"),
    ("/v1/models/%2e%2e%2f%2e%2e%2fetc:predict", '{"instances": [1.0]}', 400,
     "Malformed request"),
    ("/v1/models/half_plus_two/../../etc/passwd:predict", "{}", 400, "Malformed request"),
    ("/v2/models/x:predict", "{}", 400, "Malformed request: POST /v2/models/x:predict"),
    (P + ":explain", "{}", 400, "Malformed request"),
])
def test_rest_errors(hp2, path, body, status, text):
    _err(hp2.post(path, raw=body.encode("utf-8") if isinstance(body, str) else body),  # noqa
         status, text)
    assert hp2.post(P + ":predict", {"instances": [1.0]})[0] == 200  # still serving


def test_get_errors(hp2):
    _err(hp2.get("/v1/models/half"), 404, "Could not find any versions of model half")
    _err(hp2.get(P + "/versions/5"), 404, "Could not find version 5 of model half_plus_two")
    _err(hp2.get(P + "/versions/5/metadata"), 404, "Specific(half_plus_two, 5)")
    _err(hp2.get("/v1/models"), 400, "Missing model name")
    _err(hp2.request("PUT", P), 400, "Malformed request: PUT")
    _err(hp2.request("DELETE", P + ":predict"), 400, "Malformed request")


def test_body_limit_413(serve, tmp_path):
    write_fake(str(tmp_path / "1"))
    _, c = serve(single("m", tmp_path), max_body_bytes=1000)
    big = '{"instances": [' + ",".join(["1.0"] * 400) + "]}"
    _err(c.post("/v1/models/m:predict", raw=big), 413, "exceeds the limit of 1000 bytes")
    assert c.post("/v1/models/m:predict", {"instances": [1.0]}) == \
        (200, {"predictions": [2.5]})


def test_prometheus_metrics(serve, tmp_path):
    write_fake(str(tmp_path / "1"))
    _, c = serve(single("half_plus_two", tmp_path))
    c.post(P + ":predict", {"instances": [1.0]})
    c.post("/v1/models/unknown_model:predict", {"instances": [1.0]})
    st, text = c.get("/monitoring/prometheus/metrics")
    assert st == 200
    assert ':tensorflow:serving:request_count{model_name="half_plus_two",status="OK"} 1' in text
    assert ':tensorflow:serving:request_count{model_name="",status="NOT_FOUND"} 1' in text
    assert "unknown_model" not in text  # unknown names do not become metric labels
    assert ('request_latency_bucket{model_name="half_plus_two",API="predict",'
            'entrypoint="REST",le="+Inf"} 1') in text
