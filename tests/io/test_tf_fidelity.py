"""Behaviour that must match real TensorFlow, with the expected values taken from TF's
sources (not from eagerflow's output):

- core/util/example_proto_fast_parsing.cc: FastParseExample (batched parse_example),
  FastParseSingleExample (parse_single_example and parse_example of a scalar) and
  FastParseSequenceExample (both sequence parsers), including their error messages;
- python/ops/parsing_ops.py / parsing_config.py: _prepend_none_dimension, the lengths dict
  of parse_sequence_example (dense feature-list keys only) and the refusal of a
  FixedLenSequenceFeature default_value in sequence features;
- core/kernels/decode_csv_op.cc (ExtractFields, absl::SimpleAtoi/SimpleAtof) and
  decode_csv_v2's select_cols checks.
"""
import re

import numpy as np
import pytest

from eagerflow.io import (BytesList, Example, Feature, Features, FixedLenFeature,
                          FixedLenSequenceFeature, FloatList, Int64List, InvalidArgumentError,
                          SequenceExample, VarLenFeature, decode_csv, parse_example,
                          parse_sequence_example, parse_single_example,
                          parse_single_sequence_example)


def f32(*v):
    return Feature(float_list=FloatList(value=v))


def i64(*v):
    return Feature(int64_list=Int64List(value=v))


def byt(*v):
    return Feature(bytes_list=BytesList(value=v))


def ex(**feats):
    return Example(features=Features(feature=feats)).SerializeToString()


def raises_exactly(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


# ---------------------------------------------------------------- parse_example (batch)

def test_fixed_len_size_error_names_bytes_and_tf_shape_format():
    # shape_error(..., "bytes") with TensorShape::DebugString ("[2,3]", no spaces)
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: x, Index: 0.  Number of bytes values != "
                        "expected.  Values size: 2 but output shape: [2,3]"):
        parse_example([ex(x=byt(b"a", b"b"))], {"x": FixedLenFeature([2, 3], "string")})
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: x, Index: 1.  Number of float values != "
                        "expected.  Values size: 2 but output shape: [1]"):
        parse_example([ex(x=f32(1.0)), ex(x=f32(1.0, 2.0))],
                      {"x": FixedLenFeature([1], "float32")})


def test_missing_required_fixed_len_message():
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Feature: x (data type: float) is required but could "
                        "not be found."):
        parse_example([ex(x=f32(1.0)), ex()], {"x": FixedLenFeature([], "float32")})
    with raises_exactly(InvalidArgumentError,
                        "Name: second, Feature: x (data type: int64) is required but could "
                        "not be found."):
        parse_example([ex(x=i64(1)), ex()], {"x": FixedLenFeature([], "int64")},
                      example_names=["first", "second"])


def test_type_mismatch_messages_dense_and_sparse():
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data "
                        "type: float but expected type: int64"):
        parse_example([ex(x=f32(1.0))], {"x": FixedLenFeature([], "int64")})
    # sparse (VarLenFeature) features word it the other way round
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: t, Index: 1.  Data types don't match. Expected "
                        "type: int64, Actual type: string"):
        parse_example([ex(t=i64(1)), ex(t=byt(b"a"))], {"t": VarLenFeature("int64")})


def test_fixed_len_sequence_stride_error_counts_the_minibatch():
    spec = {"s": FixedLenSequenceFeature([2], "float32", allow_missing=True)}
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: s, Index: 1.  Number of float values is not a "
                        "multiple of stride length. Saw 3 values but output shape is: [?,2]"):
        parse_example([ex(s=f32(1, 2)), ex(s=f32(1, 2, 3))], spec)
    # 10 small records -> 8 minibatches starting at 10*m//8 = 0,1,2,3,5,6,7,8: records
    # 3 and 4 share one, and TF reports the minibatch's running count (2 + 3 values)
    recs = [ex(s=f32(1, 2))] * 4 + [ex(s=f32(1, 2, 3))] + [ex()] * 5
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: s, Index: 4.  Number of float values is not a "
                        "multiple of stride length. Saw 5 values but output shape is: [?,2]"):
        parse_example(recs, spec)


def test_allow_missing_false_is_tf_value_error():
    with raises_exactly(ValueError, "Unsupported: FixedLenSequenceFeature requires "
                                    "allow_missing to be True."):
        parse_example([ex()], {"s": FixedLenSequenceFeature([], "int64")})


# ------------------------------------------ parse_single_example / scalar parse_example

def test_single_example_uses_tfs_single_example_messages():
    rec = ex(x=f32(1.0, 2.0), i=i64(3))
    with raises_exactly(InvalidArgumentError, "Key: x.  Can't parse serialized Example: Some "
                                              "float_list slice was not parsed."):
        parse_single_example(rec, {"x": FixedLenFeature([3], "float32")})
    with raises_exactly(InvalidArgumentError, "Key: i.  Can't parse serialized Example: Some "
                                              "int64_list slice was not parsed."):
        parse_single_example(rec, {"i": FixedLenFeature([2], "int64")})
    with raises_exactly(InvalidArgumentError,
                        "Feature: y (data type: string) is required but could not be found."):
        parse_single_example(rec, {"y": FixedLenFeature([], "string")})
    with raises_exactly(InvalidArgumentError, "Key: x.  Data types don't match. Data type: "
                                              "float but expected type: int64"):
        parse_single_example(rec, {"x": FixedLenFeature([2], "int64")})
    with raises_exactly(InvalidArgumentError, "Key: i.  Data types don't match. Expected "
                                              "type: float, Actual type: int64"):
        parse_single_example(rec, {"i": VarLenFeature("float32")})
    with raises_exactly(InvalidArgumentError,
                        "Error while parsing feature with key x: number of elements should be "
                        "divisible by 3, found 2 instead"):
        parse_single_example(rec, {"x": FixedLenSequenceFeature([3], "float32", True)})


def test_parse_example_of_a_scalar_has_no_batch_dimension():
    rec = ex(x=i64(3), t=byt(b"a", b"b"))
    out = parse_example(rec, {"x": FixedLenFeature([], "int64"), "t": VarLenFeature("string")})
    assert out["x"].shape == () and int(out["x"]) == 3
    assert out["t"].indices.tolist() == [[0], [1]]
    assert out["t"].dense_shape.tolist() == [2]
    out = parse_example(np.array(rec, dtype=object), {"x": FixedLenFeature([1], "int64")})
    assert out["x"].shape == (1,)


# ---------------------------------------------------------------------- sequence parsing

def seq_example(context=None, lists=None):
    se = SequenceExample()
    for k, f in (context or {}).items():
        se.context.feature[k].CopyFrom(f)
    for k, feats in (lists or {}).items():
        fl = se.feature_lists.feature_list[k]
        for f in feats:
            fl.feature.add().CopyFrom(f)
    return se.SerializeToString()


def test_sequence_lengths_only_for_dense_feature_lists():
    recs = [seq_example(lists={"c": [i64(1), i64(2)], "w": [byt(b"a")]}), seq_example()]
    _, seq, lengths = parse_sequence_example(
        recs, sequence_features={"c": FixedLenSequenceFeature([], "int64", allow_missing=True),
                                 "w": VarLenFeature("string")})
    assert set(lengths) == {"c"}  # dict(zip(feature_list.dense_keys, ...)) in parsing_ops
    assert lengths["c"].tolist() == [2, 0]
    assert seq["c"].tolist() == [[1, 2], [0, 0]]  # padded with zeros
    assert seq["w"].dense_shape.tolist() == [2, 1, 1]


def test_sequence_feature_default_value_is_refused():
    with raises_exactly(ValueError, "Value feature_list.dense_defaults[c] must be None"):
        parse_sequence_example(
            [seq_example(lists={"c": [i64(1)]})],
            sequence_features={"c": FixedLenSequenceFeature([], "int64", allow_missing=True,
                                                            default_value=-1)})


def test_feature_list_messages():
    rec = seq_example(lists={"c": [i64(1, 2), i64(3), i64(4, 5, 6)]})
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Feature list: c, Index: 0.  Data types don't match. "
                        "Expected type: float"):
        parse_single_sequence_example(rec, sequence_features={
            "c": FixedLenSequenceFeature([2], "float32")})
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Key: c, Index: 1.  Number of values != expected.  "
                        "values size: 1 but output shape: [2]"):
        parse_single_sequence_example(rec, sequence_features={
            "c": FixedLenSequenceFeature([2], "int64")})
    with raises_exactly(InvalidArgumentError,
                        "Feature list 'c' has an unexpected number of values.  Total values "
                        "size: 6 is not consistent with output shape: [?,4]"):
        parse_single_sequence_example(rec, sequence_features={
            "c": FixedLenSequenceFeature([4], "int64")})
    with raises_exactly(InvalidArgumentError,
                        "Name: second, Feature list 'x' is required but could not be found.  "
                        "Did you mean to include it in feature_list_dense_missing_assumed_empty "
                        "or feature_list_dense_defaults?"):
        parse_sequence_example([seq_example(lists={"x": [i64(1)]}), rec],
                               sequence_features={"x": FixedLenSequenceFeature([], "int64")},
                               example_names=["first", "second"])


def test_context_feature_messages():
    recs = [seq_example(context={"u": i64(1)}), seq_example(context={"u": i64(1, 2)})]
    with raises_exactly(InvalidArgumentError,
                        "Name: <unknown>, Context feature: u.  Data types don't match. "
                        "Expected type: float"):
        parse_sequence_example(recs, context_features={"u": FixedLenFeature([], "float32")})
    with raises_exactly(InvalidArgumentError, "Inconsistent max number of elements for feature "
                                              "u: expected 1, but found 2"):
        parse_sequence_example(recs, context_features={"u": FixedLenFeature([], "int64")})
    with raises_exactly(InvalidArgumentError, "Unexpected number of elements in example "
                                              "<unknown>"):
        parse_sequence_example(recs, context_features={"u": FixedLenFeature([2], "int64")})
    with raises_exactly(InvalidArgumentError, "Feature: u (data type: int64) is required but "
                                              "could not be found."):
        parse_sequence_example([recs[0], seq_example()],
                               context_features={"u": FixedLenFeature([], "int64")})
    ctx, _, _ = parse_sequence_example(
        [recs[0], seq_example()], context_features={
            "u": FixedLenFeature([], "int64", default_value=7), "v": VarLenFeature("int64")})
    assert ctx["u"].tolist() == [1, 7]
    assert ctx["v"].dense_shape.tolist() == [2, 0]


# ---------------------------------------------------------------------------- decode_csv

def test_csv_quoting_errors_as_tf():
    with raises_exactly(InvalidArgumentError, "Unquoted fields cannot have quotes/CRLFs inside"):
        decode_csv([b'a"b,c'], [[""], [""]])
    with raises_exactly(InvalidArgumentError,
                        "Quote inside a string has to be escaped by another quote"):
        decode_csv([b'"a"b,c'], [[""], [""]])
    with raises_exactly(InvalidArgumentError,
                        "Quoted field has to end with quote followed by delim or end"):
        decode_csv([b'x,"abc'], [[""], [""]])
    # without quote handling quotes are ordinary characters
    a, b = decode_csv([b'a"b,"c'], [[""], [""]], use_quote_delim=False)
    assert a.tolist() == [b'a"b'] and b.tolist() == [b'"c']
    a, b = decode_csv([b'"x,""y""",'], [[""], ["d"]])
    assert a.tolist() == [b'x,"y"'] and b.tolist() == [b"d"]


def test_csv_empty_record_has_no_fields():
    with raises_exactly(InvalidArgumentError, "Expect 1 fields but have 0 in record 0"):
        decode_csv([b""], [[0]])


def test_csv_value_errors_as_tf():
    with raises_exactly(InvalidArgumentError, "Field 1 in record 0 is not a valid float: x"):
        decode_csv([b"1,x"], [[0], [0.0]])
    with raises_exactly(InvalidArgumentError, "Field 0 in record 1 is not a valid double: 1..2"):
        decode_csv([b"1", b"1..2"], [np.array([0.0])])
    with raises_exactly(InvalidArgumentError,
                        "Field 0 in record 0 is not a valid int32: 99999999999"):
        decode_csv([b"99999999999"], [np.array([0], np.int32)])
    with raises_exactly(InvalidArgumentError, "Field 0 in record 0 is not a valid int64: 1_0"):
        decode_csv([b"1_0"], [[0]])
    # absl allows surrounding whitespace and a leading '+'
    a, f = decode_csv([b" +7 , 1e3 "], [[0], [0.0]])
    assert a.tolist() == [7] and f.tolist() == [1000.0]


def test_csv_first_error_in_record_order():
    # TF checks record 0 completely before record 1
    with raises_exactly(InvalidArgumentError, "Field 1 in record 0 is not a valid float: x"):
        decode_csv([b"1,x", b"1"], [[0], [0.0]])
    with raises_exactly(InvalidArgumentError, "Expect 2 fields but have 1 in record 0"):
        decode_csv([b"1", b"1,x"], [[0], [0.0]])


def test_csv_select_cols():
    with raises_exactly(InvalidArgumentError, "Expect 2 fields but have 1 in record 1"):
        decode_csv([b"1,2,3", b"4,5"], [[0], [0]], select_cols=[0, 2])
    with raises_exactly(ValueError, "select_cols contains negative values."):
        decode_csv([b"1,2"], [[0], [0]], select_cols=[-1, 0])
    with raises_exactly(ValueError, "select_cols is not strictly increasing."):
        decode_csv([b"1,2"], [[0], [0]], select_cols=[1, 0])
    # columns after the last selected one are not looked at (even malformed ones)
    a, c = decode_csv([b'1,x,3,"bad'], [[0], [0]], select_cols=[0, 2])
    assert a.tolist() == [1] and c.tolist() == [3]


def test_csv_string_fields_are_raw_bytes():
    s, n = decode_csv([b"\xff\xfe,1"], [[""], [0]])
    assert s.tolist() == [b"\xff\xfe"] and n.tolist() == [1]


# parsing_ops.parse_single_example_v2 calls parse_example_v2 on the scalar, whose
# _prepend_none_dimension refuses allow_missing=False as it does for a batch.
def test_single_example_allow_missing_false_is_tf_value_error():
    rec = ex(s=f32(1.0, 2.0))
    with raises_exactly(ValueError, "Unsupported: FixedLenSequenceFeature requires "
                                    "allow_missing to be True."):
        parse_single_example(rec, {"s": FixedLenSequenceFeature([2], "float32")})
    with raises_exactly(ValueError, "Unsupported: FixedLenSequenceFeature requires "
                                    "allow_missing to be True."):
        parse_example(rec, {"s": FixedLenSequenceFeature([2], "float32")})
    got = parse_single_example(rec, {"s": FixedLenSequenceFeature([2], "float32",
                                                                  allow_missing=True)})["s"]
    assert got.tolist() == [[1.0, 2.0]]
