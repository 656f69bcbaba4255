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
from .state import (MetricValue, as_array, collected, metric_state, open_scope, squeeze_pair,
                    weights_like)

__all__ = ["auc", "precision_at_k", "recall_at_k", "compute_auc", "sparse_precision_at_k",
           "precision_at_top_k", "recall_at_top_k", "average_precision_at_k",
           "sparse_average_precision_at_k", "true_positives_at_thresholds",
           "false_positives_at_thresholds", "true_negatives_at_thresholds",
           "false_negatives_at_thresholds", "precision_at_thresholds", "recall_at_thresholds",
           "sensitivity_at_specificity", "specificity_at_sensitivity"]

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


def _prepare(labels, predictions, weights, what, keep_dtype=False):
    """TF's ``_confusion_matrix_at_thresholds`` preamble: predictions must lie in [0, 1]
    (an assertion, ``InvalidArgumentError``), are cast to float32, labels to bool, the
    squeezable last dimension is removed and the weights broadcast."""
    from ..errors import InvalidArgumentError
    la, pa = squeeze_pair(as_array(labels), as_array(predictions))
    if tuple(la.shape) != tuple(pa.shape):
        raise ValueError(f"{what}: labels of shape {tuple(la.shape)} and predictions of "
                         f"shape {tuple(pa.shape)} differ")
    if not (keep_dtype and pa.dtype.kind == "f"):  # the exact AUC keeps float64 inputs
        pa = pa.astype(np.float32, copy=False)
    if pa.size and not (bool((pa >= 0).all()) and bool((pa <= 1).all())):
        raise InvalidArgumentError(f"{what}: predictions must be in [0, 1]")
    return la.astype(bool), pa, weights_like(weights, pa)


def _confusion_at_thresholds(la, pa, w, thresholds, includes=("tp", "fn", "tn", "fp")):
    """Adds the batch to the state ``true_positives``, ``false_negatives``,
    ``true_negatives``, ``false_positives`` (those in ``includes``, TF's order) of the
    current scope, each ``(len(thresholds),)``; a prediction is positive at ``t`` when
    ``> t`` (float32 comparison, as TF). Thresholds need not be sorted."""
    xp = backend.array_module(pa)
    th = np.asarray(thresholds, dtype=np.float32)
    n = th.size
    order = np.argsort(th, kind="stable")
    # bucket b = number of thresholds strictly below the prediction: positive at the
    # i-th sorted threshold (prediction > t_i) exactly when i < b
    b = xp.searchsorted(xp.asarray(th[order]), pa.ravel(), side="left")
    lab = la.ravel()
    wf = w.ravel()
    pos = xp.bincount(b, weights=wf * lab, minlength=n + 1)
    neg = xp.bincount(b, weights=wf * ~lab, minlength=n + 1)
    above_pos = pos.sum() - xp.cumsum(pos)[:n]
    above_neg = neg.sum() - xp.cumsum(neg)[:n]
    batch = {"tp": above_pos, "fn": pos.sum() - above_pos, "tn": neg.sum() - above_neg,
             "fp": above_neg}
    inv = xp.asarray(np.argsort(order, kind="stable"))
    names = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
             "fp": "false_positives"}
    keys = [k for k in ("tp", "fn", "tn", "fp") if k in includes]
    out = {}
    for k, var in zip(keys, metric_state([names[k] for k in keys], shape=(n,))):
        var._data += batch[k][inv]
        out[k] = var
    return out


@collected
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
    if thresholds is not None:  # TF sorts the given thresholds
        th = [0.0 - 1e-7] + sorted(float(t) for t in thresholds) + [1.0 + 1e-7]
    else:
        if num_thresholds < 2:
            raise ValueError(f"auc: num_thresholds must be > 1, got {num_thresholds}")
        th = _thresholds(int(num_thresholds))
    la, pa, w = _prepare(labels, predictions, weights, "auc", keep_dtype=exact)
    xp = backend.array_module(pa)
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
        c = _confusion_at_thresholds(la, pa, w, th)
        tp, fn, tn, fp = (c[k] for k in ("tp", "fn", "tn", "fp"))

        def compute():
            return compute_auc(xp, tp._data, fn._data, tn._data, fp._data, curve,
                               summation_method)
        return MetricValue(compute, scope.name), _wrap(compute())


def _top_k_idx(predictions, k):
    pa = as_array(predictions)
    xp = backend.array_module(pa)
    if pa.ndim < 1:
        raise ValueError("predictions must have rank >= 1")
    num_classes = pa.shape[-1]
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be in [1, {num_classes}], got {k}")
    # ties: the lower class id first, as top_k does
    top = xp.argsort(-pa.reshape(-1, num_classes), axis=1, kind="stable")[:, :k]
    return top, num_classes


def _labels_2d(labels, rows, idx_ndim):
    la = as_array(labels).astype(np.int64)
    if la.ndim == idx_ndim - 1:  # TF's _maybe_expand_labels
        la = la[..., None]
    return la.reshape(rows, -1)


def _topk_hits(labels, top, class_id, num_classes=None):
    """Per-row tp, fp, fn of top-k ids ``top`` ``(rows, k)`` against label ids, with TF's
    set semantics (a repeated label counts once)."""
    xp = backend.array_module(top)
    k = top.shape[1]
    la2 = labels
    if class_id is not None:  # TF's _select_class_id: both sides reduced to {class_id}
        in_top = (top == class_id).any(axis=1)
        in_lab = (la2 == class_id).any(axis=1)
        return ((in_top & in_lab).astype(np.float64), (in_top & ~in_lab).astype(np.float64),
                (in_lab & ~in_top).astype(np.float64))
    # every label counts, in range or not: TF's docs, "Values outside this range always
    # count towards false_negative_at_<k>" (its set kernels keep every dense value)
    L = la2.shape[1]
    earlier = xp.tril(xp.ones((L, L), dtype=bool), -1)  # [j, i]: i before j
    first = ~((la2[:, :, None] == la2[:, None, :]) & earlier[None]).any(axis=2)
    match = top[:, :, None] == la2[:, None, :]
    tp = match.any(axis=2).sum(axis=1).astype(np.float64)
    fp = k - tp
    fn = (first & ~match.any(axis=1)).sum(axis=1).astype(np.float64)
    return tp, fp, fn


def _at_k(labels, top, k, class_id, weights, name, kind, num_classes=None):
    xp = backend.array_module(top)
    rows = top.shape[0]
    tp, fp, fn = _topk_hits(labels, top, class_id, num_classes)
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
            # TF divides plainly: NaN when nothing was predicted / labelled (class_id)
            d = tps._data + ots._data
            return xp.where(d > 0, tps._data / xp.where(d > 0, d, 1), np.nan)
        return MetricValue(compute, scope.name), _wrap(compute())


@collected
def precision_at_k(labels, predictions, k, class_id=None, weights=None,
                   metrics_collections=None, updates_collections=None, name=None):
    """Streaming precision@k (``tf.metrics.precision_at_k``) with sparse labels.

    Args:
        labels: int class ids, ``(batch,)`` or ``(batch, num_labels)``; ids outside
            ``[0, num_classes)`` never match a prediction (for recall they are false
            negatives, as in TF).
        predictions: scores ``(batch, num_classes)``.
        k: how many top classes count as predicted.
        class_id: restrict to one class (NaN while it was never in the top k, as TF).
        weights: per-example weights ``(batch,)``.
    """
    top, nc = _top_k_idx(predictions, k)
    la = _labels_2d(labels, top.shape[0], as_array(predictions).ndim)
    return _at_k(la, top, k, class_id, weights, name, "precision", nc)


sparse_precision_at_k = precision_at_k


@collected
def recall_at_k(labels, predictions, k, class_id=None, weights=None,
                metrics_collections=None, updates_collections=None, name=None):
    """Streaming recall@k (``tf.metrics.recall_at_k``): hits / distinct valid labels
    (NaN while there is no label, as TF)."""
    top, nc = _top_k_idx(predictions, k)
    la = _labels_2d(labels, top.shape[0], as_array(predictions).ndim)
    return _at_k(la, top, k, class_id, weights, name, "recall", nc)


@collected
def precision_at_top_k(labels, predictions_idx, k=None, class_id=None, weights=None,
                       metrics_collections=None, updates_collections=None, name=None):
    """``tf.metrics.precision_at_top_k``: precision@k from top-k class ids."""
    idx = as_array(predictions_idx).astype(np.int64)
    kk = idx.shape[-1]
    top = idx.reshape(-1, kk)
    la = _labels_2d(labels, top.shape[0], idx.ndim)
    return _at_k(la, top, kk if k is None else k, class_id, weights, name, "precision")


@collected
def recall_at_top_k(labels, predictions_idx, k=None, class_id=None, weights=None,
                    metrics_collections=None, updates_collections=None, name=None):
    """``tf.metrics.recall_at_top_k``: recall@k from top-k class ids."""
    idx = as_array(predictions_idx).astype(np.int64)
    kk = idx.shape[-1]
    top = idx.reshape(-1, kk)
    la = _labels_2d(labels, top.shape[0], idx.ndim)
    return _at_k(la, top, kk if k is None else k, class_id, weights, name, "recall")


@collected
def average_precision_at_k(labels, predictions, k, weights=None, metrics_collections=None,
                           updates_collections=None, name=None):
    """Streaming mean average precision@k (``tf.metrics.average_precision_at_k``).

    Per row: ``sum_i P@i * rel_i / min(#labels >= 0, k)`` over the top ``k`` ids; labels
    ``>= num_classes`` are replaced by -1 (ignored). State ``average_precision_at_<k>/max``
    (sum of weights) and ``.../total`` (weighted sum of per-row AP); value
    ``total / max`` (0 while ``max`` is 0). A row without labels gives NaN, as in TF.
    """
    if k < 1:
        raise ValueError(f"Invalid k={k}. `k` should be >= 1.")
    top, nc = _top_k_idx(predictions, k)
    xp = backend.array_module(top)
    rows = top.shape[0]
    la = _labels_2d(labels, rows, as_array(predictions).ndim)
    la = xp.where(la >= nc, -1, la)
    rel = (top[:, :, None] == la[:, None, :]).any(axis=2).astype(np.float64)
    prec = xp.cumsum(rel, axis=1) / xp.arange(1, k + 1, dtype=np.float64)
    num_rel = xp.minimum((la >= 0).sum(axis=1), k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = (prec * rel).sum(axis=1) / num_rel
    if weights is None:
        w = None
        batch_max = float(rows)
    else:
        w = xp.broadcast_to(as_array(weights, np.float64).reshape(-1), (rows,))
        batch_max = w.sum()
        ap = ap * w
    with no_grad(), open_scope(name, f"average_precision_at_{k}") as scope:
        mx, total = metric_state(["max", "total"])
        mx._data += batch_max
        total._data += ap.sum()

        def compute():
            return xp.where(mx._data > 0, total._data / xp.where(mx._data > 0, mx._data, 1),
                            0.0)
        return MetricValue(compute, scope.name), _wrap(compute())


sparse_average_precision_at_k = average_precision_at_k


def _at_thresholds(labels, predictions, thresholds, weights, name, default, includes,
                   fn, what):
    la, pa, w = _prepare(labels, predictions, weights, what)
    xp = backend.array_module(pa)
    th = [float(t) for t in thresholds]
    with no_grad(), open_scope(name, default) as scope:
        c = _confusion_at_thresholds(la, pa, w, th, includes)

        def compute():
            return fn(xp, *(c[k]._data for k in includes))
        return MetricValue(compute, scope.name), _wrap(compute())


@collected
def true_positives_at_thresholds(labels, predictions, thresholds, weights=None,
                                 metrics_collections=None, updates_collections=None,
                                 name=None):
    """Weighted count of ``label & prediction > t`` per threshold; state
    ``true_positives/true_positives``."""
    return _at_thresholds(labels, predictions, thresholds, weights, name, "true_positives",
                          ("tp",), lambda xp, a: a.copy(), "true_positives_at_thresholds")


@collected
def false_positives_at_thresholds(labels, predictions, thresholds, weights=None,
                                  metrics_collections=None, updates_collections=None,
                                  name=None):
    return _at_thresholds(labels, predictions, thresholds, weights, name, "false_positives",
                          ("fp",), lambda xp, a: a.copy(), "false_positives_at_thresholds")


@collected
def true_negatives_at_thresholds(labels, predictions, thresholds, weights=None,
                                 metrics_collections=None, updates_collections=None,
                                 name=None):
    return _at_thresholds(labels, predictions, thresholds, weights, name, "true_negatives",
                          ("tn",), lambda xp, a: a.copy(), "true_negatives_at_thresholds")


@collected
def false_negatives_at_thresholds(labels, predictions, thresholds, weights=None,
                                  metrics_collections=None, updates_collections=None,
                                  name=None):
    return _at_thresholds(labels, predictions, thresholds, weights, name, "false_negatives",
                          ("fn",), lambda xp, a: a.copy(), "false_negatives_at_thresholds")


@collected
def precision_at_thresholds(labels, predictions, thresholds, weights=None,
                            metrics_collections=None, updates_collections=None, name=None):
    """``tp / (1e-7 + tp + fp)`` per threshold (``tf.metrics.precision_at_thresholds``)."""
    return _at_thresholds(labels, predictions, thresholds, weights, name,
                          "precision_at_thresholds", ("tp", "fp"),
                          lambda xp, tp, fp: tp / (1e-7 + tp + fp), "precision_at_thresholds")


@collected
def recall_at_thresholds(labels, predictions, thresholds, weights=None,
                         metrics_collections=None, updates_collections=None, name=None):
    """``tp / (1e-7 + tp + fn)`` per threshold (``tf.metrics.recall_at_thresholds``)."""
    return _at_thresholds(labels, predictions, thresholds, weights, name,
                          "recall_at_thresholds", ("tp", "fn"),
                          lambda xp, tp, fn: tp / (1e-7 + tp + fn), "recall_at_thresholds")


def _sens_spec_thresholds(num_thresholds, last):
    kepsilon = 1e-7
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - kepsilon] + inner + [last]


@collected
def sensitivity_at_specificity(labels, predictions, specificity, weights=None,
                               num_thresholds=200, metrics_collections=None,
                               updates_collections=None, name=None):
    """Sensitivity at the threshold whose specificity is closest to ``specificity`` (the
    first such, TF's argmin), ``tf.metrics.sensitivity_at_specificity``. Computed in
    float32 like TF."""
    if specificity < 0 or specificity > 1:
        raise ValueError(f"`specificity` must be in the range [0, 1]. Currently, "
                         f"`specificity` got {specificity}.")
    kepsilon = 1e-7

    def fn(xp, tp, fn_, tn, fp):
        tp, fn_, tn, fp = (a.astype(np.float32) for a in (tp, fn_, tn, fp))
        eps = np.float32(kepsilon)
        spec = tn / (tn + fp + eps)
        i = int(xp.argmin(xp.abs(spec - np.float32(specificity))))
        return (tp[i] / (tp[i] + fn_[i] + eps)).astype(np.float64)
    return _at_thresholds(labels, predictions,
                          _sens_spec_thresholds(int(num_thresholds), 1.0 + kepsilon),
                          weights, name, "sensitivity_at_specificity",
                          ("tp", "fn", "tn", "fp"), fn, "sensitivity_at_specificity")


@collected
def specificity_at_sensitivity(labels, predictions, sensitivity, weights=None,
                               num_thresholds=200, metrics_collections=None,
                               updates_collections=None, name=None):
    """Specificity at the threshold whose sensitivity is closest to ``sensitivity`` (the
    last such), ``tf.metrics.specificity_at_sensitivity``; TF's last threshold here is
    ``1 - 1e-7``. Computed in float32 like TF."""
    if sensitivity < 0 or sensitivity > 1:
        raise ValueError(f"`sensitivity` must be in the range [0, 1]. Currently, "
                         f"`sensitivity` is {sensitivity}.")
    kepsilon = 1e-7

    def fn(xp, tp, fn_, tn, fp):
        tp, fn_, tn, fp = (a.astype(np.float32) for a in (tp, fn_, tn, fp))
        eps = np.float32(kepsilon)
        d = xp.abs(tp / (tp + fn_ + eps) - np.float32(sensitivity))
        i = int(xp.flatnonzero(d == d.min())[-1])
        return (tn[i] / (tn[i] + fp[i] + eps)).astype(np.float64)
    return _at_thresholds(labels, predictions,
                          _sens_spec_thresholds(int(num_thresholds), 1.0 - kepsilon),
                          weights, name, "specificity_at_sensitivity",
                          ("tp", "fn", "tn", "fp"), fn, "specificity_at_sensitivity")
