"""Softmax family and cross-entropies: references, stability at +/-1e4, gradients."""
import numpy as np
import pytest
from scipy import special

import eagerflow as ef
import eagerflow.nn as nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(3)
L = R.standard_normal((4, 5))
Z = special.softmax(R.standard_normal((4, 5)), axis=1)
Z0 = special.softmax(R.standard_normal((4, 5)), axis=0)
B = R.uniform(0, 1, (4, 5))
Y = np.array([0, 4, 2, 2])

GRAD_CASES = [
    GradCase([], lambda x: nn.softmax(x), L, order=2, id="softmax"),
    GradCase([], lambda x: nn.softmax(x, axis=0), L, id="softmax_axis0"),
    GradCase([], lambda x: nn.log_softmax(x), L, order=2, id="log_softmax"),
    GradCase([], lambda z, x: nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x), B, L,
             order=2, id="sigmoid_xent"),
    GradCase([], lambda z, x: nn.weighted_cross_entropy_with_logits(z, x, 2.5), B, L,
             id="weighted_xent"),
    GradCase(["softmax_xent"], lambda z, x: nn.softmax_cross_entropy_with_logits(z, x), Z,
             L, order=2, id="softmax_xent"),
    # labels summing to 1 along the class axis: where TF's gradient is the loss's derivative
    GradCase(["softmax_xent"],
             lambda z, x: nn.softmax_cross_entropy_with_logits(z, x, axis=0), Z0, L,
             order=2, id="softmax_xent_axis0"),
    GradCase([], lambda x: nn.sparse_softmax_cross_entropy_with_logits(tensor(Y), x), L,
             order=2, id="sparse_softmax_xent"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_forward_references():
    np.testing.assert_allclose(to_numpy(nn.softmax(tensor(L))), special.softmax(L, axis=1))
    np.testing.assert_allclose(to_numpy(nn.log_softmax(tensor(L), axis=0)),
                               special.log_softmax(L, axis=0))
    sig = -(B * np.log(special.expit(L)) + (1 - B) * np.log(1 - special.expit(L)))
    np.testing.assert_allclose(to_numpy(nn.sigmoid_cross_entropy_with_logits(
        labels=tensor(B), logits=tensor(L))), sig)
    q = 2.5
    w = -(q * B * np.log(special.expit(L)) + (1 - B) * np.log(1 - special.expit(L)))
    np.testing.assert_allclose(to_numpy(nn.weighted_cross_entropy_with_logits(
        tensor(B), tensor(L), q)), w)
    np.testing.assert_allclose(to_numpy(nn.softmax_cross_entropy_with_logits(
        tensor(Z), tensor(L))), -(Z * special.log_softmax(L, axis=1)).sum(1))
    np.testing.assert_allclose(to_numpy(nn.sparse_softmax_cross_entropy_with_logits(
        tensor(Y), tensor(L))), -special.log_softmax(L, axis=1)[np.arange(4), Y])


def test_stable_for_huge_logits():
    x = tensor(np.array([[1e4, -1e4, 0.0]], np.float32))
    sm = to_numpy(nn.softmax(x))
    np.testing.assert_allclose(sm, [[1.0, 0.0, 0.0]])
    ls = to_numpy(nn.log_softmax(x))
    np.testing.assert_allclose(ls, [[0.0, -2e4, -1e4]])
    assert np.isfinite(to_numpy(nn.softmax_cross_entropy_with_logits(
        tensor(np.array([[0.0, 1.0, 0.0]], np.float32)), x))).all()
    np.testing.assert_allclose(to_numpy(nn.sparse_softmax_cross_entropy_with_logits(
        tensor(np.array([1])), x)), [2e4])
    s = to_numpy(nn.sigmoid_cross_entropy_with_logits(
        labels=tensor(np.array([1.0, 0.0, 1.0, 0.0], np.float32)),
        logits=tensor(np.array([1e4, -1e4, -1e4, 1e4], np.float32))))
    np.testing.assert_allclose(s, [0.0, 0.0, 1e4, 1e4])
    xx = tensor(np.array([[1e4, -1e4]]))
    with ef.GradientTape() as t:
        t.watch(xx)
        loss = nn.sparse_softmax_cross_entropy_with_logits(tensor(np.array([0])), xx)
    assert np.isfinite(to_numpy(t.gradient(loss, xx))).all()


def test_softmax_xent_gradient_reaches_labels():
    z, x = tensor(Z), tensor(L)
    with ef.GradientTape() as t:
        t.watch([z, x])
        loss = ef.reduce_sum(nn.softmax_cross_entropy_with_logits(z, x))
    gz, gx = t.gradient(loss, [z, x])
    np.testing.assert_allclose(to_numpy(gz), -special.log_softmax(L, axis=1))
    np.testing.assert_allclose(to_numpy(gx), special.softmax(L, axis=1) - Z)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        nn.softmax_cross_entropy_with_logits(tensor(Z[:, :4]), tensor(L))
    with pytest.raises(ValueError, match="same shape"):
        nn.sigmoid_cross_entropy_with_logits(labels=tensor(B[:2]), logits=tensor(L))
    with pytest.raises(ValueError, match="labels shape"):
        nn.sparse_softmax_cross_entropy_with_logits(tensor(Y[:3]), tensor(L))
    with pytest.raises(TypeError, match="integers"):
        nn.sparse_softmax_cross_entropy_with_logits(tensor(Y * 1.0), tensor(L))
    with pytest.raises(ValueError, match="axis"):
        nn.softmax(tensor(L), axis=2)
    with pytest.raises(ValueError, match="pos_weight"):
        nn.weighted_cross_entropy_with_logits(tensor(B), tensor(L))


def test_sparse_label_out_of_range_raises_on_cpu():
    if ef.get_backend() != "numpy":
        pytest.skip("TF checks label ranges on the CPU only")
    with pytest.raises(ValueError, match="label value of 5"):
        nn.sparse_softmax_cross_entropy_with_logits(tensor(np.array([0, 5, 0, 0])), tensor(L))


def test_sparse_labels_of_a_narrow_unsigned_dtype_with_many_classes():
    # the range check and the clip run in int64: n - 1 = 299 does not fit uint8
    x = np.random.default_rng(3).standard_normal((2, 300))
    got = nn.sparse_softmax_cross_entropy_with_logits(tensor(np.array([1, 255], np.uint8)),
                                                      tensor(x))
    lse = np.log(np.exp(x).sum(axis=1))
    np.testing.assert_allclose(to_numpy(got), lse - x[[0, 1], [1, 255]], rtol=1e-12)


def test_softmax_xent_logits_gradient_is_tfs_for_multi_hot_labels():
    """TF's kernel returns softmax(logits) - labels as the logits gradient whatever the
    labels sum to (xent_op.h); multi-hot labels show the difference from the loss's own
    derivative, sum(labels) * softmax - labels."""
    x = ef.constant(L)
    z = ef.constant((B > 0.5).astype(np.float64))  # several 1s per row
    with ef.GradientTape() as tape:
        tape.watch([z, x])
        loss = nn.softmax_cross_entropy_with_logits(z, x)
    dz, dx = tape.gradient(loss, [z, x])
    sm = special.softmax(L, axis=1)
    np.testing.assert_allclose(to_numpy(dx), sm - (B > 0.5), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(dz), -special.log_softmax(L, axis=1), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(loss),
                               -((B > 0.5) * special.log_softmax(L, axis=1)).sum(1),
                               rtol=1e-12)
