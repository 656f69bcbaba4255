"""Categorical columns: hash bucket, identity, vocabulary list/file, weighted, crossed —
with TensorFlow's ids (FarmHash Fingerprint64, FingerprintCat64 crosses)."""
import os

import numpy as np

from .. import ops
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, constant
from ..io.errors import FailedPreconditionError
from ..io.parsing_config import VarLenFeature
from ..ops.cross import sparse_cross_hashed
from ..ops.string import to_hash_bucket_fast
from .base import CategoricalColumn, IdWeightPair, host, register_column
from .transform_ops import (dense_int_feature, identity_dense_ids, identity_ids, seq_ids3d,
                            sparse_components, to_sparse, vocab_ids)

__all__ = ["categorical_column_with_hash_bucket", "categorical_column_with_identity",
           "categorical_column_with_vocabulary_list", "categorical_column_with_vocabulary_file",
           "weighted_categorical_column", "crossed_column", "HashedCategoricalColumn",
           "IdentityCategoricalColumn", "VocabularyListCategoricalColumn",
           "VocabularyFileCategoricalColumn", "WeightedCategoricalColumn", "CrossedColumn",
           "SequenceCategoricalColumn"]

_DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _check_key(key, what):
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what}: key must be a non-empty string, got {key!r}")


def _dtype(dtype, what):
    dt = np.dtype(object) if dtype in (str, bytes, "string") or dtype is None or \
        getattr(dtype, "kind", "") == "O" else np.dtype(dtype)
    if dt.kind not in "Oiu":
        raise ValueError(f"{what}: dtype must be string or integer, got {dtype}")
    return dt


def _with_values(sp, values):
    return SparseTensor(sp.indices, values, sp.dense_shape)


def _check_values_kind(values, want_strings, column):
    dt = values.dtype
    if values.size == 0:
        return
    if want_strings and dt.kind not in "OUS":
        raise ValueError(f"Column dtype and SparseTensors dtype must be compatible. key: "
                         f"{column.key}, column dtype: string, tensor dtype: {dt}")
    if not want_strings and dt.kind not in "iu":
        raise ValueError(f"Column dtype and SparseTensors dtype must be compatible. key: "
                         f"{column.key}, column dtype: int64, tensor dtype: {dt}")


@register_column
class HashedCategoricalColumn(CategoricalColumn):
    """Ids = Fingerprint64(value) mod ``hash_bucket_size`` (see the module docstring)."""

    _fields = ("key", "hash_bucket_size", "dtype")

    def __init__(self, key, hash_bucket_size, dtype=None):
        self.key, self.hash_bucket_size, self.dtype = key, hash_bucket_size, _dtype(dtype, key)

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(np.dtype(object) if self.dtype.kind == "O"
                                        else np.dtype(np.int64))}

    def transform_feature(self, cache):
        sp = to_sparse(cache.get(self.key))
        _check_values_kind(sp.values, self.dtype.kind == "O", self)
        return _with_values(sp, to_hash_bucket_fast(sp.values, self.hash_bucket_size))


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=str):
    """Hashes string (or int, as its decimal string) values into ``hash_bucket_size`` ids,
    the same ids TensorFlow computes. ``''`` and -1 in dense inputs are missing values.

    Example:
        >>> col = categorical_column_with_hash_bucket("word", 1000)
        >>> col.name, col.num_buckets
        ('word', 1000)
    """
    _check_key(key, "categorical_column_with_hash_bucket")
    if not isinstance(hash_bucket_size, (int, np.integer)) or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be at least 1. hash_bucket_size: "
                         f"{hash_bucket_size}, key: {key}")
    return HashedCategoricalColumn(key, int(hash_bucket_size), dtype)


@register_column
class IdentityCategoricalColumn(CategoricalColumn):
    """Integer values used as ids directly."""

    _fields = ("key", "number_buckets", "default_value")

    def __init__(self, key, number_buckets, default_value=None):
        self.key, self.number_buckets, self.default_value = key, number_buckets, default_value

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        return self.number_buckets

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(np.dtype(np.int64))}

    def transform_feature(self, cache):
        sp = to_sparse(cache.get(self.key))
        _check_values_kind(sp.values, False, self)
        return _with_values(sp, identity_ids(sp.values, num_buckets=self.number_buckets,
                                             default=self.default_value, key=self.key))

    def dense_id_tensor(self, cache):
        x = dense_int_feature(cache.get(self.key))
        if x is None:
            return None
        return identity_dense_ids(x, num_buckets=self.number_buckets,
                                  default=self.default_value, key=self.key)


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """Integer features that are already ids in ``[0, num_buckets)``.

    Out-of-range ids map to ``default_value`` when given; without it they raise (TF lets
    them through and fails later at lookup; eagerflow reports them at once, naming the id).
    """
    _check_key(key, "categorical_column_with_identity")
    if not isinstance(num_buckets, (int, np.integer)) or num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(f"default_value {default_value} not in range [0, {num_buckets}), "
                         f"column_name {key}")
    return IdentityCategoricalColumn(key, int(num_buckets), default_value)


class _VocabularyColumn(CategoricalColumn):
    def _vocab(self):
        raise NotImplementedError

    @property
    def num_buckets(self):
        return len(self._vocab()) + self.num_oov_buckets

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(np.dtype(object) if self.dtype.kind == "O"
                                        else np.dtype(np.int64))}

    def transform_feature(self, cache):
        sp = to_sparse(cache.get(self.key))
        strings = self.dtype.kind == "O"
        _check_values_kind(sp.values, strings, self)
        vocab = tuple(_norm(v) if strings else int(v) for v in self._vocab())
        return _with_values(sp, vocab_ids(sp.values, vocab=vocab, default=self.default_value,
                                          num_oov=self.num_oov_buckets, strings=strings))


def _norm(v):
    return v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else str(v)


@register_column
class VocabularyListCategoricalColumn(_VocabularyColumn):
    """Ids are positions in an in-memory vocabulary (see the factory)."""

    _fields = ("key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets")

    def __init__(self, key, vocabulary_list, dtype, default_value=-1, num_oov_buckets=0):
        self.key, self.vocabulary_list = key, tuple(vocabulary_list)
        self.dtype = _dtype(dtype, key)
        self.default_value, self.num_oov_buckets = default_value, num_oov_buckets

    @property
    def name(self):
        return self.key

    def _vocab(self):
        return self.vocabulary_list


def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1,
                                            num_oov_buckets=0):
    """Ids are the positions of values in ``vocabulary_list``; out-of-vocabulary values get
    ``default_value`` (-1 = dropped) or one of ``num_oov_buckets`` hashed buckets after the
    vocabulary (``len + Fingerprint64(str(value)) % num_oov_buckets``, as TF)."""
    _check_key(key, "categorical_column_with_vocabulary_list")
    vocab = list(vocabulary_list) if vocabulary_list is not None else []
    if not vocab:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}")
    if len(set(vocab)) != len(vocab):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, "
                         f"column_name: {key}")
    if dtype is None:
        dtype = object if isinstance(vocab[0], (str, bytes)) else np.int64
    if num_oov_buckets and default_value != -1:
        raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
    if num_oov_buckets < 0:
        raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    col = VocabularyListCategoricalColumn(key, vocab, dtype, default_value, int(num_oov_buckets))
    kinds = {isinstance(v, (str, bytes)) for v in vocab}
    if kinds != {col.dtype.kind == "O"}:
        raise ValueError(f"dtype {col.dtype} and vocabulary_list {vocab} are incompatible, "
                         f"column_name: {key}")
    return col


@register_column
class VocabularyFileCategoricalColumn(_VocabularyColumn):
    """Ids are line numbers in a vocabulary file (see the factory)."""

    _fields = ("key", "vocabulary_file", "vocabulary_size", "num_oov_buckets", "dtype",
               "default_value")

    def __init__(self, key, vocabulary_file, vocabulary_size, num_oov_buckets, dtype,
                 default_value=-1):
        self.key, self.vocabulary_file = key, vocabulary_file
        self.vocabulary_size, self.num_oov_buckets = vocabulary_size, num_oov_buckets
        self.dtype, self.default_value = _dtype(dtype, key), default_value

    @property
    def name(self):
        return self.key

    @property
    def num_buckets(self):
        # TF's: vocabulary_size + num_oov_buckets, without reading the file
        if self.vocabulary_size is None:
            return super().num_buckets
        return self.vocabulary_size + self.num_oov_buckets

    def _vocab(self):
        vocab = getattr(self, "_lines", None)
        if vocab is None:
            lines = _vocab_lines(self.vocabulary_file)
            n = self.vocabulary_size if self.vocabulary_size is not None else len(lines)
            lines = lines[:n]
            vocab = [int(x) for x in lines] if self.dtype.kind in "iu" else lines
            _check_unique_lines(vocab)
            self._lines = vocab
        return vocab


def _check_unique_lines(vocab):
    """TF's HashTable insert: a key seen before with another value (line number) fails
    the table's initialization."""
    first = {}
    for i, v in enumerate(vocab):
        j = first.setdefault(v, i)
        if j != i:
            raise FailedPreconditionError(f"HashTable has different value for same key. "
                                          f"Key {v} has {j} and trying to add value {i}")


def _vocab_lines(path):
    """The lines of a vocabulary file as TF's TextFileInitializer reads them: split at
    ``\n`` only, one trailing ``\r`` removed (a lone ``\r`` stays inside its line)."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(ln[:-1] if ln.endswith(b"\r") else ln).decode("utf-8", "surrogateescape")
            for ln in lines]


def categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                            num_oov_buckets=0, default_value=None, dtype=str):
    """Like :func:`categorical_column_with_vocabulary_list`, with one vocabulary entry per
    line of ``vocabulary_file`` (the whole line); the first ``vocabulary_size`` lines."""
    _check_key(key, "categorical_column_with_vocabulary_file")
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if not os.path.isfile(vocabulary_file):
        raise ValueError(f"vocabulary_file {vocabulary_file} does not exist (column {key})")
    n_lines = len(_vocab_lines(vocabulary_file))
    if vocabulary_size is None:
        vocabulary_size = n_lines
    elif vocabulary_size <= 0 or vocabulary_size > n_lines:
        raise ValueError(f"Invalid vocabulary_size {vocabulary_size} in {key}: the file has "
                         f"{n_lines} lines.")
    if num_oov_buckets and default_value is not None:
        raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
    if num_oov_buckets < 0:
        raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    return VocabularyFileCategoricalColumn(key, vocabulary_file, vocabulary_size,
                                           int(num_oov_buckets), dtype,
                                           -1 if default_value is None else default_value)


@register_column
class WeightedCategoricalColumn(CategoricalColumn):
    """A categorical column whose ids carry weights from another feature."""

    _fields = ("categorical_column", "weight_feature_key", "dtype")

    def __init__(self, categorical_column, weight_feature_key, dtype=np.float32):
        self.categorical_column = categorical_column
        self.weight_feature_key = weight_feature_key
        self.dtype = np.dtype(dtype)

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    @property
    def parents(self):
        return [self.categorical_column, self.weight_feature_key]

    @property
    def parse_example_spec(self):
        spec = dict(self.categorical_column.parse_example_spec)
        spec[self.weight_feature_key] = VarLenFeature(self.dtype)
        return spec

    def transform_feature(self, cache):
        ids = cache.get(self.categorical_column)
        raw = cache.get(self.weight_feature_key)
        got = _input_dtype(raw)
        if got != self.dtype:  # TF compares dtypes; it does not cast the weights
            raise ValueError(f"Bad dtype, expected {_tf_dtype(self.dtype)}, but got "
                             f"{_tf_dtype(got)}.")
        w = to_sparse(raw, ignore_value=0.0)
        # a check only (host reads feed no op, so exports stay traceable)
        if host(w.indices).shape != host(ids.indices).shape or \
                not np.array_equal(host(w.indices), host(ids.indices)):
            raise ValueError(f"weighted_categorical_column {self.name}: the weights of "
                             f"{self.weight_feature_key!r} must have the same indices as the "
                             f"ids of {self.categorical_column.name!r}")
        # integer weights become float32, as TF does; float weights stay as they are
        return ids, _with_values(w, w.values if self.dtype.kind == "f" else
                                 ops.cast(w.values, np.float32))

    def get_sparse_tensors(self, cache, state=None):
        ids, w = cache.get(self)
        return IdWeightPair(ids, w)


def _input_dtype(x):
    """The dtype TF gives a raw feature: an array's or tensor's own; Python floats are
    float32 and Python ints int32 (``tf.convert_to_tensor``)."""
    if hasattr(x, "dtype"):
        return np.dtype(x.dtype)
    a = np.asarray(x)
    return {"f": np.dtype(np.float32), "i": np.dtype(np.int32), "U": np.dtype(object),
            "S": np.dtype(object)}.get(a.dtype.kind, a.dtype)


def _tf_dtype(dtype):
    """``dtype`` as TF prints a DType: ``<dtype: 'float32'>``."""
    return f"<dtype: '{'string' if dtype.kind == 'O' else dtype.name}'>"


def weighted_categorical_column(categorical_column, weight_feature_key, dtype=np.float32):
    """Attaches the weights in feature ``weight_feature_key`` to a categorical column's ids
    (for ``sum``/``mean``/``sqrtn`` embedding combiners and indicator counts).

    ``dtype`` (float or integer) must be the weights' dtype: other weights raise
    ``ValueError("Bad dtype, ...")`` when the column is transformed, as in TF; integer
    weights are used as float32."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"categorical_column must be a CategoricalColumn, got "
                         f"{categorical_column!r}")
    if np.dtype(dtype).kind not in "fiu":
        raise ValueError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn(categorical_column, weight_feature_key, dtype)


@register_column
class CrossedColumn(CategoricalColumn):
    """Hashed crosses of several keys (see :func:`crossed_column`)."""

    _fields = ("keys", "hash_bucket_size", "hash_key")

    def __init__(self, keys, hash_bucket_size, hash_key=None):
        self.keys, self.hash_bucket_size = tuple(keys), hash_bucket_size
        self.hash_key = hash_key

    def _leaves(self):
        out = []
        for k in self.keys:
            out += k._leaves() if isinstance(k, CrossedColumn) else [k]
        return out

    @property
    def name(self):
        return "_X_".join(sorted(k if isinstance(k, str) else k.name for k in self._leaves()))

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    @property
    def parents(self):
        return list(self.keys)

    @property
    def parse_example_spec(self):
        spec = {}
        for k in self._leaves():
            if isinstance(k, str):
                spec[k] = VarLenFeature(np.dtype(object))
            else:
                spec.update(k.parse_example_spec)
        return spec

    def transform_feature(self, cache):
        inputs = []
        for k in self._leaves():
            if isinstance(k, str):
                raw = cache.get(k)
            else:
                pair = k.get_sparse_tensors(cache)
                if pair.weight_tensor is not None:
                    raise ValueError(f"crossed_column does not support weight_tensor, but the "
                                     f"given column populates weight_tensor. Given column: "
                                     f"{k.name}")
                raw = pair.id_tensor
            if isinstance(raw, SparseTensor):
                inputs.append(sparse_components(raw))
            else:  # a dense raw feature stays dense (TF crosses sparse inputs first, then dense)
                t = raw if isinstance(raw, Tensor) else constant(host(raw))
                if t.ndim == 0:
                    raise ValueError(f"Feature ({k}) cannot have rank 0.")
                inputs.append(ops.reshape(t, (int(t.shape[0]), 1)) if t.ndim == 1 else t)
        return sparse_cross_hashed(inputs, num_buckets=self.hash_bucket_size,
                                   hash_key=_DEFAULT_HASH_KEY if self.hash_key is None
                                   else self.hash_key)


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """Crosses features: each row's cartesian product of the keys' values (last key fastest)
    hashed with TF's FingerprintCat64 chain into ``hash_bucket_size`` ids.

    Args:
        keys: two or more feature keys (strings) or categorical columns (not hashed ones).
        hash_bucket_size: number of ids.
        hash_key: the chain's seed (default ``0xDECAFCAFFE``).
    """
    keys = list(keys)
    if len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    if not isinstance(hash_bucket_size, (int, np.integer)) or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    for k in keys:
        if isinstance(k, HashedCategoricalColumn):
            raise ValueError("categorical_column_with_hash_bucket is not supported for "
                             "crossing. Hashing before crossing will increase probability of "
                             f"collision. Instead, use the feature name as a string. Given: {k}")
        if not isinstance(k, (str, CategoricalColumn)):
            raise ValueError(f"Unsupported key type. All keys must be either string, or "
                             f"categorical column except HashedCategoricalColumn. Given: {k}")
    return CrossedColumn(keys, int(hash_bucket_size), hash_key)


@register_column
class SequenceCategoricalColumn(CategoricalColumn):
    """A categorical column whose ids keep each example's sequence (TF's
    ``SequenceCategoricalColumn``): the wrapped column's transform, with ids shaped
    ``[batch, time, 1]`` (``[batch, time, k]`` for rank-3 inputs) so that an embedding or
    indicator column over it gives one output per step instead of combining the sequence."""

    _fields = ("categorical_column",)

    def __init__(self, categorical_column):
        self.categorical_column = categorical_column

    @property
    def name(self):
        return self.categorical_column.name

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    @property
    def parents(self):
        return [self.categorical_column]

    @property
    def parse_example_spec(self):
        return self.categorical_column.parse_example_spec

    def transform_feature(self, cache):
        pair = self.categorical_column.get_sparse_tensors(cache)
        ids = seq_ids3d(pair.id_tensor, key=self.name)
        w = None if pair.weight_tensor is None else _with_values(ids, pair.weight_tensor.values)
        return IdWeightPair(ids, w)

    def get_sparse_tensors(self, cache, state=None):
        return cache.get(self)
