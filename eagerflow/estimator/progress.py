"""``ProgressBarHook``: a tqdm progress bar over training steps, showing the loss."""
import sys

import numpy as np
from tqdm.auto import tqdm

from ..train.global_step import get_global_step
from ..train.session_run_hook import SessionRunArgs, SessionRunHook, scalar

__all__ = ["ProgressBarHook"]


class ProgressBarHook(SessionRunHook):
    """Shows training progress; the loss is read (a device sync) every ``every_n_steps``.

    Args:
        total_steps: the bar's length (None: an open-ended counter).
        every_n_steps: how often the loss in the postfix is refreshed.
        desc: the bar's label.
        file: where to draw (stderr by default).
    """

    def __init__(self, total_steps=None, every_n_steps=20, desc="train", file=None,
                 disable=None):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self._total, self._every, self._desc = total_steps, every_n_steps, desc
        self._file = file or sys.stderr
        self._disable = disable
        self._bar = None
        self._n = 0

    def after_create_session(self, session, coord):
        self._bar = tqdm(total=self._total, desc=self._desc, unit="step", file=self._file,
                         disable=self._disable, dynamic_ncols=True, leave=True)

    def before_run(self, run_context):
        if (self._n + 1) % self._every == 0:
            return SessionRunArgs({"loss": "loss", "step": get_global_step()})
        return None

    def after_run(self, run_context, run_values):
        self._n += 1
        self._bar.update(1)
        if run_values.results is not None:
            loss = float(np.asarray(scalar(run_values.results["loss"])))
            self._bar.set_postfix(loss=f"{loss:.4f}",
                                  step=int(scalar(run_values.results["step"])))

    def end(self, session):
        if self._bar is not None:
            self._bar.close()
