"""Mixed precision (``tf.keras.mixed_precision``): layers compute in a 16-bit float while
their variables, and the optimizer's updates, stay float32.

``set_global_policy('mixed_bfloat16')`` makes every layer created afterwards cast its
inputs and its variables to bfloat16 for the computation (GEMMs on tensor cores, half the
activation bytes); the gradients arrive at the float32 variables as float32 (the cast's
gradient casts back). bfloat16 has float32's exponent range, so it needs no loss scaling;
``'mixed_float16'`` does, through :class:`LossScaleOptimizer`. Off by default.

Example:
    >>> import eagerflow as ef
    >>> ef.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> layer = ef.layers.Dense(4)
    >>> y = layer(ef.ones((2, 3)))
    >>> y.dtype.name, layer.kernel.dtype.name
    ('bfloat16', 'float32')
    >>> ef.mixed_precision.set_global_policy("float32")
"""
from ..variables.policy import Policy, global_policy, policy_scope, set_global_policy
from .loss_scale_optimizer import LossScaleOptimizer

__all__ = ["Policy", "global_policy", "set_global_policy", "policy_scope",
           "LossScaleOptimizer"]
