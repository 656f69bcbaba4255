"""Hooks and the shared hook runner, driven by a tiny eager training loop."""
import logging
import os

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.train import get_global_step, get_or_create_global_step
from eagerflow.train.basic_session_run_hooks import (CheckpointSaverHook,
                                                     CheckpointSaverListener, FinalOpsHook,
                                                     LoggingTensorHook, NanLossDuringTrainingError,
                                                     NanTensorHook, SecondOrStepTimer,
                                                     StepCounterHook, StopAtStepHook)
from eagerflow.train.checkpoint_state import get_checkpoint_state
from eagerflow.train.session_run_hook import (EagerSession, HookRunner, SessionRunArgs,
                                              SessionRunHook)
from eagerflow.variables import VariableStore, get_variable


def _loop(hooks, max_iters=100, loss_fn=lambda step: 1.0 / (step + 1)):
    """Runs steps until a hook stops the loop; returns the runner."""
    runner = HookRunner(hooks)
    runner.begin()
    step_var = get_or_create_global_step()
    get_variable("w", [2], initializer=np.zeros(2, np.float32))
    runner.after_create_session()
    for _ in range(max_iters):
        def step():
            step_var.assign_add(1)
            return {"loss": ef.constant(loss_fn(int(step_var.numpy()))),
                    "global_step": step_var}
        runner.run_step(step)
        if runner.should_stop():
            break
    runner.end()
    return runner


def test_stop_at_step_and_checkpoints(tmp_path):
    class Recorder(CheckpointSaverListener):
        def __init__(self):
            self.saved = []

        def after_save(self, session, step):
            self.saved.append(step)

    rec = Recorder()
    with VariableStore().as_default():
        _loop([StopAtStepHook(last_step=7),
               CheckpointSaverHook(str(tmp_path), save_steps=3, listeners=[rec])])
        assert int(get_global_step().numpy()) == 7
    assert rec.saved == [0, 3, 6, 7]
    state = get_checkpoint_state(str(tmp_path))
    assert os.path.basename(state.model_checkpoint_path) == "model.ckpt-7"


def test_listener_can_stop_training(tmp_path):
    class StopAt2(CheckpointSaverListener):
        def after_save(self, session, step):
            return step >= 2

    with VariableStore().as_default():
        _loop([CheckpointSaverHook(str(tmp_path), save_steps=2, listeners=[StopAt2()])])
        assert int(get_global_step().numpy()) == 2


def test_num_steps_counts_from_the_current_step():
    with VariableStore().as_default():
        get_or_create_global_step().assign(10)
        _loop([StopAtStepHook(num_steps=3)])
        assert int(get_global_step().numpy()) == 13


def test_logging_nan_final_ops(caplog):
    with VariableStore().as_default():
        log_hook = LoggingTensorHook({"loss": "loss", "step": "global_step"}, every_n_iter=2,
                                     at_end=True)
        final = FinalOpsHook({"g": lambda: get_global_step()})
        with caplog.at_level(logging.INFO, logger="eagerflow"):
            _loop([StopAtStepHook(last_step=4), log_hook, final, StepCounterHook(every_n_steps=1)])
        assert "loss = " in caplog.text
        assert int(log_hook.last_logged["step"]) == 4
        assert int(final.final_ops_values["g"]) == 4
    with VariableStore().as_default():
        with pytest.raises(NanLossDuringTrainingError, match="NaN loss"):
            _loop([NanTensorHook("loss")], loss_fn=lambda s: float("nan") if s == 3 else 1.0)
        assert int(get_global_step().numpy()) == 3
    with VariableStore().as_default():
        _loop([NanTensorHook("loss", fail_on_nan_loss=False)],
              loss_fn=lambda s: float("nan") if s == 2 else 1.0)
        assert int(get_global_step().numpy()) == 2


def test_a_lagging_nan_check_catches_up():
    """max_lag_steps=2: the NaN is seen at most 2 steps late (at once on the CPU, where
    every loss has arrived), and check_pending / end() see the rest."""
    with VariableStore().as_default():
        with pytest.raises(NanLossDuringTrainingError):
            _loop([NanTensorHook("loss", max_lag_steps=2)],
                  loss_fn=lambda s: float("nan") if s == 3 else 1.0)
        assert 3 <= int(get_global_step().numpy()) <= 5
    with VariableStore().as_default():  # the NaN in the last step: found by end()
        with pytest.raises(NanLossDuringTrainingError):
            _loop([StopAtStepHook(last_step=4), NanTensorHook("loss", max_lag_steps=3)],
                  loss_fn=lambda s: float("nan") if s == 4 else 1.0)
    hook = NanTensorHook("loss", max_lag_steps=1)
    hook.check_pending()  # nothing pending: nothing to do
    for bad in (-1, 1.5, None):
        with pytest.raises(ValueError, match="max_lag_steps"):
            NanTensorHook("loss", max_lag_steps=bad)


class _InFlight:
    """A device read that never arrives on its own (a GPU that runs behind the host)."""

    def __init__(self, a):
        self.value = np.array(backend.to_numpy(getattr(a, "_data", a)), copy=True)

    def ready(self):
        return False

    def result(self):
        return self.value


def test_lagging_nan_check_with_reads_in_flight(tmp_path, monkeypatch):
    """What a GPU does: the NaN at step 3 surfaces when 2 newer losses wait (step 5); a NaN
    still in flight at a save is caught before the checkpoint is written; end() catches
    the last ones."""
    from eagerflow.backend import transfer
    from eagerflow.train.basic_session_run_hooks import _CheckLossBeforeSave
    monkeypatch.setattr(transfer, "read_async", _InFlight)
    nan_at = lambda bad: (lambda s: float("nan") if s == bad else 1.0)  # noqa: E731
    with VariableStore().as_default():
        with pytest.raises(NanLossDuringTrainingError):
            _loop([NanTensorHook("loss", max_lag_steps=2)], loss_fn=nan_at(3))
        assert int(get_global_step().numpy()) == 5
    with VariableStore().as_default():
        hook = NanTensorHook("loss", max_lag_steps=5)
        saver = CheckpointSaverHook(str(tmp_path), save_steps=4,
                                    listeners=[_CheckLossBeforeSave(hook)])
        with pytest.raises(NanLossDuringTrainingError):
            _loop([hook, saver], loss_fn=nan_at(3))
        assert int(get_global_step().numpy()) == 4  # the save at step 4 checked first
        assert get_checkpoint_state(str(tmp_path)).model_checkpoint_path.endswith("-0")
    with VariableStore().as_default():
        with pytest.raises(NanLossDuringTrainingError):
            _loop([StopAtStepHook(last_step=4), NanTensorHook("loss", max_lag_steps=3)],
                  loss_fn=nan_at(4))
    with VariableStore().as_default():  # fail_on_nan_loss=False: a stop, once seen
        runner = _loop([NanTensorHook("loss", fail_on_nan_loss=False, max_lag_steps=1)],
                       loss_fn=nan_at(2))
        assert runner.should_stop() and int(get_global_step().numpy()) == 3


def test_hook_order_and_bad_hooks():
    calls = []

    class H(SessionRunHook):
        def __init__(self, tag):
            self.tag = tag

        def begin(self):
            calls.append(("begin", self.tag))

        def before_run(self, ctx):
            calls.append(("before", self.tag))
            return SessionRunArgs({"l": "loss"})

        def after_run(self, ctx, values):
            calls.append(("after", self.tag, float(values.results["l"])))
            ctx.request_stop()

        def end(self, session):
            calls.append(("end", self.tag))

    with VariableStore().as_default():
        _loop([H("a"), H("b")])
    assert calls == [("begin", "a"), ("begin", "b"), ("before", "a"), ("before", "b"),
                     ("after", "a", 0.5), ("after", "b", 0.5), ("end", "a"), ("end", "b")]
    with pytest.raises(TypeError, match="SessionRunHook"):
        HookRunner([object()])

    class Bad(SessionRunHook):
        def before_run(self, ctx):
            return ["loss"]
    with pytest.raises(TypeError, match="must return SessionRunArgs"):
        HookRunner([Bad()]).run_step(lambda: {})


def test_eager_session_fetches():
    v = ef.Variable([1.0, 2.0])
    s = EagerSession({"loss": ef.constant(0.5)})
    out = s.run({"a": v, "b": [lambda: 3, "loss"]})
    assert out["a"].tolist() == [1.0, 2.0] and out["b"][0] == 3 and float(out["b"][1]) == 0.5
    with pytest.raises(KeyError, match="not a value this step published"):
        s.run("nope")
    with pytest.raises(ValueError, match="feed_dict"):
        s.run("loss", feed_dict={"x": 1})
    with pytest.raises(TypeError, match="cannot fetch"):
        s.run(object())


def test_timer_and_argument_errors():
    t = SecondOrStepTimer(every_steps=2)
    assert t.should_trigger_for_step(0)
    t.update_last_triggered_step(0)
    assert not t.should_trigger_for_step(1) and t.should_trigger_for_step(2)
    with pytest.raises(ValueError, match="Either every_secs or every_steps should be provided"):
        SecondOrStepTimer()
    with pytest.raises(ValueError, match="One of num_steps or last_step must be specified"):
        StopAtStepHook()
    with pytest.raises(ValueError, match="at_end"):
        LoggingTensorHook({"a": "loss"})
    with pytest.raises(RuntimeError, match="needs a global step"):
        with VariableStore().as_default():
            StopAtStepHook(num_steps=1).after_create_session(None, None)
