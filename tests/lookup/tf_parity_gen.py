"""Generates tests/lookup/tf_parity.json with TensorFlow 2.21 (run once, in a throwaway
virtual environment with tensorflow-cpu; eagerflow's tests only read the JSON):

    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tfvenv/bin/python tests/lookup/tf_parity_gen.py

Covers the string, hashing, cross, bucketize and lookup ops of eagerflow.ops.string and
eagerflow.lookup; inputs are stored beside the outputs so the test feeds the same values.
"""
import json
import os
import tempfile

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_parity.json")
R = {}


def B(x):
    """Nested TF outputs as JSON: bytes become {"b": hex}."""
    if isinstance(x, bytes):
        return {"b": x.hex()}
    if isinstance(x, dict):
        return {k: B(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [B(v) for v in x]
    if isinstance(x, np.ndarray):
        return B(x.tolist())
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def sp(s):
    return {"i": s.indices.numpy().tolist(), "v": B(s.values.numpy().tolist()),
            "s": s.dense_shape.numpy().tolist()}


rng = np.random.default_rng(7)
alphabet = list("abcXYZ019 _-/") + ["é", "ß", "中", "😀"]
words = ["", "a", "hello", "Hello", "TensorFlow", "2.x", "é", "中文字符", "😀x", "a"*16, "b"*17, "c"*33, "d"*64, "e"*65, "f"*200, " ", "-5", "0"]
words += ["".join(rng.choice(alphabet, n)) for n in rng.integers(0, 120, 200)]
R["words"] = words
R["fast"] = {str(n): tf.strings.to_hash_bucket_fast(words, n).numpy().tolist() for n in (1, 3, 1000, 2**31-1, 2**62)}
R["strong"] = {f"{k0},{k1}": tf.strings.to_hash_bucket_strong(words, 1000003, [k0, k1]).numpy().tolist()
               for k0, k1 in ((1, 2), (0, 0), (-1, 2**62), (123456789, -987654321))}
R["fp_1d"] = tf.fingerprint(tf.constant(words)).numpy().tolist()
R["fp_2d_str"] = tf.fingerprint(tf.constant([["a", "b"], ["", "中"]])).numpy().tolist()
R["fp_col_str"] = tf.fingerprint(tf.constant([["a"], ["b"]])).numpy().tolist()
R["fp_i32"] = tf.fingerprint(tf.constant(np.arange(6, dtype=np.int32).reshape(2, 3))).numpy().tolist()
R["fp_f32"] = tf.fingerprint(tf.constant(np.array([[1.5, -2.0], [0.0, 3.25]], np.float32))).numpy().tolist()
R["fp_i64_1d"] = tf.fingerprint(tf.constant(np.array([1, -7], np.int64))).numpy().tolist()
R["fp_3d_str"] = tf.fingerprint(tf.constant([[["a"]], [["b"]]])).numpy().tolist()
R["fp_bool"] = tf.fingerprint(tf.constant([[True, False], [False, False]])).numpy().tolist()
f32 = np.array([3.5, -0.25, 1e10, 0.1, 123456.789, np.nan, np.inf, -np.inf, 1e-7], np.float32)
R["as_string"] = {
    "f32": tf.strings.as_string(f32).numpy().tolist(),
    "f32_p2": tf.strings.as_string(f32, precision=2).numpy().tolist(),
    "f32_sci": tf.strings.as_string(f32, scientific=True).numpy().tolist(),
    "f32_short": tf.strings.as_string(f32, shortest=True).numpy().tolist(),
    "f32_w12": tf.strings.as_string(f32, width=12).numpy().tolist(),
    "f32_w12_0": tf.strings.as_string(f32, width=12, fill="0").numpy().tolist(),
    "f64": tf.strings.as_string(np.array([0.1, 1/3], np.float64)).numpy().tolist(),
    "i64": tf.strings.as_string(np.array([7, -12, 2**40], np.int64)).numpy().tolist(),
    "i32_w4_0": tf.strings.as_string(np.array([7, -12], np.int32), width=4, fill="0").numpy().tolist(),
    "bool": tf.strings.as_string(np.array([True, False])).numpy().tolist(),
    "bool_w6": tf.strings.as_string(np.array([True]), width=6).numpy().tolist(),
    "f32_w8_minus": tf.strings.as_string(f32, width=8, fill="-").numpy().tolist(),
}
src = ["hello world", "a b c", "", "  lead", "trail  ", "x,y;;z", "abc"]
R["string_split"] = {
    "default": sp(tf.compat.v1.string_split(src)),
    "set": sp(tf.compat.v1.string_split(src, ",; ")),
    "noskip": sp(tf.compat.v1.string_split(src, ",; ", skip_empty=False)),
    "empty": sp(tf.compat.v1.string_split(src, "")),
}
src2 = ["1<>2<><>3", "", "a<>b", "  a  b  ", "a b c d"]
R["split_ws_in"] = ["a b", "a ", "ab", " ab ", "a b c", " ", "a\xa0b", "a\x0bb", ""]
R["split_ws"] = {str(m): sp(tf.compat.v1.strings.split(R["split_ws_in"], maxsplit=m))
                 for m in (-1, 1, 2, 3)}
R["split_v1"] = {
    "none": sp(tf.compat.v1.strings.split(src2)),
    "sep": sp(tf.compat.v1.strings.split(src2, sep="<>")),
    "max1": sp(tf.compat.v1.strings.split(src2, sep=" ", maxsplit=1)),
    "none_max1": sp(tf.compat.v1.strings.split(src2, maxsplit=1)),
}
sp0 = tf.SparseTensor([[0, 0], [1, 0], [1, 1], [3, 0]], ["a", "b", "c", "é"], [4, 2])
sp1 = tf.SparseTensor([[0, 0], [1, 0], [3, 0], [3, 1]], tf.constant([-1, 5, 2**40, 7], tf.int64), [4, 2])
dense = tf.constant([["f"], ["g"], ["h"], [""]])
R["cross"] = {
    "hashed0": sp(tf.sparse.cross_hashed([sp0, sp1, dense])),
    "hashed10": sp(tf.sparse.cross_hashed([dense, sp0, sp1], num_buckets=10)),
    "hashed_key": sp(tf.sparse.cross_hashed([sp0, dense], num_buckets=1000, hash_key=12345)),
    "plain": sp(tf.sparse.cross([sp0, sp1, dense])),
    "plain_sep": sp(tf.sparse.cross([dense, sp1], separator="|")),
}
vals = np.array([-5, 0, -0.0, 1.5, 1.4999, 10, 150, np.nan, -np.inf, np.inf, 0.1], np.float32)
R["bucketize"] = {
    "f32": tf.raw_ops.Bucketize(input=vals, boundaries=[0, 1.5, 10, 0.1][:3]).numpy().tolist(),
    "f64_01": tf.raw_ops.Bucketize(input=np.array([0.1, 0.10000001], np.float64), boundaries=[0.1]).numpy().tolist(),
    "i32": tf.raw_ops.Bucketize(input=np.array([-5, 0, 5, 10, 16777217], np.int32), boundaries=[0.0, 10.0, 16777216.0]).numpy().tolist(),
    "i64": tf.raw_ops.Bucketize(input=np.array([-5, 0, 5, 10, 16777217], np.int64), boundaries=[0.0, 10.0, 16777217.0]).numpy().tolist(),
}
init = tf.lookup.KeyValueTensorInitializer(tf.constant([10, 20, -3], tf.int64), tf.constant([0, 1, 2], tf.int64))
R["vocab_int"] = tf.lookup.StaticVocabularyTable(init, 7).lookup(tf.constant([20, -3, 11, -1, 2**40], tf.int64)).numpy().tolist()
init = tf.lookup.KeyValueTensorInitializer(["a", "b"], tf.constant([0, 1], tf.int64))
R["vocab_str"] = tf.lookup.StaticVocabularyTable(init, 7).lookup(tf.constant(words)).numpy().tolist()


def tn(strs, t):
    out = []
    for s in strs:
        try:
            out.append(tf.strings.to_number(s, t).numpy().item())
        except Exception:
            out.append("ERR")
    return out


nums = [" 3e2 ", "+7", "0x10", "1_0", "-0", "1.5", "inf", "nan", "", " ", "7 ", "3000000000",
        "1e400", "0X1p3", "-0x10", ".5", "5.", "1,5", "1 5", "infinity", "-nan", "010", "-",
        "1e3", "9223372036854775807", "9223372036854775808", "-2147483649"]
R["numbers"] = nums
R["to_number"] = {"f32": [str(v) for v in tn(nums, tf.float32)], "i32": [str(v) for v in tn(nums, tf.int32)], "i64": [str(v) for v in tn(nums, tf.int64)]}
case = ["CamelCase", "ÄÖü", "ǅ", "straße"]
R["case"] = {"lower": B(tf.strings.lower(case).numpy().tolist()), "upper": B(tf.strings.upper(case).numpy().tolist()),
             "lower_u": B(tf.strings.lower(case, encoding="utf-8").numpy().tolist()),
             "upper_u": B(tf.strings.upper(case, encoding="utf-8").numpy().tolist())}
R["strip"] = B(tf.strings.strip(["  hi \n", "\t\x0bx\x0c\r", "\u00a0y\u00a0"]).numpy().tolist())
R["length"] = {"byte": tf.strings.length(case).numpy().tolist(), "char": tf.strings.length(case, unit="UTF8_CHAR").numpy().tolist()}
R["regex"] = B([tf.strings.regex_replace(["a1b22", "ab"], r"\d+", "#").numpy().tolist(),
                tf.strings.regex_replace(["ab"], r"(a)(b)", r"\2\1").numpy().tolist(),
                tf.strings.regex_replace(["aaa"], "a", "b", replace_global=False).numpy().tolist()])
R["join"] = B(tf.strings.join([["a", "b"], "!"], separator="-").numpy().tolist())
tmp = tempfile.mkdtemp()
p = os.path.join(tmp, "v.txt"); open(p, "wb").write(b"x\r\ny\nz")
R["file"] = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(p, tf.string, -2, tf.int64, -1), -1).lookup(tf.constant(["x", "y", "z", "x\r"])).numpy().tolist()
p2 = os.path.join(tmp, "gap.txt"); open(p2, "wb").write(b"x\n\ny\n")
try:
    R["gap"] = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(p2, tf.string, -2, tf.int64, -1), -1).lookup(tf.constant(["y"])).numpy().tolist()
except Exception as e:
    R["gap"] = "ERR " + type(e).__name__
with open(OUT, "w") as f:
    json.dump(B(R), f, separators=(",", ":"), ensure_ascii=True)
print("wrote", OUT)
