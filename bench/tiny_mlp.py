"""Dispatch-bound regime: the anchors' tiny MLP training step, eagerflow vs PyTorch.

Model (``../shared/anchors/RESULTS.md`` section 3): Linear(128,256)-ReLU-Linear(256,256)-
ReLU-Linear(256,1), batch 32, sigmoid cross-entropy with logits, Adam lr 1e-3. One step =
forward, loss, backward, Adam update. Same initial weights and batches for every row.

Rows: eagerflow eager; eagerflow ``ef.function`` (a CUDA graph replay on the GPU; eager on
the CPU); torch eager (``Adam``, ``zero_grad(set_to_none=True)``); on the GPU also torch's own
CUDA graph of the whole step (``Adam(capturable=True)``, ``torch.cuda.graph``), the anchors'
173 us row. Time per step: median (and best) of interleaved windows, synchronized at the
ends of each window only.

Usage:
    PYTHONPATH=. python bench/tiny_mlp.py [--backend cupy] [--peer torch|none]
        [--steps 200] [--rounds 7] [--batch 32]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _torch_peer import load_torch  # noqa: E402
import eagerflow as ef  # noqa: E402
from eagerflow import backend  # noqa: E402

SIZES = (128, 256, 256, 1)
LR = 1e-3


def init(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(i)
        out.append((rng.uniform(-bound, bound, (i, o)).astype(np.float32),
                    rng.uniform(-bound, bound, o).astype(np.float32)))
    return out


def data(batch, n=4, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, SIZES[0])).astype(np.float32),
             (rng.random((batch, 1)) < 0.5).astype(np.float32)) for _ in range(n)]


class EfRunner:
    def __init__(self, weights, batches, graph):
        self.name = "eagerflow ef.function" if graph else "eagerflow eager"
        self.ws = [ef.Variable(w) for w, _ in weights]
        self.bs = [ef.Variable(b) for _, b in weights]
        self.vars = [v for pair in zip(self.ws, self.bs) for v in pair]
        self.opt = ef.train.AdamOptimizer(LR)
        self.batches = [(ef.constant(x), ef.constant(y)) for x, y in batches]
        self.fn = ef.function(self._step) if graph else self._step
        self.i, self.loss = 0, None

    def _step(self, x, y):
        with ef.GradientTape() as tape:
            h = x
            for w, b in zip(self.ws[:-1], self.bs[:-1]):
                h = ef.nn.relu_layer(h, w, b)
            logits = ef.matmul(h, self.ws[-1]) + self.bs[-1]
            loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=y,
                                                                          logits=logits))
        self.opt.apply_gradients(zip(tape.gradient(loss, self.vars), self.vars))
        return loss

    def step(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        self.loss = self.fn(x, y)

    def read_loss(self):
        return float(self.loss.numpy())

    def sync(self):
        backend.synchronize()


class TorchRunner:
    def __init__(self, torch, weights, batches, on_gpu, graph):
        self.torch, self.graph = torch, graph
        self.name = "torch CUDA graph" if graph else "torch eager"
        dev = torch.device("cuda" if on_gpu else "cpu")
        layers = []
        for k, (w, b) in enumerate(weights):
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if k < len(weights) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers).to(dev)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, capturable=graph)
        self.loss_fn = torch.nn.BCEWithLogitsLoss()
        self.batches = [(torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev))
                        for x, y in batches]
        self.i, self.loss, self.on_gpu = 0, None, on_gpu
        if graph:
            self._capture()

    def _eager(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def _capture(self):
        torch = self.torch
        self.sx = self.batches[0][0].clone()
        self.sy = self.batches[0][1].clone()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                self._eager(self.sx, self.sy)
        torch.cuda.current_stream().wait_stream(s)
        self.g = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.g):
            self.sloss = self.loss_fn(self.model(self.sx), self.sy)
            self.sloss.backward()
            self.opt.step()

    def step(self):
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        if self.graph:
            self.sx.copy_(x)
            self.sy.copy_(y)
            self.g.replay()
            self.loss = self.sloss
        else:
            self.loss = self._eager(x, y)

    def read_loss(self):
        return float(self.loss.detach().cpu())

    def sync(self):
        if self.on_gpu:
            self.torch.cuda.synchronize()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    p.add_argument("--peer", choices=["torch", "none"], default="torch")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    if args.backend:
        ef.set_backend(args.backend)
    on_gpu = backend.get_backend() == "cupy"
    torch = load_torch(on_gpu) if args.peer == "torch" else None
    weights, batches = init(), data(args.batch)
    runners = [EfRunner(weights, batches, False), EfRunner(weights, batches, True)]
    if torch is not None:
        runners.append(TorchRunner(torch, weights, batches, on_gpu, False))
        if on_gpu:
            runners.append(TorchRunner(torch, weights, batches, on_gpu, True))
    first = {}
    for r in runners:
        for _ in range(5):
            r.step()
        first[r.name] = r.read_loss()
        r.sync()
    windows = {r.name: [] for r in runners}
    for _ in range(args.rounds):
        for r in runners:
            r.sync()
            t0 = time.perf_counter()
            for _ in range(args.steps):
                r.step()
            r.sync()
            windows[r.name].append((time.perf_counter() - t0) / args.steps)
    dev = (torch.cuda.get_device_name() if (torch is not None and on_gpu)
           else ("GPU" if on_gpu else f"CPU x{os.cpu_count()}"))
    print(f"tiny MLP {'-'.join(map(str, SIZES))}, batch {args.batch}, Adam; backend "
          f"{backend.get_backend()} ({dev}); torch {torch.__version__ if torch else 'absent'}")
    base = None
    if torch is not None:
        base = statistics.median(windows["torch eager"])
    head = f"{'implementation':<24} {'us/step med [best]':>20} {'x torch eager time':>18} " \
           f"{'loss after 5 / last':>20}"
    print(head)
    print("-" * len(head))
    for r in runners:
        w = windows[r.name]
        med = statistics.median(w)
        ratio = f"{med / base:.3f}" if base else "-"
        print(f"{r.name:<24} {med * 1e6:>11.1f} [{min(w) * 1e6:.1f}] {ratio:>18} "
              f"{first[r.name]:>9.4f} / {r.read_loss():.4f}")
    for r in runners:
        if isinstance(r, EfRunner) and hasattr(r.fn, "captured_signatures"):
            print(f"ef.function: {r.fn.captured_signatures} signature(s) captured; eager "
                  f"reasons: {r.fn.eager_reasons or 'none'}")


if __name__ == "__main__":
    main()
