"""Parity with TensorFlow 2.21: the outputs in tf_parity.json were produced by real
TensorFlow (tests/lookup/tf_parity_gen.py) for the same inputs; eagerflow must give the
same ids, bytes and strings for the hashing, string, cross, bucketize and lookup ops."""
import json
import pathlib

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import lookup
from eagerflow.ops import string as S
from tests.gradcheck import tensor, to_numpy

TF = json.loads((pathlib.Path(__file__).parent / "tf_parity.json").read_text())
WORDS = TF["words"]


def _decode(x):
    if isinstance(x, dict) and set(x) == {"b"}:
        return bytes.fromhex(x["b"])
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def _bytes(x):
    """Strings as UTF-8 bytes, as TF returns them (eagerflow keeps str as str)."""
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, list):
        return [_bytes(v) for v in x]
    return x


def _v(t):
    return to_numpy(t).tolist()


def _sp(sp):
    return {"i": _v(sp.indices), "v": _bytes(_v(sp.values)), "s": _v(sp.dense_shape)}


def _want_sp(d):
    return {"i": d["i"], "v": _bytes(_decode(d["v"])), "s": d["s"]}


@pytest.mark.parametrize("n", sorted(TF["fast"]))
def test_to_hash_bucket_fast(n):
    assert _v(S.to_hash_bucket_fast(WORDS, int(n))) == TF["fast"][n]


@pytest.mark.parametrize("key", sorted(TF["strong"]))
def test_to_hash_bucket_strong(key):
    k0, k1 = map(int, key.split(","))
    assert _v(S.to_hash_bucket_strong(WORDS, 1000003, [k0, k1])) == TF["strong"][key]


def test_fingerprint():
    obj = lambda x: np.array(x, dtype=object)  # noqa: E731
    assert _v(S.fingerprint(WORDS)) == TF["fp_1d"]
    assert _v(S.fingerprint(obj([["a", "b"], ["", "中"]]))) == TF["fp_2d_str"]
    assert _v(S.fingerprint(obj([["a"], ["b"]]))) == TF["fp_col_str"]
    assert _v(S.fingerprint(obj([[["a"]], [["b"]]]))) == TF["fp_3d_str"]
    assert _v(S.fingerprint(tensor(np.arange(6, dtype=np.int32).reshape(2, 3)))) == TF["fp_i32"]
    assert _v(S.fingerprint(tensor(np.array([[1.5, -2.0], [0.0, 3.25]], np.float32)))) == \
        TF["fp_f32"]
    assert _v(S.fingerprint(tensor(np.array([1, -7], np.int64)))) == TF["fp_i64_1d"]
    assert _v(S.fingerprint(tensor(np.array([[True, False], [False, False]])))) == TF["fp_bool"]


F32 = np.array([3.5, -0.25, 1e10, 0.1, 123456.789, np.nan, np.inf, -np.inf, 1e-7], np.float32)
AS_STRING = {
    "f32": ({}, F32), "f32_p2": ({"precision": 2}, F32), "f32_sci": ({"scientific": True}, F32),
    "f32_short": ({"shortest": True}, F32), "f32_w12": ({"width": 12}, F32),
    "f32_w12_0": ({"width": 12, "fill": "0"}, F32), "f32_w8_minus": ({"width": 8, "fill": "-"}, F32),
    "f64": ({}, np.array([0.1, 1 / 3])), "i64": ({}, np.array([7, -12, 2**40])),
    "i32_w4_0": ({"width": 4, "fill": "0"}, np.array([7, -12], np.int32)),
    "bool": ({}, np.array([True, False])), "bool_w6": ({"width": 6}, np.array([True])),
}


@pytest.mark.parametrize("case", sorted(AS_STRING))
def test_as_string(case):
    kw, x = AS_STRING[case]
    assert _bytes(_v(S.as_string(tensor(x), **kw))) == _bytes(_decode(TF["as_string"][case]))


SRC = ["hello world", "a b c", "", "  lead", "trail  ", "x,y;;z", "abc"]


def test_string_split():
    t = TF["string_split"]
    assert _sp(S.string_split(SRC)) == _want_sp(t["default"])
    assert _sp(S.string_split(SRC, ",; ")) == _want_sp(t["set"])
    assert _sp(S.string_split(SRC, ",; ", skip_empty=False)) == _want_sp(t["noskip"])
    assert _sp(S.string_split(SRC, "")) == _want_sp(t["empty"])


def test_strings_split_v1():
    src = ["1<>2<><>3", "", "a<>b", "  a  b  ", "a b c d"]
    t = TF["split_v1"]
    assert _sp(S.split(src)) == _want_sp(t["none"])
    assert _sp(S.split(src, sep="<>")) == _want_sp(t["sep"])
    assert _sp(S.split(src, sep=" ", maxsplit=1)) == _want_sp(t["max1"])
    assert _sp(S.split(src, maxsplit=1)) == _want_sp(t["none_max1"])
    for m, want in TF["split_ws"].items():
        assert _sp(S.split(TF["split_ws_in"], maxsplit=int(m))) == _want_sp(want), m


def _cross_inputs():
    sp0 = ef.SparseTensor([[0, 0], [1, 0], [1, 1], [3, 0]], ["a", "b", "c", "é"], [4, 2])
    sp1 = ef.SparseTensor([[0, 0], [1, 0], [3, 0], [3, 1]],
                          np.array([-1, 5, 2**40, 7], np.int64), [4, 2])
    return sp0, sp1, ef.constant([["f"], ["g"], ["h"], [""]])


def test_sparse_cross():
    sp0, sp1, dense = _cross_inputs()
    t = TF["cross"]
    assert _sp(S.sparse_cross_hashed([sp0, sp1, dense])) == _want_sp(t["hashed0"])
    assert _sp(S.sparse_cross_hashed([dense, sp0, sp1], num_buckets=10)) == \
        _want_sp(t["hashed10"])
    assert _sp(S.sparse_cross_hashed([sp0, dense], num_buckets=1000, hash_key=12345)) == \
        _want_sp(t["hashed_key"])
    assert _sp(S.sparse_cross([sp0, sp1, dense])) == _want_sp(t["plain"])
    assert _sp(S.sparse_cross([dense, sp1], separator="|")) == _want_sp(t["plain_sep"])


def test_bucketize():
    t = TF["bucketize"]
    vals = np.array([-5, 0, -0.0, 1.5, 1.4999, 10, 150, np.nan, -np.inf, np.inf, 0.1], np.float32)
    assert _v(S.bucketize(tensor(vals), [0, 1.5, 10])) == t["f32"]
    assert _v(S.bucketize(tensor(np.array([0.1, 0.10000001])), [0.1])) == t["f64_01"]
    ints = [-5, 0, 5, 10, 16777217]
    assert _v(S.bucketize(tensor(np.array(ints, np.int32)), [0.0, 10.0, 16777216.0])) == t["i32"]
    assert _v(S.bucketize(tensor(np.array(ints, np.int64)), [0.0, 10.0, 16777217.0])) == t["i64"]


def test_vocabulary_tables():
    init = lookup.KeyValueTensorInitializer(np.array([10, 20, -3]), np.array([0, 1, 2]))
    table = lookup.StaticVocabularyTable(init, 7)
    assert _v(table.lookup(tensor(np.array([20, -3, 11, -1, 2**40])))) == TF["vocab_int"]
    init = lookup.KeyValueTensorInitializer(["a", "b"], np.array([0, 1]))
    assert _v(lookup.StaticVocabularyTable(init, 7).lookup(WORDS)) == TF["vocab_str"]


@pytest.mark.parametrize("out_type", ["f32", "i32", "i64"])
def test_to_number(out_type):
    dt = {"f32": ef.float32, "i32": ef.int32, "i64": ef.int64}[out_type]
    got = []
    for s in TF["numbers"]:
        try:
            got.append(str(_v(S.to_number([s], dt))[0]))
        except ValueError:
            got.append("ERR")
    assert got == TF["to_number"][out_type]


def test_case_strip_length_regex_join():
    case = ["CamelCase", "ÄÖü", "ǅ", "straße"]
    t = TF["case"]
    assert _bytes(_v(S.lower(case))) == _bytes(_decode(t["lower"]))
    assert _bytes(_v(S.upper(case))) == _bytes(_decode(t["upper"]))
    assert _bytes(_v(S.lower(case, encoding="utf-8"))) == _bytes(_decode(t["lower_u"]))
    assert _bytes(_v(S.upper(case, encoding="utf-8"))) == _bytes(_decode(t["upper_u"]))
    assert _bytes(_v(S.strip(["  hi \n", "\t\x0bx\x0c\r", "\u00a0y\u00a0"]))) == \
        _bytes(_decode(TF["strip"]))
    assert _v(S.length(case)) == TF["length"]["byte"]
    assert _v(S.length(case, unit="UTF8_CHAR")) == TF["length"]["char"]
    got = [_v(S.regex_replace(["a1b22", "ab"], r"\d+", "#")),
           _v(S.regex_replace(["ab"], r"(a)(b)", r"\2\1")),
           _v(S.regex_replace(["aaa"], "a", "b", replace_global=False))]
    assert _bytes(got) == _bytes(_decode(TF["regex"]))
    assert _bytes(_v(S.join([["a", "b"], "!"], separator="-"))) == _bytes(_decode(TF["join"]))


def test_text_file_lines(tmp_path):
    p = tmp_path / "v.txt"
    p.write_bytes(b"x\r\ny\nz")
    init = lookup.TextFileInitializer(str(p), "string", -2, "int64", -1)
    assert _v(lookup.StaticHashTable(init, -1).lookup(["x", "y", "z", "x\r"])) == TF["file"]
    assert TF["gap"].startswith("ERR")
    p.write_bytes(b"x\n\ny\n")
    with pytest.raises(ValueError, match="empty line"):
        lookup.TextFileInitializer(str(p), "string", -2, "int64", -1)
