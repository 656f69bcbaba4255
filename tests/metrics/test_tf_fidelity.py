"""tf.compat.v1.metrics fidelity: expected values are NumPy re-implementations of
tensorflow/python/ops/metrics_impl.py (TF 2.x source of the v1 metrics) and
confusion_matrix.py; each test cites the function it mirrors."""
import numpy as np
import pytest

from eagerflow import metrics
from eagerflow.errors import InvalidArgumentError
import eagerflow.variables as vs
from tests.gradcheck import tensor, to_numpy


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def val(x):
    return np.asarray(to_numpy(x), dtype=np.float64)


def tf_confusion_at_thresholds(y, p, w, thresholds):
    """metrics_impl._confusion_matrix_at_thresholds: predictions cast to float32,
    positive when ``prediction > threshold`` (float32 constants), labels cast to bool."""
    p = np.asarray(p, np.float32).ravel()
    y = np.asarray(y).astype(bool).ravel()
    w = np.ones_like(p, np.float64) if w is None else np.broadcast_to(w, p.shape)
    th = np.asarray(thresholds, np.float32)
    pos = p[None, :] > th[:, None]
    return ((pos & y) @ w, (~pos & y) @ w, (~pos & ~y) @ w, (pos & ~y) @ w)  # tp fn tn fp


def tf_auc(y, p, w, thresholds):
    """metrics_impl.auc: ROC, trapezoidal, epsilon 1e-6."""
    tp, fn, tn, fp = tf_confusion_at_thresholds(y, p, w, thresholds)
    e = 1e-6
    x, yy = fp / (fp + tn + e), (tp + e) / (tp + fn + e)
    return np.sum((x[:-1] - x[1:]) * (yy[:-1] + yy[1:]) / 2)


# ---------------------------------------------------------------- accuracy / mean family

def test_accuracy_casts_predictions_to_label_dtype():
    # metrics_impl.accuracy: `if labels.dtype != predictions.dtype: predictions =
    # cast(predictions, labels.dtype)`; int cast truncates 0.7 -> 0, 1.2 -> 1, 0.3 -> 0
    labels = np.array([0, 1, 1, 0], np.int64)
    preds = np.array([0.7, 1.2, 0.3, 0.0], np.float32)
    acc, up = metrics.accuracy(tensor(labels), tensor(preds))
    expect = np.mean(preds.astype(np.int64) == labels)  # 3/4
    assert float(acc) == pytest.approx(expect) and float(val(up)) == pytest.approx(expect)


def test_squeezable_last_dimension_is_removed_not_broadcast():
    # confusion_matrix.remove_squeezable_dimensions (used by _remove_squeezable_dimensions):
    # (n, 1) labels against (n,) predictions are squeezed to (n,), never broadcast to (n, n)
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 2, 6)
    pred = rng.integers(0, 2, 6)
    reg_l, reg_p = rng.standard_normal((2, 6))
    acc, _ = metrics.accuracy(tensor(lab[:, None]), tensor(pred))
    assert float(acc) == pytest.approx(np.mean(lab == pred))
    mse, _ = metrics.mean_squared_error(tensor(reg_l[:, None]), tensor(reg_p))
    assert float(mse) == pytest.approx(np.mean((reg_l - reg_p) ** 2))
    mae, _ = metrics.mean_absolute_error(tensor(reg_l), tensor(reg_p[:, None]))
    assert float(mae) == pytest.approx(np.mean(np.abs(reg_l - reg_p)))
    tp, _ = metrics.true_positives(tensor(lab[:, None]), tensor(pred))
    assert float(tp) == pytest.approx(np.sum((lab == 1) & (pred == 1)))
    # (n,) weights with (n, 1) values are expanded; (n, 1) weights with (n,) squeezed
    w = rng.random(6)
    m, _ = metrics.mean(tensor(reg_p), weights=tensor(w[:, None]), name="m_sq")
    assert float(m) == pytest.approx(np.average(reg_p, weights=w))
    with pytest.raises(ValueError, match="incompatible"):
        metrics.mean_squared_error(tensor(reg_l[:3]), tensor(reg_p))
    with pytest.raises(ValueError, match="incompatible"):  # (n,) vs (1,): not broadcast
        metrics.accuracy(tensor(lab), tensor(pred[:1]))


def test_mean_tensor_relative_cosine_percentage_below():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 3))
    wa, wb = rng.random((2, 4, 1))
    # metrics_impl.mean_tensor: element-wise total_tensor / count_tensor (div_no_nan)
    mt, _ = metrics.mean_tensor(tensor(a), weights=tensor(wa))
    mt, up = metrics.mean_tensor(tensor(b), weights=tensor(wb * 0), name="mean")
    np.testing.assert_allclose(val(mt), a * wa / wa)
    np.testing.assert_allclose(val(up), val(mt))
    z, _ = metrics.mean_tensor(tensor(a), weights=tensor(np.zeros((4, 1))), name="z")
    np.testing.assert_array_equal(val(z), np.zeros((4, 3)))  # div_no_nan: 0, not NaN
    # metrics_impl.mean_relative_error: where(normalizer == 0, 0, |l - p| / normalizer)
    lab, pred = rng.standard_normal((2, 8))
    norm = np.array([1.0, 2.0, 0.0, 0.5, 3.0, 0.0, 1.5, 2.5])
    mre, _ = metrics.mean_relative_error(tensor(lab), tensor(pred), tensor(norm))
    rel = np.where(norm == 0, 0.0, np.abs(lab - pred) / np.where(norm == 0, 1, norm))
    assert float(mre) == pytest.approx(rel.mean())
    # metrics_impl.mean_cosine_distance: 1 - mean(sum(l * p, dim, keepdims))
    u = rng.standard_normal((5, 3))
    v = rng.standard_normal((5, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    w = rng.random((5, 1))
    cd, cd_up = metrics.mean_cosine_distance(tensor(u), tensor(v), dim=1, weights=tensor(w))
    expect = 1 - np.average((u * v).sum(1), weights=w[:, 0])
    assert float(cd) == pytest.approx(expect) and float(val(cd_up)) == pytest.approx(expect)
    # metrics_impl.percentage_below: mean(values < threshold), scope
    # percentage_below_threshold
    x = rng.standard_normal(20)
    pb, _ = metrics.percentage_below(tensor(x), 0.25)
    assert float(pb) == pytest.approx(np.mean(x < 0.25))
    assert pb.name == "percentage_below_threshold"


# ------------------------------------------------------------------- class-id metrics

def tf_mean_iou(cm):
    """metrics_impl.mean_iou.compute_mean_iou."""
    diag = np.diag(cm)
    denom = cm.sum(0) + cm.sum(1) - diag
    valid = np.sum(denom != 0)
    iou = diag / np.where(denom > 0, denom, 1)
    return iou.sum() / valid if valid > 0 else 0.0


def test_mean_iou_streaming_confusion_matrix_and_absent_classes(store):
    labels1, preds1 = np.array([0, 1, 1, 3]), np.array([0, 1, 3, 3])
    labels2, preds2 = np.array([[1], [0]]), np.array([[1], [1]])
    w2 = np.array([[2.0], [0.5]])
    miou, _ = metrics.mean_iou(tensor(labels1), tensor(preds1), num_classes=5)
    miou, cm_up = metrics.mean_iou(tensor(labels2), tensor(preds2), num_classes=5,
                                   weights=tensor(w2), name="mean_iou")
    # confusion_matrix.confusion_matrix: rows are labels, columns predictions
    cm = np.zeros((5, 5))
    np.add.at(cm, (labels1, preds1), 1.0)
    np.add.at(cm, (labels2.ravel(), preds2.ravel()), w2.ravel())
    np.testing.assert_allclose(val(cm_up), cm)  # TF's update_op is the matrix
    assert float(miou) == pytest.approx(tf_mean_iou(cm))  # classes 2, 4 absent: no NaN
    assert "mean_iou/total_confusion_matrix" in store.names()
    with pytest.raises(InvalidArgumentError):
        metrics.mean_iou(tensor([5]), tensor([0]), num_classes=5, name="bad")


def test_mean_per_class_accuracy_counts_unseen_classes_as_zero(store):
    labels = np.array([0, 0, 1, 2, 2, 2])
    preds = np.array([0, 1, 1, 2, 0, 2])
    w = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 1.0])
    mpca, up = metrics.mean_per_class_accuracy(tensor(labels), tensor(preds), 4,
                                               weights=tensor(w))
    # metrics_impl.mean_per_class_accuracy: total[c] = sum w (label c), count[c] = sum w
    # (correct, label c); value reduce_mean(div_no_nan(count, total)) over all classes;
    # update_op is the per-class vector div_no_nan(count, total)
    total = np.bincount(labels, weights=w, minlength=4)
    count = np.bincount(labels, weights=w * (labels == preds), minlength=4)
    per = np.where(total > 0, count / np.where(total > 0, total, 1), 0)
    np.testing.assert_allclose(val(up), per)
    assert float(mpca) == pytest.approx(per.mean())
    assert {"mean_accuracy/total", "mean_accuracy/count"} <= set(store.names())


# ------------------------------------------------------------------------------- auc

def test_auc_predictions_outside_unit_interval_raise():
    # metrics_impl._confusion_matrix_at_thresholds asserts predictions in [0, 1]
    with pytest.raises(InvalidArgumentError, match=r"\[0, 1\]"):
        metrics.auc(tensor([0, 1]), tensor([0.2, 1.5]))
    with pytest.raises(InvalidArgumentError):
        metrics.auc(tensor([0, 1]), tensor([-0.1, 0.5]), name="neg")
    with pytest.raises(InvalidArgumentError):
        metrics.precision_at_thresholds(tensor([0, 1]), tensor([0.2, 1.5]), [0.5])


def test_auc_given_thresholds_are_sorted():
    # metrics_impl.auc: `thresholds = sorted(thresholds)` before adding the endpoints
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.5
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1).astype(np.float32)
    given = [0.7, 0.2, 0.5, 0.35, 0.9]
    v, _ = metrics.auc(tensor(y), tensor(p), thresholds=given)
    th = [-1e-7] + sorted(given) + [1 + 1e-7]
    assert float(v) == pytest.approx(tf_auc(y, p, None, th), rel=1e-9)


def test_auc_compares_in_float32():
    # _confusion_matrix_at_thresholds casts predictions to float32 before `>`: float64
    # predictions a hair above a threshold round onto it and are not positive there
    n = 200
    th = [-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7]
    p = np.array(th[1:-1], np.float64) + 1e-12
    y = np.arange(p.size) % 3 == 0
    v, _ = metrics.auc(tensor(y), tensor(p))
    assert float(v) == pytest.approx(tf_auc(y, p, None, th), rel=1e-9)
    # a positive a hair above threshold 100/199 and a negative on it: a tie in float32
    p2 = np.array([100 / 199 + 1e-12, 100 / 199])
    y2 = np.array([True, False])
    v2, _ = metrics.auc(tensor(y2), tensor(p2), name="tie")
    expect = tf_auc(y2, p2, None, th)
    assert expect == pytest.approx(0.5, abs=1e-5)  # no threshold separates them
    assert float(v2) == pytest.approx(expect, rel=1e-9)


# --------------------------------------------------------------- at-thresholds family

def test_confusion_and_ratios_at_unsorted_thresholds(store):
    rng = np.random.default_rng(4)
    y = (rng.random((30, 1)) < 0.4).astype(np.int64)
    p = rng.random(30).astype(np.float32)  # squeezable against (30, 1) labels
    w = rng.random(30)
    th = [0.8, 0.1, 0.5, 0.5, 0.3]
    tp, fn, tn, fp = tf_confusion_at_thresholds(y[:, 0], p, w, th)
    cases = [(metrics.true_positives_at_thresholds, tp),
             (metrics.false_negatives_at_thresholds, fn),
             (metrics.true_negatives_at_thresholds, tn),
             (metrics.false_positives_at_thresholds, fp),
             # metrics_impl.precision_at_thresholds / recall_at_thresholds: epsilon 1e-7
             (metrics.precision_at_thresholds, tp / (1e-7 + tp + fp)),
             (metrics.recall_at_thresholds, tp / (1e-7 + tp + fn))]
    for fn_, expect in cases:
        v, up = fn_(tensor(y), tensor(p), th, weights=tensor(w))
        np.testing.assert_allclose(val(v), expect, rtol=1e-9)
        np.testing.assert_allclose(val(up), expect, rtol=1e-9)
    names = set(store.names())
    assert {"true_positives/true_positives", "false_negatives/false_negatives",
            "precision_at_thresholds/true_positives",
            "precision_at_thresholds/false_positives",
            "recall_at_thresholds/false_negatives"} <= names
    assert store["true_positives/true_positives"].shape == (5,)


def tf_sens_spec_counts(y, p, n, last):
    th = [-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [last]
    return [c.astype(np.float32) for c in tf_confusion_at_thresholds(y, p, None, th)]


@pytest.mark.parametrize("target", [0.0, 0.3, 0.75, 1.0])
def test_sensitivity_at_specificity_and_specificity_at_sensitivity(target):
    rng = np.random.default_rng(5)
    y = rng.random(400) < 0.3
    p = np.round(np.clip(rng.normal(0.4 + 0.25 * y, 0.2), 0, 1), 2).astype(np.float32)
    eps = np.float32(1e-7)
    # metrics_impl.sensitivity_at_specificity: thresholds end at 1 + 1e-7; first argmin
    tp, fn, tn, fp = tf_sens_spec_counts(y, p, 200, 1 + 1e-7)
    i = np.argmin(np.abs(tn / (tn + fp + eps) - np.float32(target)))
    expect = tp[i] / (tp[i] + fn[i] + eps)
    v, up = metrics.sensitivity_at_specificity(tensor(y[:150]), tensor(p[:150]), target,
                                               name="sens")
    v, up = metrics.sensitivity_at_specificity(tensor(y[150:]), tensor(p[150:]), target,
                                               name="sens")
    assert float(v) == pytest.approx(float(expect), rel=1e-6)
    assert float(val(up)) == pytest.approx(float(expect), rel=1e-6)
    # metrics_impl.specificity_at_sensitivity: thresholds end at 1 - 1e-7; the LAST index
    # at the minimum (argmax of the cumsum of the indicator)
    tp, fn, tn, fp = tf_sens_spec_counts(y, p, 200, 1 - 1e-7)
    d = np.abs(tp / (tp + fn + eps) - np.float32(target))
    i = np.argmax(np.cumsum(d == d.min()))
    expect = tn[i] / (tn[i] + fp[i] + eps)
    s, _ = metrics.specificity_at_sensitivity(tensor(y), tensor(p), target)
    assert float(s) == pytest.approx(float(expect), rel=1e-6)
    with pytest.raises(ValueError, match="specificity"):
        metrics.sensitivity_at_specificity(tensor(y), tensor(p), 1.5)


# -------------------------------------------------------------------------- at-k family

def test_at_k_zero_denominator_is_nan_as_in_tf():
    # metrics_impl.precision_at_top_k / recall_at_top_k divide with math_ops.divide (no
    # div_no_nan): a class never predicted / never labelled gives NaN (metrics_test
    # expects NAN for such class_id)
    scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    labels = np.array([[1], [0]])
    p, up = metrics.precision_at_k(tensor(labels), tensor(scores), k=1, class_id=2)
    r, _ = metrics.recall_at_k(tensor(labels), tensor(scores), k=1, class_id=2)
    assert np.isnan(float(p)) and np.isnan(float(val(up))) and np.isnan(float(r))
    p1, _ = metrics.precision_at_k(tensor(labels), tensor(scores), k=1, class_id=1)
    assert float(p1) == 1.0


def test_recall_at_k_counts_a_repeated_label_once():
    # _sparse_false_negative_at_k: set_size(set_difference(labels, top_k)): labels are a
    # set, [2, 2] is one label
    scores = np.array([[0.1, 0.9, 0.0, 0.3], [0.8, 0.1, 0.1, 0.0]])
    labels = np.array([[2, 2], [0, 1]])
    r, _ = metrics.recall_at_k(tensor(labels), tensor(scores), k=1)
    # row 0: top {1}, labels {2}: tp 0, fn 1; row 1: top {0}, labels {0, 1}: tp 1, fn 1
    assert float(r) == pytest.approx(1 / 3)
    pt, _ = metrics.precision_at_top_k(tensor(labels), tensor([[1], [0]]), name="pt")
    rt, _ = metrics.recall_at_top_k(tensor(labels), tensor([[1], [0]]), name="rt")
    assert float(pt) == pytest.approx(1 / 2) and float(rt) == pytest.approx(1 / 3)


def tf_average_precision_at_k(labels, scores, k):
    """metrics_impl._sparse_average_precision_at_top_k (dense labels; labels >= num_classes
    set to -1 by _clean_out_of_range_indices)."""
    c = scores.shape[1]
    out = []
    for lab, s in zip(labels, scores):
        lab = np.where(np.atleast_1d(lab) >= c, -1, np.atleast_1d(lab))
        top = np.argsort(-s, kind="stable")[:k]
        rel = np.array([t in set(lab.tolist()) for t in top], float)
        prec = np.cumsum(rel) / np.arange(1, k + 1)
        out.append((prec * rel).sum() / min(np.sum(lab >= 0), k))
    return np.array(out)


def test_average_precision_at_k(store):
    rng = np.random.default_rng(6)
    scores = rng.random((12, 7))
    labels = rng.integers(0, 9, size=(12, 3))  # 7 and 8 are out of range: become -1
    labels[:, 0] = rng.integers(0, 7, 12)  # every row has a valid label
    w = rng.random(12)
    ap = tf_average_precision_at_k(labels, scores, 4)
    v, _ = metrics.average_precision_at_k(tensor(labels[:5]), tensor(scores[:5]), 4,
                                          weights=tensor(w[:5]))
    v, up = metrics.sparse_average_precision_at_k(tensor(labels[5:]), tensor(scores[5:]),
                                                  4, weights=tensor(w[5:]),
                                                  name="average_precision_at_4")
    # _streaming_sparse_average_precision_at_top_k: total / max, max = sum of weights
    expect = np.sum(ap * w) / np.sum(w)
    assert float(v) == pytest.approx(expect) and float(val(up)) == pytest.approx(expect)
    assert {"average_precision_at_4/max", "average_precision_at_4/total"} <= set(
        store.names())
    unweighted, _ = metrics.average_precision_at_k(tensor(labels), tensor(scores), 2,
                                                   name="ap2")
    assert float(unweighted) == pytest.approx(tf_average_precision_at_k(labels, scores,
                                                                        2).mean())
