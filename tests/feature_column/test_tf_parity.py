"""Bucket ids of hash, vocabulary-with-OOV, bucketized and crossed columns equal TensorFlow
2.21's (fixtures from tests/feature_column/tf_parity_gen.py)."""
import json
import os

import numpy as np
import pytest

import eagerflow.feature_column as fc
from eagerflow.variables import VariableStore
from tests.gradcheck import to_numpy

FIX = json.load(open(os.path.join(os.path.dirname(__file__), "tf_parity.json"),
                     encoding="utf-8"))
WORDS = np.array(FIX["words"], dtype=object)[:, None]
INTS = np.array(FIX["ints"], dtype=np.int64)[:, None]
FLOATS = np.array(FIX["floats"], dtype=np.float32)[:, None]
N = FIX["n_pair"]
VOCAB = ["a", "hello", "é", "中文字符", "2.x"]
BOUNDS = [0.0, 1.5, 2.0, 10.0]


def ids(column, features):
    """The id of each row, read from the indicator (-1 for an empty row), as the fixture."""
    with VariableStore().as_default():
        dense = to_numpy(fc.input_layer(features, [fc.indicator_column(column)]))
    return [int(r.argmax()) if r.any() else -1 for r in dense]


CASES = {
    "hash_str_3": lambda: ids(fc.categorical_column_with_hash_bucket("w", 3), {"w": WORDS}),
    "hash_str_1000": lambda: ids(fc.categorical_column_with_hash_bucket("w", 1000),
                                 {"w": WORDS}),
    "hash_int_3": lambda: ids(fc.categorical_column_with_hash_bucket("i", 3, dtype=np.int64),
                              {"i": INTS}),
    "hash_int_1000": lambda: ids(fc.categorical_column_with_hash_bucket("i", 1000,
                                                                       dtype=np.int64),
                                 {"i": INTS}),
    "vocab_oov3": lambda: ids(fc.categorical_column_with_vocabulary_list(
        "w", VOCAB, num_oov_buckets=3), {"w": WORDS}),
    "vocab_int_oov2": lambda: ids(fc.categorical_column_with_vocabulary_list(
        "i", [0, 7, -5, 2**31], dtype=np.int64, num_oov_buckets=2), {"i": INTS}),
    "bucketized": lambda: ids(fc.bucketized_column(fc.numeric_column("f"), BOUNDS),
                              {"f": FLOATS}),
    "cross_str_int_97": lambda: ids(fc.crossed_column(["w", "i"], 97),
                                    {"w": WORDS[:N], "i": INTS[:N]}),
    "cross_int_str_key": lambda: ids(fc.crossed_column(["i", "w"], 1000, hash_key=12345),
                                     {"w": WORDS[:N], "i": INTS[:N]}),
    "cross_vocab_bucket": lambda: ids(fc.crossed_column(
        [fc.categorical_column_with_vocabulary_list("w", VOCAB, num_oov_buckets=1),
         fc.bucketized_column(fc.numeric_column("f"), BOUNDS)], 50),
        {"w": WORDS[:len(FLOATS)], "f": FLOATS}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ids_equal_tensorflow(name):
    assert CASES[name]() == FIX["cases"][name]


def test_fixture_covers_the_hard_inputs():
    assert "" in FIX["words"] and "中文字符" in FIX["words"] and min(FIX["ints"]) < 0
    assert set(CASES) == set(FIX["cases"])
