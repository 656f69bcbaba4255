"""String, hashing, cross and bucketize ops: TF's documented examples, the hashing spec's
vectors, pyfarmhash as the Fingerprint64 reference, edge cases and bad arguments."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow.autograd import state
from eagerflow.autograd.registry import registered
from eagerflow.kernels import farmhash as fh
from eagerflow.ops import string as S
from tests.gradcheck import tensor, to_numpy

OPS = ["string_to_hash_bucket_fast", "string_to_hash_bucket_strong", "fingerprint",
       "as_string", "string_to_number", "string_case", "string_strip", "string_length",
       "string_join", "regex_replace", "string_split", "sparse_cross", "bucketize"]


def _ids(t):
    a = to_numpy(t)
    assert a.dtype == np.int64
    return a.tolist()


def _sp(sp):
    return (to_numpy(sp.indices).tolist(), to_numpy(sp.values).tolist(),
            to_numpy(sp.dense_shape).tolist())


# --- hashing ---------------------------------------------------------------------------
def test_to_hash_bucket_fast_spec_and_doc_vectors():
    assert _ids(S.to_hash_bucket_fast(ef.constant(["Hello", "TensorFlow", "2.x"]), 3)) == [0, 2, 2]
    assert _ids(S.to_hash_bucket_fast(["hello"], 1000)) == [296]
    assert S.string_to_hash_bucket_fast is S.to_hash_bucket_fast


def test_to_hash_bucket_fast_matches_pyfarmhash_on_unicode_and_shapes():
    farmhash = pytest.importorskip("farmhash", reason="pyfarmhash (dev extra) is the reference")
    words = np.array([["", "é", "中文字符", "a" * 40], ["x" * 65, "😀", b"bytes", "  "]],
                     dtype=object)
    got = to_numpy(S.to_hash_bucket_fast(words, 2**31 - 1))
    assert got.shape == (2, 4)
    want = [[farmhash.fingerprint64(w if isinstance(w, bytes) else w.encode()) % (2**31 - 1)
             for w in row] for row in words.tolist()]
    assert got.tolist() == want


def test_ints_hash_as_decimal_strings_for_int32_and_int64():
    strs = S.to_hash_bucket_fast(["-5", "0", "12345678901"], 97)
    for dt in (np.int64, np.int32):
        vals = np.array([-5, 0, 12345678901 if dt == np.int64 else 1], dt)
        got = _ids(S.to_hash_bucket_fast(tensor(vals), 97))
        assert got[:2] == _ids(strs)[:2]
    assert _ids(S.to_hash_bucket_fast(tensor(np.array([12345678901])), 97))[0] == _ids(strs)[2]


def test_hash_bucket_scalar_empty_and_bytes():
    s = S.to_hash_bucket_fast("hello", 1000)
    assert s.shape == () and int(to_numpy(s)) == 296
    e = S.to_hash_bucket_fast(np.zeros((0, 2), object), 10)
    assert e.shape == (0, 2) and e.dtype == np.int64
    assert _ids(S.to_hash_bucket_fast([b"hello", "hello"], 1000)) == [296, 296]


def test_hash_bucket_bad_arguments():
    with pytest.raises(ValueError, match="num_buckets must be an int >= 1"):
        S.to_hash_bucket_fast(["a"], 0)
    with pytest.raises(TypeError, match="num_buckets"):
        S.to_hash_bucket_fast(["a"], 2.5)
    with pytest.raises(TypeError, match="num_buckets"):
        S.to_hash_bucket_fast(["a"], True)
    with pytest.raises(TypeError, match="input must be a string or integer tensor"):
        S.to_hash_bucket_fast(ef.constant([1.5]), 3)
    with pytest.raises(TypeError, match="position 1"):
        S.to_hash_bucket_fast(np.array(["a", None], object), 3)


def test_to_hash_bucket_strong():
    assert _ids(S.to_hash_bucket_strong(["Hello", "TF"], 3, [1, 2])) == [2, 0]
    a = _ids(S.to_hash_bucket_strong(["x", "y", "z"], 1000, [7, 9]))
    b = _ids(S.to_hash_bucket_strong(["x", "y", "z"], 1000, [9, 7]))
    assert a != b
    assert _ids(S.to_hash_bucket_strong(tensor(np.array([-3])), 1000, [7, 9])) == \
        _ids(S.to_hash_bucket_strong(["-3"], 1000, [7, 9]))
    with pytest.raises(ValueError, match="two ints"):
        S.to_hash_bucket_strong(["a"], 3, [1])
    with pytest.raises(ValueError, match="two ints"):
        S.to_hash_bucket_strong(["a"], 3, None)


def test_fingerprint_rows():
    fp = to_numpy(S.fingerprint(ef.constant(["hello", ""])))
    assert fp.dtype == np.uint8 and fp.shape == (2, 8)
    want = fh.fingerprint64_strings(["hello", ""]).astype("<u8").view(np.uint8).reshape(2, 8)
    np.testing.assert_array_equal(fp, want)
    # numeric rows hash their little-endian bytes
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    got = to_numpy(S.fingerprint(tensor(x)))
    rows = [r.astype("<i4").tobytes() for r in x]
    np.testing.assert_array_equal(
        got, fh.fingerprint64_strings(rows).astype("<u8").view(np.uint8).reshape(2, 8))
    # rank >= 2 strings: fingerprints of the strings, then of the row of fingerprints
    m = np.array([["a", "b"], ["c", "d"]], dtype=object)
    inner = fh.fingerprint64_strings(m.reshape(-1)).astype("<u8").view(np.uint8).reshape(2, 16)
    want = fh.fingerprint64_strings([r.tobytes() for r in inner])
    np.testing.assert_array_equal(to_numpy(S.fingerprint(m)),
                                  want.astype("<u8").view(np.uint8).reshape(2, 8))
    assert S.fingerprint(np.zeros((0,), object)).shape == (0, 8)
    assert S.fingerprint(tensor(np.zeros((0, 3), np.float32))).shape == (0, 8)
    empty_rows = to_numpy(S.fingerprint(tensor(np.zeros((2, 0), np.int32))))
    assert empty_rows.tolist() == [[79, 64, 144, 47, 59, 106, 225, 154]] * 2  # Fingerprint64(b"")
    with pytest.raises(ValueError, match="method must be 'farmhash64'"):
        S.fingerprint(["a"], method="md5")
    with pytest.raises(ValueError, match="rank >= 1"):
        S.fingerprint("a")


# --- conversions -------------------------------------------------------------------------
def test_as_string_defaults_and_options():
    f = tensor(np.array([3.5, -0.25, 1e10], np.float32))
    assert to_numpy(S.as_string(f)).tolist() == ["3.500000", "-0.250000", "10000000000.000000"]
    assert to_numpy(S.as_string(f, precision=2)).tolist() == ["3.50", "-0.25", "10000000000.00"]
    assert to_numpy(S.as_string(f, scientific=True)).tolist()[0] == "3.500000e+00"
    assert to_numpy(S.as_string(f, shortest=True)).tolist() == ["3.5", "-0.25", "1e+10"]
    assert to_numpy(S.as_string(tensor(np.array([7, -12])))).tolist() == ["7", "-12"]
    assert to_numpy(S.as_string(tensor(np.array([7])), width=4, fill="0")).tolist() == ["0007"]
    assert to_numpy(S.as_string(tensor(np.array([7])), width=3)).tolist() == ["  7"]
    assert to_numpy(S.as_string(np.array([True, False]))).tolist() == ["true", "false"]
    assert to_numpy(S.as_string(np.array([np.nan, np.inf]))).tolist() == ["nan", "inf"]
    assert to_numpy(S.as_string(["s"])).tolist() == ["s"]


def test_as_string_bad_arguments():
    with pytest.raises(ValueError, match="both scientific and shortest"):
        S.as_string([1.0], scientific=True, shortest=True)
    with pytest.raises(ValueError, match="precision is only supported for float"):
        S.as_string(tensor(np.array([1])), precision=2)
    with pytest.raises(ValueError, match="fill"):
        S.as_string([1.0], width=3, fill="ab")


def test_to_number():
    got = to_numpy(S.to_number(["1.5", "-2", " 3e2 ", "inf"]))
    assert got.dtype == np.float32 and got.tolist() == [1.5, -2.0, 300.0, np.inf]
    got = to_numpy(S.to_number([[b"7", "-8"]], out_type=ef.int64))
    assert got.dtype == np.int64 and got.tolist() == [[7, -8]]
    assert to_numpy(S.to_number(["4"], ef.float64)).dtype == np.float64
    with pytest.raises(ValueError, match="could not convert string 'x1'"):
        S.to_number(["x1"])
    with pytest.raises(ValueError, match="could not convert"):
        S.to_number(["1.5"], out_type=ef.int32)
    with pytest.raises(ValueError, match="out of range for int32"):
        S.to_number(["3000000000"], out_type=ef.int32)
    with pytest.raises(TypeError, match="out_type"):
        S.to_number(["1"], out_type=ef.uint8)
    with pytest.raises(TypeError, match="string tensor"):
        S.to_number(tensor(np.array([1.0])))


# --- text ops ----------------------------------------------------------------------------
def test_case_strip_length_join_regex():
    assert to_numpy(S.lower(["CamelCase", "ÄB"])).tolist() == ["camelcase", "Äb"]
    assert to_numpy(S.lower(["ÄB"], encoding="utf-8")).tolist() == ["äb"]
    assert to_numpy(S.upper([b"ab", "cd"])).tolist() == [b"AB", "CD"]
    assert to_numpy(S.strip(["  hi \n", b"\tx "])).tolist() == ["hi", b"x"]
    n = to_numpy(S.length(["héllo", b"ab", ""]))
    assert n.dtype == np.int32 and n.tolist() == [6, 2, 0]
    assert to_numpy(S.length(["héllo"], unit="UTF8_CHAR")).tolist() == [5]
    assert to_numpy(S.join([["a", "b"], ["x", "y"]], separator="-")).tolist() == ["a-x", "b-y"]
    assert to_numpy(S.join([["a", "b"], "!"])).tolist() == ["a!", "b!"]
    assert to_numpy(S.join([["a"], [b"b"]], separator="+")).tolist() == [b"a+b"]
    assert to_numpy(S.regex_replace(["a1b22"], r"\d+", "#")).tolist() == ["a#b#"]
    assert to_numpy(S.regex_replace(["a1b22"], r"\d+", "#", replace_global=False)).tolist() \
        == ["a#b22"]
    assert to_numpy(S.regex_replace(["ab"], r"(a)(b)", r"\2\1")).tolist() == ["ba"]


def test_text_ops_bad_arguments():
    with pytest.raises(ValueError, match="unit must be"):
        S.length(["a"], unit="CHAR")
    with pytest.raises(ValueError, match="encoding"):
        S.lower(["a"], encoding="latin-1")
    with pytest.raises(ValueError, match="non-empty list"):
        S.join([])
    with pytest.raises(ValueError, match="same shape"):
        S.join([["a", "b"], ["c", "d", "e"]])
    with pytest.raises(ValueError, match="invalid pattern"):
        S.regex_replace(["a"], "(", "")
    with pytest.raises(TypeError, match="string tensor"):
        S.upper(tensor(np.array([1])))


# --- splitting ---------------------------------------------------------------------------
def test_string_split_tf_doc_example():
    idx, vals, shape = _sp(S.string_split(["hello world", "a b c"]))
    assert idx == [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]]
    assert vals == ["hello", "world", "a", "b", "c"] and shape == [2, 3]


def test_string_split_delimiter_set_skip_empty_and_chars():
    assert _sp(S.string_split(["a,b;c"], ",;"))[1] == ["a", "b", "c"]
    assert _sp(S.string_split(["a  b"], " ", skip_empty=False))[1] == ["a", "", "b"]
    assert _sp(S.string_split(["a  b"]))[1] == ["a", "b"]
    assert _sp(S.string_split(["abc"], ""))[1] == ["a", "b", "c"]
    assert _sp(S.string_split([b"x y"]))[1] == [b"x", b"y"]
    idx, vals, shape = _sp(S.string_split(["", "a"]))
    assert idx == [[1, 0]] and shape == [2, 1]
    idx, vals, shape = _sp(S.string_split(np.zeros(0, object)))
    assert idx == [] and shape == [0, 0]
    with pytest.raises(ValueError, match="1-D"):
        S.string_split([["a"]])


def test_strings_split_v1():
    idx, vals, shape = _sp(S.split(["1<>2<><>3"], sep="<>"))
    assert vals == ["1", "2", "", "3"] and shape == [1, 4]
    assert _sp(S.split(["  a  b "]))[1] == ["a", "b"]
    assert _sp(S.split(["a,b,c"], sep=",", maxsplit=1))[1] == ["a", "b,c"]
    # with a separator an empty string is one empty token (TF 2.21, like str.split)
    assert _sp(S.split(source=["", "x"], sep=","))[:2] == ([[0, 0], [1, 0]], ["", "x"])
    assert _sp(S.split(["", "x"]))[0] == [[1, 0]]
    with pytest.raises(ValueError, match="RaggedTensor"):
        S.split(["a"], result_type="RaggedTensor")


# --- crosses ---------------------------------------------------------------------------------
def _doc_inputs():
    sp0 = ef.SparseTensor([[0, 0], [1, 0], [1, 1]], ["a", "b", "c"], [2, 2])
    sp1 = ef.SparseTensor([[0, 0], [1, 0]], ["d", "e"], [2, 1])
    return sp0, sp1, ef.constant([["f"], ["g"]])


def test_sparse_cross_tf_doc_example_puts_sparse_inputs_first():
    sp0, sp1, dense = _doc_inputs()
    want = ([[0, 0], [1, 0], [1, 1]], ["a_X_d_X_f", "b_X_e_X_g", "c_X_e_X_g"], [2, 2])
    assert _sp(S.sparse_cross([sp0, sp1, dense])) == want
    assert _sp(S.sparse_cross([sp0, dense, sp1])) == want
    assert _sp(S.sparse_cross([sp1, dense], separator="|"))[1] == ["d|f", "e|g"]


def test_sparse_cross_hashed_spec_vector_and_chain():
    a = ef.constant([["A"], ["B"], ["A"], ["B"], ["A"]])
    b = tensor(np.array([[101], [101], [101], [102], [102]]))
    sp = S.sparse_cross_hashed([a, b], 5)
    idx, vals, shape = _sp(sp)
    assert vals == [1, 4, 1, 1, 3] and shape == [5, 1]
    assert idx == [[i, 0] for i in range(5)]
    # hand chain over the doc example (string features: Fingerprint64; key default)
    sp0, sp1, dense = _doc_inputs()
    got = _sp(S.sparse_cross_hashed([sp0, sp1, dense]))[1]
    fp = {s: int(fh.fingerprint64_strings([s])[0]) for s in "abcdefg"}
    want = []
    for x, y, z in (("a", "d", "f"), ("b", "e", "g"), ("c", "e", "g")):
        h = fh.DEFAULT_CROSS_HASH_KEY
        for v in (x, y, z):
            h = fh.fingerprint_cat64_scalar(h, fp[v])
        want.append(h % ((1 << 63) - 1))
    assert got == want
    key_got = _sp(S.sparse_cross_hashed([sp0, sp1], num_buckets=10, hash_key=123))[1]
    h = fh.fingerprint_cat64_scalar(fh.fingerprint_cat64_scalar(123, fp["a"]), fp["d"])
    assert key_got[0] == h % 10


def test_sparse_cross_hashed_products_ints_and_empty_rows():
    sp0 = ef.SparseTensor([[0, 0], [0, 1], [2, 0]], tensor(np.array([-1, 2])).numpy().tolist()
                          + [5], [3, 2])
    dense = tensor(np.array([[10, 11], [12, 13], [14, 15]]))
    idx, vals, shape = _sp(S.sparse_cross_hashed([sp0, dense], 1000))
    # row 0: (-1,10) (-1,11) (2,10) (2,11); row 1 empty; row 2: (5,14) (5,15)
    assert idx == [[0, 0], [0, 1], [0, 2], [0, 3], [2, 0], [2, 1]] and shape == [3, 4]
    pairs = [(-1, 10), (-1, 11), (2, 10), (2, 11), (5, 14), (5, 15)]
    k = fh.DEFAULT_CROSS_HASH_KEY
    assert vals == [fh.fingerprint_cat64_scalar(fh.fingerprint_cat64_scalar(k, x), y) % 1000
                    for x, y in pairs]
    assert _sp(S.sparse_cross([sp0, dense]))[1][:2] == ["-1_X_10", "-1_X_11"]


def test_sparse_cross_bad_inputs():
    a = ef.constant([["x"], ["y"]])
    with pytest.raises(ValueError, match="different batch sizes"):
        S.sparse_cross_hashed([a, ef.constant([["z"]])], 5)
    with pytest.raises(ValueError, match="2-D tensor"):
        S.sparse_cross_hashed([a, ef.constant(["p", "q"])], 5)
    with pytest.raises(TypeError, match="non-empty list"):
        S.sparse_cross_hashed(a, 5)
    with pytest.raises(TypeError, match="string or integer"):
        S.sparse_cross_hashed([a, tensor(np.ones((2, 1)))], 5)
    with pytest.raises(ValueError, match="num_buckets"):
        S.sparse_cross_hashed([a, a], -1)


# --- bucketize ---------------------------------------------------------------------------------
def test_bucketize_spec_rules():
    x = tensor(np.array([-5.0, 0.0, -0.0, 1.5, 1.4999, 10.0, 150.0, np.nan, -np.inf, np.inf],
                        np.float32))
    got = to_numpy(S.bucketize(x, [0, 1.5, 10]))
    assert got.dtype == np.int32
    assert got.tolist() == [0, 1, 1, 2, 1, 3, 3, 3, 0, 3]
    assert to_numpy(S.bucketize(tensor(np.array([[-5, 5], [10, 100]])), [0.0, 10.0, 100.0])
                    ).tolist() == [[0, 1], [2, 3]]
    assert to_numpy(S.bucketize(tensor(np.array([0.1], np.float64)), [0.1])).tolist() == [0]
    assert S.bucketize(tensor(np.zeros((0, 3), np.float32)), [1.0]).shape == (0, 3)
    assert to_numpy(S.bucketize(tensor(np.array([3.0], np.float32)), [])).tolist() == [0]


def test_bucketize_bad_arguments():
    with pytest.raises(ValueError, match="sorted"):
        S.bucketize(tensor(np.array([1.0])), [2.0, 1.0])
    with pytest.raises(TypeError, match="numeric"):
        S.bucketize(ef.constant(["a"]), [1.0])
    with pytest.raises(TypeError, match="boundaries"):
        S.bucketize(tensor(np.array([1.0])), ["a"])


# --- registry / tracing --------------------------------------------------------------------------
def test_ops_are_registered_without_gradients():
    reg = registered()
    for name in OPS:
        assert name in reg and reg[name].vjp is None, name


def test_ops_are_recorded_for_export_tracing():
    seen = []

    class Spy:
        def record(self, op, inputs, result, attrs):
            seen.append(op.name)

    spy = Spy()
    state.push(spy)
    try:
        S.to_hash_bucket_fast(ef.constant(["a"]), 3)
        S.sparse_cross_hashed([ef.constant([["a"]]), ef.constant([["b"]])], 3)
        S.bucketize(tensor(np.array([1.0])), [0.0])
    finally:
        state.pop(spy)
    assert seen == ["string_to_hash_bucket_fast", "sparse_cross", "bucketize"]


def test_hash_of_a_watched_tensor_under_a_tape_gives_no_gradient():
    x = ef.Variable(np.array([1.0, 2.0]))
    with ef.GradientTape() as tape:
        b = S.bucketize(x, [1.5])
        y = ef.reduce_sum(x * 2.0)
    assert to_numpy(b).tolist() == [0, 1]
    assert to_numpy(tape.gradient(y, x)).tolist() == [2.0, 2.0]
