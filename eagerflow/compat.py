"""``tf.compat.v1`` and ``tf.compat.v2``: eagerflow's names under TensorFlow's
compatibility paths, so migrated TF1 code (``tf.compat.v1.train.AdamOptimizer``,
``tf.compat.v1.feature_column.input_layer``, ``tf.compat.v1.layers.dense``,
``tf.compat.v1.estimator``...) runs with ``import eagerflow as tf``.

Every name resolves to eagerflow's own, which already follows TF1 where TF1 and TF2 differ
(optimizers, ``variable_scope``, ``tf.layers``, ``tf.metrics``), with one exception:
``compat.v1.nn.dropout`` takes TF1's ``keep_prob`` as its second positional argument, where
``ef.nn.dropout`` (TF2) takes ``rate``. ``disable_eager_execution``, ``disable_v2_behavior``
and friends are accepted and do nothing: eagerflow has no graph mode to switch to.

Example:
    >>> import eagerflow as ef
    >>> ef.compat.v1.train.AdamOptimizer is ef.train.AdamOptimizer
    True
    >>> x = ef.ones((2, 3))
    >>> bool((ef.compat.v1.nn.dropout(x, 1.0).numpy() == 1).all())  # keep_prob=1: identity
    True
"""
import importlib
import logging
import types

__all__ = ["v1", "v2"]

log = logging.getLogger("eagerflow")


class _Forward(types.ModuleType):
    """A namespace whose attributes are another module's, except its own overrides."""

    def __init__(self, name, target, **overrides):
        super().__init__(name)
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(self._target), name)

    def __dir__(self):
        return sorted(set(self.__dict__) | set(dir(importlib.import_module(self._target))))


def _dropout_v1(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """``tf.compat.v1.nn.dropout``: TF1's argument order (``keep_prob`` second)."""
    from . import nn
    return nn.dropout(x, rate=rate, noise_shape=noise_shape, seed=seed, name=name,
                      keep_prob=keep_prob)


def _no_graph_mode(*args, **kwargs):
    """Accepted for TF1 scripts: eagerflow always runs eagerly."""
    log.info("eagerflow runs eagerly; tf.compat.v1 graph-mode switches have no effect")


def _eager():
    return True


v1 = _Forward(
    "eagerflow.compat.v1", "eagerflow",
    nn=_Forward("eagerflow.compat.v1.nn", "eagerflow.nn", dropout=_dropout_v1),
    disable_eager_execution=_no_graph_mode, enable_eager_execution=_no_graph_mode,
    disable_v2_behavior=_no_graph_mode, enable_v2_behavior=_no_graph_mode,
    executing_eagerly=_eager)
v2 = _Forward("eagerflow.compat.v2", "eagerflow")
