import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from eagerflow.autograd.sparse_tensor import SparseTensor
from eagerflow.io import (BytesList, Example, Feature, Features, FixedLenFeature,
                          FixedLenSequenceFeature, FloatList, Int64List, InvalidArgumentError,
                          SparseFeature, VarLenFeature, parse_example, parse_single_example)


def ex(**feats):
    f = {}
    for k, v in feats.items():
        if v is None:
            f[k] = Feature()
        elif isinstance(v, list) and v and isinstance(v[0], bytes) or v == [b""]:
            f[k] = Feature(bytes_list=BytesList(value=v))
        elif isinstance(v, tuple):  # ("f", [...]) or ("i", [...]) or ("b", [...])
            kind, vals = v
            f[k] = {"f": lambda: Feature(float_list=FloatList(value=vals)),
                    "i": lambda: Feature(int64_list=Int64List(value=vals)),
                    "b": lambda: Feature(bytes_list=BytesList(value=vals))}[kind]()
        elif isinstance(v, list) and v and isinstance(v[0], float):
            f[k] = Feature(float_list=FloatList(value=v))
        else:
            f[k] = Feature(int64_list=Int64List(value=v))
    return Example(features=Features(feature=f)).SerializeToString()


def test_spec_vector_and_float32_roundtrip():
    s = ex(x=[1.0])
    assert s.hex() == "0a0f0a0d0a0178120812060a040000803f"
    e = Example(features=Features(feature={"x": Feature(float_list=FloatList(value=[0.1]))}))
    out = parse_single_example(e.SerializeToString(), {"x": FixedLenFeature([], "float32")})
    assert out["x"].dtype == np.float32 and out["x"] == np.float32(0.1)


def test_fixed_len_shapes_defaults_and_errors():
    recs = [ex(a=[1, 2, 3, 4], s=[b"x"]), ex(s=[b"y"]), ex(a=[5, 6, 7, 8], s=[b"z"])]
    out = parse_example(recs, {"a": FixedLenFeature([2, 2], "int64", default_value=[0, 0, 0, 9]),
                               "s": FixedLenFeature([], "string")})
    assert out["a"].shape == (3, 2, 2)
    assert out["a"].tolist() == [[[1, 2], [3, 4]], [[0, 0], [0, 9]], [[5, 6], [7, 8]]]
    assert out["s"].tolist() == [b"x", b"y", b"z"]
    with pytest.raises(InvalidArgumentError, match=r"Feature: a \(data type: int64\) is required"):
        parse_example(recs, {"a": FixedLenFeature([4], "int64")})
    with pytest.raises(InvalidArgumentError, match="Key: a, Index: 0.  Number of int64 values != "
                                                   "expected.  Values size: 4 but output shape: \\[3\\]"):
        parse_example(recs, {"a": FixedLenFeature([3], "int64", default_value=[1, 2, 3])})
    with pytest.raises(InvalidArgumentError, match="Data types don't match"):
        parse_example(recs, {"a": FixedLenFeature([4], "float32", default_value=[0.0] * 4)})
    with pytest.raises(ValueError, match="default_value has 1 values"):
        FixedLenFeature([2], "float32", default_value=0.0)
    with pytest.raises(ValueError, match="unsupported dtype"):
        FixedLenFeature([], "int32")


def test_empty_list_present_and_kind_unset():
    recs = [ex(a=("f", [])), ex(a=None)]
    with pytest.raises(InvalidArgumentError, match="Values size: 0"):
        parse_example(recs[:1], {"a": FixedLenFeature([], "float32", default_value=1.0)})
    out = parse_example(recs[1:], {"a": FixedLenFeature([], "float32", default_value=1.0)})
    assert out["a"].tolist() == [1.0]  # kind unset counts as absent
    assert parse_example(recs[:1], {"a": FixedLenFeature([0], "float32")})["a"].shape == (1, 0)


def test_varlen_sparse():
    recs = [ex(t=[b"a", b"b"]), ex(), ex(t=[b"c"])]
    st_ = parse_example(recs, {"t": VarLenFeature("string")})["t"]
    assert isinstance(st_, SparseTensor)
    assert st_.indices.tolist() == [[0, 0], [0, 1], [2, 0]]
    assert st_.values.tolist() == [b"a", b"b", b"c"]
    assert st_.dense_shape.tolist() == [3, 2]
    none = parse_example([ex(), ex()], {"t": VarLenFeature("int64")})["t"]
    assert none.dense_shape.tolist() == [2, 0] and none.indices.shape == (0, 2)
    one = parse_single_example(recs[0], {"t": VarLenFeature("string")})["t"]
    assert one.indices.tolist() == [[0], [1]] and one.dense_shape.tolist() == [2]


def test_fixed_len_sequence():
    recs = [ex(s=[1.0, 2.0, 3.0, 4.0]), ex(), ex(s=[5.0, 6.0])]
    out = parse_example(recs, {"s": FixedLenSequenceFeature([2], "float32", allow_missing=True,
                                                            default_value=-1.0)})["s"]
    assert out.tolist() == [[[1, 2], [3, 4]], [[-1, -1], [-1, -1]], [[5, 6], [-1, -1]]]
    with pytest.raises(ValueError, match="allow_missing"):
        parse_example(recs, {"s": FixedLenSequenceFeature([2], "float32")})
    with pytest.raises(InvalidArgumentError, match="not a multiple"):
        parse_example([ex(s=[1.0])], {"s": FixedLenSequenceFeature([2], "float32", True)})
    single = parse_single_example(recs[0], {"s": FixedLenSequenceFeature([2], "float32",
                                                                         allow_missing=True)})["s"]
    assert single.shape == (2, 2)


def test_sparse_feature_sorted_and_bounds():
    recs = [ex(i=[3, 1], v=[1.0, 2.0]), ex(i=[0], v=[5.0])]
    out = parse_example(recs, {"sp": SparseFeature("i", "v", "float32", 4)})["sp"]
    assert out.indices.tolist() == [[0, 1], [0, 3], [1, 0]]
    assert out.values.tolist() == [2.0, 1.0, 5.0]
    assert out.dense_shape.tolist() == [2, 4]
    with pytest.raises(InvalidArgumentError, match="out of bounds"):
        parse_example(recs, {"sp": SparseFeature("i", "v", "float32", 3)})


def test_wire_variants_unpacked_repeated_keys_unknown_fields():
    # unpacked floats (tag 0x0d) and int64 varints (tag 0x08), negative int64
    def entry(key, feature_bytes):
        k = b"\x0a" + bytes([len(key)]) + key
        v = b"\x12" + bytes([len(feature_bytes)]) + feature_bytes
        e = k + v
        return b"\x0a" + bytes([len(e)]) + e
    import struct
    flist = b"\x0d" + struct.pack("<f", 1.5) + b"\x0d" + struct.pack("<f", -2.0)
    ilist = b"\x08\x05" + b"\x08" + bytes([0xff] * 9 + [0x01])  # 5, -1
    feats = entry(b"f", b"\x12" + bytes([len(flist)]) + flist) + \
        entry(b"i", b"\x1a" + bytes([len(ilist)]) + ilist)
    # an unknown field in Features and a repeated key ('f' again, last wins)
    feats += b"\x10\x07" + entry(b"g", b"\x12\x06\x0a\x04" + struct.pack("<f", 9.0))
    feats += entry(b"f", b"\x12\x0a\x0a\x08" + struct.pack("<ff", 7.0, 8.0))
    rec = b"\x0a" + bytes([len(feats)]) + feats + b"\x18\x01"  # unknown Example field 3
    out = parse_single_example(rec, {"f": FixedLenFeature([2], "float32"),
                                     "i": FixedLenFeature([2], "int64"),
                                     "g": FixedLenFeature([], "float32")})
    assert out["f"].tolist() == [7.0, 8.0]
    assert out["i"].tolist() == [5, -1]
    assert out["g"].tolist() == 9.0
    with pytest.raises(InvalidArgumentError, match="malformed"):
        parse_single_example(rec[:-5], {"f": VarLenFeature("float32")})


def test_bytes_with_nuls_and_long_values():
    vals = [b"a\x00", b"\x00", b"", b"x" * 100] * 20
    recs = [ex(s=("b", [v])) for v in vals]
    assert parse_example(recs, {"s": FixedLenFeature([], "string")})["s"].tolist() == vals


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(-2 ** 63, 2 ** 63 - 1), max_size=5),
                          st.lists(st.floats(width=32, allow_nan=False), max_size=5),
                          st.lists(st.binary(max_size=8), max_size=3)), min_size=1, max_size=8))
def test_varlen_matches_protobuf(rows):
    recs = [ex(i=("i", a), f=("f", b), s=("b", c)) for a, b, c in rows]
    out = parse_example(recs, {"i": VarLenFeature("int64"), "f": VarLenFeature("float32"),
                               "s": VarLenFeature("string")})
    assert out["i"].values.tolist() == [v for a, _, _ in rows for v in a]
    assert out["f"].values.tolist() == [np.float32(v) for _, b, _ in rows for v in b]
    assert out["s"].values.tolist() == [v for _, _, c in rows for v in c]
    assert out["i"].dense_shape.tolist() == [len(rows), max(len(r[0]) for r in rows)]


def test_mixed_spec_uses_the_same_values_as_separate_specs():
    recs = [ex(a=[1, 2], f=[0.5], s=[b"x"], v=[b"p", b"q"]), ex(f=[1.5], v=("b", [])),
            ex(a=[3, 4], f=[2.5], s=[b"z"])]
    spec = {"a": FixedLenFeature([2], "int64", default_value=[-1, -1]),
            "f": FixedLenFeature([], "float32"),
            "s": FixedLenFeature([], "string", default_value="?"),
            "v": VarLenFeature("string")}
    mixed = parse_example(recs, spec)
    fixed = parse_example(recs, {k: spec[k] for k in "afs"})
    for k in "afs":
        assert mixed[k].tolist() == fixed[k].tolist()
    assert mixed["a"].tolist() == [[1, 2], [-1, -1], [3, 4]]
    assert mixed["s"].tolist() == [b"x", b"?", b"z"]
    assert mixed["v"].values.tolist() == [b"p", b"q"]
    with pytest.raises(InvalidArgumentError, match="Feature: f .* is required"):
        parse_example(recs + [ex()], {"f": spec["f"], "v": spec["v"]})
