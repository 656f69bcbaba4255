"""``LossScaleOptimizer``: loss scaling for float16 training (``mixed_float16``).

float16's smallest normal number is 6e-5; many gradients of a float16 computation are
smaller and would flush to zero. Scaling the loss by S scales every gradient by S in the
backward pass; the gradients are divided by S again before the update. With ``dynamic``
the scale halves whenever a gradient overflows (that step's update is skipped) and doubles
after ``dynamic_growth_steps`` good steps, as Keras does. bfloat16 has float32's range and
needs none of this.

The dynamic scale and its count of good steps are variables of the default store
(``LossScaleOptimizer/current_loss_scale`` and ``LossScaleOptimizer/good_steps``, Keras'
names), so a checkpoint keeps them and an optimizer made anew each step (an Estimator's
``model_fn`` runs every step) continues the scale instead of starting over. Both keep a host
copy, so reading the scale costs no device read.
"""
import math

import numpy as np

from .. import backend, ops
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import Tensor
from ..autograd.variable import Variable
from ..train.optimizer import Optimizer, TrainOp
from ..variables.store import get_default_store

__all__ = ["LossScaleOptimizer"]


class LossScaleOptimizer:
    """Wraps an optimizer with loss scaling (``tf.keras.mixed_precision.LossScaleOptimizer``).

    Args:
        inner_optimizer: the optimizer that applies the unscaled gradients.
        dynamic: adjust the scale (True) or keep ``initial_scale`` fixed.
        initial_scale: the first scale (default ``2**15`` when dynamic, else required).
        dynamic_growth_steps: good steps before the scale doubles (default 2000).

    ``minimize``/``compute_gradients``/``apply_gradients`` take the inner optimizer's
    arguments. The dynamic check reads one flag from the device per step (the step cannot
    be captured into a CUDA graph); other attributes are the inner optimizer's.

    Raises:
        TypeError: ``inner_optimizer`` is not an eagerflow optimizer.
        ValueError: a non-positive or non-finite scale, or ``dynamic_growth_steps`` with a
            fixed scale.

    Example:
        >>> import eagerflow as ef
        >>> opt = LossScaleOptimizer(ef.train.AdamOptimizer(1e-3))
        >>> opt.loss_scale
        32768.0
    """

    def __init__(self, inner_optimizer, dynamic=True, initial_scale=None,
                 dynamic_growth_steps=None):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: inner_optimizer must be an eagerflow "
                            f"optimizer, got {type(inner_optimizer).__name__}")
        if not dynamic and initial_scale is None:
            raise ValueError("LossScaleOptimizer: initial_scale is required when dynamic is "
                             "False")
        if not dynamic and dynamic_growth_steps is not None:
            raise ValueError("LossScaleOptimizer: dynamic_growth_steps applies only when "
                             "dynamic is True")
        scale = float(2 ** 15 if initial_scale is None else initial_scale)
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"LossScaleOptimizer: initial_scale must be a positive finite "
                             f"number, got {initial_scale!r}")
        growth = 2000 if dynamic_growth_steps is None else int(dynamic_growth_steps)
        if growth < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be >= 1, got "
                             f"{dynamic_growth_steps!r}")
        self._inner = inner_optimizer
        self._dynamic = bool(dynamic)
        self._initial_scale = scale
        self._growth = growth
        self.skipped_steps = 0  # by this object

    @property
    def inner_optimizer(self):
        return self._inner

    @property
    def dynamic(self):
        return self._dynamic

    @property
    def loss_scale(self):
        """The current scale (a Python float)."""
        if not self._dynamic:
            return self._initial_scale
        return float(self._state()[0]._host_value())

    def _state(self):
        """The dynamic scale's variables ``(current_loss_scale, good_steps)``, created in
        the default store on first use and found there by every later optimizer."""
        store = get_default_store()

        def make(value, dtype):
            return lambda name: Variable(np.asarray(value, dtype), trainable=False,
                                         name=name)._mirror_on_host()
        scale = store.get_owned("LossScaleOptimizer/current_loss_scale",
                                ("loss_scale", "current_loss_scale"),
                                make(self._initial_scale, np.float32))
        good = store.get_owned("LossScaleOptimizer/good_steps", ("loss_scale", "good_steps"),
                               make(0, np.int64))
        return scale, good

    @property
    def dynamic_growth_steps(self):
        return self._growth if self._dynamic else None

    def get_scaled_loss(self, loss):
        """``loss * loss_scale`` (a callable stays a callable)."""
        scale = self.loss_scale
        if callable(loss) and not isinstance(loss, Tensor):
            return lambda: loss() * scale
        return loss * scale

    def get_unscaled_gradients(self, grads):
        """Each gradient divided by the scale (None stays None)."""
        inv = 1.0 / self.loss_scale

        def one(g):
            if g is None:
                return None
            if isinstance(g, IndexedSlices):
                return IndexedSlices(g.values * inv, g.indices, g.dense_shape)
            return g * inv
        return [one(g) for g in grads]

    def compute_gradients(self, loss, var_list=None, grad_loss=None, tape=None, **kwargs):
        """The inner optimizer's gradients of ``loss``, computed with the loss scaled and
        returned unscaled. The scale enters as the loss's output gradient, so the forward
        pass is not recomputed."""
        scale = self.loss_scale
        if grad_loss is not None:
            scaled = grad_loss * scale
        elif isinstance(loss, Tensor):
            scaled = ops.ones_like(loss) * scale
        else:
            scaled = None
        if scaled is None:  # a callable loss: scale it inside its own tape
            gv = self._inner.compute_gradients(self.get_scaled_loss(loss), var_list=var_list,
                                               tape=tape, **kwargs)
        else:
            gv = self._inner.compute_gradients(loss, var_list=var_list, grad_loss=scaled,
                                               tape=tape, **kwargs)
        grads = self.get_unscaled_gradients([g for g, _ in gv])
        return list(zip(grads, [v for _, v in gv]))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the (unscaled) gradients when all are finite; otherwise skips the update,
        halves the scale and still advances ``global_step`` (Keras' behaviour)."""
        pairs = list(grads_and_vars)
        if not self._dynamic:
            return self._inner.apply_gradients(pairs, global_step=global_step, name=name)
        scale, good = self._state()
        if not _all_finite([g for g, _ in pairs]):
            scale.assign(max(scale._host_value() / 2.0, 1.0))
            good.assign(0)
            self.skipped_steps += 1
            if global_step is not None:
                global_step.assign_add(1)
            return TrainOp(global_step, name or self._inner.get_name())
        op = self._inner.apply_gradients(pairs, global_step=global_step, name=name)
        good.assign_add(1)
        if good._host_value() >= self._growth:
            scale.assign(scale._host_value() * 2.0)
            good.assign(0)
        return op

    def minimize(self, loss, global_step=None, var_list=None, name=None, grad_loss=None,
                 tape=None, **kwargs):
        """``compute_gradients`` then ``apply_gradients``."""
        gv = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss, tape=tape)
        return self.apply_gradients(gv, global_step=global_step, name=name)

    def __getattr__(self, name):  # slots, variables, get_name, ...: the inner optimizer's
        return getattr(self._inner, name)


def _all_finite(grads):
    """One device read for all gradients: True when none holds NaN or Inf."""
    flags = []
    for g in grads:
        if g is None:
            continue
        a = g.values._data if isinstance(g, IndexedSlices) else g._data
        xp = backend.array_module(a)
        flags.append(xp.isfinite(a).all().reshape(1))
    if not flags:
        return True
    xp = backend.array_module(flags[0])
    return bool(np.asarray(backend.to_numpy(xp.concatenate(flags).all())))
