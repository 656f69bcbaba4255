"""Errors that must match real TensorFlow (type and text), each following the TF source it
names: feature_column/utils.py (check_default_value), feature_column_v2.py,
tensorflow_estimator canned/head.py and core/kernels/lookup_table_op.h."""
import re

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow.errors import OpError
from eagerflow.estimator import ModeKeys
from eagerflow.estimator.canned import BinaryClassHead, RegressionHead
from eagerflow.errors import FailedPreconditionError
from eagerflow.io import Example, Features, parse_example
from eagerflow.variables import VariableStore
from tests.gradcheck import to_numpy


def raises_exactly(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


# ------------------------------------------------------------------------ numeric_column
# utils.check_default_value: a Python int fills `shape` for any dtype, a Python float only
# for a float dtype; a list (or a NumPy array, through tolist()) must be nested exactly like
# `shape` (ValueError) and hold ints, or floats with a float dtype (else TypeError). The
# result is a tuple nested like `shape`.

def test_float_default_for_integer_dtype_is_type_error():
    with raises_exactly(TypeError, "default_value must be compatible with dtype. "
                                   "default_value: 1.5, dtype: int32, key: a"):
        fc.numeric_column("a", default_value=1.5, dtype=np.int32)
    with raises_exactly(TypeError, "default_value must be compatible with dtype. "
                                   "default_value: [1, 2.0], dtype: int64, key: a"):
        fc.numeric_column("a", shape=[2], default_value=[1, 2.0], dtype=np.int64)
    with pytest.raises(TypeError, match="^default_value must be compatible with dtype"):
        fc.numeric_column("a", default_value=np.array([2.5]), dtype=np.int64)


def test_non_numeric_default_is_type_error():
    with pytest.raises(TypeError, match="^default_value must be compatible with dtype"):
        fc.numeric_column("a", default_value=["string"])
    with pytest.raises(TypeError, match="^default_value must be compatible with dtype"):
        fc.numeric_column("a", default_value="1.0")


def test_default_of_the_right_size_but_wrong_shape_is_value_error():
    with raises_exactly(ValueError, "The shape of default_value must be equal to given shape. "
                                    "default_value: [1.0, 2.0, 3.0, 4.0], shape: (2, 2), "
                                    "key: a"):
        fc.numeric_column("a", shape=(2, 2), default_value=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="^The shape of default_value must be equal"):
        fc.numeric_column("a", shape=(1,), default_value=[[1.0]])


def test_accepted_defaults_are_tuples_nested_like_shape():
    assert fc.numeric_column("a", default_value=0.0).default_value == (0.0,)
    assert fc.numeric_column("a", shape=(2, 2), default_value=3).default_value == \
        ((3, 3), (3, 3))
    assert fc.numeric_column("a", shape=(2,), default_value=[1, 2],
                             dtype=np.int64).default_value == (1, 2)
    col = fc.numeric_column("a", shape=(2, 2), default_value=np.array([[1.0, 2.0],
                                                                       [3.0, 4.0]]))
    assert col.default_value == ((1.0, 2.0), (3.0, 4.0))
    # the nested default fills a missing feature when parsing
    empty = Example(features=Features(feature={})).SerializeToString()
    got = parse_example([empty], fc.make_parse_example_spec([col]))["a"]
    np.testing.assert_array_equal(got, [[[1.0, 2.0], [3.0, 4.0]]])


# numeric_column: `if not (dtype.is_integer or dtype.is_floating): raise ValueError(...)`
def test_string_dtype_is_value_error():
    for dtype in (ef.string, "string"):
        with raises_exactly(ValueError, "dtype must be convertible to float. dtype: object, "
                                        "key: a"):
            fc.numeric_column("a", dtype=dtype)


# ------------------------------------------------------------------------- weight_column
# canned/head.py _get_weights_and_check_match_logits: a string becomes a numeric_column;
# anything but a NumericColumn then raises TypeError when the weights are fetched.

def _spec(head, features):
    with VariableStore().as_default():
        return head.create_estimator_spec(features, ModeKeys.EVAL,
                                          ef.constant(np.array([[1.0], [-1.0]], np.float32)),
                                          labels=np.array([[1], [0]]))


def test_weight_column_of_another_type_is_type_error():
    feats = {"w": np.array([[1.0], [2.0]], np.float32)}
    with raises_exactly(TypeError, "Weight column must be either a string or _NumericColumn. "
                                   "Given type: <class 'int'>."):
        _spec(BinaryClassHead(weight_column=3), feats)
    seq = fc.sequence_numeric_column("w")
    with raises_exactly(TypeError, "Weight column must be either a string or _NumericColumn. "
                                   f"Given type: {type(seq)}."):
        _spec(RegressionHead(weight_column=seq), feats)
    assert float(to_numpy(_spec(BinaryClassHead(weight_column="w"), feats).loss)) > 0


# ---------------------------------------------------------- weighted_categorical_column
# WeightedCategoricalColumn._transform_weight_tensor: the weights' dtype must be the
# column's (`Bad dtype, expected {}, but got {}.`, no cast); integer weights (dtype=int)
# become float32. Python floats convert to float32.

def _weighted_indicator(weights, dtype=np.float32):
    col = fc.weighted_categorical_column(fc.categorical_column_with_identity("i", 3), "w",
                                         dtype=dtype)
    with VariableStore().as_default():
        return to_numpy(fc.input_layer({"i": np.array([[0, 2]]), "w": weights},
                                       [fc.indicator_column(col)]))


def test_weights_of_another_dtype_are_bad_dtype():
    with raises_exactly(ValueError, "Bad dtype, expected <dtype: 'float32'>, but got "
                                    "<dtype: 'float64'>."):
        _weighted_indicator(np.array([[2.0, 0.5]]))
    with raises_exactly(ValueError, "Bad dtype, expected <dtype: 'float32'>, but got "
                                    "<dtype: 'int64'>."):
        _weighted_indicator(np.array([[2, 1]], np.int64))


def test_weights_of_the_column_dtype():
    np.testing.assert_allclose(_weighted_indicator(np.array([[2.0, 0.5]], np.float32)),
                               [[2.0, 0.0, 0.5]])
    np.testing.assert_allclose(_weighted_indicator([[2.0, 0.5]]), [[2.0, 0.0, 0.5]])
    got = _weighted_indicator(np.array([[2, 3]], np.int64), dtype=np.int64)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [[2.0, 0.0, 3.0]])


# ------------------------------------------------------------------------- vocabularies
# index_table_from_file fills a StaticHashTable from the file's first vocab_size lines;
# HashTable::DoInsert fails a repeated key with another value (its line number):
# FailedPrecondition "HashTable has different value for same key. Key a has 0 and trying
# to add value 2". The column is made; the first lookup fails.

def test_vocabulary_file_with_a_repeated_line_fails_at_lookup(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\na\n")
    col = fc.categorical_column_with_vocabulary_file("v", str(path))
    assert col.num_buckets == 3  # vocabulary_size + num_oov_buckets: the file is not read
    feats = {"v": np.array([["b"]], dtype=object)}
    for _ in range(2):
        with raises_exactly(FailedPreconditionError, "HashTable has different value for same "
                                                     "key. Key a has 0 and trying to add "
                                                     "value 2"):
            with VariableStore().as_default():
                fc.input_layer(feats, [fc.indicator_column(col)])
    assert issubclass(FailedPreconditionError, OpError)
    # only the first vocabulary_size lines go into the table
    col2 = fc.categorical_column_with_vocabulary_file("v", str(path), vocabulary_size=2)
    with VariableStore().as_default():
        got = to_numpy(fc.input_layer(feats, [fc.indicator_column(col2)]))
    np.testing.assert_array_equal(got, [[0, 1]])


def test_integer_vocabulary_file_repeats_after_parsing(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("5\n7\n05\n")
    col = fc.categorical_column_with_vocabulary_file("v", str(path), dtype=np.int64)
    with raises_exactly(FailedPreconditionError, "HashTable has different value for same "
                                                 "key. Key 5 has 0 and trying to add value 2"):
        with VariableStore().as_default():
            fc.input_layer({"v": np.array([[7]])}, [fc.indicator_column(col)])


# categorical_column_with_vocabulary_list formats the vocabulary_list as given.
def test_vocabulary_list_duplicates_at_creation():
    with raises_exactly(ValueError, "Duplicate keys in vocabulary_list ('a', 'b', 'a'), "
                                    "column_name: v"):
        fc.categorical_column_with_vocabulary_list("v", ("a", "b", "a"))
    with raises_exactly(ValueError, "Duplicate keys in vocabulary_list [1, 2, 1], "
                                    "column_name: v"):
        fc.categorical_column_with_vocabulary_list("v", [1, 2, 1])
