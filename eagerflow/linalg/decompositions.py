"""Factorizations: cholesky, qr, svd, eigh, eigvalsh, lu, with their closed-form vjps; and
what is built on them (pinv, matrix_rank, lu_reconstruct, lu_solve).

Forwards call ``xp.linalg`` (NumPy and CuPy both factor batches of matrices). The vjps are
written with eagerflow ops so that they can be differentiated again:

* cholesky: Murray's formula (arXiv:1602.07527), ``Phi(L^T dL)`` pushed through ``L^-1``.
* qr: the full-rank formula TensorFlow uses (tall, square and wide reduced factors).
* eigh / svd: the spectral formulas with ``1 / (lambda_j - lambda_i)``. They are undefined
  where eigenvalues (singular values) repeat: degenerate spectra give inf/NaN gradients.
* lu: ``P A = L U`` gives ``L^-1 dA' U^-1 = L^-1 dL + dU U^-1`` (strictly lower plus upper),
  so ``dA' = L^-H (tril_-1(L^H gL) + triu(gU U^H)) U^-H``, with the rows put back by ``P^T``.
"""
import numpy as np

from ..autograd.registry import defvjp, defvjp_all, register
from ..autograd.tensor import Tensor, _to_array, _wrap
from ..backend import array_module
from ..backend.dtypes import as_dtype
from ..io.errors import InvalidArgumentError
from ..ops.indexing import take_along_axis
from ..ops.math import add, cast, divide, greater, multiply, reciprocal, subtract, where
from ..ops.reduce import reduce_max, reduce_sum
from ..ops.products import matmul
from ..ops.array import broadcast_to, concat, expand_dims, matrix_transpose
from .solvers import _tri
from .structure import _band, _diag_part, _matrix_diag, diag_mask, eye_like
from .validation import LinAlgError, as_tensor, batch_shape_of, check_matrix

__all__ = ["cholesky", "qr", "svd", "eigh", "eigvalsh", "pinv", "matrix_rank", "lu",
           "lu_reconstruct", "lu_solve"]


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


# --- matrix_rank ----------------------------------------------------------------------------
def matrix_rank(a, tol=None, validate_args=False, name=None):
    """Numerical rank of each matrix: the number of singular values above ``tol``
    (``tf.linalg.matrix_rank``).

    TF's default ``tol`` is ``max(s) * eps * max(m, n)`` per matrix (``eps`` of ``a``'s
    dtype); a given ``tol`` is compared with the singular values as it is (it broadcasts
    against them). Not differentiable (an integer result).

    Args:
        a: float tensor of shape ``(..., m, n)``; Python values become float32.
        tol: optional threshold.
        validate_args: accepted for TF compatibility (the checks always run).

    Returns:
        An int32 tensor of shape ``(...)``.

    Raises:
        TypeError: a non-floating ``a``.
        ValueError: ``a`` of rank < 2.

    Example:
        >>> import eagerflow as ef
        >>> ef.linalg.matrix_rank(ef.constant([[1.0, 2.0], [2.0, 4.0]])).numpy().item()
        1
    """
    x = a if isinstance(a, Tensor) else _wrap(_to_array(a, np.float32) if not hasattr(
        a, "dtype") else _to_array(a))
    if x.dtype.kind not in "fc":
        raise TypeError(f"matrix_rank: Input `a` must have `float`-like `dtype` (saw "
                        f"{x.dtype}).")
    if x.ndim < 2:
        raise ValueError(f"matrix_rank: Input `a` must have at least 2 dimensions (saw: "
                         f"{x.ndim}).")
    m, n = x.shape[-2], x.shape[-1]
    s = _singular_values(x)
    xp = array_module(s._data)
    if min(m, n) == 0:
        return _wrap(xp.zeros(tuple(x.shape[:-2]), dtype=np.int32))
    if tol is None:
        eps = float(np.finfo(s.dtype).eps)
        tol = multiply(reduce_max(s, axis=-1, keepdims=True), eps * max(m, n))
    elif not isinstance(tol, Tensor):
        tol = _wrap(xp.asarray(tol, dtype=s.dtype))  # a CuPy array too (np.asarray is not)
    return cast(reduce_sum(cast(greater(s, cast(tol, s.dtype)), np.int32), axis=-1), np.int32)


# --- lu ---------------------------------------------------------------------------------------
def _lu_fwd(xp, a, output_idx_type):
    """Doolittle LU with partial pivoting on a batch, one column step at a time.

    The pivot is the first entry of largest magnitude in the column (as Eigen's
    PartialPivLU, which TF calls, and LAPACK's getrf); a zero column is left unscaled.
    """
    n = a.shape[-1]
    batch = a.shape[:-2]
    if a.size == 0:
        return a.copy(), xp.zeros(batch + (n,), dtype=output_idx_type)
    lu = a.reshape((-1, n, n)).copy()
    nb = lu.shape[0]
    perm = xp.broadcast_to(xp.arange(n, dtype=np.int64), (nb, n)).copy()
    rows = xp.arange(nb)
    for k in range(n):
        piv = k + xp.argmax(xp.abs(lu[:, k:, k]), axis=1)
        row_k, row_p = lu[rows, k].copy(), lu[rows, piv].copy()
        lu[rows, k], lu[rows, piv] = row_p, row_k
        pk, pp = perm[rows, k].copy(), perm[rows, piv].copy()
        perm[rows, k], perm[rows, piv] = pp, pk
        if k + 1 < n:
            pivot = lu[:, k, k]
            pivot = xp.where(pivot == 0, xp.ones((), dtype=lu.dtype), pivot)
            lu[:, k + 1:, k] /= pivot[:, None]
            lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k:k + 1] * lu[:, k:k + 1, k + 1:]
    # as TF's kernel: PartialPivLU promises nothing about invertibility, but an exact zero
    # pivot is an error (one host read of a flag)
    if not bool(xp.all(xp.abs(xp.diagonal(lu, axis1=-2, axis2=-1)) > 0)):
        raise InvalidArgumentError("lu: Input is not invertible.")
    return lu.reshape(a.shape), perm.astype(output_idx_type).reshape(batch + (n,))


def _inverse_permutation(perm):
    """The inverse of each permutation in the last dimension of an int Tensor (constant)."""
    xp = array_module(perm._data)
    return _wrap(xp.argsort(perm._data, axis=-1).astype(perm._data.dtype))


def _permute_rows(x, idx):
    """``x[..., idx[..., i], :]`` per matrix: row ``i`` of the result is row ``idx[i]``."""
    xp = array_module(idx._data)
    full = xp.broadcast_to(idx._data[..., None], tuple(x.shape))
    return take_along_axis(x, _wrap(full), axis=-2)


def _unit_lower(lu):
    """The unit lower triangular factor packed below the diagonal of ``lu``."""
    return where(diag_mask(lu), eye_like(lu), _band(lu, num_lower=-1, num_upper=0))


def _strict_lower(x):
    return where(diag_mask(x), eye_like(x) * 0, _band(x, num_lower=-1, num_upper=0))


def _lu_vjp(g, ans, inputs, attrs, needs):
    lu_, perm = ans
    glu = g[0]
    lower = _unit_lower(lu_)
    upper = _band(lu_, num_lower=0, num_upper=-1)
    phi = add(_strict_lower(matmul(lower, _strict_lower(glu), adjoint_a=True)),
              _band(matmul(_band(glu, num_lower=0, num_upper=-1), upper, adjoint_b=True),
                    num_lower=0, num_upper=-1))
    left = _tri(lower, phi, lower=True, adjoint=True)                    # L^-H phi
    grad_perm = _adj(_tri(upper, _adj(left), lower=False, adjoint=False))  # ... U^-H
    return [_permute_rows(grad_perm, _inverse_permutation(perm))]


_lu = register("lu", _lu_fwd, multi=True)
defvjp_all(_lu, _lu_vjp)


def lu(input, output_idx_type=np.int32, name=None):
    """LU decomposition with partial pivoting of square matrices (``tf.linalg.lu``).

    ``input[..., p, :] = L @ U``: ``lu`` packs the unit lower triangular ``L`` strictly
    below its diagonal and the upper triangular ``U`` on and above it, and row ``i`` of
    ``L @ U`` is row ``p[i]`` of ``input`` (TF's ``P * input = L * U``). The pivots are those
    of ``scipy.linalg.lu_factor`` (the largest magnitude in the column, the first one on
    ties); ``p`` is the permutation those row swaps compose to. The gradient flows through
    ``lu`` (``p`` is piecewise constant) and can be differentiated again.

    Args:
        input: float or complex tensor of shape ``(..., n, n)``.
        output_idx_type: int32 (default) or int64, the dtype of ``p``.

    Returns:
        ``(lu, p)`` of shapes ``(..., n, n)`` and ``(..., n)``.

    Raises:
        ValueError: a non-square or rank < 2 ``input``.
        TypeError: a non-floating ``input`` or an ``output_idx_type`` other than int32/int64.
        InvalidArgumentError: an exactly singular matrix ("Input is not invertible.").

    Example:
        >>> import eagerflow as ef
        >>> lu_, p = ef.linalg.lu(ef.constant([[1.0, 2.0], [3.0, 4.0]]))
        >>> lu_.numpy().tolist(), p.numpy().tolist()
        ([[3.0, 4.0], [0.3333333432674408, 0.6666666269302368]], [1, 0])
    """
    x = check_matrix(input, "lu", "input", square=True)
    try:
        idx_type = as_dtype(output_idx_type)
    except (TypeError, ValueError):
        idx_type = None
    if idx_type not in (np.dtype(np.int32), np.dtype(np.int64)):
        raise TypeError(f"lu: output_idx_type must be int32 or int64, got {output_idx_type!r}")
    return _lu(x, output_idx_type=idx_type)


def _check_lu_perm(lower_upper, perm, opname):
    lu_ = check_matrix(lower_upper, opname, "lower_upper", square=True)
    p = perm if isinstance(perm, Tensor) else _wrap(_to_array(perm, np.int32) if not hasattr(
        perm, "dtype") else _to_array(perm))
    if p.dtype.kind not in "iu":
        raise TypeError(f"{opname}: perm must be int32 or int64, got {p.dtype}")
    if p.ndim + 1 != lu_.ndim:
        raise ValueError(f"{opname}: `rank(lower_upper)` must equal `rank(perm) + 1`; got "
                         f"lower_upper of shape {tuple(lu_.shape)} and perm of shape "
                         f"{tuple(p.shape)}")
    if p.shape[-1] != lu_.shape[-1]:
        raise ValueError(f"{opname}: perm's last dimension ({p.shape[-1]}) must equal "
                         f"lower_upper's order ({lu_.shape[-1]})")
    if array_module(p._data) is not array_module(lu_._data):
        p = _wrap(array_module(lu_._data).asarray(p.numpy()))
    return lu_, p


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """The matrices whose :func:`lu` is ``(lower_upper, perm)`` (``tf.linalg.lu_reconstruct``):
    ``P^T @ L @ U``. Differentiable with respect to ``lower_upper``.

    Args:
        lower_upper: tensor of shape ``(..., n, n)`` from :func:`lu`.
        perm: int tensor of shape ``(..., n)`` from :func:`lu`.
        validate_args: accepted for TF compatibility.

    Raises:
        ValueError: ranks or sizes that do not fit together, a non-square ``lower_upper``.

    Example:
        >>> import eagerflow as ef
        >>> x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
        >>> ef.linalg.lu_reconstruct(*ef.linalg.lu(x)).numpy().tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """
    lu_, p = _check_lu_perm(lower_upper, perm, "lu_reconstruct")
    if tuple(p.shape[:-1]) != tuple(lu_.shape[:-2]):
        raise ValueError(f"lu_reconstruct: the batch shape of perm {tuple(p.shape)} must be "
                         f"that of lower_upper {tuple(lu_.shape)}")
    x = matmul(_unit_lower(lu_), _band(lu_, num_lower=0, num_upper=-1))
    return _permute_rows(x, _inverse_permutation(p))


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """Solves ``A @ x = rhs`` from ``A``'s :func:`lu` factors (``tf.linalg.lu_solve``).

    The batch dimensions of ``lower_upper``, ``perm`` and ``rhs`` broadcast. Differentiable
    with respect to ``lower_upper`` and ``rhs``.

    Args:
        lower_upper: tensor of shape ``(..., n, n)`` from :func:`lu`.
        perm: int tensor of shape ``(..., n)`` from :func:`lu`.
        rhs: tensor of shape ``(..., n, k)`` with ``lower_upper``'s dtype.

    Returns:
        ``x`` of shape ``(..., n, k)``.

    Raises:
        ValueError: ranks or sizes that do not fit together.
        TypeError: ``rhs`` of another dtype than ``lower_upper``.

    Example:
        >>> import eagerflow as ef
        >>> lu_, p = ef.linalg.lu(ef.constant([[0.0, 2.0], [4.0, 0.0]]))
        >>> ef.linalg.lu_solve(lu_, p, ef.constant([[2.0], [4.0]])).numpy().ravel().tolist()
        [1.0, 1.0]
    """
    lu_, p = _check_lu_perm(lower_upper, perm, "lu_solve")
    b = as_tensor(rhs) if isinstance(rhs, Tensor) or hasattr(rhs, "dtype") else \
        _wrap(_to_array(rhs, lu_.dtype))
    if b.ndim < 2:
        raise ValueError(f"lu_solve: Input `rhs` must have at least 2 dimensions, got shape "
                         f"{tuple(b.shape)}")
    if b.shape[-2] != lu_.shape[-1]:
        raise ValueError(f"lu_solve: `lower_upper.shape[-1]` must equal `rhs.shape[-2]`; got "
                         f"{lu_.shape[-1]} and {b.shape[-2]}")
    if b.dtype != lu_.dtype:
        raise TypeError(f"lu_solve: rhs has dtype {b.dtype} but lower_upper has {lu_.dtype}")
    batch_shape_of(lu_.shape, b.shape, "lu_solve", "lower_upper", "rhs")
    try:
        batch = tuple(np.broadcast_shapes(tuple(b.shape[:-2]), tuple(p.shape[:-1])))
    except ValueError:
        raise ValueError(f"lu_solve: the batch dimensions of perm (shape {tuple(p.shape)}) "
                         f"and rhs (shape {tuple(b.shape)}) do not broadcast") from None
    d, k = b.shape[-2], b.shape[-1]
    b = broadcast_to(b, batch + (d, k)) if tuple(b.shape[:-2]) != batch else b
    xp = array_module(p._data)
    pb = _wrap(xp.broadcast_to(p._data, batch + (d,)))
    permuted = _permute_rows(b, pb)
    y = _tri(_unit_lower(lu_), permuted, lower=True, adjoint=False)
    return _tri(lu_, y, lower=False, adjoint=False)
