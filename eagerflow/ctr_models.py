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


# Ftrl's and Adagrad's accumulators start at 0.1 in TF. That suits per-example gradients;
# the canned heads average the loss over the batch, so a feature's gradient is ~1/batch of
# it and sum(g^2) stays far below 0.1 for hundreds of steps: the optimizer degenerates to
# plain SGD (rate lr/sqrt(0.1)) that learns a 1%-frequency token's weight only ~25% in
# three epochs. 1e-3 lets the accumulators adapt within the first epoch.
INITIAL_ACCUMULATOR = 1e-3
DEFAULT_LEARNING_RATES = {"wide_deep": 0.05, "deepfm": 0.05, "dcn": 0.1}
# DeepFM's and DCN's embeddings start small, as in the DeepFM paper's code (normal, stddev
# 0.01). With embedding_column's default stddev 1/sqrt(dim), DeepFM's FM term sums 325
# random products of 26 fields' factors into an initial logit of stddev ~6, DCN's cross
# layers multiply such noise, and rare ids keep theirs (held-out AUC 0.71 / 0.78 instead of
# 0.83 / 0.80 on the quickstart log). Wide & Deep keeps TF's default: its DNN only adds to
# the linear part.
SMALL_EMBEDDING_STDDEV = 0.01


def build_estimator(model, columns, hidden_units=(128, 64), learning_rate=None, config=None):
    """A canned binary classifier for ``model`` over ``columns``.

    Args:
        model: ``'wide_deep'`` (``DNNLinearCombinedClassifier``: Ftrl linear part, Adagrad
            DNN, TF's optimizers), ``'deepfm'`` (``DeepFMClassifier``) or ``'dcn'``
            (``DCNClassifier``), both trained with Adagrad, their embeddings initialized
            with stddev :data:`SMALL_EMBEDDING_STDDEV`.
        columns: a :class:`ColumnSet`.
        hidden_units: the DNN's layer sizes.
        learning_rate: Adagrad's learning rate for the DNN (all of DeepFM and DCN); default
            :data:`DEFAULT_LEARNING_RATES` (TF's 0.05 for the DNN). The linear part keeps
            TF's ``min(0.2, 1/sqrt(#columns))``.
        config: an ``estimator.RunConfig``.

    Adagrad rather than Adam: Adam's step is scale-free, so every occurrence of a rare
    hashed id moves its embedding row by ~``learning_rate`` in every coordinate (and TF1's
    sparse Adam keeps moving it by momentum for ~10 more steps), however small its
    gradient; the DNN then memorizes training rows through the rare ids' random embeddings
    and the held-out AUC falls after the third epoch (Wide & Deep on the quickstart
    log: 0.745 after 3 epochs, 0.71 after 6 with a training AUC of 0.92, 0.65 after 10).
    Adagrad's accumulator keeps a rarely seen row's steps proportional to its gradient.
    Both optimizers' accumulators start at :data:`INITIAL_ACCUMULATOR`.

    Raises:
        ValueError: for an unknown model name (the accepted names are listed).
    """
    import math

    from . import train
    from .estimator import DCNClassifier, DeepFMClassifier, DNNLinearCombinedClassifier
    units = list(hidden_units)
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    lr = DEFAULT_LEARNING_RATES[model] if learning_rate is None else learning_rate

    def adagrad():
        return train.AdagradOptimizer(lr, initial_accumulator_value=INITIAL_ACCUMULATOR)
    if model == "wide_deep":
        # the linear part as TF's LinearClassifier trains it by default (Wide & Deep's own
        # default, min(0.005, ...), learns the quickstart log far more slowly)
        linear_lr = min(0.2, 1.0 / math.sqrt(len(columns.wide)))

        def ftrl():
            return train.FtrlOptimizer(linear_lr, initial_accumulator_value=INITIAL_ACCUMULATOR)
        return DNNLinearCombinedClassifier(
            linear_feature_columns=columns.wide, dnn_feature_columns=columns.deep,
            dnn_hidden_units=units, dnn_optimizer=adagrad, linear_optimizer=ftrl,
            config=config)
    from .feature_column import embedding_column
    from .variables.initializers import TruncatedNormal
    init = TruncatedNormal(stddev=SMALL_EMBEDDING_STDDEV)
    emb = [embedding_column(c, d, initializer=init)
           for c, d in zip(columns.categorical, columns.embedding_dims)]
    if model == "deepfm":
        return DeepFMClassifier(emb, hidden_units=units,
                                dense_columns=columns.dense,
                                linear_columns=columns.categorical + columns.crosses +
                                columns.dense, optimizer=adagrad, config=config)
    return DCNClassifier(columns.dense + emb, hidden_units=units, optimizer=adagrad,
                         config=config)
