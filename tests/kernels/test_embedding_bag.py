"""The fused embedding-bag kernel against a plain NumPy reference (and the GPU twin against
the CPU twin on the cupy backend)."""
import numpy as np
import pytest

from eagerflow import backend
from eagerflow.kernels import check_errors
from eagerflow.kernels import embedding_bag as kb


def reference(params, ids, offsets, weights, combiner):
    nb = offsets.shape[0] - 1
    out = np.zeros((nb,) + params.shape[1:], dtype=np.float64)
    for b in range(nb):
        s, e = offsets[b], offsets[b + 1]
        w = np.ones(e - s) if weights is None else weights[s:e].astype(np.float64)
        rows = params[ids[s:e]].astype(np.float64)
        acc = np.tensordot(w, rows, axes=1) if e > s else out[b]
        norm = {"sum": 1.0, "mean": w.sum(), "sqrtn": np.sqrt((w * w).sum())}[combiner]
        out[b] = acc / norm if norm != 0 else 0.0
    return out


def reference_grad(g, offsets, weights, combiner):
    nnz = int(offsets[-1])
    vals = np.zeros((nnz,) + g.shape[1:])
    for b in range(offsets.shape[0] - 1):
        s, e = offsets[b], offsets[b + 1]
        w = np.ones(e - s) if weights is None else weights[s:e].astype(np.float64)
        norm = {"sum": 1.0, "mean": w.sum(), "sqrtn": np.sqrt((w * w).sum())}[combiner]
        inv = 1.0 / norm if norm != 0 else 0.0
        for k in range(s, e):
            vals[k] = w[k - s] * inv * g[b]
    return vals


def make(rng, nb=7, vocab=11, dim=3, max_bag=4, dtype=np.float32, empty=True):
    sizes = rng.integers(0 if empty else 1, max_bag + 1, nb)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    ids = rng.integers(0, vocab, int(offsets[-1]))
    params = rng.standard_normal((vocab, dim)).astype(dtype)
    weights = rng.uniform(0.5, 2.0, ids.shape[0]).astype(dtype)
    return params, ids, offsets, weights


@pytest.mark.parametrize("combiner", kb.COMBINERS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_and_grad_match_reference(rng, combiner, weighted, dtype):
    params, ids, offsets, weights = make(rng, dtype=dtype)
    w = weights if weighted else None
    dev = backend.to_device
    got = kb.embedding_bag(dev(params), dev(ids), dev(offsets), None if w is None else dev(w),
                           combiner)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(backend.to_numpy(got), reference(params, ids, offsets, w,
                                                                combiner), rtol=tol, atol=tol)
    assert got.dtype == dtype
    g = rng.standard_normal((offsets.shape[0] - 1, params.shape[1])).astype(dtype)
    vals = kb.embedding_bag_grad(dev(g), dev(offsets), None if w is None else dev(w),
                                 combiner, nnz=ids.shape[0])
    np.testing.assert_allclose(backend.to_numpy(vals), reference_grad(g, offsets, w, combiner),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [True, False])
def test_parallel_path_matches_reference(rng, monkeypatch, combiner, weighted):
    """The parallel CPU twins are written out beside the serial ones (a shared helper cost
    10x in numba): every combiner, with and without weights, so the copies cannot drift."""
    monkeypatch.setattr(kb, "_PARALLEL_MIN", 0)  # the parallel CPU twin for any size
    params, ids, offsets, weights = make(rng, nb=3000, vocab=500, dim=16, max_bag=20)
    weights = weights if weighted else None
    dev = backend.to_device
    wd = None if weights is None else dev(weights)
    got = kb.embedding_bag(dev(params), dev(ids), dev(offsets), wd, combiner)
    np.testing.assert_allclose(backend.to_numpy(got),
                               reference(params, ids, offsets, weights, combiner),
                               rtol=1e-5, atol=1e-5)
    g = rng.standard_normal((3000, 16)).astype(np.float32)
    vals = kb.embedding_bag_grad(dev(g), dev(offsets), wd, combiner, nnz=ids.shape[0])
    np.testing.assert_allclose(backend.to_numpy(vals),
                               reference_grad(g, offsets, weights, combiner), rtol=1e-5,
                               atol=1e-6)


def test_trailing_dims_and_empty_input():
    params = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    dev = backend.to_device
    out = kb.embedding_bag(dev(params), dev(np.array([1, 3])), dev(np.array([0, 2, 2])),
                           None, "sum")
    np.testing.assert_array_equal(backend.to_numpy(out),
                                  np.stack([params[1] + params[3], np.zeros((3, 2))]))
    empty = kb.embedding_bag(dev(params), dev(np.zeros(0, np.int64)),
                             dev(np.zeros(1, np.int64)), None, "mean")
    assert empty.shape == (0, 3, 2)


def test_bag_offsets():
    got = kb.bag_offsets(backend.to_device(np.array([0, 0, 2, 2, 2])), 5)
    np.testing.assert_array_equal(backend.to_numpy(got), [0, 2, 2, 5, 5, 5])
    got = kb.bag_offsets(backend.to_device(np.zeros(0, np.int64)), 2)
    np.testing.assert_array_equal(backend.to_numpy(got), [0, 0, 0])


def test_out_of_range_id_names_id_and_table_size():
    params = np.zeros((5, 2), np.float32)
    dev = backend.to_device
    with pytest.raises(IndexError, match=r"= 7 .*5 rows"):
        kb.embedding_bag(dev(params), dev(np.array([1, 7])), dev(np.array([0, 2])), None,
                         "sum")
        check_errors()
    with pytest.raises(IndexError, match=r"= -1 .*5 rows"):
        kb.embedding_bag(dev(params), dev(np.array([-1])), dev(np.array([0, 1])), None, "sum")
        check_errors()


def test_unsorted_or_bad_segments_raise():
    dev = backend.to_device
    with pytest.raises(ValueError, match="not sorted"):
        kb.bag_offsets(dev(np.array([1, 0])), 2)
        check_errors()
    with pytest.raises(IndexError, match="out of range"):
        kb.bag_offsets(dev(np.array([0, 3])), 2)
        check_errors()


def test_bad_arguments():
    p = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="combiner"):
        kb.embedding_bag(p, np.array([0]), np.array([0, 1]), None, "max")
    with pytest.raises(TypeError, match="floating"):
        kb.embedding_bag(p.astype(np.int32), np.array([0]), np.array([0, 1]), None, "sum")
    with pytest.raises(ValueError, match="weights"):
        kb.embedding_bag(p, np.array([0]), np.array([0, 1]), np.ones(2, np.float32), "sum")


@pytest.mark.gpu
@pytest.mark.skipif(backend.get_backend() != "cupy", reason="needs the cupy backend")
def test_gpu_twin_matches_cpu_twin(rng):
    params, ids, offsets, weights = make(rng, nb=200, vocab=50, dim=5, max_bag=9)
    dev = backend.to_device
    for combiner in kb.COMBINERS:
        cpu = kb.embedding_bag_cpu(params, ids, offsets, weights, combiner)
        gpu = kb.embedding_bag_gpu(dev(params), dev(ids), dev(offsets), dev(weights), combiner)
        np.testing.assert_allclose(backend.to_numpy(gpu), cpu, rtol=1e-5, atol=1e-6)
        g = rng.standard_normal(cpu.shape).astype(np.float32)
        np.testing.assert_allclose(
            backend.to_numpy(kb.embedding_bag_grad_gpu(dev(g), dev(offsets), dev(weights),
                                                       combiner)),
            kb.embedding_bag_grad_cpu(g, offsets, weights, combiner), rtol=1e-5, atol=1e-6)
    segs = np.repeat(np.arange(200), np.diff(offsets))
    np.testing.assert_array_equal(backend.to_numpy(kb.bag_offsets_gpu(dev(segs), 200)), offsets)
    check_errors()
