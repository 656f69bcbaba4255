"""The global step: an int64 scalar variable named ``global_step`` in the variable store.

Example:
    >>> import eagerflow.train as train
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     step = train.get_or_create_global_step()
    ...     int(step.numpy())
    0
"""
import numpy as np

from ..autograd.variable import Variable
from ..variables.store import GraphKeys, get_default_store

__all__ = ["get_global_step", "get_or_create_global_step", "create_global_step",
           "global_step", "assert_global_step"]

_NAME = "global_step"


def get_global_step(graph=None):
    """The global step variable of the default store, or None if there is none."""
    store = get_default_store()
    steps = store.get_collection(GraphKeys.GLOBAL_STEP)
    if steps:
        return steps[0]
    return store.get(_NAME)


def create_global_step(graph=None):
    """Creates the global step (int64, 0, not trainable).

    Raises:
        ValueError: when it exists already.
    """
    store = get_default_store()
    if get_global_step() is not None:
        raise ValueError('"global_step" already exists.')
    var = store.get_variable(_NAME, shape=(), dtype=np.int64, initializer=0 * np.int64(0),
                             trainable=False,
                             collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])
    # hooks read it after every step: a host copy spares them a device sync each time
    return var._mirror_on_host()


def get_or_create_global_step(graph=None):
    """The global step, created on first use."""
    gs = get_global_step()  # not `or`: a step of 0 is falsy
    return gs if gs is not None else create_global_step()


def global_step(sess, global_step_tensor):
    """The value of ``global_step_tensor`` as a Python int (``tf.train.global_step``)."""
    if isinstance(global_step_tensor, Variable) and global_step_tensor._host is not None:
        return global_step_tensor._host_value()
    return int(np.asarray(global_step_tensor.numpy()))


def assert_global_step(global_step_tensor):
    """Raises TypeError unless ``global_step_tensor`` is an integer scalar Variable."""
    if not isinstance(global_step_tensor, Variable):
        raise TypeError(f"global step must be a Variable, got {type(global_step_tensor).__name__}")
    if global_step_tensor.dtype.kind not in "iu" or global_step_tensor.shape != ():
        raise TypeError(f"global step must be an integer scalar, got "
                        f"{global_step_tensor.dtype} {tuple(global_step_tensor.shape)}")
