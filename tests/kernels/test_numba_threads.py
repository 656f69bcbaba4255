"""numba's workqueue threading layer aborts the process when two threads launch parallel
kernels at once: every module's parallel kernels must share one lock (kernels/_numba.py),
and their parallel twins must give the serial kernels' values."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from eagerflow import backend

_SCRIPT = textwrap.dedent("""
    import threading
    import numba
    import numpy as np
    from eagerflow.kernels.embedding_bag import embedding_bag_cpu
    from eagerflow.kernels.scatter_add import scatter_add_cpu
    numba.set_num_threads(2)
    rng = np.random.default_rng(0)
    table = rng.standard_normal((5000, 64)).astype(np.float32)
    ids = rng.integers(0, 5000, 40000).astype(np.int64)
    offsets = np.arange(0, 40001, 4, dtype=np.int64)
    vals = rng.standard_normal((40000, 64)).astype(np.float32)
    want_bag = embedding_bag_cpu(table, ids, offsets, combiner="sum")
    want_sum = scatter_add_cpu(np.zeros_like(table), ids, vals)
    failed = []

    def bags():
        for _ in range(150):
            if not np.array_equal(embedding_bag_cpu(table, ids, offsets, combiner="sum"),
                                  want_bag):
                failed.append("bag")

    def scatters():
        for _ in range(150):
            if not np.allclose(scatter_add_cpu(np.zeros_like(table), ids, vals), want_sum,
                               rtol=1e-5, atol=1e-4):
                failed.append("scatter")
    from eagerflow.kernels.fm import fm_grad
    ge = rng.standard_normal((40000 // 26, 1)).astype(np.float32)
    e = vals[: (40000 // 26) * 26, :16].reshape(-1, 26, 16).copy()
    want_fm = fm_grad(ge, e)

    def fms():
        for _ in range(150):
            if not np.array_equal(fm_grad(ge, e), want_fm):
                failed.append("fm")
    threads = [threading.Thread(target=f) for f in (bags, scatters, fms, bags, scatters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("layer", numba.threading_layer(), "failed", failed)
    assert not failed
""")


@pytest.mark.skipif(backend.get_backend() != "numpy", reason="numba kernels: the CPU backend")
def test_parallel_kernels_of_different_modules_run_from_several_threads():
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue", NUMBA_NUM_THREADS="2",
               EAGERFLOW_BACKEND="numpy")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "layer workqueue failed []" in proc.stdout


@pytest.mark.parametrize("kernel", ["bag", "bag_grad", "scatter_add"])
def test_parallel_twins_equal_the_serial_kernels_and_numpy(kernel, monkeypatch):
    """Inputs above the parallel threshold: the parallel twin runs when numba has two
    threads, the serial one with one thread or when another launch holds the lock; all
    give the same bits, and NumPy's values."""
    import importlib
    import numba
    from eagerflow.kernels import _numba, embedding_bag
    scatter_add = importlib.import_module("eagerflow.kernels.scatter_add")
    rng = np.random.default_rng(3)
    table = rng.standard_normal((3000, 40)).astype(np.float32)
    ids = rng.integers(0, 3000, 24000).astype(np.int64)
    offsets = np.arange(0, 24001, 3, dtype=np.int64)
    g = rng.standard_normal((8000, 40)).astype(np.float32)
    vals = rng.standard_normal((24000, 40)).astype(np.float32)
    mean_rows = table[ids].reshape(8000, 3, 40).mean(axis=1)
    run, want = {
        "bag": (lambda: embedding_bag.embedding_bag_cpu(table, ids, offsets, combiner="mean"),
                mean_rows),
        "bag_grad": (lambda: embedding_bag.embedding_bag_grad_cpu(g, offsets,
                                                                  combiner="mean"),
                     np.repeat(g / 3, 3, axis=0)),
        "scatter_add": (lambda: scatter_add.scatter_add_cpu(np.zeros_like(table), ids, vals),
                        None),
    }[kernel]
    if want is None:
        want = np.zeros_like(table, dtype=np.float64)
        np.add.at(want, ids, vals)
    ran = []
    real = _numba.launch

    def spy(serial, parallel, work, *args, **kw):
        ran.append(numba.get_num_threads() > 1 and not _numba.PARALLEL_LOCK.locked())
        return real(serial, parallel, work, *args, **kw)
    monkeypatch.setattr(embedding_bag, "launch", spy)
    monkeypatch.setattr(scatter_add, "launch", spy)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = run()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        parallel = run()
        with _numba.PARALLEL_LOCK:  # another thread's launch: the serial twin runs
            busy = run()
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(serial, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_array_equal(busy, serial)
    assert ran[0] is False and ran[2] is False
    assert ran[1] is (numba.config.NUMBA_NUM_THREADS > 1)
