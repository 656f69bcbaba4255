"""Unit tests: TensorProto codec, REST JSON codec, configs, source, policies."""
import base64
import math

import numpy as np
import pytest

from eagerflow.io import Example
from eagerflow.serving import ModelConfig, ServingError, parse_batching_parameters
from eagerflow.serving import parse_model_server_config
from eagerflow.serving.json_codec import (examples_from_json, json_to_tensor, predict_inputs,
                                          predict_response, tensor_to_json)
from eagerflow.serving.policy import (AVAILABLE, END, LOADING, START, UNLOADING,
                                      availability_preserving, resource_preserving)
from eagerflow.serving.protos import tensor_pb2
from eagerflow.serving.source import aspired_versions, list_versions, poll_model
from eagerflow.serving.tensor_codec import dtype_enum, make_ndarray, make_tensor_proto

from .fake_model import fake_is_complete, info, write_fake


# ---------------------------------------------------------------- TensorProto
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_,
                                   np.uint8, np.int8, np.int16, np.uint16, np.uint32,
                                   np.uint64, np.float16, np.complex64, np.complex128])
def test_tensor_proto_round_trip(dtype):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=(3, 2)) * 10).astype(dtype)
    back = make_ndarray(tensor_pb2.TensorProto.FromString(
        make_tensor_proto(arr).SerializeToString()))
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 2)
    np.testing.assert_array_equal(back, arr)


def test_tensor_proto_strings_and_dtype_enums():
    arr = np.array([[b"a", b"\xff"], [b"", b"xyz"]], dtype=object)
    p = make_tensor_proto(arr)
    assert p.dtype == 7 and list(p.string_val) == [b"a", b"\xff", b"", b"xyz"]
    assert make_ndarray(p).tolist() == arr.tolist()
    assert [dtype_enum(d) for d in (np.float32, np.float64, np.int32, np.int64, object,
                                    np.bool_)] == [1, 2, 3, 9, 7, 10]


def test_tensor_proto_read_rules():
    p = tensor_pb2.TensorProto(dtype=1, float_val=[1.0, 2.0])
    p.tensor_shape.dim.add().size = 4
    assert make_ndarray(p).tolist() == [1.0, 2.0, 2.0, 2.0]  # repeat the last value
    p = tensor_pb2.TensorProto(dtype=9)
    p.tensor_shape.dim.add().size = 3
    assert make_ndarray(p).tolist() == [0, 0, 0]  # no values: zeros
    p = tensor_pb2.TensorProto(dtype=3, tensor_content=np.arange(6, dtype="<i4").tobytes())
    p.tensor_shape.dim.add().size = 2
    p.tensor_shape.dim.add().size = 3
    assert make_ndarray(p).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert make_ndarray(tensor_pb2.TensorProto(dtype=1, float_val=[7.0])).tolist() == 7.0


@pytest.mark.parametrize("kw,match", [
    (dict(dtype=1, float_val=[1, 2, 3], dims=[2]), "holds 2"),
    (dict(dtype=3, tensor_content=b"abc", dims=[1]), "tensor_content has 3 bytes"),
    (dict(dtype=1, dims=[-1]), "non-negative"),
    (dict(dtype=1, dims=[1 << 20, 1 << 20]), "more than"),
    (dict(dtype=21, dims=[1]), "Unsupported tensor dtype DT_VARIANT"),
    (dict(dtype=7, tensor_content=b"ab", dims=[1]), "cannot use tensor_content"),
])
def test_tensor_proto_errors(kw, match):
    dims = kw.pop("dims")
    p = tensor_pb2.TensorProto(**kw)
    for d in dims:
        p.tensor_shape.dim.add().size = d
    with pytest.raises(ServingError, match=match) as e:
        make_ndarray(p)
    assert e.value.code_name == "INVALID_ARGUMENT"


# ---------------------------------------------------------------- REST JSON
def test_json_to_tensor_shapes_and_types():
    t = json_to_tensor([[1, 2.5], [3, 4]], np.dtype(np.float32), "x")
    assert t.dtype == np.float32 and t.tolist() == [[1, 2.5], [3, 4]]
    t = json_to_tensor([float("nan"), float("inf"), -float("inf")], np.dtype(np.float64), "x")
    assert math.isnan(t[0]) and t[1] == np.inf and t[2] == -np.inf
    assert json_to_tensor([True, False], np.dtype(bool), "b").tolist() == [True, False]
    s = json_to_tensor(["a", {"b64": base64.b64encode(b"\x00\xff").decode()}],
                       np.dtype(object), "s")
    assert s.tolist() == [b"a", b"\x00\xff"]
    assert json_to_tensor([], np.dtype(np.float32), "x").shape == (0,)
    assert json_to_tensor(5, np.dtype(np.int64), "x").shape == ()


@pytest.mark.parametrize("value,dtype,match", [
    ([[1, 2], [3]], np.float32, "ragged"),
    ([[1, 2], 3], np.float32, "ragged"),
    ([1, [2]], np.float32, "ragged"),
    (["a"], np.float32, "Expected a number"),
    ([None], np.float32, "got null"),
    ([True], np.float32, "got a boolean"),
    ([1.5], np.int64, "Expected an integer"),
    ([2 ** 70], np.int64, "out of range"),
    ([1], bool, "Expected true or false"),
    ([1], object, "Expected a string"),
    ([{"b64": "***"}], object, "base64"),
    ([{"x": 1}], np.float32, "got an object"),
])
def test_json_to_tensor_errors(value, dtype, match):
    with pytest.raises(ServingError, match=match):
        json_to_tensor(value, np.dtype(dtype), "x")


def test_predict_inputs_row_and_columnar():
    one = {"x": info("x:0", np.float32, (None, 1))}
    two = {"u": info("u:0", np.float32, (None, 2)), "v": info("v:0", np.int64, (None,))}
    ins, row = predict_inputs({"instances": [[1.0], [2.0]]}, one)
    assert row and ins["x"].shape == (2, 1)
    ins, row = predict_inputs({"instances": [{"x": [1.0]}]}, one)
    assert row and ins["x"].shape == (1, 1)
    ins, row = predict_inputs({"instances": [{"u": [1, 2], "v": 3}, {"u": [4, 5], "v": 6}]},
                              two)
    assert ins["u"].shape == (2, 2) and ins["v"].tolist() == [3, 6]
    ins, row = predict_inputs({"inputs": {"u": [[1, 2]], "v": [7, 8, 9]}}, two)
    assert not row and ins["u"].shape == (1, 2) and ins["v"].shape == (3,)  # dim 0 may differ
    ins, row = predict_inputs({"inputs": 3.0}, one)
    assert ins["x"].shape == ()


@pytest.mark.parametrize("body,match", [
    ({}, "Missing 'inputs' or 'instances' key"),
    ({"instances": [1], "inputs": [1]}, "only one of 'inputs' or 'instances'"),
    ({"instances": 1}, "list/array"),
    ({"instances": []}, "No values"),
    ({"instances": [[1, 2], [3, 4]]}, "named inputs"),
    ({"instances": [{"u": [1, 2], "v": 1}, [1]]}, "Expecting object"),
    ({"instances": [{"u": [1, 2], "v": 1}, {"u": [1, 2]}]}, "same input names"),
    ({"instances": [{"u": [1, 2]}]}, "Missing but required: {v}"),
    ({"inputs": {"u": [[1, 2]], "v": [1], "w": 1}}, "Sent extra: {w}"),
    ({"inputs": [1, 2]}, "object of named inputs"),
])
def test_predict_inputs_errors(body, match):
    two = {"u": info("u:0", np.float32, (None, 2)), "v": info("v:0", np.int64, (None,))}
    with pytest.raises(ServingError, match=match):
        predict_inputs(body, two)


def test_predict_response_shapes():
    y = np.array([[0.1], [2.5]], np.float32)
    assert predict_response({"y": y}, True) == {"predictions": [[0.1], [2.5]]}
    assert predict_response({"y": y}, False) == {"outputs": [[0.1], [2.5]]}
    out = predict_response({"a": np.array([1, 2]), "b_bytes": np.array([b"\x00", b"z"],
                                                                        object)}, True)
    assert out == {"predictions": [{"a": 1, "b_bytes": {"b64": "AA=="}},
                                   {"a": 2, "b_bytes": {"b64": "eg=="}}]}
    out = predict_response({"a": np.array([1, 2]), "b": np.array([3.0])}, False)
    assert out == {"outputs": {"a": [1, 2], "b": [3.0]}}
    with pytest.raises(ServingError, match="same batch size"):
        predict_response({"a": np.array([1, 2]), "b": np.array([3.0])}, True)
    assert tensor_to_json(np.array([np.nan], np.float32), "y")[0] != 0  # NaN stays NaN
    assert tensor_to_json(np.zeros((2, 0), np.float32), "y") == [[], []]


def test_examples_from_json():
    ser = examples_from_json({"examples": [{"x": 1.5, "n": 3, "s": "a", "b": True,
                                            "l": [1, 2], "e": {"b64": "AA=="}}]})
    f = Example.FromString(ser[0]).features.feature
    assert list(f["x"].float_list.value) == [1.5] and list(f["n"].int64_list.value) == [3]
    assert list(f["s"].bytes_list.value) == [b"a"] and list(f["b"].int64_list.value) == [1]
    assert list(f["l"].int64_list.value) == [1, 2]
    assert list(f["e"].bytes_list.value) == [b"\x00"]
    ser = examples_from_json({"context": {"c": 2.0}, "examples": [{"x": 1.0}, {"x": 2.0}]})
    f = Example.FromString(ser[1]).features.feature
    assert f["c"].float_list.value[0] == 2.0 and f["x"].float_list.value[0] == 2.0


@pytest.mark.parametrize("body,match", [
    ({"examples": [{"x": [1, 2.5]}]}, "mixes value types"),
    ({"examples": [{"x": None}]}, "unsupported value: null"),
    ({"examples": [{"x": [[1]]}]}, "unsupported value: a list"),
    ({"examples": [{"x": 2 ** 64}]}, "does not fit in int64"),
    ({"examples": [[1]]}, "must be an object"),
    ({"examples": []}, "non-empty"),
    ({"instances": [1]}, "Missing 'examples'"),
    ({"context": {"x": 1}, "examples": [{"x": 2}]}, "also appear in 'context'"),
])
def test_examples_from_json_errors(body, match):
    with pytest.raises(ServingError, match=match):
        examples_from_json(body)


# ---------------------------------------------------------------- config, source, policy
def test_model_server_config_text_format():
    cfgs = parse_model_server_config("""
        model_config_list {
          config { name: "m" base_path: "/models/m" model_platform: "tensorflow"
                   model_version_policy { specific { versions: 1 versions: 2 } }
                   version_labels { key: "stable" value: 1 } }
          config { name: "n" base_path: "/models/n"
                   model_version_policy { latest { num_versions: 0 } } }
          config { name: "o" base_path: "/models/o" model_version_policy { all {} } }
        }""")
    assert [(c.name, c.policy) for c in cfgs] == [("m", "specific"), ("n", "latest"),
                                                  ("o", "all")]
    assert cfgs[0].versions == (1, 2) and cfgs[0].version_labels == {"stable": 1}
    assert cfgs[1].num_versions == 1  # latest N=0 means 1
    with pytest.raises(ValueError, match="invalid ModelServerConfig"):
        parse_model_server_config("model_config_list { bogus: 1 }")
    with pytest.raises(ValueError, match="duplicate model name"):
        parse_model_server_config('model_config_list { config { name: "a" base_path: "/a" }'
                                  ' config { name: "a" base_path: "/b" } }')
    with pytest.raises(ServingError, match="Invalid model name"):
        ModelConfig("../etc", "/x")


def test_batching_parameters():
    b = parse_batching_parameters("max_batch_size { value: 32 } "
                                  "batch_timeout_micros { value: 500 } "
                                  "num_batch_threads { value: 2 }")
    assert (b.max_batch_size, b.batch_timeout_micros, b.num_batch_threads) == (32, 500, 2)
    with pytest.raises(ValueError, match="must be positive"):
        parse_batching_parameters("max_batch_size { value: 0 }")


def test_source_versions_and_policies(tmp_path):
    for v in ("1", "00000123", "7"):
        write_fake(str(tmp_path / v))
    write_fake(str(tmp_path / "9"), complete=False)  # half-written export
    write_fake(str(tmp_path / "abc"))
    (tmp_path / "5").write_text("a file, not a version dir")
    found = list_versions(str(tmp_path), fake_is_complete)
    assert sorted(found) == [1, 7, 123]
    assert list(aspired_versions(found, ModelConfig("m", "/x"))) == [123]
    assert list(aspired_versions(found, ModelConfig("m", "/x", num_versions=2))) == [123, 7]
    assert list(aspired_versions(found, ModelConfig("m", "/x", policy="all"))) == [123, 7, 1]
    assert list(aspired_versions(found, ModelConfig("m", "/x", policy="specific",
                                                    versions=(1, 2)))) == [1]
    assert list_versions(str(tmp_path / "missing")) is None
    assert poll_model(ModelConfig("m", str(tmp_path / "missing"))) is None  # keep serving
    (tmp_path / "empty").mkdir()
    assert poll_model(ModelConfig("m", str(tmp_path / "empty"))) == {}


def test_availability_preserving_policy():
    p = availability_preserving
    assert p([(1, AVAILABLE, False), (2, START, True)]) == ("load", 2)
    assert p([(1, AVAILABLE, False), (2, LOADING, True)]) is None  # old stays up
    assert p([(1, AVAILABLE, False), (2, AVAILABLE, True)]) == ("unload", 1)
    assert p([(1, AVAILABLE, False), (2, END, True)]) is None  # failed new: keep old
    assert p([(1, AVAILABLE, False), (3, AVAILABLE, False), (2, LOADING, True)]) == \
        ("unload", 1)
    assert p([(1, AVAILABLE, False)]) == ("unload", 1)  # nothing aspired
    assert p([(1, START, True), (2, START, True)]) == ("load", 2)


def test_resource_preserving_policy():
    p = resource_preserving
    assert p([(1, AVAILABLE, False), (2, START, True)]) == ("unload", 1)
    assert p([(1, UNLOADING, False), (2, START, True)]) is None
    assert p([(1, END, False), (2, START, True)]) == ("load", 2)
    assert p([(1, LOADING, False), (2, START, True)]) is None


def test_json_rank_limit():
    deep = 1.0
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ServingError, match="at most 254"):
        json_to_tensor(deep, np.dtype(np.float32), "x")
