"""Scatter-add of 1M x 16 float32 rows into a 1M x 16 table: eagerflow vs add.at vs torch.

Workload of CPU_RESULTS 4b / CUPY_PROBE row 8: int64 ids, uniform and power-law (Zipf 1.05,
hashed onto the table, as in the probe); every timed call zeroes the preallocated table
first (as 4b does). On the current backend: NumPy (numba twin, ``np.add.at``, torch CPU)
or, with ``EAGERFLOW_BACKEND=cupy``, CuPy (RawKernel twin, ``cupy.add.at``, torch.cuda).
"GB/s" counts 200 B per row as CUPY_PROBE row 8 does (64 B grad read + 8 B id + 128 B row
read and write) and is compared with a measured same-device copy, counted both ways
(read + write bytes, and bytes copied once). torch is optional (``--no-torch`` or missing).

Usage:
    python bench/scatter_add.py [--rows 1000000] [--table-rows 1000000] [--dim 16]
                                [--repeats 5] [--no-torch] [--json]
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
from eagerflow import backend  # noqa: E402
from eagerflow.kernels import check_errors, scatter_add, scatter_add_new  # noqa: E402

BYTES_PER_ROW = 200  # CUPY_PROBE row 8, for 16 float32 columns and int64 ids


def make_ids(kind, n, rows, rng):
    if kind == "uniform":
        return rng.integers(0, rows, n, dtype=np.int64)
    z = rng.zipf(1.05, n).astype(np.uint64)
    h = (z * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(17)  # Fibonacci hashing
    return (h % np.uint64(rows)).astype(np.int64)


def timeit(fn, repeats, sync, inner=1):
    """Median seconds per call: ``inner`` back-to-back calls per window, synced at the ends."""
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times), min(times), max(times)


def run(args):
    on_gpu = backend.get_backend() == "cupy"
    xp = backend.xp()
    torch = None if args.no_torch else load_torch(on_gpu)
    sync = backend.synchronize
    if torch is not None and on_gpu:
        def sync():
            backend.synchronize()
            torch.cuda.synchronize()
    inner = 20 if on_gpu else 1
    rng = np.random.default_rng(0)
    n, rows, dim = args.rows, args.table_rows, args.dim
    vals_h = rng.standard_normal((n, dim)).astype(np.float32)
    vals = backend.to_device(vals_h)
    table = xp.zeros((rows, dim), np.float32)

    # Same-device copy bandwidth of a buffer as large as the table plus the grads.
    src = xp.ones(max(rows, n) * dim * 2, np.float32)
    dst = xp.empty_like(src)
    t_copy = timeit(lambda: dst.__setitem__(Ellipsis, src), args.repeats, sync, inner)[0]
    copy_rw = 2 * src.nbytes / t_copy / 1e9
    copy_once = src.nbytes / t_copy / 1e9
    del src, dst

    result = {"backend": backend.get_backend(), "rows": n, "table_rows": rows, "dim": dim,
              "bytes_per_row": BYTES_PER_ROW, "copy_GBps_read_plus_write": copy_rw,
              "copy_GBps_bytes_copied": copy_once, "torch": None, "cases": {}}
    if torch is not None:
        result["torch"] = torch.__version__
        tdev = "cuda" if on_gpu else "cpu"
        t_vals = torch.from_numpy(vals_h).to(tdev)
        t_table = torch.zeros((rows, dim), dtype=torch.float32, device=tdev)
        result["torch_threads"] = torch.get_num_threads()
    for kind in ("uniform", "power_law"):
        ids_h = make_ids(kind, n, rows, rng)
        ids = backend.to_device(ids_h)
        case = {"distinct_ids": int(np.unique(ids_h).size),
                "hottest_share": float(np.bincount(ids_h).max() / n), "ms": {}}

        def ours():
            table.fill(0)
            scatter_add(table, ids, vals)

        def add_at():
            table.fill(0)
            xp.add.at(table, ids, vals)

        fns = {"eagerflow scatter_add": (ours, inner),
               "eagerflow scatter_add_new (allocates)":
                   (lambda: scatter_add_new(ids, vals, rows), inner),
               f"{xp.__name__}.add.at": (add_at, inner if on_gpu else 1)}
        if torch is not None:
            t_ids = torch.from_numpy(ids_h).to(tdev)

            def index_add():
                t_table.zero_()
                t_table.index_add_(0, t_ids, t_vals)
            fns["torch index_add_"] = (index_add, inner)
        for name, (fn, k) in fns.items():
            reps = args.repeats if k > 1 or "add.at" not in name else max(2, args.repeats // 2)
            try:
                med, lo, hi = timeit(fn, reps, sync, k)
            except (AttributeError, NotImplementedError, TypeError) as e:
                case["ms"][name] = None  # e.g. an array library without ufunc.at
                print(f"# {name} unavailable: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            case["ms"][name] = {"median": med * 1e3, "min": lo * 1e3, "max": hi * 1e3,
                                "GBps": n * BYTES_PER_ROW / med / 1e9}
        check_errors()
        # Correctness on the same data, against float64 sums made on the host.
        ours()
        want = np.zeros((rows, dim))
        np.add.at(want, ids_h, vals_h.astype(np.float64))
        got = backend.to_numpy(table)
        case["max_rel_err_vs_fp64"] = float(abs(got - want).max() / max(abs(want).max(), 1e-30))
        result["cases"][kind] = case
    return result


def print_table(res):
    print(f"scatter-add {res['rows']:,} x {res['dim']} float32 rows into a "
          f"{res['table_rows']:,} x {res['dim']} table, backend={res['backend']}, "
          f"torch={res['torch'] or 'absent'}")
    print(f"same-device copy: {res['copy_GBps_read_plus_write']:.1f} GB/s read+write "
          f"({res['copy_GBps_bytes_copied']:.1f} GB/s bytes copied once); "
          f"'eff GB/s' counts {res['bytes_per_row']} B/row")
    head = f"{'ids':<10} {'implementation':<40} {'ms (median [min-max])':>26} " \
           f"{'eff GB/s':>9} {'/copy r+w':>9} {'/copy 1x':>9} {'x add.at':>9}"
    print(head)
    print("-" * len(head))
    for kind, case in res["cases"].items():
        base = next((v["median"] for k, v in case["ms"].items() if "add.at" in k and v), None)
        for name, t in case["ms"].items():
            if t is None:
                print(f"{kind:<10} {name:<40} {'unavailable':>26}")
                continue
            ratio = f"{base / t['median']:>9.1f}" if base else f"{'-':>9}"
            span = f"{t['median']:.3f} [{t['min']:.3f}-{t['max']:.3f}]"
            print(f"{kind:<10} {name:<40} {span:>26} {t['GBps']:>9.1f} "
                  f"{t['GBps'] / res['copy_GBps_read_plus_write']:>9.2f} "
                  f"{t['GBps'] / res['copy_GBps_bytes_copied']:>9.2f} {ratio}")
        print(f"{kind:<10} distinct ids {case['distinct_ids']:,}, hottest id "
              f"{case['hottest_share']:.1%} of rows, ours vs float64: max rel. error "
              f"{case['max_rel_err_vs_fp64']:.1e}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--table-rows", type=int, default=1_000_000)
    p.add_argument("--dim", type=int, default=16)
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
