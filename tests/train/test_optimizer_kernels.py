"""The fused update kernels and the row deduplication, through their array API."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels import optimizer_updates as ou


def dev(a):
    return backend.to_device(np.ascontiguousarray(a))


def test_deduplicate_rows_sums_duplicates():
    idx = np.array([4, 1, 4, 4, 0, 1])
    vals = np.arange(12, dtype=np.float32).reshape(6, 2)
    uniq, summed = ou.deduplicate_rows(dev(idx), dev(vals))
    uniq, summed = backend.to_numpy(uniq), backend.to_numpy(summed)
    keep = uniq != ou.INDEX_PAD  # the GPU pads instead of synchronising
    assert sorted(uniq[keep].tolist()) == [0, 1, 4]
    got = {int(i): row.tolist() for i, row in zip(uniq[keep], summed[keep])}
    assert got == {0: [8.0, 9.0], 1: [12.0, 14.0], 4: [10.0, 13.0]}
    assert np.all(summed[~keep] == 0)


def test_sparse_update_skips_padding_rows():
    var = dev(np.ones((3, 2)))
    acc = dev(np.full((3, 2), 0.1))
    idx = dev(np.array([2, ou.INDEX_PAD]))
    ou.apply_sparse("adagrad", var, (acc,), idx, dev(np.ones((2, 2))), dev(np.array([0.5])))
    v = backend.to_numpy(var)
    np.testing.assert_allclose(v[2], 1 - 0.5 / np.sqrt(1.1))
    np.testing.assert_array_equal(v[:2], 1.0)


def test_kernel_argument_errors():
    var = dev(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="unknown optimizer update"):
        ou.apply_dense("adamw", var, (), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(ValueError, match="expected 2 slots"):
        ou.apply_dense("adam", var, (var,), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(ValueError, match="missing hyperparameters"):
        ou.apply_dense("momentum", var, (var.copy(),), var, dev(np.array([0.1], np.float32)))
    with pytest.raises(TypeError, match="float32 or float64"):
        ou.apply_dense("sgd", dev(np.ones(3, np.int32)), (), var, dev(np.array([1], np.int32)))
    with pytest.raises(ValueError, match="does not match"):
        ou.apply_dense("sgd", var, (), dev(np.ones(4, np.float32)),
                       dev(np.array([0.1], np.float32)))


@pytest.mark.parametrize("n", [7, ou._PARALLEL_MIN - 1, ou._PARALLEL_MIN + 3])
def test_adam_on_one_thread_and_in_parallel_match_numpy(n):
    # below _PARALLEL_MIN the launch runs with numba's thread count at 1 (then restored)
    import numba
    rng = np.random.default_rng(n)
    var0, m0 = rng.standard_normal(n), rng.standard_normal(n) * 0.1
    v0, g = rng.random(n), rng.standard_normal(n)
    lr, b1p, b2p, b1, b2, eps = 0.01, 0.9 ** 3, 0.999 ** 3, 0.9, 0.999, 1e-8
    var, m, v = dev(var0.copy()), dev(m0.copy()), dev(v0.copy())  # numpy: no copy
    threads = numba.get_num_threads()
    ou.apply_dense("adam", var, (m, v), dev(g), dev(np.array([lr])), b1p=dev(np.array([b1p])),
                   b2p=dev(np.array([b2p])), beta1=b1, beta2=b2, eps=eps)
    assert numba.get_num_threads() == threads
    m_ref = b1 * m0 + (1 - b1) * g
    v_ref = b2 * v0 + (1 - b2) * g * g
    lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
    # the kernel computes m + (g - m)(1 - b1): equal up to float64 rounding
    np.testing.assert_allclose(backend.to_numpy(m), m_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(v), v_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(var), var0 - lr_t * m_ref / (np.sqrt(v_ref) + eps),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rows", [5, ou._PARALLEL_MIN // 4 + 9])
def test_sparse_adagrad_small_and_large_match_numpy(rows):
    rng = np.random.default_rng(rows)
    table_rows, d = 2 * rows + 3, 4
    var0 = rng.standard_normal((table_rows, d))
    acc0 = rng.random((table_rows, d)) + 0.1
    idx = rng.permutation(table_rows)[:rows]
    g = rng.standard_normal((rows, d))
    var, acc = dev(var0.copy()), dev(acc0.copy())
    ou.apply_sparse("adagrad", var, (acc,), dev(idx), dev(g), dev(np.array([0.05])))
    acc_ref, var_ref = acc0.copy(), var0.copy()
    acc_ref[idx] += g * g
    var_ref[idx] -= 0.05 * g / np.sqrt(acc_ref[idx])
    # the GPU contracts to FMA: a value near 0 after the update differs in its last bits
    np.testing.assert_allclose(backend.to_numpy(acc), acc_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(var), var_ref, rtol=1e-11, atol=1e-13)


def test_small_updates_from_several_threads_at_once():
    # the one-thread launch still enters numba's threading layer, which must not be entered
    # concurrently: every launch holds the kernels' lock
    import threading
    n, steps, workers = 64, 200, 4
    vars_ = [dev(np.zeros(n)) for _ in range(workers)]
    g, lr = dev(np.ones(n)), dev(np.array([0.5]))
    errors = []

    def work(var):
        try:
            for _ in range(steps):
                ou.apply_dense("sgd", var, (), g, lr)
        except BaseException as e:  # surfaced below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(v,)) for v in vars_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for var in vars_:
        np.testing.assert_array_equal(backend.to_numpy(var), -0.5 * steps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,vocab", [(0, 5), (1, 5), (4096, 50), (4096, 10 ** 6), (777, 3)])
def test_deduplicate_rows_equals_unique_and_scatter(n, vocab, dtype):
    """The one-pass CPU dedupe (a hash table) against np.unique + scatter-add: the same
    rows, the same sums bit for bit (each row's duplicates added in input order)."""
    rng = np.random.default_rng(n + vocab)
    idx = rng.zipf(1.3, n).astype(np.int64) % vocab
    if n > 2:
        idx[1] = ou.INDEX_PAD  # a padding row is deduplicated like any other index
    vals = rng.standard_normal((n, 3)).astype(dtype)
    uniq, summed = ou.deduplicate_rows(dev(idx), dev(vals))
    uniq, summed = backend.to_numpy(uniq), backend.to_numpy(summed)
    keep = uniq != ou.INDEX_PAD if backend.get_backend() == "cupy" else \
        np.ones(len(uniq), bool)
    want_u, inv = np.unique(idx, return_inverse=True)
    want = np.zeros((len(want_u), 3), dtype)
    for i, j in enumerate(inv.reshape(-1)):
        want[j] += vals[i]
    if backend.get_backend() == "cupy":  # INDEX_PAD is the GPU's padding: dropped above
        want, want_u = want[want_u != ou.INDEX_PAD], want_u[want_u != ou.INDEX_PAD]
    order = np.argsort(uniq[keep])
    assert uniq[keep][order].tolist() == want_u.tolist()
    if backend.get_backend() == "numpy":
        np.testing.assert_array_equal(summed[keep][order], want)
    else:  # the GPU sums with atomics, in another order (hundreds of Zipf duplicates a row)
        np.testing.assert_allclose(summed[keep][order], want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("num_rows", [None, 10])
def test_deduplicate_rows_takes_int32_indices(num_rows):
    # Python-list ids are int32 (as in TF): gather's IndexedSlices then carry int32 indices
    idx = np.array([3, 1, 3, 0], np.int32)
    vals = np.arange(8, dtype=np.float32).reshape(4, 2)
    uniq, summed = ou.deduplicate_rows(dev(idx), dev(vals), num_rows=num_rows)
    uniq, summed = backend.to_numpy(uniq), backend.to_numpy(summed)
    keep = uniq != ou.INDEX_PAD
    rows = dict(zip(uniq[keep].tolist(), summed[keep].tolist()))
    assert rows == {0: [6.0, 7.0], 1: [2.0, 3.0], 3: [4.0, 6.0]}


def test_sparse_adagrad_from_a_python_list_gather():
    table = ef.Variable(np.ones((4, 2), np.float32))
    opt = ef.train.AdagradOptimizer(0.5, initial_accumulator_value=1.0)
    with ef.GradientTape() as tape:
        loss = ef.reduce_sum(ef.gather(table, [2, 0, 2]))
    opt.apply_gradients([(tape.gradient(loss, table), table)])
    got = backend.to_numpy(table._data)
    # row 2: g = 2, acc = 1 + 4, step 0.5 * 2 / sqrt(5); row 0: g = 1, acc 2
    np.testing.assert_allclose(got[:, 0], [1 - 0.5 / np.sqrt(2), 1, 1 - 1 / np.sqrt(5), 1],
                               rtol=1e-6)
