"""``BatchNormalization`` and ``batch_normalization`` (``tf.layers``' arguments and names).

Training normalizes with the batch's moments and moves ``moving_mean``/``moving_variance``
toward them: ``moving -= (moving - batch) * (1 - momentum)``, at once (there is no
UPDATE_OPS collection to run in eager mode). Inference uses the moving statistics. As in
TF, the variance fed to the moving average is the batch's biased variance, except on the
path TF fuses (4-D inputs normalized over axis 1 or 3, 5-D over axis 1 or 4, ``fused`` not
False), where it is Bessel-corrected (``n / (n - 1)``). float16/bfloat16 layers keep float32
variables and do the math in float32, as Keras does.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     bn = BatchNormalization()
    ...     y = bn(ef.constant([[1.0], [3.0]]), training=True)
    ...     [v.name for v in bn.variables]
    ['batch_normalization/gamma', 'batch_normalization/beta', 'batch_normalization/moving_mean', 'batch_normalization/moving_variance']
"""
from .. import ops
from ..autograd.tape import no_grad
from ..backend.dtypes import bfloat16, float16, float32
from ..variables import initializers as init_ops
from ..variables.store import get_variable_scope
from .base import Layer, as_float_input

__all__ = ["BatchNormalization", "batch_normalization"]


class BatchNormalization(Layer):
    """Batch normalization over every axis but ``axis`` (``tf.layers.BatchNormalization``).

    Variables: ``gamma`` (if ``scale``), ``beta`` (if ``center``), ``moving_mean``,
    ``moving_variance`` (not trainable), each of shape ``(channels,)``.

    Raises:
        ValueError: an axis out of range; NotImplementedError for ``renorm`` or
            ``virtual_batch_size``.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer=init_ops.Zeros(), gamma_initializer=init_ops.Ones(),
                 moving_mean_initializer=init_ops.Zeros(),
                 moving_variance_initializer=init_ops.Ones(), beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None,
                 trainable=True, virtual_batch_size=None, adjustment=None, name=None,
                 **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("BatchNormalization: renorm, virtual_batch_size and "
                                      "adjustment are not supported")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale
        self.beta_initializer = init_ops.get(beta_initializer)
        self.gamma_initializer = init_ops.get(gamma_initializer)
        self.moving_mean_initializer = init_ops.get(moving_mean_initializer)
        self.moving_variance_initializer = init_ops.get(moving_variance_initializer)
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint
        self.fused = fused
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _axes(self, ndim):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        out = []
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"BatchNormalization {self.name}: axis {a} is out of range "
                                 f"for inputs of rank {ndim}")
            out.append(a % ndim)
        return out

    def _param_dtype(self):
        # "Raise parameters of fp16 batch norm to fp32" (keras BatchNormalizationBase.
        # _param_dtype): float16/bfloat16 layers keep float32 gamma/beta/moving statistics
        dt = self.dtype
        if dt is not None and dt in (float16, bfloat16):
            return float32
        return dt if dt is not None else float32

    def _fused_for(self, ndim, axes):
        """Whether TF takes its fused path (Bessel-corrected moving variance): keras'
        V1 ``BatchNormalizationBase.build`` sets ``fused = rank in (4, 5) and
        _fused_can_be_used()`` with the channel axis 1 or 3 (rank 4) / 1 or 4 (rank 5) and
        a float16/bfloat16/float32 compute dtype.

        float64 inputs are kept on the fused path here (tests/layers pins that).
        """
        if self.fused is False or len(axes) != 1:
            return False
        return (ndim == 4 and axes[0] in (1, 3)) or (ndim == 5 and axes[0] in (1, 4))

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = self._axes(ndim)
        if len(set(axes)) != len(axes):
            raise ValueError(f"BatchNormalization {self.name}: duplicate axis {self.axis}")
        if len(axes) == 1:
            shape = (input_shape[axes[0]],)
        else:
            # "Parameter shape is the original shape but with 1 in all non-axis dims"
            # (keras BatchNormalizationBase.build)
            shape = tuple(input_shape[i] if i in axes else 1 for i in range(ndim))
        pdt = self._param_dtype()
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, dtype=pdt,
                                        initializer=self.gamma_initializer,
                                        regularizer=self.gamma_regularizer,
                                        constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape, dtype=pdt,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        # TF disables the scope's partitioner for the moving statistics
        scope = get_variable_scope()
        partitioner = scope.partitioner
        scope.set_partitioner(None)
        try:
            self.moving_mean = self.add_weight("moving_mean", shape, dtype=pdt,
                                               initializer=self.moving_mean_initializer,
                                               trainable=False)
            self.moving_variance = self.add_weight(
                "moving_variance", shape, dtype=pdt,
                initializer=self.moving_variance_initializer, trainable=False)
        finally:
            scope.set_partitioner(partitioner)
        self.built = True

    def call(self, inputs, training=False):
        x = as_float_input(inputs, self, self.compute_dtype)
        out_dtype = x.dtype
        if x.dtype != self.moving_mean.dtype:
            # keras does the math of 16-bit inputs in float32, then casts back
            x = ops.cast(x, self.moving_mean.dtype)
        axes = self._axes(x.ndim)
        reduce_axes = [i for i in range(x.ndim) if i not in axes]
        bshape = [1] * x.ndim
        for a in axes:
            bshape[a] = x.shape[a]

        def b(v):
            if v is None:
                return None
            if isinstance(v, list):  # gamma/beta made in a partitioned variable scope
                v = v.as_tensor()
            return ops.reshape(v, bshape)
        if training:
            from ..nn import moments
            mean, var = moments(x, reduce_axes, keepdims=False)
            if len(axes) > 1:
                mean, var = ops.reshape(mean, self.moving_mean.shape), ops.reshape(
                    var, self.moving_mean.shape)
            n = 1
            for a in reduce_axes:
                n *= x.shape[a]
            fused = self._fused_for(x.ndim, axes)
            with no_grad():
                decay = 1.0 - self.momentum
                mv = var * (n / max(n - 1, 1)) if fused else var
                self.moving_mean.assign_sub((self.moving_mean - mean) * decay)
                self.moving_variance.assign_sub((self.moving_variance - mv) * decay)
        else:
            mean, var = self.moving_mean, self.moving_variance
        from ..nn import batch_normalization as bn
        y = bn(x, b(mean), b(var), b(self.beta), b(self.gamma), self.epsilon)
        return y if y.dtype == out_dtype else ops.cast(y, out_dtype)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=init_ops.Zeros(), gamma_initializer=init_ops.Ones(),
                        moving_mean_initializer=init_ops.Zeros(),
                        moving_variance_initializer=init_ops.Ones(), beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                        training=False, trainable=True, name=None, reuse=None, renorm=False,
                        renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None):
    """Functional :class:`BatchNormalization` (``tf.layers.batch_normalization``)."""
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _reuse=reuse)
    return layer(inputs, training=training)
