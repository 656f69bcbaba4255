"""Linear solves, inverses and determinants: solve, triangular_solve, inv, det, slogdet.

Forwards use ``xp.linalg`` (NumPy or CuPy, both batched). The vjps are the standard closed
forms written with eagerflow ops, so they can be differentiated again: a solve's gradient is
an adjoint solve, and ``det``/``slogdet`` differentiate through the inverse.
"""
import numpy as np

from ..autograd.registry import defvjp, defvjp_all, register
from ..ops.broadcast import unbroadcast
from ..ops.math import multiply, negative
from ..ops.products import matmul
from ..ops.array import expand_dims, matrix_transpose
from .structure import _band
from .validation import LinAlgError, batch_shape_of, check_matrix

__all__ = ["solve", "triangular_solve", "inv", "det", "slogdet"]


def _broadcast_pair(xp, a, b):
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    return (xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))


def _adj(xp, a):
    return xp.conj(xp.swapaxes(a, -1, -2)) if a.dtype.kind == "c" else xp.swapaxes(a, -1, -2)


def _lu_solve(xp, a, b, opname):
    if a.size == 0 or b.size == 0:
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        return xp.zeros(batch + b.shape[-2:], dtype=b.dtype)
    a, b = _broadcast_pair(xp, a, b)
    try:
        return xp.linalg.solve(a, b)
    except LinAlgError as e:
        raise LinAlgError(f"{opname}: the matrix is singular ({e})") from None


# --- solve ----------------------------------------------------------------------------
def _solve_fwd(xp, a, b, adjoint):
    return _lu_solve(xp, _adj(xp, a) if adjoint else a, b, "solve")


def _solve_vjp(g, ans, inputs, attrs, needs):
    a, b = inputs
    adjoint = attrs["adjoint"]
    gb = _solve(a, g, adjoint=not adjoint)
    ga = None
    if needs[0]:
        ga = negative(matmul(ans, gb, adjoint_b=True) if adjoint
                      else matmul(gb, ans, adjoint_b=True))
        ga = unbroadcast(ga, tuple(a.shape))
    return [ga, unbroadcast(gb, tuple(b.shape)) if needs[1] else None]


_solve = register("matrix_solve", _solve_fwd)
defvjp_all(_solve, _solve_vjp)


def _check_rhs(a, b, opname):
    a = check_matrix(a, opname, "matrix", square=True)
    b = check_matrix(b, opname, "rhs")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"{opname}: matrix has shape {tuple(a.shape)} but rhs has shape "
                         f"{tuple(b.shape)}; rhs needs {a.shape[-1]} rows (shape "
                         "(..., n, k) for matrix (..., n, n))")
    if a.dtype != b.dtype:
        raise TypeError(f"{opname}: matrix has dtype {a.dtype} but rhs has dtype {b.dtype}")
    batch_shape_of(a.shape, b.shape, opname, "matrix", "rhs")
    return a, b


def solve(matrix, rhs, adjoint=False, name=None):
    """Solves ``matrix @ x = rhs`` for each matrix of the batch (``tf.linalg.solve``).

    Args:
        matrix: tensor of shape ``(..., n, n)``.
        rhs: tensor of shape ``(..., n, k)``; batch dimensions broadcast with ``matrix``'s.
        adjoint: solve with the conjugate transpose of ``matrix`` instead.

    Returns:
        ``x`` of shape ``(..., n, k)``.

    Raises:
        ValueError: non-square ``matrix``, or ``rhs`` of a mismatched shape.
        numpy.linalg.LinAlgError: a singular matrix on the NumPy backend (CuPy's batched
            solver reports no error; a singular matrix gives inf/NaN there).

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.solve(2.0 * ef.eye(2), ef.ones((2, 1))).numpy().ravel().tolist()
        [0.5, 0.5]
    """
    a, b = _check_rhs(matrix, rhs, "solve")
    return _solve(a, b, adjoint=bool(adjoint))


# --- triangular_solve -------------------------------------------------------------------
def _tri_fwd(xp, a, b, lower, adjoint):
    t = xp.tril(a) if lower else xp.triu(a)
    return _lu_solve(xp, _adj(xp, t) if adjoint else t, b, "triangular_solve")


def _tri_vjp(g, ans, inputs, attrs, needs):
    a, b = inputs
    lower, adjoint = attrs["lower"], attrs["adjoint"]
    gb = _tri(a, g, lower=lower, adjoint=not adjoint)
    ga = None
    if needs[0]:
        ga = negative(matmul(ans, gb, adjoint_b=True) if adjoint
                      else matmul(gb, ans, adjoint_b=True))
        ga = _band(ga, num_lower=-1, num_upper=0) if lower else _band(ga, num_lower=0,
                                                                     num_upper=-1)
        ga = unbroadcast(ga, tuple(a.shape))
    return [ga, unbroadcast(gb, tuple(b.shape)) if needs[1] else None]


_tri = register("matrix_triangular_solve", _tri_fwd)
defvjp_all(_tri, _tri_vjp)


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves ``matrix @ x = rhs`` for triangular matrices (``tf.linalg.triangular_solve``).

    Only the triangle named by ``lower`` is read; the other one is ignored, as in TF. The
    solve runs through the backend's batched LU solver on the masked triangle (neither
    ``numpy.linalg`` nor ``cupy.linalg`` has a batched triangular solver), so it costs
    ``O(n^3)`` rather than ``O(n^2)`` per matrix but stays on the device.

    Args:
        matrix: tensor of shape ``(..., n, n)``.
        rhs: tensor of shape ``(..., n, k)``; batch dimensions broadcast.
        lower: whether ``matrix`` is lower (True) or upper (False) triangular.
        adjoint: solve with the conjugate transpose of the triangle.

    Returns:
        ``x`` of shape ``(..., n, k)``.

    Raises:
        ValueError: non-square ``matrix``, or ``rhs`` of a mismatched shape.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.constant([[2.0, 0.0], [1.0, 1.0]])
        >>> ef.linalg.triangular_solve(a, ef.constant([[2.0], [2.0]])).numpy().ravel().tolist()
        [1.0, 1.0]
    """
    a, b = _check_rhs(matrix, rhs, "triangular_solve")
    return _tri(a, b, lower=bool(lower), adjoint=bool(adjoint))


# --- inv ----------------------------------------------------------------------------------
def _inv_fwd(xp, a):
    if a.size == 0:
        return xp.zeros_like(a)
    try:
        return xp.linalg.inv(a)
    except LinAlgError as e:
        raise LinAlgError(f"inv: the matrix is singular ({e})") from None


_inv = register("matrix_inverse", _inv_fwd)
defvjp(_inv, lambda g, ans, a: negative(matmul(matmul(ans, g, adjoint_a=True), ans,
                                               adjoint_b=True)))


def inv(input, adjoint=False, name=None):
    """Inverse of each square matrix (``tf.linalg.inv``).

    Args:
        input: tensor of shape ``(..., n, n)``.
        adjoint: invert the conjugate transpose instead.

    Raises:
        ValueError: non-square input.
        numpy.linalg.LinAlgError: a singular matrix on the NumPy backend.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.inv(2.0 * ef.eye(2)).numpy().tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    a = check_matrix(input, "inv", "input", square=True)
    if adjoint:
        a = matrix_transpose(a, conjugate=True)
    return _inv(a)


# --- det / slogdet ------------------------------------------------------------------------
def _mat(x):
    """Shape ``(...)`` to ``(..., 1, 1)`` so that it scales matrices."""
    return expand_dims(expand_dims(x, -1), -1)


def _det_fwd(xp, a):
    return xp.linalg.det(a) if a.size else xp.ones(a.shape[:-2], dtype=a.dtype)


_det = register("matrix_determinant", _det_fwd)
defvjp(_det, lambda g, ans, a: multiply(_mat(multiply(g, ans)),
                                        matrix_transpose(_inv(a), conjugate=True)))


def det(input, name=None):
    """Determinant of each square matrix (``tf.linalg.det``): ``(..., n, n) -> (...)``.

    The gradient is ``det(A) * inv(A)^T``, so it is not defined at singular matrices.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.det(2.0 * ef.eye(3)).numpy().item()
        8.0
    """
    return _det(check_matrix(input, "det", "input", square=True))


def _slogdet_fwd(xp, a):
    if a.size == 0:
        return xp.ones(a.shape[:-2], dtype=a.dtype), xp.zeros(a.shape[:-2], dtype=a.dtype)
    sign, logabs = xp.linalg.slogdet(a)
    return sign.astype(a.dtype, copy=False), logabs.astype(a.dtype, copy=False)


def _slogdet_vjp(g, ans, inputs, attrs, needs):
    (a,) = inputs
    return [multiply(_mat(g[1]), matrix_transpose(_inv(a), conjugate=True))]


_slogdet = register("log_matrix_determinant", _slogdet_fwd, multi=True)
defvjp_all(_slogdet, _slogdet_vjp)


def slogdet(input, name=None):
    """Sign and log of the absolute determinant (``tf.linalg.slogdet``).

    Args:
        input: tensor of shape ``(..., n, n)``.

    Returns:
        ``(sign, log_abs_determinant)``, each of shape ``(...)``; only the second one has a
        gradient (``inv(A)^T``).

    Example:
        >>> import eagerflow as ef
        >>> s, l = ef.linalg.slogdet(-2.0 * ef.eye(3))
        >>> float(s.numpy()), round(float(l.numpy()), 4)
        (-1.0, 2.0794)
    """
    return _slogdet(check_matrix(input, "slogdet", "input", square=True))
