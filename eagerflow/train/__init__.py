"""``tf.train``'s optimizer half: optimizers, learning-rate schedules, gradient clipping and
the global step. (Checkpoints, Saver and hooks live in their own modules.)

Example:
    >>> import eagerflow as ef
    >>> import eagerflow.train as train
    >>> w = ef.Variable([3.0], name="w_train_doc")
    >>> _ = train.MomentumOptimizer(0.1, 0.9).minimize(lambda: ef.reduce_sum(w * w),
    ...                                                 var_list=[w])
    >>> round(float(w.numpy()[0]), 4)
    2.4
"""
from . import clipping, optimizer, optimizers, schedules
from .clipping import (clip_by_average_norm, clip_by_global_norm, clip_by_norm, clip_by_value,
                       global_norm)
from .global_step import (assert_global_step, create_global_step, get_global_step,
                          get_or_create_global_step, global_step)
from .optimizer import Optimizer, TrainOp
from .optimizers import (AdadeltaOptimizer, AdagradDAOptimizer, AdagradOptimizer,
                         AdamOptimizer, FtrlOptimizer, GradientDescentOptimizer,
                         LazyAdamOptimizer, MomentumOptimizer, ProximalAdagradOptimizer,
                         ProximalGradientDescentOptimizer, RMSPropOptimizer)
from .schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay,
                        LearningRateSchedule, LinearCosineDecay, LinearWarmup,
                        NaturalExpDecay, NoisyLinearCosineDecay, PiecewiseConstantDecay,
                        PolynomialDecay, cosine_decay, cosine_decay_restarts,
                        exponential_decay, inverse_time_decay, linear_cosine_decay,
                        linear_warmup, natural_exp_decay, noisy_linear_cosine_decay,
                        piecewise_constant, piecewise_constant_decay, polynomial_decay)

__all__ = [
    "clipping", "optimizer", "optimizers", "schedules", "clip_by_global_norm",
    "clip_by_norm", "clip_by_value", "clip_by_average_norm", "global_norm", "assert_global_step",
    "create_global_step", "get_global_step", "get_or_create_global_step", "global_step",
    "Optimizer", "TrainOp", "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
    "FtrlOptimizer", "GradientDescentOptimizer", "LazyAdamOptimizer", "MomentumOptimizer",
    "ProximalAdagradOptimizer", "RMSPropOptimizer", "ProximalGradientDescentOptimizer",
    "AdagradDAOptimizer", "LinearCosineDecay", "NoisyLinearCosineDecay",
    "linear_cosine_decay", "noisy_linear_cosine_decay", "piecewise_constant_decay",
    "CosineDecay", "CosineDecayRestarts",
    "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule", "LinearWarmup",
    "NaturalExpDecay", "PiecewiseConstantDecay", "PolynomialDecay", "cosine_decay",
    "cosine_decay_restarts", "exponential_decay", "inverse_time_decay", "linear_warmup",
    "natural_exp_decay", "piecewise_constant", "polynomial_decay",
]

# --- the rest of tf.train: checkpoints, hooks, protos and the TF1 session loop ---------------
from . import restore, saver  # noqa: E402
from .restore import WarmStartSettings, init_from_checkpoint  # noqa: E402
from ..io import (BytesList, Example, Feature, FeatureList, FeatureLists, Features,  # noqa: E402
                  FloatList, Int64List, SequenceExample)
from .basic_session_run_hooks import (CheckpointSaverHook, CheckpointSaverListener,  # noqa: E402
                                      FeedFnHook, FinalOpsHook, GlobalStepWaiterHook,
                                      LoggingTensorHook, NanLossDuringTrainingError,
                                      NanTensorHook, ProfilerHook, SecondOrStepTimer,
                                      StepCounterHook, StopAtStepHook)
from .checkpoint_state import (CheckpointState, get_checkpoint_state,  # noqa: E402
                               latest_checkpoint, update_checkpoint_state)
from .saver import (CheckpointReader, NewCheckpointReader, Saver,  # noqa: E402
                    checkpoint_exists, list_variables, load_checkpoint, load_variable)
from .session_run_hook import (SessionRunArgs, SessionRunContext, SessionRunHook,  # noqa: E402
                               SessionRunValues)

# Names whose implementation lives in packages above train (the session loop needs summaries
# and the Estimator's machinery; the input helpers need data; write_graph needs the tracer):
# resolved on first use so that importing train stays one-way.
_LATER = {
    "MonitoredTrainingSession": "eagerflow.estimator.monitored_session",
    "MonitoredSession": "eagerflow.estimator.monitored_session",
    "SingularMonitoredSession": "eagerflow.estimator.monitored_session",
    "ChiefSessionCreator": "eagerflow.estimator.monitored_session",
    "Scaffold": "eagerflow.estimator.monitored_session",
    "Supervisor": "eagerflow.estimator.monitored_session",
    "basic_train_loop": "eagerflow.estimator.monitored_session",
    "SummarySaverHook": "eagerflow.summary",
    "string_input_producer": "eagerflow.data.legacy_input",
    "match_filenames_once": "eagerflow.data.legacy_input",
    "batch": "eagerflow.data.legacy_input",
    "shuffle_batch": "eagerflow.data.legacy_input",
    "write_graph": "eagerflow.saved_model.graph_io",
    "summary_iterator": "eagerflow.summary",
    "SyncReplicasOptimizer": "eagerflow.distribute.optimizer",
}


def __getattr__(name):
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module 'eagerflow.train' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ += [
    "restore", "saver", "WarmStartSettings", "init_from_checkpoint", "BytesList", "Example", "Feature", "FeatureList", "FeatureLists",
    "Features", "FloatList", "Int64List", "SequenceExample", "CheckpointSaverHook",
    "CheckpointSaverListener", "FeedFnHook", "FinalOpsHook", "GlobalStepWaiterHook",
    "LoggingTensorHook", "ProfilerHook",
    "NanLossDuringTrainingError", "NanTensorHook", "SecondOrStepTimer", "StepCounterHook",
    "StopAtStepHook", "CheckpointState", "get_checkpoint_state", "latest_checkpoint",
    "update_checkpoint_state", "CheckpointReader", "NewCheckpointReader", "Saver",
    "checkpoint_exists", "list_variables", "load_checkpoint", "load_variable",
    "SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues",
]
__all__ += list(_LATER)
