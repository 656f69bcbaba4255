"""Feature interactions of CTR models: the factorization-machine term (DeepFM, FM)."""
from .. import ops
from ..autograd.registry import defvjp, register
from ..kernels import fm as _kfm
from ._common import as_float_tensor

__all__ = ["fm_interaction"]

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
