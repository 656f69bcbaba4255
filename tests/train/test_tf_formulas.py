"""Every TF1 optimizer and learning-rate schedule against a NumPy transcription of TF's own code.

The references below are written from TensorFlow's sources, not from eagerflow's:

- dense updates: the ``Apply*`` functors of ``tensorflow/core/kernels/training_ops.cc``;
- sparse updates: ``Optimizer._apply_sparse_duplicate_indices`` (python/training/optimizer.py)
  sums duplicate indices first, then the ``SparseApply*`` kernels update only those rows;
  ``AdamOptimizer._apply_sparse_shared`` (python/training/adam.py) decays ``m``/``v`` of
  every row; contrib's ``LazyAdamOptimizer._apply_sparse`` only the gradient's rows;
- schedules: python/keras/optimizer_v2/learning_rate_schedule.py (which the TF1
  ``tf.compat.v1.train.*_decay`` functions wrap).

Each optimizer runs 3 steps with fixed gradients, in float64, dense and sparse (the sparse
gradient repeats an index).
"""
import math

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.train as train
import eagerflow.variables as vs
from tests.gradcheck import tensor, to_numpy

W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]])
GRADS = [np.array([[0.3, -0.2, 0.1], [0.0, 0.4, -0.5], [0.9, 0.2, -0.1], [-0.3, 0.6, 0.2]]),
         np.array([[-0.1, 0.5, 0.2], [0.7, -0.3, 0.0], [-0.4, 0.1, 0.3], [0.2, -0.2, -0.6]]),
         np.array([[0.2, 0.1, -0.3], [-0.5, 0.2, 0.4], [0.3, -0.6, 0.1], [0.1, 0.3, -0.2]])]
# sparse steps: (indices, rows); index 1 / 0 / 3 repeats
SPARSE = [(np.array([1, 3, 1]), np.array([[0.3, -0.2, 0.1], [0.0, 0.4, -0.5], [0.2, 0.1, 0.6]])),
          (np.array([0, 0]), np.array([[-0.1, 0.5, 0.2], [0.7, -0.3, 0.0]])),
          (np.array([3, 2, 3, 3]), np.array([[0.2, 0.1, -0.3], [-0.5, 0.2, 0.4],
                                             [0.3, -0.6, 0.1], [0.1, 0.3, -0.2]]))]


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


# --- NumPy transcriptions of training_ops.cc (one step; `s` holds the slots) ---------------

def k_sgd(v, g, s, lr):  # ApplyGradientDescent: var -= grad * lr
    return v - g * lr


def k_momentum(m, nesterov):  # ApplyMomentum
    def f(v, g, s, lr):
        s["accum"] = s["accum"] * m + g
        if nesterov:
            return v - (g * lr + s["accum"] * m * lr)
        return v - s["accum"] * lr
    return f


def k_adagrad(v, g, s, lr):  # ApplyAdagrad: accum += g^2; var -= g * lr * rsqrt(accum)
    s["accum"] = s["accum"] + g * g
    return v - g * lr / np.sqrt(s["accum"])


def k_proximal_adagrad(l1, l2):  # ApplyProximalAdagrad
    def f(v, g, s, lr):
        s["accum"] = s["accum"] + g * g
        rate = lr / np.sqrt(s["accum"])
        prox = v - g * rate
        if l1 > 0:
            return np.sign(prox) * np.maximum(np.abs(prox) - rate * l1, 0) / (1 + l2 * rate)
        return prox / (1 + l2 * rate)
    return f


def k_proximal_gd(l1, l2):  # ApplyProximalGradientDescent
    def f(v, g, s, lr):
        prox = v - g * lr
        if l1 > 0:
            return np.sign(prox) * np.maximum(np.abs(prox) - lr * l1, 0) / (1 + l2 * lr)
        return prox / (1 + l2 * lr)
    return f


def k_adadelta(rho, eps):  # ApplyAdadelta
    def f(v, g, s, lr):
        s["accum"] = s["accum"] * rho + g * g * (1 - rho)
        update = np.sqrt(s["accum_update"] + eps) / np.sqrt(s["accum"] + eps) * g
        s["accum_update"] = s["accum_update"] * rho + update * update * (1 - rho)
        return v - update * lr
    return f


def k_adam(b1, b2, eps):  # ApplyAdam; s["t"] is the step (beta powers b^t)
    def f(v, g, s, lr):
        t = s["t"]
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        s["m"] = s["m"] + (g - s["m"]) * (1 - b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - b2)
        return v - s["m"] * alpha / (np.sqrt(s["v"]) + eps)
    return f


def k_rmsprop(rho, mom, eps, centered):  # ApplyRMSProp / ApplyCenteredRMSProp
    def f(v, g, s, lr):
        s["ms"] = s["ms"] + (g * g - s["ms"]) * (1 - rho)
        denom = s["ms"] + eps
        if centered:
            s["mg"] = s["mg"] + (g - s["mg"]) * (1 - rho)
            denom = s["ms"] - s["mg"] ** 2 + eps
        s["mom"] = s["mom"] * mom + g * lr / np.sqrt(denom)
        return v - s["mom"]
    return f


def k_ftrl(l1, l2, shrink, lr_power):  # ApplyFtrl / ApplyFtrlV2 (l2 already has beta/(2 lr))
    def f(v, g, s, lr):
        a = s["accum"]
        new_a = a + g * g
        gs = g + 2 * shrink * v
        if lr_power == -0.5:
            s["linear"] = s["linear"] + gs - (np.sqrt(new_a) - np.sqrt(a)) / lr * v
            y = np.sqrt(new_a) / lr + 2 * l2
        else:
            s["linear"] = s["linear"] + gs - (new_a ** -lr_power - a ** -lr_power) / lr * v
            y = new_a ** -lr_power / lr + 2 * l2
        lin = s["linear"]
        s["accum"] = new_a  # accum += grad^2: the plain gradient, even with shrinkage
        with np.errstate(invalid="ignore"):  # y == 0 only where the select keeps 0
            return np.where(np.abs(lin) > l1, (l1 * np.sign(lin) - lin) / y, 0.0)
    return f


def k_adagrad_da(l1, l2):  # ApplyAdagradDA; s["t"] = global_step + 1 (adagrad_da.py)
    def f(v, g, s, lr):
        t = float(s["t"])
        s["ga"] = s["ga"] + g
        s["gg"] = s["gg"] + g * g
        den = l2 * t * lr + np.sqrt(s["gg"])
        if l1 > 0:
            return -lr * np.sign(s["ga"]) * np.maximum(np.abs(s["ga"]) - t * l1, 0) / den
        return -lr * s["ga"] / den
    return f


LR = 0.07
# name -> (optimizer factory, kernel, initial slots, Adam-style dense sparse update)
CASES = {
    "sgd": (lambda: train.GradientDescentOptimizer(LR), k_sgd, {}, False),
    "momentum": (lambda: train.MomentumOptimizer(LR, 0.8), k_momentum(0.8, False),
                 {"accum": 0.0}, False),
    "nesterov": (lambda: train.MomentumOptimizer(LR, 0.8, use_nesterov=True),
                 k_momentum(0.8, True), {"accum": 0.0}, False),
    "adagrad_init": (lambda: train.AdagradOptimizer(LR, initial_accumulator_value=0.3),
                     k_adagrad, {"accum": 0.3}, False),
    "proximal_adagrad": (lambda: train.ProximalAdagradOptimizer(
        LR, 0.2, l1_regularization_strength=0.05, l2_regularization_strength=0.1),
        k_proximal_adagrad(0.05, 0.1), {"accum": 0.2}, False),
    "proximal_adagrad_l2": (lambda: train.ProximalAdagradOptimizer(
        LR, l2_regularization_strength=0.3), k_proximal_adagrad(0.0, 0.3),
        {"accum": 0.1}, False),
    "proximal_gd": (lambda: train.ProximalGradientDescentOptimizer(
        LR, l1_regularization_strength=0.4, l2_regularization_strength=0.2),
        k_proximal_gd(0.4, 0.2), {}, False),
    "proximal_gd_l2": (lambda: train.ProximalGradientDescentOptimizer(
        LR, l2_regularization_strength=0.2), k_proximal_gd(0.0, 0.2), {}, False),
    "adadelta": (lambda: train.AdadeltaOptimizer(LR, rho=0.9, epsilon=1e-6),
                 k_adadelta(0.9, 1e-6), {"accum": 0.0, "accum_update": 0.0}, False),
    "adam": (lambda: train.AdamOptimizer(LR, beta1=0.8, beta2=0.95, epsilon=1e-3),
             k_adam(0.8, 0.95, 1e-3), {"m": 0.0, "v": 0.0}, True),
    "lazy_adam": (lambda: train.LazyAdamOptimizer(LR, beta1=0.8, beta2=0.95, epsilon=1e-3),
                  k_adam(0.8, 0.95, 1e-3), {"m": 0.0, "v": 0.0}, False),
    "rmsprop": (lambda: train.RMSPropOptimizer(LR, decay=0.8, epsilon=1e-4),
                k_rmsprop(0.8, 0.0, 1e-4, False), {"ms": 1.0, "mom": 0.0}, False),
    "rmsprop_momentum": (lambda: train.RMSPropOptimizer(LR, decay=0.8, momentum=0.6,
                                                        epsilon=1e-4),
                         k_rmsprop(0.8, 0.6, 1e-4, False), {"ms": 1.0, "mom": 0.0}, False),
    "rmsprop_centered": (lambda: train.RMSPropOptimizer(LR, decay=0.8, momentum=0.6,
                                                        epsilon=1e-4, centered=True),
                         k_rmsprop(0.8, 0.6, 1e-4, True),
                         {"ms": 1.0, "mg": 0.0, "mom": 0.0}, False),
    "ftrl": (lambda: train.FtrlOptimizer(LR, l1_regularization_strength=0.01,
                                         l2_regularization_strength=0.2),
             k_ftrl(0.01, 0.2, 0.0, -0.5), {"accum": 0.1, "linear": 0.0}, False),
    "ftrl_power_zero_init": (lambda: train.FtrlOptimizer(
        LR, learning_rate_power=-0.7, initial_accumulator_value=0.0,
        l1_regularization_strength=0.02), k_ftrl(0.02, 0.0, 0.0, -0.7),
        {"accum": 0.0, "linear": 0.0}, False),
    "ftrl_shrinkage_beta": (lambda: train.FtrlOptimizer(
        LR, initial_accumulator_value=0.5, l1_regularization_strength=0.01,
        l2_regularization_strength=0.1, l2_shrinkage_regularization_strength=0.3, beta=0.2),
        # ftrl.py: adjusted l2 = l2 + beta / (2 * lr)
        k_ftrl(0.01, 0.1 + 0.2 / (2 * LR), 0.3, -0.5), {"accum": 0.5, "linear": 0.0}, False),
    "adagrad_da": (lambda: train.AdagradDAOptimizer(
        LR, train.get_or_create_global_step(), initial_gradient_squared_accumulator_value=0.2,
        l1_regularization_strength=0.01, l2_regularization_strength=0.3),
        k_adagrad_da(0.01, 0.3), {"ga": 0.0, "gg": 0.2}, False),
    "adagrad_da_no_l1": (lambda: train.AdagradDAOptimizer(
        LR, train.get_or_create_global_step(), l2_regularization_strength=0.3),
        k_adagrad_da(0.0, 0.3), {"ga": 0.0, "gg": 0.1}, False),
}


def _slots(init, shape):
    return {k: np.full(shape, v) for k, v in init.items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dense_three_steps_match_tf_kernels(case):
    make, kern, init, _ = CASES[case]
    step = train.get_or_create_global_step()
    opt = make()
    w = ef.Variable(tensor(W0), name="w")
    expect, s = W0.copy(), _slots(init, W0.shape)
    for t, g in enumerate(GRADS, start=1):
        s["t"] = t  # Adam's beta-power exponent; AdagradDA's global_step + 1
        opt.apply_gradients([(tensor(g), w)], global_step=step)
        expect = kern(expect, g, s, LR)
        np.testing.assert_allclose(to_numpy(w), expect, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_three_steps_with_duplicate_indices_match_tf_kernels(case):
    make, kern, init, adam_dense = CASES[case]
    step = train.get_or_create_global_step()
    opt = make()
    w = ef.Variable(tensor(W0), name="emb")
    expect, s = W0.copy(), _slots(init, W0.shape)
    for t, (idx, rows) in enumerate(SPARSE, start=1):
        s["t"] = t
        opt.apply_gradients([(ef.IndexedSlices(tensor(rows), tensor(idx), W0.shape), w)],
                            global_step=step)
        uniq = np.unique(idx)
        summed = np.zeros((len(uniq), 3))
        np.add.at(summed, np.searchsorted(uniq, idx), rows)  # _deduplicate_indexed_slices
        if adam_dense:  # adam.py _apply_sparse_shared: every row of m, v and var
            dense = np.zeros_like(W0)
            dense[uniq] = summed
            expect = kern(expect, dense, s, LR)
        else:  # SparseApply*: only the unique rows
            sub = {k: (v[uniq] if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            new = kern(expect[uniq], summed, sub, LR)
            for k, v in sub.items():
                if isinstance(v, np.ndarray):
                    s[k][uniq] = v
            expect = expect.copy()
            expect[uniq] = new
        np.testing.assert_allclose(to_numpy(w), expect, rtol=1e-12, atol=1e-14)


def test_adagrad_da_reads_global_step_plus_one(store):
    # adagrad_da.py _prepare: global_step_on_worker = identity(global_step) + 1; without
    # apply_gradients(global_step=...) the step stays, so T stays 11 here
    step = train.get_or_create_global_step()
    step.assign(10)
    opt = train.AdagradDAOptimizer(0.5, step, l2_regularization_strength=0.1)
    w = ef.Variable(tensor(np.array([1.0, -2.0])), name="w")
    g = np.array([0.4, -0.3])
    for k in (1, 2):
        opt.apply_gradients([(tensor(g), w)])
        ga, gg = k * g, 0.1 + k * g * g
        np.testing.assert_allclose(to_numpy(w), -0.5 * ga / (0.1 * 11 * 0.5 + np.sqrt(gg)),
                                   rtol=1e-12)
    assert int(to_numpy(step)) == 10
    assert {"w/AdagradDA", "w/AdagradDA_1"} <= set(store.names())
    np.testing.assert_allclose(to_numpy(opt.get_slot(w, "gradient_squared_accumulator")),
                               0.1 + 2 * g * g)
    with pytest.raises(ValueError, match="must be positive"):
        train.AdagradDAOptimizer(0.1, step, initial_gradient_squared_accumulator_value=0.0)


def test_new_optimizers_on_a_vector_variable_and_padding_rows():
    # a 1-D variable (inner_dim == 1 in the sparse kernels); INDEX_PAD rows add nothing
    from eagerflow.kernels.scatter_add import INDEX_PAD
    v0 = np.array([0.5, -0.2, 0.9])
    w = ef.Variable(tensor(v0), name="v")
    opt = train.ProximalGradientDescentOptimizer(0.5, l1_regularization_strength=0.1)
    idx = np.array([2, INDEX_PAD, 2], dtype=np.int64)
    opt.apply_gradients([(ef.IndexedSlices(tensor(np.array([0.2, 5.0, 0.2])), tensor(idx),
                                           (3,)), w)])
    expect = v0.copy()
    expect[2] = k_proximal_gd(0.1, 0.0)(v0[2], 0.4, {}, 0.5)
    np.testing.assert_allclose(to_numpy(w), expect, rtol=1e-12)


def test_lazy_adam_slots_are_named_like_tf1s(store):
    # contrib/opt/python/training/lazy_adam_optimizer.py defines no __init__: the name is
    # AdamOptimizer's default "Adam", so TF checkpoints hold <v>/Adam and <v>/Adam_1
    w = vs.get_variable("emb", initializer=W0.copy())
    opt = train.LazyAdamOptimizer(0.1)
    opt.apply_gradients([(ef.IndexedSlices(tensor(np.ones((1, 3))), tensor(np.array([1])),
                                           W0.shape), w)])
    assert opt.get_name() == "Adam"
    assert set(store.names()) == {"emb", "emb/Adam", "emb/Adam_1", "beta1_power",
                                  "beta2_power"}


# --- schedules (learning_rate_schedule.py) -----------------------------------------------

def val(sched, step):
    return float(to_numpy(sched(tensor(np.array(step, np.int64)))))


def ref_linear_cosine(lr, decay_steps, step, num_periods=0.5, alpha=0.0, beta=0.001, eps=0.0):
    s = min(step, decay_steps)
    linear = (decay_steps - s) / decay_steps
    cosine = 0.5 * (1.0 + math.cos(math.pi * 2.0 * num_periods * s / decay_steps))
    return lr * ((alpha + linear + eps) * cosine + beta)


@pytest.mark.parametrize("step", [0, 1, 37, 100, 250])
def test_linear_cosine_decay(step):
    s = train.LinearCosineDecay(0.2, 100, num_periods=2.0, alpha=0.1, beta=0.01)
    assert val(s, step) == pytest.approx(ref_linear_cosine(0.2, 100, step, 2.0, 0.1, 0.01),
                                         rel=1e-6, abs=1e-9)
    gs = ef.Variable(np.int64(step), trainable=False, name="gs")
    f = train.linear_cosine_decay(0.2, gs, 100)
    assert float(f) == pytest.approx(ref_linear_cosine(0.2, 100, step), rel=1e-6, abs=1e-9)


@pytest.fixture
def seeded():
    from eagerflow.backend import random as brandom
    brandom.set_seed(3)
    yield
    brandom.set_seed(None)


def test_noisy_linear_cosine_decay_noise_has_tfs_variance(seeded):
    gs = ef.Variable(np.int64(30), trainable=False, name="gs")
    quiet = train.noisy_linear_cosine_decay(0.2, gs, 100, initial_variance=0.0)
    assert float(quiet) == pytest.approx(ref_linear_cosine(0.2, 100, 30), rel=1e-6)
    f = train.noisy_linear_cosine_decay(0.2, gs, 100, initial_variance=2.0,
                                        variance_decay=0.55)
    cosine = 0.5 * (1.0 + math.cos(math.pi * 30 / 100))
    # noise = (lr_t / lr - beta) / cosine - alpha - linear ~ N(0, 2 / (1 + 30) ** 0.55)
    eps = np.array([(float(f) / 0.2 - 0.001) / cosine - 0.7 for _ in range(4000)])
    std = math.sqrt(2.0 / 31 ** 0.55)
    assert abs(eps.mean()) < 4 * std / math.sqrt(len(eps))
    assert eps.std() == pytest.approx(std, rel=0.06)


def test_piecewise_constant_decay_is_piecewise_constant():
    gs = ef.Variable(np.int64(0), trainable=False, name="gs")
    f = train.piecewise_constant_decay(gs, [5, 10], [1.0, 0.5, 0.25])
    out = []
    for x in (0, 5, 6, 10, 11):
        gs.assign(x)
        out.append(float(f))
    assert out == [1.0, 1.0, 0.5, 0.5, 0.25]


@pytest.mark.parametrize("step", [0, 3, 10, 15, 30, 31])
def test_tf1_decay_functions(step):
    gs = ef.Variable(np.int64(step), trainable=False, name="gs")
    lr = 0.1
    cases = [
        (train.exponential_decay(lr, gs, 10, 0.5, staircase=True), lr * 0.5 ** (step // 10)),
        (train.exponential_decay(lr, gs, 10, 0.5), lr * 0.5 ** (step / 10)),
        (train.natural_exp_decay(lr, gs, 10, 0.5, staircase=True),
         lr * math.exp(-0.5 * (step // 10))),
        (train.inverse_time_decay(lr, gs, 10, 0.5), lr / (1 + 0.5 * step / 10)),
        (train.polynomial_decay(lr, gs, 10, 0.01, power=0.5),
         (lr - 0.01) * (1 - min(step, 10) / 10) ** 0.5 + 0.01),
        (train.polynomial_decay(lr, gs, 10, 0.01, power=2.0, cycle=True),
         (lr - 0.01) * (1 - step / (10 * max(1, math.ceil(step / 10)))) ** 2 + 0.01),
        (train.cosine_decay(lr, gs, 20, alpha=0.1),
         lr * (0.9 * 0.5 * (1 + math.cos(math.pi * min(step, 20) / 20)) + 0.1)),
    ]
    for f, want in cases:
        assert float(f) == pytest.approx(want, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("step", [0, 4, 10, 25, 30, 69, 70])
def test_cosine_decay_restarts(step):
    gs = ef.Variable(np.int64(step), trainable=False, name="gs")
    f = train.cosine_decay_restarts(1.0, gs, 10, t_mul=2.0, m_mul=0.5, alpha=0.1)
    frac = step / 10
    i = math.floor(math.log(1 - frac * (1 - 2.0)) / math.log(2.0))
    frac = (frac - (1 - 2.0 ** i) / (1 - 2.0)) / 2.0 ** i
    want = 0.9 * 0.5 * 0.5 ** i * (1 + math.cos(math.pi * frac)) + 0.1
    assert float(f) == pytest.approx(want, rel=1e-6)
