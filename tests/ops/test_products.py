"""matmul, matvec, tensordot, einsum: NumPy references, broadcasting, gradients, errors."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(6)


def rand(*shape):
    return R.uniform(-1, 1, size=shape)


GRAD_CASES = [
    GradCase("matmul", ef.matmul, rand(3, 4), rand(4, 2), order=2),
    GradCase("matmul", lambda a, b: ef.matmul(a, b, transpose_a=True, transpose_b=True),
             rand(4, 3), rand(2, 4), id="matmul-transposed"),
    GradCase("matmul", ef.matmul, rand(2, 1, 3, 4), rand(5, 4, 2), id="matmul-batch-bcast"),
    GradCase("einsum", lambda a, b: ef.einsum("bij,bjk->bik", a, b), rand(2, 3, 4),
             rand(2, 4, 2), order=2),
    GradCase("einsum", lambda a, b: ef.einsum("ij,j->i", a, b), rand(3, 4), rand(4),
             id="einsum-matvec"),
    GradCase("einsum", lambda a: ef.einsum("ijk->i", a), rand(2, 3, 4), id="einsum-sum"),
    GradCase("einsum", lambda a, b: ef.einsum("ij,kj", a, b), rand(2, 3), rand(4, 3),
             id="einsum-implicit"),
    GradCase(["matmul", "reshape", "transpose"], lambda a, b: ef.tensordot(a, b, [[0, 2], [1, 0]]),
             rand(2, 3, 4), rand(4, 2, 5), id="tensordot"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_forward_matches_numpy():
    a, b = rand(2, 3, 4), rand(2, 4, 5)
    np.testing.assert_allclose(to_numpy(ef.matmul(tensor(a), tensor(b))), a @ b)
    np.testing.assert_allclose(to_numpy(ef.matmul(tensor(b), tensor(a), adjoint_a=True,
                                                  adjoint_b=True)),
                               b.swapaxes(-1, -2) @ a.swapaxes(-1, -2))
    np.testing.assert_allclose(to_numpy(ef.matvec(tensor(a), tensor(rand(4)))).shape, (2, 3))
    c = rand(4, 5)
    np.testing.assert_allclose(to_numpy(ef.tensordot(tensor(a), tensor(c), 1)),
                               np.tensordot(a, c, 1))
    np.testing.assert_allclose(to_numpy(ef.tensordot(tensor(a), tensor(b), [[0, 2], [0, 1]])),
                               np.tensordot(a, b, [[0, 2], [0, 1]]))
    np.testing.assert_allclose(to_numpy(ef.einsum("bij,bjk->bki", tensor(a), tensor(b))),
                               np.einsum("bij,bjk->bki", a, b))
    np.testing.assert_allclose(to_numpy(ef.einsum("ii->i", tensor(rand(3, 3)))).shape, (3,))


def test_errors():
    with pytest.raises(ValueError, match=r"inner dimensions differ: a has shape \(2, 3\)"):
        ef.matmul(tensor(rand(2, 3)), tensor(rand(4, 2)))
    with pytest.raises(ValueError, match="rank >= 2"):
        ef.matmul(tensor(rand(3)), tensor(rand(3, 2)))
    with pytest.raises(TypeError, match="dtype"):
        ef.matmul(tensor(rand(2, 2)), tensor(np.ones((2, 2), np.float32)))
    with pytest.raises(ValueError, match="batch dimensions"):
        ef.matmul(tensor(rand(2, 2, 2)), tensor(rand(3, 2, 2)))
    with pytest.raises(ValueError, match="subscript 'ij' has 2 letters"):
        ef.einsum("ij,jk->ik", tensor(rand(2)), tensor(rand(2, 2)))
    with pytest.raises(ValueError, match="differs from"):
        ef.tensordot(tensor(rand(2, 3)), tensor(rand(4, 2)), 1)


def test_matmul_operator_and_empty_batch():
    a = np.zeros((0, 3))
    assert (tensor(a) @ tensor(rand(3, 2))).shape == (0, 2)
