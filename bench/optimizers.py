"""Optimizer steps: dense Adam/Adagrad on N float32 parameters and sparse Adagrad/LazyAdam
updates of R rows into a T x D table, eagerflow vs PyTorch on the current backend.

Dense: one ``apply_gradients`` of a dense gradient (one fused kernel per variable).
"GB/s" counts the bytes the update must move (Adam: read var, m, v, grad and write var,
m, v = 28 B/param; Adagrad: 20 B/param) and is compared with a measured same-device copy
counted the same way (read + write). The PyTorch twin is ``torch.optim.Adam(fused=True)``
(falling back to ``foreach``) and ``torch.optim.Adagrad(foreach=True)``.

Sparse: ``apply_gradients`` of an ``IndexedSlices`` of R uniformly random rows (duplicates
summed first, as TF does); only those rows change (Adagrad, LazyAdam). Twins:
``torch.optim.Adagrad`` and ``torch.optim.SparseAdam`` on a sparse COO gradient.

Usage:
    python bench/optimizers.py [--params 100000000] [--rows 65536] [--table-rows 10000000]
                               [--dim 16] [--repeats 5] [--no-torch] [--json]
With ``EAGERFLOW_BACKEND=cupy`` it runs on the GPU (torch on cuda).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

try:
    import eagerflow  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import eagerflow as ef  # noqa: E402
import eagerflow.train as train  # noqa: E402
from _torch_peer import load_torch  # noqa: E402 (bench/ is sys.path[0])
from eagerflow import backend  # noqa: E402
from eagerflow.variables import VariableStore  # noqa: E402


def timeit(fn, repeats, sync):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def copy_bandwidth(n, repeats):
    xp = backend.xp()
    src = xp.ones(n, dtype=np.float32)
    dst = xp.empty_like(src)

    def run():
        xp.copyto(dst, src)
    t = timeit(run, repeats, backend.synchronize)
    return 2 * n * 4 / t / 1e9


def _ef_dense(make_opt, n, repeats, xp, rng):
    # its own frame, so the variable and slots are freed before the torch twin runs
    with VariableStore().as_default():
        var = ef.Variable(xp.asarray(rng.standard_normal(n, dtype=np.float32)), name="w")
        grad = ef.Tensor(xp.asarray(rng.standard_normal(n, dtype=np.float32)))
        opt = make_opt()
        return timeit(lambda: opt.apply_gradients([(grad, var)]), repeats, backend.synchronize)


def _ef_sparse(make_opt, ids, vals, table_rows, dim, repeats, xp):
    with VariableStore().as_default():
        table = ef.Variable(xp.zeros((table_rows, dim), np.float32), name="table")
        g = ef.IndexedSlices(ef.Tensor(xp.asarray(vals)), ef.Tensor(xp.asarray(ids)),
                             (table_rows, dim))
        opt = make_opt()
        return timeit(lambda: opt.apply_gradients([(g, table)]), repeats, backend.synchronize)


def bench_dense(name, make_opt, bytes_per_param, n, repeats, torch, gpu):
    xp = backend.xp()
    rng = np.random.default_rng(0)
    t = _ef_dense(make_opt, n, repeats, xp, rng)
    row = {"workload": f"dense {name} {n:,} params", "eagerflow_ms": t * 1e3,
           "eagerflow_GBps": bytes_per_param * n / t / 1e9}
    if torch is not None:
        dev = "cuda" if gpu else "cpu"
        p = torch.nn.Parameter(torch.randn(n, device=dev))
        p.grad = torch.randn(n, device=dev)
        if name == "Adam":
            try:
                topt = torch.optim.Adam([p], lr=1e-3, fused=True)
                topt.step()
                label = "Adam(fused=True)"
            except (RuntimeError, TypeError):
                topt = torch.optim.Adam([p], lr=1e-3, foreach=True)
                label = "Adam(foreach=True)"
        else:
            topt = torch.optim.Adagrad([p], lr=0.1, foreach=True)
            label = "Adagrad(foreach=True)"
        sync = torch.cuda.synchronize if gpu else (lambda: None)
        tt = timeit(topt.step, repeats, sync)
        row.update({"torch": label, "torch_ms": tt * 1e3,
                    "torch_GBps": bytes_per_param * n / tt / 1e9,
                    "speedup_vs_torch": tt / t})
        del p, topt
    return row


def bench_sparse(name, make_opt, rows, table_rows, dim, repeats, torch, gpu):
    xp = backend.xp()
    rng = np.random.default_rng(1)
    ids = rng.integers(0, table_rows, rows, dtype=np.int64)
    vals = rng.standard_normal((rows, dim), dtype=np.float32)
    t = _ef_sparse(make_opt, ids, vals, table_rows, dim, repeats, xp)
    row = {"workload": f"sparse {name} {rows:,}x{dim} rows into {table_rows:,}x{dim}",
           "eagerflow_ms": t * 1e3}
    if torch is not None:
        dev = "cuda" if gpu else "cpu"
        p = torch.nn.Parameter(torch.zeros(table_rows, dim, device=dev))
        ti = torch.as_tensor(ids, device=dev)
        tv = torch.as_tensor(vals, device=dev)
        p.grad = torch.sparse_coo_tensor(ti[None], tv, (table_rows, dim))
        if name == "Adagrad":
            topt, label = torch.optim.Adagrad([p], lr=0.1), "Adagrad(sparse grad)"
        else:
            topt, label = torch.optim.SparseAdam([p], lr=1e-3), "SparseAdam"
        sync = torch.cuda.synchronize if gpu else (lambda: None)
        tt = timeit(topt.step, repeats, sync)
        row.update({"torch": label, "torch_ms": tt * 1e3, "speedup_vs_torch": tt / t})
        del p, topt
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=int, default=100_000_000)
    ap.add_argument("--rows", type=int, default=65536)
    ap.add_argument("--table-rows", type=int, default=10_000_000)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    gpu = backend.get_backend() == "cupy"
    torch = None if args.no_torch else load_torch(gpu)
    if torch is not None and not gpu:
        torch.set_num_threads(os.cpu_count() or 1)
    copy = copy_bandwidth(args.params, args.repeats)
    results = [
        bench_dense("Adam", lambda: train.AdamOptimizer(1e-3), 28, args.params, args.repeats,
                    torch, gpu),
        bench_dense("Adagrad", lambda: train.AdagradOptimizer(0.1), 20, args.params,
                    args.repeats, torch, gpu),
        bench_sparse("Adagrad", lambda: train.AdagradOptimizer(0.1), args.rows,
                     args.table_rows, args.dim, args.repeats, torch, gpu),
        bench_sparse("LazyAdam", lambda: train.LazyAdamOptimizer(1e-3), args.rows,
                     args.table_rows, args.dim, args.repeats, torch, gpu),
    ]
    for r in results:
        if "eagerflow_GBps" in r:
            r["fraction_of_copy"] = r["eagerflow_GBps"] / copy
    out = {"backend": backend.get_backend(), "copy_GBps": copy, "results": results}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"backend {out['backend']}; copy bandwidth {copy:.1f} GB/s (read + write)")
    print(f"{'workload':58} {'eagerflow ms':>12} {'GB/s':>7} {'of copy':>8} "
          f"{'torch ms':>9} {'x torch':>8}  torch twin")
    for r in results:
        gbs = f"{r['eagerflow_GBps']:.1f}" if "eagerflow_GBps" in r else "-"
        frac = f"{r['fraction_of_copy']:.0%}" if "fraction_of_copy" in r else "-"
        tms = f"{r['torch_ms']:.2f}" if "torch_ms" in r else "-"
        spd = f"{r['speedup_vs_torch']:.2f}" if "speedup_vs_torch" in r else "-"
        print(f"{r['workload']:58} {r['eagerflow_ms']:12.2f} {gbs:>7} {frac:>8} {tms:>9} "
              f"{spd:>8}  {r.get('torch', '')}")


if __name__ == "__main__":
    main()
