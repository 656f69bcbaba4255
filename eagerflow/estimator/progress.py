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
        disable: True hides the bar; None (default) hides it when ``file`` is not a
            terminal (logs and CI stay clean), False always shows it.
        batch_size: examples per step; when given the postfix shows examples/s.

    Example:
        >>> hook = ProgressBarHook(total_steps=1000, batch_size=1024, desc="training")
    """

    def __init__(self, total_steps=None, every_n_steps=20, desc="train", file=None,
                 disable=None, batch_size=None):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._total, self._every, self._desc = total_steps, every_n_steps, desc
        self._batch_size = batch_size
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
            postfix = {"loss": f"{loss:.4f}", "step": int(scalar(run_values.results["step"]))}
            fd = self._bar.format_dict  # tqdm's smoothed steps/s, once it has one
            rate = fd.get("rate") or (fd["n"] / fd["elapsed"] if fd.get("elapsed") else None)
            if self._batch_size and rate:
                postfix["examples/s"] = f"{rate * self._batch_size:,.0f}"
            self._bar.set_postfix(postfix)

    def end(self, session):
        if self._bar is not None:
            self._bar.close()
