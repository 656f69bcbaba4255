"""``BatchNormalization`` and ``batch_normalization`` (``tf.layers``' arguments and names).

Training normalizes with the batch's moments and moves ``moving_mean``/``moving_variance``
toward them: ``moving -= (moving - batch) * (1 - momentum)``, at once (there is no
UPDATE_OPS collection to run in eager mode). Inference uses the moving statistics. As in
TF, the variance fed to the moving average is the batch's biased variance, except on the
path TF fuses (4-D inputs normalized over the channel axis, ``fused`` not False), where it
is Bessel-corrected (``n / (n - 1)``).

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
from ..variables import initializers as init_ops
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

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if len(shape) == 1:
            shape = (shape[0],)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                        regularizer=self.gamma_regularizer,
                                        constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", shape,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def call(self, inputs, training=False):
        x = as_float_input(inputs, self, self.moving_mean.dtype)
        axes = self._axes(x.ndim)
        reduce_axes = [i for i in range(x.ndim) if i not in axes]
        bshape = [1] * x.ndim
        for a in axes:
            bshape[a] = x.shape[a]

        def b(v):
            return None if v is None else ops.reshape(v, bshape)
        if training:
            from ..nn import moments
            mean, var = moments(x, reduce_axes, keepdims=False)
            if len(axes) > 1:
                mean, var = ops.reshape(mean, self.moving_mean.shape), ops.reshape(
                    var, self.moving_mean.shape)
            n = 1
            for a in reduce_axes:
                n *= x.shape[a]
            fused = (self.fused is not False and x.ndim == 4 and axes in ([1], [3]))
            with no_grad():
                decay = 1.0 - self.momentum
                mv = var * (n / max(n - 1, 1)) if fused else var
                self.moving_mean.assign_sub((self.moving_mean - mean) * decay)
                self.moving_variance.assign_sub((self.moving_variance - mv) * decay)
        else:
            mean, var = self.moving_mean, self.moving_variance
        from ..nn import batch_normalization as bn
        return bn(x, b(mean), b(var), b(self.beta), b(self.gamma), self.epsilon)


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
