"""TF1 tf.losses: per-element losses against NumPy, weights, and every Reduction mode."""
import numpy as np
import pytest
from scipy import special

from eagerflow import losses
from eagerflow.losses import Reduction
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(2)
Y = (R.uniform(size=(4, 3)) > 0.5).astype(np.float64)
P = R.uniform(0.05, 0.95, (4, 3))
X = R.standard_normal((4, 3)) * 2
W = np.array([[1.0], [0.0], [2.0], [0.5]])


def reduce_ref(l, w, reduction):
    wb = np.broadcast_to(w, l.shape)
    s = (l * wb).sum()
    if reduction == Reduction.NONE:
        return l * wb
    if reduction == Reduction.SUM:
        return s
    if reduction == Reduction.MEAN:
        return s / wb.sum() if wb.sum() else 0.0
    if reduction == Reduction.SUM_OVER_BATCH_SIZE:
        return s / l.size
    nz = (wb != 0).sum()
    return s / nz if nz else 0.0


ELEMENTWISE = {
    "absolute_difference": (lambda y, p, **kw: losses.absolute_difference(y, p, **kw),
                            lambda y, p: np.abs(p - y)),
    "mean_squared_error": (lambda y, p, **kw: losses.mean_squared_error(y, p, **kw),
                           lambda y, p: (p - y) ** 2),
    "huber_loss": (lambda y, p, **kw: losses.huber_loss(y, p * 3, delta=0.7, **kw),
                   lambda y, p: np.where(np.abs(3 * p - y) <= 0.7, 0.5 * (3 * p - y) ** 2,
                                         0.7 * (np.abs(3 * p - y) - 0.35))),
    "log_loss": (lambda y, p, **kw: losses.log_loss(y, p, **kw),
                 lambda y, p: -y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7)),
    "hinge_loss": (lambda y, p, **kw: losses.hinge_loss(y, p * 2 - 0.5, **kw),
                   lambda y, p: np.maximum(0, 1 - (2 * y - 1) * (p * 2 - 0.5))),
    "sigmoid_cross_entropy": (
        lambda y, p, **kw: losses.sigmoid_cross_entropy(y, p * 4 - 2, label_smoothing=0.2,
                                                        **kw),
        lambda y, p: -(y * 0.8 + 0.1) * np.log(special.expit(p * 4 - 2))
        - (1 - (y * 0.8 + 0.1)) * np.log(1 - special.expit(p * 4 - 2))),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("reduction", Reduction.all())
def test_elementwise_losses_all_reductions(name, reduction):
    fn, ref = ELEMENTWISE[name]
    got = fn(tensor(Y), tensor(P), weights=tensor(W), reduction=reduction)
    np.testing.assert_allclose(to_numpy(got), reduce_ref(ref(Y, P), W, reduction), rtol=1e-10)


def test_default_reduction_is_sum_by_nonzero_weights():
    got = losses.mean_squared_error(tensor(Y), tensor(P), weights=W)
    np.testing.assert_allclose(to_numpy(got), ((P - Y) ** 2 * W).sum() / 9)
    got = losses.mean_squared_error(tensor(Y), tensor(P))
    np.testing.assert_allclose(to_numpy(got), ((P - Y) ** 2).mean())
    zero = losses.mean_squared_error(tensor(Y), tensor(P), weights=0.0)
    assert float(to_numpy(zero)) == 0.0


def test_softmax_losses():
    onehot = np.eye(3)[[0, 2, 1, 1]]
    got = losses.softmax_cross_entropy(tensor(onehot), tensor(X), weights=W[:, 0],
                                       label_smoothing=0.3)
    sm = onehot * 0.7 + 0.1
    per = -(sm * special.log_softmax(X, axis=1)).sum(1)
    np.testing.assert_allclose(to_numpy(got), (per * W[:, 0]).sum() / 3)
    got = losses.sparse_softmax_cross_entropy(tensor(np.array([[0], [2], [1], [1]])),
                                              tensor(X), reduction=Reduction.SUM)
    per = -special.log_softmax(X, axis=1)[np.arange(4), [0, 2, 1, 1]]
    np.testing.assert_allclose(to_numpy(got), per.sum())


def test_cosine_distance():
    a = R.standard_normal((4, 3))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b = R.standard_normal((4, 3))
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    got = losses.cosine_distance(tensor(a), tensor(b), axis=1, reduction=Reduction.NONE)
    np.testing.assert_allclose(to_numpy(got), 1 - (a * b).sum(1, keepdims=True))
    with pytest.raises(ValueError, match="axis"):
        losses.cosine_distance(tensor(a), tensor(b))


def test_mean_pairwise_squared_error():
    got = losses.mean_pairwise_squared_error(tensor(Y), tensor(P))
    d = P - Y
    per = np.array([np.mean([(d[i, j] - d[i, k]) ** 2 for j in range(3) for k in range(3)
                             if j != k]) for i in range(4)])
    # TF1 sums the per-example pair means over the batch
    np.testing.assert_allclose(to_numpy(got), per.sum())
    got = losses.mean_pairwise_squared_error(tensor(Y), tensor(P), weights=W[:, 0])
    np.testing.assert_allclose(to_numpy(got), (per * W[:, 0]).sum())


def test_bad_arguments():
    with pytest.raises(ValueError, match="incompatible"):
        losses.mean_squared_error(tensor(Y), tensor(P[:2]))
    with pytest.raises(ValueError, match="broadcast"):
        losses.mean_squared_error(tensor(Y), tensor(P), weights=np.ones((2, 3)))
    with pytest.raises(ValueError, match="Reduction"):
        losses.absolute_difference(tensor(Y), tensor(P), reduction="avg")
    with pytest.raises(ValueError, match="None"):
        losses.log_loss(None, tensor(P))


GRAD_CASES = [
    GradCase([], lambda p: fn(tensor(Y), p, weights=tensor(W), reduction=red), P,
             id=f"{name}_{red}")
    for name, (fn, _) in sorted(ELEMENTWISE.items())
    for red in (Reduction.SUM_BY_NONZERO_WEIGHTS, Reduction.MEAN)
] + [
    GradCase([], lambda x: losses.softmax_cross_entropy(tensor(np.eye(3)[[0, 2, 1, 1]]), x,
                                                        label_smoothing=0.1), X,
             id="softmax_cross_entropy"),
    GradCase([], lambda x: losses.sparse_softmax_cross_entropy(tensor(np.array([0, 2, 1, 1])),
                                                               x, weights=W[:, 0]), X,
             id="sparse_softmax_cross_entropy"),
    GradCase([], lambda p: losses.mean_pairwise_squared_error(tensor(Y), p), P,
             id="mean_pairwise_squared_error"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)
