"""``tf.feature_column``: every column of the seed, ``input_layer``, ``linear_model`` and
``make_parse_example_spec``, with TensorFlow's ids for hashed and crossed features; sequence
columns (``sequence_categorical_column_with_*``, ``sequence_numeric_column``) with
``sequence_input_layer`` / ``SequenceFeatures``.

Example:
    >>> import numpy as np
    >>> import eagerflow.feature_column as fc
    >>> from eagerflow.variables import VariableStore
    >>> cols = [fc.numeric_column("age"),
    ...         fc.indicator_column(fc.categorical_column_with_vocabulary_list("c", ["a", "b"]))]
    >>> with VariableStore().as_default():
    ...     fc.input_layer({"age": np.array([[30.0]]), "c": np.array([["b"]])}, cols).numpy().tolist()
    [[30.0, 0.0, 1.0]]
"""
from .base import (CategoricalColumn, DenseColumn, FeatureColumn, FeatureTransformationCache,
                   IdWeightPair, SequenceDenseColumn, TensorSequenceLengthPair, deserialize,
                   serialize)
from .categorical import (CrossedColumn, HashedCategoricalColumn, IdentityCategoricalColumn,
                          VocabularyFileCategoricalColumn, VocabularyListCategoricalColumn,
                          WeightedCategoricalColumn, categorical_column_with_hash_bucket,
                          categorical_column_with_identity,
                          categorical_column_with_vocabulary_file,
                          categorical_column_with_vocabulary_list, crossed_column,
                          weighted_categorical_column)
from .dense import (BucketizedColumn, EmbeddingColumn, IndicatorColumn, NumericColumn,
                    SharedEmbeddingColumn, bucketized_column, embedding_column,
                    indicator_column, numeric_column, shared_embedding_columns,
                    shared_embeddings)
from .input_layer import DenseFeatures, input_layer, linear_model, make_parse_example_spec
from .sequence import (SequenceCategoricalColumn, SequenceFeatures, SequenceNumericColumn,
                       sequence_categorical_column_with_hash_bucket,
                       sequence_categorical_column_with_identity,
                       sequence_categorical_column_with_vocabulary_file,
                       sequence_categorical_column_with_vocabulary_list,
                       sequence_input_layer, sequence_numeric_column)

serialize_feature_column = serialize
deserialize_feature_column = deserialize

__all__ = [
    "FeatureColumn", "DenseColumn", "CategoricalColumn", "FeatureTransformationCache",
    "IdWeightPair", "serialize_feature_column", "deserialize_feature_column",
    "categorical_column_with_hash_bucket", "categorical_column_with_identity",
    "categorical_column_with_vocabulary_list", "categorical_column_with_vocabulary_file",
    "weighted_categorical_column", "crossed_column", "numeric_column", "bucketized_column",
    "embedding_column", "shared_embedding_columns", "shared_embeddings", "indicator_column",
    "input_layer", "linear_model", "make_parse_example_spec", "DenseFeatures", "NumericColumn",
    "BucketizedColumn", "EmbeddingColumn", "SharedEmbeddingColumn", "IndicatorColumn",
    "HashedCategoricalColumn", "IdentityCategoricalColumn", "VocabularyListCategoricalColumn",
    "VocabularyFileCategoricalColumn", "WeightedCategoricalColumn", "CrossedColumn",
    "sequence_categorical_column_with_identity", "sequence_categorical_column_with_hash_bucket",
    "sequence_categorical_column_with_vocabulary_list",
    "sequence_categorical_column_with_vocabulary_file", "sequence_numeric_column",
    "sequence_input_layer", "SequenceFeatures", "SequenceDenseColumn",
    "SequenceCategoricalColumn", "SequenceNumericColumn", "TensorSequenceLengthPair",
]
