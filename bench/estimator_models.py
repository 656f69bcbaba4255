"""Wide&Deep, DeepFM and DCN trained through the Estimator, next to the same models in
PyTorch eager, in one process on the same data (issue 8's benchmark).

Data: ``train_ctr.py``'s DeepFM-like workload (13 dense + 26 categorical features,
vocabularies [1e6]*4 + [1e5]*8 + [1e4]*8 + [1e3]*6, dim 16, Zipf-skewed ids, labels
Bernoulli(0.25), 4 pre-made batches rotated). Models, the canned estimators with feature
columns (``categorical_column_with_identity`` + ``embedding_column``, ``numeric_column``)
and the same architecture written in torch:

- ``wide_deep``: ``DNNLinearCombinedClassifier``: a linear part over the 26 categorical and
  13 numeric columns (a 1-wide weight per id, summed) plus a ReLU DNN 400-400-400 over the
  16-d embeddings and the numerics;
- ``deepfm``: ``DeepFMClassifier``: linear part on the numerics + FM term + DNN 400-400-400;
- ``dcn``: ``DCNClassifier``: 3 DCN-V2 cross layers (full 429x429 kernels) and a parallel
  DNN 400-400 on the same 429-d input, concatenated into the logit.

Every part trains with Adam at 1e-3: eagerflow's LazyAdam (sparse rows of the tables) and
torch's fastest eager Adam (``../shared/anchors/RESULTS.md``): ``Adam(fused=True)`` on dense
gradients on the GPU, ``Embedding(sparse=True)`` + ``SparseAdam`` on the CPU. Estimator rows: no checkpoints, summaries or logging;
``+capture`` = ``RunConfig(capture_step=True)`` (the step replayed as a CUDA graph). Timing:
``rounds`` windows of ``steps`` steps after warm-up, a device synchronize at each window's
end only; the median window is printed.

Usage:
    PYTHONPATH=. python bench/estimator_models.py [--backend cupy] [--batch 4096 65536]
        [--models wide_deep deepfm dcn] [--steps K] [--rounds R] [--peer torch|none]
"""
import argparse
import statistics
import tempfile
import time

from train_ctr import (DIM, HIDDEN, N_DENSE, VOCABS, _feature_batches, backend, ef,  # noqa: I001
                       load_torch, make_batches, make_ef_optimizer)

MODELS = ("wide_deep", "deepfm", "dcn")
DCN_HIDDEN = (400, 400)
CROSS_LAYERS = 3
LR = 1e-3


# --- eagerflow: the canned estimators -------------------------------------------------------
def _columns():
    fc = ef.feature_column
    cat = [fc.categorical_column_with_identity(f"C{i}", v) for i, v in enumerate(VOCABS)]
    emb = [fc.embedding_column(c, DIM) for c in cat]
    num = [fc.numeric_column(f"I{i}") for i in range(N_DENSE)]
    return cat, emb, num


def make_estimator(model, model_dir, capture):
    cat, emb, num = _columns()
    cfg = ef.estimator.RunConfig(save_checkpoints_steps=None, save_checkpoints_secs=None,
                                 save_summary_steps=None, log_step_count_steps=None,
                                 capture_step=capture)
    adam = lambda: make_ef_optimizer("adam")  # noqa: E731 - one fresh optimizer per part
    est = ef.estimator
    if model == "wide_deep":
        return est.DNNLinearCombinedClassifier(
            model_dir=model_dir, linear_feature_columns=cat + num, linear_optimizer=adam,
            dnn_feature_columns=emb + num, dnn_optimizer=adam, dnn_hidden_units=HIDDEN,
            config=cfg)
    if model == "deepfm":
        return est.DeepFMClassifier(emb, hidden_units=HIDDEN, dense_columns=num,
                                    linear_columns=num, model_dir=model_dir, optimizer=adam,
                                    config=cfg)
    return est.DCNClassifier(emb + num, num_cross_layers=CROSS_LAYERS, hidden_units=DCN_HIDDEN,
                             model_dir=model_dir, optimizer=adam, config=cfg)


def estimator_ms(model, batches, steps, rounds, capture):
    """Median ms/step of ``rounds`` windows of the Estimator's own training loop."""
    stamps = []
    warm = 4 if capture else 2  # 2 eager steps, then the capture and its first replay

    class Clock(ef.train.SessionRunHook):
        done = 0

        def after_run(self, run_context, run_values):
            self.done += 1
            if self.done >= warm and (self.done - warm) % steps == 0:
                backend.synchronize()
                stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as d:
        est = make_estimator(model, d, capture)
        est.train(lambda: _feature_batches(batches), steps=warm + steps * rounds,
                  hooks=[Clock()])
    return statistics.median((b - a) / steps * 1e3 for a, b in zip(stamps, stamps[1:]))


# --- torch: the same architectures ----------------------------------------------------------
def torch_model(torch, model, sparse):
    nn = torch.nn
    d_in = len(VOCABS) * DIM + N_DENSE

    def mlp(units):
        layers, d = [], d_in
        for u in units:
            layers += [nn.Linear(d, u), nn.ReLU()]
            d = u
        return nn.Sequential(*layers), d

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embs = nn.ModuleList(nn.Embedding(v, DIM, sparse=sparse) for v in VOCABS)
            for e in self.embs:
                nn.init.normal_(e.weight, std=0.05)
            units = DCN_HIDDEN if model == "dcn" else HIDDEN
            self.dnn, d = mlp(units)
            if model == "wide_deep":
                self.wide = nn.ModuleList(nn.Embedding(v, 1, sparse=sparse) for v in VOCABS)
                for w in self.wide:
                    nn.init.zeros_(w.weight)
            if model in ("wide_deep", "deepfm"):
                self.linear = nn.Linear(N_DENSE, 1)
            if model == "dcn":
                self.cross = nn.ModuleList(nn.Linear(d_in, d_in) for _ in range(CROSS_LAYERS))
                d += d_in
            self.out = nn.Linear(d, 1)

        def forward(self, ids, dense):
            e = torch.stack([emb(ids[:, i]) for i, emb in enumerate(self.embs)], dim=1)
            x0 = torch.cat([e.flatten(1), dense], dim=1)
            if model == "dcn":
                x = x0
                for layer in self.cross:
                    x = x0 * layer(x) + x
                return self.out(torch.cat([x, self.dnn(x0)], dim=1))
            logits = self.out(self.dnn(x0)) + self.linear(dense)
            if model == "wide_deep":
                return logits + sum(w(ids[:, i]) for i, w in enumerate(self.wide))
            s = e.sum(dim=1)
            return logits + 0.5 * (s * s - (e * e).sum(dim=1)).sum(dim=1, keepdim=True)

    return Net()


def torch_ms(torch, model, batches, steps, rounds, on_gpu):
    dev = torch.device("cuda" if on_gpu else "cpu")
    sparse = not on_gpu  # torch's fastest Adam: dense + fused on the GPU, SparseAdam on the CPU
    net = torch_model(torch, model, sparse).to(dev)
    tables = [p for n, p in net.named_parameters() if n.startswith(("embs.", "wide."))]
    rest = [p for n, p in net.named_parameters() if not n.startswith(("embs.", "wide."))]
    opts = [torch.optim.Adam(net.parameters(), lr=LR, fused=True)] if on_gpu else \
        [torch.optim.SparseAdam(tables, lr=LR), torch.optim.Adam(rest, lr=LR)]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    data = [tuple(torch.from_numpy(a) for a in b) for b in batches]
    if on_gpu:  # a DataLoader's pin_memory=True
        data = [tuple(t.pin_memory() for t in b) for b in data]

    def step(i):
        ids, dense, labels = (t.to(dev, non_blocking=on_gpu) for t in data[i % len(data)])
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss = loss_fn(net(ids, dense), labels)
        loss.backward()
        for o in opts:
            o.step()

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    for i in range(2):
        step(i)
    sync()
    times = []
    for r in range(rounds):
        t0 = time.perf_counter()
        for i in range(steps):
            step(i)
        sync()
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return statistics.median(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    p.add_argument("--batch", type=int, nargs="+", default=[4096, 65536])
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--steps", type=int, default=None,
                   help="steps per window (default 20 at B<=8192, else 10)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--peer", choices=["torch", "none"], default="torch")
    p.add_argument("--no-capture", action="store_true", help="skip the capture_step rows")
    args = p.parse_args(argv)
    if args.backend:
        ef.set_backend(args.backend)
    on_gpu = backend.get_backend() == "cupy"
    torch = load_torch(on_gpu) if args.peer == "torch" else None
    print(f"Estimator training, backend={backend.get_backend()}, torch="
          f"{torch.__version__ if torch else 'absent'}; Adam 1e-3 everywhere (eagerflow "
          f"LazyAdam; torch {'Adam(fused), dense' if on_gpu else 'SparseAdam + Adam'}); median of {args.rounds} windows")
    head = (f"{'batch':>6} {'model':<10} {'Estimator ms':>12} {'+capture ms':>12} "
            f"{'torch ms':>9} {'ef samples/s':>13} {'torch samples/s':>15} {'x torch':>8}")
    print(head)
    print("-" * len(head))
    for batch in args.batch:
        steps = args.steps or (20 if batch <= 8192 else 10)
        batches = make_batches(batch)
        for model in args.models:
            eager = estimator_ms(model, batches, steps, args.rounds, capture=False)
            cap = None if args.no_capture or not on_gpu else \
                estimator_ms(model, batches, steps, args.rounds, capture=True)
            tms = torch_ms(torch, model, batches, steps, args.rounds, on_gpu) \
                if torch is not None else None
            best = min(eager, cap) if cap is not None else eager
            print(f"{batch:>6} {model:<10} {eager:>12.1f} "
                  f"{(f'{cap:.1f}' if cap is not None else '-'):>12} "
                  f"{(f'{tms:.1f}' if tms else '-'):>9} {batch / best * 1e3:>13,.0f} "
                  f"{(f'{batch / tms * 1e3:,.0f}' if tms else '-'):>15} "
                  f"{(f'{tms / best:.2f}' if tms else '-'):>8}", flush=True)


if __name__ == "__main__":
    main()
