"""Files written by real TensorFlow (tests/fixtures/tf, made by make_fixtures.py)."""
import base64
import json
import os
import re

import numpy as np
import pytest

from eagerflow.data import TFRecordDataset
from eagerflow.io import (DataLossError, FixedLenFeature, FixedLenSequenceFeature,
                          SparseFeature, VarLenFeature, parse_example,
                          parse_single_sequence_example, tf_record_iterator, Example)

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf")
EXP = json.load(open(os.path.join(HERE, "expected.json")))


def b(s):
    return base64.b64decode(s)


@pytest.mark.parametrize("name,comp", [("examples.tfrecord", None),
                                       ("examples.gz.tfrecord", "GZIP"),
                                       ("examples.zlib.tfrecord", "ZLIB")])
def test_records_read_exactly(name, comp):
    recs = list(tf_record_iterator(os.path.join(HERE, name), comp))
    assert recs == [b(r) for r in EXP["records"]]
    ds = TFRecordDataset(os.path.join(HERE, name), compression_type=comp)
    assert [x.item() for x in ds] == recs


def test_parse_matches_tf():
    recs = [b(r) for r in EXP["records"]]
    spec = {
        "label": FixedLenFeature([], "int64"),
        "dense": FixedLenFeature([3], "float32"),
        "neg": FixedLenFeature([2], "int64"),
        "tags": VarLenFeature("string"),
        "name": FixedLenFeature([], "string", default_value="none"),
        "seq": FixedLenSequenceFeature([2], "float32", allow_missing=True),
        "sp": SparseFeature("idx", "val", "float32", 4),
    }
    out = parse_example(np.array(recs, dtype=object), spec)
    e = EXP["parsed"]
    assert out["label"].tolist() == e["label"]
    np.testing.assert_array_equal(out["dense"], np.array(e["dense"], np.float32))
    assert out["neg"].tolist() == e["neg"]
    assert out["tags"].indices.tolist() == e["tags"]["indices"]
    assert out["tags"].values.tolist() == [b(v) for v in e["tags"]["values"]]
    assert out["tags"].dense_shape.tolist() == e["tags"]["dense_shape"]
    assert out["name"].tolist() == [b(v) for v in e["name"]]
    np.testing.assert_array_equal(out["seq"], np.array(e["seq"], np.float32))
    assert out["sp"].indices.tolist() == e["sp"]["indices"]
    np.testing.assert_array_equal(out["sp"].values, np.array(e["sp"]["values"], np.float32))
    assert out["sp"].dense_shape.tolist() == e["sp"]["dense_shape"]


def test_protobuf_roundtrip_is_byte_identical():
    for r in EXP["records"]:
        raw = b(r)
        assert Example.FromString(raw).SerializeToString(deterministic=True) == \
            Example.FromString(raw).SerializeToString(deterministic=True)
        assert Example.FromString(raw).ByteSize() == len(raw)


def test_sequence_example_matches_tf():
    s = EXP["sequence"]
    recs = list(tf_record_iterator(os.path.join(HERE, "sequence.tfrecord")))
    assert recs == [b(r) for r in s["records"]]
    ctx, seq = parse_single_sequence_example(
        recs[2], context_features={"user": FixedLenFeature([], "int64")},
        sequence_features={"clicks": FixedLenSequenceFeature([2], "int64"),
                           "words": VarLenFeature("string")})
    assert int(ctx["user"]) == s["user"]
    assert seq["clicks"].tolist() == s["clicks"]
    assert seq["words"].indices.tolist() == s["words"]["indices"]
    assert seq["words"].values.tolist() == [b(v) for v in s["words"]["values"]]
    assert seq["words"].dense_shape.tolist() == s["words"]["dense_shape"]


def test_corrupt_and_truncated_copies():
    # the offset TensorFlow itself printed for this file (the bad record's data, 12 bytes
    # after the record's start at corrupt_offset)
    tf_offset = int(re.search(r"corrupted record at (\d+)", EXP["corrupt_tf"]).group(1))
    assert tf_offset == EXP["corrupt_offset"] + 12
    with pytest.raises(DataLossError, match=r"corrupt.tfrecord: corrupted record at %d "
                       % tf_offset):
        list(TFRecordDataset(os.path.join(HERE, "corrupt.tfrecord")))
    got = []
    with pytest.raises(DataLossError, match=r"truncated.tfrecord: truncated record at %d"
                       % EXP["truncated_offset"]):
        for x in TFRecordDataset(os.path.join(HERE, "truncated.tfrecord")):
            got.append(x.item())
    assert got == [b(EXP["records"][0])]  # nothing past the bad record is read
