"""fm_interaction (DeepFM's second-order term) against a float64 NumPy reference, with
first- and second-order gradient checks."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy


def ref(e):
    e = e.astype(np.float64)
    total = np.zeros((e.shape[0], 1))
    for f in range(e.shape[1]):  # the pairwise definition, not the sum-of-squares trick
        for h in range(f + 1, e.shape[1]):
            total[:, 0] += (e[:, f] * e[:, h]).sum(axis=1)
    return total


GRAD_CASES = [
    GradCase(["fm_interaction", "fm_interaction_grad"], nn.fm_interaction,
             np.random.default_rng(5).standard_normal((4, 3, 2)), order=2, id="fm_interaction"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12),
                                        (np.float16, 4e-3)])
def test_forward_and_gradient_match_reference(dtype, rtol):
    rng = np.random.default_rng()
    e0 = rng.standard_normal((37, 26, 16)).astype(dtype)
    g0 = rng.standard_normal((37, 1)).astype(dtype)
    e = tensor(e0)
    with ef.GradientTape() as t:
        t.watch(e)
        y = nn.fm_interaction(e)
    de = t.gradient(y, e, output_gradients=tensor(g0))
    assert y.dtype == dtype and tuple(y.shape) == (37, 1)
    np.testing.assert_allclose(to_numpy(y), ref(e0), rtol=rtol, atol=rtol * 10)
    e64 = e0.astype(np.float64)
    want = g0.astype(np.float64)[:, :, None] * (e64.sum(axis=1, keepdims=True) - e64)
    assert de.dtype == dtype
    np.testing.assert_allclose(to_numpy(de), want, rtol=rtol, atol=rtol * 10)


def test_rejects_wrong_rank_and_integers():
    with pytest.raises(ValueError, match="batch, fields, dim"):
        nn.fm_interaction(tensor(np.ones((3, 4))))
    with pytest.raises(TypeError):
        nn.fm_interaction(tensor(np.ones((3, 4, 2), np.int32)))
