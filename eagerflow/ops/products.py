"""Matrix products: matmul (batched, transposes), tensordot, einsum — all differentiable."""
import numpy as np

from ..autograd.registry import defvjp_all, register
from ..kernels import gemm as _gemm
from ..autograd.tensor import Tensor, _to_array, _wrap
from .broadcast import unbroadcast
from .array import matrix_transpose, reshape, transpose

__all__ = ["matmul", "tensordot", "einsum", "matvec"]


def _mm_fwd(xp, a, b):
    return _gemm.matmul(xp, a, b)


def _mm_vjp(g, ans, inputs, attrs, needs):
    a, b = inputs
    ga = gb = None
    if needs[0]:
        ga = unbroadcast(_mm(g, matrix_transpose(b)), tuple(a.shape))
    if needs[1]:
        gb = unbroadcast(_mm(matrix_transpose(a), g), tuple(b.shape))
    return [ga, gb]


_mm = register("matmul", _mm_fwd)
defvjp_all(_mm, _mm_vjp)


def _t(x):
    return x if isinstance(x, Tensor) else _wrap(_to_array(x))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           name=None):
    """Matrix product over the last two dims, batched over leading dims (``tf.matmul``).

    Args:
        a: tensor of shape ``(..., m, k)`` (``(..., k, m)`` if transposed).
        b: tensor of shape ``(..., k, n)`` (``(..., n, k)`` if transposed).
        transpose_a, transpose_b, adjoint_a, adjoint_b: transpose (conjugate) first.

    Raises:
        ValueError: for rank < 2 or inner dimensions that differ.

    Example:
        >>> import eagerflow as ef
        >>> ef.matmul(ef.ones((2, 3)), ef.ones((3, 4))).shape.as_list()
        [2, 4]
    """
    a, b = _t(a), _t(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: both inputs need rank >= 2, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: a has dtype {a.dtype} but b has dtype {b.dtype}")
    if transpose_a or adjoint_a:
        a = matrix_transpose(a, conjugate=bool(adjoint_a))
    if transpose_b or adjoint_b:
        b = matrix_transpose(b, conjugate=bool(adjoint_b))
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {tuple(a.shape)}, "
                         f"b has shape {tuple(b.shape)}")
    try:
        np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} "
                         "do not broadcast") from None
    return _mm(a, b)


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None):
    """Matrix-vector product ``a @ b`` over the last dims (``tf.linalg.matvec``)."""
    from .array import expand_dims, squeeze
    return squeeze(matmul(a, expand_dims(b, -1), transpose_a=transpose_a,
                          adjoint_a=adjoint_a), axis=-1)


def tensordot(a, b, axes, name=None):
    """Sum of products over ``axes`` (``tf.tensordot``): an int N (last N of a with first N
    of b) or a pair of axis lists."""
    a, b = _t(a), _t(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} is out of range for ranks {a.ndim} and {b.ndim}")
        ax_a = list(range(a.ndim - n, a.ndim))
        ax_b = list(range(n))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        ax_a = [x % a.ndim for x in ax_a]
        ax_b = [x % b.ndim for x in ax_b]
        if len(ax_a) != len(ax_b):
            raise ValueError("tensordot: both axis lists must have the same length")
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: dimension {i} of a ({a.shape[i]}) differs from "
                             f"dimension {j} of b ({b.shape[j]})")
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = int(np.prod([a.shape[i] for i in ax_a]))
    at = reshape(transpose(a, free_a + ax_a), (-1, k))
    bt = reshape(transpose(b, ax_b + free_b), (k, -1))
    out_shape = tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b)
    return reshape(_mm(at, bt), out_shape)


def _parse_einsum(equation, n):
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise ValueError("einsum: ellipsis ('...') is not supported; name the dimensions")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = lhs.split(",")
    if len(ins) != n:
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} operands, got {n}")
    return ins, out


def _einsum_fwd(xp, *arrays, ins, out):
    return xp.einsum(",".join(ins) + "->" + out, *arrays)


def _einsum_vjp(g, ans, inputs, attrs, needs):
    ins, out = attrs["ins"], attrs["out"]
    grads = []
    for i, need in enumerate(needs):
        if not need:
            grads.append(None)
            continue
        target = ins[i]
        if len(set(target)) != len(target):
            raise NotImplementedError(
                f"einsum: the gradient of an operand with a repeated subscript ({target!r}) "
                "is not supported")
        others = [ins[j] for j in range(len(ins)) if j != i]
        avail = set(out).union(*others) if others else set(out)
        kept = "".join(c for c in target if c in avail)
        gi = einsum(",".join([out] + others) + "->" + kept, g,
                    *[inputs[j] for j in range(len(ins)) if j != i])
        if kept != target:  # letters summed away inside operand i alone: broadcast back
            from .array import broadcast_to
            shape = [inputs[i].shape[k] if c in avail else 1 for k, c in enumerate(target)]
            gi = broadcast_to(reshape(gi, shape), tuple(inputs[i].shape))
        grads.append(gi)
    return grads


_einsum = register("einsum", _einsum_fwd)
defvjp_all(_einsum, _einsum_vjp)


def einsum(equation, *inputs, name=None):
    """Einstein summation (``tf.einsum``), e.g. ``einsum('bij,bjk->bik', a, b)``.

    Differentiable w.r.t. every operand (operands with a repeated subscript, such as
    ``'ii->i'``, are evaluated but not differentiated).
    """
    ts = [_t(x) for x in inputs]
    ins, out = _parse_einsum(equation, len(ts))
    for sub, t in zip(ins, ts):
        if len(sub) != t.ndim:
            raise ValueError(f"einsum: subscript {sub!r} has {len(sub)} letters but the "
                             f"operand has rank {t.ndim}")
    return _einsum(*ts, ins=tuple(ins), out=out)
