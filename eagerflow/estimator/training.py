"""``train_and_evaluate`` (local mode), ``TrainSpec``/``EvalSpec`` and the exporters."""
import collections
import logging
import os
import shutil

from ..train.basic_session_run_hooks import CheckpointSaverListener, SecondOrStepTimer
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
        return super().__new__(cls, input_fn, max_steps, _validate_hooks(hooks),
                               _validate_saving_listeners(saving_listeners))


def _validate_hooks(hooks):
    """TF's ``training._validate_hooks``."""
    hooks = tuple(hooks or ())
    for h in hooks:
        if not isinstance(h, SessionRunHook):
            raise TypeError(f"All hooks must be `SessionRunHook` instances, given: {h}")
    return hooks


def _validate_saving_listeners(saving_listeners):
    """TF's ``training._validate_saving_listeners``."""
    saving_listeners = tuple(saving_listeners or ())
    for lst in saving_listeners:
        if not isinstance(lst, CheckpointSaverListener):
            raise TypeError("All saving_listeners must be `CheckpointSaverListener` "
                            f"instances, given: {lst}")
    return saving_listeners


def _validate_exporters(exporters):
    """TF's ``training._validate_exporters``: an Exporter, an iterable of them, or None;
    names non-empty strings, unique."""
    if not exporters:
        return ()
    if isinstance(exporters, Exporter):
        exporters = [exporters]
    names = []
    try:
        for exporter in exporters:
            if not isinstance(exporter, Exporter):
                raise TypeError
            if not exporter.name:
                raise ValueError("An Exporter cannot have a name that is `None` or empty. "
                                 f"All exporter names: {[e.name for e in exporters]}")
            if not isinstance(exporter.name, str):
                raise ValueError(f"An Exporter must have a string name. Given: "
                                 f"{type(exporter.name)}")
            if exporter.name in names:
                raise ValueError("`exporters` must have unique names. Such a name cannot be "
                                 f"`None`. All exporter names: {[e.name for e in exporters]}")
            names.append(exporter.name)
    except TypeError:
        raise TypeError("`exporters` must be an Exporter, an iterable of Exporter, or `None`,"
                        f" found {exporters}.") from None
    return tuple(exporters)


class EvalSpec(collections.namedtuple("EvalSpec", ["input_fn", "steps", "name", "hooks",
                                                   "exporters", "start_delay_secs",
                                                   "throttle_secs"])):
    """What to evaluate on, how often, and what to export (``tf.estimator.EvalSpec``)."""

    def __new__(cls, input_fn, steps=100, name=None, hooks=None, exporters=None,
                start_delay_secs=120, throttle_secs=600):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        # TF's EvalSpec.__new__ checks, in its order and with its messages
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be string, given: {name}")
        hooks = _validate_hooks(hooks)
        exporters = _validate_exporters(exporters)
        if start_delay_secs < 0:
            raise ValueError(f"Must specify start_delay_secs >= 0, given: {start_delay_secs}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        return super().__new__(cls, input_fn, steps, name, hooks, exporters,
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


class _NewCheckpointListenerForEvaluate(CheckpointSaverListener):
    """TF's listener of the same name (training.py): skips the save made when the session
    is created (the model is not trained yet), evaluates after a save at most every
    ``throttle_secs`` (a SecondOrStepTimer, so the first trained checkpoint is evaluated
    at once), and at ``end`` evaluates the final checkpoint unless it was just evaluated."""

    def __init__(self, evaluator, eval_throttle_secs):
        self._evaluator = evaluator
        self._eval_throttle_secs = eval_throttle_secs
        self.eval_result, self.export_results = None, None

    def begin(self):
        self._timer = SecondOrStepTimer(every_secs=self._eval_throttle_secs)
        self._is_first_run = True

    def after_save(self, session, global_step_value):
        if self._is_first_run:
            self._is_first_run = False
            return False
        if self._timer.should_trigger_for_step(global_step_value):
            self._evaluate(global_step_value)
        else:
            log.info("Skip the current checkpoint eval due to throttle secs (%s secs).",
                     self._eval_throttle_secs)
        return False

    def end(self, session, global_step_value):
        if global_step_value != self._timer.last_triggered_step():
            self._evaluate(global_step_value)

    def _evaluate(self, global_step_value):
        self._timer.update_last_triggered_step(global_step_value)
        self.eval_result, self.export_results = self._evaluator.evaluate_and_export()


class _Evaluator:
    """TF's ``_TrainingExecutor._Evaluator``: evaluates the newest checkpoint (once per
    checkpoint) and calls every exporter; ``is_the_final_export`` is
    ``global_step >= max_steps`` (False without max_steps)."""

    def __init__(self, estimator, eval_spec, max_training_steps):
        self._est, self._spec = estimator, eval_spec
        self._max_training_steps = max_training_steps
        self._previous_ckpt_path = None

    def evaluate_and_export(self):
        ckpt = self._est.latest_checkpoint()
        if not ckpt:
            log.warning("Estimator is not trained yet. Will start an evaluation when a "
                        "checkpoint is ready.")
            return None, []
        if ckpt == self._previous_ckpt_path:
            log.warning("No new checkpoint ready for evaluation. Skip the current evaluation "
                        "pass as evaluation results are expected to be same for the same "
                        "checkpoint.")
            return None, []
        metrics = self._est.evaluate(self._spec.input_fn, steps=self._spec.steps,
                                     hooks=list(self._spec.hooks), checkpoint_path=ckpt,
                                     name=self._spec.name)
        is_final = (metrics["global_step"] >= self._max_training_steps
                    if self._max_training_steps else False)
        base = os.path.join(self._est.model_dir, "export")
        exports = [exporter.export(self._est, os.path.join(base, exporter.name), ckpt,
                                   metrics, is_final)
                   for exporter in self._spec.exporters]
        self._previous_ckpt_path = ckpt
        return metrics, exports


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains, evaluating after checkpoints (at most every ``throttle_secs``) and once at the
    end, exporting after evaluations (``tf.estimator.train_and_evaluate``, local mode).

    Evaluation hangs off checkpoint saves (TF's ``run_local``), so it needs
    ``save_checkpoints_steps`` or ``save_checkpoints_secs``.

    Returns:
        ``(eval_result, export_results)`` of the last evaluation: the metrics dict and one
        entry per exporter (None where an exporter did not export), or ``(None, None)``
        when nothing was evaluated.
    """
    # TF checks eval_spec first (_assert_eval_spec); eagerflow's own tests pin train_spec
    # first. Both are TypeErrors with TF's messages.
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: "
                        f"{type(train_spec)}")
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: "
                        f"{type(eval_spec)}")
    config = estimator.config
    if config.task_type == "evaluator" and config.task_id > 0:
        raise ValueError("For distributed training, there can only be one `evaluator` task "
                         f"(with task id 0).  Given task id {config.task_id}")
    log.info("Start train and evaluate loop. The evaluate will happen after every "
             "checkpoint. Checkpoint frequency is determined based on RunConfig arguments: "
             "save_checkpoints_steps %s or save_checkpoints_secs %s.",
             config.save_checkpoints_steps, config.save_checkpoints_secs)
    evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
    listener = _NewCheckpointListenerForEvaluate(evaluator, eval_spec.throttle_secs)
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks),
                    max_steps=train_spec.max_steps,
                    saving_listeners=list(train_spec.saving_listeners) + [listener])
    return listener.eval_result, listener.export_results
