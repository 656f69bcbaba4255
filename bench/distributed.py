"""Data-parallel scaling: samples/s per process of a DeepFM-like step on 1 and N processes.

The model: 26 categorical fields looked up in one embedding table (``--vocab`` rows per
field, ``--dim`` wide; IndexedSlices gradients, all-gathered), 13 numeric features, an FM
second-order term and a 3-layer MLP (dense gradients, all-reduced in fused buckets), trained
with Adagrad wrapped in ``ef.distribute.DistributedOptimizer``. Each process reads its own
``--batch`` rows per step (weak scaling); efficiency = (samples/s per process on N) /
(samples/s on 1). "exchange ms" is the time spent in the gradient all-reduce/all-gather,
"update ms" in the optimizer's apply (it sees every process's sparse rows).

Usage:
    python bench/distributed.py [--procs 1,2] [--batch 2048] [--steps 20] [--json]
        launches ``mpiexec -n P`` for each P and prints a table. On the CPU each process is
        held to one thread (``--threads``), so N processes use N cores.
    mpiexec -n 2 python bench/distributed.py --backend cupy --batch 65536
        one run of 2 processes (one per GPU, NCCL) printing its own row.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIELDS, NUMERIC = 26, 13


def _under_mpi():
    return any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK"))


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--procs", default="1,2", help="process counts to launch (driver mode)")
    p.add_argument("--batch", type=int, default=2048, help="rows per process per step")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--vocab", type=int, default=10000, help="rows per categorical field")
    p.add_argument("--dim", type=int, default=16)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--threads", type=int, default=1, help="BLAS/numba threads per process")
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None)
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def worker(args):
    if args.backend:
        os.environ["EAGERFLOW_BACKEND"] = args.backend
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import eagerflow as ef
    from eagerflow import backend
    from eagerflow.distribute.gradients import GradientAllReducer

    info = ef.distribute.init()
    rng = np.random.default_rng(1 + info.rank)
    n_batches = 4
    ids = [rng.integers(0, args.vocab, (args.batch, FIELDS)) + np.arange(FIELDS) * args.vocab
           for _ in range(n_batches)]
    nums = [rng.normal(size=(args.batch, NUMERIC)).astype(np.float32)
            for _ in range(n_batches)]
    clicks = [rng.integers(0, 2, (args.batch, 1)).astype(np.float32) for _ in range(n_batches)]
    batches = [tuple(ef.constant(a) for a in b) for b in zip(ids, nums, clicks)]

    def glorot(shape):
        return ef.Variable(rng.normal(scale=(2.0 / sum(shape)) ** 0.5, size=shape)
                           .astype(np.float32))
    table = glorot((FIELDS * args.vocab, args.dim))
    linear = glorot((FIELDS * args.vocab, 1))
    width = FIELDS * args.dim + NUMERIC
    layers = [glorot((width, args.hidden)), glorot((args.hidden, args.hidden)),
              glorot((args.hidden, args.hidden)), glorot((args.hidden, 1))]
    variables = [table, linear] + layers
    ef.distribute.broadcast_variables(variables)

    def loss_fn(idx, num, click):
        emb = ef.nn.embedding_lookup(table, idx)                      # (batch, fields, dim)
        s = ef.reduce_sum(emb, axis=1)
        fm = 0.5 * ef.reduce_sum(s * s - ef.reduce_sum(emb * emb, axis=1), axis=1,
                                 keepdims=True)
        first = ef.reduce_sum(ef.nn.embedding_lookup(linear, idx), axis=1)
        h = ef.concat([ef.reshape(emb, [-1, FIELDS * args.dim]), num], axis=1)
        for w in layers[:-1]:
            h = ef.nn.relu(ef.matmul(h, w))
        logits = first + fm + ef.matmul(h, layers[-1])
        return ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=click,
                                                                      logits=logits))

    exchange, update = [0.0], [0.0]

    def timed(fn, total):
        def run(*args, **kwargs):
            backend.synchronize()
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            backend.synchronize()
            total[0] += time.perf_counter() - t0
            return out
        return run
    GradientAllReducer.__call__ = timed(GradientAllReducer.__call__, exchange)
    inner = ef.train.AdagradOptimizer(0.01)
    inner.apply_gradients = timed(inner.apply_gradients, update)
    opt = ef.distribute.DistributedOptimizer(inner)

    def step(i):
        b = batches[i % n_batches]
        opt.minimize(lambda: loss_fn(*b), var_list=variables)

    for i in range(args.warmup):
        step(i)
    backend.synchronize()
    ef.distribute.barrier()
    exchange[0] = update[0] = 0.0
    t0 = time.perf_counter()
    for i in range(args.steps):
        step(i)
    backend.synchronize()
    seconds = time.perf_counter() - t0
    # the slowest process sets the pace: report the mean over ranks of time per step
    seconds = float(ef.distribute.all_reduce(np.array([seconds]), "max")[0])
    ex = float(ef.distribute.all_reduce(np.array([exchange[0]]), "mean")[0])
    up = float(ef.distribute.all_reduce(np.array([update[0]]), "mean")[0])
    row = {"procs": info.size, "transport": info.transport, "backend": backend.get_backend(),
           "batch_per_proc": args.batch, "step_ms": 1e3 * seconds / args.steps,
           "exchange_ms": 1e3 * ex / args.steps, "update_ms": 1e3 * up / args.steps,
           "samples_per_s_per_proc": args.batch * args.steps / seconds,
           "params": int(sum(v.numpy().size for v in variables))}
    if info.rank == 0:
        print(f"{info.size} process(es), {info.transport}: {row['step_ms']:.1f} ms/step, "
              f"{row['exchange_ms']:.1f} ms exchange, "
              f"{row['samples_per_s_per_proc']:,.0f} samples/s per process")
        print("RESULT " + json.dumps(row), flush=True)


def mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("mpiexec not found: pip install 'eagerflow[distributed]'")
    return found


def driver(args):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               NUMBA_NUM_THREADS=str(args.threads))
    passthrough = [a for a in sys.argv[1:] if not a.startswith("--procs")]
    rows = []
    for n in [int(p) for p in args.procs.split(",")]:
        out = subprocess.run([mpiexec(), "-n", str(n), sys.executable, __file__, *passthrough],
                             env=env, capture_output=True, text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
        if out.returncode or not lines:
            sys.exit(f"mpiexec -n {n} failed:\n{out.stdout}\n{out.stderr}")
        rows.append(json.loads(lines[-1][len("RESULT "):]))
    base = rows[0]["samples_per_s_per_proc"]
    for r in rows:
        r["efficiency"] = r["samples_per_s_per_proc"] / base
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"DeepFM-like, {rows[0]['params']:,} params, batch {args.batch}/process, "
          f"{args.threads} thread(s)/process, backend {rows[0]['backend']}")
    print("| procs | transport | step ms | exchange ms | update ms | samples/s per proc "
          "| total samples/s | efficiency |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['procs']} | {r['transport']} | {r['step_ms']:.1f} | {r['exchange_ms']:.1f} "
              f"| {r['update_ms']:.1f} | {r['samples_per_s_per_proc']:,.0f} | "
              f"{r['samples_per_s_per_proc'] * r['procs']:,.0f} | {r['efficiency']:.0%} |")


if __name__ == "__main__":
    a = parse()
    worker(a) if _under_mpi() else driver(a)
