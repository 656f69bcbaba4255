"""Activations, ``bias_add`` and ``dropout`` (``tf.nn``).

All are compositions of core ops, so their gradients (of any order) come from the tape.
Where TF's gradient at a kink differs from what a naive composition gives, the composition
follows TF (``relu``'s gradient at 0 is 0).
"""
import math

import numpy as np

from .. import ops
from ..autograd.registry import defvjp, defvjp_all, register
from ..autograd.tensor import Tensor, _wrap
from ..backend import random as _random
from ..kernels import activation as _ka
from ..kernels import gemm_lt as _gemm_lt
from ..ops import math_extra as _math_extra
from ._common import as_float_tensor, data_format_channels_last, to_tensor

__all__ = ["relu", "relu_layer", "relu6", "leaky_relu", "elu", "selu", "gelu", "softplus",
           "softsign", "swish", "silu", "sigmoid", "tanh", "bias_add", "dropout", "crelu"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(features, name=None):
    """``max(features, 0)``; the gradient at 0 is 0 as in TF.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.relu(ef.constant([-1.0, 2.0])).numpy().tolist()
        [0.0, 2.0]
    """
    x = as_float_tensor(features, "relu", "features")
    return _relu(x)


# relu and its gradient are one fused pass each (TF's Relu / ReluGrad); relu_grad is linear
# in g, so its own vjp is relu_grad again and gradients of any order work.
_relu = register("relu", lambda xp, x: _ka.relu(x))
_relu_grad = register("relu_grad", lambda xp, g, y: _ka.relu_grad(g, y))
defvjp(_relu, lambda g, ans, x: _relu_grad(g, ans))
defvjp(_relu_grad, lambda dg, ans, g, y: _relu_grad(dg, y), None)


def _bias_relu_vjp(g, ans, inputs, attrs, needs):
    x, b = inputs
    dx = _relu_grad(g, ans)
    db = None
    if needs[1]:
        db = ops.reduce_sum(dx, axis=list(range(len(x.shape) - 1))) if len(x.shape) > 1 else dx
    return [dx if needs[0] else None, db]


# relu(x + bias) in one pass (the forward of relu_layer for inputs of rank > 2)
_bias_relu = register("bias_relu", lambda xp, x, b: _ka.bias_relu(x, b))
defvjp_all(_bias_relu, _bias_relu_vjp)


def _matmul_bgrad_vjp(g, ans, inputs, attrs, needs):
    # (dw, db) = (x^T gz, sum_rows gz) is linear in each input: dx = gz gdw^T,
    # dgz = x gdw + gdb (broadcast over the rows)
    x, gz = inputs
    gdw, gdb = g
    dx = ops.matmul(gz, gdw, transpose_b=True) if needs[0] else None
    dgz = ops.matmul(x, gdw) + gdb if needs[1] else None
    return [dx, dgz]


# a dense layer's weight and bias gradients from one GEMM (the bias gradient is the GEMM's
# epilogue on the GPU; kernels/gemm_lt.py)
_matmul_bgrad = register("matmul_bgrad", lambda xp, x, gz: _gemm_lt.matmul_bgrad(x, gz),
                         multi=True)
defvjp_all(_matmul_bgrad, _matmul_bgrad_vjp)


def _relu_layer_vjp(g, ans, inputs, attrs, needs):
    x, w, _ = inputs
    gz = _relu_grad(g, ans)
    dx = dw = db = None
    if needs[0]:
        dx = ops.matmul(gz, w, transpose_b=True)
    if needs[1] and needs[2]:
        dw, db = _matmul_bgrad(x, gz)
    elif needs[1]:
        dw = ops.matmul(x, gz, transpose_a=True)
    elif needs[2]:
        db = ops.reduce_sum(gz, axis=0)
    return [dx, dw, db]


# relu(x @ w + b) of a 2-D x as one op: one cuBLASLt GEMM with the bias add and the ReLU in
# its epilogue on the GPU; its vjp is relu_grad, matmul_bgrad and matmul, registered ops
# with vjps of their own, so gradients of any order work
_relu_layer = register("relu_layer", lambda xp, x, w, b: _gemm_lt.linear_relu(x, w, b))
defvjp_all(_relu_layer, _relu_layer_vjp)


def _check_biases(b, units):
    if len(b.shape) != 1 or b.shape[0] != units:
        raise ValueError(f"relu_layer: biases of shape {tuple(b.shape)} do not match "
                         f"{int(units)} output units")


def relu_layer(x, weights, biases, name=None):
    """``relu(matmul(x, weights) + biases)`` (``tf.nn.relu_layer``).

    A 2-D ``x`` runs one op: on the GPU one cuBLASLt GEMM with the bias add and the ReLU
    as its epilogue forward, and one GEMM that also reduces the bias gradient backward
    (``kernels/gemm_lt.py``). Other ranks run ``matmul`` and a fused bias+ReLU pass.

    Args:
        x: float tensor ``(batch, in)``.
        weights: ``(in, out)``. biases: ``(out,)``.

    Returns:
        Tensor ``(batch, out)``; gradients (of any order) reach all three arguments.

    Raises:
        ValueError: biases that do not match the output units; matmul's errors for
            ``x`` and ``weights``.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.relu_layer(ef.constant([[1.0, -2.0]]), ef.constant([[1.0], [1.0]]),
        ...               ef.constant([0.5])).numpy().tolist()
        [[0.0]]
    """
    x = as_float_tensor(x, "relu_layer", "x")
    b = to_tensor(biases, x.dtype)
    w = to_tensor(weights, x.dtype)
    if x.ndim == 2 and w.ndim == 2 and w.dtype == x.dtype and x.shape[1] == w.shape[0]:
        _check_biases(b, w.shape[1])
        if b.dtype != x.dtype:
            b = ops.cast(b, x.dtype)
        return _relu_layer(x, w, b)
    # other ranks, and shapes matmul rejects (its errors are the ones to report)
    y = ops.matmul(x, w)
    _check_biases(b, y.shape[-1])
    if b.dtype != y.dtype:
        b = ops.cast(b, y.dtype)
    return _bias_relu(y, b)


def relu6(features, name=None):
    """``min(max(features, 0), 6)``; gradient 1 strictly inside (0, 6)."""
    x = as_float_tensor(features, "relu6", "features")
    inside = ops.logical_and(x > 0, x < 6)
    return ops.where(inside, x, ops.where(x >= 6, ops.ones_like(x) * 6.0, ops.zeros_like(x)))


def crelu(features, axis=-1, name=None):
    """``concat([relu(x), relu(-x)], axis)`` (``tf.nn.crelu``)."""
    x = as_float_tensor(features, "crelu", "features")
    return ops.concat([relu(x), relu(-x)], axis=axis)


def leaky_relu(features, alpha=0.2, name=None):
    """``features`` where positive, ``alpha * features`` elsewhere (``tf.nn.leaky_relu``)."""
    x = to_tensor(features)
    if x.dtype.kind in "iub":
        x = ops.cast(x, np.float32)  # TF casts integer features to float32
    x = as_float_tensor(x, "leaky_relu", "features")
    if isinstance(alpha, np.ndarray):
        alpha = alpha.item()
    return ops.where(x > 0, x, x * float(alpha))


def elu(features, name=None):
    """``features`` where non-negative, ``exp(features) - 1`` where negative.

    As TF's Elu/EluGrad (``features < 0`` selects the exponential branch), the gradient at 0
    is 1."""
    x = as_float_tensor(features, "elu", "features")
    neg = x < 0
    return ops.where(neg, ops.expm1(ops.where(neg, x, ops.zeros_like(x))), x)


def selu(features, name=None):
    """Scaled ELU with TF's constants (``scale * elu`` with ``alpha = 1.6733``).

    As TF's Selu/SeluGrad (core/kernels/relu_op_functor.h: ``features < 0`` selects
    ``scale * alpha * expm1``), the gradient at 0 is ``scale``, not ``scale * alpha``."""
    x = as_float_tensor(features, "selu", "features")
    neg = x < 0
    expo = ops.expm1(ops.where(neg, x, ops.zeros_like(x))) * _SELU_ALPHA
    return ops.where(neg, expo, x) * _SELU_SCALE


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit: exact (``0.5 x (1 + erf(x / sqrt 2))``) or the tanh form.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> round(float(nn.gelu(ef.constant([1.0])).numpy()[0]), 4)
        0.8413
    """
    x = as_float_tensor(features, "gelu", "features")
    if approximate:
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (ops.tanh(inner) + 1.0)
    return x * 0.5 * (ops.erf(x * (1.0 / math.sqrt(2.0))) + 1.0)


def softplus(features, name=None):
    """``log(exp(features) + 1)``, stable for large |features|."""
    x = as_float_tensor(features, "softplus", "features")
    return -ops.log_sigmoid(-x)


softsign = _math_extra.softsign  # one op, TF's gradient g / (1 + |x|)^2


def swish(features, beta=1.0, name=None):
    """``features * sigmoid(beta * features)`` (``tf.nn.swish`` / ``silu``).

    ``beta`` may be a Tensor or Variable; as in TF (``nn_impl.swish``) the gradient reaches
    it (``sum(dy * x^2 * s * (1 - s))``)."""
    x = as_float_tensor(features, "swish", "features")
    if isinstance(beta, Tensor):
        b = beta if beta.dtype == x.dtype else ops.cast(beta, x.dtype)
        return x * ops.sigmoid(x * b)
    beta = float(beta)
    return x * ops.sigmoid(x * beta) if beta != 1.0 else x * ops.sigmoid(x)


silu = swish


def sigmoid(x, name=None):
    """``1 / (1 + exp(-x))``, stable in both directions."""
    return ops.sigmoid(as_float_tensor(x, "sigmoid", "x"))


def tanh(x, name=None):
    """Hyperbolic tangent."""
    return ops.tanh(as_float_tensor(x, "tanh", "x"))


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D ``bias`` along the channel axis of ``value`` (``tf.nn.bias_add``).

    Args:
        value: tensor of rank >= 2, channels last (``'N...C'``, the default) or second
            (``'NC...'``).
        bias: tensor of shape ``(channels,)`` with the dtype of ``value``.
        data_format: None, ``'NHWC'``/``'NWC'``/``'NDHWC'`` or ``'NCHW'``/``'NCW'``/``'NCDHW'``.

    Raises:
        ValueError: bias not 1-D, its size not the channel size, or value of rank < 2.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.bias_add(ef.zeros((1, 2)), ef.constant([1.0, 2.0])).numpy().tolist()
        [[1.0, 2.0]]
    """
    x = to_tensor(value)
    b = to_tensor(bias, x.dtype)
    if x.ndim < 2:
        raise ValueError(f"bias_add: value must have rank >= 2, got shape {tuple(x.shape)}")
    if b.ndim != 1:
        raise ValueError(f"bias_add: bias must be 1-D, got shape {tuple(b.shape)}")
    last = data_format_channels_last(data_format, "bias_add")
    c = x.shape[-1] if last else x.shape[1]
    if b.shape[0] != c:
        raise ValueError(f"bias_add: bias has {b.shape[0]} elements but value has {c} "
                         f"channels (data_format={data_format or 'NHWC'})")
    if last:
        return x + b
    return x + ops.reshape(b, (c,) + (1,) * (x.ndim - 2))


def _noise_shape(noise_shape, x_shape):
    """TF's ``_get_noise_shape``: ``None`` entries of a noise_shape of x's rank take x's
    dimension there."""
    if isinstance(noise_shape, Tensor):
        noise_shape = noise_shape.numpy().tolist()
    dims = list(noise_shape)
    if len(dims) == len(x_shape):
        dims = [x_shape[i] if d is None else d for i, d in enumerate(dims)]
    return tuple(int(d) for d in dims)


def dropout(x, rate=None, noise_shape=None, seed=None, name=None, keep_prob=None):
    """Zeroes elements with probability ``rate`` and scales the rest by ``1 / (1 - rate)``.

    ``tf.nn.dropout``: the mask is drawn from the op's generator, so with a global seed
    (``ef.random.set_seed``) and ``seed`` fixed the masks are reproducible. TF1's
    ``keep_prob`` is accepted as ``rate = 1 - keep_prob``.

    Args:
        x: floating tensor.
        rate: probability of dropping an element, in ``[0, 1)``.
        noise_shape: shape of the mask, broadcastable to ``x.shape`` (e.g. ``(batch, 1)``
            keeps or drops whole rows); ``None`` entries take x's dimension, as in TF.
        seed: op seed.

    Raises:
        ValueError: ``rate`` outside ``[0, 1)`` or both/neither of rate and keep_prob.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> y = nn.dropout(ef.ones((2, 3)), rate=0.5, seed=1)
        >>> sorted(set(y.numpy().ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    if (rate is None) == (keep_prob is None):
        raise ValueError("dropout: pass exactly one of rate and keep_prob")
    if rate is None:
        rate = 1.0 - float(keep_prob)
    if isinstance(rate, Tensor):
        rate = float(rate.numpy())
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be a scalar in [0, 1), got {rate}")
    t = as_float_tensor(x, "dropout", "x")
    if rate == 0.0:
        return ops.identity(t)
    shape = tuple(t.shape) if noise_shape is None else _noise_shape(noise_shape, t.shape)
    try:
        np.broadcast_shapes(shape, tuple(t.shape))
    except ValueError:
        raise ValueError(f"dropout: noise_shape {shape} is not broadcastable to the shape of "
                         f"x {tuple(t.shape)}") from None
    gen = _random.generator(seed)
    u = gen.uniform(shape, np.dtype(t.dtype))
    keep = (u >= rate).astype(t.dtype) * t.dtype.type(1.0 / (1.0 - rate))
    return t * _wrap(keep)
