"""Variables by name: ``get_variable``, ``variable_scope``, initializers, partitioners.

Example:
    >>> import eagerflow.variables as vs
    >>> with vs.VariableStore().as_default():
    ...     v = vs.get_variable("w", [3], initializer=vs.zeros_initializer())
    ...     [x.name for x in vs.trainable_variables()]
    ['w']
"""
from . import initialization, initializers, partitioners, regularizers
from .initialization import *  # noqa: F401,F403
from .initializers import (Constant, GlorotNormal, GlorotUniform, Identity, Initializer, Ones,
                           Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
                           VarianceScaling, Zeros, constant_initializer,
                           glorot_normal_initializer, glorot_uniform_initializer, he_normal,
                           he_uniform, identity_initializer, lecun_normal, lecun_uniform,
                           ones_initializer, orthogonal_initializer,
                           random_normal_initializer, random_uniform_initializer,
                           truncated_normal_initializer, variance_scaling_initializer,
                           zeros_initializer)
from .partitioners import (PartitionedVariable, fixed_size_partitioner,
                           min_max_variable_partitioner, variable_axis_size_partitioner)
from .regularizers import l1_l2_regularizer, l1_regularizer, l2_regularizer
from .store import (AUTO_REUSE, GraphKeys, VariableScope, VariableStore, add_to_collection,
                    get_collection, get_default_store, get_regularization_loss,
                    get_regularization_losses, get_variable, get_variable_scope,
                    global_variables, local_variables, model_variables, trainable_variables,
                    variable_scope)

__all__ = [
    "initializers", "partitioners", "regularizers", "Constant", "GlorotNormal",
    "GlorotUniform", "Identity", "Initializer", "Ones", "Orthogonal", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "constant_initializer",
    "glorot_normal_initializer", "glorot_uniform_initializer", "he_normal", "he_uniform",
    "identity_initializer", "lecun_normal", "lecun_uniform", "ones_initializer",
    "orthogonal_initializer", "random_normal_initializer", "random_uniform_initializer",
    "truncated_normal_initializer", "variance_scaling_initializer", "zeros_initializer",
    "PartitionedVariable", "fixed_size_partitioner", "min_max_variable_partitioner",
    "variable_axis_size_partitioner", "l1_l2_regularizer", "l1_regularizer",
    "l2_regularizer", "AUTO_REUSE", "GraphKeys", "VariableScope", "VariableStore",
    "add_to_collection", "get_collection", "get_default_store", "get_regularization_loss",
    "get_regularization_losses", "get_variable", "get_variable_scope", "global_variables",
    "local_variables", "model_variables", "trainable_variables", "variable_scope",
    "initialization",
] + list(initialization.__all__)
