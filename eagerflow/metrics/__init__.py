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
from .auc import (auc, average_precision_at_k, compute_auc, false_negatives_at_thresholds,
                  false_positives_at_thresholds, precision_at_k, precision_at_thresholds,
                  precision_at_top_k, recall_at_k, recall_at_thresholds, recall_at_top_k,
                  sensitivity_at_specificity, sparse_average_precision_at_k,
                  sparse_precision_at_k, specificity_at_sensitivity,
                  true_negatives_at_thresholds, true_positives_at_thresholds)
from .state import MetricValue, metric_variables, reset_metrics
from .streaming import (accuracy, false_negatives, false_positives, mean, mean_absolute_error,
                        mean_cosine_distance, mean_iou, mean_per_class_accuracy,
                        mean_relative_error, mean_squared_error, mean_tensor,
                        percentage_below, precision, recall, root_mean_squared_error,
                        true_negatives, true_positives)

__all__ = [
    "auc", "compute_auc", "precision_at_k", "recall_at_k", "MetricValue", "metric_variables",
    "reset_metrics", "accuracy", "false_negatives", "false_positives", "mean",
    "mean_absolute_error", "mean_squared_error", "precision", "recall",
    "root_mean_squared_error", "true_negatives", "true_positives",
    "average_precision_at_k", "sparse_average_precision_at_k", "sparse_precision_at_k",
    "precision_at_top_k", "recall_at_top_k", "true_positives_at_thresholds",
    "false_positives_at_thresholds", "true_negatives_at_thresholds",
    "false_negatives_at_thresholds", "precision_at_thresholds", "recall_at_thresholds",
    "sensitivity_at_specificity", "specificity_at_sensitivity", "mean_tensor",
    "mean_relative_error", "mean_cosine_distance", "percentage_below", "mean_iou",
    "mean_per_class_accuracy",
]
