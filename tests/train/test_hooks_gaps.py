"""GlobalStepWaiterHook, ProfilerHook, SummarySaverHook's argument checks and RunConfig's
read-only properties, checked against TF's sources:

- tensorflow/python/training/basic_session_run_hooks.py (GlobalStepWaiterHook,
  ProfilerHook, SummarySaverHook, SecondOrStepTimer, StopAtStepHook, StepCounterHook)
- tensorflow_estimator/python/estimator/run_config.py (properties, replace, _replace)

Expected values come from TF's code paths (quoted in the comments), not from eagerflow.
"""
import json
import logging
import os
import re
import threading
import time
import types

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import estimator as est
from eagerflow.autograd.state import recorders_state
from eagerflow.estimator.monitored_session import Scaffold
from eagerflow.summary import FileWriter, SummarySaverHook, event_files, summary_iterator
from eagerflow.train import basic_session_run_hooks as bsrh
from eagerflow.train import get_or_create_global_step
from eagerflow.train.basic_session_run_hooks import (GlobalStepWaiterHook, ProfilerHook,
                                                     SecondOrStepTimer, StepCounterHook,
                                                     StopAtStepHook)
from eagerflow.train.session_run_hook import (EagerSession, HookRunner, SessionRunContext,
                                              SessionRunHook)
from eagerflow.variables import VariableStore


@pytest.fixture(autouse=True)
def store():
    with VariableStore().as_default() as s:
        yield s


def _exact(exc_info, message):
    assert str(exc_info.value) == message


def _run(hooks, n, body=None):
    """TF's hook lifecycle through the shared runner: begin, after_create_session, n steps
    (each adds 1 to the global step after ``body``), end."""
    gs = get_or_create_global_step()  # TF's hooks need it in begin()
    runner = HookRunner(hooks)
    runner.begin()
    runner.after_create_session()
    for _ in range(n):
        def step():
            if body is not None:
                body()
            gs.assign_add(1)
            return {"loss": ef.constant(0.5), "global_step": gs}
        runner.run_step(step)
        if runner.should_stop():
            break
    runner.end()
    return runner


class _FakeTime(types.SimpleNamespace):
    """Stands in for the ``time`` module inside basic_session_run_hooks: ``sleep`` advances
    a fake monotonic clock (and runs ``on_sleep``) instead of sleeping."""

    def __init__(self, on_sleep=None):
        super().__init__(clock=0.0, sleeps=[], on_sleep=on_sleep)

    def sleep(self, secs):
        self.sleeps.append(secs)
        self.clock += secs
        if self.on_sleep is not None:
            self.on_sleep()

    def monotonic(self):
        return self.clock

    perf_counter = staticmethod(time.perf_counter)
    time = staticmethod(time.time)


# --- exact argument errors -------------------------------------------------------------------
def test_timer_and_hook_messages_are_tfs_exactly():
    # SecondOrStepTimer.__init__: "Either every_secs or every_steps should be provided." /
    # "Can not provide both every_secs and every_steps."
    with pytest.raises(ValueError) as e:
        SecondOrStepTimer()
    _exact(e, "Either every_secs or every_steps should be provided.")
    with pytest.raises(ValueError) as e:
        SecondOrStepTimer(every_secs=1, every_steps=1)
    _exact(e, "Can not provide both every_secs and every_steps.")
    with pytest.raises(ValueError) as e:
        StopAtStepHook()
    _exact(e, "One of num_steps or last_step must be specified.")
    with pytest.raises(ValueError) as e:
        StopAtStepHook(num_steps=1, last_step=1)
    _exact(e, "Only one of num_steps or last_step can be specified.")
    with pytest.raises(ValueError) as e:
        StepCounterHook(every_n_steps=None)
    _exact(e, "exactly one of every_n_steps and every_n_secs should be provided.")


def test_summary_saver_hook_argument_errors(tmp_path):
    # TF: `if ((scaffold is None and summary_op is None) or (scaffold is not None and
    # summary_op is not None)): raise ValueError("Exactly one of scaffold or summary_op
    # must be provided.")`, checked before the timer is built
    msg = "Exactly one of scaffold or summary_op must be provided."
    with pytest.raises(ValueError) as e:
        SummarySaverHook(save_steps=1, output_dir=str(tmp_path))
    _exact(e, msg)
    with pytest.raises(ValueError) as e:
        SummarySaverHook(save_steps=1, output_dir=str(tmp_path), scaffold=Scaffold(),
                         summary_op={"l": "loss"})
    _exact(e, msg)
    with pytest.raises(ValueError) as e:
        SummarySaverHook()  # no interval either: the scaffold check comes first
    _exact(e, msg)
    with pytest.raises(ValueError) as e:
        SummarySaverHook(summary_op={"l": "loss"})
    _exact(e, "Either every_secs or every_steps should be provided.")
    with pytest.raises(ValueError) as e:
        SummarySaverHook(save_steps=1, save_secs=1, summary_op={"l": "loss"})
    _exact(e, "Can not provide both every_secs and every_steps.")
    # TF has no check of output_dir / summary_writer ("TODO(mdan): Throw an error if
    # output_dir and summary_writer are None."): neither is accepted, nothing is written
    hook = SummarySaverHook(save_steps=1, summary_op={"l": "loss"})
    _run([hook], 3)
    SummarySaverHook(save_steps=1, scaffold=Scaffold(summary_op={"l": "loss"}))


def test_summary_saver_hook_needs_a_global_step():
    hook = SummarySaverHook(save_steps=1, summary_op={"l": "loss"})
    with pytest.raises(RuntimeError) as e:
        hook.begin()
    _exact(e, "Global step should be created to use SummarySaverHook.")


class _Writer:
    def __init__(self):
        self.calls = []

    def add_session_log(self, session_log, global_step=None):
        self.calls.append(("session_log", session_log.status, global_step))

    def add_scalar(self, tag, value, step):
        self.calls.append(("scalar", tag, value, step))

    def flush(self):
        self.calls.append(("flush",))


def test_summary_saver_hook_schedule_and_session_log():
    # TF: the first run always requests the summary and writes SessionLog(START) at the
    # global step read after it (1); then a summary when next_step >= last + save_steps:
    # save_steps=2 -> steps 1, 3, 5; end() flushes
    w = _Writer()
    hook = SummarySaverHook(save_steps=2, summary_writer=w, summary_op={"l": "loss"})
    _run([hook], 5)
    start = 1  # SessionLog.START
    assert w.calls == [("session_log", start, 1), ("scalar", "l", 0.5, 1),
                       ("scalar", "l", 0.5, 3), ("scalar", "l", 0.5, 5), ("flush",)]


def test_summary_saver_hook_takes_the_scaffolds_summary_op(tmp_path):
    hook = SummarySaverHook(save_steps=10, output_dir=str(tmp_path),
                            scaffold=Scaffold(summary_op={"from_scaffold": "loss"}))
    _run([hook], 3)
    evs = [e for f in event_files(str(tmp_path)) for e in summary_iterator(f)]
    assert [(e.step, e.summary.value[0].tag) for e in evs if e.HasField("summary")] == \
        [(1, "from_scaffold")]
    assert [(e.step, e.session_log.status) for e in evs if e.HasField("session_log")] == \
        [(1, 1)]


def test_file_writer_add_session_log(tmp_path):
    from eagerflow.summary.event_pb2 import SessionLog
    w = FileWriter(str(tmp_path))
    w.add_session_log(SessionLog(status=SessionLog.START), 7)
    w.close()
    evs = list(summary_iterator(event_files(str(tmp_path))[0]))
    assert evs[-1].step == 7 and evs[-1].session_log.status == SessionLog.START


# --- GlobalStepWaiterHook --------------------------------------------------------------------
def test_global_step_waiter_needs_a_global_step():
    with pytest.raises(RuntimeError) as e:
        GlobalStepWaiterHook(3).begin()
    _exact(e, "Global step should be created to use _GlobalStepWaiterHook.")


def test_global_step_waiter_non_positive_returns_at_once(monkeypatch, caplog):
    fake = _FakeTime()
    monkeypatch.setattr(bsrh, "time", fake)
    for wait in (0, -5):
        hook = GlobalStepWaiterHook(wait)
        with caplog.at_level(logging.INFO, logger="eagerflow"):
            _run([hook], 2)
        assert fake.sleeps == []
        assert not any("Waiting for global step" in r.getMessage() for r in caplog.records)


def test_global_step_waiter_polls_every_half_second_until_reached(monkeypatch, caplog):
    # TF's loop: read the step; >= wait_until_step -> start; else sleep 0.5 and read again.
    # Here each sleep stands for the chief advancing the shared step by one.
    gs = get_or_create_global_step()
    fake = _FakeTime(on_sleep=lambda: gs.assign_add(1))
    monkeypatch.setattr(bsrh, "time", fake)
    monkeypatch.setattr(bsrh, "_other_threads_alive", lambda: True)
    hook = GlobalStepWaiterHook(4)
    hook.begin()
    ctx = SessionRunContext(None, EagerSession())
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        assert hook.before_run(ctx) is None
    assert fake.sleeps == [0.5] * 4 and int(gs.numpy()) == 4
    assert [r.getMessage() for r in caplog.records] == [
        "Waiting for global step 4 before starting training."]
    hook.before_run(ctx)  # started: later steps are never delayed
    assert fake.sleeps == [0.5] * 4


def test_global_step_waiter_logs_progress_every_1000_steps(monkeypatch, caplog):
    # TF: `if current_step - last_logged_step > 1000: logging.info("Waiting for global step
    # %d before starting training. Current step is %d.", ...)`
    gs = get_or_create_global_step()
    fake = _FakeTime(on_sleep=lambda: gs.assign_add(700))
    monkeypatch.setattr(bsrh, "time", fake)
    monkeypatch.setattr(bsrh, "_other_threads_alive", lambda: True)
    hook = GlobalStepWaiterHook(3000)
    hook.begin()
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        hook.before_run(SessionRunContext(None, None))
    msgs = [r.getMessage() for r in caplog.records]
    # steps read: 0, 700, 1400 (> 1000: logged), 2100, 2800 (2800 - 1400 > 1000: logged),
    # 3500 (reached)
    assert msgs == ["Waiting for global step 3000 before starting training.",
                    "Waiting for global step 3000 before starting training. Current step "
                    "is 1400.",
                    "Waiting for global step 3000 before starting training. Current step "
                    "is 2800."]


def test_global_step_waiter_with_a_real_chief_thread():
    """Lifecycle through the runner: the worker's first step waits until a chief thread
    has advanced the shared global step to 3; its later steps do not wait."""
    gs = get_or_create_global_step()
    hook = GlobalStepWaiterHook(3)
    stop = threading.Event()
    seen = []

    def chief():
        while not stop.is_set() and int(gs.numpy()) < 3:
            time.sleep(0.05)
            gs.assign_add(1)

    class Seen(SessionRunHook):
        def before_run(self, run_context):
            seen.append(int(gs.numpy()))

    t = threading.Thread(target=chief)
    t.start()
    try:
        start = time.monotonic()
        _run([hook, Seen()], 2)
        assert time.monotonic() - start < 10
    finally:
        stop.set()
        t.join()
    assert seen == [3, 4]  # the first step ran once the step had reached 3


def test_global_step_waiter_does_not_hang_when_nothing_can_advance(monkeypatch, caplog):
    # single process, no other thread: the step can never move, TF's loop would never end
    fake = _FakeTime()
    monkeypatch.setattr(bsrh, "time", fake)
    monkeypatch.setattr(bsrh, "_other_threads_alive", lambda: False)
    hook = GlobalStepWaiterHook(5)
    with caplog.at_level(logging.INFO, logger="eagerflow"):
        runner = _run([hook], 2)
    assert fake.sleeps == []
    assert int(runner.session.named["global_step"].numpy()) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "starting training now" in warnings[0]


def test_global_step_waiter_stall_bound(monkeypatch):
    fake = _FakeTime()
    monkeypatch.setattr(bsrh, "time", fake)
    monkeypatch.setattr(bsrh, "_other_threads_alive", lambda: True)
    get_or_create_global_step()
    hook = GlobalStepWaiterHook(5, max_stall_secs=2.0)
    hook.begin()
    hook.before_run(SessionRunContext(None, None))
    assert fake.sleeps == [0.5] * 4  # the step never moved: gave up after 2 s


# --- ProfilerHook ----------------------------------------------------------------------------
def test_profiler_hook_argument_errors_and_global_step(tmp_path):
    with pytest.raises(ValueError) as e:
        ProfilerHook(output_dir=str(tmp_path))
    _exact(e, "Either every_secs or every_steps should be provided.")
    with pytest.raises(ValueError) as e:
        ProfilerHook(save_steps=1, save_secs=1, output_dir=str(tmp_path))
    _exact(e, "Can not provide both every_secs and every_steps.")
    with pytest.raises(RuntimeError) as e:
        ProfilerHook(save_steps=1, output_dir=str(tmp_path)).begin()
    _exact(e, "Global step should be created to use ProfilerHook.")


def _model_step():
    x = ef.constant(np.arange(8, dtype=np.float32).reshape(4, 2))
    w = ef.constant(np.ones((2, 3), np.float32))
    y = ef.matmul(x, w)
    return ef.reduce_sum(y)


def _files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("timeline-"))


def test_profiler_hook_schedule_by_steps(tmp_path):
    # TF: the first run never traces; its after_run arms the timer at the stale step (0);
    # run k traces when next_step (= k) >= last + save_steps, and the file takes the
    # global step read after the run: save_steps=3 over 7 runs -> 3 and 6
    hook = ProfilerHook(save_steps=3, output_dir=str(tmp_path))
    _run([hook], 7, body=_model_step)
    assert _files(tmp_path) == ["timeline-3.json", "timeline-6.json"]


def test_profiler_hook_schedule_by_secs(tmp_path):
    # save_secs=0: the timer fires for every new step, but never on the first run
    hook = ProfilerHook(save_secs=0, output_dir=str(tmp_path))
    _run([hook], 4, body=_model_step)
    assert _files(tmp_path) == ["timeline-2.json", "timeline-3.json", "timeline-4.json"]
    never = tmp_path / "never"
    hook = ProfilerHook(save_secs=3600, output_dir=str(never))
    _run([hook], 4, body=_model_step)
    assert not os.path.exists(never) or _files(never) == []


class _OpsAfterStep(SessionRunHook):
    """Runs an op in after_run, before the profiler's after_run: not part of the step."""

    def after_run(self, run_context, run_values):
        ef.exp(ef.constant([1.0]))


def test_profiler_hook_trace_is_chrome_json_with_the_step_and_its_ops(tmp_path):
    hook = ProfilerHook(save_steps=2, output_dir=str(tmp_path), show_memory=True)
    _run([_OpsAfterStep(), hook], 2, body=_model_step)
    assert _files(tmp_path) == ["timeline-2.json"]
    with open(tmp_path / "timeline-2.json") as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    assert isinstance(events, list)
    for ev in events:
        assert ev["ph"] in "XMstCNO" and "pid" in ev
    steps = [e for e in events if e.get("cat") == "Step"]
    assert len(steps) == 1 and steps[0]["ph"] == "X"
    step = steps[0]
    assert step["args"]["global_step"] == 2 and step["dur"] > 0
    ops = [e for e in events if e.get("cat") == "Op"]
    names = [e["name"] for e in ops]
    assert "matmul" in names and "reduce_sum" in names
    assert names.index("matmul") < names.index("reduce_sum")
    assert "exp" not in names  # ran after the step, in another hook's after_run
    assert step["args"]["ops"] == len(ops)
    end = step["ts"] + step["dur"]
    for e in ops:
        assert e["ph"] == "X" and e["dur"] >= 0
        assert step["ts"] - 1 <= e["ts"] and e["ts"] + e["dur"] <= end + 1
    matmul = ops[names.index("matmul")]
    assert matmul["args"]["op"] == "matmul" and matmul["args"]["output0"] == "float32[4, 3]"
    # dataflow (TF's default show_dataflow=True): an arrow from matmul to reduce_sum
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    finishes = {e["id"]: e for e in events if e["ph"] == "t"}
    assert starts and set(starts) == set(finishes)
    red = ops[names.index("reduce_sum")]
    assert any(s["name"] == matmul["args"]["name"] and
               red["ts"] <= finishes[i]["ts"] <= red["ts"] + red["dur"] and
               matmul["ts"] <= s["ts"] <= matmul["ts"] + matmul["dur"]
               for i, s in starts.items())
    # show_memory: snapshots of the outputs' sizes and a growing counter
    snaps = [e for e in events if e["ph"] == "O"]
    assert {"tensor_description": "float32[4, 3]", "bytes": 48} in \
        [s["args"]["snapshot"] for s in snaps]
    counter = [e["args"]["bytes"] for e in events if e["ph"] == "C"]
    assert counter == sorted(counter) and counter[-1] >= 48


def test_profiler_hook_options_off(tmp_path):
    hook = ProfilerHook(save_steps=1, output_dir=str(tmp_path), show_dataflow=False)
    _run([hook], 2, body=_model_step)
    with open(tmp_path / "timeline-2.json") as f:
        events = json.load(f)["traceEvents"]
    assert not [e for e in events if e["ph"] in "stCNO"]
    assert [e for e in events if e.get("cat") == "Op"]


def test_profiler_hook_lifecycle_and_recorder_cleanup(tmp_path):
    gs = get_or_create_global_step()
    hook = ProfilerHook(save_steps=1, output_dir=str(tmp_path))
    hook.begin()
    hook.after_create_session(None, None)
    session = EagerSession()
    ctx = SessionRunContext(None, session)
    assert hook.before_run(ctx) is None  # first run: not traced
    assert not any(isinstance(r, bsrh._OpTimeline) for r in recorders_state.recorders)
    gs.assign_add(1)
    hook.after_run(ctx, None)
    hook.before_run(ctx)  # second run: traced
    assert any(isinstance(r, bsrh._OpTimeline) for r in recorders_state.recorders)
    _model_step()
    gs.assign_add(1)
    hook.after_run(ctx, None)
    assert not any(isinstance(r, bsrh._OpTimeline) for r in recorders_state.recorders)
    assert _files(tmp_path) == ["timeline-2.json"]
    # a step that raises leaves its recorder; end() (or the next before_run) removes it
    hook.before_run(ctx)
    assert any(isinstance(r, bsrh._OpTimeline) for r in recorders_state.recorders)
    hook.end(session)
    assert not any(isinstance(r, bsrh._OpTimeline) for r in recorders_state.recorders)


def test_new_hooks_are_exported():
    assert ef.train.GlobalStepWaiterHook is GlobalStepWaiterHook
    assert ef.train.ProfilerHook is ProfilerHook
    assert ef.train.FeedFnHook is bsrh.FeedFnHook


def test_profiler_hook_in_estimator_train(tmp_path):
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, zeros_initializer
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(-1, 1)

    def model_fn(features, labels, mode):
        w = get_variable("w", [1, 1], initializer=zeros_initializer())
        loss = ef.reduce_mean(ef.square(features["x"] @ w - labels))
        opt = GradientDescentOptimizer(0.1)
        return est.EstimatorSpec(mode, loss=loss,
                                 train_op=opt.minimize(loss, global_step=get_global_step()))
    e = est.Estimator(model_fn, model_dir=str(tmp_path / "m"),
                      config=est.RunConfig(save_checkpoints_steps=100,
                                           log_step_count_steps=None))
    prof = tmp_path / "prof"
    e.train(lambda: iter([({"x": x}, 2 * x)] * 10), steps=5,
            hooks=[ProfilerHook(save_steps=2, output_dir=str(prof))])
    assert _files(prof) == ["timeline-2.json", "timeline-4.json"]
    with open(prof / "timeline-4.json") as f:
        names = {e["name"] for e in json.load(f)["traceEvents"] if e.get("cat") == "Op"}
    assert {"matmul", "subtract", "square", "reduce_mean"} <= names


# --- RunConfig: read-only properties, replace ------------------------------------------------
_TF_PROPERTIES = ["cluster_spec", "device_fn", "evaluation_master", "is_chief", "master",
                  "num_ps_replicas", "num_worker_replicas", "task_id", "global_id_in_cluster",
                  "experimental_max_worker_delay_secs", "task_type", "tf_random_seed",
                  "save_summary_steps", "save_checkpoints_secs", "session_config",
                  "save_checkpoints_steps", "keep_checkpoint_max",
                  "session_creation_timeout_secs", "keep_checkpoint_every_n_hours",
                  "log_step_count_steps", "model_dir", "service", "train_distribute",
                  "eval_distribute", "protocol"]


def test_run_config_properties_are_read_only(tmp_path):
    cfg = est.RunConfig(model_dir=str(tmp_path), save_checkpoints_steps=7)
    for name in _TF_PROPERTIES:
        before = getattr(cfg, name)
        with pytest.raises(AttributeError):
            setattr(cfg, name, before)
        assert getattr(cfg, name) is before
    assert cfg.model_dir == str(tmp_path) and cfg.save_checkpoints_steps == 7
    cfg.my_own_attribute = 1  # TF's RunConfig is a plain object otherwise


def test_run_config_replace_validates_and_keeps_the_original(tmp_path):
    cfg = est.RunConfig(model_dir=str(tmp_path))
    new = cfg.replace(save_checkpoints_steps=5, keep_checkpoint_max=2)
    assert (new.save_checkpoints_steps, new.save_checkpoints_secs,
            new.keep_checkpoint_max) == (5, None, 2)
    assert (cfg.save_checkpoints_steps, cfg.save_checkpoints_secs,
            cfg.keep_checkpoint_max) == (None, 600, 5)
    with pytest.raises(AttributeError):
        new.keep_checkpoint_max = 3
    with pytest.raises(ValueError, match=re.escape("Replacing is_chief is not supported. "
                                                   "Allowed properties are [")):
        cfg.replace(is_chief=False)
    with pytest.raises(ValueError, match="log_step_count_steps should be > 0"):
        cfg.replace(log_step_count_steps=0)
    # the Estimator takes its own copy through replace(model_dir=...)
    e = est.Estimator(lambda features, labels, mode: None, config=cfg.replace(model_dir=None))
    assert e.config.model_dir == e.model_dir
    with pytest.raises(AttributeError):
        e.config.model_dir = "elsewhere"


def test_other_threads_alive_ignores_eagerflows_input_threads():
    stop = threading.Event()
    feeder = threading.Thread(target=stop.wait, name="eagerflow-input-feeder", daemon=True)
    chief = threading.Thread(target=stop.wait, name="chief")
    feeder.start()
    try:
        others = [t for t in threading.enumerate()
                  if t is not threading.current_thread() and t is not feeder]
        assert bsrh._other_threads_alive() == any(
            not t.name.startswith("eagerflow-") for t in others)
        chief.start()
        assert bsrh._other_threads_alive()
    finally:
        stop.set()
        feeder.join()
        chief.join()


def test_global_step_waiter_in_single_process_estimator_train(tmp_path):
    """Estimator.train in one process with a waiter: nothing else advances the step, so
    training starts instead of hanging (TF would wait forever). At once when no thread but
    eagerflow's input threads runs; a thread another test left running is bounded by the
    stall limit."""
    from eagerflow.train import GradientDescentOptimizer, get_global_step
    from eagerflow.variables import get_variable, zeros_initializer
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(-1, 1)

    def model_fn(features, labels, mode):
        w = get_variable("w", [1, 1], initializer=zeros_initializer())
        loss = ef.reduce_mean(ef.square(features["x"] @ w - labels))
        return est.EstimatorSpec(mode, loss=loss, train_op=GradientDescentOptimizer(0.1)
                                 .minimize(loss, global_step=get_global_step()))
    e = est.Estimator(model_fn, model_dir=str(tmp_path),
                      config=est.RunConfig(save_checkpoints_steps=100,
                                           log_step_count_steps=None))
    start = time.monotonic()
    e.train(lambda: iter([({"x": x}, 2 * x)] * 10), steps=3,
            hooks=[GlobalStepWaiterHook(50, max_stall_secs=2.0)])
    assert time.monotonic() - start < 30
    assert e.get_variable_value("global_step") == 3
