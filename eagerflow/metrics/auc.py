"""``tf.metrics.auc`` (ROC and PR over ``num_thresholds`` buckets, TF's summation) and an
exact option, plus ``precision_at_k`` / ``recall_at_k`` for ranking.

The thresholded AUC follows TF1 exactly: thresholds ``[-1e-7, 1/(n-1), ..., (n-2)/(n-1),
1 + 1e-7]``; a prediction counts as positive at threshold ``t`` when it is ``> t``; the
curve is summed with ``summation_method`` (``trapezoidal``, ``careful_interpolation``,
``minoring``, ``majoring``) using TF's ``epsilon = 1e-6`` guards. Counting is a
``searchsorted`` plus a weighted histogram, so the batch is never expanded to
``(num_thresholds, batch)``.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     value, _ = auc(ef.constant([0, 0, 1, 1]), ef.constant([0.1, 0.4, 0.35, 0.8]))
    ...     round(float(value), 3)
    0.75
"""
import numpy as np

from .. import backend
from ..autograd.tape import no_grad
from ..autograd.tensor import _wrap
from ..variables.store import get_default_store
from .state import MetricValue, as_array, metric_state, open_scope, weights_like

__all__ = ["auc", "precision_at_k", "recall_at_k", "compute_auc"]

_CURVES = ("ROC", "PR")
_SUMMATIONS = ("trapezoidal", "careful_interpolation", "minoring", "majoring")


def _thresholds(num_thresholds):
    eps = 1e-7
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - eps] + inner + [1.0 + eps]


def compute_auc(xp, tp, fn, tn, fp, curve="ROC", summation_method="trapezoidal"):
    """TF1's ``compute_auc`` on confusion counts per threshold (arrays of length n)."""
    eps = 1.0e-6
    n = tp.shape[0]
    if curve == "PR" and summation_method == "careful_interpolation":
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = xp.maximum(p[:n - 1] - p[1:], 0)
        slope = xp.where(dp > 0, dtp / xp.where(dp > 0, dp, 1), 0)
        intercept = tp[1:] - slope * p[1:]
        both = (p[:n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, p[:n - 1] / xp.where(p[1:] > 0, xp.maximum(p[1:], 0), 1), 1)
        denom = xp.maximum(tp[1:] + fn[1:], 0)
        num = slope * (dtp + intercept * xp.log(ratio))
        return xp.where(denom > 0, num / xp.where(denom > 0, denom, 1), 0).sum()
    rec = (tp + eps) / (tp + fn + eps)
    if curve == "ROC":
        x, y = fp / (fp + tn + eps), rec
    else:
        x, y = rec, (tp + eps) / (tp + fp + eps)
    dx = x[:n - 1] - x[1:]
    if summation_method == "minoring":
        h = xp.minimum(y[:n - 1], y[1:])
    elif summation_method == "majoring":
        h = xp.maximum(y[:n - 1], y[1:])
    else:
        h = (y[:n - 1] + y[1:]) / 2.0
    return (dx * h).sum()


class _ExactBuffer:
    """Host copies of every (prediction, label, weight) seen, for the exact AUC."""

    def __init__(self):
        self.parts = []

    def reset(self):
        self.parts = []

    def add(self, p, l, w):
        self.parts.append((backend.to_numpy(p).astype(np.float64).ravel(),
                           backend.to_numpy(l).astype(bool).ravel(),
                           backend.to_numpy(w).astype(np.float64).ravel()))

    def value(self, curve):
        if not self.parts:
            return 0.0
        p = np.concatenate([x[0] for x in self.parts])
        l = np.concatenate([x[1] for x in self.parts])
        w = np.concatenate([x[2] for x in self.parts])
        order = np.argsort(-p, kind="stable")
        p, l, w = p[order], l[order], w[order]
        last = np.r_[np.flatnonzero(np.diff(p)), p.size - 1]  # end of each tie group
        tp = np.cumsum(w * l)[last]
        fp = np.cumsum(w * ~l)[last]
        if curve == "ROC":
            if tp[-1] <= 0 or fp[-1] <= 0:
                return 0.0
            x = np.r_[0.0, fp / fp[-1]]
            y = np.r_[0.0, tp / tp[-1]]
            return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
        if tp[-1] <= 0:
            return 0.0
        # average precision: sum over thresholds of (delta recall) * precision
        recall = tp / tp[-1]
        prec = tp / np.maximum(tp + fp, 1e-300)
        return float(np.sum(np.diff(np.r_[0.0, recall]) * prec))


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None,
        updates_collections=None, curve="ROC", name=None, summation_method="trapezoidal",
        thresholds=None, exact=False):
    """Streaming area under the ROC or PR curve (``tf.metrics.auc``).

    Args:
        labels: bools or 0/1 of any shape.
        predictions: floats in ``[0, 1]`` of the labels' shape.
        weights: optional weights broadcastable to ``labels``.
        num_thresholds: number of thresholds (TF's 200 by default).
        curve: ``'ROC'`` or ``'PR'``.
        summation_method: ``'trapezoidal'``, ``'careful_interpolation'``, ``'minoring'``,
            ``'majoring'``.
        thresholds: explicit thresholds in ``[0, 1]`` (then ``-1e-7`` and ``1 + 1e-7`` are
            added at the ends, as TF does).
        exact: eagerflow extension: the exact ROC AUC (ties count half) or, for PR, the
            average precision, from every example seen (kept on the host; not
            checkpointed).

    Returns:
        ``(value, update_op)``. State: ``auc/true_positives``, ``auc/false_negatives``,
        ``auc/true_negatives``, ``auc/false_positives``, each ``(num_thresholds,)``.

    Raises:
        ValueError: unknown curve or summation method, fewer than 2 thresholds, shape
            mismatch.
    """
    if curve not in _CURVES:
        raise ValueError(f"auc: curve must be one of {_CURVES}, got {curve!r}")
    if summation_method not in _SUMMATIONS:
        raise ValueError(f"auc: summation_method must be one of {_SUMMATIONS}, got "
                         f"{summation_method!r}")
    if thresholds is not None:
        th = [0.0 - 1e-7] + [float(t) for t in thresholds] + [1.0 + 1e-7]
    else:
        if num_thresholds < 2:
            raise ValueError(f"auc: num_thresholds must be > 1, got {num_thresholds}")
        th = _thresholds(int(num_thresholds))
    pa = as_array(predictions)
    la = as_array(labels)
    if la.shape != pa.shape:
        raise ValueError(f"auc: labels of shape {tuple(la.shape)} and predictions of shape "
                         f"{tuple(pa.shape)} differ")
    xp = backend.array_module(pa)
    if pa.dtype.kind != "f":
        pa = pa.astype(np.float32)
    w = weights_like(weights, la)
    with no_grad(), open_scope(name, "auc") as scope:
        if exact:
            store = get_default_store()
            key = f"exact_auc_buffer:{scope.name}"
            found = store.get_collection(key)
            if found:
                buf = found[0]
            else:
                buf = _ExactBuffer()
                store.add_to_collection(key, buf)
                store.add_to_collection("metric_buffers", buf)
            buf.add(pa, la, w)

            def compute_exact():
                return xp.asarray(buf.value(curve), dtype=np.float64)
            return MetricValue(compute_exact, scope.name), _wrap(compute_exact())
        n = len(th)
        tp, fn, tn, fp = metric_state(["true_positives", "false_negatives", "true_negatives",
                                       "false_positives"], shape=(n,))
        tha = xp.asarray(np.asarray(th, dtype=pa.dtype))
        # bucket b = number of thresholds strictly below the prediction: positive at t_i
        # (prediction > t_i) exactly when i < b
        b = xp.searchsorted(tha, pa.ravel(), side="left")
        lab = la.ravel().astype(bool)
        wf = w.ravel()
        pos = xp.bincount(b, weights=wf * lab, minlength=n + 1)
        neg = xp.bincount(b, weights=wf * ~lab, minlength=n + 1)
        above_pos = pos.sum() - xp.cumsum(pos)[:n]
        above_neg = neg.sum() - xp.cumsum(neg)[:n]
        tp._data += above_pos
        fn._data += pos.sum() - above_pos
        fp._data += above_neg
        tn._data += neg.sum() - above_neg

        def compute():
            return compute_auc(xp, tp._data, fn._data, tn._data, fp._data, curve,
                               summation_method)
        return MetricValue(compute, scope.name), _wrap(compute())


def _topk_hits(labels, predictions, k, class_id):
    pa = as_array(predictions)
    xp = backend.array_module(pa)
    if pa.ndim < 2:
        raise ValueError(f"predictions must be (batch, num_classes), got {tuple(pa.shape)}")
    num_classes = pa.shape[-1]
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be in [1, {num_classes}], got {k}")
    la = as_array(labels).astype(np.int64)
    if la.ndim == pa.ndim - 1:
        la = la[..., None]
    pa2 = pa.reshape(-1, num_classes)
    la2 = la.reshape(pa2.shape[0], -1)
    # ties: the lower class id first, as top_k does
    top = xp.argsort(-pa2, axis=1, kind="stable")[:, :k]
    valid = (la2 >= 0) & (la2 < num_classes)
    if class_id is not None:
        in_top = (top == class_id).any(axis=1)
        in_lab = ((la2 == class_id) & valid).any(axis=1)
        return xp, (in_top & in_lab).astype(np.float64), (in_top & ~in_lab).astype(
            np.float64), (in_lab & ~in_top).astype(np.float64), pa2.shape[0]
    match = (top[:, :, None] == la2[:, None, :]) & valid[:, None, :]
    tp = match.any(axis=2).sum(axis=1).astype(np.float64)
    fp = k - tp
    fn = valid.sum(axis=1) - match.any(axis=1).sum(axis=1)
    return xp, tp, fp, fn.astype(np.float64), pa2.shape[0]


def _at_k(labels, predictions, k, class_id, weights, name, kind):
    xp, tp, fp, fn, rows = _topk_hits(labels, predictions, k, class_id)
    if weights is None:
        w = xp.ones(rows, dtype=np.float64)
    else:
        w = xp.broadcast_to(as_array(weights, np.float64).reshape(-1), (rows,))
    other, vals = (("false_positive", fp) if kind == "precision" else ("false_negative", fn))
    default = f"{kind}_at_{k}" + (f"_class{class_id}" if class_id is not None else "")
    with no_grad(), open_scope(name, default) as scope:
        tps, ots = metric_state([f"true_positive_at_{k}", f"{other}_at_{k}"])
        tps._data += (tp * w).sum()
        ots._data += (vals * w).sum()

        def compute():
            d = tps._data + ots._data
            return xp.where(d > 0, tps._data / xp.where(d > 0, d, 1), 0.0)
        return MetricValue(compute, scope.name), _wrap(compute())


def precision_at_k(labels, predictions, k, class_id=None, weights=None,
                   metrics_collections=None, updates_collections=None, name=None):
    """Streaming precision@k (``tf.metrics.precision_at_k``) with sparse labels.

    Args:
        labels: int class ids, ``(batch,)`` or ``(batch, num_labels)``; ids outside
            ``[0, num_classes)`` are ignored.
        predictions: scores ``(batch, num_classes)``.
        k: how many top classes count as predicted.
        class_id: restrict to one class.
        weights: per-example weights ``(batch,)``.
    """
    return _at_k(labels, predictions, k, class_id, weights, name, "precision")


def recall_at_k(labels, predictions, k, class_id=None, weights=None,
                metrics_collections=None, updates_collections=None, name=None):
    """Streaming recall@k (``tf.metrics.recall_at_k``): hits / valid labels."""
    return _at_k(labels, predictions, k, class_id, weights, name, "recall")
