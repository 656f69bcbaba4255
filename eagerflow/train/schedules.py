"""Learning-rate schedules: functions of the global step (TF1 ``tf.train.*_decay``, TF2
``tf.keras.optimizers.schedules``).

Each TF1 function (``exponential_decay(learning_rate, global_step, ...)``) returns a
zero-argument callable, as TF1 does under eager execution; optimizers call it each step.
The schedule classes (``ExponentialDecay(...)(step)``) are TF2's form, with TF's argument
and attribute names, ``name`` and ``get_config``/``from_config``.

As in TF, a schedule computes in the dtype of its initial learning rate (float32 for a
Python number, float64 for a float64 tensor or NumPy value), with the step and every
hyperparameter cast to it first, so float32 rounding (a staircase's floor, a large step)
is TF's; ``PiecewiseConstantDecay`` returns its values' dtype. Everything is computed on
the step's device, so reading the rate never synchronises the GPU.

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


def _tf_dtype(value):
    """The dtype TF's ``convert_to_tensor`` gives ``value``: a tensor's or NumPy value's own,
    float32 for a Python float, int32 for a Python int, bool for a bool."""
    if isinstance(value, Tensor):
        return np.dtype(value.dtype)
    if isinstance(value, (np.ndarray, np.generic)) or backend.is_array(value):
        return np.dtype(value.dtype)
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, int):  # int64 only when int32 cannot hold it, as TF infers
        return np.dtype(np.int32 if -2 ** 31 <= value < 2 ** 31 else np.int64)
    if isinstance(value, float):
        return np.dtype(np.float32)
    return np.asarray(value).dtype


def _float_dtype(value):
    """A schedule's compute dtype: that of its initial learning rate when floating, else
    float32."""
    dt = _tf_dtype(value)
    return dt if dt.kind == "f" else np.dtype(np.float32)


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


def _step(step):
    """(xp, array) of ``step`` in its own dtype (an int, a Tensor or a Variable). A host
    number goes to the current backend, where the variables the rate updates are (an
    optimizer without a global step passes its own step count)."""
    if step is None:
        raise ValueError("a learning-rate schedule needs a global step")
    if isinstance(step, Tensor):
        a = step._data
        return backend.array_module(a), a
    a = _raw(step)
    if backend.is_array(a):
        return backend.array_module(a), a
    xp = backend.xp()
    return xp, xp.asarray(np.asarray(step, dtype=_tf_dtype(step)))


def _c(xp, value, dtype):
    """``math_ops.cast(value, dtype)`` on ``xp``. A Python or NumPy number becomes a NumPy
    scalar of ``dtype``, which the device kernels take as an argument: the rate is computed
    in every training step, and an array made from a number would be a host-to-device
    copy each time."""
    value = _raw(value)
    if isinstance(value, (bool, int, float, np.generic)):
        return np.dtype(dtype).type(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.astype(dtype)[()]
    return xp.asarray(value, dtype=dtype)


def _check_positive(value, what):
    if isinstance(value, (int, float, np.number)) and not value > 0:
        raise ValueError(f"{what} must be positive, got {value}")


class LearningRateSchedule:
    """Base class: ``schedule(step) -> scalar Tensor`` (``tf.keras.optimizers.schedules``).

    Subclasses implement ``_compute(xp, step)`` on raw arrays and ``get_config()``.
    """

    def __call__(self, step):
        xp, s = _step(step)
        return _wrap(xp.asarray(self._compute(xp, s)))

    def _compute(self, xp, step):
        raise NotImplementedError("Learning rate schedule must override _compute")

    def get_config(self):
        raise NotImplementedError("Learning rate schedule must override get_config")

    @classmethod
    def from_config(cls, config):
        """Instantiates a schedule from :meth:`get_config`'s output."""
        return cls(**config)

    def _lr_dtype(self):
        return _float_dtype(self.initial_learning_rate)


class ExponentialDecay(LearningRateSchedule):
    """``lr * decay_rate ** (step / decay_steps)`` (floored exponent when ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _p(self, xp, step, dt):
        p = _c(xp, step, dt) / _c(xp, self.decay_steps, dt)
        return xp.floor(p) if self.staircase else p

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        p = self._p(xp, step, dt)
        return _c(xp, self.initial_learning_rate, dt) * xp.power(_c(xp, self.decay_rate, dt), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class NaturalExpDecay(ExponentialDecay):
    """``lr * exp(-decay_rate * step / decay_steps)`` (floored exponent when
    ``staircase``); an eagerflow class, TF2 has only the TF1 function."""

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        p = self._p(xp, step, dt)
        return _c(xp, self.initial_learning_rate, dt) * xp.exp(-_c(xp, self.decay_rate, dt) * p)


class InverseTimeDecay(ExponentialDecay):
    """``lr / (1 + decay_rate * step / decay_steps)`` (floored when ``staircase``)."""

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        p = self._p(xp, step, dt)
        denom = _c(xp, 1, dt) + _c(xp, self.decay_rate, dt) * p
        return _c(xp, self.initial_learning_rate, dt) / denom


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` for ``step <= boundaries[0]``, ``values[i]`` for ``boundaries[i-1] <
    step <= boundaries[i]``, ``values[-1]`` beyond (TF's intervals). The boundaries are cast
    to the step's dtype (as TF's class does) and the result has the values' dtype."""

    def __init__(self, boundaries, values, name=None):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"piecewise_constant: values must have one more element than "
                             f"boundaries (the length of boundaries should be 1 less than "
                             f"the length of values), got {len(values)} values for "
                             f"{len(boundaries)} boundaries")
        plain = [_raw(b) for b in boundaries]
        if all(isinstance(b, (int, float, np.number)) for b in plain) and \
                any(b >= a for a, b in zip(plain[1:], plain[:-1])):
            raise ValueError(f"piecewise_constant: boundaries must increase, got {boundaries}")
        self.boundaries, self.values, self.name = boundaries, values, name

    def _compute(self, xp, step):
        vdt = _tf_dtype(self.values[0])
        out = _c(xp, self.values[-1], vdt)
        for b, v in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = xp.where(step <= _c(xp, b, step.dtype), _c(xp, v, vdt), out)
        return xp.asarray(out, dtype=vdt)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(lr - end) * (1 - step / decay_steps) ** power + end`` with the step capped at
    ``decay_steps``, or with ``cycle`` the first multiple of ``decay_steps`` not below the
    step (1 at step 0)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name=None):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        lr = _c(xp, self.initial_learning_rate, dt)
        end = _c(xp, self.end_learning_rate, dt)
        s = _c(xp, step, dt)
        steps = _c(xp, self.decay_steps, dt)
        if self.cycle:
            mult = xp.where(s == 0, _c(xp, 1.0, dt), xp.ceil(s / steps))
            steps = steps * mult
        else:
            s = xp.minimum(s, steps)
        p = s / steps
        return (lr - end) * xp.power(_c(xp, 1, dt) - p, _c(xp, self.power, dt)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


def _cos_pi(xp, fraction, dt):
    """``0.5 * (1 + cos(pi * fraction))`` in ``dt``."""
    return _c(xp, 0.5, dt) * (_c(xp, 1.0, dt) + xp.cos(_c(xp, math.pi, dt) * fraction))


class CosineDecay(LearningRateSchedule):
    """``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, T) / T)) + alpha)``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        steps = _c(xp, self.decay_steps, dt)
        s = xp.minimum(_c(xp, step, dt), steps)
        cosine = _cos_pi(xp, s / steps, dt)
        alpha = _raw(self.alpha)
        decayed = _c(xp, 1 - alpha, dt) * cosine + _c(xp, alpha, dt)
        return _c(xp, self.initial_learning_rate, dt) * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay restarting after ``first_decay_steps * t_mul ** i`` steps, the
    i-th period starting at ``m_mul ** i``."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name=None):
        _check_positive(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        alpha = _c(xp, self.alpha, dt)
        t_mul = _c(xp, self._t_mul, dt)
        m_mul = _c(xp, self._m_mul, dt)
        one = _c(xp, 1.0, dt)
        frac = _c(xp, step, dt) / _c(xp, self.first_decay_steps, dt)
        if float(self._t_mul) == 1.0:
            i = xp.floor(frac)
            frac = frac - i
        else:
            i = xp.floor(xp.log(one - frac * (one - t_mul)) / xp.log(t_mul))
            sum_r = (one - xp.power(t_mul, i)) / (one - t_mul)
            frac = (frac - sum_r) / xp.power(t_mul, i)
        cosine = _c(xp, 0.5, dt) * xp.power(m_mul, i) * (
            one + xp.cos(_c(xp, math.pi, dt) * frac))
        decayed = (one - alpha) * cosine + alpha
        return _c(xp, self.initial_learning_rate, dt) * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


class LinearCosineDecay(LearningRateSchedule):
    """TF's ``LinearCosineDecay`` (``tf.train.linear_cosine_decay``)::

        s = min(step, decay_steps)
        linear = (decay_steps - s) / decay_steps
        cosine = 0.5 * (1 + cos(pi * 2 * num_periods * s / decay_steps))
        lr * ((alpha + linear) * cosine + beta)
    """

    def __init__(self, initial_learning_rate, decay_steps, num_periods=0.5, alpha=0.0,
                 beta=0.001, name=None):
        _check_positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.num_periods = num_periods
        self.alpha = alpha
        self.beta = beta
        self.name = name

    def _noise(self, xp, s, steps, dt):
        return None

    def _compute(self, xp, step):
        dt = self._lr_dtype()
        steps = _c(xp, self.decay_steps, dt)
        s = xp.minimum(_c(xp, step, dt), steps)
        linear = (steps - s) / steps
        noise = self._noise(xp, s, steps, dt)
        if noise is not None:
            linear = linear + noise
        fraction = _c(xp, 2.0, dt) * _c(xp, self.num_periods, dt) * (s / steps)
        cosine = _cos_pi(xp, fraction, dt)
        decayed = (_c(xp, self.alpha, dt) + linear) * cosine + _c(xp, self.beta, dt)
        return _c(xp, self.initial_learning_rate, dt) * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "num_periods": self.num_periods,
                "alpha": self.alpha, "beta": self.beta, "name": self.name}


class NoisyLinearCosineDecay(LinearCosineDecay):
    """:class:`LinearCosineDecay` whose linear part gets Gaussian noise of variance
    ``initial_variance / (1 + min(step, decay_steps)) ** variance_decay`` (TF's
    ``NoisyLinearCosineDecay``; a fresh draw at every call, from the seeded generators of
    :mod:`eagerflow.backend.random`)."""

    def __init__(self, initial_learning_rate, decay_steps, initial_variance=1.0,
                 variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001, name=None):
        super().__init__(initial_learning_rate, decay_steps, num_periods, alpha, beta, name)
        self.initial_variance = initial_variance
        self.variance_decay = variance_decay

    def _noise(self, xp, s, steps, dt):
        variance = _c(xp, self.initial_variance, dt) / xp.power(
            _c(xp, 1.0, dt) + s, _c(xp, self.variance_decay, dt))
        gen = _random.generator(backend="numpy" if xp is np else None)
        return xp.asarray(gen.normal((), np.dtype(dt)), dtype=dt) * xp.sqrt(variance)

    def get_config(self):
        config = super().get_config()
        config.update(initial_variance=self.initial_variance,
                      variance_decay=self.variance_decay)
        return config


class LinearWarmup(LearningRateSchedule):
    """Linear ramp from ``warmup_learning_rate`` to ``after(warmup_steps)``, then ``after``
    (an eagerflow schedule; TF has none).

    Args:
        after_warmup: a schedule or a float.
        warmup_steps: length of the ramp.
        warmup_learning_rate: the rate at step 0.
    """

    def __init__(self, after_warmup, warmup_steps, warmup_learning_rate=0.0, name=None):
        _check_positive(warmup_steps, "warmup_steps")
        self.after_warmup, self.warmup_steps = after_warmup, warmup_steps
        self.warmup_learning_rate, self.name = warmup_learning_rate, name

    def _after(self, xp, step, dt):
        if isinstance(self.after_warmup, LearningRateSchedule):
            return self.after_warmup._compute(xp, step).astype(dt)
        return _c(xp, self.after_warmup, dt)

    def _compute(self, xp, step):
        after = self.after_warmup
        dt = after._lr_dtype() if isinstance(after, LearningRateSchedule) else \
            _float_dtype(after)
        w = _c(xp, self.warmup_steps, dt)
        start = _c(xp, self.warmup_learning_rate, dt)
        ws = _raw(self.warmup_steps)  # a NumPy scalar, not a host-to-device copy per step
        target = self._after(xp, ws.astype(np.int64) if backend.is_array(ws) else
                             np.int64(ws), dt)
        s = _c(xp, step, dt)
        ramp = start + s / w * (target - start)
        return xp.where(s < w, ramp, self._after(xp, step, dt)).astype(dt)

    def get_config(self):
        return {"after_warmup": self.after_warmup, "warmup_steps": self.warmup_steps,
                "warmup_learning_rate": self.warmup_learning_rate, "name": self.name}


class _Bound:
    """A schedule bound to a global step: a zero-argument callable (TF1 eager form, TF's
    ``functools.partial(schedule, global_step)``)."""

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
    """``tf.compat.v1.train.exponential_decay``: a callable returning the decayed rate."""
    return _Bound(ExponentialDecay(learning_rate, decay_steps, decay_rate, staircase, name),
                  global_step)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    """``tf.compat.v1.train.natural_exp_decay``: TF's ``ExponentialDecay`` with the rate
    ``exp(-decay_rate)`` (computed in float32, as TF)."""
    rate = np.exp(-np.asarray(backend.to_numpy(_raw(decay_rate)), dtype=_float_dtype(decay_rate)))
    return _Bound(ExponentialDecay(learning_rate, decay_steps, rate, staircase, name),
                  global_step)


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    """``tf.compat.v1.train.inverse_time_decay``."""
    return _Bound(InverseTimeDecay(learning_rate, decay_steps, decay_rate, staircase, name),
                  global_step)


def piecewise_constant(x, boundaries, values, name=None):
    """``tf.compat.v1.train.piecewise_constant(x, boundaries, values)``.

    Raises:
        ValueError: as TF1, when a boundary's dtype is not ``x``'s (int32 boundaries --
            Python ints -- are promoted to an int64 ``x``), when the values do not all have
            one dtype (Python floats are float32, Python ints int32), or on the lengths.
    """
    xdt = _tf_dtype(x)
    bounds = []
    for b in boundaries:
        bdt = _tf_dtype(b)
        if bdt != xdt and not (bdt == np.int32 and xdt == np.int64):
            raise ValueError(f"Boundaries ({bdt}) must have the same dtype as x ({xdt}).")
        bounds.append(b)
    values = list(values)
    for v in values[1:]:
        if _tf_dtype(v) != _tf_dtype(values[0]):
            raise ValueError(f"Values must have elements all with the same dtype "
                             f"({_tf_dtype(values[0])} vs {_tf_dtype(v)}).")
    return _Bound(PiecewiseConstantDecay(bounds, values, name), x)


def piecewise_constant_decay(x, boundaries, values, name=None):
    """``tf.compat.v1.train.piecewise_constant_decay`` (the same as :func:`piecewise_constant`)."""
    return piecewise_constant(x, boundaries, values, name)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    """``tf.compat.v1.train.polynomial_decay``."""
    return _Bound(PolynomialDecay(learning_rate, decay_steps, end_learning_rate, power, cycle,
                                  name), global_step)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """``tf.compat.v1.train.cosine_decay``."""
    return _Bound(CosineDecay(learning_rate, decay_steps, alpha, name), global_step)


def cosine_decay_restarts(learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0,
                          alpha=0.0, name=None):
    """``tf.compat.v1.train.cosine_decay_restarts``."""
    return _Bound(CosineDecayRestarts(learning_rate, first_decay_steps, t_mul, m_mul, alpha,
                                      name), global_step)


def linear_cosine_decay(learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0,
                        beta=0.001, name=None):
    """``tf.compat.v1.train.linear_cosine_decay``: a callable returning the decayed rate."""
    return _Bound(LinearCosineDecay(learning_rate, decay_steps, num_periods, alpha, beta,
                                    name), global_step)


def noisy_linear_cosine_decay(learning_rate, global_step, decay_steps, initial_variance=1.0,
                              variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
                              name=None):
    """``tf.compat.v1.train.noisy_linear_cosine_decay``: a callable returning the decayed
    rate."""
    return _Bound(NoisyLinearCosineDecay(learning_rate, decay_steps, initial_variance,
                                         variance_decay, num_periods, alpha, beta, name),
                  global_step)


def linear_warmup(learning_rate, global_step, warmup_steps, warmup_learning_rate=0.0):
    """Wraps a rate or a schedule (or a bound TF1 schedule) with a linear warmup."""
    if isinstance(learning_rate, _Bound):
        learning_rate = learning_rate.schedule
    return _Bound(LinearWarmup(learning_rate, warmup_steps, warmup_learning_rate), global_step)
