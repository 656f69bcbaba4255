"""Dense columns: numeric, bucketized, embedding, shared embeddings, indicator."""
import math

import numpy as np

from .. import backend, ops
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor, _wrap
from ..backend.dtypes import as_dtype
from ..io.parsing_config import FixedLenFeature
from ..nn import embedding_lookup_sparse
from ..nn.embedding import _bag as embedding_bag_op
from ..ops.cross import bucketize
from ..train.saver import load_variable
from ..variables import TruncatedNormal, get_default_store, get_variable
from .base import (CategoricalColumn, DenseColumn, FeatureColumn, IdWeightPair,
                   SequenceDenseColumn, TensorSequenceLengthPair, WrapperColumn,
                   register_column)
from .categorical import SequenceCategoricalColumn, _with_values
from .transform_ops import (bag_offsets, bucket_dense_ids, bucket_sparse, dense_lookup,
                            indicator, prune, seq_flatten, seq_length, seq_unflatten)

__all__ = ["numeric_column", "bucketized_column", "embedding_column",
           "shared_embedding_columns", "shared_embeddings", "indicator_column",
           "NumericColumn", "BucketizedColumn", "EmbeddingColumn", "SharedEmbeddingColumn",
           "IndicatorColumn"]


def _float_tensor(x, what):
    if isinstance(x, SparseTensor):
        raise ValueError(f"The corresponding Tensor of numerical column must be a Tensor. "
                         f"SparseTensor is not supported. key: {what}")
    if isinstance(x, Tensor):
        if x.dtype.kind not in "biuf":
            raise ValueError(f"numeric_column {what}: the feature must be numeric, got a "
                             f"tensor of dtype {x.dtype}")
        return x if x.dtype == np.float32 else ops.cast(x, np.float32)
    a = np.asarray(x) if not backend.is_array(x) else x
    if a.dtype.kind not in "biuf":
        raise ValueError(f"numeric_column {what}: the feature must be numeric, got values "
                         f"of dtype {a.dtype}")
    return _wrap(backend.asarray(a, dtype=np.float32))


class _NumericColumnBase(FeatureColumn):
    """The fields of a real-valued column (:class:`NumericColumn` and the sequence
    column of :func:`sequence_numeric_column`): one value of ``shape`` per example or
    step, named by its key."""

    _fields = ("key", "shape", "default_value", "dtype", "normalizer_fn")

    def __init__(self, key, shape=(1,), default_value=None, dtype=np.float32, normalizer_fn=None):
        self.key, self.shape, self.default_value = key, tuple(shape), default_value
        self.dtype, self.normalizer_fn = np.dtype(dtype), normalizer_fn

    @property
    def name(self):
        return self.key

    @property
    def variable_shape(self):
        return self.shape


@register_column
class NumericColumn(_NumericColumnBase, DenseColumn):
    """A dense numeric feature of a fixed shape (see :func:`numeric_column`)."""

    @property
    def parse_example_spec(self):
        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}

    def transform_feature(self, cache):
        x = cache.get(self.key)
        if isinstance(x, SparseTensor):
            _float_tensor(x, self.key)
        if self.normalizer_fn is not None:
            x = self.normalizer_fn(x if isinstance(x, Tensor) else _float_tensor(x, self.key))
        return _float_tensor(x, self.key)

    def get_dense_tensor(self, cache, state=None):
        return cache.get(self)


def numeric_column(key, shape=(1,), default_value=None, dtype=np.float32, normalizer_fn=None):
    """A real-valued feature (``tf.feature_column.numeric_column``).

    Args:
        key: the feature key.
        shape: the shape of one example's value (an int or tuple of positive ints).
        default_value: used for missing values when parsing Examples: a Python int (or
            float, for a float ``dtype``) is broadcast; a list must be nested like
            ``shape``. Stored as a tuple nested like ``shape``, as TF does.
        dtype: float or int; the dense output is float32.
        normalizer_fn: applied to the raw tensor before the cast.

    Raises:
        ValueError: a bad shape, a non-numeric ``dtype``, a ``default_value`` list not
            nested like ``shape``.
        TypeError: a ``default_value`` that does not fit ``dtype`` (e.g. a float for an
            integer ``dtype``).

    Example:
        >>> numeric_column("age").parse_example_spec["age"].shape
        (1,)
    """
    shape, dtype = _check_numeric_args("numeric_column", key, shape, dtype, normalizer_fn)
    default_value = _check_default_value(shape, default_value, dtype, key)
    return NumericColumn(key, shape, default_value, dtype, normalizer_fn)


def _is_nested(value):
    # TF's nest.is_sequence for the values a default can hold: lists and tuples, not strings
    return isinstance(value, (list, tuple))


def _filled(shape, value):
    return tuple(_filled(shape[1:], value) for _ in range(shape[0])) if shape else value


def _nested_tuple(value):
    return tuple(_nested_tuple(v) for v in value) if _is_nested(value) else value


def _matches_shape(value, shape):
    if _is_nested(value) != bool(shape):
        return False
    return not shape or (len(value) == shape[0] and
                         all(_matches_shape(v, shape[1:]) for v in value))


def _leaves(value):
    return [x for v in value for x in _leaves(v)] if _is_nested(value) else [value]


def _check_default_value(shape, default_value, dtype, key):
    """``default_value`` as a tuple nested like ``shape`` (TF's
    ``feature_column.utils.check_default_value``): a Python int, or a Python float for a
    float ``dtype``, fills ``shape``; a list (or array) must be nested exactly like
    ``shape`` and hold ints only, or floats with a float ``dtype``.

    Raises:
        ValueError: a list not nested like ``shape``.
        TypeError: a value that does not fit ``dtype`` (a float for an integer dtype, a
            string, a NumPy scalar).
    """
    if default_value is None:
        return None
    if isinstance(default_value, int) or (isinstance(default_value, float) and
                                          dtype.kind == "f"):
        return _filled(shape, default_value)
    if callable(getattr(default_value, "tolist", None)):  # NumPy arrays
        default_value = default_value.tolist()
    if _is_nested(default_value):
        if not _matches_shape(default_value, shape):
            raise ValueError(f"The shape of default_value must be equal to given shape. "
                             f"default_value: {default_value}, shape: {shape}, key: {key}")
        leaves = _leaves(default_value)
        if all(isinstance(v, int) for v in leaves) or (
                dtype.kind == "f" and any(isinstance(v, float) for v in leaves)):
            return _nested_tuple(default_value)
    raise TypeError(f"default_value must be compatible with dtype. default_value: "
                    f"{default_value}, dtype: {dtype}, key: {key}")


def _check_numeric_args(what, key, shape, dtype, normalizer_fn):
    """The argument checks of ``numeric_column`` and ``sequence_numeric_column`` (``what``):
    returns ``shape`` as a tuple of ints and ``dtype`` as a NumPy dtype."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what}: key must be a non-empty string, got {key!r}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not shape or any(not isinstance(d, (int, np.integer)) or d < 1 for d in shape):
        raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}")
    dtype = as_dtype(dtype)
    if dtype.kind not in "fiu":
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return tuple(int(d) for d in shape), dtype


@register_column
class BucketizedColumn(WrapperColumn, DenseColumn, CategoricalColumn):
    """A numeric column discretised by ``boundaries`` (see :func:`bucketized_column`)."""

    _fields = ("source_column", "boundaries")
    _source, _suffix = "source_column", "_bucketized"

    def __init__(self, source_column, boundaries):
        self.source_column, self.boundaries = source_column, tuple(boundaries)

    @property
    def variable_shape(self):
        return tuple(self.source_column.shape) + (len(self.boundaries) + 1,)

    @property
    def num_buckets(self):
        return (len(self.boundaries) + 1) * int(np.prod(self.source_column.shape))

    def transform_feature(self, cache):
        return bucketize(cache.get(self.source_column), self.boundaries)

    def get_dense_tensor(self, cache, state=None):
        ids = cache.get(self)
        return ops.one_hot(ids, len(self.boundaries) + 1, dtype=np.float32)

    def get_sparse_tensors(self, cache, state=None):
        return IdWeightPair(bucket_sparse(cache.get(self), len(self.boundaries) + 1), None)

    def dense_id_tensor(self, cache):
        return bucket_dense_ids(cache.get(self), width=len(self.boundaries) + 1)


def bucketized_column(source_column, boundaries):
    """Buckets a numeric column: bucket = number of boundaries <= value
    (``(-inf, b0), [b0, b1), ..., [b_last, inf)``). Dense output is one-hot per element."""
    if not isinstance(source_column, NumericColumn):
        raise ValueError(f"source_column must be a column generated with numeric_column(). "
                         f"Given: {source_column}")
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}")
    if not boundaries or not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    if any(b >= c for b, c in zip(boundaries[:-1], boundaries[1:])):
        raise ValueError(f"boundaries must be a sorted list. boundaries: {boundaries}")
    return BucketizedColumn(source_column, tuple(float(b) for b in boundaries))


def lookup_column(table, column, cache, combiner, max_norm=None):
    """The combined rows of ``table`` for a categorical column: over its dense ids when
    the raw feature allows it (no host read), else TF's safe sparse lookup."""
    ids = cache.dense_ids(column) if max_norm is None else None
    if ids is not None:
        return dense_lookup(table, ids, combiner=combiner)
    return _lookup(table, column.get_sparse_tensors(cache), combiner, max_norm)


def _lookup(table, pair, combiner, max_norm):
    """Safe embedding lookup (TF's): ids < 0 dropped, and weights <= 0 unless the combiner
    is ``'sum'``; empty rows zero.

    Without ``max_norm`` it is two recorded ops (bag offsets, the fused bag), so exported
    models run it too. The number of bags (the batch, or batch * time for a sequence) is
    read from the ids' dense_shape inside the offsets op, so an exported graph serves any
    batch and sequence length."""
    ids, weights = prune(pair.id_tensor, pair.weight_tensor, combiner)
    if max_norm is not None:
        return embedding_lookup_sparse(table, ids, weights, combiner=combiner,
                                       max_norm=max_norm)
    w = None if weights is None else ops.cast(weights.values, table.dtype)
    offsets = bag_offsets(ids.indices, ids.dense_shape)
    return embedding_bag_op(table, ids.values, offsets, w, combiner=combiner)


def _no_sequence(column, kind):
    if isinstance(column.categorical_column, SequenceCategoricalColumn):
        raise ValueError(f"In {kind}: {column.name}. categorical_column must not be of type "
                         f"SequenceCategoricalColumn. Suggested fix A: If you wish to use "
                         f"DenseFeatures / input_layer, use a non-sequence "
                         f"categorical_column_with_*. Suggested fix B: If you wish to create "
                         f"sequence input, use SequenceFeatures / sequence_input_layer instead.")


def _need_sequence(column, kind):
    if not isinstance(column.categorical_column, SequenceCategoricalColumn):
        raise ValueError(f"In {kind}: {column.name}. categorical_column must be of type "
                         f"SequenceCategoricalColumn to use SequenceFeatures. Suggested fix: "
                         f"Use one of sequence_categorical_column_with_*. Given (type "
                         f"{type(column.categorical_column).__name__}): "
                         f"{column.categorical_column}")


def _per_step(pair):
    """``[batch, time, k]`` ids/weights as ``[batch * time, k]`` bags."""
    ids = seq_flatten(pair.id_tensor)
    w = None if pair.weight_tensor is None else _with_values(ids, pair.weight_tensor.values)
    return IdWeightPair(ids, w)


@register_column
class EmbeddingColumn(WrapperColumn, DenseColumn, SequenceDenseColumn):
    """Dense embeddings of a categorical column (see :func:`embedding_column`)."""

    _suffix = "_embedding"

    _fields = ("categorical_column", "dimension", "combiner", "initializer",
               "ckpt_to_load_from", "tensor_name_in_ckpt", "max_norm", "trainable")

    def __init__(self, categorical_column, dimension, combiner="mean", initializer=None,
                 ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                 trainable=True):
        self.categorical_column, self.dimension = categorical_column, dimension
        self.combiner, self.initializer = combiner, initializer
        self.ckpt_to_load_from, self.tensor_name_in_ckpt = ckpt_to_load_from, tensor_name_in_ckpt
        self.max_norm, self.trainable = max_norm, trainable

    @property
    def variable_shape(self):
        return (self.dimension,)

    def transform_feature(self, cache):
        return self.categorical_column.get_sparse_tensors(cache)

    def _initializer(self):
        if self.ckpt_to_load_from is not None:
            return load_variable(self.ckpt_to_load_from, self.tensor_name_in_ckpt)
        return self.initializer or TruncatedNormal(mean=0.0, stddev=1.0 / math.sqrt(self.dimension))

    def _table(self, var_name="embedding_weights"):
        return get_variable(var_name, [self.categorical_column.num_buckets, self.dimension],
                            dtype=np.float32, initializer=self._initializer(),
                            trainable=self.trainable)

    def get_dense_tensor(self, cache, state=None, batch_size=None):
        _no_sequence(self, "embedding_column")
        return lookup_column(self._table(), self.categorical_column, cache, self.combiner,
                             self.max_norm)

    def get_sequence_dense_tensor(self, cache, state=None):
        """``(batch, time, dimension)`` embeddings of each step (zeros past an example's
        length) and the lengths, for a sequence categorical column."""
        _need_sequence(self, "embedding_column")
        pair = cache.get(self)
        flat = _lookup(self._table(), _per_step(pair), self.combiner, self.max_norm)
        ids = pair.id_tensor
        return TensorSequenceLengthPair(seq_unflatten(flat, ids.dense_shape),
                                        seq_length(ids.indices, ids.dense_shape))


def _check_embedding_args(categorical_column, dimension, combiner, initializer,
                          ckpt_to_load_from, tensor_name_in_ckpt):
    if not isinstance(dimension, (int, np.integer)) or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError("Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or "
                         "none of them.")
    if initializer is not None and not callable(initializer):
        raise ValueError(f"initializer must be callable if specified. Embedding of column_name: "
                         f"{getattr(categorical_column, 'name', categorical_column)}")
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn', 'sum'; got {combiner!r}")
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"categorical_column must be a CategoricalColumn, got "
                         f"{categorical_column!r}")


def embedding_column(categorical_column, dimension, combiner="mean", initializer=None,
                     ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                     trainable=True, use_safe_embedding_lookup=True):
    """Embeds a categorical column (``tf.feature_column.embedding_column``).

    The table ``<name>/embedding_weights`` of shape ``(num_buckets, dimension)`` defaults to
    a truncated normal with stddev ``1/sqrt(dimension)``; ids < 0 and weights <= 0 are
    dropped; a row with no ids gives zeros. Its gradient is ``IndexedSlices``.
    """
    _check_embedding_args(categorical_column, dimension, combiner, initializer,
                          ckpt_to_load_from, tensor_name_in_ckpt)
    return EmbeddingColumn(categorical_column, int(dimension), combiner, initializer,
                           ckpt_to_load_from, tensor_name_in_ckpt, max_norm, trainable)


@register_column
class SharedEmbeddingColumn(EmbeddingColumn):
    """One of several columns sharing one embedding table (see
    :func:`shared_embedding_columns`)."""

    _fields = EmbeddingColumn._fields + ("shared_embedding_collection_name",)

    def __init__(self, categorical_column, dimension, combiner="mean", initializer=None,
                 ckpt_to_load_from=None, tensor_name_in_ckpt=None, max_norm=None,
                 trainable=True, shared_embedding_collection_name=None):
        super().__init__(categorical_column, dimension, combiner, initializer,
                         ckpt_to_load_from, tensor_name_in_ckpt, max_norm, trainable)
        self.shared_embedding_collection_name = shared_embedding_collection_name

    _suffix = "_shared_embedding"

    @property
    def var_scope_name(self):
        return self.shared_embedding_collection_name

    def _table(self, var_name="embedding_weights"):
        # TF1 keeps the shared table in the graph collection named after the columns: every
        # later lookup (another input_layer / linear_model call, another tower) reuses it
        store = get_default_store()
        found = store.get_collection(self.shared_embedding_collection_name)
        if not found:
            table = super()._table(var_name)
            store.add_to_collection(self.shared_embedding_collection_name, table)
            return table
        if len(found) > 1:
            raise ValueError(f"Collection {self.shared_embedding_collection_name} can only "
                             f"contain one variable, got {len(found)}.")
        shape = (self.categorical_column.num_buckets, self.dimension)
        if tuple(found[0].shape) != shape:
            raise ValueError(f"Shared embedding collection "
                             f"{self.shared_embedding_collection_name} contains variable "
                             f"{found[0].name} of unexpected shape {tuple(found[0].shape)}. "
                             f"Expected shape is {shape}.")
        return found[0]


def shared_embedding_columns(categorical_columns, dimension, combiner="mean", initializer=None,
                             shared_embedding_collection_name=None, ckpt_to_load_from=None,
                             tensor_name_in_ckpt=None, max_norm=None, trainable=True,
                             use_safe_embedding_lookup=True):
    """Columns that embed several categorical columns with one shared table
    (``tf.feature_column.shared_embedding_columns``); returned in input order.

    Raises:
        ValueError: for columns of different types or bucket counts.
    """
    cols = list(categorical_columns)
    if not cols:
        raise ValueError("categorical_columns must be a non-empty list")
    for c in cols:
        _check_embedding_args(c, dimension, combiner, initializer, ckpt_to_load_from,
                              tensor_name_in_ckpt)
    base = [getattr(c, "categorical_column", c) for c in cols]
    if len({type(b) for b in base}) > 1:
        raise ValueError(f"all categorical_columns must have the same type; given "
                         f"{[type(b).__name__ for b in base]}")
    if len({c.num_buckets for c in cols}) > 1:
        raise ValueError(f"all categorical_columns must have the same num_buckets; given "
                         f"{[c.num_buckets for c in cols]}")
    name = shared_embedding_collection_name or \
        "_".join(sorted(c.name for c in cols)) + "_shared_embedding"
    return [SharedEmbeddingColumn(c, int(dimension), combiner, initializer, ckpt_to_load_from,
                                  tensor_name_in_ckpt, max_norm, trainable, name) for c in cols]


shared_embeddings = shared_embedding_columns


@register_column
class IndicatorColumn(WrapperColumn, DenseColumn, SequenceDenseColumn):
    """Multi-hot counts (or summed weights) of a categorical column's ids."""

    _suffix = "_indicator"

    _fields = ("categorical_column",)

    def __init__(self, categorical_column):
        self.categorical_column = categorical_column

    @property
    def variable_shape(self):
        return (self.categorical_column.num_buckets,)

    def transform_feature(self, cache):
        pair = self.categorical_column.get_sparse_tensors(cache)
        sequence = isinstance(self.categorical_column, SequenceCategoricalColumn)
        if sequence:  # one multi-hot row per step
            pair = _per_step(pair)
        ids = pair.id_tensor  # an id of -1 (missing) adds nothing
        w = None if pair.weight_tensor is None else pair.weight_tensor.values
        out = indicator(ids.indices, ids.values, ids.dense_shape, w,
                        num_buckets=self.categorical_column.num_buckets)
        return seq_unflatten(out, self.categorical_column.get_sparse_tensors(cache)
                             .id_tensor.dense_shape) if sequence else out

    def get_dense_tensor(self, cache, state=None):
        _no_sequence(self, "indicator_column")
        return cache.get(self)

    def get_sequence_dense_tensor(self, cache, state=None):
        """``(batch, time, num_buckets)`` multi-hot steps (zeros past an example's length)
        and the lengths, for a sequence categorical column."""
        _need_sequence(self, "indicator_column")
        ids = self.categorical_column.get_sparse_tensors(cache).id_tensor
        return TensorSequenceLengthPair(cache.get(self), seq_length(ids.indices,
                                                                    ids.dense_shape))


def indicator_column(categorical_column):
    """Multi-hot representation of a categorical column, ``(batch, num_buckets)``."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(f"categorical_column must be a CategoricalColumn, got "
                         f"{categorical_column!r}")
    return IndicatorColumn(categorical_column)
