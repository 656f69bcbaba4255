"""Parsing of ``tf.train.SequenceExample`` (``parse_single_sequence_example``,
``parse_sequence_example``).

Sequence data is rarer and smaller than flat Examples in CTR work, so this path decodes
with protobuf. It follows TF's FastParseSequenceExample, including its error messages
(which differ from ``parse_example``'s for context features too).

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
from .example_pb2 import SequenceExample
from .parse import shape_str
from .parsing_config import (KIND_OF_DTYPE, FixedLenFeature, FixedLenSequenceFeature,
                             VarLenFeature)

__all__ = ["parse_single_sequence_example", "parse_sequence_example"]

_FIELD = {1: "bytes_list", 2: "float_list", 3: "int64_list"}
_TNAME = {1: "string", 2: "float", 3: "int64"}


def _array(vals, dtype):
    if dtype.kind == "O":
        out = np.empty(len(vals), dtype=object)
        out[:] = vals
        return out
    return np.asarray(vals, dtype=dtype)


def _values(feature, dtype):
    """The feature's values, or None when its list kind is not the dtype's."""
    kind = feature.WhichOneof("kind")
    if kind is None:
        return np.zeros(0, dtype=dtype)
    if kind != _FIELD[KIND_OF_DTYPE[dtype]]:
        return None
    return _array(list(getattr(feature, kind).value), dtype)


def _context(protos, context_features, names):
    """Context values per key: a list over examples of (present, values)."""
    out = {}
    for key, cfg in context_features.items():
        if not isinstance(cfg, (FixedLenFeature, VarLenFeature)):
            raise ValueError(f"context_features[{key!r}] must be a FixedLenFeature or "
                             f"VarLenFeature, got {type(cfg).__name__}")
        per = []
        for b, se in enumerate(protos):
            if key not in se.context.feature:
                per.append((False, np.zeros(0, dtype=cfg.dtype)))
                continue
            v = _values(se.context.feature[key], cfg.dtype)
            if v is None:
                raise InvalidArgumentError(
                    f"Name: {names[b]}, Context feature: {key}.  Data types don't match. "
                    f"Expected type: {_TNAME[KIND_OF_DTYPE[cfg.dtype]]}")
            per.append((True, v))
        out[key] = per
    return out


def _sequences(protos, sequence_features, names):
    """dict key -> list over examples of list over steps of value arrays (None if absent)."""
    out = {}
    for key, cfg in sequence_features.items():
        if not isinstance(cfg, (FixedLenSequenceFeature, VarLenFeature)):
            raise ValueError(f"sequence_features[{key!r}] must be a FixedLenSequenceFeature or "
                             f"VarLenFeature, got {type(cfg).__name__}")
        if isinstance(cfg, FixedLenSequenceFeature) and cfg.default_value is not None:
            raise ValueError(f"Value feature_list.dense_defaults[{key}] must be None")
        per = []
        for b, se in enumerate(protos):
            if key not in se.feature_lists.feature_list:
                per.append(None)
                continue
            steps = []
            for t, f in enumerate(se.feature_lists.feature_list[key].feature):
                v = _values(f, cfg.dtype)
                if v is None:
                    raise InvalidArgumentError(
                        f"Name: {names[b]}, Feature list: {key}, Index: {t}.  Data types "
                        f"don't match. Expected type: {_TNAME[KIND_OF_DTYPE[cfg.dtype]]}")
                steps.append(v)
            per.append(steps)
        out[key] = per
    return out


def _context_dense(key, cfg, per, names):
    n = int(np.prod(cfg.shape, dtype=np.int64))
    default = cfg.default_value
    longest = max([v.size for present, v in per if present] +
                  [default.size if default is not None else 0])
    if longest != n:
        raise InvalidArgumentError(f"Inconsistent max number of elements for feature {key}: "
                                   f"expected {n}, but found {longest}")
    out = np.empty((len(per), n), dtype=cfg.dtype)
    for b, (present, v) in enumerate(per):
        if not present:
            if default is None:
                raise InvalidArgumentError(
                    f"Feature: {key} (data type: {_TNAME[KIND_OF_DTYPE[cfg.dtype]]}) is "
                    "required but could not be found.")
            v = default.reshape(-1)
        if v.size != n:
            raise InvalidArgumentError(f"Unexpected number of elements in example {names[b]}")
        out[b] = v
    return out.reshape((len(per),) + cfg.shape)


def _context_sparse(cfg, per):
    counts = np.array([v.size for _, v in per], dtype=np.int64)
    rows = np.repeat(np.arange(len(per), dtype=np.int64), counts)
    cols = np.concatenate([np.arange(c, dtype=np.int64) for c in counts]) if len(per) else \
        np.zeros(0, dtype=np.int64)
    vals = [v for _, v in per]
    values = np.concatenate(vals) if vals else np.zeros(0, dtype=cfg.dtype)
    width = int(counts.max()) if len(per) else 0
    return SparseTensor(np.stack([rows, cols], axis=1), values.astype(cfg.dtype),
                        np.array([len(per), width], dtype=np.int64))


def _dense_steps(key, cfg, steps_per_example, names):
    n = int(np.prod(cfg.shape, dtype=np.int64))
    totals = [sum(v.size for v in steps) for steps in steps_per_example if steps]
    longest = max(totals, default=0)
    if n and longest % n:
        raise InvalidArgumentError(
            f"Feature list '{key}' has an unexpected number of values.  Total values size: "
            f"{longest} is not consistent with output shape: {shape_str(cfg.shape, True)}")
    lengths = []
    for b, steps in enumerate(steps_per_example):
        if steps is None:
            if not cfg.allow_missing:
                raise InvalidArgumentError(
                    f"Name: {names[b]}, Feature list '{key}' is required but could not be "
                    "found.  Did you mean to include it in "
                    "feature_list_dense_missing_assumed_empty or feature_list_dense_defaults?")
            steps = []
        for t, v in enumerate(steps):
            if v.size != n:
                raise InvalidArgumentError(
                    f"Name: {names[b]}, Key: {key}, Index: {t}.  Number of values != expected."
                    f"  values size: {v.size} but output shape: {shape_str(cfg.shape)}")
        lengths.append(len(steps))
    tmax = max(lengths, default=0)
    # TF pads feature lists with zeros / empty strings (a default_value is refused)
    out = np.full((len(lengths), tmax, n), b"" if cfg.dtype.kind == "O" else 0,
                  dtype=cfg.dtype)
    for b, steps in enumerate(steps_per_example):
        for t, v in enumerate(steps or []):
            out[b, t] = v
    return out.reshape((len(lengths), tmax) + cfg.shape), np.asarray(lengths, dtype=np.int64)


def _sparse_steps(cfg, steps_per_example):
    idx, vals, tmax, imax = [], [], 0, 0
    for b, steps in enumerate(steps_per_example):
        steps = steps or []
        tmax = max(tmax, len(steps))
        for t, v in enumerate(steps):
            imax = max(imax, v.size)
            for i in range(v.size):
                idx.append((b, t, i))
            vals.append(v)
    values = np.concatenate(vals) if vals else np.zeros(0, dtype=cfg.dtype)
    indices = np.asarray(idx, dtype=np.int64).reshape(-1, 3)
    return SparseTensor(indices, values.astype(cfg.dtype) if cfg.dtype.kind != "O" else values,
                        np.array([len(steps_per_example), tmax, imax], dtype=np.int64))


def _names(example_names, count):
    if example_names is None:
        return ["<unknown>"] * count
    names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n)
             for n in np.asarray(example_names, dtype=object).reshape(-1).tolist()]
    if len(names) != count:
        raise InvalidArgumentError(
            "example_names must be empty or have the correct number of elements")
    return names


def parse_sequence_example(serialized, context_features=None, sequence_features=None,
                           example_names=None, name=None):
    """Parses a batch of serialized SequenceExamples.

    Returns:
        (context, sequence, lengths): context like :func:`parse_example`; sequence
        FixedLenSequenceFeature values padded with zeros (or b"") to (B, T_max) + shape,
        VarLenFeature as SparseTensor with indices (b, t, i); lengths[key] int64 (B,),
        for the FixedLenSequenceFeature keys only (as in TF).

    Raises:
        ValueError: neither context nor sequence features, a bad config, or a
            FixedLenSequenceFeature with a default_value (TF refuses it here).
        InvalidArgumentError: malformed or mismatched data (TF's messages).
    """
    del name
    if not (context_features or sequence_features):
        raise ValueError("Both `context_features` and `sequence_features` argument are None, "
                         "but at least one should have values.")
    items = [serialized] if isinstance(serialized, bytes) else list(
        np.asarray(serialized, dtype=object).reshape(-1))
    names = _names(example_names, len(items))
    protos = []
    for b, s in enumerate(items):
        try:
            protos.append(SequenceExample.FromString(s))
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            raise InvalidArgumentError(
                f"Invalid protocol message input, example id: {names[b]}") from None
    context_features = context_features or {}
    sequence_features = sequence_features or {}
    ctx_values = _context(protos, context_features, names)
    seq_values = _sequences(protos, sequence_features, names)
    context = {}
    for key, cfg in context_features.items():
        if isinstance(cfg, FixedLenFeature):
            context[key] = _context_dense(key, cfg, ctx_values[key], names)
    for key, cfg in context_features.items():
        if isinstance(cfg, VarLenFeature):
            context[key] = _context_sparse(cfg, ctx_values[key])
    sequence, lengths = {}, {}
    for key, cfg in sequence_features.items():
        if isinstance(cfg, FixedLenSequenceFeature):
            sequence[key], lengths[key] = _dense_steps(key, cfg, seq_values[key], names)
    for key, cfg in sequence_features.items():
        if isinstance(cfg, VarLenFeature):
            sequence[key] = _sparse_steps(cfg, seq_values[key])
    context = {k: context[k] for k in context_features}
    sequence = {k: sequence[k] for k in sequence_features}
    return context, sequence, lengths


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None,
                                  example_name=None, name=None):
    """Parses one serialized SequenceExample into (context, sequence) dicts.

    FixedLenSequenceFeature gives (T,) + shape; VarLenFeature a SparseTensor with indices
    (t, i) and dense_shape (T, max_i).
    """
    del name
    names = None if example_name is None else [example_name]
    ctx, seq, _ = parse_sequence_example([serialized], context_features, sequence_features,
                                         example_names=names)
    ctx = {k: (SparseTensor(v.indices[:, 1:], v.values, v.dense_shape[1:])
               if isinstance(v, SparseTensor) else v[0]) for k, v in ctx.items()}
    seq = {k: (SparseTensor(v.indices[:, 1:], v.values, v.dense_shape[1:])
               if isinstance(v, SparseTensor) else v[0]) for k, v in seq.items()}
    return ctx, seq
