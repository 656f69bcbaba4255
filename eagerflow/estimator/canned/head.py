"""Heads: loss, predictions and evaluation metrics for canned estimators (binary,
multi-class and regression), with TF's prediction keys and metric names."""
import numpy as np

from ... import ops
from ...autograd.tensor import Tensor, _wrap, constant
from ... import backend
from ...backend.dtypes import is_real_floating
from ...kernels.range_check import check_in_range
from ...autograd.registry import register
from ...feature_column.base import FeatureTransformationCache, host
from ...feature_column.dense import NumericColumn
from ...metrics import accuracy, auc, mean, precision, recall
from ...nn import sigmoid, sigmoid_cross_entropy_with_logits, softmax, \
    sparse_softmax_cross_entropy_with_logits
from ..model_fn import EstimatorSpec, ModeKeys

__all__ = ["BinaryClassHead", "MultiClassHead", "RegressionHead", "head_for"]

def _names_fwd(xp, ids, names):
    return np.array(names, dtype=object)[backend.to_numpy(ids)]


# class ids -> label strings, recorded as an op so exported heads return "classes" too
_class_names = register("class_ids_to_names", _names_fwd)


def _all_ids(n, logits):
    # made on the device (an arange kernel): a host constant would be a host-to-device
    # copy in every step, which a CUDA-graph capture refuses
    return ops.tile(ops.reshape(ops.range(n, dtype=np.int64), (1, n)), (int(logits.shape[0]), 1))


def _with_classes(out, names, strings):
    if strings:
        out["classes"] = _class_names(out["class_ids"], names=names)
        out["all_classes"] = _class_names(out["all_class_ids"], names=names)
    return out


SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
SUM = "sum"
_REDUCTIONS = (SUM_OVER_BATCH_SIZE, SUM)


class _Head:
    def __init__(self, weight_column=None, loss_reduction=SUM_OVER_BATCH_SIZE):
        if loss_reduction not in _REDUCTIONS:
            raise ValueError(f"loss_reduction must be one of {_REDUCTIONS}, got "
                             f"{loss_reduction!r}")
        self.weight_column = weight_column
        self.loss_reduction = loss_reduction

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
        w = w if isinstance(w, Tensor) else constant(np.asarray(w, np.float32))
        w = ops.cast(w, np.float32)
        if int(np.prod(w.shape)) != int(np.prod(like.shape)):
            # one weight per example, broadcast over label_dimension (TF's regression head
            # takes weights of shape [batch], [batch, 1] or [batch, label_dimension])
            return ops.reshape(w, (int(like.shape[0]), 1))
        return ops.reshape(w, tuple(like.shape))

    def _reduce(self, per_example, weights):
        weighted = per_example if weights is None else per_example * weights
        total = ops.reduce_sum(weighted)
        if self.loss_reduction == SUM:
            return total
        return total / float(max(int(np.prod(per_example.shape)), 1))

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

    def create_estimator_spec(self, features, mode, logits, labels=None, train_op_fn=None):
        if isinstance(logits, Tensor) and logits.dtype.itemsize < 4 and \
                is_real_floating(logits.dtype):
            # 16-bit logits of a mixed-precision model: probabilities and the loss in
            # float32 (Keras' advice for the output layer)
            logits = ops.cast(logits, np.float32)
        # the string classes are a host read of the class ids: not made in a training step
        # (a sync per step, and a CUDA-graph capture refuses it); EVAL/PREDICT have them
        predictions = self.predictions(logits, strings=mode != ModeKeys.TRAIN)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        if labels is None:
            raise ValueError(f"labels must be provided in mode {mode!r}")
        labels = self._labels(labels, logits)
        per_example = self._per_example_loss(labels, logits)
        weights = self._weights(features, per_example)
        loss = self._reduce(per_example, weights)
        if mode == ModeKeys.EVAL:
            return EstimatorSpec(mode, predictions=predictions, loss=loss,
                                 eval_metric_ops=self._metrics(labels, predictions,
                                                               per_example, weights))
        if train_op_fn is None:
            raise ValueError("train_op_fn must be provided in TRAIN mode")
        return EstimatorSpec(mode, predictions=predictions, loss=loss,
                             train_op=train_op_fn(loss))


def _label_tensor(labels):
    if isinstance(labels, dict):
        if len(labels) != 1:
            raise ValueError(f"labels must be a Tensor or a one-item dict, got keys "
                             f"{sorted(labels)}")
        labels = next(iter(labels.values()))
    if isinstance(labels, Tensor):
        return labels
    a = host(labels)
    # numeric labels go where the logits are; strings (a label_vocabulary) stay on the host
    return _wrap(a if a.dtype.kind == "O" else backend.asarray(a))


class BinaryClassHead(_Head):
    """Logistic regression head (``n_classes=2``): sigmoid cross-entropy."""

    logits_dimension = 1

    def __init__(self, weight_column=None, label_vocabulary=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE, thresholds=None):
        super().__init__(weight_column, loss_reduction)
        self.label_vocabulary = list(label_vocabulary) if label_vocabulary else None
        self.thresholds = list(thresholds or [])
        for t in self.thresholds:
            if t <= 0.0 or t >= 1.0:
                raise ValueError(f"thresholds not in (0, 1): {tuple(self.thresholds)}.")

    def _labels(self, labels, logits):
        lab = _label_tensor(labels)
        if self.label_vocabulary is not None:
            lab = constant(self._vocab_ids(lab).astype(np.float32))
        lab = ops.reshape(ops.cast(lab, np.float32), tuple(logits.shape))
        # checked where the labels are (on the GPU: a device error flag, no host read)
        check_in_range(lab._data, 0, 1, "labels must be 0 or 1 for a binary classification "
                       "head, got values in [{lo}, {hi}]")
        return lab

    def _per_example_loss(self, labels, logits):
        return sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    def predictions(self, logits, strings=True):
        p = sigmoid(logits)
        class_ids = ops.cast(ops.greater(logits, 0.0), np.int64)
        names = tuple(self._names())
        all_ids = _all_ids(2, logits)
        out = {"logits": logits, "logistic": p, "probabilities": ops.concat([1.0 - p, p], axis=1),
               "class_ids": class_ids, "all_class_ids": all_ids}
        return _with_classes(out, names, strings)

    def _names(self):
        return [v.encode() if isinstance(v, str) else v for v in self.label_vocabulary] \
            if self.label_vocabulary else [b"0", b"1"]

    def _metrics(self, labels, predictions, per_example, weights):
        p, cid = predictions["logistic"], predictions["class_ids"]
        label_mean = mean(labels, weights, name="label/mean")
        out = {"accuracy": accuracy(labels, ops.cast(cid, np.float32), weights, name="accuracy"),
               "precision": precision(labels, cid, weights, name="precision"),
               "recall": recall(labels, cid, weights, name="recall"),
               "prediction/mean": mean(p, weights, name="prediction/mean"),
               "label/mean": label_mean,
               "average_loss": mean(per_example, weights, name="average_loss"),
               "auc": auc(labels, p, weights, name="auc"),
               "auc_precision_recall": auc(labels, p, weights, curve="PR",
                                           summation_method="careful_interpolation",
                                           name="auc_precision_recall")}
        value = label_mean[0]
        out["accuracy_baseline"] = (
            lambda: float(max(float(value.numpy()), 1.0 - float(value.numpy()))), None)
        for t in self.thresholds:
            cls = ops.cast(ops.greater_equal(p, t), np.int64)
            out[f"accuracy/positive_threshold_{t:g}"] = accuracy(
                labels, ops.cast(cls, np.float32), weights, name=f"accuracy_t{t:g}")
            # precision/recall at a threshold count a prediction > t as positive (TF's
            # precision_at_thresholds and Keras' Precision(thresholds=t) alike)
            above = ops.greater(p, t)
            out[f"precision/positive_threshold_{t:g}"] = precision(
                labels, above, weights, name=f"precision_t{t:g}")
            out[f"recall/positive_threshold_{t:g}"] = recall(
                labels, above, weights, name=f"recall_t{t:g}")
        return out


class MultiClassHead(_Head):
    """Softmax cross-entropy head for ``n_classes > 2``."""

    def __init__(self, n_classes, weight_column=None, label_vocabulary=None,
                 loss_reduction=SUM_OVER_BATCH_SIZE):
        super().__init__(weight_column, loss_reduction)
        if n_classes < 3:
            raise ValueError(f"n_classes must be > 2 for a multi-class head, got {n_classes}")
        self.n_classes = n_classes
        self.logits_dimension = n_classes
        self.label_vocabulary = list(label_vocabulary) if label_vocabulary else None

    def _labels(self, labels, logits):
        lab = _label_tensor(labels)
        if self.label_vocabulary is not None:
            return constant(self._vocab_ids(lab).reshape(-1, 1))
        if lab.dtype.kind not in "iuf":
            raise ValueError(f"labels must be class ids in [0, {self.n_classes}) (or give "
                             f"label_vocabulary), got dtype {lab.dtype}")
        # integer ids stay where they are: checked by a device-flag kernel on the GPU
        check_in_range(lab._data, 0, self.n_classes - 1, f"labels must be in [0, "
                       f"{self.n_classes}), got [{{lo}}, {{hi}}]")
        return ops.reshape(ops.cast(lab, np.int64), (-1, 1))

    def _per_example_loss(self, labels, logits):
        return ops.reshape(sparse_softmax_cross_entropy_with_logits(
            labels=ops.reshape(labels, (-1,)), logits=logits), (-1, 1))

    def predictions(self, logits, strings=True):
        cid = ops.reshape(ops.argmax(logits, axis=1), (-1, 1))
        names = tuple((v.encode() if isinstance(v, str) else v) for v in self.label_vocabulary) \
            if self.label_vocabulary else tuple(str(i).encode() for i in range(self.n_classes))
        all_ids = _all_ids(self.n_classes, logits)
        out = {"logits": logits, "probabilities": softmax(logits), "class_ids": cid,
               "all_class_ids": all_ids}
        return _with_classes(out, names, strings)

    def _metrics(self, labels, predictions, per_example, weights):
        return {"accuracy": accuracy(labels, predictions["class_ids"], weights, name="accuracy"),
                "average_loss": mean(per_example, weights, name="average_loss")}


class RegressionHead(_Head):
    """Mean-squared-error head for ``label_dimension`` outputs."""

    def __init__(self, label_dimension=1, weight_column=None, loss_reduction=SUM_OVER_BATCH_SIZE):
        super().__init__(weight_column, loss_reduction)
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        self.logits_dimension = label_dimension

    def _labels(self, labels, logits):
        lab = ops.cast(_label_tensor(labels), np.float32)
        if int(np.prod(lab.shape)) != int(np.prod(logits.shape)):
            raise ValueError(f"labels shape {tuple(lab.shape)} does not match logits shape "
                             f"{tuple(logits.shape)}")
        return ops.reshape(lab, tuple(logits.shape))

    def _per_example_loss(self, labels, logits):
        return ops.square(logits - labels)

    def predictions(self, logits, strings=True):
        return {"predictions": logits}

    def _metrics(self, labels, predictions, per_example, weights):
        return {"average_loss": mean(per_example, weights, name="average_loss"),
                "label/mean": mean(labels, weights, name="label/mean"),
                "prediction/mean": mean(predictions["predictions"], weights,
                                        name="prediction/mean")}


def head_for(n_classes, weight_column, label_vocabulary, loss_reduction):
    if n_classes == 2:
        return BinaryClassHead(weight_column, label_vocabulary, loss_reduction)
    if n_classes > 2:
        return MultiClassHead(n_classes, weight_column, label_vocabulary, loss_reduction)
    raise ValueError(f"n_classes must be > 1: {n_classes}")
