"""Canned estimators: Linear, DNN, DNN-Linear-Combined (Wide & Deep) classifiers and
regressors with TF's defaults and variable names, plus the DeepFM and DCN CTR models."""
import math

import numpy as np

from ... import ops, train
from ...feature_column import input_layer, linear_model
from ...feature_column.base import DenseColumn
from ...layers import dense, dropout
from ...nn import dcn_cross, fm_interaction, relu
from ...variables import get_variable, trainable_variables, variable_scope
from ..estimator import Estimator
from ..model_fn import ModeKeys
from .head import SUM_OVER_BATCH_SIZE, RegressionHead, head_for

__all__ = ["LinearClassifier", "LinearRegressor", "DNNClassifier", "DNNRegressor",
           "DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor", "DeepFMClassifier",
           "DCNClassifier", "get_optimizer"]

_OPTIMIZERS = {
    "Adagrad": lambda lr: train.AdagradOptimizer(lr),
    "Adam": lambda lr: train.AdamOptimizer(lr),
    "Ftrl": lambda lr: train.FtrlOptimizer(lr),
    "RMSProp": lambda lr: train.RMSPropOptimizer(lr),
    "SGD": lambda lr: train.GradientDescentOptimizer(lr),
}


def get_optimizer(opt, default_lr):
    """An optimizer from a name (``'Adagrad'``, ``'Adam'``, ``'Ftrl'``, ``'RMSProp'``,
    ``'SGD'``), an Optimizer instance, or a zero-argument callable returning one."""
    if isinstance(opt, str):
        if opt not in _OPTIMIZERS:
            raise ValueError(f"Unsupported optimizer name: {opt}. Supported names are: "
                             f"{sorted(_OPTIMIZERS)}")
        return _OPTIMIZERS[opt](default_lr)
    if callable(opt) and not isinstance(opt, train.Optimizer):
        opt = opt()
    if not isinstance(opt, train.Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {opt}")
    return opt


def _vars_under(prefix):
    if not prefix:
        return trainable_variables()
    return [v for v in trainable_variables() if v.name.startswith(prefix + "/")]


def _train_op_fn(parts):
    """``parts``: list of (optimizer, variable-scope prefix). One global-step increment."""
    def fn(loss):
        step = train.get_or_create_global_step()
        groups = [_vars_under(prefix) for _, prefix in parts]
        # one backward pass for every part, then each optimizer applies its own share
        gv = parts[0][0].compute_gradients(loss, var_list=[v for g in groups for v in g])
        by_var = {id(v): (g, v) for g, v in gv}
        op = None
        for i, ((opt, _), group) in enumerate(zip(parts, groups)):
            op = opt.apply_gradients([by_var[id(v)] for v in group],
                                     global_step=step if i == len(parts) - 1 else None)
        return op
    return fn


def _dnn_logits(features, feature_columns, hidden_units, units, activation_fn, dropout_rate,
                mode, scope="dnn"):
    with variable_scope(scope):
        with variable_scope("input_from_feature_columns"):
            net = input_layer(features, feature_columns)
        for i, n in enumerate(hidden_units):
            net = dense(net, n, activation=activation_fn, name=f"hiddenlayer_{i}")
            if dropout_rate and mode == ModeKeys.TRAIN:
                net = dropout(net, rate=dropout_rate, training=True)
        return _float32(dense(net, units, name="logits"))


def _float32(t):
    """Logits in float32 under a mixed-precision policy (Keras' advice for the last layer:
    the head's sigmoid/softmax and loss keep full precision)."""
    return ops.cast(t, np.float32)


def _linear_logits(features, feature_columns, units, sparse_combiner, scope="linear"):
    with variable_scope(scope):
        return linear_model(features, feature_columns, units=units,
                            sparse_combiner=sparse_combiner)


def _check_columns(cols, what):
    cols = list(cols or [])
    if not cols:
        raise ValueError(f"{what} must be provided (non-empty).")
    return cols


# TF's default learning rates for an optimizer given by name: linear.py 0.2 (min(0.2,
# 1/sqrt(#columns)) only when the optimizer is None), dnn.py 0.05, dnn_linear_combined.py
# 0.001 for the DNN and min(0.005, 1/sqrt(#linear columns)) for the linear part
_LINEAR_LEARNING_RATE = 0.2
_DNN_LEARNING_RATE = 0.05
_COMBINED_DNN_LEARNING_RATE = 0.001
_COMBINED_LINEAR_LEARNING_RATE = 0.005


def _linear_model_fn(head, feature_columns, optimizer, sparse_combiner):
    cols = _check_columns(feature_columns, "feature_columns")

    def model_fn(features, labels, mode):
        logits = _linear_logits(features, cols, head.logits_dimension, sparse_combiner)
        opt = None
        if mode == ModeKeys.TRAIN:
            opt = get_optimizer(optimizer, _LINEAR_LEARNING_RATE) if optimizer else \
                train.FtrlOptimizer(min(_LINEAR_LEARNING_RATE, 1.0 / math.sqrt(len(cols))))
        return head.create_estimator_spec(features, mode, logits, labels,
                                          train_op_fn=_train_op_fn([(opt, "linear")]))
    return model_fn


def _dnn_model_fn(head, feature_columns, hidden_units, optimizer, activation_fn, dropout_rate):
    cols = _check_columns(feature_columns, "feature_columns")
    units = list(hidden_units)

    def model_fn(features, labels, mode):
        logits = _dnn_logits(features, cols, units, head.logits_dimension, activation_fn,
                             dropout_rate, mode)
        opt = get_optimizer(optimizer, _DNN_LEARNING_RATE) if mode == ModeKeys.TRAIN else None
        return head.create_estimator_spec(features, mode, logits, labels,
                                          train_op_fn=_train_op_fn([(opt, "dnn")]))
    return model_fn


class _Canned(Estimator):
    def __init__(self, model_fn, model_dir, config, warm_start_from):
        super().__init__(model_fn, model_dir=model_dir, config=config,
                         warm_start_from=warm_start_from)


class LinearClassifier(_Canned):
    """Linear classifier (``tf.estimator.LinearClassifier``); default optimizer ``'Ftrl'``
    with TF's learning rate 0.2 for a named optimizer (``optimizer=None``: Ftrl with
    ``min(0.2, 1/sqrt(len(feature_columns)))``); variables under ``linear/linear_model/``."""

    def __init__(self, feature_columns, model_dir=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(_linear_model_fn(head, feature_columns, optimizer, sparse_combiner),
                         model_dir, config, warm_start_from)


class LinearRegressor(_Canned):
    """Linear regressor (``tf.estimator.LinearRegressor``)."""

    def __init__(self, feature_columns, model_dir=None, label_dimension=1, weight_column=None,
                 optimizer="Ftrl", config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, sparse_combiner="sum"):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        super().__init__(_linear_model_fn(head, feature_columns, optimizer, sparse_combiner),
                         model_dir, config, warm_start_from)


class DNNClassifier(_Canned):
    """Feed-forward classifier (``tf.estimator.DNNClassifier``): ReLU hidden layers
    ``dnn/hiddenlayer_<i>``, ``dnn/logits``; default optimizer Adagrad(0.05)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, n_classes=2,
                 weight_column=None, label_vocabulary=None, optimizer="Adagrad",
                 activation_fn=relu, dropout=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False):
        head = head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        super().__init__(_dnn_model_fn(head, feature_columns, hidden_units, optimizer,
                                       activation_fn, dropout), model_dir, config,
                         warm_start_from)


class DNNRegressor(_Canned):
    """Feed-forward regressor (``tf.estimator.DNNRegressor``)."""

    def __init__(self, hidden_units, feature_columns, model_dir=None, label_dimension=1,
                 weight_column=None, optimizer="Adagrad", activation_fn=relu, dropout=None,
                 config=None, warm_start_from=None, loss_reduction=SUM_OVER_BATCH_SIZE,
                 batch_norm=False):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        super().__init__(_dnn_model_fn(head, feature_columns, hidden_units, optimizer,
                                       activation_fn, dropout), model_dir, config,
                         warm_start_from)


def _combined_model_fn(head, linear_cols, linear_opt, dnn_cols, dnn_opt, hidden_units,
                       activation_fn, dropout_rate, sparse_combiner):
    if not linear_cols and not dnn_cols:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
    if dnn_cols and not hidden_units:
        raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns is given")
    lr_linear = min(_COMBINED_LINEAR_LEARNING_RATE, 1.0 / math.sqrt(len(linear_cols))) \
        if linear_cols else _COMBINED_LINEAR_LEARNING_RATE

    def model_fn(features, labels, mode):
        logits, parts = None, []
        if dnn_cols:
            logits = _dnn_logits(features, dnn_cols, hidden_units, head.logits_dimension,
                                 activation_fn, dropout_rate, mode)
            if mode == ModeKeys.TRAIN:
                parts.append((get_optimizer(dnn_opt, _COMBINED_DNN_LEARNING_RATE), "dnn"))
        if linear_cols:
            lin = _linear_logits(features, linear_cols, head.logits_dimension, sparse_combiner)
            logits = lin if logits is None else logits + lin
            if mode == ModeKeys.TRAIN:
                parts.append((get_optimizer(linear_opt, lr_linear), "linear"))
        return head.create_estimator_spec(features, mode, logits, labels,
                                          train_op_fn=_train_op_fn(parts))
    return model_fn


class DNNLinearCombinedClassifier(_Canned):
    """Wide & Deep classifier (``tf.estimator.DNNLinearCombinedClassifier``): the sum of a
    linear model (Ftrl) and a DNN (Adagrad) on their own columns. Optimizers given by name
    get TF's learning rates: 0.001 (DNN) and ``min(0.005, 1/sqrt(#linear columns))``
    (linear part)."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=relu, dnn_dropout=None, n_classes=2, weight_column=None,
                 label_vocabulary=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = head_for(n_classes, weight_column, label_vocabulary, loss_reduction)
        fn = _combined_model_fn(head, list(linear_feature_columns or []), linear_optimizer,
                                list(dnn_feature_columns or []), dnn_optimizer,
                                list(dnn_hidden_units or []), dnn_activation_fn, dnn_dropout,
                                linear_sparse_combiner)
        super().__init__(fn, model_dir, config, warm_start_from)


class DNNLinearCombinedRegressor(_Canned):
    """Wide & Deep regressor (``tf.estimator.DNNLinearCombinedRegressor``)."""

    def __init__(self, model_dir=None, linear_feature_columns=None, linear_optimizer="Ftrl",
                 dnn_feature_columns=None, dnn_optimizer="Adagrad", dnn_hidden_units=None,
                 dnn_activation_fn=relu, dnn_dropout=None, label_dimension=1,
                 weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, batch_norm=False,
                 linear_sparse_combiner="sum"):
        head = RegressionHead(label_dimension, weight_column, loss_reduction)
        fn = _combined_model_fn(head, list(linear_feature_columns or []), linear_optimizer,
                                list(dnn_feature_columns or []), dnn_optimizer,
                                list(dnn_hidden_units or []), dnn_activation_fn, dnn_dropout,
                                linear_sparse_combiner)
        super().__init__(fn, model_dir, config, warm_start_from)


class DeepFMClassifier(_Canned):
    """DeepFM (Guo et al., 2017) for binary CTR prediction.

    ``logit = linear(all columns) + FM(embeddings) + DNN(embeddings ++ dense)``, where the FM
    term is ``0.5 * sum_k ((sum_i e_ik)^2 - sum_i e_ik^2)`` over the fields' embeddings.

    Args:
        embedding_columns: embedding columns, one per categorical field, all of the same
            dimension (the FM factors, shared with the DNN).
        dense_columns: numeric (dense) columns fed to the linear part and the DNN.
        linear_columns: columns of the first-order (linear) part; default: the categorical
            columns under the embeddings plus ``dense_columns``.
        hidden_units: DNN layer sizes.
    """

    def __init__(self, embedding_columns, hidden_units=(400, 400, 400), dense_columns=(),
                 linear_columns=None, model_dir=None, optimizer="Adam", learning_rate=1e-3,
                 dnn_dropout=None, weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE):
        emb = _check_columns(embedding_columns, "embedding_columns")
        dims = {c.dimension for c in emb}
        if len(dims) != 1:
            raise ValueError(f"DeepFM needs embeddings of one dimension, got {sorted(dims)}")
        dense_cols = list(dense_columns)
        lin = list(linear_columns) if linear_columns is not None else \
            [c.categorical_column for c in emb] + dense_cols
        head = head_for(2, weight_column, None, loss_reduction)
        units = list(hidden_units)

        def model_fn(features, labels, mode):
            logits = _linear_logits(features, lin, 1, "sum")
            with variable_scope("fm"):
                with variable_scope("input_from_feature_columns"):
                    e = input_layer(features, emb)  # (batch, fields * k), name order
                k = next(iter(dims))
                fields = ops.reshape(e, (int(e.shape[0]), len(emb), k))
                # 0.5 * sum_k((sum_i e_ik)^2 - sum_i e_ik^2) as one fused pass each way
                # (the composition of reductions and squares took ~10 passes and as many
                # temporaries: -6 ms per step at batch 4096, bench/NOTES.md)
                fm = fm_interaction(fields)
            logits = logits + fm
            with variable_scope("dnn"):
                net = e
                if dense_cols:
                    with variable_scope("input_from_feature_columns"):
                        net = ops.concat([e, input_layer(features, dense_cols)], axis=1)
                for i, n in enumerate(units):
                    net = dense(net, n, activation=relu, name=f"hiddenlayer_{i}")
                    if dnn_dropout and mode == ModeKeys.TRAIN:
                        net = dropout(net, rate=dnn_dropout, training=True)
                logits = logits + _float32(dense(net, 1, name="logits"))
            opt = get_optimizer(optimizer, learning_rate) if mode == ModeKeys.TRAIN else None
            return head.create_estimator_spec(features, mode, logits, labels,
                                              train_op_fn=_train_op_fn([(opt, "")]))
        super().__init__(model_fn, model_dir, config, warm_start_from)


def _cross_bias(d):
    return get_variable("bias", [d], dtype=np.float32, initializer=np.zeros(d, np.float32))


def _cross_v1(x0, x, d, projection_dim):
    """DCN's cross layer: ``x0 * (x . w) + b + x`` (a rank-1 interaction per layer)."""
    w = get_variable("kernel", [d, 1], dtype=np.float32)
    return x0 * ops.matmul(x, w) + _cross_bias(d) + x


def _cross_v2(x0, x, d, projection_dim):
    """DCN-V2's cross layer: ``x0 * (x W + b) + x``, ``W`` full or ``U V`` of rank
    ``projection_dim`` (``tfrs.layers.dcn.Cross``)."""
    if projection_dim is None:
        xw = ops.matmul(x, get_variable("kernel", [d, d], dtype=np.float32))
    else:
        u = get_variable("project_kernel", [d, int(projection_dim)], dtype=np.float32)
        xw = ops.matmul(ops.matmul(x, u), get_variable("kernel", [int(projection_dim), d],
                                                       dtype=np.float32))
    return dcn_cross(x0, x, xw, _cross_bias(d))  # one fused pass each way


class DCNClassifier(_Canned):
    """Deep & Cross Network for binary CTR prediction: DCN-V2 (Wang et al., 2021) by default.

    A cross network and a parallel ReLU DNN, both on ``x_0 = input_layer(feature_columns)``,
    concatenated into the logit. Each cross layer is, with ``cross_version``:

    - ``"v2"`` (default, TF Recommenders' ``tfrs.layers.dcn.Cross``):
      ``x_{l+1} = x_0 * (x_l W_l + b_l) + x_l`` with a full ``d x d`` kernel, or
      ``x_l U_l V_l`` (``U_l``: ``d x projection_dim``) when ``projection_dim`` is given;
    - ``"v1"`` (Wang et al., 2017): ``x_{l+1} = x_0 * (x_l . w_l) + b_l + x_l`` with a
      ``d x 1`` kernel.

    Args:
        feature_columns: dense columns (numeric, embedding, indicator).
        num_cross_layers: cross layers (0: a DNN only).
        hidden_units: the parallel DNN's layer sizes.
        cross_version: ``"v2"`` or ``"v1"``.
        projection_dim: the rank of a low-rank v2 kernel (``None``: full rank).

    Example:
        >>> import eagerflow as ef
        >>> fc = ef.feature_column
        >>> est = ef.estimator.DCNClassifier([fc.numeric_column("x", shape=(4,))],
        ...                                  num_cross_layers=2, hidden_units=[8])
    """

    def __init__(self, feature_columns, num_cross_layers=3, hidden_units=(400, 400),
                 model_dir=None, optimizer="Adam", learning_rate=1e-3, dnn_dropout=None,
                 weight_column=None, config=None, warm_start_from=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, cross_version="v2", projection_dim=None):
        cols = _check_columns(feature_columns, "feature_columns")
        for c in cols:
            if not isinstance(c, DenseColumn):
                raise ValueError(f"DCN needs dense columns (wrap categorical ones in "
                                 f"embedding_column or indicator_column); got {c}")
        if num_cross_layers < 0:
            raise ValueError(f"num_cross_layers must be >= 0, got {num_cross_layers}")
        if cross_version not in ("v1", "v2"):
            raise ValueError(f"cross_version must be 'v1' or 'v2', got {cross_version!r}")
        if projection_dim is not None and (cross_version == "v1" or int(projection_dim) < 1):
            raise ValueError(f"projection_dim must be None or a positive int with "
                             f"cross_version='v2', got {projection_dim!r} with "
                             f"{cross_version!r}")
        head = head_for(2, weight_column, None, loss_reduction)
        units = list(hidden_units)
        cross = _cross_v2 if cross_version == "v2" else _cross_v1

        def model_fn(features, labels, mode):
            with variable_scope("dcn"):
                with variable_scope("input_from_feature_columns"):
                    x0 = input_layer(features, cols)
                d = int(x0.shape[1])
                x = x0
                for i in range(num_cross_layers):
                    with variable_scope(f"cross_{i}"):
                        x = cross(x0, x, d, projection_dim)
                net = x0
                for i, n in enumerate(units):
                    net = dense(net, n, activation=relu, name=f"hiddenlayer_{i}")
                    if dnn_dropout and mode == ModeKeys.TRAIN:
                        net = dropout(net, rate=dnn_dropout, training=True)
                logits = _float32(dense(ops.concat([x, ops.cast(net, x.dtype)], axis=1), 1,
                                        name="logits"))
            opt = get_optimizer(optimizer, learning_rate) if mode == ModeKeys.TRAIN else None
            return head.create_estimator_spec(features, mode, logits, labels,
                                              train_op_fn=_train_op_fn([(opt, "dcn")]))
        super().__init__(model_fn, model_dir, config, warm_start_from)
