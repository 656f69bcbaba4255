"""Learning-rate schedules: functions of the global step (TF1 ``tf.train.*_decay``).

Each TF1 function (``exponential_decay(learning_rate, global_step, ...)``) returns a
zero-argument callable, as TF1 does under eager execution; optimizers call it each step.
The schedule classes (``ExponentialDecay(...)(step)``) are TF2's form. Both compute on the
step's device, so reading the rate never synchronises the GPU.

Example:
    >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    >>> round(float(s(25)), 6)
    0.025
"""
import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor, _wrap
from ..backend import random as _random

__all__ = [
    "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
    "CosineDecay", "CosineDecayRestarts", "InverseTimeDecay", "NaturalExpDecay",
    "LinearCosineDecay", "NoisyLinearCosineDecay", "LinearWarmup", "exponential_decay",
    "piecewise_constant", "piecewise_constant_decay", "polynomial_decay", "cosine_decay",
    "cosine_decay_restarts", "inverse_time_decay", "natural_exp_decay",
    "linear_cosine_decay", "noisy_linear_cosine_decay", "linear_warmup",
]


def _step(step):
    """(xp, float64 array) of ``step`` (an int, a Tensor or a Variable)."""
    if isinstance(step, Tensor):
        a = step._data
        xp = backend.array_module(a)
        return xp, a.astype(np.float64)
    if step is None:
        raise ValueError("a learning-rate schedule needs a global step")
    return np, np.asarray(float(step))


def _out(xp, value):
    return _wrap(xp.asarray(value, dtype=np.float32))


class LearningRateSchedule:
    """Base class: ``schedule(step) -> scalar float32 Tensor``."""

    def __call__(self, step):
        xp, s = _step(step)
        return _out(xp, self._value(xp, s))

    def _value(self, xp, s):
        raise NotImplementedError


def _check_positive(value, what):
    if not value > 0:
        raise ValueError(f"{what} must be positive, got {value}")


class ExponentialDecay(LearningRateSchedule):
    """``lr * decay_rate ** (step / decay_steps)`` (floored exponent when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        _check_positive(decay_steps, "decay_steps")
        self.lr, self.decay_steps, self.rate, self.staircase = (
            initial_learning_rate, decay_steps, decay_rate, staircase)

    def _value(self, xp, s):
        p = s / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return self.lr * xp.power(self.rate, p)


class NaturalExpDecay(ExponentialDecay):
    """``lr * exp(-decay_rate * step / decay_steps)``."""

    def _value(self, xp, s):
        p = s / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return self.lr * xp.exp(-self.rate * p)


class InverseTimeDecay(ExponentialDecay):
    """``lr / (1 + decay_rate * step / decay_steps)``."""

    def _value(self, xp, s):
        p = s / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return self.lr / (1.0 + self.rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]`` (TF's intervals)."""

    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"piecewise_constant: values must have one more element than "
                             f"boundaries, got {len(values)} values for {len(boundaries)} "
                             "boundaries")
        if any(b >= a for a, b in zip(boundaries[1:], boundaries[:-1])):
            raise ValueError(f"piecewise_constant: boundaries must increase, got {boundaries}")
        self.boundaries, self.values = list(boundaries), list(values)

    def _value(self, xp, s):
        out = xp.asarray(self.values[-1], dtype=np.float64)
        for b, v in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = xp.where(s <= b, v, out)
        return out


class PolynomialDecay(LearningRateSchedule):
    """``(lr - end) * (1 - step / decay_steps) ** power + end`` (TF1's cycle rule)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False):
        _check_positive(decay_steps, "decay_steps")
        self.lr, self.decay_steps, self.end = initial_learning_rate, decay_steps, end_learning_rate
        self.power, self.cycle = power, cycle

    def _value(self, xp, s):
        if self.cycle:
            mult = xp.where(s == 0, 1.0, xp.ceil(s / self.decay_steps))
            steps = self.decay_steps * mult
        else:
            steps = self.decay_steps
            s = xp.minimum(s, self.decay_steps)
        return (self.lr - self.end) * xp.power(1.0 - s / steps, self.power) + self.end


class CosineDecay(LearningRateSchedule):
    """``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, T) / T)) + alpha)``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        _check_positive(decay_steps, "decay_steps")
        self.lr, self.decay_steps, self.alpha = initial_learning_rate, decay_steps, alpha

    def _value(self, xp, s):
        s = xp.minimum(s, self.decay_steps)
        cosine = 0.5 * (1.0 + xp.cos(math.pi * s / self.decay_steps))
        return self.lr * ((1 - self.alpha) * cosine + self.alpha)


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay restarting after ``first_decay_steps * t_mul ** i`` steps."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0):
        _check_positive(first_decay_steps, "first_decay_steps")
        self.lr, self.first = initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha = t_mul, m_mul, alpha

    def _value(self, xp, s):
        frac = s / self.first
        if self.t_mul == 1.0:
            i = xp.floor(frac)
            frac = frac - i
        else:
            i = xp.floor(xp.log(1.0 - frac * (1.0 - self.t_mul)) / math.log(self.t_mul))
            sum_r = (1.0 - xp.power(self.t_mul, i)) / (1.0 - self.t_mul)
            frac = (frac - sum_r) / xp.power(self.t_mul, i)
        cosine = 0.5 * xp.power(self.m_mul, i) * (1.0 + xp.cos(math.pi * frac))
        return self.lr * ((1 - self.alpha) * cosine + self.alpha)


class LinearCosineDecay(LearningRateSchedule):
    """TF's ``LinearCosineDecay`` (``tf.train.linear_cosine_decay``)::

        s = min(step, decay_steps)
        linear = (decay_steps - s) / decay_steps
        cosine = 0.5 * (1 + cos(pi * 2 * num_periods * s / decay_steps))
        lr * ((alpha + linear) * cosine + beta)
    """

    def __init__(self, initial_learning_rate, decay_steps, num_periods=0.5, alpha=0.0,
                 beta=0.001):
        _check_positive(decay_steps, "decay_steps")
        self.lr, self.decay_steps, self.num_periods = (initial_learning_rate, decay_steps,
                                                       num_periods)
        self.alpha, self.beta = alpha, beta

    def _linear(self, xp, s):
        return (self.decay_steps - s) / self.decay_steps

    def _value(self, xp, s):
        s = xp.minimum(s, self.decay_steps)
        linear = self._linear(xp, s)
        fraction = 2.0 * self.num_periods * (s / self.decay_steps)
        cosine = 0.5 * (1.0 + xp.cos(math.pi * fraction))
        return self.lr * ((self.alpha + linear) * cosine + self.beta)


class NoisyLinearCosineDecay(LinearCosineDecay):
    """:class:`LinearCosineDecay` whose linear part gets Gaussian noise of variance
    ``initial_variance / (1 + min(step, decay_steps)) ** variance_decay`` (TF's
    ``NoisyLinearCosineDecay``; a fresh draw at every call, from the seeded generators of
    :mod:`eagerflow.backend.random`)."""

    def __init__(self, initial_learning_rate, decay_steps, initial_variance=1.0,
                 variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001):
        super().__init__(initial_learning_rate, decay_steps, num_periods, alpha, beta)
        self.initial_variance, self.variance_decay = initial_variance, variance_decay

    def _linear(self, xp, s):
        variance = self.initial_variance / xp.power(1.0 + s, self.variance_decay)
        gen = _random.generator(backend="numpy" if xp is np else None)
        noise = xp.asarray(gen.normal((), np.dtype(np.float64)))
        return super()._linear(xp, s) + noise * xp.sqrt(variance)


class LinearWarmup(LearningRateSchedule):
    """Linear ramp from ``warmup_learning_rate`` to ``after(warmup_steps)``, then ``after``.

    Args:
        after_warmup: a schedule or a float.
        warmup_steps: length of the ramp.
        warmup_learning_rate: the rate at step 0.
    """

    def __init__(self, after_warmup, warmup_steps, warmup_learning_rate=0.0):
        _check_positive(warmup_steps, "warmup_steps")
        self.after, self.warmup_steps, self.start = after_warmup, warmup_steps, warmup_learning_rate

    def _after(self, xp, s):
        if isinstance(self.after, LearningRateSchedule):
            return self.after._value(xp, s)
        return xp.asarray(float(self.after))

    def _value(self, xp, s):
        target = self._after(xp, xp.asarray(float(self.warmup_steps)))
        ramp = self.start + s / self.warmup_steps * (target - self.start)
        return xp.where(s < self.warmup_steps, ramp, self._after(xp, s))


class _Bound:
    """A schedule bound to a global step: a zero-argument callable (TF1 eager form)."""

    def __init__(self, schedule, global_step):
        if global_step is None:
            raise ValueError("global_step is required for a decay schedule")
        self.schedule, self.global_step = schedule, global_step

    def __call__(self):
        return self.schedule(self.global_step)

    def __float__(self):
        return float(self().numpy())


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``tf.train.exponential_decay``: a callable returning the decayed rate."""
    return _Bound(ExponentialDecay(learning_rate, decay_steps, decay_rate, staircase),
                  global_step)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    return _Bound(NaturalExpDecay(learning_rate, decay_steps, decay_rate, staircase),
                  global_step)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    return _Bound(InverseTimeDecay(learning_rate, decay_steps, decay_rate, staircase),
                  global_step)


def piecewise_constant(x, boundaries, values, name=None):
    """``tf.train.piecewise_constant(x, boundaries, values)``."""
    return _Bound(PiecewiseConstantDecay(boundaries, values), x)


def piecewise_constant_decay(x, boundaries, values, name=None):
    """``tf.compat.v1.train.piecewise_constant_decay`` (the same as :func:`piecewise_constant`)."""
    return piecewise_constant(x, boundaries, values, name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    return _Bound(PolynomialDecay(learning_rate, decay_steps, end_learning_rate, power, cycle),
                  global_step)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    return _Bound(CosineDecay(learning_rate, decay_steps, alpha), global_step)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0, name=None):
    return _Bound(CosineDecayRestarts(learning_rate, first_decay_steps, t_mul, m_mul, alpha),
                  global_step)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0,
                        beta=0.001, name=None):
    """``tf.train.linear_cosine_decay``: a callable returning the decayed rate."""
    return _Bound(LinearCosineDecay(learning_rate, decay_steps, num_periods, alpha, beta),
                  global_step)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0,
                              variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
                              name=None):
    """``tf.train.noisy_linear_cosine_decay``: a callable returning the decayed rate."""
    return _Bound(NoisyLinearCosineDecay(learning_rate, decay_steps, initial_variance,
                                         variance_decay, num_periods, alpha, beta),
                  global_step)


def linear_warmup(learning_rate, global_step, warmup_steps, warmup_learning_rate=0.0):
    """Wraps a rate or a schedule (or a bound TF1 schedule) with a linear warmup."""
    if isinstance(learning_rate, _Bound):
        learning_rate = learning_rate.schedule
    return _Bound(LinearWarmup(learning_rate, warmup_steps, warmup_learning_rate), global_step)
