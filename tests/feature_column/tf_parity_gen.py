"""Generates tests/feature_column/tf_parity.json with TensorFlow 2.21's feature columns (run
once, in a throwaway virtual environment with tensorflow-cpu; the tests only read the JSON):

    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tfvenv/bin/python tests/feature_column/tf_parity_gen.py

Each case feeds one value per row through ``indicator_column(<column>)`` in TF1's
``input_layer`` and records the id of the single 1 in each row (-1 for an empty row), so
the ids come from TensorFlow's own column code.
"""
import json
import os

import numpy as np
import tensorflow as tf

fc = tf.feature_column
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_parity.json")
rng = np.random.default_rng(11)
alphabet = list("abcXYZ019 _-/") + ["é", "ß", "中", "😀"]
words = ["", "a", "hello", "Hello", "TensorFlow", "2.x", "é", "中文字符", "😀x", " ", "-5", "0"]
words += ["".join(rng.choice(alphabet, n)) for n in rng.integers(1, 40, 300)]
ints = [0, 1, -1, -5, 7, 2**31, -2**40, 123456789012] + rng.integers(-10**6, 10**6, 300).tolist()
floats = [-np.inf, -1.0, -0.0, 0.0, 0.5, 1.5, 2.0, 9.99, 10.0, 11.0, np.inf] + \
    rng.normal(5, 6, 200).round(3).tolist()


def ids(column, features):
    with tf.Graph().as_default():
        feats = {k: tf.constant(v) for k, v in features.items()}
        dense = tf.compat.v1.feature_column.input_layer(feats, [fc.indicator_column(column)])
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.tables_initializer())
            dense = sess.run(dense)
    return [int(r.argmax()) if r.any() else -1 for r in dense]


def col(values, dtype):
    return np.array(values, dtype=object if dtype == "s" else np.int64)[:, None]


out = {"words": words, "ints": ints, "floats": floats, "cases": {}}
c = out["cases"]
for n in (3, 1000):
    c[f"hash_str_{n}"] = ids(fc.categorical_column_with_hash_bucket("w", n), {"w": col(words, "s")})
    c[f"hash_int_{n}"] = ids(fc.categorical_column_with_hash_bucket("i", n, dtype=tf.int64),
                             {"i": col(ints, "i")})
vocab = ["a", "hello", "é", "中文字符", "2.x"]
c["vocab_oov3"] = ids(fc.categorical_column_with_vocabulary_list("w", vocab, num_oov_buckets=3),
                      {"w": col(words, "s")})
c["vocab_int_oov2"] = ids(fc.categorical_column_with_vocabulary_list(
    "i", [0, 7, -5, 2**31], dtype=tf.int64, num_oov_buckets=2), {"i": col(ints, "i")})
bounds = [0.0, 1.5, 2.0, 10.0]
c["bucketized"] = ids(fc.bucketized_column(fc.numeric_column("f"), bounds),
                      {"f": np.array(floats, np.float32)[:, None]})
n = min(len(words), len(ints))
pair = {"w": col(words[:n], "s"), "i": col(ints[:n], "i")}
c["cross_str_int_97"] = ids(fc.crossed_column(["w", "i"], 97), pair)
c["cross_int_str_key"] = ids(fc.crossed_column(["i", "w"], 1000, hash_key=12345), pair)
c["cross_vocab_bucket"] = ids(fc.crossed_column(
    [fc.categorical_column_with_vocabulary_list("w", vocab, num_oov_buckets=1),
     fc.bucketized_column(fc.numeric_column("f"), bounds)], 50),
    {"w": col(words[:len(floats)], "s"),
     "f": np.array(floats, np.float32)[:, None]})
out["n_pair"] = n
with open(OUT, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
print("wrote", OUT, {k: len(v) for k, v in c.items()})
