"""Column base classes, the transformation cache and sparse-input helpers.

Columns follow TF's v2 split: a :class:`DenseColumn` gives a ``(batch, n)`` float tensor,
a :class:`CategoricalColumn` gives an :class:`IdWeightPair` of SparseTensors (ids and
optional weights). Id computations (hashing, vocabulary lookup, crossing) run on the host
over NumPy arrays; embeddings and dense outputs live on the current backend.
"""
import collections

import numpy as np

from .. import backend
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor

__all__ = ["FeatureColumn", "WrapperColumn", "DenseColumn", "CategoricalColumn", "IdWeightPair",
           "SequenceDenseColumn", "TensorSequenceLengthPair",
           "FeatureTransformationCache", "host", "to_sparse_input", "prune_invalid",
           "batch_size_of"]

IdWeightPair = collections.namedtuple("IdWeightPair", ["id_tensor", "weight_tensor"])
TensorSequenceLengthPair = collections.namedtuple("TensorSequenceLengthPair",
                                                  ["dense_tensor", "sequence_length"])


def host(x):
    """A NumPy array for a Tensor / array / list (strings stay object arrays)."""
    if isinstance(x, Tensor):
        x = x._data
    a = backend.to_numpy(x) if backend.is_array(x) else np.asarray(x)
    if a.dtype.kind in "US":
        a = a.astype(object)
    return a


def _host_sparse(sp):
    return SparseTensor(host(sp.indices).astype(np.int64).reshape(-1, len(host(sp.dense_shape))),
                        host(sp.values), host(sp.dense_shape).astype(np.int64))


class FeatureColumn:
    """Base of every column: ``name``, ``parse_example_spec``, ``transform_feature``,
    ``parents``, ``get_config`` / ``from_config``; equal columns compare equal."""

    _fields = ()

    @property
    def name(self):
        raise NotImplementedError

    @property
    def parse_example_spec(self):
        raise NotImplementedError

    @property
    def parents(self):
        return []

    def transform_feature(self, cache):
        raise NotImplementedError

    def _key(self):
        return tuple(_freeze(getattr(self, f)) for f in self._fields)

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))

    def __lt__(self, other):
        return self.name < other.name

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def get_config(self):
        cfg = {}
        for f in self._fields:
            v = getattr(self, f)
            if isinstance(v, FeatureColumn):
                v = serialize(v)
            elif isinstance(v, (list, tuple)) and v and isinstance(v[0], FeatureColumn):
                v = [serialize(c) for c in v]
            cfg[f] = v
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None, columns_by_name=None):
        kwargs = {}
        for k, v in config.items():
            if isinstance(v, dict) and "class_name" in v:
                v = deserialize(v)
            elif isinstance(v, list) and v and isinstance(v[0], dict) and "class_name" in v[0]:
                v = [deserialize(c) for c in v]
            kwargs[k] = v
        return cls(**kwargs)


def _freeze(v):
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, np.ndarray):
        return tuple(v.tolist())
    if callable(v) and not isinstance(v, FeatureColumn):
        return id(v)
    return v


_CLASSES = {}


def register_column(cls):
    _CLASSES[cls.__name__] = cls
    return cls


def serialize(column):
    """``{'class_name': ..., 'config': ...}`` (``tf.feature_column.serialize_feature_column``)."""
    return {"class_name": type(column).__name__, "config": column.get_config()}


def deserialize(config):
    """The column a :func:`serialize` dict describes."""
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"unknown feature column class {config.get('class_name')!r}")
    return cls.from_config(config["config"])


class WrapperColumn(FeatureColumn):
    """A column built on one other column: its name is the source's plus a suffix, and it
    parses what the source parses."""

    _source = "categorical_column"
    _suffix = ""

    @property
    def source(self):
        return getattr(self, self._source)

    @property
    def name(self):
        return f"{self.source.name}{self._suffix}"

    @property
    def parents(self):
        return [self.source]

    @property
    def parse_example_spec(self):
        return self.source.parse_example_spec


class DenseColumn(FeatureColumn):
    """A column with a dense representation: ``get_dense_tensor`` gives ``(batch, *shape)``."""

    @property
    def variable_shape(self):
        raise NotImplementedError

    def get_dense_tensor(self, cache, state=None):
        raise NotImplementedError


class SequenceDenseColumn(FeatureColumn):
    """A column with a per-step dense representation: ``get_sequence_dense_tensor`` gives a
    :class:`TensorSequenceLengthPair` of ``(batch, time, *variable_shape)`` and the
    per-example lengths ``(batch,)`` int64 (what ``sequence_input_layer`` concatenates)."""

    def get_sequence_dense_tensor(self, cache, state=None):
        raise NotImplementedError


class CategoricalColumn(FeatureColumn):
    """A column of ids in ``[0, num_buckets)``: ``get_sparse_tensors`` gives ids/weights."""

    @property
    def num_buckets(self):
        raise NotImplementedError

    def get_sparse_tensors(self, cache, state=None):
        return IdWeightPair(cache.get(self), None)

    def dense_id_tensor(self, cache):
        """The ids as a ``(batch, n)`` int64 Tensor with -1 for missing entries, when the
        raw feature is a dense tensor this column can map without a SparseTensor; else
        None (the lookup then takes :meth:`get_sparse_tensors`). Read it through
        ``cache.dense_ids(column)``."""
        return None


class FeatureTransformationCache:
    """Transforms each column once per batch; raw features are looked up by key.

    Args:
        features: dict of feature key -> Tensor / NumPy array / SparseTensor.
    """

    def __init__(self, features):
        if not isinstance(features, dict):
            raise TypeError(f"features must be a dict of key -> tensor, got "
                            f"{type(features).__name__}")
        self._features = features
        self._cache = {}

    def get(self, key):
        """The raw feature ``key`` (a string) or the transformed column ``key``."""
        if isinstance(key, str):
            if key not in self._features:
                raise ValueError(f"The feature {key!r} is not in features dictionary; "
                                 f"available: {sorted(self._features)}")
            return self._features[key]
        cached = self._cache.get(key)
        if cached is None:
            cached = key.transform_feature(self)
            self._cache[key] = cached
        return cached

    def dense_ids(self, column):
        """``column.dense_id_tensor(self)``, computed once per batch (may be None)."""
        k = ("dense_ids", column)
        if k not in self._cache:
            self._cache[k] = column.dense_id_tensor(self)
        return self._cache[k]


def batch_size_of(x):
    if isinstance(x, SparseTensor):
        return int(host(x.dense_shape)[0])
    return int(np.shape(x._data if isinstance(x, Tensor) else x)[0])


def to_sparse_input(x, ignore_value=None):
    """A host SparseTensor for a raw categorical feature (TF's
    ``_to_sparse_input_and_drop_ignore_values``): dense inputs become sparse, dropping the
    ignore value (``''`` for strings, -1 for ints); rank-1 inputs become ``(batch, 1)``.

    Raises:
        ValueError: for a rank-0 input.
    """
    if isinstance(x, SparseTensor):
        return _host_sparse(x)
    a = host(x)
    if a.ndim == 0:
        raise ValueError(f"Feature (key) cannot have rank 0. Given: {a!r}")
    if a.ndim == 1:
        a = a[:, None]
    if ignore_value is None:
        ignore_value = "" if a.dtype.kind == "O" else -1
    if a.dtype.kind == "O":
        keep = np.array([v != ignore_value and v != ignore_value.encode()
                         if isinstance(ignore_value, str) else v != ignore_value
                         for v in a.reshape(-1)], dtype=bool).reshape(a.shape)
    else:
        keep = a != ignore_value
    idx = np.argwhere(keep).astype(np.int64)
    return SparseTensor(idx, a[keep], np.asarray(a.shape, dtype=np.int64))


def prune_invalid(ids, weights=None):
    """Drops ids < 0 and, when weights are given, weights <= 0 (TF's safe lookup)."""
    keep = host(ids.values) >= 0
    if weights is not None:
        keep &= host(weights.values) > 0
    if keep.all():
        return ids, weights
    ids = SparseTensor(host(ids.indices)[keep], host(ids.values)[keep], host(ids.dense_shape))
    if weights is not None:
        weights = SparseTensor(host(weights.indices)[keep], host(weights.values)[keep],
                               host(weights.dense_shape))
    return ids, weights
