"""The standard hooks (``tf.estimator.*Hook``) for the eager hook runner.

Global-step based hooks read the ``global_step`` variable of the default variable store
(the Estimator's) after each step.
"""
import collections
import json
import logging
import os
import threading
import time

import numpy as np

from .. import kernels
from ..autograd import state as _recorder_state
from ..autograd.tensor import Tensor
from ..backend import transfer
from .global_step import get_global_step, global_step as _read_global_step
from .saver import Saver
from .session_run_hook import SessionRunArgs, SessionRunHook, scalar

__all__ = ["SecondOrStepTimer", "StopAtStepHook", "CheckpointSaverListener",
           "CheckpointSaverHook", "StepCounterHook", "LoggingTensorHook", "NanTensorHook",
           "NanLossDuringTrainingError", "FinalOpsHook", "FeedFnHook", "GlobalStepWaiterHook",
           "ProfilerHook"]

log = logging.getLogger("eagerflow")


def _current_step():
    gs = get_global_step()
    if gs is None:
        raise RuntimeError("this hook needs a global step; create one with "
                           "ef.train.get_or_create_global_step()")
    return int(scalar(gs.numpy()))


def _exactly_one(a, b, none_given, both_given):
    """TF's two checks of a pair of mutually exclusive arguments, with its exact messages."""
    if a is None and b is None:
        raise ValueError(none_given)
    if a is not None and b is not None:
        raise ValueError(both_given)


class SecondOrStepTimer:
    """Fires every ``every_secs`` seconds or every ``every_steps`` steps (exactly one).

    As TF's, it fires at the first step asked about, and ``update_last_triggered_step``
    returns ``(elapsed_secs, elapsed_steps)``, ``(None, None)`` on the first trigger.
    """

    def __init__(self, every_secs=None, every_steps=None):
        # TF's messages (basic_session_run_hooks.SecondOrStepTimer.__init__); TF does not
        # check the sign of the interval
        _exactly_one(every_secs, every_steps,
                     "Either every_secs or every_steps should be provided.",
                     "Can not provide both every_secs and every_steps.")
        self._secs, self._steps = every_secs, every_steps
        self.reset()

    def reset(self):
        self._last_time = None
        self._last_step = None

    def should_trigger_for_step(self, step):
        if self._last_step is None:
            return True
        if self._last_step == step:
            return False
        if self._secs is not None:
            return time.time() >= self._last_time + self._secs
        return step >= self._last_step + self._steps

    def update_last_triggered_step(self, step):
        now = time.time()
        elapsed = (None, None) if self._last_time is None else (now - self._last_time,
                                                                step - self._last_step)
        self._last_time, self._last_step = now, step
        return elapsed

    def last_triggered_step(self):
        return self._last_step


class StopAtStepHook(SessionRunHook):
    """Requests a stop at ``last_step``, or after ``num_steps`` more steps."""

    def __init__(self, num_steps=None, last_step=None):
        # TF's messages (basic_session_run_hooks.StopAtStepHook.__init__)
        _exactly_one(num_steps, last_step, "One of num_steps or last_step must be specified.",
                     "Only one of num_steps or last_step can be specified.")
        self._num_steps, self._last_step = num_steps, last_step

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = _current_step() + self._num_steps

    def begin(self):
        pass

    def before_run(self, run_context):
        return SessionRunArgs(get_global_step())

    def after_run(self, run_context, run_values):
        if int(scalar(run_values.results)) >= self._last_step:
            run_context.request_stop()

    @property
    def last_step(self):
        return self._last_step


class CheckpointSaverListener:
    """Called around checkpoint saves; ``after_save`` returning True requests a stop."""

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        return False

    def end(self, session, global_step_value):
        pass


class CheckpointSaverHook(SessionRunHook):
    """Saves checkpoints every ``save_secs`` seconds or ``save_steps`` steps, once when the
    session is created and once at the end (TF's ``CheckpointSaverHook``)."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None,
                 checkpoint_basename="model.ckpt", scaffold=None, listeners=None,
                 save_graph_def=True):
        if saver is not None and scaffold is not None:  # TF's check and message
            raise ValueError("You cannot provide both saver and scaffold.")
        self._dir = checkpoint_dir
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._saver = saver
        self._scaffold = scaffold
        self._path = f"{checkpoint_dir}/{checkpoint_basename}"
        self._listeners = list(listeners or [])

    def _get_saver(self):
        if self._saver is None:
            scaffold_saver = getattr(self._scaffold, "saver", None)
            self._saver = scaffold_saver or Saver()
        return self._saver

    def begin(self):
        for lst in self._listeners:
            lst.begin()

    def after_create_session(self, session, coord):
        step = _current_step()
        self._save(session, step)
        self._timer.update_last_triggered_step(step)

    def before_run(self, run_context):
        return SessionRunArgs(get_global_step())

    def after_run(self, run_context, run_values):
        step = int(scalar(run_values.results))
        if self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            if self._save(run_context.session, step):
                run_context.request_stop()

    def end(self, session):
        step = _current_step()
        if step != self._timer.last_triggered_step():
            self._save(session, step)
        for lst in self._listeners:
            lst.end(session, step)

    def _save(self, session, step):
        log.info("Saving checkpoints for %d into %s.", step, self._path)
        for lst in self._listeners:
            lst.before_save(session, step)
        self._get_saver().save(session, self._path, global_step=step)
        stop = False
        for lst in self._listeners:
            if lst.after_save(session, step):
                log.info("A CheckpointSaverListener requested that training be stopped.")
                stop = True
        return stop


def _writer_for_dir(output_dir):
    """The cached event-file writer of ``output_dir``: eagerflow.summary (above train in
    DESIGN.md's layering) registers its ``FileWriterCache.get`` here when imported."""
    if _WRITER_FACTORY is None:
        raise RuntimeError("StepCounterHook(output_dir=...) needs eagerflow.summary; "
                           "import eagerflow (or pass summary_writer=)")
    return _WRITER_FACTORY(output_dir)


_WRITER_FACTORY = None


def set_writer_factory(fn):
    """Called by eagerflow.summary: ``fn(output_dir) -> writer`` for hooks given a dir."""
    global _WRITER_FACTORY
    _WRITER_FACTORY = fn


class StepCounterHook(SessionRunHook):
    """Logs ``global_step/sec`` every N steps or seconds."""

    def __init__(self, every_n_steps=100, every_n_secs=None, output_dir=None,
                 summary_writer=None):
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError(
                "exactly one of every_n_steps and every_n_secs should be provided.")
        self._timer = SecondOrStepTimer(every_steps=every_n_steps, every_secs=every_n_secs)
        self._writer = summary_writer
        self._output_dir = output_dir
        self.last_rate = None

    def begin(self):
        # TF: a writer from SummaryWriterCache for output_dir when none is given
        if self._writer is None and self._output_dir:
            self._writer = _writer_for_dir(self._output_dir)

    def before_run(self, run_context):
        return SessionRunArgs(get_global_step())

    def after_run(self, run_context, run_values):
        if run_values.results is None:  # no global step (yet): nothing to count
            return
        step = int(scalar(run_values.results))
        if self._timer.should_trigger_for_step(step):
            elapsed = self._timer.update_last_triggered_step(step)
            if elapsed[0] is not None and elapsed[0] > 0:
                self.last_rate = elapsed[1] / elapsed[0]
                log.info("global_step/sec: %g", self.last_rate)
                if self._writer is not None:
                    self._writer.add_scalar("global_step/sec", self.last_rate, step)


class LoggingTensorHook(SessionRunHook):
    """Logs the given values every N iterations or seconds, and optionally at the end.

    Args:
        tensors: dict tag -> fetch, or a list of fetches (names, Tensors, callables).
        every_n_iter / every_n_secs: the interval (exactly one, unless ``at_end``).
        at_end: log once more in ``end()``.
        formatter: ``fn(dict tag -> value) -> str``.
    """

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False,
                 formatter=None):
        # TF (basic_session_run_hooks.LoggingTensorHook.__init__): only at_end with no
        # interval logs at the end alone; otherwise exactly one interval is required
        only_log_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_log_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and "
                             "every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if not isinstance(tensors, dict):
            # TF logs a list's items in the given order, a dict's tags sorted
            tensors = list(tensors)
            tags = [t if isinstance(t, str) else getattr(t, "name", str(i))
                    for i, t in enumerate(tensors)]
            self._tag_order = tags
            tensors = dict(zip(tags, tensors))
        else:
            self._tag_order = sorted(tensors.keys())
        self._tensors = tensors
        self._timer = None if only_log_at_end else \
            SecondOrStepTimer(every_secs=every_n_secs, every_steps=every_n_iter)
        self._at_end = at_end
        self._formatter = formatter
        self._iter = 0
        self._should = False
        self.last_logged = None

    def begin(self):
        # TF resets the timer and the iteration count in begin(): a reused hook starts over
        if self._timer is not None:
            self._timer.reset()
        self._iter = 0

    def before_run(self, run_context):
        self._should = self._timer is not None and self._timer.should_trigger_for_step(self._iter)
        return SessionRunArgs(self._tensors) if self._should else None

    def _log(self, values):
        """TF's ``_log_tensors``: ``"tag = value, ..."`` in tag order, with
        ``" (%.3f sec)"`` since the previous log appended when there was one."""
        self.last_logged = values
        elapsed_secs = None
        if self._timer is not None:
            elapsed_secs, _ = self._timer.update_last_triggered_step(self._iter)
        original = np.get_printoptions()
        np.set_printoptions(suppress=True)
        try:
            if self._formatter:
                log.info(self._formatter(values))
            else:
                stats = ", ".join("%s = %s" % (tag, values[tag]) for tag in self._tag_order)
                if elapsed_secs is not None:
                    log.info("%s (%.3f sec)", stats, elapsed_secs)
                else:
                    log.info("%s", stats)
        finally:
            np.set_printoptions(**original)

    def after_run(self, run_context, run_values):
        if self._should:
            self._log(run_values.results)
        self._iter += 1

    def end(self, session):
        if self._at_end:
            self._log(session.evaluate(self._tensors))


class NanLossDuringTrainingError(RuntimeError):
    """Raised by :class:`NanTensorHook` when the loss is NaN."""

    def __str__(self):
        return "NaN loss during training."


class NanTensorHook(SessionRunHook):
    """Stops (or raises :class:`NanLossDuringTrainingError`) when ``loss_tensor`` is NaN.

    Args:
        loss_tensor: the loss to watch: a published name (``'loss'``), a Tensor or a
            callable.
        fail_on_nan_loss: raise (True, default) or request a stop.
        max_lag_steps: how many steps the check may trail training. 0 (default) is TF's
            behaviour: each step's loss is read when the step ends, which on a GPU means
            waiting for it. With N > 0 the loss is copied to the host without waiting and
            checked once it has arrived, at most N steps later, so the host queues the next
            steps meanwhile. :meth:`check_pending` waits for every loss still on its way
            (the Estimator calls it before each checkpoint save, so no checkpoint is written
            after a NaN loss). On the CPU every loss has arrived at once: no lag.

    Example:
        >>> hook = NanTensorHook("loss", max_lag_steps=2)
    """

    def __init__(self, loss_tensor="loss", fail_on_nan_loss=True, max_lag_steps=0):
        if not isinstance(max_lag_steps, int) or max_lag_steps < 0:
            raise ValueError(f"max_lag_steps must be an int >= 0, got {max_lag_steps!r}")
        self._loss = loss_tensor
        self._fail = fail_on_nan_loss
        self._lag = max_lag_steps
        self._pending = collections.deque()
        self._stop = False

    def after_run(self, run_context, run_values):
        value = run_context.session.tensor(self._loss)
        self._pending.append(transfer.read_async(getattr(value, "_data", value)))
        while self._pending and (self._pending[0].ready() or len(self._pending) > self._lag):
            self._check(self._pending.popleft().result())
        if self._stop:
            run_context.request_stop()

    def check_pending(self):
        """Checks every loss not checked yet (waits for them).

        Raises:
            NanLossDuringTrainingError: when one is NaN and ``fail_on_nan_loss``.
        """
        while self._pending:
            self._check(self._pending.popleft().result())

    def end(self, session):
        self.check_pending()

    def _check(self, value):
        if not np.isnan(np.asarray(value, dtype=np.float64)).any():
            return
        self._pending.clear()
        # a GPU kernel's recorded error (an out-of-range label or id) is what made the loss
        # NaN there, where the CPU raised it in the step: raise that one, as the CPU does
        kernels.check_errors()
        if self._fail:
            log.error("Model diverged with loss = NaN.")
            raise NanLossDuringTrainingError()
        log.warning("Model diverged with loss = NaN.")  # TF's text, then request_stop()
        self._stop = True


class _CheckLossBeforeSave(CheckpointSaverListener):
    """Makes a lagging :class:`NanTensorHook` check every loss before a checkpoint is
    written, so the newest checkpoint is never one trained past a NaN loss."""

    def __init__(self, nan_hook):
        self._hook = nan_hook

    def before_save(self, session, global_step_value):
        self._hook.check_pending()


class FinalOpsHook(SessionRunHook):
    """Evaluates ``final_ops`` at the end; the values are in ``final_ops_values``."""

    def __init__(self, final_ops, final_ops_feed_dict=None):
        self._final_ops = final_ops
        self._final_ops_feed_dict = final_ops_feed_dict
        self.final_ops_values = None

    def end(self, session):
        if self._final_ops is not None:  # TF evaluates nothing for final_ops=None
            self.final_ops_values = session.evaluate(self._final_ops)


class FeedFnHook(SessionRunHook):
    """Runs ``feed_fn`` before each step and passes its dict as the step's ``feed_dict``
    (``tf.estimator.FeedFnHook``). Eagerly nothing consumes a feed_dict: the hook keeps
    TF's call pattern (``feed_fn()`` once per step) so code built on it still runs."""

    def __init__(self, feed_fn):
        self.feed_fn = feed_fn

    def before_run(self, run_context):
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())


def _global_step_for(hook_name):
    """TF's ``begin()`` check: the hook needs a global step (its exact message)."""
    gs = get_global_step()
    if gs is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return gs


def _other_threads_alive():
    """Whether a Python thread that might advance the global step runs besides the calling
    one: any alive thread but eagerflow's own input threads (named ``eagerflow-*``:
    prefetch, map workers, the Estimator's input feeder), which only read input."""
    me = threading.current_thread()
    return any(t is not me and t.is_alive() and not t.name.startswith("eagerflow-")
               for t in threading.enumerate())


class GlobalStepWaiterHook(SessionRunHook):
    """Delays the first step until the global step reaches ``wait_until_step``
    (``tf.estimator.GlobalStepWaiterHook``).

    TF uses it to start workers gradually (``wait_until_step=int(K*log(task_id+1))``):
    before the first step it logs ``Waiting for global step %d before starting training.``
    and polls the global step every 0.5 s until it is reached (progress logged every 1000
    steps); ``wait_until_step <= 0`` starts at once. Later steps are never delayed.

    Eagerly the global step lives in this process, and the only code that can advance it
    while this hook waits is another thread of this process sharing the variable (an
    eagerflow data-parallel worker keeps its own copy, advanced by its own steps). So,
    unlike TF, the wait ends early in two cases, each logged as a warning, instead of
    hanging forever:

    - no other thread is alive (eagerflow's own input threads aside): nothing can advance
      the step, the wait could never end;
    - the step has not moved for ``max_stall_secs`` seconds (eagerflow's argument; 60 by
      default, the longest start delay TF's Estimator gives a worker,
      ``RunConfig.experimental_max_worker_delay_secs``); ``None`` waits as long as other
      threads are alive, as TF does.

    Starting early is what a worker would do anyway once the chief had moved on; the delay
    only staggers the start.

    Example:
        >>> hook = GlobalStepWaiterHook(wait_until_step=0)
    """

    def __init__(self, wait_until_step, max_stall_secs=60.0):
        self._wait_until_step = wait_until_step
        self._max_stall_secs = max_stall_secs
        self._worker_is_started = False
        self._global_step_tensor = None

    def begin(self):
        self._worker_is_started = False
        self._global_step_tensor = _global_step_for("_GlobalStepWaiterHook")

    def before_run(self, run_context):
        if self._worker_is_started:
            return None
        if self._wait_until_step <= 0:
            self._worker_is_started = True
            return None
        log.info("Waiting for global step %d before starting training.",
                 self._wait_until_step)
        last_logged_step = 0
        last_seen, last_change = None, time.monotonic()
        while True:
            current_step = _read_global_step(run_context.session, self._global_step_tensor)
            if current_step >= self._wait_until_step:
                self._worker_is_started = True
                return None
            if current_step - last_logged_step > 1000:
                log.info("Waiting for global step %d before starting training. "
                         "Current step is %d.", self._wait_until_step, current_step)
                last_logged_step = current_step
            now = time.monotonic()
            if current_step != last_seen:
                last_seen, last_change = current_step, now
            if not _other_threads_alive():
                log.warning("Global step is %d and nothing else in this process can advance "
                            "it to %d (no other thread is running): starting training now "
                            "instead of waiting forever.", current_step,
                            self._wait_until_step)
                self._worker_is_started = True
                return None
            if self._max_stall_secs is not None and now - last_change >= self._max_stall_secs:
                log.warning("Global step has stayed at %d for %.0f sec, short of %d: "
                            "starting training now.", current_step, now - last_change,
                            self._wait_until_step)
                self._worker_is_started = True
                return None
            time.sleep(0.5)


class _OpTimeline:
    """A recorder (eagerflow.autograd.state) that notes each op the profiled step runs.

    ``registry.execute`` calls ``record`` right after an op's forward: the op's event spans
    from the previous op's end (or the step start) to now, so it holds the op's host time,
    Python dispatch included; on a GPU that is the launch, not the kernel. The backward
    pass's ops are recorded too when the step differentiates with this recorder active. It
    takes no part in differentiation and keeps no tensors, only their ids (for the dataflow
    arrows, checked against shape and dtype since an id may be reused once its tensor is
    gone).

    A step that raises before the hook's ``after_run`` leaves it pushed; it detaches itself
    after ``MAX_OPS`` ops so that it cannot grow without bound."""

    MAX_OPS = 200_000

    def __init__(self, dataflow, memory):
        self.dataflow = dataflow
        self.memory = memory
        self.start = self.last = time.perf_counter()
        self.ops = []  # (name, op, start, end, out_desc, in_refs, nbytes)
        self._producer = {}

    @staticmethod
    def _describe(t):
        data = getattr(t, "_data", None)
        shape = tuple(getattr(data, "shape", ()))
        dtype = str(getattr(data, "dtype", type(data).__name__))
        return shape, dtype, int(getattr(data, "nbytes", 0) or 0)

    def record(self, op, inputs, result, attrs):
        now = time.perf_counter()
        index = len(self.ops)
        if index >= self.MAX_OPS:
            _recorder_state.pop(self)
            return
        outs = result if isinstance(result, tuple) else (result,)
        descs = [self._describe(o) for o in outs if isinstance(o, Tensor)]
        in_refs = []
        if self.dataflow:
            for x in inputs:
                if isinstance(x, Tensor):
                    hit = self._producer.get(id(x))
                    if hit is not None and hit[1] == self._describe(x)[:2]:
                        in_refs.append(hit[0])
            for o in outs:
                if isinstance(o, Tensor):
                    self._producer[id(o)] = (index, self._describe(o)[:2])
        nbytes = sum(d[2] for d in descs)
        self.ops.append((f"{op.name}_{index}", op.name, self.last, now, descs, in_refs,
                         nbytes))
        self.last = now


class ProfilerHook(SessionRunHook):
    """Writes ``timeline-<global_step>.json`` (Chrome trace format, open in
    ``chrome://tracing`` or Perfetto) every ``save_steps`` steps or ``save_secs`` seconds
    (``tf.estimator.ProfilerHook``).

    TF's schedule: the first step is never profiled (it only starts the timer); a step is
    profiled when the timer fires for it, and its file is named after the global step read
    after the step. Eagerly a profiled step's trace holds:

    - one ``Step`` event spanning the step's wall time (the ``step_fn`` the hook runner
      ran, or, outside a runner, ``before_run`` to ``after_run``), with ``global_step`` in
      its args;
    - one ``Op`` event per op the step ran (forward ops, as the registry executes them;
      host time since the previous op, see :class:`_OpTimeline`);
    - with ``show_dataflow``, flow arrows (``ph`` ``s``/``t``) from the op that produced a
      tensor to each op of the step that read it;
    - with ``show_memory``, an ``Allocated Bytes`` counter of the bytes the step's op
      outputs took so far, and a snapshot (``ph`` ``O``) of each output tensor's size.

    Args:
        save_steps / save_secs: the interval (exactly one, TF's ``SecondOrStepTimer``).
        output_dir: directory of the trace files (TF's default ``''``: the current one).
        show_dataflow, show_memory: as above.

    Example:
        >>> hook = ProfilerHook(save_steps=100, output_dir="/tmp/prof")
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir="", show_dataflow=True,
                 show_memory=False):
        self._output_dir = os.fspath(output_dir)
        self._output_file = os.path.join(self._output_dir, "timeline-{}.json")
        self._show_dataflow = show_dataflow
        self._show_memory = show_memory
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._next_step = None
        self._request_summary = False
        self._global_step_tensor = None
        self._recorder = None
        self._stale_global_step = None
        self.last_trace_path = None

    def begin(self):
        self._next_step = None
        self._global_step_tensor = _global_step_for("ProfilerHook")

    def _stop_recording(self):
        rec, self._recorder = self._recorder, None
        if rec is not None:
            _recorder_state.pop(rec)
        return rec

    def before_run(self, run_context):
        self._stop_recording()  # a step that raised left its recorder behind
        self._request_summary = (self._next_step is not None and
                                 self._timer.should_trigger_for_step(self._next_step))
        # TF fetches the global step with the step: the value before the train op's
        # increment; eagerly that is the value now (the host copy: no device read)
        self._stale_global_step = _read_global_step(run_context.session,
                                                    self._global_step_tensor)
        if self._request_summary:
            self._recorder = _OpTimeline(self._show_dataflow, self._show_memory)
            _recorder_state.push(self._recorder)
            self._wall_start = time.time()
        return None

    def after_run(self, run_context, run_values):
        rec = self._stop_recording()
        end = time.perf_counter()
        stale_global_step = self._stale_global_step
        if self._next_step is None:
            # TF: arm the timer so that it fires only N steps or seconds from now
            self._timer.update_last_triggered_step(stale_global_step)
        step = stale_global_step + 1
        if self._request_summary and rec is not None:
            step = _read_global_step(run_context.session, self._global_step_tensor)
            self._timer.update_last_triggered_step(step)
            span = getattr(run_context.session, "step_span", None)
            start = rec.start
            if span is not None and span[0] >= rec.start:
                start, end = span
            self._save(step, self._output_file.format(step), rec, start, end)
        self._next_step = step + 1

    def end(self, session):
        self._stop_recording()

    def _save(self, step, save_path, rec, start, end):
        log.info("Saving timeline for %d into '%s'.", step, save_path)
        trace = self._chrome_trace(step, rec, start, end)
        if self._output_dir:
            os.makedirs(self._output_dir, exist_ok=True)
        with open(save_path, "w") as f:
            json.dump(trace, f)
        self.last_trace_path = save_path

    def _chrome_trace(self, step, rec, start, end):
        base = self._wall_start * 1e6 - rec.start * 1e6  # perf_counter s -> epoch us

        def us(t):
            return round(base + t * 1e6, 3)
        pid, tid = 0, 0
        events = [
            {"name": "process_name", "ph": "M", "pid": pid,
             "args": {"name": "eagerflow host"}},
            {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
             "args": {"name": "step"}},
            {"name": "train_step", "cat": "Step", "ph": "X", "pid": pid, "tid": tid,
             "ts": us(start), "dur": round((end - start) * 1e6, 3),
             "args": {"global_step": int(step), "ops": 0}},
        ]
        # ops that ran after the step (other hooks' after_run) are not the step's; the first
        # op's event starts no earlier than the step
        ops = [o[:2] + (max(o[2], start),) + o[3:] for o in rec.ops if o[3] <= end]
        events[2]["args"]["ops"] = len(ops)
        allocated = 0
        for i, (name, op, t0, t1, descs, in_refs, nbytes) in enumerate(ops):
            args = {"name": name, "op": op}
            for j, (shape, dtype, _) in enumerate(descs):
                args[f"output{j}"] = f"{dtype}{list(shape)}"
            events.append({"name": op, "cat": "Op", "ph": "X", "pid": pid, "tid": tid,
                           "ts": us(t0), "dur": round((t1 - t0) * 1e6, 3), "args": args})
            if self._show_dataflow:
                for src in in_refs:  # each end inside its slice, so it binds to it
                    flow = len(events)
                    s0, s1 = ops[src][2], ops[src][3]
                    events.append({"name": ops[src][0], "cat": "DataFlow", "ph": "s",
                                   "pid": pid, "tid": tid, "ts": us((s0 + s1) / 2),
                                   "id": flow})
                    events.append({"name": ops[src][0], "cat": "DataFlow", "ph": "t",
                                   "pid": pid, "tid": tid, "ts": us((t0 + t1) / 2),
                                   "id": flow})
            if self._show_memory:
                allocated += nbytes
                events.append({"name": "Allocated Bytes", "ph": "C", "pid": pid,
                               "ts": us(t1), "args": {"bytes": allocated}})
                for j, (shape, dtype, size) in enumerate(descs):
                    ref = f"{name}:{j}"
                    events.append({"name": "Tensor", "cat": "Tensor", "ph": "N",
                                   "pid": pid, "id": ref, "ts": us(t1)})
                    events.append({"name": "Tensor", "cat": "Tensor", "ph": "O",
                                   "pid": pid, "id": ref, "ts": us(t1),
                                   "args": {"snapshot": {"tensor_description":
                                                         f"{dtype}{list(shape)}",
                                                         "bytes": size}}})
        return {"traceEvents": events, "displayTimeUnit": "ms"}
