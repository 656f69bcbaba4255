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
from .clipping import clip_by_global_norm, clip_by_norm, clip_by_value, global_norm
from .global_step import (assert_global_step, create_global_step, get_global_step,
                          get_or_create_global_step, global_step)
from .optimizer import Optimizer, TrainOp
from .optimizers import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,
                         FtrlOptimizer, GradientDescentOptimizer, LazyAdamOptimizer,
                         MomentumOptimizer, ProximalAdagradOptimizer, RMSPropOptimizer)
from .schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay,
                        LearningRateSchedule, LinearWarmup, NaturalExpDecay,
                        PiecewiseConstantDecay, PolynomialDecay, cosine_decay,
                        cosine_decay_restarts, exponential_decay, inverse_time_decay,
                        linear_warmup, natural_exp_decay, piecewise_constant,
                        polynomial_decay)

__all__ = [
    "clipping", "optimizer", "optimizers", "schedules", "clip_by_global_norm",
    "clip_by_norm", "clip_by_value", "global_norm", "assert_global_step",
    "create_global_step", "get_global_step", "get_or_create_global_step", "global_step",
    "Optimizer", "TrainOp", "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
    "FtrlOptimizer", "GradientDescentOptimizer", "LazyAdamOptimizer", "MomentumOptimizer",
    "ProximalAdagradOptimizer", "RMSPropOptimizer", "CosineDecay", "CosineDecayRestarts",
    "ExponentialDecay", "InverseTimeDecay", "LearningRateSchedule", "LinearWarmup",
    "NaturalExpDecay", "PiecewiseConstantDecay", "PolynomialDecay", "cosine_decay",
    "cosine_decay_restarts", "exponential_decay", "inverse_time_decay", "linear_warmup",
    "natural_exp_decay", "piecewise_constant", "polynomial_decay",
]
