"""``tf.linalg``: matrix ops with TensorFlow's names and batch semantics (leading dimensions
are batch dimensions), each differentiable where TensorFlow's is, on NumPy and CuPy.

Example:
    >>> import eagerflow as ef
    >>> import eagerflow.linalg as linalg
    >>> a = ef.constant([[4.0, 2.0], [2.0, 5.0]])
    >>> linalg.cholesky(a).numpy().tolist()
    [[2.0, 0.0], [1.0, 2.0]]
"""
from ..ops.products import einsum, matmul, matvec, tensordot
from .decompositions import (cholesky, eigh, eigvalsh, lu, lu_reconstruct, lu_solve,
                             matrix_rank, pinv, qr, svd)
from .factored import cholesky_solve, logdet, lstsq
from .matrix_functions import expm, logm
from .norms import global_norm, norm, normalize
from .solvers import det, inv, slogdet, solve, triangular_solve
from .structure import (adjoint, band_part, cross, diag, diag_part, eye, l2_normalize,
                        matrix_transpose, set_diag, trace, transpose)
from .validation import LinAlgError

__all__ = [
    "adjoint", "band_part", "cholesky", "cholesky_solve", "det", "diag", "diag_part", "eigh",
    "eigvalsh", "einsum", "expm", "eye", "inv", "logdet", "logm", "lstsq", "norm", "pinv", "qr",
    "set_diag", "slogdet", "solve", "svd", "tensordot", "trace", "transpose",
    "triangular_solve", "matvec", "matmul", "matrix_transpose", "l2_normalize",
    "LinAlgError", "cross", "global_norm", "normalize", "matrix_rank", "lu", "lu_reconstruct",
    "lu_solve",
]
