"""Solves and determinants built on factorizations: cholesky_solve, logdet, lstsq.

These are compositions of registered ops (cholesky, triangular solves, qr), so their
gradients come from the tape.
"""
import numpy as np

from ..ops.math import add, log, multiply
from ..ops.products import matmul
from ..ops.reduce import reduce_sum
from ..ops.array import matrix_transpose
from .decompositions import _cholesky, _qr, cholesky
from .solvers import _tri
from .structure import _diag_part, eye_like
from .validation import batch_shape_of, check_matrix

__all__ = ["cholesky_solve", "logdet", "lstsq"]


def cholesky_solve(chol, rhs, name=None):
    """Solves ``A @ x = rhs`` given the Cholesky factor ``chol`` of ``A``
    (``tf.linalg.cholesky_solve``).

    Args:
        chol: lower triangular tensor of shape ``(..., n, n)``, ``A = chol @ chol^H``.
        rhs: tensor of shape ``(..., n, k)``.

    Returns:
        ``x`` of shape ``(..., n, k)``.

    Raises:
        ValueError: non-square ``chol`` or a mismatched ``rhs``.

    Example:
        >>> import eagerflow as ef
        >>> c = ef.linalg.cholesky(4.0 * ef.eye(2))
        >>> ef.linalg.cholesky_solve(c, ef.ones((2, 1))).numpy().ravel().tolist()
        [0.25, 0.25]
    """
    c = check_matrix(chol, "cholesky_solve", "chol", square=True)
    b = check_matrix(rhs, "cholesky_solve", "rhs")
    if c.shape[-1] != b.shape[-2]:
        raise ValueError(f"cholesky_solve: chol has shape {tuple(c.shape)} but rhs has "
                         f"shape {tuple(b.shape)}; rhs needs {c.shape[-1]} rows")
    if c.dtype != b.dtype:
        raise TypeError(f"cholesky_solve: chol has dtype {c.dtype} but rhs has {b.dtype}")
    batch_shape_of(c.shape, b.shape, "cholesky_solve", "chol", "rhs")
    y = _tri(c, b, lower=True, adjoint=False)
    return _tri(c, y, lower=True, adjoint=True)


def logdet(matrix, name=None):
    """Log determinant of Hermitian positive definite matrices (``tf.linalg.logdet``),
    computed as ``2 * sum(log(diag(cholesky(matrix))))``.

    Raises:
        numpy.linalg.LinAlgError: a matrix that is not positive definite.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.linalg.logdet(2.0 * ef.eye(2)).numpy()), 5)
        1.38629
    """
    c = cholesky(check_matrix(matrix, "logdet", "matrix", square=True))
    return multiply(2.0, reduce_sum(log(_diag_part(c, k=0)), axis=-1))


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions of ``matrix @ x = rhs`` (``tf.linalg.lstsq``).

    With ``fast=True`` (the default) it solves the regularized normal equations through a
    Cholesky factor: ``x = (A^H A + l2 I)^-1 A^H b`` when ``m >= n``, and the minimum-norm
    ``x = A^H (A A^H + l2 I)^-1 b`` when ``m < n``. With ``fast=False`` it uses a QR
    factorization instead (better conditioned; full rank assumed), and, as in TensorFlow,
    ignores ``l2_regularizer``.

    Args:
        matrix: tensor of shape ``(..., m, n)``.
        rhs: tensor of shape ``(..., m, k)``.
        l2_regularizer: scalar Tikhonov regularization (``fast=True`` only).
        fast: the normal-equations path (True) or the QR path (False).

    Returns:
        ``x`` of shape ``(..., n, k)``.

    Raises:
        ValueError: rank < 2, or ``rhs`` with another number of rows than ``matrix``.

    Example:
        >>> import eagerflow as ef
        >>> a = ef.constant([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> ef.linalg.lstsq(a, ef.constant([[1.0], [2.0], [3.0]])).numpy().ravel().tolist()
        [1.0, 2.0]
    """
    a = check_matrix(matrix, "lstsq", "matrix")
    b = check_matrix(rhs, "lstsq", "rhs")
    if a.shape[-2] != b.shape[-2]:
        raise ValueError(f"lstsq: matrix has shape {tuple(a.shape)} but rhs has shape "
                         f"{tuple(b.shape)}; they need the same number of rows")
    if a.dtype != b.dtype:
        raise TypeError(f"lstsq: matrix has dtype {a.dtype} but rhs has dtype {b.dtype}")
    batch_shape_of(a.shape, b.shape, "lstsq", "matrix", "rhs")
    m, n = a.shape[-2], a.shape[-1]
    if fast:
        reg = l2_regularizer.numpy() if hasattr(l2_regularizer, "numpy") else l2_regularizer
        if np.ndim(reg) != 0:
            raise ValueError(f"lstsq: l2_regularizer must be a scalar, got {reg!r}")
        l2 = float(reg)
        if m >= n:
            gram = matmul(a, a, adjoint_a=True)
            if l2:
                gram = add(gram, multiply(l2, eye_like(gram)))
            c = _cholesky(gram)
            y = _tri(c, matmul(a, b, adjoint_a=True), lower=True, adjoint=False)
            return _tri(c, y, lower=True, adjoint=True)
        gram = matmul(a, a, adjoint_b=True)
        if l2:
            gram = add(gram, multiply(l2, eye_like(gram)))
        c = _cholesky(gram)
        y = _tri(c, _tri(c, b, lower=True, adjoint=False), lower=True, adjoint=True)
        return matmul(a, y, adjoint_a=True)
    if m >= n:
        q, r = _qr(a, full_matrices=False)
        return _tri(r, matmul(q, b, adjoint_a=True), lower=False, adjoint=False)
    q, r = _qr(matrix_transpose(a, conjugate=True), full_matrices=False)
    return matmul(q, _tri(r, b, lower=False, adjoint=True))
