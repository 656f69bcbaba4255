"""The three CTR models the command line trains — Wide & Deep, DeepFM and DCN — built from
one declared set of feature columns, so ``eagerflow quickstart --model`` and
``eagerflow train --config`` pick a model by name.

Example:
    >>> from eagerflow import feature_column as fc
    >>> cols = ColumnSet(dense=[fc.numeric_column("I1")],
    ...                  categorical=[fc.categorical_column_with_hash_bucket("C1", 100)],
    ...                  embedding_dims=[8])
    >>> type(build_estimator("deepfm", cols)).__name__
    'DeepFMClassifier'
"""
from collections import namedtuple

__all__ = ["MODELS", "ColumnSet", "build_estimator"]

MODELS = ("wide_deep", "deepfm", "dcn")


class ColumnSet(namedtuple("ColumnSet", ["dense", "categorical", "embedding_dims", "crosses"])):
    """Feature columns by role.

    Args:
        dense: dense columns (numeric, bucketized) used as they are by every part.
        categorical: categorical columns; the linear (wide) part uses them directly, the
            deep part through an embedding each.
        embedding_dims: one embedding dimension per categorical column (DeepFM needs them
            all equal).
        crosses: crossed columns, used by the linear part only.
    """

    def __new__(cls, dense=(), categorical=(), embedding_dims=(), crosses=()):
        if len(embedding_dims) != len(categorical):
            raise ValueError(f"ColumnSet: {len(embedding_dims)} embedding_dims for "
                             f"{len(categorical)} categorical columns")
        return super().__new__(cls, list(dense), list(categorical), list(embedding_dims),
                               list(crosses))

    @property
    def embeddings(self):
        from .feature_column import embedding_column
        return [embedding_column(c, d) for c, d in zip(self.categorical, self.embedding_dims)]

    @property
    def wide(self):
        """The linear part's columns: dense, categorical and crosses."""
        return self.dense + self.categorical + self.crosses

    @property
    def deep(self):
        """The DNN's columns: dense columns and the categoricals' embeddings."""
        return self.dense + self.embeddings

    @property
    def all(self):
        """Every column a model may read (for ``make_parse_example_spec``)."""
        return self.wide + self.embeddings


def build_estimator(model, columns, hidden_units=(128, 64), learning_rate=1e-3, config=None):
    """A canned binary classifier for ``model`` over ``columns``.

    Args:
        model: ``'wide_deep'`` (``DNNLinearCombinedClassifier``: Ftrl linear part, Adam DNN),
            ``'deepfm'`` (``DeepFMClassifier``) or ``'dcn'`` (``DCNClassifier``).
        columns: a :class:`ColumnSet`.
        hidden_units: the DNN's layer sizes.
        learning_rate: Adam's learning rate for the DNN (all of DeepFM and DCN).
        config: an ``estimator.RunConfig``.

    Raises:
        ValueError: for an unknown model name (the accepted names are listed).
    """
    from . import train
    from .estimator import DCNClassifier, DeepFMClassifier, DNNLinearCombinedClassifier
    units = list(hidden_units)
    if model == "wide_deep":
        return DNNLinearCombinedClassifier(
            linear_feature_columns=columns.wide, dnn_feature_columns=columns.deep,
            dnn_hidden_units=units, dnn_optimizer=lambda: train.AdamOptimizer(learning_rate),
            config=config)
    if model == "deepfm":
        return DeepFMClassifier(columns.embeddings, hidden_units=units,
                                dense_columns=columns.dense,
                                linear_columns=columns.categorical + columns.crosses +
                                columns.dense,
                                learning_rate=learning_rate, config=config)
    if model == "dcn":
        return DCNClassifier(columns.deep, hidden_units=units, learning_rate=learning_rate,
                             config=config)
    raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
