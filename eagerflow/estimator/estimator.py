"""``Estimator``: TF1's train / evaluate / predict contract, with ``model_fn`` run eagerly.

Each call builds a fresh :class:`~eagerflow.variables.VariableStore` (TF built a fresh
graph). Variables are created lazily by ``model_fn``; a variable whose name is in the
checkpoint being resumed is initialised from it the moment it is created (deferred
restoration), so resuming needs no graph. Training first runs one *build pass* on the first
batch: it creates every variable and optimizer slot, after which all of them are set back to
their initial (or restored) values, the hooks see a fully built model
(``after_create_session``, checkpoint ``model.ckpt-<step>``), and real steps begin.

Every training checkpoint also carries the input pipeline's position and the seeded random
generators' positions (:mod:`.input_position`), so a run killed at any moment and started
again continues exactly as the uninterrupted run would; a ``train()`` call that returns
normally drops that position, so the next call starts ``input_fn`` afresh as in TF.

Example:
    >>> import numpy as np, eagerflow as ef
    >>> from eagerflow import estimator as est
    >>> def model_fn(features, labels, mode):
    ...     w = ef.get_variable("w", [1, 1], initializer=ef.zeros_initializer())
    ...     pred = features["x"] @ w
    ...     loss = ef.reduce_mean(ef.square(pred - labels))
    ...     opt = ef.train.GradientDescentOptimizer(0.1)
    ...     train_op = opt.minimize(loss, global_step=ef.train.get_global_step())
    ...     return est.EstimatorSpec(mode, predictions=pred, loss=loss, train_op=train_op)
    >>> x = np.ones((4, 1), np.float32); y = 2 * x
    >>> e = est.Estimator(model_fn)
    >>> _ = e.train(lambda: ({"x": x}, y), steps=50)
    >>> round(float(e.get_variable_value("w")[0, 0]), 2)
    2.0
"""
import contextlib
import logging
import os
import tempfile

import numpy as np

from .. import backend, kernels
from ..autograd.tape import GradientTape, no_grad
from ..autograd.tensor import Tensor
from ..autograd.variable import Variable
from ..backend import random as _random
from ..train.basic_session_run_hooks import (CheckpointSaverHook, LoggingTensorHook,
                                             NanTensorHook, StepCounterHook, StopAtStepHook,
                                             _CheckLossBeforeSave)
from ..train.checkpoint_state import get_checkpoint_state, latest_checkpoint
from ..train.global_step import get_or_create_global_step
from ..train.restore import RestoreOnCreate, Snapshots, WarmStartSettings
from ..train.saver import Saver, discard_extra_state, load_checkpoint
from ..train.session_run_hook import HookRunner, SessionRunHook
from ..summary import FileWriterCache, SummarySaverHook
from ..variables.store import VariableStore, get_default_store
from .input_position import STATE_NAME, open_position, restore_random
from .inputs import batches, call_input_fn
from .model_fn import ModeKeys, call_model_fn, model_fn_args
from .run_config import RunConfig

__all__ = ["Estimator", "WarmStartSettings"]

log = logging.getLogger("eagerflow")


class _EstimatorStore(VariableStore):
    """A fresh store whose variables are restored from ``checkpoint`` (or warm-started) as
    ``model_fn`` creates them, and whose build pass can be rolled back."""

    def __init__(self, checkpoint=None, warm_start=None):
        super().__init__()
        RestoreOnCreate(self, checkpoint, warm_start).attach()
        self._snapshots = None

    def start_snapshots(self):
        self._snapshots = Snapshots(self)

    def roll_back(self):
        self._snapshots.roll_back()
        self._snapshots = None


class Estimator:
    """Trains, evaluates and predicts with a ``model_fn`` (``tf.estimator.Estimator``).

    Args:
        model_fn: ``model_fn(features, labels, mode, params, config)`` returning an
            :class:`EstimatorSpec`; each argument but ``features`` is optional and passed by
            name.
        model_dir: where checkpoints go; a temporary directory when None (logged).
        config: a :class:`RunConfig`.
        params: a dict passed to ``model_fn`` (and ``input_fn``) as is.
        warm_start_from: a checkpoint path/directory or :class:`WarmStartSettings`.
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        if not callable(model_fn):
            raise TypeError(f"model_fn must be callable, got {type(model_fn).__name__}")
        model_fn_args(model_fn)  # validates the signature now, as TF does
        if config is not None and not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of RunConfig, got {type(config)}")
        config = config or RunConfig()
        if model_dir is not None and config.model_dir is not None and \
                os.path.abspath(model_dir) != os.path.abspath(config.model_dir):
            raise ValueError(f"model_dir are set both in constructor and RunConfig, but with "
                             f"different values. In constructor: '{model_dir}', in "
                             f"RunConfig: '{config.model_dir}' ")
        model_dir = model_dir or config.model_dir
        if model_dir is None:
            model_dir = tempfile.mkdtemp(prefix="eagerflow-model-")
            log.warning("Using temporary folder as model directory: %s", model_dir)
        self._model_dir = os.fspath(model_dir)
        self._config = config.replace(model_dir=self._model_dir)
        self._model_fn = model_fn
        self._params = dict(params or {})
        if isinstance(warm_start_from, (str, os.PathLike)):
            warm_start_from = WarmStartSettings(os.fspath(warm_start_from))
        self._warm_start = warm_start_from

    # --- properties ------------------------------------------------------------------------
    @property
    def model_dir(self):
        return self._model_dir

    @property
    def config(self):
        return self._config

    @property
    def params(self):
        return dict(self._params)

    @property
    def model_fn(self):
        return self._model_fn

    # --- checkpoints -------------------------------------------------------------------------
    def latest_checkpoint(self):
        """The newest checkpoint prefix in ``model_dir``, or None."""
        return latest_checkpoint(self._model_dir)

    def _reader(self):
        ckpt = self.latest_checkpoint()
        if ckpt is None:
            raise ValueError(f"Couldn't find trained model at {self._model_dir}.")
        return load_checkpoint(ckpt)

    def get_variable_names(self):
        """Names of all variables in the newest checkpoint."""
        return sorted(self._reader().get_variable_to_shape_map())

    def get_variable_value(self, name):
        """The NumPy value of variable ``name`` in the newest checkpoint."""
        return self._reader().get_tensor(name)

    # --- shared plumbing ---------------------------------------------------------------------
    def _call(self, features, labels, mode):
        # re-entering the store resets its unique-scope counters: every step's model_fn
        # call gets the same variable names (input_layer/..., not input_layer_1/...)
        with get_default_store().as_default():
            return call_model_fn(self._model_fn, features, labels, mode, self._params,
                                 self._config)

    def _seed(self):
        if self._config.tf_random_seed is not None:
            _random.set_seed(self._config.tf_random_seed)

    # --- train ---------------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Trains until the input ends, ``steps`` more steps, or global step ``max_steps``.

        Each checkpoint written while training also holds the input's position, so after
        a crash ``train(input_fn, max_steps=N)`` called again continues the data stream
        exactly and reaches the uninterrupted run's variables; when ``train`` returns
        normally the position is dropped and the next call starts ``input_fn`` afresh
        (TF's semantics). See :mod:`eagerflow.estimator.input_position`.

        Returns:
            self, for chaining.

        Raises:
            ValueError: for both ``steps`` and ``max_steps``, or a non-positive value.
            NanLossDuringTrainingError: when the loss becomes NaN.
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        hooks = list(hooks or [])
        for h in hooks:
            if not isinstance(h, SessionRunHook):
                raise TypeError(f"hooks must be SessionRunHook instances, got {type(h).__name__}")
        strategy = self._config.train_distribute
        if strategy is not None:
            # the chief may still be writing the previous call's final checkpoint: every
            # worker must pick the same one to resume from (and agree to skip, below)
            strategy.barrier()
        ckpt = self.latest_checkpoint()
        if max_steps is not None and ckpt is not None:
            done = _checkpoint_step(ckpt)
            if done is not None and done >= max_steps:
                log.info("Skipping training since max_steps has already saved.")
                return self
        self._seed()
        # only the chief saves an input position, and it is its own shard's: other workers
        # (and any run of several workers) read their input from the beginning
        saved = load_checkpoint(ckpt).get_extra_state(STATE_NAME) \
            if ckpt and (strategy is None or strategy.num_workers == 1) else None
        store = _EstimatorStore(ckpt, self._warm_start if ckpt is None else None)
        with store.as_default():
            store.start_snapshots()
            gstep = get_or_create_global_step()
            position, resumed = open_position(
                lambda: call_input_fn(input_fn, ModeKeys.TRAIN, self._params, self._config,
                                      strategy), saved)
            try:
                first = position.next(hold=True)
                if first is None:
                    log.warning("input_fn produced no data; nothing to train")
                    return self

                run_hooks, aliases = [], {}  # the first call's training_hooks: the runner's

                def step(batch):
                    features, labels = batch
                    with GradientTape():
                        spec = self._call(features, labels, ModeKeys.TRAIN)
                    rebind_hook_tensors(run_hooks, spec.training_hooks, aliases)
                    return spec

                # build pass: create (and restore) every variable and slot, then roll back
                spec = step(first)
                run_hooks.extend(spec.training_hooks)
                store.roll_back()
                if strategy is not None:  # every replica starts from the chief's values
                    strategy.broadcast_variables(store.variables())
                if resumed:  # after the build pass, whose initialisers drew from the generators
                    restore_random(saved)
                log.info("Model built: %d variables; starting at global step %d",
                         len(store.variables()), int(gstep.numpy()))
                runner = HookRunner(self._training_hooks(hooks, spec, steps, max_steps,
                                                         saving_listeners, position))
                runner.session.aliases = aliases
                runner.begin()
                runner.after_create_session()
                pending = first
                replicated = strategy.scope() if strategy is not None else contextlib.nullcontext()
                with replicated:
                    self._train_loop(runner, position, pending, self._step_fn(step, strategy),
                                     gstep, strategy, self._config.log_step_count_steps or 100)
                kernels.check_errors()
                runner.end()
                self._close_input_position()
            finally:
                position.close()
            log.info("Loss for final step: %s.", _loss_text(runner.session.named.get("loss")))
        return self

    @staticmethod
    def _train_loop(runner, position, pending, step, gstep, strategy, check_every):
        """Runs steps until a hook stops or the input ends. Errors GPU kernels recorded
        (an id out of range) are raised every ``check_every`` steps, a sync point the
        logging hooks have anyway."""
        done = 0
        while not runner.should_stop():
            batch = pending if pending is not None else position.next()
            pending = None
            position.release()
            # shards may hold unequal numbers of batches: stop when any worker runs out
            if strategy is not None and not strategy.all_true(batch is not None):
                break
            if batch is None:
                break

            def publish(batch=batch):
                # TF logs the step a batch trains as: the global step read before the
                # train_op's increment ("loss = ..., step = 0" first); the host copy, no sync
                before = gstep._host_value()
                return {"loss": step(*batch), "global_step": gstep, "global_step_read": before}
            runner.run_step(publish)
            done += 1
            if done % check_every == 0:
                kernels.check_errors()

    def _step_fn(self, step, strategy):
        """``(features, labels) -> loss`` of one training step: with
        ``RunConfig(capture_step=True)`` an ``ef.function``, so that on the GPU the step
        (model_fn, gradients, optimizer) replays as one CUDA graph after two eager steps."""
        def loss_of(features, labels):
            return step((features, labels)).loss
        if not self._config.capture_step:
            return loss_of
        if strategy is not None:
            log.warning("capture_step is ignored under a distribution strategy (its "
                        "all-reduce runs on the host); training eagerly")
            return loss_of
        from ..saved_model.function import function
        return function(loss_of)

    def _close_input_position(self):
        # a normal return: the next train() call starts input_fn afresh (TF's semantics),
        # so the newest checkpoint must not look like a crashed run's
        ckpt = self.latest_checkpoint()
        if ckpt is not None and self._config.is_chief:
            discard_extra_state(ckpt, STATE_NAME)

    def _training_hooks(self, hooks, spec, steps, max_steps, saving_listeners, position):
        cfg = self._config
        # On a GPU each step's loss reaches the host while later steps run (a read every
        # step would make the host wait for every step); the hook comes first, so that its
        # check before a save covers the step being saved
        nan_hook = NanTensorHook("loss", max_lag_steps=2)
        out = [nan_hook]
        if not cfg.is_chief:  # other workers write no checkpoints, summaries or logs
            out += hooks
            if steps is not None or max_steps is not None:
                out.append(StopAtStepHook(num_steps=steps, last_step=max_steps))
            return out + list(spec.training_hooks)
        if cfg.save_checkpoints_steps or cfg.save_checkpoints_secs:
            saver = Saver(max_to_keep=cfg.keep_checkpoint_max,
                          keep_checkpoint_every_n_hours=cfg.keep_checkpoint_every_n_hours,
                          extra_states={STATE_NAME: position.state})
            state = get_checkpoint_state(self._model_dir)
            if state is not None:  # a resumed run rotates the earlier runs' checkpoints too
                saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
            listeners = [_CheckLossBeforeSave(nan_hook)] + list(saving_listeners or [])
            out.append(CheckpointSaverHook(self._model_dir,
                                           save_secs=cfg.save_checkpoints_secs,
                                           save_steps=cfg.save_checkpoints_steps, saver=saver,
                                           listeners=listeners))
        out += list(spec.training_chief_hooks)
        writer = FileWriterCache.get(self._model_dir)
        if cfg.log_step_count_steps:
            out.append(StepCounterHook(every_n_steps=cfg.log_step_count_steps,
                                       summary_writer=writer))
        if cfg.save_summary_steps:
            out.append(SummarySaverHook(save_steps=cfg.save_summary_steps,
                                        summary_writer=writer, summary_op={"loss": "loss"}))
        out += hooks
        if steps is not None or max_steps is not None:
            out.append(StopAtStepHook(num_steps=steps, last_step=max_steps))
        if cfg.log_step_count_steps:
            out.append(LoggingTensorHook({"loss": "loss", "step": "global_step_read"},
                                         every_n_iter=cfg.log_step_count_steps))
        out += list(spec.training_hooks)
        return out

    # --- evaluate ------------------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """Evaluates on ``steps`` batches (or the whole input) and returns the metrics.

        Returns:
            dict with every ``eval_metric_ops`` value, ``loss`` (mean of the batch losses)
            and ``global_step``.
        """
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        ckpt = checkpoint_path or self.latest_checkpoint()
        if ckpt is None:
            log.info("Could not find trained model in model_dir: %s, running initialization "
                     "to evaluate.", self._model_dir)
        self._seed()
        store = _EstimatorStore(ckpt)
        losses = []
        with store.as_default(), no_grad():
            gstep = get_or_create_global_step()
            stream = batches(call_input_fn(input_fn, ModeKeys.EVAL, self._params,
                                           self._config), ModeKeys.EVAL)
            spec = None
            for spec, named in self._hooked_batches(stream, ModeKeys.EVAL, hooks, steps,
                                                    lambda s: {"loss": s.loss,
                                                               "global_step": gstep}):
                losses.append(float(backend.to_numpy(named["loss"]._data).reshape(())))
            if spec is None:
                raise ValueError("evaluate: input_fn produced no data")
            kernels.check_errors()
            result = {}
            for key, value in spec.eval_metric_ops.items():
                if key in ("loss", "global_step"):
                    raise ValueError(f"Metric with name `{key}` is not allowed, because "
                                     "Estimator already defines a default metric with the "
                                     "same name.")
                result[key] = _metric_value(value)
            result["loss"] = np.float32(np.mean(losses))
            result["global_step"] = np.int64(gstep.numpy())  # TF: an int64 NumPy scalar
        if not self._config.is_chief:
            return result
        out_dir = os.path.join(self._model_dir, "eval" if not name else f"eval_{name}")
        writer = FileWriterCache.get(out_dir)
        for key, value in sorted(result.items()):
            if key != "global_step" and np.ndim(value) == 0:
                writer.add_scalar(key, float(value), result["global_step"])
        writer.flush()
        log.info("Saving dict for global step %d: %s", result["global_step"],
                 ", ".join(f"{k} = {v}" for k, v in sorted(result.items())))
        return result

    # --- export ----------------------------------------------------------------------------
    def export_saved_model(self, export_dir_base, serving_input_receiver_fn, assets_extra=None,
                           as_text=False, checkpoint_path=None, experimental_mode=None):
        """Exports the PREDICT-mode model as a SavedModel under
        ``<export_dir_base>/<timestamp>/``; returns that path (bytes, as TF does).

        ``experimental_mode`` may be ``None`` or ``ModeKeys.PREDICT`` (TF can also export
        TRAIN/EVAL graphs for ``tf.compat.v1`` sessions; an eager export serves predictions).

        Raises:
            ValueError: when there is no checkpoint to export.
            NotImplementedError: ``experimental_mode`` TRAIN or EVAL.
            TraceError: when ``model_fn`` computes something outside eagerflow ops.
        """
        if experimental_mode not in (None, ModeKeys.PREDICT):
            raise NotImplementedError(f"export_saved_model: experimental_mode "
                                      f"{experimental_mode!r} is not supported; eagerflow "
                                      f"exports the {ModeKeys.PREDICT!r} mode only")
        if not self._config.is_chief:
            log.info("Not the chief (worker %d): no export.", self._config.task_id)
            return None
        from .export import export_saved_model
        return export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                                  assets_extra, as_text, checkpoint_path)

    export_savedmodel = export_saved_model

    # --- predict -------------------------------------------------------------------------------
    def predict(self, input_fn, predict_keys=None, hooks=None, checkpoint_path=None,
                yield_single_examples=True):
        """Yields predictions: one dict (or array) per example, or per batch when
        ``yield_single_examples`` is False."""
        ckpt = checkpoint_path or self.latest_checkpoint()
        if ckpt is None:
            log.info("Could not find trained model in model_dir: %s, running initialization "
                     "to predict.", self._model_dir)
        self._seed()
        store = _EstimatorStore(ckpt)
        with store.as_default(), no_grad():
            get_or_create_global_step()
            stream = batches(call_input_fn(input_fn, ModeKeys.PREDICT, self._params,
                                           self._config), ModeKeys.PREDICT)
            for spec, _ in self._hooked_batches(stream, ModeKeys.PREDICT, hooks, None,
                                                lambda s: {}):
                kernels.check_errors()  # predictions are read back anyway
                preds = _select(spec.predictions, predict_keys)
                if yield_single_examples:
                    yield from _rows(preds)
                elif isinstance(preds, dict):
                    # TF yields NumPy arrays here too, never device tensors
                    yield {k: _numpy(v) for k, v in preds.items()}
                else:
                    yield _numpy(preds)

    def _hooked_batches(self, stream, mode, hooks, steps, fetches):
        """Runs ``model_fn`` on each batch of ``stream`` (at most ``steps``) under the
        ``hooks`` plus the spec's own ``evaluation_hooks`` / ``prediction_hooks``; yields
        ``(spec, fetched)``, ``fetched`` being ``fetches(spec)`` as the session returned it.

        TF builds model_fn's graph before the session starts its hooks, so the first batch's
        spec brings the spec's hooks; each later batch maps their tensors to its own, as
        training does (:func:`rebind_hook_tensors`). With no batch at all, only ``hooks``
        begin and end (TF's session ends at once on the empty input).
        """
        attr = "evaluation_hooks" if mode == ModeKeys.EVAL else "prediction_hooks"
        runner, own, aliases = None, [], {}
        for i, (features, labels) in enumerate(stream):
            if steps is not None and i >= steps:
                break
            built = None
            if runner is None:
                built = self._call(features, labels, mode)
                own = list(getattr(built, attr) or [])
                runner = self._start_hooks(list(hooks or []) + own, aliases)
            box = {}

            def publish(features=features, labels=labels, built=built):
                spec = built
                if spec is None:
                    spec = self._call(features, labels, mode)
                    rebind_hook_tensors(own, getattr(spec, attr) or [], aliases)
                box["spec"] = spec
                return fetches(spec)
            fetched = runner.run_step(publish)
            yield box["spec"], fetched
            if runner.should_stop():
                break
        if runner is None:
            runner = self._start_hooks(list(hooks or []), aliases)
        runner.end()

    @staticmethod
    def _start_hooks(hooks, aliases):
        runner = HookRunner(hooks)
        runner.session.aliases = aliases
        runner.begin()
        runner.after_create_session()
        return runner

def _checkpoint_step(prefix):
    reader = load_checkpoint(prefix)
    if reader.global_step is not None:
        return int(reader.global_step)
    if reader.has_tensor("global_step"):
        return int(np.asarray(reader.get_tensor("global_step")).reshape(()))
    return None


def _loss_text(loss):
    if loss is None:
        return "n/a"
    return f"{float(backend.to_numpy(loss._data).reshape(())):g}"


def _numpy(x):
    if isinstance(x, Tensor):
        return backend.to_numpy(x._data)
    return backend.to_numpy(x)  # a CuPy array a model_fn or metric returned (np.asarray raises)


def rebind_hook_tensors(run_hooks, new_hooks, aliases):
    """Maps the tensors the running hooks hold to this step's (``aliases``: id -> tensor).

    In TF a ``training_hooks`` hook holds graph tensors (``LoggingTensorHook({"loss":
    loss})``, ``SummarySaverHook(summary_op=...)``) that every ``session.run`` evaluates
    anew. Eagerly ``model_fn`` runs each step and returns new hooks holding that step's
    values, while the runner keeps the first call's hooks (their timers and state). So each
    Tensor a running hook's attribute holds is mapped to the tensor at the same place of the
    same attribute of the new hook of the same type; the session resolves fetches through
    the map (the hooks' requests keep naming the first call's tensors).
    """
    aliases.clear()
    if not run_hooks or new_hooks is run_hooks:
        return
    for old, new in zip(run_hooks, new_hooks):
        if old is new or type(old) is not type(new):
            continue
        fresh = vars(new)
        for key, value in vars(old).items():
            if key not in fresh:
                continue
            was, now = _step_tensors(value), _step_tensors(fresh[key])
            if was and len(was) == len(now):
                aliases.update((id(a), b) for a, b in zip(was, now))


def _step_tensors(value):
    """The Tensors (not Variables: the same variable every step) of an attribute: itself,
    or the values of a dict / items of a list or tuple, in order."""
    items = value.values() if isinstance(value, dict) else \
        value if isinstance(value, (list, tuple)) else (value,)
    return [v for v in items if isinstance(v, Tensor) and not isinstance(v, Variable)]


def _metric_value(v):
    if hasattr(v, "result") and callable(v.result):
        v = v.result()
    elif isinstance(v, tuple):
        v = v[0]
    if callable(v) and not isinstance(v, Tensor):
        v = v()
    a = _numpy(v)
    # a NumPy scalar of the metric's dtype (np.float32 for TF's metrics), as session.run gave
    return a.reshape(())[()] if a.size == 1 else a


def _select(predictions, keys):
    if keys is None:
        return predictions
    if not isinstance(predictions, dict):
        raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
    keys = [keys] if isinstance(keys, str) else list(keys)
    missing = [k for k in keys if k not in predictions]
    if missing:
        raise ValueError(f"Expected to run at least one output from {sorted(predictions)}, "
                         f"provided {missing}.")
    return {k: predictions[k] for k in keys}


def _rows(preds):
    if isinstance(preds, dict):
        arrays = {k: _numpy(v) for k, v in preds.items()}
        sizes = {k: (a.shape[0] if a.ndim else None) for k, a in arrays.items()}
        n = {s for s in sizes.values()}
        if len(n) != 1 or None in n:
            raise ValueError(f"Batch length of predictions should be same. {sizes}")
        for i in range(n.pop()):
            yield {k: a[i] for k, a in arrays.items()}
    else:
        a = _numpy(preds)
        if a.ndim == 0:
            raise ValueError("predictions must have a batch dimension to yield single examples")
        yield from a

