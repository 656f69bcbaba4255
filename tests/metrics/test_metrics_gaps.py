"""tf.metrics' float32 state and value dtypes and the metrics_collections /
updates_collections arguments, checked against tensorflow/python/ops/metrics_impl.py.

Expected values are computed the way TF's graph computes them (float32 casts, float32
``assign_add``, ``div_no_nan``), quoted in the comments, not taken from eagerflow.
"""
import numpy as np
import pytest

import eagerflow as ef
import eagerflow.variables as vs
from eagerflow import metrics

F32 = np.float32


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def val(t):
    """A metric value or update op as a host NumPy array, dtype kept."""
    return np.asarray(t.numpy())


def c(a, dtype=None):
    return ef.constant(np.asarray(a, dtype=dtype))


# --- mean: float32 total/count, float32 value -----------------------------------------------
def test_mean_is_float32_for_any_input_dtype():
    # metrics_impl.mean: `values = math_ops.cast(values, dtypes.float32)`, total/count are
    # metric_variable([], dtypes.float32); value = div_no_nan(total, maximum(count, 0))
    for dtype in (np.float16, np.float32, np.float64, np.int32, np.int64):
        m, up = metrics.mean(c([1, 2, 4], dtype), name=f"m_{np.dtype(dtype).name}")
        assert val(m).dtype == F32 and val(up).dtype == F32
        assert val(m) == F32(7) / F32(3)
    m, _ = metrics.mean(c([0.1], np.float64), name="tenth")
    assert val(m) == F32(0.1)  # the float64 0.1 is rounded to float32 first
    assert float(val(m)) != 0.1
    state = {v.name: v for v in metrics.metric_variables()}
    assert state["tenth/total"].dtype == F32 and state["tenth/count"].dtype == F32


def test_mean_accumulates_in_float32():
    # total is float32: 2**24 + 1 rounds back to 2**24 (round-half-even), twice; count is 3
    for batch in ([2.0 ** 24], [1.0], [1.0]):
        m, up = metrics.mean(c(batch, np.float64), name="big")
    expect = F32(2 ** 24) / F32(3)  # 5592405.5 in float32 (float64 state: 5592406.0)
    assert val(m) == expect and val(up) == expect
    assert val(m) != F32((2 ** 24 + 2) / 3)


def test_weighted_mean_float32():
    # weights are cast to float32 and broadcast; total += sum(values * weights),
    # count += sum(weights)
    v = np.array([1.0, 2.0, 3.0], np.float64)
    w = np.array([0.1, 0.2, 0.3], np.float64)
    m, up = metrics.mean(c(v), weights=c(w), name="wm")
    v32, w32 = v.astype(F32), w.astype(F32)
    expect = (v32 * w32).sum(dtype=F32) / w32.sum(dtype=F32)
    assert val(m).dtype == F32 and val(m) == expect
    zero, _ = metrics.mean(c([5.0]), weights=c([0.0]), name="masked")
    assert val(zero) == F32(0) and val(zero).dtype == F32  # div_no_nan


def test_mean_family_values_are_float32():
    lab = np.array([1.0, 2.0, 3.0, 4.0], np.float64)
    pred = np.array([1.5, 2.0, 2.0, 5.0], np.float64)
    acc, up = metrics.accuracy(c([1, 0, 1]), c([1, 1, 1]))
    assert val(acc).dtype == F32 and val(acc) == F32(2) / F32(3) and val(up).dtype == F32
    mse, _ = metrics.mean_squared_error(c(lab), c(pred))
    assert val(mse).dtype == F32 and val(mse) == F32(2.25) / F32(4)
    rmse, up = metrics.root_mean_squared_error(c(lab), c(pred))
    assert val(rmse).dtype == F32 and val(rmse) == np.sqrt(F32(2.25) / F32(4))
    assert val(up).dtype == F32
    mae, _ = metrics.mean_absolute_error(c(lab), c(pred))
    assert val(mae).dtype == F32 and val(mae) == F32(2.5) / F32(4)
    mre, _ = metrics.mean_relative_error(c(lab), c(pred), normalizer=c(lab))
    expect = np.array([0.5, 0.0, 1 / 3, 0.25]).astype(F32).sum(dtype=F32) / F32(4)
    assert val(mre).dtype == F32 and val(mre) == expect
    pb, _ = metrics.percentage_below(c([1.0, 5.0, 2.0, 9.0]), threshold=3.0)
    assert val(pb).dtype == F32 and val(pb) == F32(0.5)


def test_differences_are_taken_in_the_inputs_dtype():
    # metrics_impl.mean_squared_error: squared_difference(labels, predictions) in the
    # inputs' dtype, then mean() casts to float32: a float64 difference of 2**-30 survives
    lab = np.array([1.0], np.float64)
    pred = np.array([1.0 + 2.0 ** -30], np.float64)
    mse, _ = metrics.mean_squared_error(c(lab), c(pred))
    assert val(mse) == F32(2.0 ** -60)  # casting first would give 1.0 - 1.0 = 0
    mae, _ = metrics.mean_absolute_error(c(lab), c(pred))
    assert val(mae) == F32(2.0 ** -30)


def test_mean_cosine_distance_and_mean_tensor():
    # mean_cosine_distance: 1.0 - mean(reduce_sum(predictions * labels, dim, keepdims))
    lab = np.array([[1.0, 0.0], [0.0, 1.0]], np.float64)
    pred = np.array([[0.6, 0.8], [0.6, 0.8]], np.float64)
    d, up = metrics.mean_cosine_distance(c(lab), c(pred), dim=1)
    expect = F32(1.0) - np.array([0.6, 0.8]).astype(F32).sum(dtype=F32) / F32(2)
    assert val(d).dtype == F32 and val(d) == expect and val(up) == expect
    # mean_tensor: total_tensor / count_tensor, float32, element-wise
    metrics.mean_tensor(c([[1.0, 2.0]], np.float64), name="mt")
    mt, up = metrics.mean_tensor(c([[3.0, 5.0]], np.float64), name="mt")
    assert val(mt).dtype == F32 and val(mt).tolist() == [[2.0, 3.5]]


# --- counts, precision, recall ---------------------------------------------------------------
def test_condition_counts_are_float32():
    # _count_condition: count = metric_variable([], dtypes.float32); values (bool) cast to
    # float32, times float32 weights; count += reduce_sum(values)
    tp, up = metrics.true_positives(c([True, True, False]), c([True, False, True]),
                                    weights=c([2.0 ** 24, 1.0, 1.0]), name="tp")
    assert val(tp).dtype == F32 and val(tp) == F32(2 ** 24)
    tp, up = metrics.true_positives(c([True]), c([True]), name="tp")
    assert val(tp) == F32(2 ** 24) and val(up) == F32(2 ** 24)  # 2**24 + 1 in float32
    for fn in (metrics.false_positives, metrics.true_negatives, metrics.false_negatives):
        v, u = fn(c([True, False]), c([False, False]))
        assert val(v).dtype == F32 and val(u).dtype == F32


def test_precision_recall_float32():
    # compute_precision: where(tp + fp > 0, tp / (tp + fp), 0) on the float32 counts
    y = [True, True, False, False, True]
    p = [True, False, True, True, True]
    prec, up = metrics.precision(c(y), c(p))
    rec, _ = metrics.recall(c(y), c(p))
    assert val(prec).dtype == F32 and val(prec) == F32(2) / F32(4)
    assert val(rec).dtype == F32 and val(rec) == F32(2) / F32(3)
    none, _ = metrics.precision(c([True]), c([False]), name="none")
    assert val(none) == F32(0) and val(none).dtype == F32


# --- mean_iou and mean_per_class_accuracy ----------------------------------------------------
def test_mean_iou_float64_matrix_float32_value():
    # _streaming_confusion_matrix: total_cm float64 (update_op is it); compute_mean_iou
    # casts row/col sums and the diagonal to float32
    labels, preds = [0, 0, 1, 1, 2], [0, 1, 1, 1, 0]
    v, cm = metrics.mean_iou(c(labels), c(preds), num_classes=4)
    assert val(cm).dtype == np.float64
    assert val(cm).tolist() == [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    # iou: class 0: 1 / (2 + 2 - 1), class 1: 2 / (3 + 2 - 2), class 2: 0 / 1; class 3 absent
    expect = (F32(1) / F32(3) + F32(2) / F32(3) + F32(0)) / F32(3)
    assert val(v).dtype == F32 and val(v) == expect


def test_mean_per_class_accuracy_float32():
    # total/count: metric_variable([num_classes], float32); update_op per class,
    # value reduce_mean of it
    v, up = metrics.mean_per_class_accuracy(c([0, 0, 1, 2]), c([0, 1, 1, 0]), num_classes=3)
    assert val(up).dtype == F32 and val(up).tolist() == [0.5, 1.0, 0.0]
    assert val(v).dtype == F32 and val(v) == (F32(0.5) + F32(1.0)) / F32(3)


# --- collections -----------------------------------------------------------------------------
def test_metrics_and_updates_collections():
    # TF: _aggregate_across_replicas adds the value to metrics_collections;
    # ops.add_to_collections(updates_collections, update_op)
    m, up = metrics.mean(c([1.0, 3.0]), metrics_collections=["mv", "all"],
                         updates_collections=["mu"])
    assert vs.get_collection("mv")[0] is m and vs.get_collection("all")[0] is m
    assert vs.get_collection("mu")[0] is up
    # one name as a string is one collection (ops.add_to_collections)
    a, a_up = metrics.accuracy(c([1]), c([1]), metrics_collections="one",
                               updates_collections="one_up")
    assert vs.get_collection("one") == [a] and vs.get_collection("one_up") == [a_up]
    # positional arguments are honoured too
    metrics.mean(c([2.0]), None, ["pos"], None, "positional")
    assert len(vs.get_collection("pos")) == 1
    # none given: nothing added anywhere new
    before = {k: len(vs.get_collection(k)) for k in ("mv", "mu", "one", "pos")}
    metrics.mean(c([1.0]))
    assert {k: len(vs.get_collection(k)) for k in before} == before


def test_collections_hold_the_outer_value_only():
    # precision passes metrics_collections=None to its inner true/false positives;
    # mean_cosine_distance adds 1 - mean, not the mean
    p, _ = metrics.precision(c([True, False]), c([True, True]), metrics_collections=["pc"])
    assert vs.get_collection("pc") == [p]
    d, d_up = metrics.mean_cosine_distance(c([[1.0, 0.0]]), c([[0.6, 0.8]]), dim=1,
                                           metrics_collections=["dc"],
                                           updates_collections=["du"])
    assert vs.get_collection("dc") == [d] and val(vs.get_collection("dc")[0]) == F32(1) - F32(0.6)
    assert vs.get_collection("du") == [d_up]


def test_auc_collections_and_unchanged_result():
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    plain, _ = metrics.auc(c(y), c(p, np.float32), name="plain")
    with_c, up = metrics.auc(c(y), c(p, np.float32), name="coll", metrics_collections=["ac"],
                             updates_collections=["au"])
    assert vs.get_collection("ac") == [with_c] and vs.get_collection("au") == [up]
    assert val(with_c) == val(plain)
    assert round(float(val(plain)), 3) == 0.75
    tp, _ = metrics.true_positives_at_thresholds(c(y), c(p, np.float32), [0.3],
                                                 metrics_collections=["tpc"])
    assert vs.get_collection("tpc") == [tp]
