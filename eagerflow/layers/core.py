"""Core layers: ``Dense``, ``Dropout``, ``Flatten``, ``Embedding`` and their functional
forms (``dense``, ``dropout``, ``flatten``), with ``tf.layers``' arguments.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     y = dense(ef.ones((2, 3)), 4, activation="relu", name="fc1")
    ...     y.shape
    TensorShape([2, 4])
"""
import math

from .. import nn, ops
from ..autograd.tensor import convert_to_tensor
from ..autograd.variable import Variable
from ..variables import initializers as init_ops
from .base import Layer, _first, as_float_input, get_activation

__all__ = ["Dense", "Dropout", "Flatten", "Embedding", "dense", "dropout", "flatten"]


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` (``tf.layers.Dense``).

    Variables: ``kernel`` ``(in_dim, units)`` (default initializer: ``get_variable``'s
    glorot_uniform) and ``bias`` ``(units,)`` (zeros). Inputs of rank > 2 contract their
    last axis.

    Raises:
        ValueError: a non-positive ``units``, an unknown activation, or an input whose last
            axis differs from the one the layer was built for.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None,
                 bias_initializer=init_ops.Zeros(), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        if int(units) < 1:
            raise ValueError(f"Dense: units must be a positive int, got {units}")
        self.units = int(units)
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = init_ops.get(kernel_initializer)
        self.bias_initializer = init_ops.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.kernel = self.bias = None

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"Dense {self.name}: the last dimension of the inputs must be "
                             f"defined, got shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        x = as_float_input(inputs, self, _first(self.compute_dtype, self.kernel.dtype))
        kernel, bias = self._read(self.kernel), self._read(self.bias)
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer {self.name} is incompatible with the layer: "
                             f"expected axis -1 of input shape to have value "
                             f"{self.kernel.shape[0]}, got shape {tuple(x.shape)}")
        if (x.ndim == 2 and self.use_bias and self.activation is nn.relu
                and isinstance(self.kernel, Variable) and isinstance(self.bias, Variable)
                and bias.dtype == kernel.dtype):
            # the same relu(x @ kernel + bias), with the bias add and the ReLU in one pass
            # each way (tf.nn.relu_layer's op) instead of an add, a ReLU and a separate
            # bias-gradient reduction: -1.5 ms per hidden layer of the Estimator's DeepFM
            # at batch 4096 (bench/NOTES.md)
            return nn.relu_layer(x, kernel, bias)
        if x.ndim == 2:
            y = ops.matmul(x, kernel)
        else:
            y = ops.tensordot(x, kernel, [[x.ndim - 1], [0]])
        if self.use_bias:
            y = y + bias
        return self.activation(y) if self.activation is not None else y


class Dropout(Layer):
    """Drops inputs with probability ``rate`` when ``training=True`` (``tf.layers.Dropout``).

    Raises:
        ValueError: ``rate`` outside ``[0, 1)``.
    """

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def call(self, inputs, training=False):
        x = convert_to_tensor(inputs)
        if not training or self.rate == 0.0:
            return x
        from .. import nn
        return nn.dropout(x, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)


class Flatten(Layer):
    """Flattens all but the batch axis (``tf.layers.Flatten``); ``channels_first`` inputs
    are moved to channels-last order first, as TF does."""

    def __init__(self, data_format="channels_last", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"Flatten: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = data_format

    def call(self, inputs):
        x = convert_to_tensor(inputs)
        if self.data_format == "channels_first" and x.ndim > 2:
            x = ops.transpose(x, [0] + list(range(2, x.ndim)) + [1])
        if x.ndim == 1:
            return ops.expand_dims(x, 1)
        return ops.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


class Embedding(Layer):
    """Rows of an ``(input_dim, output_dim)`` table (Keras ``Embedding``); the gradient of
    the table is an ``IndexedSlices``, so optimizers update only the looked-up rows.

    Variables: ``embeddings`` (default initializer: uniform in [-0.05, 0.05]).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None,
                 trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        if int(input_dim) < 1 or int(output_dim) < 1:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive, got "
                             f"{input_dim}, {output_dim}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = init_ops.get(embeddings_initializer)
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero, self.input_length = mask_zero, input_length
        self.embeddings = None

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        ids = convert_to_tensor(inputs)
        if ids.dtype.kind not in "iu":
            ids = ops.cast(ids, "int64")
        out = ops.gather(self.embeddings, ids)
        # under a mixed policy the rows are cast after the gather, not the whole table
        return self._read(out) if self.compute_dtype is not None else out


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=init_ops.Zeros(), kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """Functional :class:`Dense` (``tf.layers.dense``)."""
    layer = Dense(units, activation=activation, use_bias=use_bias,
                  kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                  kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                  activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, _reuse=reuse)
    return layer(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Functional :class:`Dropout` (``tf.layers.dropout``); identity unless ``training``."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)(inputs,
                                                                         training=training)


def flatten(inputs, name=None, data_format="channels_last"):
    """Functional :class:`Flatten` (``tf.layers.flatten``)."""
    return Flatten(data_format=data_format, name=name)(inputs)
