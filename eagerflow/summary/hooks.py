"""``SummarySaverHook``: writes scalar summaries every N steps or seconds.

Follows tensorflow/python/training/basic_session_run_hooks.py (``SummarySaverHook``): the
argument checks and their messages, the first step always summarised, a ``SessionLog``
``START`` event with the first summary, and the step each summary is written at (the
global step after the step that produced it).
"""
import numpy as np

from ..train.basic_session_run_hooks import SecondOrStepTimer
from ..train.global_step import get_global_step, global_step as _read_global_step
from ..train.session_run_hook import SessionRunArgs, SessionRunHook, scalar as _scalar
from .event_pb2 import SessionLog, Summary
from .writer import FileWriterCache

__all__ = ["SummarySaverHook"]


def _as_dict(summary_op):
    """eagerflow's summary op: dict tag -> fetch; a list (or one fetch) is keyed by str()."""
    if summary_op is None or isinstance(summary_op, dict):
        return summary_op
    items = summary_op if isinstance(summary_op, (list, tuple)) else [summary_op]
    return {str(k): k for k in items}


def _is_serialized(value):
    """A fetched TF1 summary: a ``Summary`` proto or its serialized bytes (as a string
    tensor's value), not a number to write as a scalar."""
    if isinstance(value, (bytes, Summary)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "OS"


class SummarySaverHook(SessionRunHook):
    """Saves summaries (``tf.estimator.SummarySaverHook``).

    Args:
        save_steps / save_secs: the interval (exactly one: TF's ``SecondOrStepTimer``).
        output_dir: where to write (a shared writer per directory), used when no
            ``summary_writer`` is given. With neither, nothing is written (as TF).
        summary_writer: an explicit ``FileWriter``.
        scaffold: a ``Scaffold`` whose ``summary_op`` is used (exactly one of
            ``scaffold`` and ``summary_op``).
        summary_op: dict tag -> fetch (a published name such as ``'loss'``, a Tensor, a
            Variable or a callable); each value must be a scalar. A list (or a single
            fetch) is keyed by ``str()`` of each item.

    Raises:
        ValueError: ``Exactly one of scaffold or summary_op must be provided.``, or the
            timer's own messages.
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir=None, summary_writer=None,
                 scaffold=None, summary_op=None):
        if (scaffold is None) == (summary_op is None):  # TF's check and message
            raise ValueError("Exactly one of scaffold or summary_op must be provided.")
        self._summary_op = summary_op
        self._summary_writer = summary_writer
        self._output_dir = output_dir
        self._scaffold = scaffold
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._next_step = None
        self._request_summary = False
        self._global_step_tensor = None
        self._stale_global_step = None

    def begin(self):
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = FileWriterCache.get(self._output_dir)
        self._next_step = None
        self._global_step_tensor = get_global_step()
        if self._global_step_tensor is None:
            raise RuntimeError("Global step should be created to use SummarySaverHook.")

    def _get_summary_op(self):
        if self._summary_op is not None:
            return _as_dict(self._summary_op)
        return _as_dict(getattr(self._scaffold, "summary_op", None))

    def before_run(self, run_context):
        self._request_summary = (self._next_step is None or
                                 self._timer.should_trigger_for_step(self._next_step))
        # TF fetches the global step with the step, i.e. its value before the train op's
        # increment: eagerly, its value now (the host copy: no device read)
        self._stale_global_step = _read_global_step(run_context.session,
                                                    self._global_step_tensor)
        requests = {"global_step": self._global_step_tensor}
        if self._request_summary:
            ops = self._get_summary_op()
            if ops is not None:
                requests["summary"] = ops
        return SessionRunArgs(requests)

    def after_run(self, run_context, run_values):
        if not self._summary_writer:
            return
        global_step = self._stale_global_step + 1
        if self._next_step is None or self._request_summary:
            # the fetch is evaluated after the step: the real value after the train op
            global_step = int(_scalar(run_values.results["global_step"]))
        if self._next_step is None:
            add_session_log = getattr(self._summary_writer, "add_session_log", None)
            if add_session_log is not None:
                add_session_log(SessionLog(status=SessionLog.START), global_step)
        if self._request_summary:
            self._timer.update_last_triggered_step(global_step)
            for tag, value in run_values.results.get("summary", {}).items():
                if _is_serialized(value):  # a TF1 summary op's (or merge_all's) Summary
                    self._summary_writer.add_summary(value, global_step)
                else:
                    self._summary_writer.add_scalar(tag, float(_scalar(value)), global_step)
        self._next_step = global_step + 1

    def end(self, session=None):
        if self._summary_writer:
            self._summary_writer.flush()
