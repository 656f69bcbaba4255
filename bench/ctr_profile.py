"""Per-op time of one DeepFM-like step (``bench/train_ctr.py``'s model), each op closed by a
device synchronize: where a step's time goes, op by op, in the forward, the backward and the
optimizer. Plus three micro-measurements that decide levers: the bias gradient
(``sum(axis=0)`` of a ``(B, 400)`` gradient vs a GEMV with ones), host->device copy of one
batch from pageable vs pinned memory, and the fp32 GEMM rate with TF32 off and on.

The synchronize after every op inflates small ops (launch + sync ~10-20 us each), so read the
large entries; the per-phase sums are printed next to the unsynchronized step time.

Usage:
    PYTHONPATH=. python bench/ctr_profile.py [--backend cupy] [--batch 65536] [--layout fused]
        [--optimizer adam] [--top 25]
"""
import argparse
import collections
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ctr  # noqa: E402  (bench/ is sys.path[0])
import eagerflow as ef  # noqa: E402
from eagerflow import backend  # noqa: E402
from eagerflow.autograd import registry  # noqa: E402


def timed_ops(phase_of):
    """Wraps ``registry.execute`` so every op's wall time (synchronized) is accumulated
    under ``(phase, op name)``."""
    totals = collections.defaultdict(lambda: [0.0, 0])
    real = registry.execute
    sync = backend.synchronize
    depth = [0]

    def execute(op, inputs, attrs):
        if depth[0]:
            return real(op, inputs, attrs)
        depth[0] += 1
        try:
            sync()
            t0 = time.perf_counter()
            out = real(op, inputs, attrs)
            sync()
            cell = totals[(phase_of[0], op.name)]
            cell[0] += time.perf_counter() - t0
            cell[1] += 1
            return out
        finally:
            depth[0] -= 1

    registry.execute = execute
    return totals, lambda: setattr(registry, "execute", real)


def profile_step(runner, repeats, phase):
    sync = backend.synchronize
    m = runner.model
    phase_t = collections.defaultdict(float)
    for _ in range(repeats):
        ids, dense, labels = runner.inputs(runner.i)
        runner.i += 1
        with runner.store.as_default():
            phase[0] = "forward"
            sync()
            t0 = time.perf_counter()
            with ef.GradientTape() as tape:
                loss = m.head(m.embed(ids), dense, labels)
            sync()
            t1 = time.perf_counter()
            phase[0] = "backward"
            grads = tape.gradient(loss, m.variables)
            sync()
            t2 = time.perf_counter()
            phase[0] = "optimizer"
            runner.opt.apply_gradients(zip(grads, m.variables))
            sync()
            t3 = time.perf_counter()
        phase_t["forward"] += t1 - t0
        phase_t["backward"] += t2 - t1
        phase_t["optimizer"] += t3 - t2
    return {k: v / repeats for k, v in phase_t.items()}


def micro(batch):
    xp = backend.xp()
    sync = backend.synchronize
    out = {}

    def best(fn, n=20):
        fn()
        sync()
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            sync()
            ts.append(time.perf_counter() - t0)
        return min(ts) * 1e3

    g = xp.asarray(np.random.default_rng(0).standard_normal((batch, 400), dtype=np.float32))
    ones = xp.ones((1, batch), dtype=np.float32)
    out["bias grad: sum(axis=0) of (B,400)"] = best(lambda: g.sum(axis=0))
    out["bias grad: ones(1,B) @ g"] = best(lambda: ones @ g)
    ids, dense, labels = train_ctr.make_batches(batch)[0]
    out["H2D one batch, pageable"] = best(lambda: [backend.to_device(a) for a in (ids, dense, labels)])
    if backend.get_backend() == "cupy":
        import cupy as cp
        pinned = []
        for a in (ids, dense, labels):
            mem = cp.cuda.alloc_pinned_memory(a.nbytes)
            h = np.frombuffer(mem, a.dtype, a.size).reshape(a.shape)
            h[...] = a
            pinned.append(h)
        dev = [cp.empty(a.shape, a.dtype) for a in pinned]
        out["H2D one batch, pinned"] = best(lambda: [d.set(h) for d, h in zip(dev, pinned)])
        from cupy._core import _routines_linalg as rl
        a = xp.asarray(np.random.default_rng(1).standard_normal((batch, 429), dtype=np.float32))
        w = xp.asarray(np.random.default_rng(2).standard_normal((429, 400), dtype=np.float32))
        out["GEMM (B,429)x(429,400) fp32"] = best(lambda: a @ w)
        rl.set_compute_type(np.float32, rl.COMPUTE_TYPE_TF32)
        out["GEMM (B,429)x(429,400) TF32"] = best(lambda: a @ w)
        rl.set_compute_type(np.float32, rl.COMPUTE_TYPE_DEFAULT)
        out["GEMM wgrad (429,B)x(B,400) fp32"] = best(lambda: a.T @ g)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    p.add_argument("--batch", type=int, nargs="+", default=[65536])
    p.add_argument("--layout", choices=["tables", "fused"], default="fused")
    p.add_argument("--optimizer", choices=["adam", "adagrad"], default="adam")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    if args.backend:
        ef.set_backend(args.backend)
    tables, mlp = train_ctr.init_weights()
    for batch in args.batch:
        runner = train_ctr.EfRunner(tables, mlp, train_ctr.make_batches(batch), args.layout,
                                    args.optimizer)
        for _ in range(3):
            runner.step()
        backend.synchronize()
        t0 = time.perf_counter()
        for _ in range(5):
            runner.step()
        backend.synchronize()
        step_ms = (time.perf_counter() - t0) / 5 * 1e3
        phase = ["-"]
        totals, undo = timed_ops(phase)
        try:
            ph = profile_step(runner, args.repeats, phase)
        finally:
            undo()
        print(f"\n== {runner.name}, batch {batch}, backend {backend.get_backend()}: "
              f"step {step_ms:.2f} ms unsynchronized; per phase with a sync after every op: "
              + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in ph.items()))
        rows = sorted(totals.items(), key=lambda kv: -kv[1][0])
        print(f"{'phase':<10} {'op':<34} {'ms/step':>8} {'calls/step':>10}")
        for (ph_name, op), (t, n) in rows[:args.top]:
            print(f"{ph_name:<10} {op:<34} {t / args.repeats * 1e3:>8.3f} "
                  f"{n / args.repeats:>10.1f}")
        for k, v in micro(batch).items():
            print(f"  micro: {k:<40} {v:8.3f} ms")
        runner.close()


if __name__ == "__main__":
    main()
