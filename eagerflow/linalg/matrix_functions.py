"""Matrix functions: expm and logm, computed on the device with ``xp`` matrix products and
batched solves (CuPy has neither function; NumPy has neither either, SciPy has them but is
host-only and not batched).

* expm: scaling and squaring with the degree-13 Padé approximant (Higham 2005), each matrix
  of a batch scaled by its own power of two.
* logm: symmetric positive definite batches go through ``eigh``; other matrices through
  inverse scaling and squaring (Denman-Beavers square roots, then Gauss-Legendre quadrature
  of ``log(I + E) = int_0^1 E (I + tE)^-1 dt``).

Both gradients use the block-matrix identity ``f([[A^H, G], [0, A^H]]) = [[f(A^H),
L_f(A^H, G)], [0, f(A^H)]]``: the Fréchet derivative at ``A^H`` applied to ``G`` is the
vjp, and since it is computed by the same registered op it can be differentiated again.
"""
import numpy as np

from ..autograd.registry import defvjp, register
from ..autograd.tensor import _wrap
from ..backend import array_module
from ..ops.math import divide, multiply, zeros_like
from ..ops.array import concat, matrix_transpose
from .validation import LinAlgError, check_matrix

__all__ = ["expm", "logm"]

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _norm1(xp, a):
    """Max absolute column sum of each matrix: ``(..., n, n) -> (...)``."""
    return xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)


def _swap(xp, a):
    return xp.swapaxes(a, -1, -2)


# --- expm ---------------------------------------------------------------------------------
def _expm_fwd(xp, a):
    if a.size == 0:
        return a.copy()
    b = _PADE13
    norm = _norm1(xp, a).real
    s = xp.ceil(xp.log2(xp.where(norm > 0, norm, _THETA13) / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    x = a * xp.exp2(-s.astype(a.real.dtype))[..., None, None].astype(a.dtype)
    ident = xp.eye(a.shape[-1], dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2)
             + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * ident)
    v = (x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2)
         + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * ident)
    r = xp.linalg.solve(v - u, v + u)
    steps = int(s.max())  # one host read: how many squarings the batch needs
    for i in range(steps):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r


def _frechet_vjp(op):
    def vjp(g, ans, a):
        xp = array_module(a._data)
        n = a.shape[-1]
        # L_f(A, .) is linear: scale G to A's size so the block matrix stays well scaled
        na, ng = _norm1(xp, a._data).real, _norm1(xp, g._data).real
        c = xp.where((na > 0) & (ng > 0), na / xp.where(ng > 0, ng, 1), 1)
        c = _wrap(c[..., None, None].astype(a.dtype))
        at = matrix_transpose(a, conjugate=True)
        top = concat([at, multiply(g, c)], axis=-1)
        bottom = concat([zeros_like(at), at], axis=-1)
        big = op(concat([top, bottom], axis=-2))
        return divide(big[..., :n, n:], c)
    return vjp


_expm = register("matrix_exponential", _expm_fwd)
defvjp(_expm, _frechet_vjp(_expm))


def expm(input, name=None):
    """Matrix exponential of each square matrix (``tf.linalg.expm``).

    Scaling and squaring with a degree-13 Padé approximant, on the device. The gradient is
    the Fréchet derivative, computed with the block-matrix method.

    Args:
        input: tensor of shape ``(..., n, n)``.

    Returns:
        ``exp(input)`` of shape ``(..., n, n)``.

    Raises:
        ValueError: non-square input.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.linalg.expm(ef.constant([[1.0]])).numpy()[0, 0]), 5)
        2.71828
    """
    return _expm(check_matrix(input, "expm", "input", square=True))


# --- logm ---------------------------------------------------------------------------------
_GL_NODES = 10
_SQRT_LIMIT = 64


def _sqrtm_db(xp, a, tol):
    """Principal square roots by the product form of the Denman-Beavers iteration."""
    ident = xp.eye(a.shape[-1], dtype=a.dtype)
    m, y = a, a
    extra = 0
    for _ in range(_SQRT_LIMIT):
        try:
            m_inv = xp.linalg.inv(m)
        except LinAlgError:
            break
        y = y @ (ident + m_inv) * 0.5
        m = (ident + (m + m_inv) * 0.5) * 0.5
        err = float(_norm1(xp, m - ident).max())  # host read: converged yet?
        if not np.isfinite(err):
            break
        if err <= tol:
            extra += 1  # quadratic convergence: two more steps reach machine precision
            if extra > 2:
                return y
    raise LinAlgError("logm: the square-root iteration did not converge; the matrix is "
                      "singular or has an eigenvalue on the closed negative real axis (not "
                      "supported: a real matrix has no real logarithm there)")


def _logm_iss(xp, a):
    ident = xp.eye(a.shape[-1], dtype=a.dtype)
    eps = np.finfo(a.real.dtype).eps
    x, k = a, 0
    while float(_norm1(xp, x - ident).real.max()) > 0.5:
        if k >= _SQRT_LIMIT:
            raise LinAlgError("logm: too many square roots; the matrix is singular or "
                              "badly scaled")
        x = _sqrtm_db(xp, x, tol=float(np.sqrt(eps)))
        k += 1
    e = x - ident
    t, w = np.polynomial.legendre.leggauss(_GL_NODES)
    out = xp.zeros_like(a)
    for tj, wj in zip(((t + 1) / 2).tolist(), (w / 2).tolist()):  # Python floats keep dtype
        out = out + wj * xp.linalg.solve(ident + tj * e, e)
    return out * float(2 ** k)


def _logm_fwd(xp, a):
    if a.size == 0:
        return a.copy()
    eps = float(np.finfo(a.real.dtype).eps)
    asym = xp.max(xp.abs(a - xp.conj(_swap(xp, a))))
    if bool(asym <= 16 * eps * xp.max(xp.abs(a))):  # one host read: Hermitian?
        w, v = xp.linalg.eigh(a)
        if bool(xp.all(w > 0)):
            return (v * xp.log(w).astype(a.dtype)[..., None, :]) @ xp.conj(_swap(xp, v))
    return _logm_iss(xp, a)


_logm = register("matrix_logarithm", _logm_fwd)
defvjp(_logm, _frechet_vjp(_logm))


def logm(input, name=None):
    """Principal matrix logarithm of each square matrix (``tf.linalg.logm``).

    TensorFlow accepts complex input only; this also takes real matrices whose real
    logarithm exists. Eigenvalues on the closed negative real axis are not supported (the
    square-root iteration cannot leave the real axis), for complex input too. Hermitian positive
    definite batches use ``eigh``; others use inverse scaling and squaring, all on the
    device. The gradient is the Fréchet derivative (block-matrix method); TensorFlow has
    none.

    Args:
        input: tensor of shape ``(..., n, n)``.

    Returns:
        ``log(input)`` of shape ``(..., n, n)``.

    Raises:
        ValueError: non-square input.
        numpy.linalg.LinAlgError: a singular matrix or one with an eigenvalue on the closed
            negative real axis.

    Example:
        >>> import eagerflow as ef
        >>> round(float(ef.linalg.logm(ef.constant([[2.0]])).numpy()[0, 0]), 5)
        0.69315
    """
    return _logm(check_matrix(input, "logm", "input", square=True))
