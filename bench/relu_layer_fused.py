"""A wide ReLU layer's step, unfused vs cuBLASLt epilogues (``kernels/gemm_lt.py``).

Rows, at x ``(batch, in)``, W ``(in, out)``, float32 (TF32 off, then on):

- ``old``: ``matmul`` + the ``bias_relu`` pass forward; backward ``relu_grad``,
  ``reduce_sum(axis=0)`` (the tiled column-sum kernel) and two GEMMs: what
  ``nn.relu_layer`` ran before the fused op;
- ``fused``: ``nn.relu_layer`` (GEMM with the RELU_BIAS epilogue; ``relu_grad``, one GEMM
  with the BGRAD epilogue, one GEMM for dx).

Each row times forward + backward through a tape (gradients for x, W and b; then W and b
only, as a first layer), and the kernels alone. GPU time from CUDA events around each call,
median of ``--iters`` after warm-up. On the CPU the same rows run with wall-clock time.

Usage:
    EAGERFLOW_BACKEND=cupy PYTHONPATH=. python bench/relu_layer_fused.py [--batch 65536]
        [--units 400] [--iters 50]
"""
import argparse
import statistics
import time

import numpy as np

import eagerflow as ef
from eagerflow import backend, nn  # noqa: F401  (registers bias_relu)
from eagerflow.autograd.registry import get
from eagerflow.kernels import activation as ka
from eagerflow.kernels import column_sum, gemm, gemm_lt


def old_layer(x, w, b):
    return get("bias_relu")(ef.matmul(x, w), b)


def step(layer, x, w, b, g, wrt):
    with ef.GradientTape() as tape:
        tape.watch(wrt)
        y = layer(x, w, b)
    return tape.gradient(y, wrt, output_gradients=g)


def timer(fn, iters, warmup=5):
    xp = backend.xp()
    for _ in range(warmup):
        fn()
    times = []
    if xp is np:
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)
    start, end = xp.cuda.Event(), xp.cuda.Event()
    for _ in range(iters):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(xp.cuda.get_elapsed_time(start, end))
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--in-units", type=int, default=400)
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--iters", type=int, default=50)
    args = ap.parse_args()
    xp = backend.xp()
    rng = np.random.default_rng(0)
    m, k, n = args.batch, args.in_units, args.units
    x = ef.constant(rng.standard_normal((m, k)).astype(np.float32))
    w = ef.constant((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32))
    b = ef.constant((rng.standard_normal(n) * 0.1).astype(np.float32))
    g = ef.constant(rng.standard_normal((m, n)).astype(np.float32))
    xa, wa, ba, ga = x._data, w._data, b._data, g._data
    print(f"backend {backend.get_backend()}, x ({m}, {k}), W ({k}, {n}), float32, "
          f"median of {args.iters}")
    if xp is not np:
        print("cuBLASLt:", gemm_lt.available(), gemm.find_library("libcublasLt"))
    # the same values both ways
    y_old, y_new = old_layer(x, w, b).numpy(), ef.nn.relu_layer(x, w, b).numpy()
    gs_old = [t.numpy() for t in step(old_layer, x, w, b, g, [x, w, b])]
    gs_new = [t.numpy() for t in step(ef.nn.relu_layer, x, w, b, g, [x, w, b])]
    print("paths:", gemm_lt.last_path())
    print("max |diff| y %.2e, dx %.2e, dW %.2e, db %.2e (db scale %.1e)" % (
        np.abs(y_old - y_new).max(), *(np.abs(a - c).max() for a, c in zip(gs_old, gs_new)),
        np.abs(gs_old[2]).max()))
    for d in (np.float64,):
        sm = [ef.constant(rng.standard_normal(s).astype(d)) for s in ((37, 19), (19, 11), (11,))]
        ef.nn.relu_layer(*sm)
        gemm_lt.matmul_bgrad(sm[0]._data, xp.asarray(rng.standard_normal((37, 11)).astype(d)))
        print(f"paths {np.dtype(d).name}:", gemm_lt.last_path())
    # what the epilogue makes of a NaN pre-activation (the unfused kernel gives 0)
    nan_x = x._data[:4].copy()
    nan_x[0, 0] = np.nan
    print("relu of NaN rows:", backend.to_numpy(gemm_lt.linear_relu(nan_x, wa, ba))[0, :4],
          "unfused:", backend.to_numpy(ka.bias_relu(gemm.matmul(xp, nan_x, wa), ba))[0, :4])
    ref_db = backend.to_numpy(ga).astype(np.float64).sum(axis=0)
    rows = []
    for tf32 in (False, True):
        ef.config.set_allow_tf32(tf32)
        tag = "tf32" if tf32 else "fp32"
        rows += [
            (tag, "fwd+bwd dx,dW,db  old", lambda: step(old_layer, x, w, b, g, [x, w, b])),
            (tag, "fwd+bwd dx,dW,db  fused", lambda: step(ef.nn.relu_layer, x, w, b, g,
                                                          [x, w, b])),
            (tag, "fwd+bwd dW,db     old", lambda: step(old_layer, x, w, b, g, [w, b])),
            (tag, "fwd+bwd dW,db     fused", lambda: step(ef.nn.relu_layer, x, w, b, g, [w, b])),
            (tag, "fwd kernels       old", lambda: ka.bias_relu(gemm.matmul(xp, xa, wa), ba)),
            (tag, "fwd kernels       fused", lambda: gemm_lt.linear_relu(xa, wa, ba)),
            (tag, "dW,db kernels     old", lambda: (gemm.matmul(xp, xa.T, ga),
                                                    column_sum.column_sum(ga))),
            (tag, "dW,db kernels     fused", lambda: gemm_lt.matmul_bgrad(xa, ga)),
            (tag, "bias_relu pass alone", lambda: ka.bias_relu(ga, ba)),
            (tag, "column_sum alone", lambda: column_sum.column_sum(ga)),
        ]
        for t, name, fn in rows[-10:]:
            print(f"{t}  {name:26s} {timer(fn, args.iters):8.3f} ms", flush=True)
        print(f"{tag} paths:", gemm_lt.last_path())
        db = backend.to_numpy(gemm_lt.matmul_bgrad(xa, ga)[1])
        print(f"{tag} db max rel. error vs float64: fused %.2e, column_sum %.2e" % (
            np.abs(db - ref_db).max() / np.abs(ref_db).max(),
            np.abs(backend.to_numpy(column_sum.column_sum(ga)) - ref_db).max()
            / np.abs(ref_db).max()))
    ef.config.set_allow_tf32(False)


if __name__ == "__main__":
    main()
