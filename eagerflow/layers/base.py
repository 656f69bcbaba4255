"""The ``Layer`` base class: variables made on the first call, through ``get_variable``, in
the layer's variable scope (so ``Dense`` makes ``dense/kernel``, the next one
``dense_1/kernel``, and a named one ``fc1/kernel``).

A layer without a name takes a unique scope on its first call (``variable_scope(None,
default_name=...)``); a named layer uses its name as the scope and, with the store's
``AUTO_REUSE``, finds its variables again when a new layer object of that name is built
(functional layers inside a ``model_fn`` that runs every step).

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.layers import Dense
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     layer = Dense(4, name="fc")
    ...     y = layer(ef.ones((2, 3)))
    ...     [v.name for v in layer.variables]
    ['fc/kernel', 'fc/bias']
"""
import re

from .. import ops
from ..autograd.tensor import Tensor, convert_to_tensor
from ..backend.dtypes import as_dtype, is_real_floating
from ..variables.policy import layer_policy
from ..variables.store import (AUTO_REUSE, get_default_store, get_variable,
                               get_variable_scope, variable_scope)

__all__ = ["Layer", "get_activation", "InputSpec"]


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return re.sub(r"(\d)_d\b", r"\1d", s)  # Conv2D -> conv2d


def _relu(x):
    return ops.maximum(x, ops.zeros_like(x))


def get_activation(identifier):
    """An activation function from None, a callable or a name (``'relu'``, ``'tanh'``...).

    Names resolve through ``eagerflow.nn`` when it has the function, else the core ops.

    Raises:
        ValueError: for an unknown name.
    """
    if identifier is None or callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise ValueError(f"activation must be None, a callable or a name, got {identifier!r}")
    name = identifier.lower()
    if name == "linear":
        return None
    try:
        from .. import nn
    except ImportError:  # pragma: no cover - nn is optional for the core
        nn = None
    fn = getattr(nn, name, None) if nn is not None else None
    if callable(fn):
        return fn
    core = {"tanh": ops.tanh, "sigmoid": ops.sigmoid, "relu": _relu}
    if name in core:
        return core[name]
    raise ValueError(f"unknown activation {identifier!r}")


class InputSpec:
    """Expected rank/last-axis size of a layer input (``tf.layers.InputSpec``)."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, axes or {}


class Layer:
    """Base layer (``tf.layers.Layer``).

    Args:
        trainable: whether its variables are trainable.
        name: the variable scope name (default: the snake-cased class name, made unique).
        dtype: the variables' dtype, or a dtype policy (``'mixed_bfloat16'``, a
            :class:`~eagerflow.mixed_precision.Policy`): the variables are then float32 and
            the layer computes in bfloat16. Default: the global policy when one is set
            (``ef.mixed_precision.set_global_policy``), else TF1's rule (float32, or the
            first input's float dtype).
        _reuse: TF1's reuse flag for the layer's scope.

    Subclasses implement ``build(input_shape)`` (calling :meth:`add_weight`) and
    ``call(inputs, ...)``.
    """

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, _scope=None,
                 activity_regularizer=None, **kwargs):
        unknown = set(kwargs) - {"input_shape", "batch_input_shape", "autocast"}
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        self.trainable = bool(trainable)
        self._base_name = name or _snake(type(self).__name__)
        self._name_given = name is not None
        self._reuse = _reuse
        self._scope = _scope
        self._dtype_policy = layer_policy(dtype)
        if self._dtype_policy is not None:
            self.dtype = as_dtype(self._dtype_policy.variable_dtype)
        else:
            self.dtype = as_dtype(dtype) if dtype is not None else None
        self.built = False
        self._variables = []
        self.activity_regularizer = activity_regularizer
        self._activity_losses = []
        self._weight_regularizers = []  # (variable, regularizer) of variables it created

    @property
    def losses(self):
        """The layer's losses (``layer.losses``): its weight regularizers evaluated on the
        variables' current values, then the latest call's activity regularization loss.

        TF's legacy ``Layer.add_weight`` registers a weight regularizer's loss with the layer
        only for a variable it newly creates (``_should_add_regularizer``), and Keras'
        ``_handle_activity_regularization`` adds ``activity_regularizer(output) /
        batch_size`` (keras/engine/base_layer_v1.py).
        """
        out = []
        for var, reg in self._weight_regularizers:
            loss = reg(var)
            if loss is not None:
                out.append(loss)
        return out + list(self._activity_losses)

    @property
    def name(self):
        return self._scope.name if self._scope is not None else self._base_name

    @property
    def dtype_policy(self):
        """The layer's :class:`~eagerflow.mixed_precision.Policy` (None: TF1's rule)."""
        return self._dtype_policy

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (its variables' dtype unless a mixed policy)."""
        if self._dtype_policy is not None:
            return as_dtype(self._dtype_policy.compute_dtype)
        return self.dtype

    def _read(self, var):
        """``var`` as the computation uses it: cast to the compute dtype under a mixed
        policy (Keras' autocast variables); the cast's gradient reaches ``var`` in its own
        dtype."""
        if isinstance(var, list):  # a PartitionedVariable: its shards concatenated, as TF
            var = var.as_tensor()    # reads one
        cd = self.compute_dtype
        if var is None or cd is None or var.dtype == cd or not is_real_floating(var.dtype):
            return var
        return ops.cast(var, cd)

    @property
    def scope_name(self):
        return self.name

    # --- variables ------------------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None, partitioner=None):
        """Creates (or finds) the variable ``<scope>/<name>`` through ``get_variable``."""
        if constraint is not None:
            raise NotImplementedError("variable constraints are not supported yet")
        scope = get_variable_scope().name
        full = f"{scope}/{name}" if scope else name
        existed = set(get_default_store().names())
        var = get_variable(name, shape=shape, dtype=_first(dtype, self.dtype, "float32"),
                           initializer=initializer, regularizer=regularizer,
                           trainable=trainable and self.trainable, partitioner=partitioner)
        self._variables.append(var)
        if regularizer is not None:
            for v in (var if isinstance(var, list) else [var]):
                if v.name not in existed and full not in existed:
                    self._weight_regularizers.append((v, regularizer))
        return var

    add_variable = add_weight

    @property
    def variables(self):
        out = []
        for v in self._variables:
            out.extend(v if isinstance(v, list) else [v])
        return out

    weights = variables

    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable]

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self):
        return [v for v in self.variables if not v.trainable]

    non_trainable_weights = non_trainable_variables

    def count_params(self):
        """The number of scalars in the layer's variables."""
        return int(sum(v.shape.num_elements() for v in self.variables))

    # --- calling --------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def _scope_reuse(self):
        # TF1's functional layers pass ``reuse`` to their variable scope as is: True, or
        # tf.AUTO_REUSE (create on first use, then share); anything else inherits
        if self._reuse is AUTO_REUSE:
            return AUTO_REUSE
        return True if self._reuse else None

    def _enter_scope(self):
        if self._scope is None:
            if self._name_given or self._reuse:
                cm = variable_scope(self._base_name, reuse=self._scope_reuse())
            else:
                cm = variable_scope(None, default_name=self._base_name)
            with cm as scope:
                self._scope = scope
        return variable_scope(self._scope, reuse=self._scope_reuse())

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, (Tensor, list, tuple, dict)):
            inputs = convert_to_tensor(inputs)
        if self.dtype is None and isinstance(inputs, Tensor) and \
                is_real_floating(inputs.dtype):
            self.dtype = inputs.dtype  # TF1: the first input's float dtype
        with self._enter_scope():
            if not self.built:
                shape = inputs.shape if isinstance(inputs, Tensor) else None
                self.build(shape)
                self.built = True
            out = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            # the latest call's loss only: a store collection would grow every eager step.
            # Keras divides by the batch size "to make activity regularization strength
            # batch-agnostic" (keras/engine/base_layer_v1.py, _handle_activity_regularization)
            loss = self.activity_regularizer(out)
            if loss is not None and isinstance(out, Tensor) and out.ndim > 0:
                loss = loss / ops.cast(convert_to_tensor(out.shape[0]), loss.dtype)
            self._activity_losses = [] if loss is None else [loss]
        return out

    apply = __call__

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}'>"


def _first(*values):
    """The first value that is not None (numpy dtypes are falsy, so `or` will not do)."""
    return next(v for v in values if v is not None)


def as_float_input(inputs, layer, dtype=None):
    """``inputs`` as a floating Tensor (ints are cast to the layer's dtype)."""
    t = convert_to_tensor(inputs)
    want = as_dtype(_first(dtype, layer.dtype, "float32"))
    if t.dtype != want:  # Keras' autocast: inputs follow the layer's variables
        t = ops.cast(t, want)
    return t
