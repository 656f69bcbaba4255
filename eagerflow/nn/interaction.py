"""Feature interactions of CTR models: the factorization-machine term (DeepFM, FM) and
DCN-V2's cross layer."""
from .. import ops
from ..autograd.registry import defvjp, defvjp_all, register
from ..kernels import dcn_cross as _kcross
from ..kernels import fm as _kfm
from ._common import as_float_tensor

__all__ = ["fm_interaction", "dcn_cross"]

_fm = register("fm_interaction", lambda xp, e: _kfm.fm(e))
_fm_grad = register("fm_interaction_grad", lambda xp, g, e: _kfm.fm_grad(g, e))


def _fm_grad_vjp_g(dv, ans, g, e):
    # d/dg of g_b (s_b - e_bf): sum over fields and dims of dv * (s - e)
    s = ops.reduce_sum(e, axis=1, keepdims=True)
    return ops.reshape(ops.reduce_sum(dv * (s - e), axis=[1, 2]), tuple(g.shape))


def _fm_grad_vjp_e(dv, ans, g, e):
    # d/de of sum dv * g (s - e): g_b (sum_f dv_b - dv_bf), the same shape of map again
    gb = ops.reshape(g, (int(e.shape[0]), 1, 1))
    return gb * (ops.reduce_sum(dv, axis=1, keepdims=True) - dv)


defvjp(_fm, lambda g, ans, e: _fm_grad(g, e))
defvjp(_fm_grad, _fm_grad_vjp_g, _fm_grad_vjp_e)


def fm_interaction(embeddings, name=None):
    """The second-order factorization-machine term of DeepFM (Guo et al., 2017).

    ``0.5 * sum_d((sum_f e[:, f, d])^2 - sum_f e[:, f, d]^2)``, i.e. the sum over field pairs
    ``f < f'`` of ``<e_f, e_f'>``, computed in one fused pass (and one for its gradient).

    Args:
        embeddings: float tensor of shape ``(batch, fields, dim)`` (the fields' embeddings
            stacked on axis 1).

    Returns:
        Tensor of shape ``(batch, 1)``. Differentiable to any order.

    Raises:
        ValueError: ``embeddings`` is not 3-D. TypeError: not floating point.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> nn.fm_interaction(ef.constant([[[1.0, 2.0], [3.0, 4.0]]])).numpy().tolist()
        [[11.0]]
    """
    e = as_float_tensor(embeddings, "fm_interaction", "embeddings")
    if e.ndim != 3:
        raise ValueError(f"fm_interaction: embeddings must have shape (batch, fields, dim), "
                         f"got {tuple(e.shape)}")
    return _fm(e)


_cross = register("dcn_cross", lambda xp, x0, x, xw, b: _kcross.cross(x0, xw, b, x))
_cross_grad = register("dcn_cross_grad",
                       lambda xp, g, x0, xw, b: _kcross.cross_grad(g, x0, xw, b), multi=True)


def _cross_vjp(g, ans, inputs, attrs, needs):
    x0, _, xw, b = inputs
    dxw, dx0, db = _cross_grad(g, x0, xw, b)
    return [dx0, g, dxw, db]


def _cross_grad_vjp(cot, ans, inputs, attrs, needs):
    # (dxw, dx0, db) = (g x0, g (xw + b), sum_rows g x0) is linear in g, x0 and (xw + b)
    u, v, w = cot
    g, x0, xw, b = inputs
    ux = u + w  # db's cotangent broadcasts over the rows, like dxw's
    gv = g * v
    return [ux * x0 + v * (xw + b), ux * g, gv, ops.reduce_sum(gv, axis=0)]


defvjp_all(_cross, _cross_vjp)
defvjp_all(_cross_grad, _cross_grad_vjp)


def dcn_cross(x0, x, xw, bias, name=None):
    """DCN-V2's cross interaction ``x0 * (xw + bias) + x`` in one fused pass (and one for its
    gradient), ``xw`` being the layer's ``x @ W`` (or ``x @ U @ V``) — the layer of
    ``tfrs.layers.dcn.Cross`` after its matmul.

    Args:
        x0: the cross network's input, float tensor of shape ``(batch, d)``.
        x: this layer's input, same shape and dtype.
        xw: ``x`` times the layer's kernel, same shape and dtype.
        bias: shape ``(d,)``, same dtype.

    Returns:
        Tensor of shape ``(batch, d)``. Differentiable to any order.

    Raises:
        ValueError: the shapes do not match. TypeError: not floating point, or mixed dtypes.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> x0, xw = ef.constant([[2.0, 3.0]]), ef.constant([[1.0, 1.0]])
        >>> nn.dcn_cross(x0, x0, xw, ef.constant([0.5, 0.0])).numpy().tolist()
        [[5.0, 6.0]]
    """
    args = [as_float_tensor(t, "dcn_cross", n)
            for t, n in ((x0, "x0"), (x, "x"), (xw, "xw"), (bias, "bias"))]
    dtypes = {t.dtype.name for t in args}
    if len(dtypes) != 1:
        raise TypeError(f"dcn_cross: x0, x, xw and bias must have one dtype, got "
                        f"{[t.dtype.name for t in args]}")
    shape = tuple(args[0].shape)
    if len(shape) != 2 or tuple(args[1].shape) != shape or tuple(args[2].shape) != shape \
            or tuple(args[3].shape) != shape[1:]:
        raise ValueError(f"dcn_cross: x0, x and xw must have one shape (batch, d) and bias "
                         f"(d,), got {[tuple(t.shape) for t in args]}")
    return _cross(*args)
