"""``input_layer``, ``linear_model`` and ``make_parse_example_spec`` (TF1 names and variable
layout: ``input_layer/<column>/embedding_weights``, ``linear_model/<column>/weights``,
``linear_model/bias_weights``)."""
import numpy as np

from .. import ops
from ..variables import VariableScope, get_variable, variable_scope, zeros_initializer
from .base import CategoricalColumn, DenseColumn, FeatureTransformationCache
from .categorical import SequenceCategoricalColumn
from .dense import SharedEmbeddingColumn, lookup_column, numeric_column  # noqa: F401 (doctest)

__all__ = ["input_layer", "linear_model", "make_parse_example_spec", "DenseFeatures"]


def _check_columns(feature_columns, what):
    cols = list(feature_columns) if isinstance(feature_columns, (list, tuple, set)) \
        else [feature_columns]
    if not cols:
        raise ValueError(f"{what}: feature_columns must not be empty.")
    names = [c.name for c in cols]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"Duplicate feature column name found for columns: {dup}")
    return sorted(cols, key=lambda c: c.name)


def _batch(t):
    return int(t.shape[0])


def _check_batch_sizes(sizes):
    """Raises TF's error unless every column (name -> its static batch size) has the same
    batch size."""
    if len(set(sizes.values())) > 1:
        raise ValueError(f"Batch size (first dimension) of each feature must be same. "
                         f"Batch size of columns ({', '.join(sizes)}): "
                         f"({', '.join(str(v) for v in sizes.values())})")


def input_layer(features, feature_columns, weight_collections=None, trainable=True,
                cols_to_vars=None, cols_to_output_tensors=None):
    """The dense input of a model: every column's dense tensor, flattened to
    ``(batch, n)`` and concatenated in column-name order (``tf.compat.v1.feature_column.input_layer``).

    Args:
        features: dict key -> Tensor / array / SparseTensor (e.g. from ``parse_example``).
        feature_columns: dense columns (numeric, bucketized, embedding, indicator, shared).
        cols_to_vars: optional dict filled with column -> list of its variables.
        cols_to_output_tensors: optional dict filled with column -> its output.

    Returns:
        float32 Tensor of shape ``(batch, sum of the columns' sizes)``.

    Raises:
        ValueError: for a non-dense column, duplicate names, or batch sizes that differ.
    """
    cols = _check_columns(feature_columns, "input_layer")
    for c in cols:
        if not isinstance(c, DenseColumn):
            raise ValueError(f"Items of feature_columns must be a _DenseColumn. You can wrap a "
                             f"categorical column with an embedding_column or "
                             f"indicator_column. Given: {c}")
    return _dense_concat(features, cols, "input_layer", cols_to_vars, cols_to_output_tensors)[0]


def layer_scopes(scope):
    """``(outer scope, column -> its scope)`` for a layer of columns. ``scope``: a default
    name (made unique, TF1's input_layer) or the :class:`VariableScope` of a layer's first
    call, re-entered so that later calls find the same variables."""
    reenter = isinstance(scope, VariableScope)
    outer = variable_scope(scope) if reenter else variable_scope(None, default_name=scope)

    def column_scope(c):
        # a shared table is found again by its collection name; other columns get TF1's
        # unique default scope (their names are unique within one call)
        if isinstance(c, SharedEmbeddingColumn):
            return variable_scope(c.var_scope_name)
        return variable_scope(c.name) if reenter else variable_scope(None, default_name=c.name)
    return outer, column_scope


def _dense_concat(features, cols, scope, cols_to_vars=None, cols_to_output_tensors=None):
    """The concatenated dense tensors of ``cols`` and the scope they were made in (see
    :func:`layer_scopes`)."""
    cache = FeatureTransformationCache(features)
    outputs = []
    outer, column_scope = layer_scopes(scope)
    with outer as opened:
        for c in cols:
            with column_scope(c):
                t = c.get_dense_tensor(cache)
            n = int(np.prod(c.variable_shape))
            t = ops.reshape(t, (_batch(t), n))
            if cols_to_output_tensors is not None:
                cols_to_output_tensors[c] = t
            outputs.append(t)
    _check_batch_sizes({c.name: _batch(t) for c, t in zip(cols, outputs)})
    if cols_to_vars is not None:
        _fill_vars(cols_to_vars, cols, opened.name)
    out = ops.concat(outputs, axis=1) if len(outputs) > 1 else outputs[0]
    return out, opened


class DenseFeatures:
    """A layer object producing :func:`input_layer`'s output (``tf.keras.layers.DenseFeatures``
    / TF2's ``DenseFeatures``); variables live under ``<name>/<column>/``.

    Example:
        >>> import numpy as np
        >>> from eagerflow.variables import VariableStore
        >>> layer = DenseFeatures([numeric_column("x", shape=2)])
        >>> with VariableStore().as_default():
        ...     layer({"x": np.ones((3, 2))}).shape.as_list()
        [3, 2]
    """

    def __init__(self, feature_columns, trainable=True, name=None):
        self._cols = _check_columns(feature_columns, "DenseFeatures")
        for c in self._cols:
            if not isinstance(c, DenseColumn):
                raise ValueError(f"Items of feature_columns must be a DenseColumn. Given: {c}")
        self.trainable = trainable
        self.name = name or "dense_features"
        self._scope = None  # the scope of the first call, re-entered by later calls

    def __call__(self, features, training=None, cols_to_output_tensors=None):
        out, self._scope = _dense_concat(features, self._cols, self._scope or self.name,
                                         cols_to_output_tensors=cols_to_output_tensors)
        return out


def _fill_vars(cols_to_vars, cols, scope):
    from ..variables import global_variables
    allv = global_variables()
    for c in cols:
        part = c.var_scope_name if isinstance(c, SharedEmbeddingColumn) else c.name
        prefix = f"{scope}/{part}/"
        cols_to_vars[c] = [v for v in allv if v.name.startswith(prefix)]


def linear_model(features, feature_columns, units=1, sparse_combiner="sum",
                 weight_collections=None, trainable=True, cols_to_vars=None):
    """A linear model over columns (``tf.compat.v1.feature_column.linear_model``):
    ``bias + sum_c column_c . weights_c``, ``(batch, units)``; all weights start at zero.

    Categorical columns (hashed, vocabulary, identity, bucketized, crossed, weighted) combine
    their rows of ``weights`` (``num_buckets, units``) with ``sparse_combiner``; dense
    columns multiply their flattened value by ``weights`` (``n, units``).
    """
    if sparse_combiner not in ("sum", "mean", "sqrtn"):
        raise ValueError(f"sparse_combiner must be one of 'sum', 'mean', 'sqrtn'; got "
                         f"{sparse_combiner!r}")
    cols = _check_columns(feature_columns, "linear_model")
    cache = FeatureTransformationCache(features)
    terms, dense_x, dense_w, batches = [], [], [], {}
    with variable_scope(None, default_name="linear_model"):
        for c in cols:
            # TF1 opens each column's _var_scope_name: a shared embedding's collection name
            scope = c.var_scope_name if isinstance(c, SharedEmbeddingColumn) else c.name
            with variable_scope(None, default_name=scope):
                if isinstance(c, SequenceCategoricalColumn):
                    raise ValueError(f"linear_model: {c.name} is a sequence column; use "
                                     f"sequence_input_layer / SequenceFeatures for sequences")
                if isinstance(c, CategoricalColumn):
                    w = get_variable("weights", [c.num_buckets, units], dtype=np.float32,
                                     initializer=zeros_initializer(), trainable=trainable)
                    terms.append(lookup_column(w, c, cache, sparse_combiner))
                    batches[c.name] = _batch(terms[-1])
                elif isinstance(c, DenseColumn):
                    x = c.get_dense_tensor(cache)
                    n = int(np.prod(c.variable_shape))
                    w = get_variable("weights", [n, units], dtype=np.float32,
                                     initializer=zeros_initializer(), trainable=trainable)
                    dense_x.append(ops.reshape(x, (_batch(x), n)))
                    dense_w.append(w)
                    batches[c.name] = _batch(x)
                else:
                    raise ValueError(f"linear_model: unsupported column {c}")
        bias = get_variable("bias_weights", [units], dtype=np.float32,
                            initializer=zeros_initializer(), trainable=trainable)
    _check_batch_sizes(batches)
    if dense_x:
        # one GEMM for every dense column: [x_1 .. x_k] @ [w_1; ..; w_k] is the sum of their
        # products (13 numeric columns were 13 tiny GEMMs each way)
        terms.append(ops.matmul(ops.concat(dense_x, axis=1), ops.concat(dense_w, axis=0))
                     if len(dense_x) > 1 else ops.matmul(dense_x[0], dense_w[0]))
    out = ops.add_n(terms) if len(terms) > 1 else terms[0]
    if cols_to_vars is not None:
        _fill_vars(cols_to_vars, cols, "linear_model")
    return out + bias


def make_parse_example_spec(feature_columns):
    """The ``parse_example`` spec the columns need (``tf.feature_column.make_parse_example_spec``).

    Raises:
        ValueError: when two columns need different specs for one key.
    """
    spec = {}
    for c in feature_columns:
        if not hasattr(c, "parse_example_spec"):
            raise ValueError(f"All feature_columns must be FeatureColumn instances. Given: {c}")
        for k, v in c.parse_example_spec.items():
            if k in spec and spec[k] != v:
                raise ValueError(f"feature_columns contain different parse_spec for key {k}. "
                                 f"Given {v} and {spec[k]}")
            spec[k] = v
    return spec

