"""RunConfig, TrainSpec/EvalSpec, train_and_evaluate and the session-run hooks checked
against TF's sources:

- tensorflow/python/training/basic_session_run_hooks.py (hooks, SecondOrStepTimer)
- tensorflow_estimator/python/estimator/run_config.py (RunConfig)
- tensorflow_estimator/python/estimator/training.py (specs, train_and_evaluate local mode)
"""
import json
import logging
import time

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import estimator as est
from eagerflow import summary
from eagerflow.train import GradientDescentOptimizer, get_global_step, get_or_create_global_step
from eagerflow.train.basic_session_run_hooks import (CheckpointSaverHook,
                                                     CheckpointSaverListener,
                                                     LoggingTensorHook, NanTensorHook,
                                                     SecondOrStepTimer, StepCounterHook,
                                                     StopAtStepHook)
from eagerflow.train.session_run_hook import HookRunner, SessionRunArgs
from eagerflow.variables import VariableStore, get_variable, zeros_initializer


def _loop(hooks, n, loss_fn=lambda step: 0.5):
    """Runs ``n`` steps (fewer if a hook stops) through the shared runner."""
    runner = HookRunner(hooks)
    runner.begin()
    gs = get_or_create_global_step()
    runner.after_create_session()
    for _ in range(n):
        def step():
            gs.assign_add(1)
            return {"loss": ef.constant(loss_fn(int(gs.numpy()))), "global_step": gs}
        runner.run_step(step)
        if runner.should_stop():
            break
    runner.end()
    return runner


def _messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "eagerflow"]


# --- SecondOrStepTimer -----------------------------------------------------------------------
def test_timer_first_update_returns_pair_of_none():
    # TF: update_last_triggered_step returns (elapsed_secs, elapsed_steps), "Both values
    # will be set to `None` on the first trigger"
    t = SecondOrStepTimer(every_steps=3)
    assert t.should_trigger_for_step(5)  # fires at the first step asked about
    assert t.update_last_triggered_step(5) == (None, None)
    secs, steps = t.update_last_triggered_step(8)
    assert steps == 3 and secs >= 0


def test_timer_error_messages():
    # TF: "Either every_secs or every_steps should be provided." /
    #     "Can not provide both every_secs and every_steps."
    with pytest.raises(ValueError, match="Either every_secs or every_steps should be provided"):
        SecondOrStepTimer()
    with pytest.raises(ValueError, match="Can not provide both every_secs and every_steps"):
        SecondOrStepTimer(every_secs=1, every_steps=1)


# --- LoggingTensorHook -----------------------------------------------------------------------
def test_logging_hook_line_format_sorted_tags_and_elapsed_secs(caplog):
    # TF's _log_tensors: tags of a dict in sorted order, "%s = %s" joined by ", ", and
    # logging.info("%s (%.3f sec)", ...) once there is an elapsed time (not on the first)
    caplog.set_level(logging.INFO, logger="eagerflow")
    with VariableStore().as_default():
        hook = LoggingTensorHook({"step": "global_step", "loss": "loss"}, every_n_iter=2)
        _loop([hook], 3)
    lines = [m for m in _messages(caplog) if m.startswith("loss = ")]
    assert lines[0] == "loss = 0.5, step = 1"
    assert lines[1].startswith("loss = 0.5, step = 3 (") and lines[1].endswith(" sec)")
    secs = lines[1][len("loss = 0.5, step = 3 ("):-len(" sec)")]
    assert len(secs.split(".")[1]) == 3  # %.3f


def test_logging_hook_list_keeps_given_order(caplog):
    # TF: for a non-dict `tensors`, self._tag_order = tensors (the given order)
    caplog.set_level(logging.INFO, logger="eagerflow")
    with VariableStore().as_default():
        _loop([LoggingTensorHook(["loss", "global_step"], every_n_iter=10)], 1)
        _loop([LoggingTensorHook(["global_step", "loss"], every_n_iter=10)], 1)
    lines = [m for m in _messages(caplog) if " = " in m]
    assert lines[0] == "loss = 0.5, global_step = 1"
    assert lines[1] == "global_step = 2, loss = 0.5"


def test_logging_hook_begin_resets_iteration_count(caplog):
    # TF's LoggingTensorHook.begin: self._timer.reset(); self._iter_count = 0
    caplog.set_level(logging.INFO, logger="eagerflow")
    with VariableStore().as_default():
        hook = LoggingTensorHook({"step": "global_step"}, every_n_iter=2)
        _loop([hook], 3)  # logs at iterations 0 and 2 (steps 1 and 3)
        _loop([hook], 1)  # a new run: iteration 0 logs again (step 4)
    steps = [m.split(" ")[2] for m in _messages(caplog) if m.startswith("step = ")]
    assert steps == ["1", "3", "4"]


# --- StopAtStepHook / CheckpointSaverHook / NanTensorHook / StepCounterHook -------------------
def test_stop_at_step_messages():
    # TF: "One of num_steps or last_step must be specified." /
    #     "Only one of num_steps or last_step can be specified."
    with pytest.raises(ValueError, match="One of num_steps or last_step must be specified"):
        StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of num_steps or last_step can be specified"):
        StopAtStepHook(num_steps=1, last_step=1)


def test_checkpoint_saver_hook_rejects_saver_and_scaffold(tmp_path):
    # TF's CheckpointSaverHook.__init__: "You cannot provide both saver and scaffold."
    with pytest.raises(ValueError, match="You cannot provide both saver and scaffold."):
        CheckpointSaverHook(str(tmp_path), save_steps=1, saver=object(), scaffold=object())


def test_nan_hook_without_failing_logs_tf_warning_and_stops(caplog):
    # TF's NanTensorHook.after_run: logging.warning("Model diverged with loss = NaN.") then
    # run_context.request_stop() when fail_on_nan_loss is False
    caplog.set_level(logging.WARNING, logger="eagerflow")
    with VariableStore().as_default():
        _loop([NanTensorHook("loss", fail_on_nan_loss=False)], 10,
              loss_fn=lambda s: float("nan") if s == 3 else 1.0)
        assert int(get_global_step().numpy()) == 3
    assert "Model diverged with loss = NaN." in _messages(caplog)


def test_step_counter_hook_writes_to_output_dir(tmp_path):
    # TF's StepCounterHook.begin: a SummaryWriterCache writer for output_dir; the summary
    # tag is "<global step op name>/sec" = "global_step/sec"
    d = str(tmp_path / "steps")
    with VariableStore().as_default():
        hook = StepCounterHook(every_n_steps=1, output_dir=d)
        _loop([hook], 3, loss_fn=lambda s: time.sleep(0.01) or 0.5)
    summary.FileWriterCache.get(d).flush()
    tags = [v.tag for f in summary.event_files(d) for e in summary.summary_iterator(f)
            for v in e.summary.value]
    summary.FileWriterCache.clear()
    assert tags.count("global_step/sec") == 2  # the first trigger has no elapsed time


def test_feed_fn_hook_calls_feed_fn_each_step():
    # TF's FeedFnHook.before_run: SessionRunArgs(fetches=None, feed_dict=self.feed_fn())
    from eagerflow.train.basic_session_run_hooks import FeedFnHook
    calls = []
    hook = FeedFnHook(lambda: calls.append(1) or {"x": len(calls)})
    args = hook.before_run(None)
    assert isinstance(args, SessionRunArgs) and args.fetches is None
    assert args.feed_dict == {"x": 1}
    with VariableStore().as_default():
        _loop([hook], 3)
    assert len(calls) == 4


# --- RunConfig -------------------------------------------------------------------------------
def test_run_config_checkpoint_defaults_follow_tf():
    # TF's RunConfig.__init__: 600 secs only when neither is given; given one (even None)
    # the other becomes None; both not None -> _SAVE_CKPT_ERR
    assert est.RunConfig().save_checkpoints_secs == 600
    cfg = est.RunConfig(save_checkpoints_steps=None)
    assert cfg.save_checkpoints_steps is None and cfg.save_checkpoints_secs is None
    cfg = est.RunConfig(save_checkpoints_secs=30)
    assert cfg.save_checkpoints_steps is None and cfg.save_checkpoints_secs == 30
    with pytest.raises(ValueError, match="`save_checkpoints_steps` and `save_checkpoints_secs` "
                                         "cannot be both set."):
        est.RunConfig(save_checkpoints_steps=10, save_checkpoints_secs=600)
    # _validate_properties: save_checkpoints_steps/secs >= 0 (0 is allowed)
    assert est.RunConfig(save_checkpoints_steps=0).save_checkpoints_steps == 0


def test_run_config_validates_like_tf():
    # TF's _validate_properties / _get_model_dir
    with pytest.raises(ValueError, match="keep_checkpoint_every_n_hours should be > 0"):
        est.RunConfig(keep_checkpoint_every_n_hours=0)
    with pytest.raises(ValueError, match="tf_random_seed must be integer."):
        est.RunConfig(tf_random_seed=1.5)
    with pytest.raises(ValueError, match="model_dir should be non-empty"):
        est.RunConfig(model_dir="")
    with pytest.raises(ValueError, match="save_summary_steps should be >= 0"):
        est.RunConfig(save_summary_steps=-1)
    with pytest.raises(ValueError, match="session_creation_timeout_secs should be > 0"):
        est.RunConfig(session_creation_timeout_secs=0)
    with pytest.raises(ValueError, match="protocol should be grpc or grpc"):
        est.RunConfig(protocol="http")


def test_run_config_replace_follows_tf():
    # TF's _validate_save_ckpt_with_replaced_keys: replacing secs (not None) clears steps;
    # _replace: only _DEFAULT_REPLACEABLE_LIST keys ("Replacing X is not supported.")
    cfg = est.RunConfig(save_checkpoints_steps=10)
    new = cfg.replace(save_checkpoints_secs=30)
    assert new.save_checkpoints_steps is None and new.save_checkpoints_secs == 30
    assert cfg.save_checkpoints_steps == 10  # a copy
    with pytest.raises(ValueError, match="Replacing is_chief is not supported"):
        cfg.replace(is_chief=False)
    with pytest.raises(ValueError, match="cannot be both set"):
        cfg.replace(save_checkpoints_steps=5, save_checkpoints_secs=5)
    with pytest.raises(ValueError, match="log_step_count_steps should be > 0"):
        cfg.replace(log_step_count_steps=0)


_CLUSTER = {"chief": ["host0:2222"], "ps": ["host1:2222", "host2:2222"],
            "worker": ["host3:2222", "host4:2222", "host5:2222"]}


def test_run_config_reads_tf_config_worker(monkeypatch):
    # TF's _init_distributed_setting_from_environment_var (docstring example; the master
    # comes from _get_session_master: "grpc://" + address)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": _CLUSTER,
                                                "task": {"type": "worker", "index": 1}}))
    cfg = est.RunConfig()
    assert cfg.task_type == "worker" and cfg.task_id == 1 and not cfg.is_chief
    assert cfg.master == "grpc://host4:2222"
    assert cfg.num_ps_replicas == 2 and cfg.num_worker_replicas == 4
    assert cfg.global_id_in_cluster == 2  # chief 0, workers 1..3, ps last
    assert cfg.cluster_spec.as_dict() == _CLUSTER


def test_run_config_reads_tf_config_chief_evaluator_and_local(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": _CLUSTER,
                                                "task": {"type": "chief", "index": 0}}))
    cfg = est.RunConfig()
    assert cfg.is_chief and cfg.task_type == "chief" and cfg.global_id_in_cluster == 0
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": _CLUSTER,
                                                "task": {"type": "evaluator", "index": 0}}))
    cfg = est.RunConfig()
    assert not cfg.is_chief and cfg.num_worker_replicas == 0 and cfg.num_ps_replicas == 0
    assert not cfg.cluster_spec and cfg.master == ""
    # local mode: without "cluster" the task type must be worker, index 0
    monkeypatch.setenv("TF_CONFIG", json.dumps({"task": {"type": "chief", "index": 0}}))
    with pytest.raises(ValueError, match="task type must be WORKER"):
        est.RunConfig()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"model_dir": "/tmp/from_tf_config"}))
    assert est.RunConfig().model_dir == "/tmp/from_tf_config"
    monkeypatch.delenv("TF_CONFIG")
    cfg = est.RunConfig()
    assert cfg.is_chief and cfg.task_type == "worker" and cfg.num_worker_replicas == 1
    assert not cfg.cluster_spec


# --- TrainSpec / EvalSpec --------------------------------------------------------------------
def test_spec_validation_follows_tf():
    # TF training.py: _validate_saving_listeners, EvalSpec name/start_delay_secs checks,
    # _validate_hooks, _validate_exporters
    with pytest.raises(TypeError, match="CheckpointSaverListener"):
        est.TrainSpec(lambda: None, saving_listeners=[object()])
    with pytest.raises(TypeError, match="`name` must be string"):
        est.EvalSpec(lambda: None, name=3)
    with pytest.raises(ValueError, match="Must specify start_delay_secs >= 0"):
        est.EvalSpec(lambda: None, start_delay_secs=-1)
    with pytest.raises(TypeError, match="SessionRunHook"):
        est.EvalSpec(lambda: None, hooks=[object()])
    with pytest.raises(TypeError, match="`exporters` must be an Exporter"):
        est.EvalSpec(lambda: None, exporters=[object()])


# --- train_and_evaluate ----------------------------------------------------------------------
X = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
Y = 3.0 * X + 1.0


def _model_fn(features, labels, mode):
    w = get_variable("w", [1, 1], initializer=zeros_initializer())
    pred = features["x"] @ w
    loss = ef.reduce_mean(ef.square(pred - labels))
    if mode == est.ModeKeys.EVAL:
        return est.EstimatorSpec(mode, loss=loss)
    opt = GradientDescentOptimizer(0.1)
    return est.EstimatorSpec(mode, loss=loss,
                             train_op=opt.minimize(loss, global_step=get_global_step()))


def _input(n=None):
    def input_fn():
        return iter([({"x": X}, Y)] * (n if n is not None else 10 ** 6))
    return input_fn


class _Recorder(est.Exporter):
    def __init__(self, name, result=None):
        self.name, self.calls, self._result = name, [], result

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        self.calls.append((eval_result["global_step"], is_the_final_export))
        return self._result


def _estimator(tmp_path):
    cfg = est.RunConfig(save_checkpoints_steps=10, log_step_count_steps=None)
    return est.Estimator(_model_fn, model_dir=str(tmp_path), config=cfg)


def test_train_and_evaluate_final_export_is_global_step_reaching_max_steps(tmp_path):
    # TF's _Evaluator.evaluate_and_export: is_the_final_export = global_step >= max_steps;
    # the listener's end() evaluates only if the last step was not evaluated yet, so the
    # final checkpoint is evaluated (and exported) once
    rec = _Recorder("rec", result="path")
    silent = _Recorder("silent")
    result, exports = est.train_and_evaluate(
        _estimator(tmp_path), est.TrainSpec(_input(), max_steps=20),
        est.EvalSpec(_input(1), steps=1, throttle_secs=0, exporters=[rec, silent]))
    assert rec.calls == [(10, False), (20, True)]
    assert result["global_step"] == 20
    # run_local returns the last evaluation's export results, one per exporter
    assert exports == ["path", None]


def test_train_and_evaluate_without_max_steps_never_final(tmp_path):
    # TF: is_the_final_export is False when TrainSpec.max_steps is None
    rec = _Recorder("rec")
    result, _ = est.train_and_evaluate(
        _estimator(tmp_path), est.TrainSpec(_input(15)),
        est.EvalSpec(_input(1), steps=1, throttle_secs=0, exporters=rec))
    assert rec.calls == [(10, False), (15, False)]
    assert result["global_step"] == 15


def test_train_and_evaluate_skips_the_resumed_runs_first_checkpoint(tmp_path):
    # TF's _NewCheckpointListenerForEvaluate.after_save skips its first call (the save in
    # CheckpointSaverHook.after_create_session), whatever the step, not only step 0
    e = _estimator(tmp_path)
    e.train(_input(), max_steps=10)
    rec = _Recorder("rec")
    est.train_and_evaluate(e, est.TrainSpec(_input(), max_steps=20),
                           est.EvalSpec(_input(1), steps=1, throttle_secs=0, exporters=rec))
    assert rec.calls == [(20, True)]


def test_train_and_evaluate_throttles_evaluations(tmp_path):
    # TF: SecondOrStepTimer(every_secs=throttle_secs): the first trained checkpoint is
    # evaluated, the next ones skipped within throttle_secs, and end() evaluates the last
    rec = _Recorder("rec")
    est.train_and_evaluate(
        _estimator(tmp_path), est.TrainSpec(_input(), max_steps=40),
        est.EvalSpec(_input(1), steps=1, throttle_secs=3600, exporters=rec))
    assert rec.calls == [(10, False), (40, True)]


class _CountingListener(CheckpointSaverListener):
    def __init__(self):
        self.events = []

    def begin(self):
        self.events.append("begin")

    def after_save(self, session, step):
        self.events.append(step)

    def end(self, session, step):
        self.events.append(("end", step))


def test_train_spec_saving_listeners_run_before_the_evaluation_listener(tmp_path):
    # TF's run_local: saving_listeners = train_spec.saving_listeners + (listener_for_eval,)
    lst = _CountingListener()
    est.train_and_evaluate(_estimator(tmp_path),
                           est.TrainSpec(_input(), max_steps=20, saving_listeners=[lst]),
                           est.EvalSpec(_input(1), steps=1, throttle_secs=0))
    assert lst.events == ["begin", 0, 10, 20, ("end", 20)]


def test_estimator_logs_the_step_each_batch_trains_as(tmp_path, caplog):
    """tensorflow_estimator logs the global step read before the train_op's increment:
    "loss = ..., step = 0" for the first batch, then step = N, 2N, ... every N steps."""
    import logging
    import eagerflow as ef
    import eagerflow.feature_column as fc
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
    y = (x > 0).astype(np.int64)

    def input_fn():
        return ef.data.Dataset.from_tensor_slices(({"x": x}, y)).repeat().batch(16)
    m = est.LinearClassifier([fc.numeric_column("x")], config=est.RunConfig(
        model_dir=str(tmp_path), log_step_count_steps=10, save_checkpoints_steps=1000))
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        m.train(input_fn, steps=25)
    steps = [int(r.getMessage().split("step = ")[1].split()[0].rstrip(","))
             for r in caplog.records if r.getMessage().startswith("loss = ")]
    assert steps == [0, 10, 20]


def test_training_hooks_fetch_each_steps_tensors_from_model_fn(tmp_path):
    # TF: a training_hooks hook holding model_fn's tensors sees them re-evaluated by every
    # session.run. Eagerly model_fn runs each step; the hook must see that step's values
    # (GD 0.1 on (w - 1)^2 from w = 0: losses 1, 0.64, 0.4096), not the first call's
    from eagerflow.estimator import Estimator, EstimatorSpec, RunConfig
    seen = []

    class Record(ef.train.SessionRunHook):
        def __init__(self, tensors):
            self._tensors = tensors

        def before_run(self, run_context):
            return ef.train.SessionRunArgs(self._tensors)

        def after_run(self, run_context, run_values):
            seen.append(float(run_values.results["loss"]))

    def model_fn(features, labels, mode):
        w = ef.get_variable("w", [1], initializer=np.zeros(1, np.float32))
        loss = ef.reduce_mean((features["x"] * w - labels) ** 2)
        train_op = ef.train.GradientDescentOptimizer(0.1).minimize(
            loss, global_step=ef.train.get_global_step())
        return EstimatorSpec(mode, loss=loss, train_op=train_op,
                             training_hooks=[Record({"loss": loss})])

    def input_fn():
        for _ in range(3):
            yield {"x": np.ones((4, 1), np.float32)}, np.ones((4, 1), np.float32)
    cfg = RunConfig(save_summary_steps=None, save_checkpoints_steps=None,
                    log_step_count_steps=None)
    Estimator(model_fn, model_dir=str(tmp_path), config=cfg).train(input_fn, steps=3)
    np.testing.assert_allclose(seen, [1.0, 0.64, 0.4096], rtol=1e-6)


def test_evaluation_hooks_run_and_fetch_each_batchs_tensors(tmp_path):
    # TF runs EstimatorSpec.evaluation_hooks in evaluate(), their tensors re-evaluated per
    # batch: losses (0 - y)^2 for batches labelled 1, 2, 3
    from eagerflow.estimator import Estimator, EstimatorSpec, RunConfig
    seen, calls = [], []

    class Record(ef.train.SessionRunHook):
        def __init__(self, loss):
            self._loss = loss

        def begin(self):
            calls.append("begin")

        def before_run(self, run_context):
            return ef.train.SessionRunArgs(self._loss)

        def after_run(self, run_context, run_values):
            seen.append(float(run_values.results))

        def end(self, session):
            calls.append("end")

    def model_fn(features, labels, mode):
        w = ef.get_variable("w", [1], initializer=np.zeros(1, np.float32))
        loss = ef.reduce_mean((features["x"] * w - labels) ** 2)
        return EstimatorSpec(mode, loss=loss, evaluation_hooks=[Record(loss)])

    def input_fn():
        for y in (1.0, 2.0, 3.0):
            yield {"x": np.ones((4, 1), np.float32)}, np.full((4, 1), y, np.float32)
    cfg = RunConfig(save_summary_steps=None, save_checkpoints_steps=None,
                    log_step_count_steps=None)
    res = Estimator(model_fn, model_dir=str(tmp_path), config=cfg).evaluate(input_fn)
    assert seen == [1.0, 4.0, 9.0] and calls == ["begin", "end"]
    assert res["loss"] == np.float32(14.0 / 3.0)


def test_prediction_hooks_run_and_fetch_each_batchs_tensors(tmp_path):
    # TF's predict() runs EstimatorSpec.prediction_hooks next to its hooks= argument
    from eagerflow.estimator import Estimator, EstimatorSpec
    seen, calls = [], []

    class Record(ef.train.SessionRunHook):
        def __init__(self, tag, value=None):
            self._tag, self._value = tag, value

        def begin(self):
            calls.append(("begin", self._tag))

        def before_run(self, run_context):
            if self._value is not None:
                return ef.train.SessionRunArgs(self._value)

        def after_run(self, run_context, run_values):
            if self._value is not None:
                seen.append(float(run_values.results))

        def end(self, session):
            calls.append(("end", self._tag))

    def model_fn(features, mode):
        total = ef.reduce_sum(features["x"])
        return EstimatorSpec(mode, predictions={"y": features["x"] * 2.0},
                             prediction_hooks=[Record("spec", total)])

    def input_fn():
        for v in (1.0, 2.0, 3.0):
            yield {"x": np.full((2, 1), v, np.float32)}
    est = Estimator(model_fn, model_dir=str(tmp_path))
    out = list(est.predict(input_fn, hooks=[Record("arg")]))
    assert [float(p["y"][0]) for p in out] == [2.0, 2.0, 4.0, 4.0, 6.0, 6.0]
    assert seen == [2.0, 4.0, 6.0]
    assert calls == [("begin", "arg"), ("begin", "spec"), ("end", "arg"), ("end", "spec")]


def test_predict_on_empty_input_begins_and_ends_the_argument_hooks(tmp_path):
    from eagerflow.estimator import Estimator, EstimatorSpec
    calls = []

    class Record(ef.train.SessionRunHook):
        def begin(self):
            calls.append("begin")

        def end(self, session):
            calls.append("end")

    def model_fn(features, mode):
        return EstimatorSpec(mode, predictions=features["x"])
    est = Estimator(model_fn, model_dir=str(tmp_path))
    assert list(est.predict(lambda: iter(()), hooks=[Record()])) == []
    assert calls == ["begin", "end"]
