"""TF1's variable initialization and assignment ops, eagerly.

An eager variable holds its value from creation, so the initializer ops of TF1 graphs
(``global_variables_initializer``, ``tables_initializer``...) have nothing left to do: as
``tf.compat.v1`` does when executing eagerly, they return ``no_op()`` (None), and code that
runs them in a ``Scaffold`` or a session works unchanged. ``assign``/``assign_add``/
``assign_sub`` are ``tf.compat.v1.assign``...: the variable's own methods.

Example:
    >>> import eagerflow as ef
    >>> v = ef.Variable([1.0, 2.0])
    >>> ef.global_variables_initializer() is None
    True
    >>> ef.assign_add(v, [1.0, 1.0]).numpy().tolist()
    [2.0, 3.0]
"""
import numpy as np

from ..autograd.tensor import convert_to_tensor
from ..autograd.variable import Variable
from ..ops.control import no_op

__all__ = ["global_variables_initializer", "local_variables_initializer",
           "tables_initializer", "variables_initializer", "initialize_all_variables",
           "initialize_local_variables", "initialize_variables", "is_variable_initialized",
           "assert_variables_initialized", "report_uninitialized_variables", "assign",
           "assign_add", "assign_sub"]


def variables_initializer(var_list, name="init"):
    """``tf.compat.v1.variables_initializer``: ``no_op()`` eagerly (variables are
    initialized when created)."""
    return no_op(name=name)


def global_variables_initializer():
    """``tf.compat.v1.global_variables_initializer``: ``no_op()`` eagerly."""
    return no_op(name="init")


def local_variables_initializer():
    """``tf.compat.v1.local_variables_initializer``: ``no_op()`` eagerly."""
    return no_op(name="local_init")


def tables_initializer(name="init_all_tables"):
    """``tf.compat.v1.tables_initializer``: ``no_op()`` eagerly (lookup tables are filled
    when created)."""
    return no_op(name=name)


initialize_all_variables = global_variables_initializer
initialize_local_variables = local_variables_initializer
initialize_variables = variables_initializer


def is_variable_initialized(variable):
    """``tf.compat.v1.is_variable_initialized``: a True bool tensor (always, eagerly)."""
    _check_variable(variable, "is_variable_initialized")
    return convert_to_tensor(True)


def assert_variables_initialized(var_list=None):
    """``tf.compat.v1.assert_variables_initialized``: ``no_op()`` eagerly."""
    return no_op()


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """``tf.compat.v1.report_uninitialized_variables``: an empty string tensor (none is)."""
    return convert_to_tensor(np.zeros((0,), dtype=object))


def _check_variable(ref, fname):
    if not isinstance(ref, Variable):
        raise TypeError(f"{fname}: ref must be a Variable, got {type(ref).__name__}")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """``tf.compat.v1.assign``: writes ``value`` into the variable ``ref``; returns it."""
    _check_variable(ref, "assign")
    return ref.assign(value)


def assign_add(ref, value, use_locking=None, name=None):
    """``tf.compat.v1.assign_add``: ``ref += value``; returns the variable."""
    _check_variable(ref, "assign_add")
    return ref.assign_add(value)


def assign_sub(ref, value, use_locking=None, name=None):
    """``tf.compat.v1.assign_sub``: ``ref -= value``; returns the variable."""
    _check_variable(ref, "assign_sub")
    return ref.assign_sub(value)
