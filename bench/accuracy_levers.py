"""Accuracy of the speed levers: held-out AUC of the DeepFM-like model after a fixed number
of steps, each lever against the plain float32 eager run (issue 10's accuracy target:
equal within 0.002 for every lever that is on by default; the opt-in ones measured).

Data: the synthetic click log (``eagerflow.datasets.synthetic_ctr``; its Bayes AUC is the
ceiling). Each categorical field's tokens become ids in order of first appearance in the
training rows (unseen test tokens share one id), numerics ``log1p(max(x, 0))`` with
missing as 0. Model: 26 embeddings of dim 16, FM interaction, MLP 400-400-400, sigmoid
cross-entropy, LazyAdam 1e-3 (the bench workload's shape on this data).

Rows (same initial weights, same batches, same order):

- ``fp32 eager``: the reference.
- ``fp32 ef.function``: the step captured as a CUDA graph (on the CPU: eager again).
- ``tf32 eager`` / ``tf32 ef.function``: ``ef.config.set_allow_tf32(True)`` (GPU only).
- ``bf16 eager`` / ``bf16 ef.function``: ``ef.mixed_precision`` policy ``mixed_bfloat16``
  for the MLP (float32 variables and embeddings, bfloat16 GEMMs and activations, the
  logits and the loss in float32), as ``ef.layers.Dense`` computes under that policy.

The fused kernels that are on by default (bias+ReLU, column sums, FM, embedding bag,
cuBLASLt epilogues where the helper takes them) are in every row; the reference
differs from them only by the lever named.

Usage:
    PYTHONPATH=. python bench/accuracy_levers.py [--backend cupy] [--rows 400000]
        [--steps 300] [--batch 4096]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eagerflow as ef  # noqa: E402
from eagerflow import backend  # noqa: E402
from eagerflow.datasets import synthetic_ctr as synth  # noqa: E402

DIM, HIDDEN, LR = 16, (400, 400, 400), 1e-3


def encode(rows, train_n):
    """ids per field (first-appearance order in the training rows; one id for unseen) and
    log-count numerics."""
    cols = synth.generate(rows, seed=0)
    ids, vocab = [], []
    for key in synth.CATEGORICAL_KEYS:
        tok = cols[key]
        uniq, first, inv = np.unique(tok[:train_n], return_index=True, return_inverse=True)
        rank = np.empty(len(uniq), np.int64)
        rank[np.argsort(first)] = np.arange(len(uniq))
        lookup = dict(zip(uniq.tolist(), rank.tolist()))
        unseen = len(uniq)
        col = np.empty(rows, np.int64)
        col[:train_n] = rank[inv]
        col[train_n:] = [lookup.get(t, unseen) for t in tok[train_n:].tolist()]
        ids.append(col)
        vocab.append(unseen + 1)
    num = np.stack([np.log1p(np.maximum(np.nan_to_num(cols[k]), 0)) for k in synth.NUMERIC_KEYS],
                   axis=1).astype(np.float32)
    label = cols[synth.LABEL_KEY].astype(np.float32)[:, None]
    return np.stack(ids, axis=1), num, label, vocab


def init_weights(vocab, seed=0):
    rng = np.random.default_rng(seed)
    tables = [(rng.standard_normal((v, DIM)) * 0.01).astype(np.float32) for v in vocab]
    sizes = (len(vocab) * DIM + len(synth.NUMERIC_KEYS),) + HIDDEN + (1,)
    mlp = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(i)
        mlp.append((rng.uniform(-bound, bound, (i, o)).astype(np.float32),
                    rng.uniform(-bound, bound, o).astype(np.float32)))
    return tables, mlp


class Model:
    def __init__(self, tables, mlp):
        xp = backend.xp()
        self.tables = [ef.Variable(xp.asarray(t.copy())) for t in tables]
        self.layers = [(ef.Variable(xp.asarray(w.copy())), ef.Variable(xp.asarray(b.copy())))
                       for w, b in mlp]
        self.opt = ef.train.LazyAdamOptimizer(LR)
        self.variables = self.tables + [v for wb in self.layers for v in wb]

    def logits(self, ids, dense):
        e = ef.stack([ef.nn.embedding_lookup(t, ids[:, f]) for f, t in enumerate(self.tables)],
                     axis=1)
        net = ef.concat([ef.reshape(e, (int(e.shape[0]), -1)), dense], axis=1)
        cd = ef.mixed_precision.global_policy().compute_dtype

        def read(v):  # what Dense does under the policy: compute-dtype copies of the weights
            return ef.cast(v, cd)
        net = read(net)
        for w, b in self.layers[:-1]:
            net = ef.nn.relu_layer(net, read(w), read(b))
        w, b = self.layers[-1]
        out = ef.cast(ef.matmul(net, read(w)) + read(b), "float32")
        return out + ef.nn.fm_interaction(e)

    def step(self, ids, dense, labels):
        with ef.GradientTape() as tape:
            loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(
                labels=labels, logits=self.logits(ids, dense)))
        self.opt.apply_gradients(zip(tape.gradient(loss, self.variables), self.variables))
        return loss


def run(variant, data, weights, steps, batch):
    ids, num, label, train_n = data
    ef.config.set_allow_tf32(variant.startswith("tf32"))
    ef.mixed_precision.set_global_policy("mixed_bfloat16" if variant.startswith("bf16")
                                         else None)
    m = Model(*weights)
    step = ef.function(m.step) if variant.endswith("ef.function") else m.step
    dev = [backend.to_device(a) for a in (ids[:train_n], num[:train_n], label[:train_n])]
    batches = train_n // batch
    t0 = time.perf_counter()
    for s in range(steps):
        lo = (s % batches) * batch
        loss = step(*(ef.Tensor(a[lo:lo + batch]) for a in dev))
    last_loss = float(loss.numpy())
    elapsed = time.perf_counter() - t0
    scores = []
    with ef.no_grad():
        for lo in range(train_n, len(ids), 16384):
            t = [ef.Tensor(backend.to_device(a[lo:lo + 16384])) for a in (ids, num)]
            scores.append(ef.sigmoid(m.logits(*t)).numpy().ravel())
    ef.config.set_allow_tf32(False)
    ef.mixed_precision.set_global_policy(None)
    return synth.auc(label[train_n:, 0], np.concatenate(scores)), last_loss, elapsed


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    p.add_argument("--rows", type=int, default=400_000)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--bf16", action="store_true",
                   help="add the bf16 rows on the CPU too (always on the GPU; slow on CPUs)")
    args = p.parse_args(argv)
    if args.backend:
        backend.set_backend(args.backend)
    on_gpu = backend.get_backend() == "cupy"
    train_n = int(args.rows * (1 - args.test_fraction))
    t = time.perf_counter()
    ids, num, label, vocab = encode(args.rows, train_n)
    print(f"data: {args.rows:,} rows ({train_n:,} train), {sum(vocab):,} ids, encoded in "
          f"{time.perf_counter() - t:.1f} s; Bayes AUC on the test rows "
          f"{bayes_test_auc(args.rows, train_n):.4f}")
    weights = init_weights(vocab)
    variants = ["fp32 eager", "fp32 ef.function"]
    if on_gpu:
        variants += ["tf32 eager", "tf32 ef.function"]
    variants += ["bf16 eager", "bf16 ef.function"] if on_gpu or args.bf16 else []
    print(f"backend={backend.get_backend()}, {args.steps} steps of batch {args.batch} "
          f"(~{args.steps * args.batch / train_n:.1f} epochs)")
    head = f"{'variant':<18} {'test AUC':>9} {'d AUC':>8} {'final loss':>11} {'train s':>8}"
    print(head)
    print("-" * len(head))
    ref = None
    for v in variants:
        a, loss, sec = run(v, (ids, num, label, train_n), weights, args.steps, args.batch)
        ref = a if ref is None else ref
        print(f"{v:<18} {a:>9.4f} {a - ref:>+8.4f} {loss:>11.5f} {sec:>8.1f}")


def bayes_test_auc(rows, train_n):
    cols = synth.generate(rows, seed=0, with_probabilities=True)
    return synth.auc(cols[synth.LABEL_KEY][train_n:], cols["_prob"][train_n:])


if __name__ == "__main__":
    main()
