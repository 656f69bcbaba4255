"""TF1 table builders: ``index_table_from_tensor/file``, ``index_to_string_table_from_*``.

Example:
    >>> import eagerflow as ef
    >>> t = index_to_string_table_from_tensor(["a", "b"])
    >>> t.lookup(ef.constant([1, 5])).numpy().tolist()
    [b'b', b'UNK']
"""
import numpy as np

from ..backend.dtypes import as_dtype
from .initializers import (KeyValueTensorInitializer, TextFileIndex, TextFileInitializer,
                           _host_array)
from .tables import FastHashSpec, IdTableWithHashBuckets, StaticHashTable

__all__ = ["index_table_from_tensor", "index_table_from_file",
           "index_to_string_table_from_tensor", "index_to_string_table_from_file"]


def _check_oov(num_oov_buckets):
    if isinstance(num_oov_buckets, bool) or not isinstance(num_oov_buckets, (int, np.integer)) \
            or num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be an int >= 0, got {num_oov_buckets!r}")
    return int(num_oov_buckets)


def _key_dtype(dtype, what):
    dt = as_dtype(dtype)
    if dt.kind not in "Oiu":
        raise TypeError(f"{what} must be a string or integer dtype, got {dt}")
    return dt


def _with_buckets(table, num_oov_buckets, hasher_spec, key_dtype):
    if num_oov_buckets:
        return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec=hasher_spec,
                                      key_dtype=key_dtype)
    return table


def index_table_from_tensor(vocabulary_list, num_oov_buckets=0, default_value=-1,
                            hasher_spec=FastHashSpec, dtype="string", name=None):
    """A table mapping each vocabulary entry to its position (TF1 ``index_table_from_tensor``).

    Args:
        vocabulary_list: 1-D strings or ints, unique, non-empty.
        num_oov_buckets: misses get ``len(vocabulary_list) + hash % num_oov_buckets``
            (Fingerprint64 of the string / decimal string of an int) when > 0.
        default_value: the id of a miss when ``num_oov_buckets == 0``.
        dtype: the key type: ``ef.string`` (default) or an integer dtype.

    Returns:
        A :class:`StaticHashTable`, or an :class:`IdTableWithHashBuckets` with OOV buckets.

    Raises:
        ValueError: a missing/empty vocabulary, keys that do not match ``dtype``, a
            negative ``num_oov_buckets``.
        FailedPreconditionError: a repeated key (TF's HashTable initializer's error).

    Example:
        >>> index_table_from_tensor(["a", "b"]).lookup(["b", "c"]).numpy().tolist()
        [1, -1]
    """
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified")
    n_oov = _check_oov(num_oov_buckets)
    kdt = _key_dtype(dtype, "dtype")
    keys = _host_array(vocabulary_list, "vocabulary_list")
    if keys.shape[0] == 0:
        raise ValueError("vocabulary_list must not be empty")
    is_int = keys.dtype.kind in "iu"
    if is_int != (kdt.kind in "iu") or (not is_int and keys.dtype.kind != "O"):
        raise ValueError(f"vocabulary_list: expected {'integer' if kdt.kind in 'iu' else 'string'}"
                         f" values for dtype {kdt}, got dtype {keys.dtype}")
    values = np.arange(keys.shape[0], dtype=np.int64)
    init = KeyValueTensorInitializer(keys, values, np.int64 if is_int else "string", np.int64)
    table = StaticHashTable(init, default_value, name=name)
    return _with_buckets(table, n_oov, hasher_spec, kdt)


def index_table_from_file(vocabulary_file=None, num_oov_buckets=0, vocab_size=None,
                          default_value=-1, hasher_spec=FastHashSpec, key_dtype="string",
                          name=None, key_column_index=TextFileIndex.WHOLE_LINE,
                          value_column_index=TextFileIndex.LINE_NUMBER, delimiter="\t"):
    """A table mapping each line of a vocabulary file to its line number.

    TF1 ``index_table_from_file``: the key is the whole line (or column
    ``key_column_index``), the id its 0-based line number (or column
    ``value_column_index``); only the first ``vocab_size`` lines when given.

    Raises:
        ValueError: no file name, ``vocab_size < 1``, negative ``num_oov_buckets``,
            a file with too few lines or an empty line.
        FileNotFoundError: a missing file.

    Example:
        >>> import os, tempfile
        >>> p = os.path.join(tempfile.mkdtemp(), "v.txt")
        >>> _ = open(p, "w").write("x\\ny\\n")
        >>> index_table_from_file(p).lookup(["y"]).numpy().tolist()
        [1]
    """
    if vocabulary_file is None or (isinstance(vocabulary_file, (str, bytes))
                                   and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty")
    n_oov = _check_oov(num_oov_buckets)
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}")
    kdt = _key_dtype(key_dtype, "key_dtype")
    init = TextFileInitializer(vocabulary_file, np.int64 if kdt.kind in "iu" else "string",
                               key_column_index, np.int64, value_column_index,
                               vocab_size=vocab_size, delimiter=delimiter)
    table = StaticHashTable(init, default_value, name=name)
    return _with_buckets(table, n_oov, hasher_spec, kdt)


def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name=None):
    """A table mapping ids ``0..n-1`` to the vocabulary's strings (missing: ``default_value``).

    Example:
        >>> index_to_string_table_from_tensor(["a"]).lookup([0, -1]).numpy().tolist()
        [b'a', b'UNK']
    """
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified")
    values = _host_array(vocabulary_list, "vocabulary_list")
    if values.size and values.dtype.kind != "O":
        raise TypeError(f"vocabulary_list must be strings, got dtype {values.dtype}")
    keys = np.arange(values.shape[0], dtype=np.int64)
    init = KeyValueTensorInitializer(keys, values, np.int64, "string")
    return StaticHashTable(init, default_value, name=name)


def index_to_string_table_from_file(vocabulary_file, vocab_size=None, default_value="UNK",
                                    name=None, key_column_index=TextFileIndex.LINE_NUMBER,
                                    value_column_index=TextFileIndex.WHOLE_LINE,
                                    delimiter="\t"):
    """A table mapping line numbers of a vocabulary file to its lines."""
    if vocabulary_file is None or (isinstance(vocabulary_file, (str, bytes))
                                   and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}")
    init = TextFileInitializer(vocabulary_file, np.int64, key_column_index, "string",
                               value_column_index, vocab_size=vocab_size, delimiter=delimiter)
    return StaticHashTable(init, default_value, name=name)
