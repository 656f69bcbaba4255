"""``tf.metrics``: streaming metrics whose state lives in the variable store.

Each function returns ``(value, update_op)``: ``value`` is recomputed from the state when
read (what an Estimator reports after the last batch), ``update_op`` is the value right
after this batch. :func:`reset_metrics` zeroes the state.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow import metrics
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     acc, _ = metrics.accuracy(ef.constant([1, 0, 1]), ef.constant([1, 1, 1]))
    ...     round(float(acc), 4)
    0.6667
"""
from .auc import auc, compute_auc, precision_at_k, recall_at_k
from .state import MetricValue, metric_variables, reset_metrics
from .streaming import (accuracy, false_negatives, false_positives, mean, mean_absolute_error,
                        mean_squared_error, precision, recall, root_mean_squared_error,
                        true_negatives, true_positives)

__all__ = [
    "auc", "compute_auc", "precision_at_k", "recall_at_k", "MetricValue", "metric_variables",
    "reset_metrics", "accuracy", "false_negatives", "false_positives", "mean",
    "mean_absolute_error", "mean_squared_error", "precision", "recall",
    "root_mean_squared_error", "true_negatives", "true_positives",
]
