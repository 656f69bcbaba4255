"""Streaming metrics against plain NumPy references (scikit-learn's definitions)."""
import numpy as np
import pytest

from eagerflow import metrics
import eagerflow.variables as vs
from tests.gradcheck import tensor, to_numpy


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def data(n=600, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    if ties:
        p = np.round(p, 1)
    w = rng.random(n) + 0.5
    return y, p.astype(np.float32), w


def ref_thresholded_auc(y, p, w, n_th=200, curve="ROC", method="trapezoidal"):
    eps = 1e-7
    th = np.array([-eps] + [(i + 1) / (n_th - 1) for i in range(n_th - 2)] + [1 + eps],
                  dtype=np.float32)
    above = p[None, :] > th[:, None]
    tp = (above & y).astype(float) @ w
    fp = (above & ~y).astype(float) @ w
    fn = (~above & y).astype(float) @ w
    tn = (~above & ~y).astype(float) @ w
    e = 1e-6
    rec = (tp + e) / (tp + fn + e)
    if curve == "ROC":
        x, yy = fp / (fp + tn + e), rec
    else:
        x, yy = rec, (tp + e) / (tp + fp + e)
    h = {"trapezoidal": (yy[:-1] + yy[1:]) / 2, "minoring": np.minimum(yy[:-1], yy[1:]),
         "majoring": np.maximum(yy[:-1], yy[1:])}[method]
    return np.sum((x[:-1] - x[1:]) * h)


def ref_exact_roc(y, p, w):
    """Weighted Mann-Whitney: P(score_pos > score_neg) + 0.5 P(tie)."""
    pos, neg = p[y], p[~y]
    wp, wn = w[y], w[~y]
    gt = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return float((wp[:, None] * wn[None, :] * gt).sum() / (wp.sum() * wn.sum()))


def ref_average_precision(y, p, w):
    ths = np.unique(p)[::-1]
    total = (w * y).sum()
    ap, prev_r = 0.0, 0.0
    for t in ths:
        sel = p >= t
        tp = (w * (sel & y)).sum()
        fp = (w * (sel & ~y)).sum()
        r = tp / total
        ap += (r - prev_r) * tp / (tp + fp)
        prev_r = r
    return ap


@pytest.mark.parametrize("curve,method", [("ROC", "trapezoidal"), ("PR", "trapezoidal"),
                                          ("ROC", "minoring"), ("PR", "majoring")])
def test_auc_thresholded_matches_tf_formula(curve, method):
    y, p, w = data()
    value, update = None, None
    for sl in (slice(0, 250), slice(250, 600)):  # streaming over two batches
        value, update = metrics.auc(tensor(y[sl]), tensor(p[sl]), weights=tensor(w[sl]),
                                    curve=curve, summation_method=method, name="auc")
    expect = ref_thresholded_auc(y, p, w, curve=curve, method=method)
    np.testing.assert_allclose(float(value), expect, rtol=1e-7)
    np.testing.assert_allclose(float(to_numpy(update)), expect, rtol=1e-7)


def test_auc_careful_interpolation_close_to_average_precision():
    y, p, w = data(2000, seed=3)
    v, _ = metrics.auc(tensor(y), tensor(p), curve="PR",
                       summation_method="careful_interpolation", num_thresholds=1000)
    assert abs(float(v) - ref_average_precision(y, p, w * 0 + 1)) < 0.01


@pytest.mark.parametrize("ties", [False, True])
def test_auc_exact_roc_and_pr(ties):
    y, p, w = data(400, seed=1, ties=ties)
    for sl in (slice(0, 100), slice(100, 400)):
        roc, _ = metrics.auc(tensor(y[sl]), tensor(p[sl]), weights=tensor(w[sl]), exact=True,
                             name="roc_exact")
        pr, _ = metrics.auc(tensor(y[sl]), tensor(p[sl]), weights=tensor(w[sl]), exact=True,
                            curve="PR", name="pr_exact")
    np.testing.assert_allclose(float(roc), ref_exact_roc(y, p, w), rtol=1e-12)
    np.testing.assert_allclose(float(pr), ref_average_precision(y, p, w), rtol=1e-12)
    approx, _ = metrics.auc(tensor(y), tensor(p), weights=tensor(w))
    assert abs(float(approx) - float(roc)) < 0.01
    metrics.reset_metrics()
    assert float(roc) == 0.0


def test_unnamed_metrics_are_unique_per_store_session(store):
    y, p, _ = data(10)
    a, _ = metrics.mean(tensor(p))
    b, _ = metrics.mean(tensor(p * 0))  # a second metric of the same kind: mean_1
    assert float(a) == pytest.approx(float(p.mean())) and float(b) == 0.0
    with store.as_default():
        c, _ = metrics.mean(tensor(p * 0))  # a new model_fn call: mean again
    assert float(c) == pytest.approx(float(p.mean()) / 2)


def test_auc_names_and_bad_args(store):
    y, p, _ = data(10)
    metrics.auc(tensor(y), tensor(p))
    metrics.auc(tensor(y), tensor(p))
    assert store.names()[:4] == ["auc/true_positives", "auc/false_negatives",
                                 "auc/true_negatives", "auc/false_positives"]
    assert "auc_1/true_positives" in store.names()
    assert store["auc/true_positives"].shape == (200,)
    with pytest.raises(ValueError, match="curve"):
        metrics.auc(tensor(y), tensor(p), curve="XY")
    with pytest.raises(ValueError, match="summation_method"):
        metrics.auc(tensor(y), tensor(p), summation_method="simpson")
    with pytest.raises(ValueError, match="differ"):
        metrics.auc(tensor(y), tensor(p[:5]))


def test_state_persists_across_model_fn_calls_and_resets(store):
    y, p, w = data(100)
    for sl in (slice(0, 50), slice(50, 100)):
        with store.as_default():  # what an Estimator does for every eval batch
            acc, _ = metrics.accuracy(tensor(y[sl].astype(np.int64)),
                                      tensor((p[sl] > 0.5).astype(np.int64)))
            auc_v, _ = metrics.auc(tensor(y[sl]), tensor(p[sl]))
    np.testing.assert_allclose(float(acc), np.mean(y == (p > 0.5)))
    np.testing.assert_allclose(float(auc_v), ref_thresholded_auc(y, p, np.ones(100)),
                               rtol=1e-9)
    assert set(v.name for v in metrics.metric_variables()) >= {"accuracy/total",
                                                               "accuracy/count"}
    assert all(not v.trainable for v in metrics.metric_variables())
    metrics.reset_metrics()
    assert float(acc) == 0.0


def test_mean_family_with_weights():
    rng = np.random.default_rng(2)
    lab, pred, w = rng.standard_normal(50), rng.standard_normal(50), rng.random(50)
    m, _ = metrics.mean(tensor(pred[:20]), weights=tensor(w[:20]), name="m")
    m, up = metrics.mean(tensor(pred[20:]), weights=tensor(w[20:]), name="m")
    np.testing.assert_allclose(float(m), np.average(pred, weights=w), rtol=1e-5)
    mse, _ = metrics.mean_squared_error(tensor(lab), tensor(pred), weights=tensor(w))
    rmse, _ = metrics.root_mean_squared_error(tensor(lab), tensor(pred))
    mae, _ = metrics.mean_absolute_error(tensor(lab), tensor(pred))
    np.testing.assert_allclose(float(mse), np.average((pred - lab) ** 2, weights=w), rtol=1e-5)
    np.testing.assert_allclose(float(rmse), np.sqrt(np.mean((pred - lab) ** 2)), rtol=1e-5)
    np.testing.assert_allclose(float(mae), np.mean(np.abs(pred - lab)), rtol=1e-5)
    empty, _ = metrics.mean(tensor(np.zeros(0)), name="empty")
    assert float(empty) == 0.0
    with pytest.raises(ValueError, match="incompatible"):
        metrics.mean_squared_error(tensor(lab), tensor(pred[:3]))


def test_confusion_counts_precision_recall():
    rng = np.random.default_rng(4)
    y, p, w = rng.random(80) < 0.5, rng.random(80) < 0.3, rng.random(80)
    tp = (w * (y & p)).sum()
    fp = (w * (~y & p)).sum()
    fn = (w * (y & ~p)).sum()
    tn = (w * (~y & ~p)).sum()
    args = (tensor(y), tensor(p.astype(np.float32)))
    for fn_, expect in ((metrics.true_positives, tp), (metrics.false_positives, fp),
                        (metrics.false_negatives, fn), (metrics.true_negatives, tn)):
        v, _ = fn_(*args, weights=tensor(w))
        np.testing.assert_allclose(float(v), expect)
    prec, _ = metrics.precision(*args, weights=tensor(w))
    rec, _ = metrics.recall(*args, weights=tensor(w))
    np.testing.assert_allclose(float(prec), tp / (tp + fp))
    np.testing.assert_allclose(float(rec), tp / (tp + fn))
    none, _ = metrics.precision(tensor(y), tensor(np.zeros(80, bool)), name="nothing")
    assert float(none) == 0.0


def ref_at_k(labels, scores, k, class_id=None):
    tp = fp = fn = 0.0
    for lab, s in zip(labels, scores):
        top = list(np.argsort(-s, kind="stable")[:k])
        # a set of labels; out-of-range ones (-1, >= num_classes) are false negatives
        # ("Values outside this range always count towards false_negative_at_<k>")
        lab = set(np.atleast_1d(lab).tolist())
        if class_id is not None:
            t, l = class_id in top, class_id in lab
            tp, fp, fn = tp + (t and l), fp + (t and not l), fn + (l and not t)
            continue
        hit = len(set(top) & lab)
        tp, fp, fn = tp + hit, fp + k - hit, fn + len(lab) - hit
    return tp / (tp + fp), tp / (tp + fn)


@pytest.mark.parametrize("class_id", [None, 2])
def test_precision_recall_at_k(class_id):
    rng = np.random.default_rng(5)
    scores = rng.random((40, 6))
    labels = rng.integers(-1, 7, size=(40, 2))  # -1 and 6 are out of range: missed labels
    labels[:, 1] = np.where(labels[:, 1] == labels[:, 0], -1, labels[:, 1])
    p, _ = metrics.precision_at_k(tensor(labels), tensor(scores), k=3, class_id=class_id)
    r, _ = metrics.recall_at_k(tensor(labels), tensor(scores), k=3, class_id=class_id)
    ep, er = ref_at_k(labels, scores, 3, class_id)
    np.testing.assert_allclose(float(p), ep)
    np.testing.assert_allclose(float(r), er)
    dense_labels = rng.integers(0, 6, size=40)
    p1, _ = metrics.precision_at_k(tensor(dense_labels), tensor(scores), k=1, name="p1")
    np.testing.assert_allclose(float(p1), np.mean(np.argmax(scores, 1) == dense_labels))
    with pytest.raises(ValueError, match="k must be"):
        metrics.precision_at_k(tensor(dense_labels), tensor(scores), k=7)


def test_streaming_metrics_against_scikit_learn():
    import sklearn.metrics as sk  # a dev dependency (pyproject [dev]); missing -> a failure
    y, p, w = data(700, seed=9, ties=True)
    hard = p > 0.5
    lab, reg = np.random.default_rng(9).standard_normal((2, 700))
    parts = (slice(0, 123), slice(123, 450), slice(450, 700))  # streaming over 3 batches
    for sl in parts:
        args = dict(weights=tensor(w[sl]))
        roc, _ = metrics.auc(tensor(y[sl]), tensor(p[sl]), exact=True, name="sk_roc", **args)
        pr, _ = metrics.auc(tensor(y[sl]), tensor(p[sl]), exact=True, curve="PR",
                            name="sk_pr", **args)
        acc, _ = metrics.accuracy(tensor(y[sl]), tensor(hard[sl]), name="sk_acc", **args)
        prec, _ = metrics.precision(tensor(y[sl]), tensor(hard[sl]), name="sk_prec", **args)
        rec, _ = metrics.recall(tensor(y[sl]), tensor(hard[sl]), name="sk_rec", **args)
        mse, _ = metrics.mean_squared_error(tensor(lab[sl]), tensor(reg[sl]), name="sk_mse",
                                            **args)
        mae, _ = metrics.mean_absolute_error(tensor(lab[sl]), tensor(reg[sl]), name="sk_mae",
                                             **args)
        rmse, _ = metrics.root_mean_squared_error(tensor(lab[sl]), tensor(reg[sl]),
                                                  name="sk_rmse", **args)
    np.testing.assert_allclose(float(roc), sk.roc_auc_score(y, p, sample_weight=w), rtol=1e-10)
    np.testing.assert_allclose(float(pr), sk.average_precision_score(y, p, sample_weight=w),
                               rtol=1e-10)
    np.testing.assert_allclose(float(acc), sk.accuracy_score(y, hard, sample_weight=w),
                               rtol=1e-6)
    np.testing.assert_allclose(float(prec), sk.precision_score(y, hard, sample_weight=w),
                               rtol=1e-6)
    np.testing.assert_allclose(float(rec), sk.recall_score(y, hard, sample_weight=w),
                               rtol=1e-6)
    np.testing.assert_allclose(float(mse), sk.mean_squared_error(lab, reg, sample_weight=w),
                               rtol=1e-6)
    np.testing.assert_allclose(float(mae), sk.mean_absolute_error(lab, reg, sample_weight=w),
                               rtol=1e-6)
    np.testing.assert_allclose(float(rmse), np.sqrt(sk.mean_squared_error(
        lab, reg, sample_weight=w)), rtol=1e-6)
    approx, _ = metrics.auc(tensor(y), tensor(p), weights=tensor(w), num_thresholds=2000,
                            name="sk_roc_thresholded")
    assert abs(float(approx) - sk.roc_auc_score(y, p, sample_weight=w)) < 5e-3
