"""Factorizations: cholesky, qr, svd, eigh, eigvalsh, with their closed-form vjps.

Forwards call ``xp.linalg`` (NumPy and CuPy both factor batches of matrices). The vjps are
written with eagerflow ops so that they can be differentiated again:

* cholesky: Murray's formula (arXiv:1602.07527), ``Phi(L^T dL)`` pushed through ``L^-1``.
* qr: the full-rank formula TensorFlow uses (tall, square and wide reduced factors).
* eigh / svd: the spectral formulas with ``1 / (lambda_j - lambda_i)``. They are undefined
  where eigenvalues (singular values) repeat: degenerate spectra give inf/NaN gradients.
"""
import numpy as np

from ..autograd.registry import defvjp, defvjp_all, register
from ..autograd.tensor import Tensor, _wrap
from ..backend import array_module
from ..ops.math import add, cast, divide, greater, multiply, reciprocal, subtract, where
from ..ops.reduce import reduce_max
from ..ops.products import matmul
from ..ops.array import concat, expand_dims, matrix_transpose
from .solvers import _tri
from .structure import _band, _diag_part, _matrix_diag, eye_like
from .validation import LinAlgError, check_matrix

__all__ = ["cholesky", "qr", "svd", "eigh", "eigvalsh", "pinv"]


def _adj(x):
    return matrix_transpose(x, conjugate=True)


def _diag(d):
    n = d.shape[-1]
    return _matrix_diag(d, k=0, num_rows=n, num_cols=n, padding_value=0)


def _offdiag_reciprocal(diff):
    """``1 / diff`` off the diagonal and 0 on it (``diff`` has shape ``(..., n, n)``)."""
    eye = eye_like(diff)
    return multiply(reciprocal(add(diff, eye)), subtract(1.0, eye))


def _sym_lower(grad):
    """TF's convention for ops that read only the lower triangle: symmetrize, keep the
    lower triangle, halve the diagonal."""
    full = add(grad, _adj(grad))
    low = _band(full, num_lower=-1, num_upper=0)
    return subtract(low, multiply(0.5, _diag(_diag_part(full, k=0))))


# --- cholesky ---------------------------------------------------------------------------
def _cholesky_fwd(xp, a):
    if a.size == 0:
        return xp.zeros_like(a)
    try:
        chol = xp.linalg.cholesky(a)
    except LinAlgError:
        chol = None
    if chol is not None:
        # CuPy's batched cuSOLVER call reports no error: a failed factor shows up as a
        # non-finite or non-positive diagonal, checked here on both backends alike.
        d = xp.diagonal(chol, axis1=-2, axis2=-1)
        if bool(xp.all(xp.isfinite(d) & (d.real > 0))):
            return chol
    raise LinAlgError(f"cholesky: input of shape {tuple(a.shape)} is not (numerically) "
                      "symmetric positive definite")


def _cholesky_vjp(g, chol, a):
    l_inv = _tri(chol, eye_like(chol), lower=True, adjoint=False)
    middle = matmul(chol, g, adjoint_a=True)
    middle = subtract(_band(middle, num_lower=-1, num_upper=0),
                      multiply(0.5, _diag(_diag_part(middle, k=0))))
    grad = matmul(matmul(l_inv, middle, adjoint_a=True), l_inv)
    return multiply(0.5, add(grad, _adj(grad)))


_cholesky = register("cholesky", _cholesky_fwd)
defvjp(_cholesky, _cholesky_vjp)


def cholesky(input, name=None):
    """Lower Cholesky factor ``L`` with ``L @ L^H = input`` (``tf.linalg.cholesky``).

    Only the lower triangle of ``input`` is read. The gradient (Murray's formula) is
    symmetric, as TensorFlow's. Failure is detected from the factor's diagonal (CuPy's
    batched cuSOLVER call leaves NaNs and raises nothing), which costs one host read of a
    flag on the GPU.

    Args:
        input: symmetric positive definite tensor of shape ``(..., n, n)``.

    Returns:
        ``L`` of shape ``(..., n, n)``.

    Raises:
        ValueError: non-square input.
        numpy.linalg.LinAlgError: input that is not positive definite, on both backends.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.cholesky(4.0 * ef.eye(2)).numpy().tolist()
        [[2.0, 0.0], [0.0, 2.0]]
    """
    return _cholesky(check_matrix(input, "cholesky", "input", square=True))


# --- eigh / eigvalsh ----------------------------------------------------------------------
def _eigh_fwd(xp, a):
    if a.size == 0:
        return xp.zeros(a.shape[:-1], dtype=a.real.dtype), xp.zeros_like(a)
    w, v = xp.linalg.eigh(a)
    return w, v


def _eigh_grad(v, ge, f_gv):
    inner = _diag(ge) if f_gv is None else add(_diag(ge), f_gv)
    return _sym_lower(matmul(v, matmul(inner, v, adjoint_b=True)))


def _eigh_vjp(g, ans, inputs, attrs, needs):
    e, v = ans
    ge, gv = g
    f = _offdiag_reciprocal(subtract(expand_dims(e, -2), expand_dims(e, -1)))
    return [_eigh_grad(v, ge, multiply(f, matmul(v, gv, adjoint_a=True)))]


_eigh = register("self_adjoint_eig", _eigh_fwd, multi=True)
defvjp_all(_eigh, _eigh_vjp)


def _eigvalsh_fwd(xp, a):
    if a.size == 0:
        return xp.zeros(a.shape[:-1], dtype=a.real.dtype)
    return xp.linalg.eigvalsh(a)


def _eigvalsh_vjp(g, ans, a):
    _, v = _eigh(a)  # eigenvectors are recomputed: the forward skipped them
    return _eigh_grad(v, g, None)


_eigvalsh = register("self_adjoint_eigvals", _eigvalsh_fwd)
defvjp(_eigvalsh, _eigvalsh_vjp)


def eigh(tensor, name=None):
    """Eigen-decomposition of self-adjoint matrices (``tf.linalg.eigh``).

    Only the lower triangle is read. The gradient follows TF (it is lower triangular) and
    needs distinct eigenvalues: where two eigenvalues coincide the eigenvectors are not
    unique and the gradient through them is inf/NaN.

    Args:
        tensor: tensor of shape ``(..., n, n)``.

    Returns:
        ``(e, v)``: eigenvalues ``(..., n)`` in ascending order and eigenvectors
        ``(..., n, n)`` in the columns of ``v``.

    Example:
        >>> import eagerflow as ef
        >>> e, v = ef.linalg.eigh(ef.constant([[2.0, 0.0], [0.0, 1.0]]))
        >>> e.numpy().tolist()
        [1.0, 2.0]
    """
    return _eigh(check_matrix(tensor, "eigh", "tensor", square=True))


def eigvalsh(tensor, name=None):
    """Eigenvalues of self-adjoint matrices, ascending (``tf.linalg.eigvalsh``).

    Args:
        tensor: tensor of shape ``(..., n, n)``; only its lower triangle is read.

    Returns:
        Eigenvalues of shape ``(..., n)``.
    """
    return _eigvalsh(check_matrix(tensor, "eigvalsh", "tensor", square=True))


# --- svd ----------------------------------------------------------------------------------
def _svd_fwd(xp, a, full_matrices):
    m, n = a.shape[-2], a.shape[-1]
    if a.size == 0:
        k = min(m, n)
        um, vn = (m, n) if full_matrices else (k, k)
        batch = a.shape[:-2]
        return (xp.zeros(batch + (k,), dtype=a.real.dtype), xp.zeros(batch + (m, um), a.dtype),
                xp.zeros(batch + (n, vn), a.dtype))
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    v = xp.swapaxes(vh, -1, -2)
    return s, u, xp.conj(v) if a.dtype.kind == "c" else v


def _svd_vjp(g, ans, inputs, attrs, needs):
    (a,) = inputs
    s, u, v = ans
    gs, gu, gv = g
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if attrs["full_matrices"] and m != n:
        raise NotImplementedError("svd: the gradient of full_matrices=True is implemented "
                                  "for square matrices only (as in TensorFlow)")
    s2 = multiply(s, s)
    f = _offdiag_reciprocal(subtract(expand_dims(s2, -2), expand_dims(s2, -1)))
    utgu = matmul(u, gu, adjoint_a=True)
    vtgv = matmul(v, gv, adjoint_a=True)
    j = multiply(f, subtract(utgu, _adj(utgu)))
    kk = multiply(f, subtract(vtgv, _adj(vtgv)))
    inner = add(add(multiply(j, expand_dims(s, -2)), _diag(gs)),
                multiply(expand_dims(s, -1), kk))
    grad = matmul(matmul(u, inner), v, adjoint_b=True)
    s_inv = reciprocal(s)
    if m > k:  # (I - U U^T) dU S^-1 V^T
        proj = subtract(gu, matmul(u, utgu))
        grad = add(grad, matmul(multiply(proj, expand_dims(s_inv, -2)), v, adjoint_b=True))
    if n > k:  # U S^-1 dV^T (I - V V^T)
        proj = subtract(gv, matmul(v, vtgv))
        grad = add(grad, matmul(multiply(u, expand_dims(s_inv, -2)), proj, adjoint_b=True))
    return [grad]


_svd = register("svd", _svd_fwd, multi=True)
defvjp_all(_svd, _svd_vjp)


def _singular_values_fwd(xp, a):
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + (min(a.shape[-2:]),), dtype=a.real.dtype)
    return xp.linalg.svd(a, compute_uv=False)


def _singular_values_vjp(g, ans, a):
    _, u, v = _svd(a, full_matrices=False)  # vectors are recomputed: the forward skipped them
    return matmul(multiply(u, expand_dims(g, -2)), v, adjoint_b=True)


_singular_values = register("singular_values", _singular_values_fwd)
defvjp(_singular_values, _singular_values_vjp)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular value decomposition ``tensor = u @ diag(s) @ adjoint(v)`` (``tf.linalg.svd``).

    Note the order and the factor: like TensorFlow this returns ``(s, u, v)`` with ``v``
    itself, not NumPy's ``(u, s, vh)``. The gradient needs distinct, non-zero singular
    values (the vectors are not unique otherwise and it is inf/NaN there), and for
    ``full_matrices=True`` a square input.

    Args:
        tensor: tensor of shape ``(..., m, n)``; ``k = min(m, n)``.
        full_matrices: return ``u`` of shape ``(..., m, m)`` and ``v`` of ``(..., n, n)``
            instead of ``(..., m, k)`` and ``(..., n, k)``.
        compute_uv: return ``(s, u, v)`` when True, else ``s`` alone.

    Returns:
        ``s`` of shape ``(..., k)`` in descending order, and ``u``, ``v`` when asked.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.svd(ef.constant([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False).numpy().tolist()
        [4.0, 3.0]
    """
    x = check_matrix(tensor, "svd", "tensor")
    if not compute_uv:
        return _singular_values(x)
    return _svd(x, full_matrices=bool(full_matrices))


# --- qr -----------------------------------------------------------------------------------
def _qr_fwd(xp, a, full_matrices):
    m, n = a.shape[-2], a.shape[-1]
    if a.size == 0:
        k = m if full_matrices else min(m, n)
        return (xp.zeros(a.shape[:-2] + (m, k), a.dtype), xp.zeros(a.shape[:-2] + (k, n),
                                                                   a.dtype))
    q, r = xp.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return q, r


def _times_r_inv_adj(x, r):
    """``x @ inv(r)^H`` for upper triangular ``r``."""
    return _adj(_tri(r, _adj(x), lower=False, adjoint=False))


def _qr_grad_tall(q, r, dq, dr):
    qdq = matmul(q, dq, adjoint_a=True)
    rdr = matmul(r, dr, adjoint_b=True)
    tril = _band(add(subtract(qdq, _adj(qdq)), subtract(rdr, _adj(rdr))), num_lower=-1,
                 num_upper=0)
    grad_a = matmul(q, add(dr, _times_r_inv_adj(tril, r)))
    grad_b = _times_r_inv_adj(subtract(dq, matmul(q, qdq)), r)
    return add(grad_a, grad_b)


def _qr_vjp(g, ans, inputs, attrs, needs):
    (a,) = inputs
    q, r = ans
    dq, dr = g
    m, n = a.shape[-2], a.shape[-1]
    if m >= n:
        if attrs["full_matrices"] and m > n:
            raise NotImplementedError("qr: the gradient is not implemented for "
                                      "full_matrices=True with more rows than columns "
                                      "(as in TensorFlow)")
        return [_qr_grad_tall(q, r, dq, dr)]
    # wide: a = [x | y] with x = q u square
    y = a[..., :, m:]
    u = r[..., :, :m]
    dv = dr[..., :, m:]
    du = dr[..., :, :m]
    dx = _qr_grad_tall(q, u, add(dq, matmul(y, dv, adjoint_b=True)), du)
    return [concat([dx, matmul(q, dv)], axis=-1)]


_qr = register("qr", _qr_fwd, multi=True)
defvjp_all(_qr, _qr_vjp)


def qr(input, full_matrices=False, name=None):
    """QR factorization ``input = q @ r`` (``tf.linalg.qr``).

    The gradient assumes full rank (``r`` has a non-zero diagonal); it covers the reduced
    factors of tall, square and wide matrices, and ``full_matrices=True`` for ``m <= n``.

    Args:
        input: tensor of shape ``(..., m, n)``; ``k = min(m, n)``.
        full_matrices: return ``q`` of shape ``(..., m, m)`` and ``r`` of ``(..., m, n)``
            instead of ``(..., m, k)`` and ``(..., k, n)``.

    Returns:
        ``(q, r)``: ``q`` with orthonormal columns and upper triangular ``r``.

    Example:
        >>> import eagerflow as ef
        >>> q, r = ef.linalg.qr(ef.constant([[1.0, 0.0], [0.0, 2.0]]))
        >>> abs(r.numpy()).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
    """
    return _qr(check_matrix(input, "qr", "input"), full_matrices=bool(full_matrices))


# --- pinv ---------------------------------------------------------------------------------
def pinv(a, rcond=None, validate_args=False, name=None):
    """Moore-Penrose pseudo-inverse of each matrix (``tf.linalg.pinv``).

    TensorFlow's construction (linalg_impl.py): ``v @ diag(1 / s) @ u^H`` from the reduced
    SVD, where singular values ``<= rcond * max(s)`` are saturated to ``inf`` so that their
    reciprocals are 0 (and their gradients finite). The default ``rcond`` is
    ``10 * max(m, n) * eps`` of the dtype. Differentiable through :func:`svd` (distinct
    singular values needed).

    Args:
        a: float tensor of shape ``(..., m, n)``.
        rcond: relative cutoff, a scalar or a tensor broadcasting against the batch shape.

    Returns:
        A tensor of shape ``(..., n, m)``.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.pinv(ef.constant([[2.0, 0.0], [0.0, 0.0]])).numpy().tolist()
        [[0.5, 0.0], [0.0, 0.0]]
    """
    x = check_matrix(a, "pinv", "a")
    m, n = x.shape[-2], x.shape[-1]
    real = np.dtype(x.dtype).type(0).real.dtype
    if rcond is None:
        rcond = 10.0 * max(m, n) * float(np.finfo(real).eps)
    if isinstance(rcond, Tensor):
        rc = cast(rcond, real)
    else:
        rc = _wrap(array_module(x._data).asarray(np.asarray(rcond, dtype=real)))
    s, u, v = _svd(x, full_matrices=False)
    cutoff = multiply(rc, reduce_max(s, axis=-1))
    s = where(greater(s, expand_dims(cutoff, -1)), s, float("inf"))
    if x.dtype.kind == "c":
        s = cast(s, x.dtype)
    return matmul(divide(v, expand_dims(s, -2)), u, adjoint_b=True)
