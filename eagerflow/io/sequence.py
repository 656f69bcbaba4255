"""Parsing of ``tf.train.SequenceExample`` (``parse_single_sequence_example``,
``parse_sequence_example``).

Sequence data is rarer and smaller than flat Examples in CTR work, so this path decodes
with protobuf; the context features reuse the fast batched parser.

Example:
    >>> from eagerflow.io.example import (SequenceExample, FeatureList, Feature, Int64List)
    >>> se = SequenceExample()
    >>> fl = se.feature_lists.feature_list["ids"]
    >>> for v in ([1], [2]): _ = fl.feature.add(int64_list=Int64List(value=v))
    >>> ctx, seq = parse_single_sequence_example(
    ...     se.SerializeToString(), sequence_features={"ids": FixedLenSequenceFeature([], "int64")})
    >>> seq["ids"].tolist()
    [1, 2]
"""
import numpy as np

from eagerflow.autograd.sparse_tensor import SparseTensor

from .errors import InvalidArgumentError
from .example_pb2 import Example, SequenceExample
from .parse import parse_example
from .parsing_config import (KIND_OF_DTYPE, FixedLenFeature, FixedLenSequenceFeature,
                             VarLenFeature)

__all__ = ["parse_single_sequence_example", "parse_sequence_example"]

_FIELD = {1: "bytes_list", 2: "float_list", 3: "int64_list"}
_TNAME = {1: "string", 2: "float", 3: "int64"}


def _values(feature, key, dtype, b):
    kind = feature.WhichOneof("kind")
    want = KIND_OF_DTYPE[dtype]
    if kind is None:
        return np.zeros(0, dtype=dtype)
    if kind != _FIELD[want]:
        raise InvalidArgumentError(f"Key: {key}, Index: {b}.  Data types don't match. "
                                   f"Expected type: {_TNAME[want]}, got {kind}")
    vals = list(getattr(feature, kind).value)
    if dtype.kind == "O":
        out = np.empty(len(vals), dtype=object)
        out[:] = vals
        return out
    return np.asarray(vals, dtype=dtype)


def _sequences(protos, sequence_features):
    """dict key -> list over examples of list over steps of value arrays (None if absent)."""
    out = {}
    for key, cfg in sequence_features.items():
        if not isinstance(cfg, (FixedLenSequenceFeature, VarLenFeature)):
            raise ValueError(f"sequence_features[{key!r}] must be a FixedLenSequenceFeature or "
                             f"VarLenFeature, got {type(cfg).__name__}")
        per = []
        for b, se in enumerate(protos):
            if key in se.feature_lists.feature_list:
                per.append([_values(f, key, cfg.dtype, b)
                            for f in se.feature_lists.feature_list[key].feature])
            else:
                per.append(None)
        out[key] = per
    return out


def _dense_steps(key, cfg, steps_per_example):
    n = int(np.prod(cfg.shape, dtype=np.int64))
    lengths = []
    for b, steps in enumerate(steps_per_example):
        if steps is None:
            if not cfg.allow_missing:
                raise InvalidArgumentError(f"Name: {b}, Feature list '{key}' is required but "
                                           "could not be found.  Did you mean to include it in "
                                           "feature_list_dense_missing_assumed_empty or "
                                           "feature_list_dense_defaults?")
            steps = []
        for t, v in enumerate(steps):
            if v.size != n:
                raise InvalidArgumentError(
                    f"Name: {b}, Key: {key}, Index: {t}.  Number of values != expected.  "
                    f"values size: {v.size} but output shape: {list(cfg.shape)}")
        lengths.append(len(steps))
    tmax = max(lengths, default=0)
    pad = cfg.default_value if cfg.default_value is not None else (
        b"" if cfg.dtype.kind == "O" else 0)
    out = np.full((len(lengths), tmax, n), pad, dtype=cfg.dtype)
    for b, steps in enumerate(steps_per_example):
        for t, v in enumerate(steps or []):
            out[b, t] = v
    return out.reshape((len(lengths), tmax) + cfg.shape), np.asarray(lengths, dtype=np.int64)


def _sparse_steps(cfg, steps_per_example):
    idx, vals, tmax, imax = [], [], 0, 0
    lengths = []
    for b, steps in enumerate(steps_per_example):
        steps = steps or []
        lengths.append(len(steps))
        tmax = max(tmax, len(steps))
        for t, v in enumerate(steps):
            imax = max(imax, v.size)
            for i in range(v.size):
                idx.append((b, t, i))
            vals.append(v)
    values = np.concatenate(vals) if vals else np.zeros(0, dtype=cfg.dtype)
    indices = np.asarray(idx, dtype=np.int64).reshape(-1, 3)
    st = SparseTensor(indices, values.astype(cfg.dtype) if cfg.dtype.kind != "O" else values,
                      np.array([len(lengths), tmax, imax], dtype=np.int64))
    return st, np.asarray(lengths, dtype=np.int64)


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch of serialized SequenceExamples.

    Returns:
        (context, sequence, lengths): context like :func:`parse_example`; sequence
        FixedLenSequenceFeature values padded to (B, T_max) + shape, VarLenFeature as
        SparseTensor with indices (b, t, i); lengths[key] int64 (B,).
    """
    del example_names, name
    items = [serialized] if isinstance(serialized, bytes) else list(
        np.asarray(serialized, dtype=object).reshape(-1))
    protos = [SequenceExample.FromString(s) for s in items]
    context = {}
    if context_features:
        flat = [Example(features=p.context).SerializeToString() for p in protos]
        context = parse_example(flat, context_features)
    sequence, lengths = {}, {}
    for key, steps in _sequences(protos, sequence_features or {}).items():
        cfg = sequence_features[key]
        if isinstance(cfg, FixedLenSequenceFeature):
            sequence[key], lengths[key] = _dense_steps(key, cfg, steps)
        else:
            sequence[key], lengths[key] = _sparse_steps(cfg, steps)
    return context, sequence, lengths


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized SequenceExample into (context, sequence) dicts.

    FixedLenSequenceFeature gives (T,) + shape; VarLenFeature a SparseTensor with indices
    (t, i) and dense_shape (T, max_i).
    """
    del example_name, name
    if context_features:
        for k, c in context_features.items():
            if not isinstance(c, (FixedLenFeature, VarLenFeature)):
                raise ValueError(f"context_features[{k!r}] must be FixedLenFeature or "
                                 "VarLenFeature")
    ctx, seq, _ = parse_sequence_example([serialized], context_features, sequence_features)
    ctx = {k: (SparseTensor(v.indices[:, 1:], v.values, v.dense_shape[1:])
               if isinstance(v, SparseTensor) else v[0]) for k, v in ctx.items()}
    seq = {k: (SparseTensor(v.indices[:, 1:], v.values, v.dense_shape[1:])
               if isinstance(v, SparseTensor) else v[0]) for k, v in seq.items()}
    return ctx, seq
