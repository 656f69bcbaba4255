"""embedding_lookup_sparse (mean combiner) forward + backward: eagerflow vs torch EmbeddingBag.

The embedding side of a Criteo-shaped CTR model: 26 tables (vocab [1e6]*4 + [1e5]*8 +
[1e4]*8 + [1e3]*6, dim 16, float32), each looked up with a bag of U{1..20} uniform ids per
example. One step = for every table, the forward (``ef.nn.embedding_lookup_sparse(table,
sp_ids, None, combiner='mean')``) and the backward to the table (an ``IndexedSlices``
gradient) under a GradientTape. The PyTorch twin is ``torch.nn.functional.embedding_bag(
mode='mean', sparse=True)`` with input + offsets, forward and ``torch.autograd.backward``
(a sparse gradient), on the same device. Inputs are built once, outside the timing.
torch is optional (``--no-torch`` or missing: no peer column).

Usage:
    python bench/embedding.py [--batch 65536 4096] [--repeats 5] [--dim 16]
                              [--max-bag 20] [--no-torch] [--json]
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

from _torch_peer import load_torch  # noqa: E402 (bench/ is sys.path[0])
import eagerflow as ef  # noqa: E402
from eagerflow import backend  # noqa: E402
from eagerflow.kernels import check_errors  # noqa: E402
from eagerflow.nn import embedding as ef_embedding  # noqa: E402

VOCABS = [10 ** 6] * 4 + [10 ** 5] * 8 + [10 ** 4] * 8 + [10 ** 3] * 6


def timeit(fn, repeats, sync):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def make_inputs(batch, max_bag, rng):
    """Per table: (ids, offsets, sparse indices) on the host."""
    out = []
    for vocab in VOCABS:
        sizes = rng.integers(1, max_bag + 1, batch)
        offsets = np.zeros(batch + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        nnz = int(offsets[-1])
        ids = rng.integers(0, vocab, nnz, dtype=np.int64)
        rows = np.repeat(np.arange(batch, dtype=np.int64), sizes)
        cols = np.arange(nnz, dtype=np.int64) - offsets[:-1][rows]
        out.append((ids, offsets, np.stack([rows, cols], axis=1)))
    return out


def run_case(batch, args, tables_h, torch, on_gpu):
    rng = np.random.default_rng(batch)
    inputs = make_inputs(batch, args.max_bag, rng)
    grads_h = [rng.standard_normal((batch, args.dim)).astype(np.float32) for _ in VOCABS]
    sync = backend.synchronize
    if torch is not None and on_gpu:
        def sync():
            backend.synchronize()
            torch.cuda.synchronize()
    nnz = sum(int(i[0].shape[0]) for i in inputs)
    case = {"batch": batch, "lookups": nnz, "ms": {}, "samples_per_s": {}}

    tables = [ef.Variable(backend.to_device(t)) for t in tables_h]
    sps = [ef.SparseTensor(backend.to_device(idx), ef.Tensor(backend.to_device(ids)),
                           np.array([batch, args.max_bag], np.int64))
           for ids, _, idx in inputs]
    grads = [ef.Tensor(backend.to_device(g)) for g in grads_h]

    def ours():
        with ef.GradientTape() as tape:
            outs = [ef_embedding.embedding_lookup_sparse(t, sp, None, combiner="mean")
                    for t, sp in zip(tables, sps)]
        return tape.gradient(outs, tables, output_gradients=grads)

    med, lo, hi = timeit(ours, args.repeats, sync)
    case["ms"]["eagerflow"] = {"median": med * 1e3, "min": lo * 1e3, "max": hi * 1e3}
    case["samples_per_s"]["eagerflow"] = batch / med
    check_errors()
    # Correctness on table 0 against a float64 host reference.
    ids, offsets, _ = inputs[-1]
    got = backend.to_numpy(ef_embedding.embedding_lookup_sparse(
        tables[-1], sps[-1], None, combiner="mean")._data)
    sums = np.add.reduceat(tables_h[-1][ids].astype(np.float64), offsets[:-1], axis=0)
    want = sums / np.diff(offsets)[:, None]
    case["max_abs_err_vs_fp64"] = float(abs(got - want).max())
    del tables, sps, grads

    if torch is not None:
        dev = "cuda" if on_gpu else "cpu"
        t_tables = [torch.from_numpy(t).to(dev).requires_grad_(True) for t in tables_h]
        t_in = [(torch.from_numpy(ids).to(dev), torch.from_numpy(offsets[:-1]).to(dev))
                for ids, offsets, _ in inputs]
        t_grads = [torch.from_numpy(g).to(dev) for g in grads_h]
        F = torch.nn.functional

        def peer():
            for t in t_tables:
                t.grad = None
            outs = [F.embedding_bag(i, t, o, mode="mean", sparse=True)
                    for t, (i, o) in zip(t_tables, t_in)]
            torch.autograd.backward(outs, t_grads)

        med, lo, hi = timeit(peer, args.repeats, sync)
        case["ms"]["torch"] = {"median": med * 1e3, "min": lo * 1e3, "max": hi * 1e3}
        case["samples_per_s"]["torch"] = batch / med
        case["ratio_vs_torch"] = case["samples_per_s"]["eagerflow"] / (batch / med)
    return case


def run(args):
    on_gpu = backend.get_backend() == "cupy"
    torch = None if args.no_torch else load_torch(on_gpu)
    rng = np.random.default_rng(0)
    tables_h = [(rng.standard_normal((v, args.dim)) * 0.05).astype(np.float32)
                for v in VOCABS]
    import numba
    res = {"backend": backend.get_backend(), "dim": args.dim, "tables": len(VOCABS),
           "bag_sizes": f"U{{1..{args.max_bag}}}", "combiner": "mean",
           "numba_threads": numba.get_num_threads(),
           "torch": None if torch is None else torch.__version__, "cases": []}
    if torch is not None:
        res["torch_threads"] = torch.get_num_threads()
    for batch in args.batch:
        res["cases"].append(run_case(batch, args, tables_h, torch, on_gpu))
    return res


def print_table(res):
    print(f"embedding_lookup_sparse mean, fwd+bwd, {res['tables']} tables x dim {res['dim']}, "
          f"bags {res['bag_sizes']}, backend={res['backend']} "
          f"(numba threads {res['numba_threads']}), torch={res['torch'] or 'absent'}")
    head = (f"{'batch':>7} {'lookups':>11} {'impl':<10} {'ms (median [min-max])':>28} "
            f"{'samples/s':>12} {'x torch':>8}")
    print(head)
    print("-" * len(head))
    for c in res["cases"]:
        for name, t in c["ms"].items():
            ratio = c.get("ratio_vs_torch") if name == "eagerflow" else None
            span = f"{t['median']:.1f} [{t['min']:.1f}-{t['max']:.1f}]"
            print(f"{c['batch']:>7} {c['lookups']:>11,} {name:<10} {span:>28} "
                  f"{c['samples_per_s'][name]:>12,.0f} "
                  f"{(f'{ratio:.2f}' if ratio else '-'):>8}")
        print(f"{c['batch']:>7} max abs error vs float64 reference: "
              f"{c['max_abs_err_vs_fp64']:.1e}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[65536, 4096])
    p.add_argument("--dim", type=int, default=16)
    p.add_argument("--max-bag", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-torch", action="store_true", help="leave out the torch column")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(argv)
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print_table(res)


if __name__ == "__main__":
    main()
