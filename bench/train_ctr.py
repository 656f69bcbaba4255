"""DeepFM-like CTR training step: eagerflow vs PyTorch eager, same data, same process.

The workload of ``../shared/anchors/RESULTS.md`` (issue 10): 13 dense features (randn) and
26 categorical ones, vocabularies [1e6]*4 + [1e5]*8 + [1e4]*8 + [1e3]*6 (4,886,000 rows),
dim 16; ids from a truncated power law p(x) ~ x^-1.05 on [1, vocab] scattered with
x * 2654435761 mod vocab (int64); labels Bernoulli(0.25).
``logit = MLP(cat(flatten(E[B,26,16]), dense)) + FM2`` with
``FM2 = 0.5 * sum_d((sum_f E)^2 - sum_f E^2)``, MLP 429-400-400-400-1 (ReLU), BCE with
logits, mean over the batch. Both frameworks start from the same initial weights (drawn
once in NumPy) and see the same batches (4 pre-made batches rotated), so their losses can be
compared step by step.

Optimizer setups (the anchors' PyTorch variants; lr 1e-3 Adam, 1e-2 Adagrad):

- ``adam``: eagerflow ``LazyAdamOptimizer`` over every variable (sparse embedding
  gradients update only the looked-up rows, the MLP gets plain Adam) == torch
  ``Embedding(sparse=True)`` + ``SparseAdam`` for the tables and ``Adam`` for the MLP
  (``sparse_adam``), also compared with torch dense gradients + ``Adam(fused=True)``
  (``dense_adam_fused``, torch's fastest Adam on the GPU).
- ``adagrad``: eagerflow ``AdagradOptimizer`` (sparse rows for the tables) == torch
  ``Embedding(sparse=True)`` + ``Adagrad`` (``sparse_adagrad``); both with initial
  accumulator 0.1 (TF's default) so the math is the same.

Layouts of the eagerflow model (both written with the public API a user has:
``ef.Variable``, ``ef.nn.embedding_lookup``, ``ef.nn.fm_interaction``,
``ef.nn.relu_layer``, ``ef.matmul``,
``ef.nn.sigmoid_cross_entropy_with_logits``, ``ef.GradientTape``, ``ef.train``):

- ``tables``: 26 variables, one ``embedding_lookup`` each (as the torch model does);
- ``fused``: one concatenated 4,886,000 x 16 variable and per-field row offsets added to
  the ids, one ``embedding_lookup`` of the [B, 26] ids (TorchRec's fused tables).

Printed: samples/s, ms/step (median and best of interleaved windows), peak memory, the ratio
eagerflow / torch (samples/s, above 1 = eagerflow faster), a per-phase breakdown of one
eagerflow step (each phase closed by a device synchronize) and the floor: FLOPs (6 B
sum(in*out) over the 4 Linear layers) / measured matmul rate and bytes / measured copy
bandwidth (the anchors' byte count), with measured / floor.

Device-agnostic: ``--backend cupy`` runs eagerflow on the GPU and torch on cuda; all device
work goes through eagerflow's backend API (``backend.xp()``, ``to_device``,
``synchronize``, ``memory_stats``). torch is optional: without it (or with ``--peer
none``) the eagerflow rows are printed alone.

Timing: after warm-up, rounds alternate one window of K steps of every implementation, so
that host noise (other processes on the machine) hits all of them alike; per implementation
the median and the best window are printed. The loss reaches the host only at the end of a
window (no sync inside a step).

Usage:
    PYTHONPATH=. python bench/train_ctr.py [--peer torch|none] [--batch 4096 65536]
        [--steps K] [--rounds R] [--backend numpy|cupy] [--optimizers adam adagrad]
        [--layouts tables fused] [--torch-variants ...] [--estimator] [--threads N]
        [--keep-host-memory] [--json FILE]
"""
import argparse
import json
import os
import statistics
import sys
import time


def _early_threads(argv):
    """``--threads N`` must reach OpenBLAS, numba and OpenMP before they load."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            n = argv[i + 1]
        elif a.startswith("--threads="):
            n = a.split("=", 1)[1]
        else:
            continue
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):
            os.environ[var] = n
        return int(n)
    return None


_THREADS = _early_threads(sys.argv[1:]) if __name__ == "__main__" else None

import numpy as np  # noqa: E402

try:
    import eagerflow  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _torch_peer import load_torch  # noqa: E402 (bench/ is sys.path[0])
import eagerflow as ef  # noqa: E402
from eagerflow import backend  # noqa: E402

VOCABS = [10 ** 6] * 4 + [10 ** 5] * 8 + [10 ** 4] * 8 + [10 ** 3] * 6
DIM = 16
N_DENSE = 13
HIDDEN = (400, 400, 400)
N_BATCHES = 4
LR = {"adam": 1e-3, "adagrad": 1e-2}
BF16 = [False]  # --bf16 (set in main): the torch rows run their forward under autocast
ADAGRAD_INIT = 0.1


# --- data --------------------------------------------------------------------------------
def power_law_ids(rng, vocab, n, alpha=1.05):
    """x ~ p(x) ∝ x^-alpha on [1, vocab] (inverse CDF of the continuous law, floored),
    scattered over the table by a multiplicative hash."""
    u = rng.random(n)
    a1 = 1.0 - alpha
    hi = (vocab + 1.0) ** a1
    x = np.floor((1.0 + u * (hi - 1.0)) ** (1.0 / a1)).astype(np.int64)
    np.clip(x, 1, vocab, out=x)
    return (x * 2654435761) % vocab


def make_batches(batch, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(N_BATCHES):
        ids = np.stack([power_law_ids(rng, v, batch) for v in VOCABS], axis=1)
        dense = rng.standard_normal((batch, N_DENSE), dtype=np.float32)
        labels = (rng.random((batch, 1)) < 0.25).astype(np.float32)
        out.append((np.ascontiguousarray(ids), dense, labels))
    return out


def init_weights(seed=0):
    """Initial weights as NumPy arrays, shared by every implementation."""
    rng = np.random.default_rng(seed)
    tables = [(rng.standard_normal((v, DIM), dtype=np.float32) * np.float32(0.05))
              for v in VOCABS]
    dims = [len(VOCABS) * DIM + N_DENSE] + list(HIDDEN) + [1]
    mlp = []
    for i, o in zip(dims[:-1], dims[1:]):
        bound = 1.0 / np.sqrt(i)  # torch.nn.Linear's default range
        mlp.append((rng.uniform(-bound, bound, (i, o)).astype(np.float32),
                    rng.uniform(-bound, bound, o).astype(np.float32)))
    return tables, mlp


# --- memory --------------------------------------------------------------------------------
def _reset_host_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _host_mem(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak memory over a region: the eagerflow pool's total bytes (max over samples) on
    the GPU, torch's max_memory_allocated for torch on cuda. On the CPU the process's peak
    RSS during the region minus its RSS at the start (the step's working memory above what
    is resident; every implementation's model and optimizer state stay resident, so the
    state is reported separately)."""

    def __init__(self, torch=None, on_gpu=False):
        self.torch, self.on_gpu = torch, on_gpu

    def reset(self):
        self.peak = 0
        if self.on_gpu:
            if self.torch is not None:
                self.torch.cuda.reset_peak_memory_stats()
        else:
            _reset_host_peak()
            self.base = _host_mem("VmRSS") or 0

    def sample(self):
        if self.on_gpu:
            self.peak = max(self.peak, backend.memory_stats().get("total_bytes", 0))

    def result(self, which):
        if not self.on_gpu:
            hwm = _host_mem("VmHWM")
            return None if hwm is None else max(hwm - self.base, 0)
        if which == "torch":
            return self.torch.cuda.max_memory_allocated()
        return self.peak


# --- eagerflow model ---------------------------------------------------------------------
class EfDeepFM:
    """The DeepFM-like model written with eagerflow's public API."""

    def __init__(self, tables, mlp, layout):
        xp = backend.xp()
        self.layout = layout
        if layout == "fused":
            self.tables = [ef.Variable(xp.asarray(np.concatenate(tables)), name="emb")]
            offs = np.concatenate([[0], np.cumsum(VOCABS)[:-1]]).astype(np.int64)
            self.row_offsets = ef.constant(xp.asarray(offs))
        else:
            self.tables = [ef.Variable(xp.asarray(t.copy()), name=f"emb_{i}")
                           for i, t in enumerate(tables)]
        self.layers = [(ef.Variable(xp.asarray(w.copy()), name=f"dense_{i}/kernel"),
                        ef.Variable(xp.asarray(b.copy()), name=f"dense_{i}/bias"))
                       for i, (w, b) in enumerate(mlp)]
        self.variables = self.tables + [v for wb in self.layers for v in wb]

    def embed(self, ids):
        if self.layout == "fused":
            return ef.nn.embedding_lookup(self.tables[0], ids + self.row_offsets)
        cols = [ef.nn.embedding_lookup(t, ids[:, f]) for f, t in enumerate(self.tables)]
        return ef.stack(cols, axis=1)  # [B, 26, 16]

    def head(self, e, dense, labels):
        b = int(e.shape[0])
        fm = ef.nn.fm_interaction(e)  # 0.5 * sum_d((sum_f e)^2 - sum_f e^2), [B, 1]
        net = ef.concat([ef.reshape(e, (b, len(VOCABS) * DIM)), dense], axis=1)
        # --bf16: the MLP in the policy's compute dtype, as ef.layers.Dense computes under
        # mixed_bfloat16 (float32 variables, bfloat16 copies for the GEMMs)
        cd = ef.mixed_precision.global_policy().compute_dtype
        net = ef.cast(net, cd)
        for w, bias in self.layers[:-1]:
            net = ef.nn.relu_layer(net, ef.cast(w, cd), ef.cast(bias, cd))  # relu(net@w+b)
        w, bias = self.layers[-1]
        logits = ef.cast(ef.matmul(net, ef.cast(w, cd)) + ef.cast(bias, cd), "float32") + fm
        return ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                                      logits=logits))


def make_ef_optimizer(name):
    if name == "adam":
        return ef.train.LazyAdamOptimizer(LR["adam"])
    return ef.train.AdagradOptimizer(LR["adagrad"], initial_accumulator_value=ADAGRAD_INIT)


class EfRunner:
    def __init__(self, tables, mlp, batches, layout, opt_name, graph=False):
        from eagerflow.variables import VariableStore
        self.store = VariableStore()
        self.name = f"eagerflow {layout} {opt_name}" + (" +graph" if graph else "")
        # ef.function: on the GPU the whole step replays as one CUDA graph
        self.fn = ef.function(self._step) if graph else self._step
        self.layout, self.opt_name = layout, opt_name
        with self.store.as_default():
            self.model = EfDeepFM(tables, mlp, layout)
            self.opt = make_ef_optimizer(opt_name)
        self.host_batches = batches
        self.prefetch = None
        self.i = 0
        self.loss = None

    def inputs(self, k):
        if self.prefetch is not None:
            return tuple(ef.constant(a) for a in next(self.prefetch))
        ids, dense, labels = self.host_batches[k % len(self.host_batches)]
        return (ef.constant(backend.to_device(ids)), ef.constant(backend.to_device(dense)),
                ef.constant(backend.to_device(labels)))

    def use_prefetch(self):
        """Batches through ``ef.data`` with ``prefetch_to_device``: pinned host memory and
        a side stream on a background thread, so the copy overlaps the previous step."""
        b0 = self.host_batches[0]
        n = len(self.host_batches)

        def gen():
            k = 0
            while True:
                yield self.host_batches[k % n]
                k += 1
        spec = tuple(ef.TensorSpec(a.shape, a.dtype) for a in b0)
        ds = ef.data.Dataset.from_generator(gen, output_signature=spec)
        self.prefetch = iter(ds.apply(ef.data.experimental.prefetch_to_device(buffer_size=2)))

    def _step(self, ids, dense, labels):
        m = self.model
        with self.store.as_default():
            with ef.GradientTape() as tape:
                loss = m.head(m.embed(ids), dense, labels)
            grads = tape.gradient(loss, m.variables)
            self.opt.apply_gradients(zip(grads, m.variables))
        return loss

    def step(self):
        ids, dense, labels = self.inputs(self.i)
        self.i += 1
        self.loss = self.fn(ids, dense, labels)

    def read_loss(self):
        return float(self.loss.numpy())

    def state_bytes(self):
        with self.store.as_default():
            return sum(int(v._data.nbytes) for v in self.model.variables + self.opt.variables())

    def phases(self, repeats):
        """Per-phase wall times of ``repeats`` steps (synchronize after each phase)."""
        sync = backend.synchronize
        rows = []
        m = self.model
        for _ in range(repeats):
            t = [time.perf_counter()]
            ids, dense, labels = self.inputs(self.i)
            self.i += 1
            sync()
            t.append(time.perf_counter())
            with self.store.as_default():
                with ef.GradientTape() as tape:
                    e = m.embed(ids)
                    sync()
                    t.append(time.perf_counter())
                    loss = m.head(e, dense, labels)
                    sync()
                    t.append(time.perf_counter())
                grads = tape.gradient(loss, m.variables)
                sync()
                t.append(time.perf_counter())
                self.opt.apply_gradients(zip(grads, m.variables))
                sync()
                t.append(time.perf_counter())
            rows.append(np.diff(t))
            self.loss = loss
        med = np.median(np.array(rows), axis=0)
        names = ["input copy", "embedding fwd", "FM + MLP fwd + loss", "backward",
                 "optimizer"]
        return dict(zip(names, (float(x) for x in med)))

    def close(self):
        del self.model, self.opt, self.store, self.prefetch


# --- torch model ------------------------------------------------------------------------
TORCH_VARIANTS = {
    "sparse_adam": ("adam", True),
    "dense_adam_fused": ("adam", False),
    "sparse_adagrad": ("adagrad", True),
    "dense_adagrad": ("adagrad", False),
    # the model's forward through torch.compile (inductor); GPU only, opt-in: it compiles
    # for a minute or more
    "compile_dense_adam_fused": ("adam", False),
}


class TorchRunner:
    def __init__(self, torch, tables, mlp, batches, variant, on_gpu, pinned=False):
        nn = torch.nn
        self.torch, self.name = torch, f"torch {variant}"
        self.opt_name, sparse = TORCH_VARIANTS[variant]
        dev = torch.device("cuda" if on_gpu else "cpu")
        self.dev = dev

        class DeepFM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embs = nn.ModuleList()
                for t in tables:
                    e = nn.Embedding(t.shape[0], DIM, sparse=sparse)
                    with torch.no_grad():
                        e.weight.copy_(torch.from_numpy(t))
                    self.embs.append(e)
                layers = []
                for i, (w, b) in enumerate(mlp):
                    lin = nn.Linear(w.shape[0], w.shape[1])
                    with torch.no_grad():
                        lin.weight.copy_(torch.from_numpy(w.T.copy()))
                        lin.bias.copy_(torch.from_numpy(b))
                    layers.append(lin)
                    if i < len(mlp) - 1:
                        layers.append(nn.ReLU())
                self.mlp = nn.Sequential(*layers)

            def forward(self, ids, dense):
                e = torch.stack([emb(ids[:, i]) for i, emb in enumerate(self.embs)], dim=1)
                s = e.sum(dim=1)
                fm = 0.5 * (s * s - (e * e).sum(dim=1)).sum(dim=1, keepdim=True)
                x = torch.cat([e.flatten(1), dense], dim=1)
                return self.mlp(x) + fm

        self.model = DeepFM().to(dev)
        self.forward = torch.compile(self.model) if variant.startswith("compile") \
            else self.model
        emb_params = list(self.model.embs.parameters())
        mlp_params = list(self.model.mlp.parameters())
        optim = torch.optim
        if variant == "sparse_adam":
            self.opts = [optim.SparseAdam(emb_params, lr=LR["adam"]),
                         optim.Adam(mlp_params, lr=LR["adam"])]
        elif variant in ("dense_adam_fused", "compile_dense_adam_fused"):
            self.opts = [optim.Adam(self.model.parameters(), lr=LR["adam"], fused=True)]
        else:
            self.opts = [optim.Adagrad(self.model.parameters(), lr=LR["adagrad"],
                                       initial_accumulator_value=ADAGRAD_INIT)]
        self.batches = [tuple(torch.from_numpy(a) for a in b) for b in batches]
        if pinned and on_gpu:  # a DataLoader's pin_memory=True
            self.batches = [tuple(t.pin_memory() for t in b) for b in self.batches]
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.i = 0
        self.loss = None

    def step(self):
        ids, dense, labels = self.batches[self.i % len(self.batches)]
        self.i += 1
        nb = self.dev.type == "cuda"
        ids, dense, labels = (ids.to(self.dev, non_blocking=nb),
                              dense.to(self.dev, non_blocking=nb),
                              labels.to(self.dev, non_blocking=nb))
        for o in self.opts:
            o.zero_grad(set_to_none=True)
        with self.torch.autocast("cuda", dtype=self.torch.bfloat16, enabled=BF16[0] and nb):
            out = self.forward(ids, dense)
        loss = self.loss_fn(out.float(), labels)
        loss.backward()
        for o in self.opts:
            o.step()
        self.loss = loss

    def read_loss(self):
        return float(self.loss.detach().cpu())

    def state_bytes(self):
        n = sum(p.numel() * p.element_size() for p in self.model.parameters())
        for o in self.opts:
            for st in o.state.values():
                n += sum(t.numel() * t.element_size() for t in st.values()
                         if self.torch.is_tensor(t) and t.dim() > 0)
        return int(n)

    def close(self):
        del self.model, self.opts


# --- ceilings and floor --------------------------------------------------------------------
def measure_ceilings(on_gpu, repeats=7):
    xp = backend.xp()
    sync = backend.synchronize
    n = (1 << 29) // 4 if on_gpu else (1 << 27) // 4  # 512 MiB on the GPU, 128 MiB on the CPU
    src = xp.asarray(np.random.default_rng(0).standard_normal(n, dtype=np.float32))
    dst = xp.empty_like(src)
    xp.copyto(dst, src)
    sync()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        xp.copyto(dst, src)
        sync()
        ts.append(time.perf_counter() - t0)
    copy_bw = 2 * n * 4 / statistics.median(ts)
    del src, dst
    m = 8192 if on_gpu else 2048
    rng = np.random.default_rng(1)
    a = xp.asarray(rng.standard_normal((m, m), dtype=np.float32))
    b = xp.asarray(rng.standard_normal((m, m), dtype=np.float32))
    c = xp.matmul(a, b)
    sync()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        xp.matmul(a, b, out=c)
        sync()
        ts.append(time.perf_counter() - t0)
    rate = 2 * m ** 3 / statistics.median(ts)
    return {"copy_Bps": copy_bw, "matmul_flops": rate, "matmul_n": m}


def floor(batch, unique_rows, opt_name, ceil):
    """The anchors' count (RESULTS.md section 5), for this batch."""
    lookups = batch * len(VOCABS)
    dims = [len(VOCABS) * DIM + N_DENSE] + list(HIDDEN) + [1]
    mlp_params = sum(i * o + o for i, o in zip(dims[:-1], dims[1:]))
    inputs = batch * (len(VOCABS) * 8 + N_DENSE * 4 + 4)
    rows = lookups * DIM * 4  # read once; gradient rows written once
    slots = 7 if opt_name == "adam" else 5  # Adam: g read, p/m/v r+w; Adagrad: g, p/a r+w
    opt = slots * unique_rows * DIM * 4
    mlp_opt = (10 if opt_name == "adam" else 6) * mlp_params * 4
    spec = inputs + 2 * rows + opt + mlp_opt
    acts = 4 * batch * (dims[0] + sum(HIDDEN)) * 4
    flops = 6 * batch * sum(i * o for i, o in zip(dims[:-1], dims[1:]))
    t_bytes = (spec + acts) / ceil["copy_Bps"]
    t_flops = flops / ceil["matmul_flops"]
    return {"bytes_spec": spec, "bytes_with_acts": spec + acts, "flops": flops,
            "t_bytes_s": t_bytes, "t_flops_s": t_flops, "floor_s": max(t_bytes, t_flops)}


# --- timing --------------------------------------------------------------------------------
def sync_all(torch, on_gpu):
    backend.synchronize()
    if torch is not None and on_gpu:
        torch.cuda.synchronize()


def run_batch(batch, args, tables, mlp, torch, on_gpu, ceil):
    batches = make_batches(batch)
    uniq = [int(np.unique(b[0] + np.concatenate([[0], np.cumsum(VOCABS)[:-1]])).shape[0])
            for b in batches]
    case = {"batch": batch, "lookups": batch * len(VOCABS),
            "unique_rows_per_batch": int(np.median(uniq)), "rows": {}}
    steps = args.steps or (20 if batch <= 8192 else 5)
    mem = PeakMemory(torch, on_gpu)

    runners = []
    for layout in args.layouts:
        for opt in args.optimizers:
            for graph in ([False, True] if args.graph else [False]):
                runners.append(EfRunner(tables, mlp, batches, layout, opt, graph))
                if args.input == "prefetch":
                    runners[-1].use_prefetch()
    if torch is not None:
        for v in args.torch_variants:
            if TORCH_VARIANTS[v][0] in args.optimizers:
                runners.append(TorchRunner(torch, tables, mlp, batches, v, on_gpu,
                                           pinned=args.input == "prefetch"))

    # correctness: first-step losses from the same weights and batch must agree
    first_loss = {}
    for r in runners:
        r.step()
        first_loss[r.name] = r.read_loss()
    for r in runners:  # warm-up
        for _ in range(args.warmup):
            r.step()
        sync_all(torch, on_gpu)

    windows = {r.name: [] for r in runners}
    peaks = {r.name: 0 for r in runners}
    for _ in range(args.rounds):
        for r in runners:
            sync_all(torch, on_gpu)
            mem.reset()
            t0 = time.perf_counter()
            for _ in range(steps):
                r.step()
                mem.sample()
            sync_all(torch, on_gpu)
            windows[r.name].append((time.perf_counter() - t0) / steps)
            r.read_loss()
            p = mem.result("torch" if isinstance(r, TorchRunner) else "eagerflow")
            peaks[r.name] = max(peaks[r.name], p or 0)

    for r in runners:
        w = windows[r.name]
        med, best = statistics.median(w), min(w)
        fl = floor(batch, case["unique_rows_per_batch"], r.opt_name, ceil)
        case["rows"][r.name] = {
            "optimizer": r.opt_name, "ms_median": med * 1e3, "ms_best": best * 1e3,
            "ms_worst": max(w) * 1e3, "samples_per_s_median": batch / med,
            "samples_per_s_best": batch / best, "peak_mem_bytes": peaks[r.name],
            "state_bytes": r.state_bytes(),
            "first_loss": first_loss[r.name], "last_loss": r.read_loss(),
            "floor_ms": fl["floor_s"] * 1e3, "measured_over_floor": best / fl["floor_s"]}
    case["floor"] = {o: floor(batch, case["unique_rows_per_batch"], o, ceil)
                     for o in args.optimizers}

    # ratios: each eagerflow row vs the best torch row of the same optimizer family
    for name, row in case["rows"].items():
        if not name.startswith("eagerflow"):
            continue
        peers = {n: r for n, r in case["rows"].items()
                 if n.startswith("torch") and r["optimizer"] == row["optimizer"]}
        if peers:
            pn = max(peers, key=lambda n: peers[n]["samples_per_s_median"])
            row["peer"] = pn
            row["x_torch_median"] = row["samples_per_s_median"] / peers[pn]["samples_per_s_median"]
            row["x_torch_best"] = row["samples_per_s_best"] / peers[pn]["samples_per_s_best"]

    # per-phase breakdown of the first eagerflow runner's step
    ef_runners = [r for r in runners if isinstance(r, EfRunner) and r.fn == r._step]
    case["graph_eager_reasons"] = {r.name: r.fn.eager_reasons for r in runners
                                   if isinstance(r, EfRunner) and r.fn != r._step}
    case["phases"] = {}
    for r in ef_runners:
        case["phases"][r.name] = {k: v * 1e3 for k, v in r.phases(max(3, args.rounds)).items()}

    for r in runners:
        r.close()
    del runners, ef_runners
    if args.estimator:
        case["model_fn"] = model_fn_row(batch, batches, steps, args)
        case["estimator"] = estimator_row(batch, batches, steps, args)
        if args.graph:
            case["model_fn_graph"] = model_fn_row(batch, batches, steps, args, capture=True)
            case["estimator_graph"] = estimator_row(batch, batches, steps, args, capture=True)
            case["model_fn_graph_2"] = model_fn_row(batch, batches, steps, args, capture=True)
    return case


def _deepfm_columns():
    fc = ef.feature_column
    cat = [fc.categorical_column_with_identity(f"C{i}", v) for i, v in enumerate(VOCABS)]
    emb = [fc.embedding_column(c, DIM) for c in cat]
    dense = [fc.numeric_column(f"I{i}") for i in range(N_DENSE)]
    return emb, dense


def _feature_batches(batches):
    """The bare loop's batches as the Estimator's ``(features, labels)``, endlessly."""
    k = 0
    while True:
        ids, dn, lab = batches[k % len(batches)]
        k += 1
        feats = {f"C{i}": ids[:, i:i + 1] for i in range(len(VOCABS))}
        feats.update({f"I{i}": dn[:, i:i + 1] for i in range(N_DENSE)})
        yield feats, lab


def _deepfm_estimator(model_dir, capture):
    emb, dense = _deepfm_columns()
    cfg = ef.estimator.RunConfig(save_checkpoints_steps=None, save_checkpoints_secs=None,
                                 save_summary_steps=None, log_step_count_steps=None,
                                 capture_step=capture)
    return ef.estimator.DeepFMClassifier(emb, hidden_units=HIDDEN, dense_columns=dense,
                                         linear_columns=dense, model_dir=model_dir,
                                         optimizer=lambda: make_ef_optimizer("adam"),
                                         config=cfg)


def estimator_row(batch, batches, steps, args, capture=False):
    """The same model through ``DeepFMClassifier`` (feature columns, the Estimator loop;
    LazyAdam as the bare loop's adam rows; its first-order part on the 13 numeric columns
    only; no checkpoints or summaries): ms per step over ``steps`` steps after the warm-up
    ones. Shows the Estimator's own cost next to the bare loop."""
    import tempfile
    stamps = []
    warm = 4 if capture else 2  # 2 eager steps, then the capture (and its replay)

    class Clock(ef.train.SessionRunHook):
        """Synchronises only after the warm-up steps and at the end, as the bare loop's
        timing does, so the GPU and the host overlap as they do in a real run."""
        done = 0

        def after_run(self, run_context, run_values):
            self.done += 1
            if self.done == warm:
                backend.synchronize()
                stamps.append(time.perf_counter())

        def end(self, session):
            backend.synchronize()
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as d:
        est = _deepfm_estimator(d, capture)
        est.train(lambda: _feature_batches(batches), steps=warm + steps, hooks=[Clock()])
    dt = (stamps[1] - stamps[0]) / steps
    return {"ms": dt * 1e3, "samples_per_s": batch / dt, "steps": steps}


def model_fn_row(batch, batches, steps, args, capture=False):
    """``DeepFMClassifier``'s own ``model_fn`` (the same model, columns and optimizer as
    :func:`estimator_row`) called in a plain loop, its batches through
    ``prefetch_to_device``, the step an ``ef.function`` with ``capture``: what the
    Estimator adds (hooks, input positions, its feeder, the global step's bookkeeping) is
    the difference between the two rows."""
    import tempfile
    from eagerflow.estimator.model_fn import ModeKeys, call_model_fn
    from eagerflow.variables import VariableStore
    feats, lab = next(_feature_batches(batches))
    spec = ({k: ef.TensorSpec(v.shape, v.dtype) for k, v in feats.items()},
            ef.TensorSpec(lab.shape, lab.dtype))
    ds = ef.data.Dataset.from_generator(lambda: _feature_batches(batches),
                                        output_signature=spec)
    it = iter(ds.apply(ef.data.experimental.prefetch_to_device(buffer_size=2)))
    with tempfile.TemporaryDirectory() as d:
        est = _deepfm_estimator(d, capture)
        store = VariableStore()

        def step(features, labels):
            with store.as_default(), ef.GradientTape():
                return call_model_fn(est.model_fn, features, labels, ModeKeys.TRAIN,
                                     est.params, est.config).loss
        fn = ef.function(step) if capture else step
        with store.as_default():
            ef.train.get_or_create_global_step()
        warm = 4 if capture else 2
        for _ in range(warm):
            fn(*next(it))
        backend.synchronize()
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = fn(*next(it))
        float(loss.numpy())
        dt = (time.perf_counter() - t0) / steps
    return {"ms": dt * 1e3, "samples_per_s": batch / dt, "steps": steps}


# --- output --------------------------------------------------------------------------------
def _gib(x):
    return f"{x / 2 ** 30:.2f}" if x else "-"


def print_table(res):
    c = res["ceilings"]
    print(f"DeepFM-like training step, backend={res['backend']} ({res['device']}), "
          f"torch={res['torch'] or 'absent'}; threads: numba {res['numba_threads']}, "
          f"BLAS {res['blas_threads']}, torch {res.get('torch_threads', '-')}; "
          f"keep_host_memory {res['keep_host_memory']}; input {res['input']}; load average "
          f"{res['load_average_start']:.1f} -> {res['load_average_end']:.1f}")
    print(f"ceilings: copy {c['copy_Bps'] / 1e9:.1f} GB/s (read+write), matmul "
          f"{c['matmul_flops'] / 1e9:.0f} GFLOP/s ({c['matmul_n']}^3 fp32"
          f"{', TF32 allowed' if res.get('tf32') else ''})"
          f"{'; MLP in bfloat16 (mixed_bfloat16 / torch.autocast)' if res.get('bf16') else ''}")
    gpu = res["backend"] == "cupy"
    mem_label = "peak GiB (GPU)" if gpu else "step +GiB RSS"
    head = (f"{'batch':>6} {'implementation':<30} {'ms/step med [best]':>20} "
            f"{'samples/s med':>13} {'x torch':>11} {'state GiB':>9} {mem_label:>14} "
            f"{'best/floor':>10} {'loss 1st -> last':>18}")
    print(head)
    print("-" * len(head))
    for case in res["cases"]:
        for name, r in case["rows"].items():
            span = f"{r['ms_median']:.1f} [{r['ms_best']:.1f}]"
            x = (f"{r['x_torch_median']:.2f} [{r['x_torch_best']:.2f}]"
                 if "x_torch_median" in r else "-")
            print(f"{case['batch']:>6} {name:<30} {span:>20} "
                  f"{r['samples_per_s_median']:>13,.0f} {x:>11} {_gib(r['state_bytes']):>9} "
                  f"{_gib(r['peak_mem_bytes']):>14} {r['measured_over_floor']:>10.2f} "
                  f"{r['first_loss']:>8.4f} -> {r['last_loss']:.4f}")
        for key, label in (("model_fn", "DeepFM model_fn loop"),
                           ("estimator", "eagerflow Estimator (DeepFM)"),
                           ("model_fn_graph", "DeepFM model_fn loop +graph"),
                           ("estimator_graph", "Estimator capture_step"),
                           ("model_fn_graph_2", "DeepFM model_fn loop +graph")):
            if key in case:
                e = case[key]
                print(f"{case['batch']:>6} {label:<30} "
                      f"{e['ms']:>20.1f} {e['samples_per_s']:>13,.0f}")
    for case in res["cases"]:
        print(f"\nbatch {case['batch']}: {case['lookups']:,} lookups, "
              f"{case['unique_rows_per_batch']:,} unique rows per batch")
        for o, f in case["floor"].items():
            print(f"  floor ({o}): {f['flops'] / 1e9:.1f} GFLOP -> {f['t_flops_s'] * 1e3:.2f} ms; "
                  f"{f['bytes_with_acts'] / 1e6:.0f} MB (as specified "
                  f"{f['bytes_spec'] / 1e6:.0f} MB + activations) -> {f['t_bytes_s'] * 1e3:.2f} ms; floor "
                  f"{f['floor_s'] * 1e3:.2f} ms")
        for name, why in case.get("graph_eager_reasons", {}).items():
            print(f"  {name}: " + (f"ran eagerly: {why}" if why else "replayed a CUDA graph"
                                   if res["backend"] == "cupy" else "eager (CPU)"))
        for name, ph in case["phases"].items():
            total = sum(ph.values())
            parts = ", ".join(f"{k} {v:.1f}" for k, v in ph.items())
            print(f"  phases of one step, {name} (ms, median, sync after each): {parts}; "
                  f"sum {total:.1f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    p.add_argument("--peer", choices=["torch", "none"], default="torch")
    p.add_argument("--batch", type=int, nargs="+", default=[4096, 65536])
    p.add_argument("--steps", type=int, default=None,
                   help="steps per timed window (default 20 at B<=8192, else 5)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved windows per row")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--optimizers", nargs="+", choices=["adam", "adagrad"],
                   default=["adam", "adagrad"])
    p.add_argument("--layouts", nargs="+", choices=["tables", "fused"],
                   default=["tables", "fused"])
    p.add_argument("--torch-variants", nargs="+", choices=sorted(TORCH_VARIANTS),
                   default=None, help="default: sparse_adam sparse_adagrad on the CPU, the "
                   "four eager ones on the GPU (compile_dense_adam_fused is opt-in)")
    p.add_argument("--estimator", action="store_true",
                   help="add a row through DeepFMClassifier (Estimator)")
    p.add_argument("--keep-host-memory", action="store_true",
                   help="ef.backend.keep_host_memory() first (process-wide: torch too)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every library (BLAS, numba, torch); default: theirs")
    p.add_argument("--input", choices=["copy", "prefetch"], default="copy",
                   help="copy: each step copies its batch from pageable host memory (both "
                   "frameworks); prefetch: eagerflow reads an ef.data pipeline with "
                   "prefetch_to_device, torch copies from pinned memory with non_blocking")
    p.add_argument("--graph", action="store_true",
                   help="add rows whose step is an ef.function (a CUDA graph on the GPU)")
    p.add_argument("--tf32", action="store_true",
                   help="TF32 GEMMs for both (ef.config.set_allow_tf32, torch allow_tf32)")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 MLP for both: ef.mixed_precision 'mixed_bfloat16' (also the "
                   "Estimator rows' layers), torch.autocast(bfloat16) on the GPU")
    p.add_argument("--json", default=None, help="also write the results to this file")
    args = p.parse_args(argv)
    if args.backend:
        ef.set_backend(args.backend)
    if args.tf32:
        ef.config.set_allow_tf32(True)
    if args.bf16:
        ef.mixed_precision.set_global_policy("mixed_bfloat16")
        BF16[0] = True
    kept = backend.keep_host_memory() if args.keep_host_memory else False
    on_gpu = backend.get_backend() == "cupy"
    if args.torch_variants is None:
        args.torch_variants = ([v for v in sorted(TORCH_VARIANTS) if not v.startswith("compile")]
                               if on_gpu else ["sparse_adam", "sparse_adagrad"])
    torch = load_torch(on_gpu) if args.peer == "torch" else None
    import numba
    res = {"backend": backend.get_backend(), "numba_threads": numba.get_num_threads(),
           "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
           "keep_host_memory": kept,
           "load_average_start": os.getloadavg()[0],
           "torch": None if torch is None else torch.__version__, "cases": []}
    res["tf32"] = bool(args.tf32)
    res["bf16"] = bool(args.bf16)
    res["input"] = args.input
    if torch is not None:
        if args.tf32:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        if args.threads:
            torch.set_num_threads(args.threads)
        res["torch_threads"] = torch.get_num_threads()
        res["device"] = (torch.cuda.get_device_name() if on_gpu
                         else f"CPU x{os.cpu_count()}")
    else:
        res["device"] = "GPU" if on_gpu else f"CPU x{os.cpu_count()}"
    res["ceilings"] = measure_ceilings(on_gpu)
    tables, mlp = init_weights()
    for batch in args.batch:
        res["cases"].append(run_batch(batch, args, tables, mlp, torch, on_gpu,
                                      res["ceilings"]))
    res["load_average_end"] = os.getloadavg()[0]
    print_table(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
