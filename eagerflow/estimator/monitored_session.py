"""``MonitoredTrainingSession`` and friends: TF1's session loop, run eagerly.

A *step* is a Python callable (or a structure of tensors/callables to evaluate). The
session restores the newest checkpoint of ``checkpoint_dir`` into the default variable store
(variables created later are restored as they are created), runs hooks around each step
through the same :class:`~eagerflow.train.session_run_hook.HookRunner` as the Estimator, and
saves checkpoints and summaries on schedule.

Example:
    >>> import tempfile, eagerflow as ef
    >>> from eagerflow.variables import VariableStore, get_variable
    >>> with VariableStore().as_default():
    ...     w = get_variable("w", [1], initializer=ef.zeros_initializer())
    ...     step = ef.train.get_or_create_global_step()
    ...     def train_step():
    ...         loss = lambda: ef.reduce_sum(ef.square(w - 3.0))
    ...         ef.train.GradientDescentOptimizer(0.25).minimize(loss, global_step=step)
    ...     hooks = [ef.train.StopAtStepHook(last_step=20)]
    ...     with ef.train.MonitoredTrainingSession(tempfile.mkdtemp(), hooks=hooks) as sess:
    ...         while not sess.should_stop():
    ...             sess.run(train_step)
    ...     round(float(w.numpy()[0]), 3)
    3.0
"""
import contextlib
import logging

from ..autograd import nest
from ..autograd.tensor import Tensor
from ..io.errors import OutOfRangeError
from ..summary import FileWriterCache
from ..train.basic_session_run_hooks import (CheckpointSaverHook, SecondOrStepTimer,
                                             StepCounterHook)
from ..train.checkpoint_state import latest_checkpoint
from ..train.global_step import get_global_step
from ..train.restore import RestoreOnCreate
from ..train.saver import Saver
from ..train.session_run_hook import EagerSession, HookRunner, SessionRunHook, scalar
from ..variables.store import get_default_store

__all__ = ["Scaffold", "MonitoredSession", "SingularMonitoredSession",
           "MonitoredTrainingSession", "ChiefSessionCreator", "Supervisor", "basic_train_loop",
           "USE_DEFAULT", "StepContext"]

log = logging.getLogger("eagerflow")


class _UseDefault:
    def __repr__(self):
        return "USE_DEFAULT"


USE_DEFAULT = _UseDefault()


class Scaffold:
    """What a session needs besides the model (``tf.train.Scaffold``): ``init_fn`` (called
    when no checkpoint is restored), ``saver`` and ``local_init_op`` mean something eagerly;
    the graph ops are accepted and ignored."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None,
                 saver=None, copy_from_scaffold=None, local_init_feed_dict=None):
        if init_fn is not None and not callable(init_fn):
            raise TypeError("Scaffold: init_fn must be callable (scaffold, session) -> None")
        self.init_fn = init_fn
        self.init_op = init_op
        self.local_init_op = local_init_op
        self.summary_op = summary_op
        self.saver = saver
        self._finalized = False

    def finalize(self):
        if self.saver is None:
            self.saver = Saver()
        self._finalized = True
        return self

    @property
    def finalized(self):
        return self._finalized


class ChiefSessionCreator:
    """Names the checkpoint directory and scaffold a chief session starts from."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self.scaffold = scaffold or Scaffold()
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_path = checkpoint_filename_with_path


class StepContext:
    """What ``run_step_fn``'s function receives: ``session``, ``run_with_hooks(fetches)``
    and ``request_stop()``."""

    def __init__(self, monitored):
        self._monitored = monitored

    @property
    def session(self):
        return self._monitored._session

    def run_with_hooks(self, fetches, feed_dict=None, options=None):
        return self._monitored.run(fetches, feed_dict, options)

    def request_stop(self):
        self._monitored._runner.request_stop()


def _evaluate(fetches):
    def one(f):
        if isinstance(f, Tensor):
            return f
        if callable(f):
            return f()
        if f is None:
            return None
        raise TypeError(f"run: cannot fetch an object of type {type(f).__name__}; fetch "
                        "Tensors, Variables or callables (a callable is one training step)")
    if callable(fetches) and not isinstance(fetches, Tensor):
        return fetches()
    return nest.map_structure(one, fetches)


class MonitoredSession:
    """A session-like context that runs steps with hooks, restoring first (TF1's
    ``MonitoredSession``). ``run()`` returns the fetched values as NumPy arrays."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        self._creator = session_creator or ChiefSessionCreator()
        self._runner = HookRunner(list(hooks or []))
        self._session = self._runner.session
        self._restorer = None
        self._closed = False
        self._entered = False
        self._create()

    def _create(self):
        scaffold = self._creator.scaffold.finalize() if not self._creator.scaffold.finalized \
            else self._creator.scaffold
        ckpt = self._creator.checkpoint_path or (
            latest_checkpoint(self._creator.checkpoint_dir) if self._creator.checkpoint_dir
            else None)
        store = get_default_store()
        self._runner.begin()
        if ckpt is not None:
            log.info("Restoring parameters from %s", ckpt)
            self._restorer = RestoreOnCreate(store, ckpt).attach()
        elif scaffold.init_fn is not None:
            scaffold.init_fn(scaffold, self._session)
        self._runner.after_create_session()

    # --- context ---------------------------------------------------------------------------
    def __enter__(self):
        self._entered = True
        return self

    def __exit__(self, exc_type, exc, tb):
        end_ok = exc_type is None or issubclass(exc_type, (OutOfRangeError, StopIteration))
        self._close(run_end_hooks=end_ok)
        return exc_type is not None and issubclass(exc_type, (OutOfRangeError, StopIteration))

    # --- running ---------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs one step: evaluates ``fetches`` (a callable is called), with the hooks around
        it; returns NumPy values in the structure of the fetches.

        Raises:
            RuntimeError: when the session is closed.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if feed_dict:
            raise ValueError("run: feed_dict has no meaning eagerly; pass the values to the "
                             "step function instead")
        holder = {}

        def step():
            try:
                holder["out"] = _evaluate(fetches)
            except (OutOfRangeError, StopIteration):
                holder["end"] = True
                return {}
            out = holder["out"]
            named = dict(out) if isinstance(out, dict) else {"result": out}
            gs = get_global_step()
            if gs is not None:
                named.setdefault("global_step", gs)
            if "loss" not in named and isinstance(out, Tensor) and out.size == 1:
                named["loss"] = out
            return named
        self._runner.run_step(step)
        if holder.get("end"):
            self._runner.request_stop()
            return None
        return EagerSession().evaluate(holder["out"]) if holder["out"] is not None and \
            not isinstance(holder["out"], (int, float, str)) else holder["out"]

    def run_step_fn(self, step_fn):
        """Calls ``step_fn(step_context)`` (TF's ``run_step_fn``); returns its result."""
        return step_fn(StepContext(self))

    def should_stop(self):
        return self._closed or self._runner.should_stop()

    def request_stop(self):
        self._runner.request_stop()

    def close(self):
        self._close(run_end_hooks=True)

    def _close(self, run_end_hooks):
        if self._closed:
            return
        try:
            if run_end_hooks:
                self._runner.end()
        finally:
            self._closed = True
            if self._restorer is not None:
                self._restorer.detach()

    @property
    def graph(self):
        return None


class SingularMonitoredSession(MonitoredSession):
    """A :class:`MonitoredSession` with a chief's checkpoint handling (single process)."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        super().__init__(ChiefSessionCreator(scaffold, master, config, checkpoint_dir,
                                             checkpoint_filename_with_path), hooks,
                         stop_grace_period_secs)

    def raw_session(self):
        return self._session


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None,  # noqa: N802
                             hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=USE_DEFAULT, save_summaries_steps=USE_DEFAULT,
                             save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100,
                             max_wait_secs=7200, save_checkpoint_steps=USE_DEFAULT,
                             summary_dir=None):
    """A :class:`MonitoredSession` with TF1's standard hooks (``tf.train.MonitoredTrainingSession``).

    With ``checkpoint_dir`` it restores the newest checkpoint, saves every 600 s by default
    (or ``save_checkpoint_steps``) and writes a ``loss`` summary every 100 steps; hooks run in
    TF's order: checkpoint saver, step counter, summaries, then ``hooks``.
    """
    if save_checkpoint_secs is USE_DEFAULT and save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_secs, save_checkpoint_steps = 600, None
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_steps is USE_DEFAULT:
        save_summaries_steps = None
    elif save_summaries_secs is USE_DEFAULT:
        save_summaries_secs = None
    scaffold = scaffold or Scaffold()
    all_hooks = []
    summary_dir = summary_dir or checkpoint_dir
    if is_chief:
        if checkpoint_dir and (save_checkpoint_secs or save_checkpoint_steps):
            all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_secs=save_checkpoint_secs,
                                                 save_steps=save_checkpoint_steps,
                                                 scaffold=scaffold))
        writer = FileWriterCache.get(summary_dir) if summary_dir else None
        if log_step_count_steps:
            all_hooks.append(StepCounterHook(every_n_steps=log_step_count_steps,
                                             summary_writer=writer))
        if writer is not None and (save_summaries_steps or save_summaries_secs):
            all_hooks.append(_LossSummaryHook(save_summaries_steps, save_summaries_secs, writer))
        all_hooks += list(chief_only_hooks or [])
    all_hooks += list(hooks or [])
    creator = ChiefSessionCreator(scaffold, master, config, checkpoint_dir)
    return MonitoredSession(creator, all_hooks, stop_grace_period_secs)


class _LossSummaryHook(SessionRunHook):
    """Writes the step's published ``loss`` (when the step publishes one) as a summary."""

    def __init__(self, steps, secs, writer):
        self._timer = SecondOrStepTimer(every_steps=steps, every_secs=secs)
        self._writer = writer
        self._n = 0

    def after_run(self, run_context, run_values):
        self._n += 1
        named = run_context.session.named
        loss = named.get("loss")
        gs = named.get("global_step")
        step = int(scalar(gs.numpy())) if gs is not None else self._n
        if loss is not None and self._timer.should_trigger_for_step(step):
            self._timer.update_last_triggered_step(step)
            self._writer.add_scalar("loss", float(scalar(loss.numpy())), step)

    def end(self, session):
        self._writer.flush()


class Supervisor:
    """TF1's ``Supervisor``, reduced to what an eager loop needs: ``managed_session()``,
    ``should_stop()``, ``request_stop()``."""

    def __init__(self, logdir=None, is_chief=True, saver=None, save_model_secs=600,
                 global_step=None, init_fn=None, summary_writer=None, **_ignored):
        self._logdir = logdir
        self._scaffold = Scaffold(init_fn=(lambda scaffold, sess: init_fn(sess))
                                  if init_fn else None, saver=saver)
        self._secs = save_model_secs
        self._session = None

    @contextlib.contextmanager
    def managed_session(self, master="", config=None, start_standard_services=True,
                        close_summary_writer=True):
        sess = MonitoredTrainingSession(checkpoint_dir=self._logdir, scaffold=self._scaffold,
                                        save_checkpoint_secs=self._secs or None,
                                        log_step_count_steps=None)
        self._session = sess
        with sess:
            yield sess

    def should_stop(self):
        return self._session is not None and self._session.should_stop()

    def request_stop(self, ex=None):
        if self._session is not None:
            self._session.request_stop()

    def stop(self, *args, **kwargs):
        self.request_stop()


def basic_train_loop(supervisor, train_step_fn, args=None, kwargs=None, master=""):
    """TF1's ``basic_train_loop``: ``train_step_fn(sess, *args, **kwargs)`` until the
    supervisor says stop."""
    args, kwargs = list(args or []), dict(kwargs or {})
    with supervisor.managed_session(master) as sess:
        while not supervisor.should_stop():
            train_step_fn(sess, *args, **kwargs)
