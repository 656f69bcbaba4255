"""Estimator: TF's train/evaluate/predict contract, checkpoints, resume, hooks, errors."""
import logging
import os

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import estimator as est
from eagerflow.train import GradientDescentOptimizer, get_global_step
from eagerflow.variables import get_variable, zeros_initializer

X = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
Y = 3.0 * X + 1.0


def model_fn(features, labels, mode, params):
    w = get_variable("linear/w", [1, 1], initializer=zeros_initializer())
    b = get_variable("linear/b", [1], initializer=zeros_initializer())
    pred = features["x"] @ w + b
    if mode == est.ModeKeys.PREDICT:
        return est.EstimatorSpec(mode, predictions={"y": pred, "twice": pred * 2.0})
    loss = ef.reduce_mean(ef.square(pred - labels))
    if mode == est.ModeKeys.EVAL:
        mae = ef.reduce_mean(ef.abs(pred - labels))
        return est.EstimatorSpec(mode, loss=loss, eval_metric_ops={"mae": (mae, None)})
    opt = GradientDescentOptimizer(params.get("lr", 0.5))
    return est.EstimatorSpec(mode, loss=loss, train_op=opt.minimize(
        loss, global_step=get_global_step()))


def batches(n=None):
    def input_fn():
        def gen():
            i = 0
            while n is None or i < n:
                yield {"x": X}, Y
                i += 1
        return gen()
    return input_fn


def make(tmp_path, **cfg):
    config = est.RunConfig(save_checkpoints_steps=cfg.pop("save_steps", 10),
                           log_step_count_steps=cfg.pop("log_steps", 5), **cfg)
    return est.Estimator(model_fn, model_dir=str(tmp_path), config=config, params={"lr": 0.5})


def test_train_converges_and_checkpoints(tmp_path):
    e = make(tmp_path)
    e.train(batches(), steps=60)
    w = e.get_variable_value("linear/w")
    assert abs(float(w[0, 0]) - 3.0) < 0.05
    assert os.path.basename(e.latest_checkpoint()) == "model.ckpt-60"
    names = e.get_variable_names()
    assert "global_step" in names and "linear/w" in names
    assert os.path.exists(str(tmp_path / "model.ckpt-0.safetensors")) is False  # retention: 5


def test_steps_vs_max_steps_and_resume(tmp_path, caplog):
    e = make(tmp_path)
    e.train(batches(), steps=4)
    e.train(batches(), steps=4)
    assert int(e.get_variable_value("global_step")) == 8
    e.train(batches(), max_steps=10)
    assert int(e.get_variable_value("global_step")) == 10
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        e.train(batches(), max_steps=10)
    assert "Skipping training since max_steps has already saved." in caplog.text
    w_before = e.get_variable_value("linear/w")
    e2 = make(tmp_path)  # a new Estimator on the same model_dir resumes
    e2.train(batches(), steps=1)
    assert int(e2.get_variable_value("global_step")) == 11
    assert not np.allclose(e2.get_variable_value("linear/w"), 0.0)
    assert abs(float(e2.get_variable_value("linear/w")[0, 0]) - float(w_before[0, 0])) < 0.5


def test_training_ends_with_the_input(tmp_path):
    e = make(tmp_path)
    e.train(batches(n=3))
    assert int(e.get_variable_value("global_step")) == 3


def test_first_checkpoint_holds_initial_values(tmp_path):
    e = make(tmp_path, save_steps=1000)
    e.train(batches(), steps=2)
    from eagerflow.train.saver import load_variable
    w0 = load_variable(str(tmp_path / "model.ckpt-0"), "linear/w")
    assert float(w0[0, 0]) == 0.0 and int(load_variable(str(tmp_path / "model.ckpt-0"),
                                                        "global_step")) == 0


def test_evaluate_and_predict(tmp_path):
    e = make(tmp_path)
    e.train(batches(), steps=60)
    res = e.evaluate(batches(n=3), name="holdout")
    assert set(res) == {"mae", "loss", "global_step"}
    assert res["global_step"] == 60 and res["loss"] < 1e-3 and res["mae"] < 0.05
    assert os.path.isdir(str(tmp_path / "eval_holdout"))
    assert e.evaluate(batches(), steps=2)["global_step"] == 60
    rows = list(e.predict(batches(n=1)))
    assert len(rows) == 32 and set(rows[0]) == {"y", "twice"}
    np.testing.assert_allclose(rows[5]["y"], Y[5], atol=0.05)
    only = list(e.predict(batches(n=1), predict_keys="y", yield_single_examples=False))
    assert len(only) == 1 and set(only[0]) == {"y"} and only[0]["y"].shape == (32, 1)
    assert type(only[0]["y"]) is np.ndarray  # host arrays, as TF's predict yields
    with pytest.raises(ValueError, match="Expected to run at least one output"):
        list(e.predict(batches(n=1), predict_keys=["nope"]))


def test_evaluate_without_checkpoint_initialises(tmp_path, caplog):
    e = make(tmp_path)
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        res = e.evaluate(batches(n=1))
    assert "running initialization to evaluate" in caplog.text and res["global_step"] == 0


def test_nan_loss_raises(tmp_path):
    def bad_fn(features, labels, mode):
        w = get_variable("w", [1], initializer=zeros_initializer())
        loss = ef.reduce_sum(w) * float("nan")
        return est.EstimatorSpec(mode, loss=loss, train_op=GradientDescentOptimizer(0.1).minimize(
            loss, global_step=get_global_step()))
    e = est.Estimator(bad_fn, model_dir=str(tmp_path))
    with pytest.raises(est.NanLossDuringTrainingError):
        e.train(batches(), steps=3)


def test_nan_loss_leaves_the_last_good_checkpoint(tmp_path):
    """The loss check trails training on a GPU; it catches up before every save, so no
    checkpoint is written from a step at or after the NaN loss."""
    def input_fn():
        def gen():
            for i in range(20):
                yield {"x": X * np.float32("nan") if i == 5 else X}, Y
        return gen()
    e = make(tmp_path, save_steps=1)
    with pytest.raises(est.NanLossDuringTrainingError):
        e.train(input_fn)
    assert os.path.basename(e.latest_checkpoint()) == "model.ckpt-5"  # steps 1..5 good
    assert np.isfinite(e.get_variable_value("linear/w")).all()


def test_user_hooks_and_warm_start(tmp_path):
    class Count(est.SessionRunHook):
        def __init__(self):
            self.n = 0

        def after_run(self, ctx, values):
            self.n += 1
    h = Count()
    src = make(tmp_path / "src")
    src.train(batches(), steps=30, hooks=[h])
    assert h.n == 30
    warm = est.Estimator(model_fn, model_dir=str(tmp_path / "dst"), params={"lr": 1e-9},
                         warm_start_from=est.WarmStartSettings(str(tmp_path / "src"),
                                                               vars_to_warm_start="linear/.*"))
    warm.train(batches(), steps=1)
    np.testing.assert_allclose(warm.get_variable_value("linear/w"),
                               src.get_variable_value("linear/w"))
    assert int(warm.get_variable_value("global_step")) == 1


def test_argument_errors(tmp_path):
    e = make(tmp_path)
    with pytest.raises(ValueError, match="Can not provide both steps and max_steps."):
        e.train(batches(), steps=1, max_steps=2)
    with pytest.raises(ValueError, match="steps > 0"):
        e.train(batches(), steps=0)
    with pytest.raises(ValueError, match="must include features"):
        est.Estimator(lambda x, mode: None)
    with pytest.raises(ValueError, match="not expected args"):
        est.Estimator(lambda features, bogus: None)
    with pytest.raises(ValueError, match="different values"):
        est.Estimator(model_fn, model_dir=str(tmp_path / "a"),
                      config=est.RunConfig(model_dir=str(tmp_path / "b")))
    with pytest.raises(ValueError, match="Couldn't find trained model"):
        est.Estimator(model_fn, model_dir=str(tmp_path / "empty")).get_variable_names()
    with pytest.raises(ValueError, match="Can not provide both save_checkpoints_steps"):
        est.RunConfig(save_checkpoints_steps=1, save_checkpoints_secs=5)
    assert est.RunConfig().save_checkpoints_secs == 600
    assert est.RunConfig(save_checkpoints_steps=5).save_checkpoints_secs is None
    with pytest.raises(ValueError, match="loss and train_op"):
        est.EstimatorSpec(est.ModeKeys.TRAIN, loss=ef.constant(1.0))
    with pytest.raises(ValueError, match="scalar"):
        est.EstimatorSpec(est.ModeKeys.EVAL, loss=ef.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="mode must be one of"):
        est.EstimatorSpec("fit", loss=ef.constant(1.0))

    def reserved(features, labels, mode):
        return est.EstimatorSpec(mode, loss=ef.constant(1.0),
                                 eval_metric_ops={"loss": (ef.constant(1.0), None)})
    with pytest.raises(ValueError, match="Metric with name `loss` is not allowed"):
        est.Estimator(reserved, model_dir=str(tmp_path / "r")).evaluate(batches(n=1))


def test_temporary_model_dir_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="eagerflow"):
        e = est.Estimator(model_fn)
    assert os.path.isdir(e.model_dir) and "temporary folder" in caplog.text


def test_tensorboard_summaries_are_written(tmp_path):
    from eagerflow import summary
    e = make(tmp_path, save_summary_steps=5)
    e.train(batches(), steps=10)
    e.evaluate(batches(n=1))
    summary.FileWriterCache.clear()
    tags = {}
    for f in summary.event_files(str(tmp_path)):
        for ev in summary.summary_iterator(f):
            for v in ev.summary.value:
                tags.setdefault(v.tag, []).append(ev.step)
    assert tags["loss"] == [1, 6]
    assert "global_step/sec" in tags
    evals = [v.tag for f in summary.event_files(str(tmp_path / "eval"))
             for ev in summary.summary_iterator(f) for v in ev.summary.value]
    assert set(evals) == {"loss", "mae"}
