"""Convolution and pooling layers (``tf.layers.Conv1D/2D/3D``, ``Conv2DTranspose``,
``Conv3DTranspose``, ``SeparableConv1D/2D``, ``MaxPooling*``/``AveragePooling*``) and
their functional forms, computed by ``eagerflow.nn``.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     conv2d(ef.ones((1, 5, 5, 3)), 8, 3, padding="same").shape
    TensorShape([1, 5, 5, 8])
"""
from .. import nn, ops
from ..variables import initializers as init_ops
from .base import Layer, _first, as_float_input, get_activation

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
           "SeparableConv1D", "SeparableConv2D", "MaxPooling1D", "MaxPooling2D",
           "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
           "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose",
           "separable_conv1d", "separable_conv2d", "max_pooling1d", "max_pooling2d",
           "max_pooling3d", "average_pooling1d", "average_pooling2d", "average_pooling3d"]

_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _tuple(v, n, what):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{what} must be an int or {n} ints, got {v}")
    return v


def _padding(p, causal=False):
    p = str(p).upper()
    if p == "CAUSAL" and causal:
        return p
    if p not in ("SAME", "VALID"):
        extra = " or 'causal'" if causal else ""
        raise ValueError(f"padding must be 'valid', 'same'{extra}, got {p.lower()!r}")
    return p


def _format(data_format, rank):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return _FORMATS[rank][0 if data_format == "channels_last" else 1]


class _Conv(Layer):
    _rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer=None, bias_initializer=init_ops.Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name,
                         activity_regularizer=activity_regularizer, **kwargs)
        if int(filters) < 1:
            raise ValueError(f"{type(self).__name__}: filters must be positive, got {filters}")
        n = self._rank
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        self.strides = _tuple(strides, n, "strides")
        self.dilation_rate = _tuple(dilation_rate, n, "dilation_rate")
        # Keras' Conv takes padding='causal' for Conv1D and SeparableConv1D only
        self.padding = _padding(padding, causal=self._rank == 1)
        self.data_format = data_format
        self._nn_format = _format(data_format, n)
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = init_ops.get(kernel_initializer)
        self.bias_initializer = init_ops.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.kernel = self.bias = None

    def _channels(self, input_shape):
        if input_shape is None or len(input_shape) != self._rank + 2:
            raise ValueError(f"{type(self).__name__} {self.name}: inputs must have rank "
                             f"{self._rank + 2}, got shape {input_shape}")
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _kernel_shape(self, cin):
        return self.kernel_size + (cin, self.filters)

    def build(self, input_shape):
        cin = self._channels(input_shape)
        self.kernel = self.add_weight("kernel", self._kernel_shape(cin),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _conv(self, x):
        return nn.convolution(x, self._read(self.kernel), self._nn_padding(),
                              strides=self.strides,
                              dilation_rate=self.dilation_rate, data_format=self._nn_format)

    def _nn_padding(self):
        return "VALID" if self.padding == "CAUSAL" else self.padding

    def _causal_pad(self, x):
        # keras Conv._compute_causal_padding: dilation * (kernel - 1) zeros before the time
        # axis, then a VALID convolution
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        pads = [[0, 0]] * x.ndim
        pads[1 if self.data_format == "channels_last" else 2] = [left, 0]
        return ops.pad(x, pads)

    def call(self, inputs):
        x = as_float_input(inputs, self, _first(self.compute_dtype, self.kernel.dtype))
        if self.padding == "CAUSAL":
            x = self._causal_pad(x)
        y = self._conv(x)
        if self.use_bias:
            y = nn.bias_add(y, self._read(self.bias), data_format=self._nn_format)
        return self.activation(y) if self.activation is not None else y


class Conv1D(_Conv):
    """1-D convolution layer; kernel ``(k, in_channels, filters)``."""
    _rank = 1


class Conv2D(_Conv):
    """2-D convolution layer; kernel ``(kh, kw, in_channels, filters)``."""
    _rank = 2


class Conv3D(_Conv):
    """3-D convolution layer; kernel ``(kd, kh, kw, in_channels, filters)``."""
    _rank = 3


def _deconv_length(n, k, padding, stride, dilation):
    k = k + (k - 1) * (dilation - 1)
    return n * stride if padding == "SAME" else n * stride + max(k - stride, 0)


class _ConvTranspose(_Conv):
    def _kernel_shape(self, cin):
        return self.kernel_size + (self.filters, cin)

    def _conv(self, x):
        last = self.data_format == "channels_last"
        spatial = x.shape[1:-1] if last else x.shape[2:]
        out_sp = [_deconv_length(n, k, self.padding, s, d) for n, k, s, d in
                  zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        out = ([x.shape[0]] + out_sp + [self.filters]) if last else (
            [x.shape[0], self.filters] + out_sp)
        fn = nn.conv2d_transpose if self._rank == 2 else nn.conv3d_transpose
        return fn(x, self._read(self.kernel), out, self.strides, self.padding,
                  data_format=self._nn_format, dilations=self.dilation_rate)


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution; kernel ``(kh, kw, filters, in_channels)``."""
    _rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution; kernel ``(kd, kh, kw, filters, in_channels)``."""
    _rank = 3


class _SeparableConv(_Conv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=init_ops.Zeros(),
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, None, bias_initializer, None, bias_regularizer,
                         activity_regularizer, None, bias_constraint, trainable, name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = init_ops.get(depthwise_initializer)
        self.pointwise_initializer = init_ops.get(pointwise_initializer)
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        cin = self._channels(input_shape)
        n, dm = self._rank, self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (cin, dm),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * n + (cin * dm, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.kernel = self.depthwise_kernel  # dtype reference for call()
        self.built = True

    def _conv(self, x):
        fn = nn.separable_conv1d if self._rank == 1 else nn.separable_conv2d
        return fn(x, self._read(self.depthwise_kernel), self._read(self.pointwise_kernel),
                  self.strides,
                  self._nn_padding(),
                  data_format=self._nn_format, dilations=self.dilation_rate)


class SeparableConv1D(_SeparableConv):
    """Depthwise then pointwise 1-D convolution."""
    _rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise then pointwise 2-D convolution."""
    _rank = 2


class _Pool(Layer):
    _rank = 2
    _kind = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _tuple(pool_size, self._rank, "pool_size")
        self.strides = _tuple(strides if strides is not None else pool_size, self._rank,
                              "strides")
        self.padding = _padding(padding)
        self.data_format = data_format
        self._nn_format = _format(data_format, self._rank)

    def call(self, inputs):
        x = as_float_input(inputs, self)
        fn = nn.max_pool if self._kind == "max" else nn.avg_pool
        return fn(x, self.pool_size, self.strides, self.padding, data_format=self._nn_format)


def _pool_class(name, rank, kind):
    doc = f"{'Max' if kind == 'max' else 'Average'} pooling over {rank} spatial dims."
    return type(name, (_Pool,), {"_rank": rank, "_kind": kind, "__doc__": doc})


MaxPooling1D = _pool_class("MaxPooling1D", 1, "max")
MaxPooling2D = _pool_class("MaxPooling2D", 2, "max")
MaxPooling3D = _pool_class("MaxPooling3D", 3, "max")
AveragePooling1D = _pool_class("AveragePooling1D", 1, "avg")
AveragePooling2D = _pool_class("AveragePooling2D", 2, "avg")
AveragePooling3D = _pool_class("AveragePooling3D", 3, "avg")


def _functional(cls, doc):
    def fn(inputs, *args, name=None, reuse=None, **kwargs):
        return cls(*args, name=name, _reuse=reuse, **kwargs)(inputs)
    fn.__doc__ = doc
    return fn


conv1d = _functional(Conv1D, "Functional :class:`Conv1D` (``tf.layers.conv1d``).")
conv2d = _functional(Conv2D, "Functional :class:`Conv2D` (``tf.layers.conv2d``).")
conv3d = _functional(Conv3D, "Functional :class:`Conv3D` (``tf.layers.conv3d``).")
conv2d_transpose = _functional(Conv2DTranspose, "Functional :class:`Conv2DTranspose`.")
conv3d_transpose = _functional(Conv3DTranspose, "Functional :class:`Conv3DTranspose`.")
separable_conv1d = _functional(SeparableConv1D, "Functional :class:`SeparableConv1D`.")
separable_conv2d = _functional(SeparableConv2D, "Functional :class:`SeparableConv2D`.")
max_pooling1d = _functional(MaxPooling1D, "Functional :class:`MaxPooling1D`.")
max_pooling2d = _functional(MaxPooling2D, "Functional :class:`MaxPooling2D`.")
max_pooling3d = _functional(MaxPooling3D, "Functional :class:`MaxPooling3D`.")
average_pooling1d = _functional(AveragePooling1D, "Functional :class:`AveragePooling1D`.")
average_pooling2d = _functional(AveragePooling2D, "Functional :class:`AveragePooling2D`.")
average_pooling3d = _functional(AveragePooling3D, "Functional :class:`AveragePooling3D`.")
