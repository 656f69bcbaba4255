"""Per-op overhead on tiny tensors, eagerflow vs PyTorch eager on the same device.

Rows:
  add (new output)          z = z + y, 1000 float32 elements, a chain of 1000 ops
  mul+sum fwd (recording)   (w * 2).sum() with w watched/requires_grad
  mul+sum fwd+bwd           the same plus the backward pass and the gradient
  mlp fwd+bwd               128-256-256-1 MLP, batch 32, BCE-style loss, all grads

On the CPU the peer is torch CPU; with EAGERFLOW_BACKEND=cupy it is torch CUDA (times are
wall-clock with a synchronize at the end of each window). Run without torch installed to
get eagerflow's column alone.

Usage: python bench/ops_overhead.py [--json] [--repeats N]
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

import eagerflow as ef
from eagerflow import backend

try:
    import torch
except ImportError:  # the peer is optional
    torch = None


def _timeit(fn, inner, repeats, sync):
    fn()
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def ef_cases():
    rng = np.random.default_rng(0)
    y = ef.constant(rng.standard_normal(1000).astype(np.float32))
    z0 = ef.constant(rng.standard_normal(1000).astype(np.float32))

    def add_chain():
        z = z0
        for _ in range(1000):
            z = z + y
        return z

    w = ef.Variable(rng.standard_normal(1000).astype(np.float32))

    def fwd():
        with ef.GradientTape() as t:
            loss = ef.reduce_sum(w * 2.0)
        return loss, t

    def fwd_bwd():
        with ef.GradientTape() as t:
            loss = ef.reduce_sum(w * 2.0)
        return t.gradient(loss, w)

    sizes = [128, 256, 256, 1]
    ws = [ef.Variable((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32))
          for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [ef.Variable(np.zeros(b, np.float32)) for b in sizes[1:]]
    x = ef.constant(rng.standard_normal((32, 128)).astype(np.float32))
    lbl = ef.constant((rng.random((32, 1)) > 0.5).astype(np.float32))

    def mlp():
        with ef.GradientTape() as t:
            h = x
            for i, (wi, bi) in enumerate(zip(ws, bs)):
                h = h @ wi + bi
                if i < len(ws) - 1:
                    h = ef.maximum(h, 0.0)
            # BCE with logits: max(h,0) - h*y + log(1 + exp(-|h|))
            loss = ef.reduce_mean(ef.maximum(h, 0.0) - h * lbl + ef.log1p(ef.exp(-ef.abs(h))))
        return t.gradient(loss, ws + bs)

    return {"add (new output)": (add_chain, 1000), "mul+sum fwd (recording)": (fwd, 1),
            "mul+sum fwd+bwd": (fwd_bwd, 1), "mlp fwd+bwd": (mlp, 1)}


def torch_cases(dev):
    g = torch.Generator().manual_seed(0)
    y = torch.randn(1000, generator=g).to(dev)
    z0 = torch.randn(1000, generator=g).to(dev)

    def add_chain():
        z = z0
        for _ in range(1000):
            z = z + y
        return z

    w = torch.randn(1000, generator=g).to(dev).requires_grad_()

    def fwd():
        return (w * 2).sum()

    def fwd_bwd():
        w.grad = None
        (w * 2).sum().backward()
        return w.grad

    net = torch.nn.Sequential(torch.nn.Linear(128, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                              torch.nn.ReLU(), torch.nn.Linear(256, 1)).to(dev)
    x = torch.randn(32, 128, generator=g).to(dev)
    lbl = (torch.rand(32, 1, generator=g) > 0.5).float().to(dev)
    lossf = torch.nn.BCEWithLogitsLoss()

    def mlp():
        net.zero_grad(set_to_none=True)
        lossf(net(x), lbl).backward()

    return {"add (new output)": (add_chain, 1000), "mul+sum fwd (recording)": (fwd, 1),
            "mul+sum fwd+bwd": (fwd_bwd, 1), "mlp fwd+bwd": (mlp, 1)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    on_gpu = backend.get_backend() == "cupy"
    ef_res = {}
    for name, (fn, ops) in ef_cases().items():
        inner = 1 if ops > 1 else 200
        ef_res[name] = _timeit(fn, inner, args.repeats, backend.synchronize) / ops * 1e6
    th_res = {}
    if torch is not None:
        dev = "cuda" if on_gpu else "cpu"
        if not on_gpu:
            torch.set_num_threads(2)
        sync = torch.cuda.synchronize if on_gpu else (lambda: None)
        for name, (fn, ops) in torch_cases(dev).items():
            inner = 1 if ops > 1 else 200
            th_res[name] = _timeit(fn, inner, args.repeats, sync) / ops * 1e6
    rows = []
    for name in ef_res:
        t = th_res.get(name)
        rows.append({"case": name, "eagerflow_us": round(ef_res[name], 2),
                     "torch_us": None if t is None else round(t, 2),
                     "ratio_ef_over_torch": None if t is None else round(ef_res[name] / t, 2)})
    meta = {"backend": backend.get_backend(), "numpy": np.__version__,
            "torch": None if torch is None else torch.__version__, "python": sys.version.split()[0]}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=1))
        return
    print(f"per-op overhead, backend={meta['backend']}, torch={meta['torch']}")
    print(f"{'case':<26}{'eagerflow us':>14}{'torch us':>12}{'ef/torch':>10}")
    for r in rows:
        t = "-" if r["torch_us"] is None else f"{r['torch_us']:.2f}"
        q = "-" if r["ratio_ef_over_torch"] is None else f"{r['ratio_ef_over_torch']:.2f}"
        print(f"{r['case']:<26}{r['eagerflow_us']:>14.2f}{t:>12}{q:>10}")


if __name__ == "__main__":
    main()
