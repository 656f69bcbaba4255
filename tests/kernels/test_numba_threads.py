"""numba's workqueue threading layer aborts the process when two threads launch parallel
kernels at once: every module's parallel kernels must share one lock."""
import os
import subprocess
import sys
import textwrap

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
    threads = [threading.Thread(target=f) for f in (bags, scatters, bags, scatters)]
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
