"""TF1's optimizers with their update formulas, defaults and slot names.

| optimizer | slots (store names) | sparse path |
|---|---|---|
| GradientDescent | — | touched rows |
| Momentum | ``momentum`` (``<v>/Momentum``) | touched rows |
| Adagrad | ``accumulator`` (``<v>/Adagrad``) | touched rows |
| ProximalAdagrad | ``accumulator`` | touched rows |
| Adadelta | ``accum``, ``accum_update`` (``<v>/Adadelta``, ``_1``) | touched rows |
| Adam | ``m``, ``v`` (``<v>/Adam``, ``<v>/Adam_1``) + ``beta1_power``, ``beta2_power`` | every row (TF1 ``_apply_sparse``) |
| LazyAdam | as Adam | touched rows |
| RMSProp | ``rms`` (ones), [``mg``], ``momentum`` | touched rows |
| Ftrl | ``accum``, ``linear`` (``<v>/Ftrl``, ``_1``) | touched rows |
| ProximalGradientDescent | — | touched rows |
| AdagradDA | ``gradient_accumulator``, ``gradient_squared_accumulator`` (``<v>/AdagradDA``, ``_1``) | touched rows |

Example:
    >>> import eagerflow as ef
    >>> w = ef.Variable([1.0], name="w_doc")
    >>> opt = AdamOptimizer(0.1)
    >>> _ = opt.minimize(lambda: ef.reduce_sum(w * w), var_list=[w])
    >>> round(float(w.numpy()[0]), 4)
    0.9
"""
import numpy as np

from .. import backend, kernels
from ..autograd.indexed_slices import IndexedSlices
from ..autograd.tensor import Tensor
from ..kernels import optimizer_updates
from ..kernels.scatter_add import INDEX_PAD
from .optimizer import Optimizer, _check_lr

__all__ = ["GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "ProximalAdagradOptimizer", "AdadeltaOptimizer", "AdamOptimizer",
           "LazyAdamOptimizer", "RMSPropOptimizer", "FtrlOptimizer",
           "ProximalGradientDescentOptimizer", "AdagradDAOptimizer"]


def _nonneg(value, what):
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")


class GradientDescentOptimizer(Optimizer):
    """``var -= lr * grad`` (``tf.train.GradientDescentOptimizer``)."""

    _rule = "sgd"

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent",
                 check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        self._learning_rate = learning_rate


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov:
    ``var -= lr * grad + lr * momentum * accum``)."""

    _rule = "momentum"
    _slot_specs = (("momentum", 0.0),)

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False, check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        _nonneg(momentum, "momentum")
        self._learning_rate, self._momentum, self._use_nesterov = (
            learning_rate, momentum, bool(use_nesterov))

    def _hyper(self, var):
        return {"momentum": self._momentum, "nesterov": float(self._use_nesterov)}


class AdagradOptimizer(Optimizer):
    """``accum += grad^2; var -= lr * grad / sqrt(accum)`` (no epsilon, as TF1)."""

    _rule = "adagrad"

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        if not initial_accumulator_value > 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        self._learning_rate = learning_rate
        self._slot_specs = (("accumulator", float(initial_accumulator_value)),)


class ProximalAdagradOptimizer(Optimizer):
    """Adagrad followed by the proximal step of ``l1``/``l2``
    (``tf.train.ProximalAdagradOptimizer``)."""

    _rule = "proximal_adagrad"

    def __init__(self, learning_rate, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="ProximalAdagrad", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        if not initial_accumulator_value > 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        _nonneg(l1_regularization_strength, "l1_regularization_strength")
        _nonneg(l2_regularization_strength, "l2_regularization_strength")
        self._learning_rate = learning_rate
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._slot_specs = (("accumulator", float(initial_accumulator_value)),)

    def _hyper(self, var):
        return {"l1": self._l1, "l2": self._l2}


class AdadeltaOptimizer(Optimizer):
    """TF1 Adadelta (``learning_rate=0.001, rho=0.95, epsilon=1e-8``)."""

    _rule = "adadelta"
    _slot_specs = (("accum", 0.0), ("accum_update", 0.0))

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        self._learning_rate, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _hyper(self, var):
        return {"rho": self._rho, "eps": self._epsilon}


class AdamOptimizer(Optimizer):
    """TF1 Adam: ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
    ``var -= lr_t * m / (sqrt(v) + epsilon)`` (epsilon is TF's "epsilon hat").

    The beta powers are variables ``beta1_power``/``beta2_power`` of the store (checkpointed
    like TF1's), advanced once per ``apply_gradients``. A sparse gradient decays ``m`` and
    ``v`` in every row, as TF1's ``_apply_sparse`` does; use :class:`LazyAdamOptimizer` to
    touch only the gradient's rows.
    """

    _rule = "adam"
    _slot_specs = (("m", 0.0), ("v", 0.0))

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        for what, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{what} must be in [0, 1), got {b}")
        self._learning_rate, self._beta1, self._beta2, self._epsilon = (
            learning_rate, beta1, beta2, epsilon)
        self._powers = None

    def _prepare(self, var_list):
        self._powers = (self._non_slot("beta1_power", self._beta1, var_list),
                        self._non_slot("beta2_power", self._beta2, var_list))

    def _get_beta_accumulators(self):
        return self._powers

    def _hyper(self, var):
        b1p, b2p = self._powers
        return {"b1p": b1p._data, "b2p": b2p._data, "beta1": self._beta1,
                "beta2": self._beta2, "eps": self._epsilon}

    def _apply_sparse_duplicate_indices(self, grad, var, lr):
        # TF1: m = beta1 * m + scatter(...) over every row, which is the dense update with
        # the densified (duplicates summed) gradient.
        dense = kernels.scatter_add_new(grad.indices._data, grad.values._data, var.shape[0])
        self._apply_dense(dense, var, lr)

    def _finish(self, var_list):
        b1p, b2p = self._powers
        b1p._data *= b1p.dtype.type(self._beta1)
        b2p._data *= b2p.dtype.type(self._beta2)


class LazyAdamOptimizer(AdamOptimizer):
    """Adam whose sparse update changes ``m``, ``v`` and the variable only in the gradient's
    rows (``tf.contrib.opt.LazyAdamOptimizer``); dense updates are Adam's.

    The default name is ``"Adam"``, as in TF1: contrib's class defines no ``__init__`` and
    inherits ``AdamOptimizer``'s, so its slots are ``<v>/Adam`` and ``<v>/Adam_1``
    (checkpoints written by TF restore here).
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam", check_numerics=False):
        super().__init__(learning_rate, beta1, beta2, epsilon, use_locking, name,
                         check_numerics)

    def _apply_sparse_duplicate_indices(self, grad, var, lr):
        Optimizer._apply_sparse_duplicate_indices(self, grad, var, lr)

    def _apply_sparse(self, values, indices, var, lr):
        optimizer_updates.apply_sparse("adam", var._data, [s._data for s in self._slots(var)],
                                       indices, values, self._lr_array(lr, var),
                                       **self._hyper(var))


class RMSPropOptimizer(Optimizer):
    """TF1 RMSProp: ``ms`` starts at ones; ``mom = momentum * mom + lr * g / sqrt(ms + eps)``;
    centered subtracts the mean gradient's square inside the root."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        _nonneg(momentum, "momentum")
        self._learning_rate, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, bool(centered)
        self._rule = "centered_rmsprop" if centered else "rmsprop"

    def _active_slot_specs(self):
        if self._centered:
            return [("rms", 1.0), ("mg", 0.0), ("momentum", 0.0)]
        return [("rms", 1.0), ("momentum", 0.0)]

    def _slots(self, var):
        s = super()._slots(var)
        # the centered kernel takes (mg, ms, mom)
        return [s[1], s[0], s[2]] if self._centered else s

    def _hyper(self, var):
        return {"rho": self._decay, "momentum": self._momentum, "eps": self._epsilon}


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013), TF1's ``ApplyFtrl``/``ApplyFtrlV2``.

    ``accum`` starts at ``initial_accumulator_value``, ``linear`` at zero. With
    ``l2_shrinkage_regularization_strength`` the linear term sees
    ``grad + 2 * l2_shrinkage * var`` while ``accum`` accumulates the plain ``grad^2``.
    ``beta`` adds ``beta / (2 * lr)`` to ``l2`` (TF 1.15+).
    """

    _rule = "ftrl"

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None, check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value {initial_accumulator_value} needs "
                             "to be positive or zero")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power} needs to be "
                             "negative or zero")
        _nonneg(l1_regularization_strength, "l1_regularization_strength")
        _nonneg(l2_regularization_strength, "l2_regularization_strength")
        _nonneg(l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength")
        self._learning_rate = learning_rate
        self._lr_power = learning_rate_power
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._shrink = l2_shrinkage_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._accum_name, self._linear_name = accum_name, linear_name
        self._slot_specs = (("accum", float(initial_accumulator_value)), ("linear", 0.0))

    def _slot_name(self, var, k):
        custom = (self._accum_name, self._linear_name)[k]
        if custom:
            return f"{var.name}/{custom}"
        if self._accum_name or self._linear_name:
            return f"{var.name}/{self._name}"
        return super()._slot_name(var, k)

    def _hyper(self, var):
        l2 = self._l2
        if self._beta:
            lr = self._learning_rate
            if not isinstance(lr, (int, float)):
                raise ValueError("FtrlOptimizer: beta needs a constant learning rate")
            l2 = l2 + self._beta / (2.0 * lr)
        return {"l1": self._l1, "l2": l2, "l2_shrinkage": self._shrink,
                "lr_power": self._lr_power}


def _sparse_rows(var, indices, values):
    """``(table, idx, rows)``: ``var`` as ``(num_rows, d)``, the unique indices without
    :data:`INDEX_PAD` padding, and their gradient rows as ``(n, d)``."""
    nrows = var.shape[0] if var._data.ndim else 1
    table = var._data.reshape(nrows, -1)
    idx = indices.reshape(-1)
    rows = values.reshape(idx.shape[0], table.shape[1]).astype(var.dtype, copy=False)
    keep = idx != INDEX_PAD
    if not bool(keep.all()):
        idx, rows = idx[keep], rows[keep]
    if idx.shape[0] and (bool((idx < 0).any()) or bool((idx >= nrows).any())):
        bad = int(idx[(idx < 0) | (idx >= nrows)][0])
        raise IndexError(f"row index {bad} is out of range [0, {nrows})")
    return table, idx, rows


class ProximalGradientDescentOptimizer(Optimizer):
    """FOBOS with a fixed rate (``tf.train.ProximalGradientDescentOptimizer``).

    TF's ``ApplyProximalGradientDescent`` (training_ops.cc)::

        prox = var - lr * grad
        var = sign(prox) * max(|prox| - lr * l1, 0) / (1 + lr * l2)   # l1 > 0
        var = prox / (1 + lr * l2)                                     # otherwise

    A sparse gradient (duplicates summed) updates only its rows
    (``SparseApplyProximalGradientDescent``).
    """

    def __init__(self, learning_rate, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking=False,
                 name="ProximalGradientDescent", check_numerics=False):
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        self._learning_rate = learning_rate
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength

    def _update(self, v, g, lr):
        xp = backend.array_module(v)
        t = v.dtype.type
        prox = v - g * lr
        if self._l1 > 0:
            return (xp.sign(prox) * xp.maximum(xp.abs(prox) - lr * t(self._l1), t(0))
                    / (t(1) + t(self._l2) * lr))
        return prox / (t(1) + t(self._l2) * lr)

    def _apply_dense(self, grad, var, lr):
        lr = self._lr_array(lr, var).reshape(())
        var._data[...] = self._update(var._data, grad.astype(var.dtype, copy=False), lr)

    def _apply_sparse(self, values, indices, var, lr):
        table, idx, rows = _sparse_rows(var, indices, values)
        if idx.shape[0]:
            lr = self._lr_array(lr, var).reshape(())
            table[idx] = self._update(table[idx], rows, lr)


class AdagradDAOptimizer(Optimizer):
    """Adagrad dual averaging (``tf.train.AdagradDAOptimizer``).

    Slots ``gradient_accumulator`` (zeros, ``<v>/AdagradDA``) and
    ``gradient_squared_accumulator`` (``initial_gradient_squared_accumulator_value``,
    ``<v>/AdagradDA_1``). Each step reads ``T = global_step + 1`` (TF's ``_prepare``:
    ``identity(global_step) + 1``, read before ``apply_gradients`` increments it) and applies
    TF's ``ApplyAdagradDA`` (training_ops.cc)::

        g_acc += grad;  gg_acc += grad^2
        var = -sign(g_acc) * lr * max(|g_acc| - T * l1, 0) / (l2 * T * lr + sqrt(gg_acc))
        var = -g_acc * lr / (l2 * T * lr + sqrt(gg_acc))          # when l1 == 0

    A sparse gradient (duplicates summed) updates only its rows (``SparseApplyAdagradDA``).

    Args:
        global_step: the global step Variable (or an int).
    """

    def __init__(self, learning_rate, global_step,
                 initial_gradient_squared_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="AdagradDA", check_numerics=False):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError(f"initial_gradient_squared_accumulator_value must be positive: "
                             f"{initial_gradient_squared_accumulator_value}")
        super().__init__(use_locking, name, check_numerics)
        _check_lr(learning_rate)
        self._learning_rate = learning_rate
        self._global_step = global_step
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._slot_specs = (("gradient_accumulator", 0.0),
                            ("gradient_squared_accumulator",
                             float(initial_gradient_squared_accumulator_value)))
        self._step = None

    def _prepare(self, var_list):
        gs = self._global_step
        if gs is None:
            raise ValueError("AdagradDAOptimizer needs a global_step")
        data = gs._data if isinstance(gs, Tensor) else np.asarray(gs)
        self._step = data.reshape(()) + 1  # int64, on the step's device

    def _t(self, var, dtype):
        xp = backend.array_module(var._data)
        return xp.asarray(self._step).astype(dtype).astype(var.dtype)

    def _apply_dense(self, grad, var, lr):
        xp = backend.array_module(var._data)
        t = var.dtype.type
        lr = self._lr_array(lr, var).reshape(())
        ga, gg = (s._data for s in self._slots(var))
        g = grad.astype(var.dtype, copy=False)
        ga += g
        gg += g * g
        step = self._t(var, np.float32)  # the kernel's static_cast<float>(global_step)
        denom = t(self._l2) * (step * lr) + xp.sqrt(gg)
        if self._l1 > 0:
            var._data[...] = (lr * t(-1) * xp.sign(ga)
                              * xp.maximum(xp.abs(ga) - step * t(self._l1), t(0)) / denom)
        else:
            var._data[...] = lr * ga * t(-1) / denom

    def _apply_sparse(self, values, indices, var, lr):
        table, idx, rows = _sparse_rows(var, indices, values)
        if not idx.shape[0]:
            return
        xp = backend.array_module(var._data)
        t = var.dtype.type
        lr = self._lr_array(lr, var).reshape(())
        ga_t, gg_t = (s._data.reshape(table.shape) for s in self._slots(var))
        ga = ga_t[idx] + rows
        gg = gg_t[idx] + rows * rows
        ga_t[idx], gg_t[idx] = ga, gg
        step = self._t(var, var.dtype)
        gs_lr = step * lr
        if table.shape[1] > 1:  # SparseApplyAdagradDA, inner_dim > 1
            den = t(self._l2) + xp.sqrt(gg) / gs_lr
            if self._l1 > 0:
                new = (t(-1) * xp.sign(ga)
                       * xp.maximum(xp.abs(ga) / step - t(self._l1), t(0)) / den)
            else:
                new = t(-1) * (ga / step) / den
        else:  # inner_dim == 1: the dense form
            den = step * t(self._l2) * lr + xp.sqrt(gg)
            if self._l1 > 0:
                new = xp.sign(-ga) * lr * xp.maximum(xp.abs(ga) - step * t(self._l1), t(0)) / den
            else:
                new = (-ga * lr) / den
        table[idx] = new


IndexedSlices = IndexedSlices  # re-exported for type checks in callers
