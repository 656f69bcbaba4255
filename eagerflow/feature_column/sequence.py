"""Sequence feature columns (TF 2.x ``tf.feature_column.sequence_*`` and
``tf.keras.experimental.SequenceFeatures``; TF1's ``sequence_input_layer``): per-example
histories such as a ``follow_seq`` parsed with ``VarLenFeature``, kept as ``[batch, time]``
sequences instead of being combined per example.

The categorical factories wrap the non-sequence columns (same ids, same parse spec); an
``embedding_column`` or ``indicator_column`` over one gives a vector per step, and
:func:`sequence_input_layer` / :class:`SequenceFeatures` concatenate the columns (ordered by
name) into ``(batch, max_len, total_dim)`` with zeros past each example's length, plus the
lengths ``(batch,)``.

Example:
    >>> import numpy as np
    >>> from eagerflow.autograd.sparse_tensor import SparseTensor
    >>> from eagerflow.variables import VariableStore
    >>> seq = sequence_categorical_column_with_identity("follow_seq", 4)
    >>> sp = SparseTensor(np.array([[0, 0], [0, 1], [1, 0]]), np.array([1, 3, 2]), [2, 2])
    >>> with VariableStore().as_default():
    ...     x, n = sequence_input_layer({"follow_seq": sp}, [indicator_column(seq)])
    >>> x.numpy().tolist(), n.numpy().tolist()
    ([[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], [[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]], [2, 1])
"""
import numpy as np

from .. import ops
from ..autograd.sparse_tensor import SparseTensor
from ..autograd.tensor import Tensor
from ..io.parsing_config import VarLenFeature
from ..kernels.range_check import check_in_range
from .base import (FeatureTransformationCache, SequenceDenseColumn, TensorSequenceLengthPair,
                   register_column)
from .categorical import (SequenceCategoricalColumn, _with_values,
                          categorical_column_with_hash_bucket, categorical_column_with_identity,
                          categorical_column_with_vocabulary_file,
                          categorical_column_with_vocabulary_list)
from .dense import SharedEmbeddingColumn, indicator_column  # noqa: F401 (doctest)
from .dense import _check_numeric_args, _NumericColumnBase
from .input_layer import _batch, _check_batch_sizes, _check_columns, layer_scopes
from .transform_ops import _escape, seq_dense, seq_length, sparse_components

__all__ = ["sequence_categorical_column_with_identity",
           "sequence_categorical_column_with_hash_bucket",
           "sequence_categorical_column_with_vocabulary_list",
           "sequence_categorical_column_with_vocabulary_file", "sequence_numeric_column",
           "sequence_input_layer", "SequenceFeatures", "SequenceNumericColumn",
           "SequenceCategoricalColumn"]


def sequence_categorical_column_with_identity(key, num_buckets, default_value=None):
    """:func:`categorical_column_with_identity` over a sequence (ids per step)."""
    return SequenceCategoricalColumn(categorical_column_with_identity(key, num_buckets,
                                                                      default_value))


def sequence_categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=str):
    """:func:`categorical_column_with_hash_bucket` over a sequence (TF's ids per step)."""
    return SequenceCategoricalColumn(categorical_column_with_hash_bucket(key, hash_bucket_size,
                                                                         dtype))


def sequence_categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None,
                                                     default_value=-1, num_oov_buckets=0):
    """:func:`categorical_column_with_vocabulary_list` over a sequence."""
    return SequenceCategoricalColumn(categorical_column_with_vocabulary_list(
        key, vocabulary_list, dtype, default_value, num_oov_buckets))


def sequence_categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
                                                     num_oov_buckets=0, default_value=None,
                                                     dtype=str):
    """:func:`categorical_column_with_vocabulary_file` over a sequence."""
    return SequenceCategoricalColumn(categorical_column_with_vocabulary_file(
        key, vocabulary_file, vocabulary_size, num_oov_buckets, default_value, dtype))


@register_column
class SequenceNumericColumn(_NumericColumnBase, SequenceDenseColumn):
    """Real-valued steps of a fixed shape (see :func:`sequence_numeric_column`)."""

    def __init__(self, key, shape=(1,), default_value=0.0, dtype=np.float32,
                 normalizer_fn=None):
        # the padding past each example's length is a number (numeric_column's default
        # None means "required" when parsing)
        super().__init__(key, shape, default_value, dtype, normalizer_fn)

    @property
    def parse_example_spec(self):
        return {self.key: VarLenFeature(self.dtype)}

    def transform_feature(self, cache):
        x = cache.get(self.key)
        if not isinstance(x, SparseTensor):
            raise ValueError(f"sequence_numeric_column {self.key}: the feature must be a "
                             f"SparseTensor ([batch, time], e.g. parsed with VarLenFeature); "
                             f"got {type(x).__name__}")
        sp = sparse_components(x)
        if sp.values.dtype.kind not in "biuf":
            raise ValueError(f"sequence_numeric_column {self.key}: the feature must be "
                             f"numeric, got values of dtype {sp.values.dtype}")
        v = sp.values
        if self.normalizer_fn is not None:  # applied to the values of the SparseTensor
            v = self.normalizer_fn(v)
            if not isinstance(v, Tensor):
                raise ValueError(f"sequence_numeric_column {self.key}: normalizer_fn must "
                                 f"return a Tensor, got {type(v).__name__}")
        return _with_values(sp, v if v.dtype == np.float32 else ops.cast(v, np.float32))

    def get_sequence_dense_tensor(self, cache, state=None):
        """``(batch, time, *shape)`` steps, ``default_value`` past each example's length; a
        ``[batch, n]`` feature holds ``n / prod(shape)`` steps per example."""
        sp = cache.get(self)
        dense = seq_dense(sp.indices, sp.values, sp.dense_shape,
                          default=float(self.default_value), shape=self.shape, key=self.key)
        rank = int(sp.dense_shape.shape[0])  # the static length of dense_shape: no read
        n = int(np.prod(self.shape)) if rank == 2 else 1
        return TensorSequenceLengthPair(dense, seq_length(sp.indices, sp.dense_shape,
                                                          num_elements=n))


def sequence_numeric_column(key, shape=(1,), default_value=0.0, dtype=np.float32,
                            normalizer_fn=None):
    """A sequence of real-valued steps (``tf.feature_column.sequence_numeric_column``).

    Args:
        key: the feature key (a ``VarLenFeature``; the input must be a SparseTensor).
        shape: the shape of one step; a ``[batch, n]`` feature is read as ``n / prod(shape)``
            consecutive steps per example.
        default_value: the scalar padding past each example's length.
        dtype: float or int; the output is float32.
        normalizer_fn: applied to the SparseTensor's values before the cast.
    """
    shape, dtype = _check_numeric_args("sequence_numeric_column", key, shape, dtype,
                                       normalizer_fn)
    if isinstance(default_value, (bool, np.bool_)) or \
            not isinstance(default_value, (int, float, np.integer, np.floating)):
        raise ValueError(f"sequence_numeric_column {key}: default_value must be a scalar "
                         f"number, got {default_value!r}")
    return SequenceNumericColumn(key, shape, float(default_value), dtype, normalizer_fn)


def _check_sequence_columns(feature_columns, what):
    cols = _check_columns(feature_columns, what)
    for c in cols:
        if not isinstance(c, SequenceDenseColumn):
            raise ValueError(f"All feature_columns must be of type SequenceDenseColumn. You "
                             f"can wrap a sequence_categorical_column with an "
                             f"embedding_column or indicator_column. Given: {c}")
    return cols


def _sequence_concat(features, cols, scope):
    cache = FeatureTransformationCache(features)
    outputs, lengths = [], []
    outer, column_scope = layer_scopes(scope)
    with outer as opened:
        for c in cols:
            with column_scope(c):
                t, n = c.get_sequence_dense_tensor(cache)
            size = int(np.prod(c.variable_shape))
            if t.ndim != 3 or int(t.shape[2]) != size:  # steps of shape (2, 2) -> 4 values
                t = ops.reshape(t, (_batch(t), -1, size))
            outputs.append(t)
            lengths.append(n)
    _check_batch_sizes({c.name: _batch(t) for c, t in zip(cols, outputs)})
    # checks only (they feed no op, so the computation stays traceable), on the device: the
    # CPU raises at once, the GPU records a difference in the device error flag, raised at
    # the next check_errors, instead of reading the lengths back every step
    got = [n._data if isinstance(n, Tensor) else n for n in lengths]
    for c, n in zip(cols[1:], got[1:]):
        check_in_range(n - got[0], 0, 0,
                       f"sequence lengths of columns {_escape(repr(cols[0].name))} and "
                       f"{_escape(repr(c.name))} differ (by {{lo}} to {{hi}} steps); every "
                       f"sequence column must have the same length per example")
    steps = {c.name: int(t.shape[1]) for c, t in zip(cols, outputs)}
    if len(set(steps.values())) > 1:
        raise ValueError(f"the time dimension (dense_shape[1]) of the sequence features "
                         f"differs: {steps}; pad them to the same length (parse_example pads "
                         f"to the longest sequence of the batch)")
    out = ops.concat(outputs, axis=2) if len(outputs) > 1 else outputs[0]
    return out, lengths[0], opened


def sequence_input_layer(features, feature_columns, weight_collections=None, trainable=True):
    """The sequence input of an RNN-style model (TF1's
    ``tf.contrib.feature_column.sequence_input_layer``).

    Args:
        features: dict key -> SparseTensor (``VarLenFeature``) or, for categorical
            columns, a dense array padded with ``-1`` / ``''``.
        feature_columns: sequence dense columns: ``sequence_numeric_column`` and
            ``embedding_column`` / ``indicator_column`` over ``sequence_categorical_column_*``.

    Returns:
        ``(sequence_input, sequence_length)``: float32 ``(batch, max_len, total_dim)``, the
        columns ordered by name and concatenated on the last axis, zeros (a numeric
        column's ``default_value``) past each example's length; int64 ``(batch,)``.

    Raises:
        ValueError: for a non-sequence column, duplicate names, or sequence lengths (or time
            dimensions) that differ between columns (on the GPU, differing lengths are
            raised by ``eagerflow.kernels.check_errors`` at the next sync point).
    """
    cols = _check_sequence_columns(feature_columns, "sequence_input_layer")
    return _sequence_concat(features, cols, "sequence_input_layer")[:2]


class SequenceFeatures:
    """A layer object producing :func:`sequence_input_layer`'s output
    (``tf.keras.experimental.SequenceFeatures``); variables live under ``<name>/<column>/``
    (default name ``sequence_features``)."""

    def __init__(self, feature_columns, trainable=True, name=None):
        self._cols = _check_sequence_columns(feature_columns, "SequenceFeatures")
        self.trainable = trainable
        self.name = name or "sequence_features"
        self._scope = None  # the scope of the first call, re-entered by later calls

    def __call__(self, features, training=None):
        out, length, self._scope = _sequence_concat(features, self._cols,
                                                    self._scope or self.name)
        return out, length
