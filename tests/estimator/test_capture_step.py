"""``RunConfig(capture_step=True)``: the Estimator's training step as an ``ef.function``
(a CUDA graph replay on the GPU, eager on the CPU) trains to the same variables."""
import logging

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import backend
from eagerflow import estimator as est

ON_GPU = backend.get_backend() == "cupy"
R = np.random.default_rng(11)
N, B = 1024, 128
X = R.standard_normal((N, 3)).astype(np.float32)
IDS = R.integers(0, 20, (N, 1))
Y = ((X[:, :1] + (IDS % 2) - 0.5 + 0.3 * R.standard_normal((N, 1))) > 0).astype(np.float32)


def input_fn():
    def gen():
        while True:
            for i in range(0, N, B):
                yield {"x": X[i:i + B], "id": IDS[i:i + B]}, Y[i:i + B]
    return gen()


def model_fn(features, labels, mode, params):
    table = ef.get_variable("table", (20, 4), initializer=ef.random_normal_initializer(0, 0.1))
    e = ef.reshape(ef.nn.embedding_lookup(table, features["id"]), (-1, 4))
    net = ef.concat([e, features["x"]], axis=1)
    net = ef.layers.dense(net, 16, activation=ef.nn.relu, name="h")
    logits = ef.layers.dense(net, 1, name="logits")
    loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                                  logits=logits))
    opt = ef.train.LazyAdamOptimizer(0.01)
    train_op = opt.minimize(loss, global_step=ef.train.get_global_step())
    return est.EstimatorSpec(mode, predictions={"logits": logits}, loss=loss,
                             train_op=train_op)


def _train(tmp_path, capture):
    cfg = est.RunConfig(model_dir=str(tmp_path), tf_random_seed=3, save_checkpoints_steps=10,
                        log_step_count_steps=None, save_summary_steps=None,
                        capture_step=capture)
    m = est.Estimator(model_fn, config=cfg)
    m.train(input_fn, steps=25)
    return m, {n: m.get_variable_value(n) for n in m.get_variable_names()}


def test_captured_training_equals_eager_training(tmp_path, caplog, monkeypatch):
    from eagerflow.saved_model.function import Function
    made = []
    real = est.Estimator._step_fn
    monkeypatch.setattr(est.Estimator, "_step_fn",
                        lambda self, *a: made.append(real(self, *a)) or made[-1])
    _, want = _train(tmp_path / "eager", False)
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        m, got = _train(tmp_path / "graph", True)
    # the step runs through ef.function only when asked (on the CPU that is all there is
    # to check: an ef.function runs eagerly there)
    assert [isinstance(f, Function) for f in made] == [False, True]
    assert set(got) == set(want) and int(got["global_step"]) == 25
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-5, err_msg=name)
    # checkpoints written between replays hold the replayed values
    assert m.latest_checkpoint().endswith("model.ckpt-25")
    if ON_GPU:
        assert "captured into a CUDA graph" in caplog.text
        assert "running eagerly" not in caplog.text


def _with_missing(features):
    ids = features["id"].copy()
    ids[::3] = -1  # dense int features mark a missing value with -1
    return dict(features, id=ids)


@pytest.mark.parametrize("canned", ["dnn", "deepfm"])
def test_canned_feature_column_models_capture_and_match_eager(tmp_path, canned, caplog):
    """Dense int ids take the feature columns' dense-id path, which reads nothing back
    from the GPU, so a canned model's whole step is captured (on the GPU)."""
    emb = fc.embedding_column(fc.categorical_column_with_identity("id", 20), 4)
    x = fc.numeric_column("x", shape=(3,))

    def train(d, capture):
        cfg = est.RunConfig(model_dir=str(d), tf_random_seed=5, log_step_count_steps=None,
                            save_summary_steps=None, capture_step=capture)
        if canned == "dnn":
            m = est.DNNClassifier([8, 4], [x, emb], config=cfg)
        else:
            m = est.DeepFMClassifier([emb], hidden_units=[8], dense_columns=[x], config=cfg,
                                     optimizer=lambda: ef.train.LazyAdamOptimizer(0.01))
        m.train(lambda: ((_with_missing(f), y.astype(np.int64)) for f, y in input_fn()),
                steps=12)
        return {n: m.get_variable_value(n) for n in m.get_variable_names()}

    want = train(tmp_path / "a", False)
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        got = train(tmp_path / "b", True)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-5, err_msg=name)
    if ON_GPU:
        assert "captured into a CUDA graph" in caplog.text
        assert "running eagerly" not in caplog.text


def test_out_of_range_id_fails_training(tmp_path):
    emb = fc.embedding_column(fc.categorical_column_with_identity("id", 20), 4)

    def bad_input():
        for f, y in input_fn():
            f = dict(f, id=f["id"] + 5)  # ids 20..24 are out of range
            yield f, y.astype(np.int64)
    m = est.DNNClassifier([4], [emb], config=est.RunConfig(
        model_dir=str(tmp_path), log_step_count_steps=None, save_summary_steps=None))
    with pytest.raises(ValueError, match=r"is not in \[0, 20\)"):
        m.train(bad_input, steps=3)


def test_capture_step_must_be_a_bool():
    with pytest.raises(TypeError, match="capture_step"):
        est.RunConfig(capture_step="yes")
    assert est.RunConfig().capture_step is False
    assert est.RunConfig().replace(capture_step=True).capture_step is True
