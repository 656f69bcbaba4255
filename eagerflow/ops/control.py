"""TF1 graph-construction helpers that have an exact eager meaning: nothing to do.

Eagerly every op runs when it is called, in program order, so ``control_dependencies``,
``group`` and ``no_op`` have nothing left to order; ``name_scope`` names ops, not variables
(TF1's ``get_variable`` ignores it too; ``variable_scope`` is what names variables); and
``device`` placement is the backend's (``ef.set_backend``). They exist so TF1 code such as
``with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)): ...`` runs
unchanged.

Example:
    >>> import eagerflow as ef
    >>> with ef.name_scope("block"), ef.control_dependencies([]):
    ...     y = ef.constant(1.0) + 1.0
    >>> float(y)
    2.0
"""
import contextlib

__all__ = ["control_dependencies", "name_scope", "device", "group", "no_op"]


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """``tf.control_dependencies``: a no-op context eagerly (the inputs already ran).

    Raises:
        TypeError: when ``control_inputs`` is not None or an iterable.
    """
    if control_inputs is not None and not hasattr(control_inputs, "__iter__"):
        raise TypeError(f"control_dependencies: control_inputs must be a list, got "
                        f"{type(control_inputs).__name__}")
    yield


class name_scope:  # noqa: N801  (TF's spelling)
    """``tf.name_scope(name, default_name=None, values=None)``: a context whose value is the
    scope's name (``'name/'``); it does not change variable names, as in TF1."""

    def __init__(self, name, default_name=None, values=None):
        self._name = name if name is not None else default_name

    def __enter__(self):
        return f"{self._name}/" if self._name else ""

    def __exit__(self, *exc):
        return False


@contextlib.contextmanager
def device(device_name):
    """``tf.device``: placement follows the backend eagerly, so this only accepts the name."""
    yield


def group(*inputs, **kwargs):
    """``tf.group``: the inputs already ran eagerly; returns None (what ``sess.run`` of the
    grouped op gives)."""
    return None


def no_op(name=None):
    """``tf.no_op``: nothing; returns None."""
    return None
