"""Each optimizer's first three updates against TF1's formulas written out in NumPy."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import kernels
import eagerflow.train as train
import eagerflow.variables as vs
from tests.gradcheck import tensor, to_numpy

LR = 0.1


@pytest.fixture(autouse=True)
def store():
    with vs.VariableStore().as_default() as s:
        yield s


def ref_sgd(w, g, st, t):
    return w - LR * g


def ref_momentum(nesterov):
    def f(w, g, st, t):
        a = st.get("a", np.zeros_like(w)) * 0.9 + g
        st["a"] = a
        return w - (LR * g + LR * 0.9 * a if nesterov else LR * a)
    return f


def ref_adagrad(w, g, st, t):
    a = st.get("a", np.full_like(w, 0.1)) + g * g
    st["a"] = a
    return w - LR * g / np.sqrt(a)


def ref_proximal_adagrad(w, g, st, t):
    a = st.get("a", np.full_like(w, 0.1)) + g * g
    st["a"] = a
    lr_t = LR / np.sqrt(a)
    prox = w - lr_t * g
    return np.sign(prox) * np.maximum(np.abs(prox) - lr_t * 0.01, 0) / (1 + lr_t * 0.02)


def ref_adadelta(w, g, st, t):
    a = 0.95 * st.get("a", np.zeros_like(w)) + 0.05 * g * g
    u = st.get("u", np.zeros_like(w))
    upd = np.sqrt(u + 1e-8) / np.sqrt(a + 1e-8) * g
    st["a"], st["u"] = a, 0.95 * u + 0.05 * upd * upd
    return w - LR * upd


def ref_adam(w, g, st, t):
    m = 0.9 * st.get("m", np.zeros_like(w)) + 0.1 * g
    v = 0.999 * st.get("v", np.zeros_like(w)) + 0.001 * g * g
    st["m"], st["v"] = m, v
    lr_t = LR * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    return w - lr_t * m / (np.sqrt(v) + 1e-8)


def ref_rmsprop(centered):
    def f(w, g, st, t):
        ms = 0.9 * st.get("ms", np.ones_like(w)) + 0.1 * g * g
        mg = 0.9 * st.get("mg", np.zeros_like(w)) + 0.1 * g
        denom = ms - mg * mg if centered else ms
        mom = 0.5 * st.get("mom", np.zeros_like(w)) + LR * g / np.sqrt(denom + 1e-10)
        st.update(ms=ms, mg=mg, mom=mom)
        return w - mom
    return f


def ref_ftrl(lr_power, shrink):
    def f(w, g, st, t):
        a = st.get("a", np.full_like(w, 0.1))
        lin = st.get("lin", np.zeros_like(w))
        na = a + g * g
        lin = lin + (g + 2 * shrink * w) - (na ** -lr_power - a ** -lr_power) / LR * w
        quad = na ** -lr_power / LR + 2 * 0.05
        st["a"], st["lin"] = na, lin
        return np.where(np.abs(lin) > 0.02, (np.sign(lin) * 0.02 - lin) / quad, 0.0)
    return f


CASES = {
    "sgd": (lambda: train.GradientDescentOptimizer(LR), ref_sgd),
    "momentum": (lambda: train.MomentumOptimizer(LR, 0.9), ref_momentum(False)),
    "nesterov": (lambda: train.MomentumOptimizer(LR, 0.9, use_nesterov=True),
                 ref_momentum(True)),
    "adagrad": (lambda: train.AdagradOptimizer(LR), ref_adagrad),
    "proximal_adagrad": (lambda: train.ProximalAdagradOptimizer(
        LR, l1_regularization_strength=0.01, l2_regularization_strength=0.02),
        ref_proximal_adagrad),
    "adadelta": (lambda: train.AdadeltaOptimizer(LR), ref_adadelta),
    "adam": (lambda: train.AdamOptimizer(LR), ref_adam),
    "lazy_adam": (lambda: train.LazyAdamOptimizer(LR), ref_adam),
    "rmsprop": (lambda: train.RMSPropOptimizer(LR, momentum=0.5), ref_rmsprop(False)),
    "centered_rmsprop": (lambda: train.RMSPropOptimizer(LR, momentum=0.5, centered=True),
                         ref_rmsprop(True)),
    "ftrl": (lambda: train.FtrlOptimizer(LR, l1_regularization_strength=0.02,
                                         l2_regularization_strength=0.05),
             ref_ftrl(-0.5, 0.0)),
    "ftrl_power_shrink": (lambda: train.FtrlOptimizer(
        LR, learning_rate_power=-0.3, l1_regularization_strength=0.02,
        l2_regularization_strength=0.05, l2_shrinkage_regularization_strength=0.1),
        ref_ftrl(-0.3, 0.1)),
}
# optimizers whose TF1 sparse update touches only the gradient's rows
ROW_SPARSE = set(CASES) - {"adam"}

W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 1.1], [0.9, -0.4, 0.6]])
GRADS = [np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5], [1.0, 0.2, -0.1], [-0.3, 0.4, 0.2]]) * k
         for k in (1.0, -0.5, 2.0)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(CASES))
def test_dense_three_steps(case, dtype):
    make, ref = CASES[case]
    opt = make()
    w = ef.Variable(tensor(W0.astype(dtype)), name="w")
    expect, st = W0.copy(), {}
    for t, g in enumerate(GRADS, start=1):
        opt.apply_gradients([(tensor(g.astype(dtype)), w)])
        expect = ref(expect, g, st, t)
        tol = 1e-10 if dtype == np.float64 else 2e-5
        np.testing.assert_allclose(to_numpy(w), expect, rtol=tol, atol=tol)


IDX = [np.array([1, 3, 1]), np.array([0, 0]), np.array([3, 2, 3, 3])]


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_three_steps_with_duplicates(case):
    make, ref = CASES[case]
    opt = make()
    w = ef.Variable(tensor(W0), name="emb")
    expect, st = W0.copy(), {}
    rng = np.random.default_rng(0)
    for t, idx in enumerate(IDX, start=1):
        rows = rng.standard_normal((len(idx), 3))
        g = ef.IndexedSlices(tensor(rows), tensor(idx), W0.shape)
        opt.apply_gradients([(g, w)])
        dense = np.zeros_like(W0)
        np.add.at(dense, idx, rows)  # TF sums duplicates first
        if case in ROW_SPARSE:
            touched = np.unique(idx)
            sub = {k: v[touched] for k, v in st.items()}
            # slots of untouched rows keep their values: update only the touched rows
            new = ref(expect[touched], dense[touched], sub, t)
            for k, v in sub.items():
                full = st.get(k)
                if full is None:
                    full = {"a": np.full_like(W0, 0.1) if case in ("adagrad", "ftrl",
                                                                   "ftrl_power_shrink",
                                                                   "proximal_adagrad")
                            else np.zeros_like(W0),
                            "ms": np.ones_like(W0)}.get(k, np.zeros_like(W0))
                full[touched] = v
                st[k] = full
            expect = expect.copy()
            expect[touched] = new
        else:
            expect = ref(expect, dense, st, t)
        np.testing.assert_allclose(to_numpy(w), expect, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["sgd", "adagrad", "momentum", "ftrl", "rmsprop"])
def test_sparse_matches_dense_when_every_row_touched(case):
    make, _ = CASES[case]
    a, b = ef.Variable(tensor(W0), name="a"), ef.Variable(tensor(W0), name="b")
    oa, ob = make(), make()
    for g in GRADS:
        oa.apply_gradients([(tensor(g), a)])
        idx = np.array([3, 0, 1, 2, 0])
        vals = np.concatenate([g[[3, 0, 1, 2]], np.zeros((1, 3))]) 
        ob.apply_gradients([(ef.IndexedSlices(tensor(vals), tensor(idx), W0.shape), b)])
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12)


def test_lazy_adam_leaves_untouched_rows(store):
    emb = vs.get_variable("emb", initializer=W0.copy())
    opt = train.LazyAdamOptimizer(LR)
    g = ef.IndexedSlices(tensor(np.ones((1, 3))), tensor(np.array([2])), W0.shape)
    opt.apply_gradients([(g, emb)])
    opt.apply_gradients([(ef.IndexedSlices(tensor(np.ones((1, 3))), tensor(np.array([0])),
                                           W0.shape), emb)])
    got = to_numpy(emb)
    np.testing.assert_array_equal(got[[1, 3]], W0[[1, 3]])
    m = to_numpy(opt.get_slot(emb, "m"))
    np.testing.assert_allclose(m[2], 0.1)  # not decayed by the second step


def test_slot_names_and_new_optimizer_each_step(store):
    w = vs.get_variable("dense/kernel", initializer=W0.copy())
    loss = lambda: ef.reduce_sum(w * w)  # noqa: E731
    for _ in range(2):  # an Estimator builds the optimizer inside model_fn every step
        opt = train.AdamOptimizer(LR)
        opt.minimize(loss)
    assert opt.get_slot_names() == ["m", "v"]
    assert set(store.names()) == {"dense/kernel", "dense/kernel/Adam", "dense/kernel/Adam_1",
                                  "beta1_power", "beta2_power"}
    np.testing.assert_allclose(to_numpy(store["beta1_power"]), 0.9 ** 3)
    assert opt.get_slot(w, "m") is store["dense/kernel/Adam"]
    assert opt.get_slot(w, "nope") is None
    w_before = to_numpy(w).copy()
    r = train.RMSPropOptimizer(LR, centered=True)
    r.minimize(loss)
    assert {"dense/kernel/RMSProp", "dense/kernel/RMSProp_1",
            "dense/kernel/RMSProp_2"} <= set(store.names())
    np.testing.assert_allclose(to_numpy(r.get_slot(w, "rms")), 0.9 + 0.1 * (2 * w_before) ** 2)
    assert len(opt.variables()) == 4


def test_same_named_raw_variables_get_distinct_slots():
    a, b = ef.Variable([1.0], name="v"), ef.Variable([2.0], name="v")
    opt = train.AdagradOptimizer(LR)
    opt.apply_gradients([(ef.constant([1.0]), a), (ef.constant([1.0]), b)])
    assert opt.get_slot(a, "accumulator") is not opt.get_slot(b, "accumulator")


def test_minimize_with_tensor_loss_uses_active_tape_and_global_step(store):
    w = vs.get_variable("w", initializer=np.array([1.0, -2.0]))
    step = train.get_or_create_global_step()
    assert train.get_global_step() is step
    opt = train.GradientDescentOptimizer(0.25)
    with ef.GradientTape():
        loss = ef.reduce_sum(w * w)
        op = opt.minimize(loss, global_step=step)
    assert isinstance(op, train.TrainOp) and int(step.numpy()) == 1
    np.testing.assert_allclose(to_numpy(w), [0.5, -1.0])
    with pytest.raises(RuntimeError, match="no GradientTape"):
        opt.minimize(ef.reduce_sum(w * w))
    with pytest.raises(ValueError, match="already exists"):
        train.create_global_step()


def test_learning_rate_schedule_and_callable(store):
    step = train.get_or_create_global_step()
    w = vs.get_variable("w", initializer=np.array([1.0]))
    lr = train.exponential_decay(0.5, step, decay_steps=1, decay_rate=0.5, staircase=True)
    opt = train.GradientDescentOptimizer(lr)
    for expected in (1.0 - 0.5 * 2, ):
        opt.minimize(lambda: ef.reduce_sum(w * w), global_step=step)
        np.testing.assert_allclose(to_numpy(w), [expected])
    w.assign([1.0])
    opt.minimize(lambda: ef.reduce_sum(w * w), global_step=step)  # lr = 0.25 now
    np.testing.assert_allclose(to_numpy(w), [0.5])
    opt2 = train.GradientDescentOptimizer(train.PiecewiseConstantDecay([1], [1.0, 0.1]))
    w.assign([1.0])
    opt2.minimize(lambda: ef.reduce_sum(w), global_step=step)  # step 2 -> 0.1
    np.testing.assert_allclose(to_numpy(w), [0.9])
    opt3 = train.GradientDescentOptimizer(lambda: 0.5)
    opt3.minimize(lambda: ef.reduce_sum(w))
    np.testing.assert_allclose(to_numpy(w), [0.4])


def test_bad_inputs_leave_variables_unchanged():
    w = ef.Variable([1.0, 2.0], name="w")
    u = ef.Variable([1.0], name="u")
    opt = train.AdamOptimizer(0.1, check_numerics=True)
    with pytest.raises(ValueError, match="does not match variable u"):
        opt.apply_gradients([(ef.constant([1.0, 1.0]), w), (ef.constant([1.0, 1.0]), u)])
    with pytest.raises(ValueError, match="variable w contains NaN"):
        opt.apply_gradients([(ef.constant([np.nan, 1.0]), w)])
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply_gradients([(None, w)])
    with pytest.raises(ValueError, match="dense shape"):
        opt.apply_gradients([(ef.IndexedSlices(ef.constant([[1.0]]), ef.constant([0]), (3, 1)),
                              w)])
    assert to_numpy(w).tolist() == [1.0, 2.0] and to_numpy(u).tolist() == [1.0]
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="learning_rate must be positive"):
            train.AdamOptimizer(bad)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    table = ef.Variable([[1.0], [2.0]])
    with pytest.raises(IndexError, match="out of range"):
        # the CPU raises at once; a GPU kernel skips the row and flags it for check_errors
        train.AdagradOptimizer(0.1).apply_gradients(
            [(ef.IndexedSlices(ef.constant([[1.0], [1.0]]), ef.constant([5, 0]), (2, 1)),
              table)])
        kernels.check_errors()
    assert to_numpy(table)[1, 0] == 2.0


def test_estimator_style_model_fn_every_step():
    """A model_fn run eagerly each step, under the store and a step tape (DESIGN.md #5)."""
    from eagerflow import layers, metrics
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    store = vs.VariableStore()

    def model_fn(features, labels):
        h = layers.dense(features, 8, activation="tanh")  # unnamed: dense, dense_1 each step
        pred = layers.dense(h, 1)
        loss = ef.reduce_mean(ef.square(pred - labels))
        opt = train.AdamOptimizer(0.05)  # a new optimizer object every step
        train_op = opt.minimize(loss, global_step=train.get_or_create_global_step())
        mse, _ = metrics.mean_squared_error(labels, pred)
        return loss, train_op, mse

    losses = []
    for _ in range(60):
        with store.as_default(), ef.GradientTape():
            loss, op, _ = model_fn(tensor(x), tensor(y))
        losses.append(float(to_numpy(loss)))
    assert losses[-1] < 0.1 * losses[0]
    assert sorted(store.names()) == sorted([
        "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias", "global_step",
        "beta1_power", "beta2_power", "dense/kernel/Adam", "dense/kernel/Adam_1",
        "dense/bias/Adam", "dense/bias/Adam_1", "dense_1/kernel/Adam",
        "dense_1/kernel/Adam_1", "dense_1/bias/Adam", "dense_1/bias/Adam_1",
        "mean_squared_error/total", "mean_squared_error/count"])
    assert int(to_numpy(store["global_step"])) == 60
    np.testing.assert_allclose(to_numpy(store["beta1_power"]), 0.9 ** 61, rtol=1e-5)


def test_a_new_model_does_not_inherit_a_collected_models_optimizer_state():
    """Slots of a garbage-collected variable free their names, but the next model's
    optimizer must start from fresh moments and beta powers (it reused them once)."""
    import gc
    rng = np.random.default_rng(4)
    w0, x = rng.standard_normal((3, 2)), rng.standard_normal((5, 3))

    def train(steps):
        w = ef.Variable(tensor(w0))
        opt = ef.train.AdamOptimizer(0.1)
        for _ in range(steps):
            with ef.GradientTape() as tape:
                loss = ef.reduce_sum(ef.matmul(tensor(x), w) ** 2)
            opt.apply_gradients([(tape.gradient(loss, w), w)])
        return to_numpy(w)

    first = train(3)
    gc.collect()
    np.testing.assert_array_equal(train(3), first)


def test_a_new_variable_of_another_shape_gets_fresh_slots_in_the_freed_name():
    """The freed slot name is reused for a variable of another shape: the slot is a new
    variable of the new shape (zeros), and the store's collections hold it, not the old."""
    import gc
    from eagerflow.variables import global_variables

    def train(shape):
        w = ef.Variable(tensor(np.ones(shape)))
        opt = ef.train.AdamOptimizer(0.1)
        with ef.GradientTape() as tape:
            loss = ef.reduce_sum(w * w)
        opt.apply_gradients([(tape.gradient(loss, w), w)])
        return opt, w

    opt, w = train((3, 2))
    name = opt.get_slot(w, "m").name
    del opt, w
    gc.collect()
    opt, w = train((4, 5))
    m = opt.get_slot(w, "m")
    assert m.name == name and tuple(m.shape) == (4, 5)
    # one Adam step from zero moments: m = (1 - beta1) * g = 0.1 * 2w
    np.testing.assert_allclose(to_numpy(m), np.full((4, 5), 0.2), rtol=1e-6)
    held = [v for v in global_variables() if v.name == name]
    assert held == [m]


def test_a_learning_rate_schedule_refuses_a_capture(monkeypatch):
    """A schedule is evaluated on the host: inside a CUDA-graph capture it would be frozen
    into every replay, so the optimizer refuses (ef.function then runs the step eagerly)."""
    from eagerflow.train import optimizer as opt_mod
    v = ef.Variable([1.0, 2.0])
    opt = ef.train.GradientDescentOptimizer(lambda: 0.1)  # a callable rate
    monkeypatch.setattr(opt_mod.cuda_graph, "capturing", lambda: True)
    with pytest.raises(RuntimeError, match="cannot be captured"):
        opt.apply_gradients([(ef.constant([1.0, 1.0]), v)])
    monkeypatch.setattr(opt_mod.cuda_graph, "capturing", lambda: False)
    opt.apply_gradients([(ef.constant([1.0, 1.0]), v)])  # eagerly: fine
    np.testing.assert_allclose(v.numpy(), [0.9, 1.9])
