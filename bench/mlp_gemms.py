"""The DeepFM MLP's twelve GEMMs at one batch, through each path eagerflow has, next to torch.

The B=65536 training step is GEMM-bound (bench/RESULTS.md: 6.7 of ~8 ms), and its GEMMs run
at ~29 TFLOP/s against the 51 TFLOP/s of a square fp32 GEMM. This prints, per layer of the
MLP (in 13 + 26 x 16 = 429, 400-400-400, out 1) and per GEMM (forward, weight gradient,
input gradient), the time of:

- ``cublas``: CuPy's matmul (cuBLAS's default algorithm; what eager dx GEMMs use);
- ``lt``: the cuBLASLt paths of ``kernels/gemm_lt.py`` with the heuristic's first algorithm
  (forward: RELU_BIAS epilogue; weight gradient: BGRADA; dx: no epilogue);
- ``lt-tuned``: the same with the fastest of the heuristic's first ``--candidates``;
- ``splitK S``: the weight gradient as S batched GEMMs over row blocks, then a sum;
- ``split``: ``gemm_lt.matmul_bgrad`` with ``EAGERFLOW_SPLIT_K=1``'s split over row blocks
  where ``gemm.split_k`` says so (``lt`` is the same call without);
- ``torch``: ``torch.mm`` / ``addmm`` + ``relu`` of the same shapes (torch's own choice).

GPU time from CUDA events, median of ``--iters``. Usage:

    EAGERFLOW_BACKEND=cupy PYTHONPATH=. python bench/mlp_gemms.py [--batch 65536] [--tf32]
"""
import argparse
import ctypes

import numpy as np

import eagerflow as ef
from eagerflow import backend
from eagerflow.kernels import column_sum, gemm, gemm_lt
from relu_layer_fused import timer  # bench/ is sys.path[0]

_EPILOGUE_DEFAULT = 1


def lt_matmul(xp, a, b):
    """``a @ b`` through cuBLASLt without an epilogue (the dx GEMM)."""
    lt = gemm_lt._lt()
    m, n = a.shape[0], b.shape[1]
    b_, op_a, ra, ca, lda = gemm_lt._operand(b, True)
    a_, op_b, rb, cb, ldb = gemm_lt._operand(a, True)
    c = xp.empty((m, n), dtype=a.dtype)
    aligns = tuple(gemm_lt._alignment(p) for p in (b_.data.ptr, a_.data.ptr, c.data.ptr,
                                                   c.data.ptr))
    key = ("bench-mm", a.dtype.char, gemm._state.tf32, op_a, ra, ca, lda, op_b, rb, cb, ldb,
           aligns)
    ptrs = (b_.data.ptr, a_.data.ptr, c.data.ptr, 0)
    plan = lt.plan(key, _EPILOGUE_DEFAULT, a.dtype, (op_a, ra, ca, lda), (op_b, rb, cb, ldb),
                   (n, m, n), ptrs, aligns)
    assert plan is not None and lt.run(plan, *ptrs)
    return c


class SplitK:
    """``x^T @ gz`` as ``s`` strided-batched GEMMs over row blocks plus a sum."""

    def __init__(self, xp):
        self.xp = xp
        cb = gemm._cublas()
        self.cb = cb
        f = cb.lib.cublasGemmStridedBatchedEx
        vp, i, ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong
        f.argtypes = [vp, i, i, i, i, i, vp, vp, i, i, ll, vp, i, i, ll, vp, vp, i, i, ll, i,
                      i, i]
        self.fn = f

    def __call__(self, x, gz, s):
        xp = self.xp
        m, k = x.shape
        n = gz.shape[1]
        c = m // s
        part = xp.empty((s, k, n), dtype=x.dtype)
        stream = xp.cuda.get_current_stream().ptr
        gemm.check(self.cb.lib.cublasSetStream_v2(self.cb.handle, ctypes.c_void_p(stream)),
                   "cublasSetStream")
        self.cb.stream = stream
        dt, comp, _, one, zero = gemm.gemm_types(x.dtype)
        # column-major dW^T (n, k) = gz^T (n, c) . x_block (c, k), per block
        gemm.check(self.fn(self.cb.handle, 0, 1, n, k, c, ctypes.addressof(one),
                           gz.data.ptr, dt, n, c * n, x.data.ptr, dt, k, c * k,
                           ctypes.addressof(zero), part.data.ptr, dt, n, k * n, s, comp, -1),
                   "cublasGemmStridedBatchedEx")
        return part.sum(axis=0), column_sum.column_sum(gz)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--candidates", type=int, default=32)
    ap.add_argument("--tf32", action="store_true")
    args = ap.parse_args()
    xp = backend.xp()
    assert xp is not np, "run with EAGERFLOW_BACKEND=cupy"
    ef.config.set_allow_tf32(args.tf32)
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    except ImportError:
        torch = None
    m = args.batch
    dims = [429, 400, 400, 400, 1]
    rng = np.random.default_rng(0)
    layers = []
    for k, n in zip(dims[:-1], dims[1:]):
        x = xp.asarray(rng.standard_normal((m, k)).astype(np.float32))
        w = xp.asarray((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32))
        b = xp.asarray(rng.standard_normal(n).astype(np.float32) * 0.1)
        gz = xp.asarray(rng.standard_normal((m, n)).astype(np.float32))
        layers.append((k, n, x, w, b, gz))
    split = SplitK(xp)
    lt = gemm_lt._lt()

    def retune(candidates):
        gemm_lt._options.candidates = candidates
        lt.plans.clear()

    totals = {}
    print(f"batch {m}, float32{' (TF32)' if args.tf32 else ''}, median of {args.iters} "
          f"iterations, ms (TFLOP/s)")
    print(f"{'layer':10s} {'gemm':5s} {'variant':12s} {'ms':>8s} {'TFLOP/s':>8s}")
    for li, (k, n, x, w, b, gz) in enumerate(layers):
        flops = 2.0 * m * k * n
        relu = n > 1
        variants = {"fwd": [], "dW": [], "dx": []}
        variants["fwd"].append(("cublas", lambda: xp.matmul(x, w)))
        variants["dW"].append(("cublas", lambda: (xp.matmul(x.T, gz),
                                                  column_sum.column_sum(gz))))
        variants["dx"].append(("cublas", lambda: xp.matmul(gz, w.T)))
        if relu:
            variants["fwd"].append(("lt", lambda: gemm_lt.linear_relu(x, w, b)))
        variants["dW"].append(("lt", lambda: gemm_lt.matmul_bgrad(x, gz)))
        variants["dW"].append(("split", lambda: gemm_lt.matmul_bgrad(x, gz)))
        variants["dx"].append(("lt", lambda: lt_matmul(xp, gz, w.T)))
        for s in (2, 4, 8, 16):
            variants["dW"].append((f"splitK {s}", lambda s=s: split(x, gz, s)))
        if torch is not None:
            tx, tw, tb, tg = (torch.from_dlpack(a) for a in (x, w, b, gz))
            if relu:
                variants["fwd"].append(("torch", lambda: torch.relu(torch.addmm(tb, tx, tw))))
            else:
                variants["fwd"].append(("torch", lambda: torch.addmm(tb, tx, tw)))
            variants["dW"].append(("torch", lambda: (tx.t() @ tg, tg.sum(0))))
            variants["dx"].append(("torch", lambda: tg @ tw.t()))
        for kind, rows in variants.items():
            results = []
            for name, fn in rows:
                retune(1)
                gemm_lt._options.split_k = name != "lt"
                results.append((name, timer(fn, args.iters)))
                if name == "lt":
                    retune(args.candidates)
                    fn()  # tunes on first use
                    results.append(("lt-tuned", timer(fn, args.iters)))
            for name, t in results:
                totals[name, kind] = totals.get((name, kind), 0.0) + t
                print(f"{li + 1} {k}x{n:<5d} {kind:5s} {name:12s} {t:8.3f} "
                      f"{flops / t / 1e9:8.1f}", flush=True)
    print("\ntotals over the layers, ms:")
    for (name, kind), t in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[1])):
        print(f"  {kind:5s} {name:12s} {t:8.3f}")
    best = {}
    for (name, kind), t in totals.items():
        best[kind] = min(best.get(kind, 1e9), t)
    print("best per kind: " + ", ".join(f"{k} {v:.3f}" for k, v in best.items())
          + f"; sum {sum(best.values()):.3f} ms; floor at 51.4 TFLOP/s "
          f"{2.0 * m * sum(a * c for a, c in zip(dims[:-1], dims[1:])) * 3 / 51.4e9:.3f} ms")


if __name__ == "__main__":
    main()
