"""tf.lookup tables and initializers: TF's documented examples, OOV ids through
Fingerprint64, vectorised lookups against a dict reference, file parsing and errors."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import lookup
from eagerflow.kernels import farmhash as fh
from tests.gradcheck import tensor, to_numpy


def _v(t):
    return to_numpy(t).tolist()


def _write(tmp_path, text, name="vocab.txt"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(p)


# --- TF documented examples -----------------------------------------------------------------
def test_static_vocabulary_table_doc_examples(tmp_path):
    init = lookup.KeyValueTensorInitializer(["emerson", "lake", "palmer"],
                                            ef.constant([0, 1, 2]))
    table = lookup.StaticVocabularyTable(init, num_oov_buckets=5)
    got = table.lookup(ef.constant(["emerson", "lake", "palmer", "king", "crimson"]))
    assert to_numpy(got).dtype == np.int64 and _v(got) == [0, 1, 2, 6, 7]
    assert _v(table[["king"]]) == [6]
    path = _write(tmp_path, "\n".join(["emerson", "lake", "palmer", "crimnson"]))
    init = lookup.TextFileInitializer(path, ef.string, lookup.TextFileIndex.WHOLE_LINE,
                                      ef.int64, lookup.TextFileIndex.LINE_NUMBER)
    table = lookup.StaticVocabularyTable(init, 3)
    assert _v(table.lookup(["palmer", "crimnson", "king", "tarkus", "black", "moon"])) == \
        [2, 3, 5, 6, 6, 4]
    assert int(to_numpy(table.size())) == 4 + 3


def test_index_table_from_tensor_doc_example():
    table = lookup.index_table_from_tensor(["emerson", "lake", "palmer"], num_oov_buckets=1)
    assert _v(table.lookup(ef.constant(["emerson", "lake", "and", "palmer"]))) == [0, 1, 3, 2]
    table = lookup.index_table_from_tensor(ef.constant(["a", "b"]))
    assert _v(table.lookup([["b", "zz"], ["a", "a"]])) == [[1, -1], [0, 0]]
    table = lookup.index_table_from_tensor(["a", "b"], default_value=-7)
    assert _v(table.lookup(["q"])) == [-7]


def test_static_hash_table_doc_example():
    init = lookup.KeyValueTensorInitializer(ef.constant(["a", "b", "c"]), ef.constant([0, 1, 2]))
    table = lookup.StaticHashTable(init, default_value=-1)
    assert _v(table.lookup(ef.constant(["a", "c", "d"]))) == [0, 2, -1]
    assert int(to_numpy(table.size())) == 3
    assert lookup.HashTable is lookup.StaticHashTable


def test_index_to_string_tables(tmp_path):
    table = lookup.index_to_string_table_from_tensor(["emerson", "lake", "palmer"])
    assert _v(table.lookup(tensor(np.array([1, 5, -1])))) == ["lake", "UNK", "UNK"]
    path = _write(tmp_path, "x\ny\n")
    table = lookup.index_to_string_table_from_file(path, default_value="?")
    assert _v(table.lookup(tensor(np.array([[0], [1], [2]], np.int32)))) == [["x"], ["y"], ["?"]]


# --- OOV ids and vectorised lookups -----------------------------------------------------------
def test_oov_ids_are_fingerprint_of_as_string():
    vocab = ["a", "b", "c"]
    table = lookup.index_table_from_tensor(vocab, num_oov_buckets=7)
    q = ["zz", "é", "", "b"]
    want = [3 + int(fh.fingerprint64_strings([s])[0] % 7) for s in q[:3]] + [1]
    assert _v(table.lookup(q)) == want
    itable = lookup.index_table_from_tensor([10, 20], num_oov_buckets=5, dtype=ef.int64)
    got = _v(itable.lookup(tensor(np.array([20, -3, 10**12]))))
    assert got[0] == 1
    assert got[1:] == [2 + int(fh.fingerprint64_strings([s])[0] % 5) for s in ("-3", "1000000000000")]


def test_strong_hash_spec_oov():
    from eagerflow.kernels import siphash
    table = lookup.index_table_from_tensor(["a"], num_oov_buckets=4,
                                           hasher_spec=lookup.StrongHashSpec([3, 4]))
    assert _v(table.lookup(["a", "q"])) == [0, 1 + int(siphash.siphash24_strings(["q"], 3, 4)[0] % 4)]


def test_large_string_lookup_matches_dict_reference():
    rng = np.random.default_rng(0)
    vocab = np.array([format(v, "08x") for v in rng.choice(2**32, 5000, replace=False)],
                     dtype=object)
    table = lookup.index_table_from_tensor(vocab)
    queries = np.concatenate([vocab[rng.integers(0, 5000, 20000)],
                              np.array([format(v, "09x") for v in range(5000)], dtype=object)])
    ref = {k: i for i, k in enumerate(vocab.tolist())}
    got = _v(table.lookup(queries))
    assert got == [ref.get(q, -1) for q in queries.tolist()]


def test_str_and_bytes_keys_are_the_same_key():
    table = lookup.index_table_from_tensor(["héllo", "b"])
    assert _v(table.lookup(np.array([b"h\xc3\xa9llo", "b", b"b"], dtype=object))) == [0, 1, 1]
    table = lookup.index_table_from_tensor(np.array([b"x", b"y"], dtype=object))
    assert _v(table.lookup(["y", b"x"])) == [1, 0]


def test_int_tables_accept_int32_and_int64_and_sparse_input():
    init = lookup.KeyValueTensorInitializer(tensor(np.array([5, -2, 9])), [0.5, 1.5, 2.5],
                                            value_dtype=ef.float32)
    table = lookup.StaticHashTable(init, 0.0)
    for dt in (np.int32, np.int64):
        got = to_numpy(table.lookup(tensor(np.array([-2, 7, 9], dt))))
        assert got.dtype == np.float32 and got.tolist() == [1.5, 0.0, 2.5]
    sp = ef.SparseTensor([[0, 0], [1, 2]], tensor(np.array([9, 5])), [2, 3])
    out = table.lookup(sp)
    assert isinstance(out, ef.SparseTensor) and _v(out.values) == [2.5, 0.5]
    assert to_numpy(out.dense_shape).tolist() == [2, 3]


def test_empty_query_and_empty_table():
    table = lookup.index_table_from_tensor(["a"], num_oov_buckets=2)
    out = table.lookup(np.zeros((0, 3), object))
    assert out.shape == (0, 3) and out.dtype == np.int64
    empty = lookup.StaticHashTable(lookup.KeyValueTensorInitializer(
        np.zeros(0, object), np.zeros(0, np.int64), key_dtype=ef.string), -1)
    assert _v(empty.lookup(["a"])) == [-1] and int(to_numpy(empty.size())) == 0
    only_oov = lookup.StaticVocabularyTable(None, 3)
    assert _v(only_oov.lookup(["q"])) == [int(fh.fingerprint64_strings(["q"])[0] % 3)]


def test_duplicate_keys():
    # TF's HashTable initializer (lookup_table_op.h): FailedPrecondition, this message
    with pytest.raises(ef.errors.FailedPreconditionError,
                       match="^HashTable has different value for same key. Key a has 0 and "
                             "trying to add value 2$"):
        lookup.index_table_from_tensor(["a", "b", "a"])
    with pytest.raises(ef.errors.FailedPreconditionError,
                       match="Key a has 1 and trying to add value 2"):
        lookup.StaticHashTable(lookup.KeyValueTensorInitializer(["a", "a"], [1, 2]), -1)
    with pytest.raises(ef.errors.FailedPreconditionError, match="Key 7 has 0 and trying"):
        lookup.index_table_from_tensor(np.array([7, 8, 7], np.int64), dtype=ef.int64)
    # the same pair twice is allowed, as in TF
    t = lookup.StaticHashTable(lookup.KeyValueTensorInitializer(["a", "a"], [1, 1]), -1)
    assert int(to_numpy(t.size())) == 1


def test_bad_dtypes_and_arguments():
    table = lookup.index_table_from_tensor(["a"])
    with pytest.raises(TypeError, match="keys must be strings"):
        table.lookup(tensor(np.array([1])))
    itable = lookup.index_table_from_tensor([1, 2], dtype=ef.int64)
    with pytest.raises(TypeError, match="keys must be integers"):
        itable.lookup(["1"])
    with pytest.raises(ValueError, match="expected integer values"):
        lookup.index_table_from_tensor(["a"], dtype=ef.int64)
    with pytest.raises(ValueError, match="vocabulary_list must be specified"):
        lookup.index_table_from_tensor(None)
    with pytest.raises(ValueError, match="must not be empty"):
        lookup.index_table_from_tensor([])
    with pytest.raises(ValueError, match="num_oov_buckets"):
        lookup.index_table_from_tensor(["a"], num_oov_buckets=-1)
    with pytest.raises(TypeError, match="dtype"):
        lookup.index_table_from_tensor([1.5], dtype=ef.float32)
    with pytest.raises(ValueError, match="num_oov_buckets must be an int > 0"):
        lookup.StaticVocabularyTable(lookup.KeyValueTensorInitializer(["a"], [0]), 0)
    with pytest.raises(TypeError, match="default_value"):
        lookup.StaticHashTable(lookup.KeyValueTensorInitializer(["a"], [0]), "x")
    with pytest.raises(ValueError, match="same length"):
        lookup.KeyValueTensorInitializer(["a", "b"], [0])
    with pytest.raises(TypeError, match="key_dtype must be a string or integer"):
        lookup.KeyValueTensorInitializer([1.0], [0])
    with pytest.raises(TypeError, match="initializer must be"):
        lookup.StaticHashTable({"a": 1}, -1)


# --- text files ---------------------------------------------------------------------------------
def test_index_table_from_file_columns_vocab_size_and_crlf(tmp_path):
    path = _write(tmp_path, "a\r\nb\r\nc\r\n")
    assert _v(lookup.index_table_from_file(path).lookup(["c", "b", "z"])) == [2, 1, -1]
    t = lookup.index_table_from_file(path, vocab_size=2, num_oov_buckets=1)
    assert _v(t.lookup(["c", "a"])) == [2, 0]
    path = _write(tmp_path, "x\t7\ny\t9\n", "cols.tsv")
    t = lookup.index_table_from_file(path, key_column_index=0, value_column_index=1)
    assert _v(t.lookup(["y", "x"])) == [9, 7]
    path = _write(tmp_path, "5\n-3\n", "ints.txt")
    t = lookup.index_table_from_file(path, key_dtype=ef.int64)
    assert _v(t.lookup(tensor(np.array([-3, 5])))) == [1, 0]
    init = lookup.TextFileInitializer(path, ef.int64, lookup.TextFileIndex.LINE_NUMBER,
                                      ef.int64, lookup.TextFileIndex.WHOLE_LINE)
    assert _v(lookup.StaticHashTable(init, 0).lookup(tensor(np.array([1])))) == [-3]
    t = lookup.StaticHashTable(lookup.TextFileIdTableInitializer(_write(tmp_path, "p\nq", "n")), -1)
    assert _v(t.lookup(["q"])) == [1]
    t = lookup.StaticHashTable(lookup.TextFileStringTableInitializer(
        _write(tmp_path, "p\nq", "n2")), "-")
    assert _v(t.lookup(tensor(np.array([0, 4])))) == ["p", "-"]


def test_text_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        lookup.index_table_from_file(str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="vocabulary_file must be specified"):
        lookup.index_table_from_file(None)
    path = _write(tmp_path, "a\nb\n")
    with pytest.raises(ValueError, match="Invalid vocab_size"):
        lookup.index_table_from_file(path, vocab_size=3)
    with pytest.raises(ValueError, match="vocab_size must be greater than 0"):
        lookup.index_table_from_file(path, vocab_size=0)
    with pytest.raises(ValueError, match="empty line"):
        lookup.index_table_from_file(_write(tmp_path, "a\n\nb\n", "gap.txt"))
    with pytest.raises(ValueError, match="Invalid number of columns"):
        lookup.index_table_from_file(path, key_column_index=2)
    with pytest.raises(ValueError, match="not a valid int64"):
        lookup.index_table_from_file(path, key_dtype=ef.int64)
    with pytest.raises(ValueError, match="LINE_NUMBER needs dtype int64"):
        lookup.TextFileInitializer(path, ef.int32, lookup.TextFileIndex.LINE_NUMBER, ef.int64,
                                   lookup.TextFileIndex.WHOLE_LINE)
    with pytest.raises(ValueError, match="key_index"):
        lookup.TextFileInitializer(path, ef.string, -7, ef.int64, -1)
