"""Heads: loss, predictions, evaluation metrics and export outputs for canned estimators
(binary, multi-class and regression), following tensorflow_estimator's ``head/`` package
(``tf.estimator.BinaryClassHead``, ``MultiClassHead``, ``RegressionHead``): TF's prediction
keys, dtypes and shapes, metric names, loss reductions and serving signatures."""
import inspect

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor, _wrap, constant
from ... import backend
from ...kernels.range_check import check_in_range
from ...autograd.registry import register
from ...feature_column.base import FeatureTransformationCache, host
from ...feature_column.dense import NumericColumn
from ...metrics import accuracy, auc, mean, precision, recall
from ...nn import sigmoid, sigmoid_cross_entropy_with_logits, softmax, \
    sparse_softmax_cross_entropy_with_logits
from ...train import Optimizer, get_or_create_global_step
from ..export import ClassificationOutput, PredictOutput, RegressionOutput, _HeadExportOutputs
from ..model_fn import EstimatorSpec, ModeKeys

__all__ = ["BinaryClassHead", "MultiClassHead", "RegressionHead", "head_for", "PredictionKeys",
           "MetricKeys", "SUM_OVER_BATCH_SIZE", "SUM", "AUTO"]


class PredictionKeys:
    """``tf.estimator`` canned prediction keys (``canned/prediction_keys.py``)."""
    CLASSES = "classes"
    CLASS_IDS = "class_ids"
    ALL_CLASSES = "all_classes"
    ALL_CLASS_IDS = "all_class_ids"
    LOGISTIC = "logistic"
    LOGITS = "logits"
    PREDICTIONS = "predictions"
    PROBABILITIES = "probabilities"
    TOP_K = "top_k"


class MetricKeys:
    """Canned metric keys (``canned/metric_keys.py``)."""
    LOSS = "loss"
    LOSS_MEAN = "average_loss"
    LOSS_REGULARIZATION = "regularization_loss"
    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    ACCURACY_BASELINE = "accuracy_baseline"
    AUC = "auc"
    AUC_PR = "auc_precision_recall"
    LABEL_MEAN = "label/mean"
    PREDICTION_MEAN = "prediction/mean"
    ACCURACY_AT_THRESHOLD = "accuracy/positive_threshold_%g"
    PRECISION_AT_THRESHOLD = "precision/positive_threshold_%g"
    RECALL_AT_THRESHOLD = "recall/positive_threshold_%g"


# base_head's signature keys: serving_default is TF Serving's, the other three a convention
DEFAULT_SERVING_KEY = "serving_default"
CLASSIFY_SERVING_KEY = "classification"
REGRESS_SERVING_KEY = "regression"
PREDICT_SERVING_KEY = "predict"


def _names_fwd(xp, ids, names):
    return np.array(names, dtype=object)[backend.to_numpy(ids)]


# class ids -> label strings, recorded as an op so exported heads return "classes" too
_class_names = register("class_ids_to_names", _names_fwd)


def _all_ids(n, logits):
    # base_head.all_class_ids: tf.tile(tf.range(n_classes)) -> int32 [batch, n_classes].
    # Made on the device (an arange kernel): a host constant would be a host-to-device
    # copy in every step, which a CUDA-graph capture refuses
    return ops.tile(ops.reshape(ops.range(n, dtype=np.int32), (1, n)), (int(logits.shape[0]), 1))


# tf.keras.losses.Reduction (TF2 heads; AUTO means SUM_OVER_BATCH_SIZE there) and
# tf.compat.v1.losses.Reduction (TF1 heads, and eagerflow.losses.Reduction)
SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
SUM = "sum"
AUTO = "auto"
_MEAN = "weighted_mean"
_NONZERO = "weighted_sum_by_nonzero_weights"
_REDUCTIONS = {SUM_OVER_BATCH_SIZE: SUM_OVER_BATCH_SIZE, SUM: SUM, AUTO: SUM_OVER_BATCH_SIZE,
               "weighted_sum": SUM, "weighted_sum_over_batch_size": SUM_OVER_BATCH_SIZE,
               _MEAN: _MEAN, _NONZERO: _NONZERO}


def _validate_loss_fn_args(loss_fn):
    params = inspect.signature(loss_fn).parameters
    args = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for required in ("labels", "logits"):
        if required not in args:
            raise ValueError(f"loss_fn must contain argument: {required}. Given arguments: "
                             f"{tuple(args)}")
    invalid = [a for a in args if a not in ("labels", "logits", "features", "loss_reduction")]
    if invalid:
        raise ValueError(f"loss_fn has unexpected args: {invalid}")
    return args


class _Head:
    _METRIC_KEYS = ()

    def _extra_metric_keys(self):
        return ()

    def __init__(self, weight_column=None, loss_reduction=SUM_OVER_BATCH_SIZE, loss_fn=None,
                 name=None):
        if loss_reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid loss_reduction: {loss_reduction}. See "
                             f"`tf.losses.Reduction` for valid options.")
        self.weight_column = weight_column
        self._loss_reduction = loss_reduction
        self._reduction = _REDUCTIONS[loss_reduction]
        self._loss_fn_args = _validate_loss_fn_args(loss_fn) if loss_fn else None
        self._loss_fn = loss_fn
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def loss_reduction(self):
        return self._loss_reduction

    def _summary_key(self, key):
        return f"{key}/{self._name}" if self._name else key

    def _weights(self, features, like):
        if self.weight_column is None:
            return None
        # TF's head checks the type when it fetches the weights (create_loss)
        if not isinstance(self.weight_column, (str, NumericColumn)):
            raise TypeError(f"Weight column must be either a string or _NumericColumn. "
                            f"Given type: {type(self.weight_column)}.")
        key = getattr(self.weight_column, "key", self.weight_column)
        if key not in features:
            raise ValueError(f"weight_column {key!r} is not in features: {sorted(features)}")
        if isinstance(self.weight_column, NumericColumn):
            # TF takes the column's dense tensor: its normalizer_fn applies
            w = FeatureTransformationCache(features).get(self.weight_column)
        else:
            w = features[key]
        w = w if isinstance(w, Tensor) else constant(w, dtype=np.float32)
        w = ops.cast(w, np.float32)
        if int(np.prod(w.shape)) != int(np.prod(like.shape)):
            # one weight per example, broadcast over label_dimension (TF's regression head
            # takes weights of shape [batch], [batch, 1] or [batch, label_dimension])
            return ops.reshape(w, (int(like.shape[0]), 1))
        return ops.reshape(w, tuple(like.shape))

    def _reduce(self, per_example, weights):
        """``losses_utils.compute_weighted_loss``: SUM_OVER_BATCH_SIZE divides the weighted
        sum by the number of loss elements (not by the weights); the TF1 reductions
        ``weighted_mean`` / ``weighted_sum_by_nonzero_weights`` by the summed / non-zero
        (broadcast) weights."""
        weighted = per_example if weights is None else per_example * weights
        total = ops.reduce_sum(weighted)
        n = float(max(int(np.prod(weighted.shape)), 1))
        if self._reduction == SUM:
            return total
        if self._reduction == SUM_OVER_BATCH_SIZE or weights is None:
            return total / n
        wb = weights * ops.ones_like(per_example)
        if self._reduction == _MEAN:
            denom = ops.reduce_sum(wb)
        else:
            denom = ops.reduce_sum(ops.cast(ops.not_equal(wb, 0.0), np.float32))
        # div_no_nan: all weights zero -> the weighted sum is 0 too
        return total / ops.maximum(denom, 1e-30)

    def _vocab_ids(self, lab):
        """Class ids (int64, host) of string labels: the vocabulary looked up once per
        distinct label, not once per example."""
        words, inverse = np.unique(host(lab).reshape(-1), return_inverse=True)
        table = {v: i for i, v in enumerate(self.label_vocabulary)}
        try:
            ids = np.array([table[v if isinstance(v, str) else v.decode()] for v in words],
                           np.int64)
        except KeyError as e:
            raise ValueError(f"label {e.args[0]!r} is not in label_vocabulary "
                             f"{self.label_vocabulary}") from None
        return ids[inverse.reshape(-1)]

    def _string_labels(self, lab):
        if lab.dtype.kind not in "OSU":
            raise ValueError(f"Labels dtype should be string if there is a vocabulary. "
                             f"Instead got {lab.dtype}")
        return self._vocab_ids(lab)

    def _unweighted_loss(self, labels, logits, features, expected_dim):
        if self._loss_fn is None:
            return self._per_example_loss(labels, logits)
        kwargs = {"features": features} if "features" in self._loss_fn_args else {}
        loss = self._loss_fn(labels=labels, logits=logits, **kwargs)
        expected = tuple(logits.shape[:-1]) + (expected_dim,)
        if not isinstance(loss, Tensor) or tuple(loss.shape) != expected:
            raise ValueError(f"loss_fn must return Tensor of shape [D0, D1, ... DN, "
                             f"{expected_dim}]. logits_shape: {tuple(logits.shape)}, "
                             f"loss_shape: {getattr(loss, 'shape', None)}")
        return loss

    @staticmethod
    def _float_logits(logits):
        logits = logits if isinstance(logits, Tensor) else constant(logits)  # a CuPy array too
        if logits.ndim < 2:
            raise ValueError(f"logits must have rank at least 2.  Received rank "
                             f"{logits.ndim}, shape {tuple(logits.shape)}")
        if logits.dtype != np.float32:
            # base_head.check_logits_final_dim casts to float32 (16-bit logits of a
            # mixed-precision model: probabilities and the loss in full precision)
            logits = ops.cast(logits, np.float32)
        return logits

    def _loss_parts(self, labels, logits, features):
        labels = self._labels(labels, logits)
        per_example = self._unweighted_loss(labels, logits, features, self._loss_dim)
        # `features or {}` would take bool() of a Tensor features (a host read, or an
        # error for more than one element)
        weights = self._weights(features if features is not None else {}, per_example)
        return labels, per_example, weights

    def loss(self, labels, logits, features=None, mode=None, regularization_losses=None):
        """The regularized training loss (``Head.loss``): the weighted per-example loss
        reduced by ``loss_reduction``, plus the sum of ``regularization_losses``."""
        if labels is None:
            raise ValueError("You must provide a labels Tensor. Given: None.")
        logits = self._float_logits(logits)
        _, per_example, weights = self._loss_parts(labels, logits, features)
        return self._add_regularization(self._reduce(per_example, weights),
                                        regularization_losses)

    def metrics(self, regularization_losses=None):
        """The head's metrics, empty (``Head.metrics``): a dict key -> metric whose
        ``result()`` is read after :meth:`update_metrics`. Their state lives in a store of
        their own, so successive updates accumulate (the streaming metrics of an EVAL run)."""
        return _HeadMetrics(self, regularization_losses is not None)

    def update_metrics(self, eval_metrics, features, logits, labels,
                       regularization_losses=None):
        """Adds one batch to ``eval_metrics`` (from :meth:`metrics`) and returns it
        (``Head.update_metrics``)."""
        if not isinstance(eval_metrics, _HeadMetrics):
            raise TypeError("eval_metrics must come from this head's metrics()")
        with eval_metrics.store.as_default():
            logits = self._float_logits(logits)
            predictions = self.predictions(logits, strings=False)
            labels, per_example, weights = self._loss_parts(labels, logits, features)
            values = self._metrics(labels, predictions, per_example, weights)
            if regularization_losses is not None:
                values["regularization_loss"] = mean(
                    ops.add_n(list(regularization_losses)), name="regularization_loss")
        for k, (value, _) in values.items():
            key = self._summary_key(k)
            if key not in eval_metrics:
                eval_metrics[key] = _HeadMetric(key)
            eval_metrics[key].value = value
        return eval_metrics

    @staticmethod
    def _add_regularization(loss, regularization_losses):
        if regularization_losses is None:
            return loss
        return loss + ops.add_n(list(regularization_losses))

    def _predictions_for_mode(self, logits, mode):
        # the string classes are a host read of the class ids: not made in a training step
        # (a sync per step, and a CUDA-graph capture refuses it); EVAL/PREDICT have them
        return self.predictions(logits, strings=mode != ModeKeys.TRAIN)

    def create_estimator_spec(self, features, mode, logits, labels=None, optimizer=None,
                              trainable_variables=None, train_op_fn=None, update_ops=None,
                              regularization_losses=None):
        """An ``EstimatorSpec`` (``Head.create_estimator_spec``): PREDICT with TF's
        ``export_outputs``; EVAL with the head's metrics; TRAIN with a train op from
        ``optimizer`` (an ``ef.train.Optimizer``, minimizing over ``trainable_variables`` or
        every trainable variable, incrementing the global step) or ``train_op_fn(loss)``."""
        if optimizer is not None and train_op_fn is None and callable(optimizer) and \
                not isinstance(optimizer, Optimizer):
            # eagerflow's earlier positional order (..., labels, train_op_fn)
            optimizer, train_op_fn = None, optimizer
        if update_ops is not None and not isinstance(update_ops, (list, tuple)):
            raise ValueError(f"update_ops should be a list or a tuple. Given type: "
                             f"{type(update_ops)}.")
        logits = self._float_logits(logits)
        predictions = self._predictions_for_mode(logits, mode)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions,
                                 export_outputs=self._export_outputs(predictions))
        if labels is None:
            raise ValueError(f"labels must be provided in mode {mode!r}")
        labels, per_example, weights = self._loss_parts(labels, logits, features)
        loss = self._add_regularization(self._reduce(per_example, weights),
                                        regularization_losses)
        if mode == ModeKeys.EVAL:
            metrics = self._metrics(labels, predictions, per_example, weights)
            if regularization_losses is not None:
                metrics["regularization_loss"] = mean(
                    ops.add_n(list(regularization_losses)), name="regularization_loss")
            metrics = {self._summary_key(k): v for k, v in metrics.items()}
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops=metrics)
        if optimizer is not None and train_op_fn is not None:
            raise ValueError("train_op_fn and optimizer cannot both be set.")
        if optimizer is not None:
            if not isinstance(optimizer, Optimizer):
                raise ValueError(f"The given optimizer is not an Optimizer instance. "
                                 f"Given: {optimizer}")
            train_op = optimizer.minimize(
                loss, global_step=get_or_create_global_step(),
                var_list=None if trainable_variables is None else list(trainable_variables))
        elif train_op_fn is not None:
            train_op = train_op_fn(loss)
        else:
            raise ValueError("train_op_fn and optimizer cannot both be None.")
        return EstimatorSpec(mode, predictions=predictions, loss=loss, train_op=train_op)

    @staticmethod
    def _check_keys(keys, valid):
        if not keys:
            return valid
        for key in keys:
            if key not in valid:
                raise ValueError(f"Prediction key must be in PredictionKeys, given: {key}."
                                 f"Valid prediction keys include {valid}.")
        return list(keys)


class _HeadMetric:
    """One metric of :meth:`_Head.metrics`: ``result()`` is its value so far."""

    def __init__(self, name):
        self.name, self.value = name, None

    def result(self):
        if self.value is None:
            return constant(np.float32(0.0))
        v = self.value() if callable(self.value) and not isinstance(self.value, Tensor) \
            else self.value
        return v.result() if hasattr(v, "result") else constant(np.float32(v))


class _HeadMetrics(dict):
    def __init__(self, head, regularization):
        from ...variables import VariableStore
        keys = list(head._METRIC_KEYS) + list(head._extra_metric_keys())
        if regularization:
            keys.append(MetricKeys.LOSS_REGULARIZATION)
        super().__init__((head._summary_key(k), _HeadMetric(head._summary_key(k)))
                         for k in keys)
        self.store = VariableStore()


def _label_tensor(labels):
    if isinstance(labels, dict):
        if len(labels) != 1:
            raise ValueError(f"labels must be a Tensor or a one-item dict, got keys "
                             f"{sorted(labels)}")
        labels = next(iter(labels.values()))
    if isinstance(labels, Tensor):
        return labels
    a = host(labels)
    if a.dtype.kind in "SU":
        a = a.astype(object)
    # numeric labels go where the logits are; strings (a label_vocabulary) stay on the host
    return _wrap(a if a.dtype.kind == "O" else backend.asarray(a))


def _vocabulary(label_vocabulary):
    if label_vocabulary is not None and not isinstance(label_vocabulary, (list, tuple)):
        raise ValueError(f"label_vocabulary should be a list or a tuple. Given type: "
                         f"{type(label_vocabulary)}")
    return list(label_vocabulary) if label_vocabulary else None


def _class_strings(vocabulary, n):
    if vocabulary:
        return tuple(v.encode() if isinstance(v, str) else v for v in vocabulary)
    return tuple(str(i).encode() for i in range(n))  # tf.strings.as_string(tf.range(n))


class _ClassHead(_Head):
    _loss_dim = 1

    def _classification_outputs(self, predictions, with_regression):
        """base_head.classification_output: scores = probabilities, classes = every class
        string tiled per example ([batch, n_classes]); serving_default is classify."""
        cls = ClassificationOutput(scores=predictions[PredictionKeys.PROBABILITIES],
                                   classes=predictions[PredictionKeys.ALL_CLASSES])
        out = _HeadExportOutputs()
        out[DEFAULT_SERVING_KEY] = cls
        out[CLASSIFY_SERVING_KEY] = cls
        if with_regression:
            out[REGRESS_SERVING_KEY] = RegressionOutput(
                value=predictions[PredictionKeys.LOGISTIC])
        out[PREDICT_SERVING_KEY] = PredictOutput(predictions)
        return out


class BinaryClassHead(_ClassHead):
    """Logistic regression head (``tf.estimator.BinaryClassHead``): sigmoid cross-entropy;
    labels 0/1 (float in [0, 1]) or strings of ``label_vocabulary``."""

    logits_dimension = 1

    def __init__(self, weight_column=None, thresholds=None, label_vocabulary=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        self.label_vocabulary = _vocabulary(label_vocabulary)
        self.thresholds = tuple(thresholds) if thresholds else ()
        for t in self.thresholds:
            if t <= 0.0 or t >= 1.0:
                raise ValueError(f"thresholds not in (0, 1): {(self.thresholds,)}.")
        super().__init__(weight_column, loss_reduction, loss_fn, name)

    def _labels(self, labels, logits):
        lab = _label_tensor(labels)
        if self.label_vocabulary is not None:
            lab = constant(self._string_labels(lab).astype(np.float32))
        elif lab.dtype.kind not in "biuf":
            raise ValueError(f"Labels dtype should be numeric (0 or 1) without a "
                             f"label_vocabulary; got {lab.dtype} (give label_vocabulary)")
        lab = ops.reshape(ops.cast(lab, np.float32), tuple(logits.shape))
        # checked where the labels are (on the GPU: a device error flag, no host read)
        check_in_range(lab._data, 0, 1, "labels must be 0 or 1 for a binary classification "
                       "head, got values in [{lo}, {hi}]")
        return lab

    def _per_example_loss(self, labels, logits):
        return sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    _VALID = [PredictionKeys.LOGITS, PredictionKeys.LOGISTIC, PredictionKeys.PROBABILITIES,
              PredictionKeys.CLASS_IDS, PredictionKeys.CLASSES, PredictionKeys.ALL_CLASS_IDS,
              PredictionKeys.ALL_CLASSES]

    def predictions(self, logits, keys=None, strings=True):
        """binary_class_head.predictions, in TF's key order: logits [B,1] float32, logistic
        = sigmoid [B,1], probabilities = softmax([0, logit]) [B,2], class_ids int64 [B,1]
        (logit > 0), classes = its string (or vocabulary word) [B,1], all_class_ids int32
        [B,2], all_classes strings [B,2]. ``strings=False`` leaves the string keys out."""
        keys = self._check_keys(keys, self._VALID)
        logits = self._float_logits(logits)
        names = _class_strings(self.label_vocabulary, 2)
        out = {}
        if PredictionKeys.LOGITS in keys:
            out[PredictionKeys.LOGITS] = logits
        if PredictionKeys.LOGISTIC in keys:
            out[PredictionKeys.LOGISTIC] = sigmoid(logits)
        if PredictionKeys.PROBABILITIES in keys:
            # softmax of the two-class logits [0, logit]: sigmoid(-logit), sigmoid(logit)
            # (not 1 - p, which loses the small tail probability in float32)
            out[PredictionKeys.PROBABILITIES] = ops.concat(
                [sigmoid(ops.negative(logits)), sigmoid(logits)], axis=-1)
        if PredictionKeys.CLASS_IDS in keys or PredictionKeys.CLASSES in keys:
            # argmax of [0, logit]: a tie (logit 0) goes to class 0
            class_ids = ops.cast(ops.greater(logits, 0.0), np.int64)
            if PredictionKeys.CLASS_IDS in keys:
                out[PredictionKeys.CLASS_IDS] = class_ids
            if PredictionKeys.CLASSES in keys and strings:
                out[PredictionKeys.CLASSES] = _class_names(class_ids, names=names)
        if PredictionKeys.ALL_CLASS_IDS in keys or PredictionKeys.ALL_CLASSES in keys:
            all_ids = _all_ids(2, logits)
            if PredictionKeys.ALL_CLASS_IDS in keys:
                out[PredictionKeys.ALL_CLASS_IDS] = all_ids
            if PredictionKeys.ALL_CLASSES in keys and strings:
                out[PredictionKeys.ALL_CLASSES] = _class_names(all_ids, names=names)
        return out

    _METRIC_KEYS = (MetricKeys.LOSS_MEAN, MetricKeys.ACCURACY, MetricKeys.PRECISION,
                    MetricKeys.RECALL, MetricKeys.PREDICTION_MEAN, MetricKeys.LABEL_MEAN,
                    MetricKeys.ACCURACY_BASELINE, MetricKeys.AUC, MetricKeys.AUC_PR)

    def _extra_metric_keys(self):
        for t in self.thresholds:
            yield MetricKeys.ACCURACY_AT_THRESHOLD % t
            yield MetricKeys.PRECISION_AT_THRESHOLD % t
            yield MetricKeys.RECALL_AT_THRESHOLD % t

    def _export_outputs(self, predictions):
        # binary_class_head: serving_default/classification, regression (the logistic),
        # predict
        return self._classification_outputs(predictions, with_regression=True)

    def _metrics(self, labels, predictions, per_example, weights):
        p, cid = predictions[PredictionKeys.LOGISTIC], predictions[PredictionKeys.CLASS_IDS]
        label_mean = mean(labels, weights, name="label/mean")
        out = {"average_loss": mean(per_example, weights, name="average_loss"),
               "accuracy": accuracy(labels, ops.cast(cid, np.float32), weights, name="accuracy"),
               "precision": precision(labels, cid, weights, name="precision"),
               "recall": recall(labels, cid, weights, name="recall"),
               "prediction/mean": mean(p, weights, name="prediction/mean"),
               "label/mean": label_mean}
        value = label_mean[0]
        out["accuracy_baseline"] = (
            lambda: float(max(float(value.numpy()), 1.0 - float(value.numpy()))), None)
        out["auc"] = auc(labels, p, weights, name="auc")
        out["auc_precision_recall"] = auc(labels, p, weights, curve="PR",
                                          summation_method="careful_interpolation",
                                          name="auc_precision_recall")
        for t in self.thresholds:
            # Keras BinaryAccuracy(threshold=t), Precision(thresholds=t), Recall(...): a
            # logistic > t counts as positive
            above = ops.greater(p, t)
            out[MetricKeys.ACCURACY_AT_THRESHOLD % t] = accuracy(
                labels, ops.cast(above, np.float32), weights, name=f"accuracy_t{t:g}")
            out[MetricKeys.PRECISION_AT_THRESHOLD % t] = precision(
                labels, above, weights, name=f"precision_t{t:g}")
            out[MetricKeys.RECALL_AT_THRESHOLD % t] = recall(
                labels, above, weights, name=f"recall_t{t:g}")
        return out


class MultiClassHead(_ClassHead):
    """Softmax cross-entropy head for ``n_classes > 2`` (``tf.estimator.MultiClassHead``):
    integer class-id labels, or strings of ``label_vocabulary``."""

    def __init__(self, n_classes, weight_column=None, label_vocabulary=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, loss_fn=None, name=None):
        if n_classes is None:
            raise ValueError("n_classes cannot be None")
        self.label_vocabulary = _vocabulary(label_vocabulary)
        if label_vocabulary is not None and len(label_vocabulary) != n_classes:
            raise ValueError(f'"label_vocabulary" does not have "n_classes" items. '
                             f"len(label_vocabulary)={len(label_vocabulary)}, "
                             f"n_classes={n_classes}, label_vocabulary={label_vocabulary}")
        if n_classes <= 2:
            raise ValueError(f"n_classes must be > 2: {n_classes}.")
        self.n_classes = n_classes
        self.logits_dimension = n_classes
        super().__init__(weight_column, loss_reduction, loss_fn, name)

    def _labels(self, labels, logits):
        lab = _label_tensor(labels)
        if self.label_vocabulary is not None:
            return constant(self._string_labels(lab).reshape(-1, 1))
        if lab.dtype.kind not in "iu":
            hint = " (string labels: give label_vocabulary)" if lab.dtype.kind in "OSU" else ""
            raise ValueError(f"Labels dtype should be integer. Instead got {lab.dtype}.{hint} "
                             f"Class ids must be in [0, {self.n_classes}), or give "
                             f"label_vocabulary")
        # integer ids stay where they are: checked by a device-flag kernel on the GPU
        check_in_range(lab._data, 0, self.n_classes - 1, f"labels must be in [0, "
                       f"{self.n_classes}), got [{{lo}}, {{hi}}]")
        return ops.reshape(ops.cast(lab, np.int64), (-1, 1))

    def _per_example_loss(self, labels, logits):
        return ops.reshape(sparse_softmax_cross_entropy_with_logits(
            labels=ops.reshape(labels, (-1,)), logits=logits), (-1, 1))

    _VALID = [PredictionKeys.LOGITS, PredictionKeys.PROBABILITIES, PredictionKeys.CLASS_IDS,
              PredictionKeys.CLASSES, PredictionKeys.ALL_CLASS_IDS, PredictionKeys.ALL_CLASSES]

    def predictions(self, logits, keys=None, strings=True):
        """multi_class_head.predictions, in TF's key order: logits, probabilities (softmax),
        class_ids int64 [B,1] (argmax), classes [B,1], all_class_ids int32 [B,n],
        all_classes [B,n]. ``strings=False`` leaves the string keys out."""
        keys = self._check_keys(keys, self._VALID)
        logits = self._float_logits(logits)
        names = _class_strings(self.label_vocabulary, self.n_classes)
        out = {}
        if PredictionKeys.LOGITS in keys:
            out[PredictionKeys.LOGITS] = logits
        if PredictionKeys.PROBABILITIES in keys:
            out[PredictionKeys.PROBABILITIES] = softmax(logits)
        if PredictionKeys.CLASS_IDS in keys or PredictionKeys.CLASSES in keys:
            cid = ops.reshape(ops.argmax(logits, axis=-1), (-1, 1))
            if PredictionKeys.CLASS_IDS in keys:
                out[PredictionKeys.CLASS_IDS] = cid
            if PredictionKeys.CLASSES in keys and strings:
                out[PredictionKeys.CLASSES] = _class_names(cid, names=names)
        if PredictionKeys.ALL_CLASS_IDS in keys or PredictionKeys.ALL_CLASSES in keys:
            all_ids = _all_ids(self.n_classes, logits)
            if PredictionKeys.ALL_CLASS_IDS in keys:
                out[PredictionKeys.ALL_CLASS_IDS] = all_ids
            if PredictionKeys.ALL_CLASSES in keys and strings:
                out[PredictionKeys.ALL_CLASSES] = _class_names(all_ids, names=names)
        return out

    _METRIC_KEYS = (MetricKeys.LOSS_MEAN, MetricKeys.ACCURACY)

    def _export_outputs(self, predictions):
        # multi_class_head: serving_default/classification, predict (no regression)
        return self._classification_outputs(predictions, with_regression=False)

    def _metrics(self, labels, predictions, per_example, weights):
        return {"average_loss": mean(per_example, weights, name="average_loss"),
                "accuracy": accuracy(labels, predictions[PredictionKeys.CLASS_IDS], weights,
                                     name="accuracy")}


class RegressionHead(_Head):
    """Mean-squared-error head for ``label_dimension`` outputs
    (``tf.estimator.RegressionHead``); ``inverse_link_fn`` maps logits to predictions."""

    def __init__(self, label_dimension=1, weight_column=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, loss_fn=None, inverse_link_fn=None,
                 name=None):
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        self.logits_dimension = label_dimension
        self._inverse_link_fn = inverse_link_fn
        super().__init__(weight_column, loss_reduction, loss_fn, name)

    @property
    def _loss_dim(self):
        return self.logits_dimension

    def _labels(self, labels, logits):
        lab = ops.cast(_label_tensor(labels), np.float32)
        if int(np.prod(lab.shape)) != int(np.prod(logits.shape)):
            raise ValueError(f"labels shape {tuple(lab.shape)} does not match logits shape "
                             f"{tuple(logits.shape)}")
        return ops.reshape(lab, tuple(logits.shape))

    def _per_example_loss(self, labels, logits):
        return ops.square(logits - labels)

    def predictions(self, logits, keys=None, strings=True):
        """regression_head.predictions: ``predictions`` (float32 [B, label_dimension]; the
        inverse link of the logits when given, then ``logits`` too)."""
        logits = self._float_logits(logits)
        if self._inverse_link_fn:
            out = {PredictionKeys.PREDICTIONS: self._inverse_link_fn(logits),
                   PredictionKeys.LOGITS: logits}
        else:
            out = {PredictionKeys.PREDICTIONS: logits}
        if keys:
            self._check_keys(keys, list(out))
            out = {k: v for k, v in out.items() if k in keys}
        return out

    _METRIC_KEYS = (MetricKeys.LOSS_MEAN, MetricKeys.PREDICTION_MEAN, MetricKeys.LABEL_MEAN)

    def _export_outputs(self, predictions):
        # regression_head: serving_default/regression, predict
        reg = RegressionOutput(value=predictions[PredictionKeys.PREDICTIONS])
        out = _HeadExportOutputs()
        out[DEFAULT_SERVING_KEY] = reg
        out[REGRESS_SERVING_KEY] = reg
        out[PREDICT_SERVING_KEY] = PredictOutput(predictions)
        return out

    def _metrics(self, labels, predictions, per_example, weights):
        return {"average_loss": mean(per_example, weights, name="average_loss"),
                "prediction/mean": mean(predictions[PredictionKeys.PREDICTIONS], weights,
                                        name="prediction/mean"),
                "label/mean": mean(labels, weights, name="label/mean")}


def head_for(n_classes, weight_column, label_vocabulary, loss_reduction):
    if n_classes == 2:
        return BinaryClassHead(weight_column, label_vocabulary=label_vocabulary,
                               loss_reduction=loss_reduction)
    if n_classes > 2:
        return MultiClassHead(n_classes, weight_column, label_vocabulary, loss_reduction)
    raise ValueError(f"n_classes must be > 1: {n_classes}")
