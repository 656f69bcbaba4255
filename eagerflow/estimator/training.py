"""``train_and_evaluate`` (local mode), ``TrainSpec``/``EvalSpec`` and the exporters."""
import collections
import logging
import os
import shutil
import time

from ..train.basic_session_run_hooks import CheckpointSaverListener
from ..train.session_run_hook import SessionRunHook

__all__ = ["TrainSpec", "EvalSpec", "train_and_evaluate", "Exporter", "LatestExporter",
           "FinalExporter"]

log = logging.getLogger("eagerflow")


class TrainSpec(collections.namedtuple("TrainSpec", ["input_fn", "max_steps", "hooks",
                                                     "saving_listeners"])):
    """What to train on and for how long (``tf.estimator.TrainSpec``)."""

    def __new__(cls, input_fn, max_steps=None, hooks=None, saving_listeners=None):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        hooks = tuple(hooks or ())
        for h in hooks:
            if not isinstance(h, SessionRunHook):
                raise TypeError(f"All hooks must be SessionRunHook instances, given: {h}")
        return super().__new__(cls, input_fn, max_steps, hooks, tuple(saving_listeners or ()))


class EvalSpec(collections.namedtuple("EvalSpec", ["input_fn", "steps", "name", "hooks",
                                                   "exporters", "start_delay_secs",
                                                   "throttle_secs"])):
    """What to evaluate on, how often, and what to export (``tf.estimator.EvalSpec``)."""

    def __new__(cls, input_fn, steps=100, name=None, hooks=None, exporters=None,
                start_delay_secs=120, throttle_secs=600):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        exporters = tuple([exporters] if isinstance(exporters, Exporter) else exporters or ())
        names = [e.name for e in exporters]
        if len(set(names)) != len(names):
            raise ValueError("`exporters` must have unique names.")
        return super().__new__(cls, input_fn, steps, name, tuple(hooks or ()), exporters,
                               start_delay_secs, throttle_secs)


class Exporter:
    """Base of exporters: ``export(estimator, export_path, checkpoint_path, eval_result,
    is_the_final_export)`` returns the export directory or None."""

    name = "exporter"

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        raise NotImplementedError


class LatestExporter(Exporter):
    """Exports after every evaluation, keeping the newest ``exports_to_keep``."""

    def __init__(self, name, serving_input_receiver_fn, assets_extra=None, as_text=False,
                 exports_to_keep=5):
        if exports_to_keep is not None and exports_to_keep <= 0:
            raise ValueError("`exports_to_keep`, if provided, must be a positive number.")
        self.name = name
        self._receiver = serving_input_receiver_fn
        self._assets_extra = assets_extra
        self._keep = exports_to_keep

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        path = estimator.export_saved_model(export_path, self._receiver, self._assets_extra,
                                            checkpoint_path=checkpoint_path).decode()
        if self._keep:
            versions = sorted((d for d in os.listdir(export_path) if d.isdigit()), key=int)
            for old in versions[:-self._keep]:
                shutil.rmtree(os.path.join(export_path, old), ignore_errors=True)
        return path


class FinalExporter(LatestExporter):
    """Exports once, after the final evaluation."""

    def __init__(self, name, serving_input_receiver_fn, assets_extra=None, as_text=False):
        super().__init__(name, serving_input_receiver_fn, assets_extra, as_text, None)

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        if not is_the_final_export:
            return None
        return super().export(estimator, export_path, checkpoint_path, eval_result, True)


class _EvalListener(CheckpointSaverListener):
    def __init__(self, runner):
        self._runner = runner

    def after_save(self, session, global_step_value):
        self._runner.maybe_evaluate(global_step_value, final=False)
        return False


class _Evaluator:
    def __init__(self, estimator, eval_spec):
        self._est, self._spec = estimator, eval_spec
        self._last_time = 0.0
        self._last_step = None
        self.result = None
        self.exports = []

    def maybe_evaluate(self, step, final):
        if step == 0 and not final:
            return
        if not final and time.time() - self._last_time < self._spec.throttle_secs:
            return
        ckpt = self._est.latest_checkpoint()
        if self._last_step != step:  # the final checkpoint may be evaluated already
            self.result = self._est.evaluate(self._spec.input_fn, steps=self._spec.steps,
                                             hooks=list(self._spec.hooks),
                                             checkpoint_path=ckpt, name=self._spec.name)
            self._last_time, self._last_step = time.time(), step
        elif not final:
            return
        base = os.path.join(self._est.model_dir, "export")
        for exporter in self._spec.exporters:
            path = exporter.export(self._est, os.path.join(base, exporter.name), ckpt,
                                   self.result, final)
            if path is not None:
                self.exports.append(path)


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains, evaluating after checkpoints (at most every ``throttle_secs``) and once at the
    end, exporting after evaluations (``tf.estimator.train_and_evaluate``, local mode).

    Returns:
        ``(eval_result, export_results)`` of the final evaluation.
    """
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: "
                        f"{type(train_spec)}")
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: "
                        f"{type(eval_spec)}")
    evaluator = _Evaluator(estimator, eval_spec)
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks),
                    max_steps=train_spec.max_steps,
                    saving_listeners=list(train_spec.saving_listeners) +
                    [_EvalListener(evaluator)])
    if not estimator.config.is_chief:  # evaluation and exports are the chief's
        return None, []
    ckpt = estimator.latest_checkpoint()
    step = _step_of(ckpt)
    evaluator.maybe_evaluate(step, final=True)
    return evaluator.result, evaluator.exports


def _step_of(ckpt):
    if ckpt is None:
        return -1
    try:
        return int(ckpt.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1
