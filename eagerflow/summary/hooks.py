"""``SummarySaverHook``: writes scalar summaries every N steps or seconds."""
import numpy as np

from ..train.basic_session_run_hooks import SecondOrStepTimer
from ..train.global_step import get_global_step
from ..train.session_run_hook import SessionRunArgs, SessionRunHook, scalar as _scalar
from .writer import FileWriterCache

__all__ = ["SummarySaverHook"]


class SummarySaverHook(SessionRunHook):
    """Saves summaries (``tf.estimator.SummarySaverHook``).

    Args:
        save_steps / save_secs: the interval (exactly one).
        output_dir: where to write (a shared writer per directory), or
        summary_writer: an explicit ``FileWriter``.
        summary_op: dict tag -> fetch (a published name such as ``'loss'``, a Tensor, a
            Variable or a callable); each value must be a scalar.
    """

    def __init__(self, save_steps=None, save_secs=None, output_dir=None, summary_writer=None,
                 scaffold=None, summary_op=None):
        if summary_op is None:
            raise ValueError("SummarySaverHook: summary_op is required (a dict tag -> fetch)")
        if (output_dir is None) == (summary_writer is None):
            raise ValueError("exactly one of output_dir and summary_writer must be provided")
        if not isinstance(summary_op, dict):
            summary_op = {str(k): k for k in (summary_op if isinstance(summary_op, (list, tuple))
                                               else [summary_op])}
        self._ops = summary_op
        self._timer = SecondOrStepTimer(every_steps=save_steps, every_secs=save_secs)
        self._dir = output_dir
        self._writer = summary_writer
        self._fire = False

    def begin(self):
        if self._writer is None:
            self._writer = FileWriterCache.get(self._dir)

    def before_run(self, run_context):
        gs = get_global_step()
        step = int(np.asarray(gs.numpy())) + 1 if gs is not None else 0
        self._fire = self._timer.should_trigger_for_step(step)
        return SessionRunArgs({"step": gs, "ops": self._ops}) if self._fire else None

    def after_run(self, run_context, run_values):
        if not self._fire:
            return
        step = int(_scalar(run_values.results["step"]))
        self._timer.update_last_triggered_step(step)
        for tag, value in run_values.results["ops"].items():
            self._writer.add_scalar(tag, float(_scalar(value)), step)

    def end(self, session):
        self._writer.flush()
