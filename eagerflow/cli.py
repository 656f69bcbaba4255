"""The ``eagerflow`` command.

``eagerflow quickstart`` is the main job (see :mod:`eagerflow.quickstart`);
``eagerflow train --config FILE`` and ``eagerflow evaluate --config FILE`` train and evaluate
a canned CTR model on your own TFRecord/CSV/Parquet files (the file's keys are in
:mod:`eagerflow.job_config`); ``eagerflow serve`` is the model server;
``eagerflow tape-demo`` trains a small CTR model with the gradient tape alone.

Example:
    ``eagerflow quickstart --rows 20000 --steps 100 --model deepfm --model-dir /tmp/deepfm``
"""
import argparse
import json
import sys
import time

import numpy as np

__all__ = ["main", "quickstart"]


def _auc(labels, scores):
    """Exact ROC AUC by ranking (ties get the average rank)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def quickstart(steps=300, batch_size=512, seed=0, out=sys.stdout):
    """``eagerflow tape-demo``: a 2-layer MLP with a wide part trained on synthetic clicks
    with the gradient tape alone (no Estimator); returns the test AUC."""
    import eagerflow as ef

    rng = np.random.default_rng(seed)
    n_dense, n_cat, vocab, dim = 13, 4, 1000, 8
    n_train, n_test = 40000, 10000
    n = n_train + n_test
    dense = rng.standard_normal((n, n_dense)).astype(np.float32)
    cats = rng.zipf(1.3, size=(n, n_cat)) % vocab
    # a planted ground truth: dense weights, per-id effects and one cross
    w_true = rng.standard_normal(n_dense) * 0.5
    id_effect = rng.standard_normal((n_cat, vocab)) * 0.8
    logit = dense @ w_true + id_effect[np.arange(n_cat), cats].sum(1) \
        + 0.8 * dense[:, 0] * dense[:, 1] - 1.0
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    print(f"eagerflow quickstart: backend={ef.get_backend()}, {n_train} training and "
          f"{n_test} test examples, {n_dense} dense + {n_cat} categorical features", file=out)

    ef.random.set_seed(seed)
    tables = [ef.Variable(ef.random.normal((vocab, dim), stddev=0.05), name=f"emb_{i}")
              for i in range(n_cat)]
    hidden = 64
    w1 = ef.Variable(ef.random.normal((n_dense + n_cat * dim, hidden), stddev=0.1), name="w1")
    b1 = ef.Variable(ef.zeros((hidden,)), name="b1")
    w2 = ef.Variable(ef.random.normal((hidden, 1), stddev=0.1), name="w2")
    wide = ef.Variable(ef.zeros((n_dense, 1)), name="wide")
    b2 = ef.Variable(ef.zeros((1,)), name="b2")
    params = tables + [w1, b1, w2, wide, b2]

    def forward(xd, xc):
        embs = [ef.gather(t, xc[:, i]) for i, t in enumerate(tables)]
        h = ef.concat([xd] + embs, axis=1)
        h = ef.maximum(h @ w1 + b1, 0.0)
        return h @ w2 + xd @ wide + b2

    # Adam, written with eagerflow ops; embedding gradients arrive as IndexedSlices
    lr, b1m, b2m, eps = 0.01, 0.9, 0.999, 1e-7
    m = [ef.zeros(p.shape) for p in params]
    v = [ef.zeros(p.shape) for p in params]
    to_dev = ef.constant
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        idx = rng.integers(0, n_train, batch_size)
        xd, xc, y = to_dev(dense[idx]), to_dev(cats[idx]), to_dev(labels[idx, None])
        with ef.GradientTape() as tape:
            z = forward(xd, xc)
            loss = ef.reduce_mean(ef.maximum(z, 0.0) - z * y + ef.log1p(ef.exp(-ef.abs(z))))
        grads = tape.gradient(loss, params)
        corr = np.sqrt(1 - b2m ** step) / (1 - b1m ** step)
        for i, (p, g) in enumerate(zip(params, grads)):
            if isinstance(g, ef.IndexedSlices):
                g = g.to_dense()
            m[i] = b1m * m[i] + (1 - b1m) * g
            v[i] = b2m * v[i] + (1 - b2m) * g * g
            p.assign_sub(lr * corr * m[i] / (ef.sqrt(v[i]) + eps))
        if step % 50 == 0 or step == steps:
            rate = step * batch_size / (time.perf_counter() - t0)
            print(f"  step {step:4d}/{steps}  loss {float(loss):.4f}  ({rate:,.0f} examples/s)",
                  file=out)
    with ef.no_grad():
        z = forward(to_dev(dense[n_train:]), to_dev(cats[n_train:]))
    scores = z.numpy().ravel()
    auc = _auc(labels[n_train:], scores)
    bayes = _auc(labels[n_train:], logit[n_train:])
    print(f"test AUC {auc:.4f} (the planted model's own AUC: {bayes:.4f})", file=out)
    return auc


def _parser():
    from .ctr_models import MODELS
    parser = argparse.ArgumentParser(prog="eagerflow", description="eagerflow command line")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quickstart", help="synthetic click log -> CTR model through the "
                       "Estimator -> evaluation -> export -> serving, end to end")
    q.add_argument("--rows", "--examples", dest="rows", type=int, default=100_000,
                   help="training examples to generate (a sixth more are held out)")
    q.add_argument("--steps", type=int, default=300, help="training steps")
    q.add_argument("--model", choices=MODELS, default="wide_deep",
                   help="the canned model: Wide & Deep (DNNLinearCombinedClassifier), "
                   "DeepFM or DCN (default: wide_deep)")
    q.add_argument("--model-dir", default=None, help="the model's checkpoint directory; a "
                   "rerun on it resumes and trains --steps more (default: WORKDIR/model)")
    q.add_argument("--batch-size", type=int, default=1024)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--workdir", default=None, help="where data, model and export go "
                   "(default: a new temporary directory)")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    for name, text in (("train", "train a canned CTR model on your files, as a config "
                        "file declares (resumes from its model_dir)"),
                       ("evaluate", "evaluate the config's model on its eval_files; prints "
                        "the metrics as JSON")):
        c = sub.add_parser(name, help=text, description=text + ". Config keys: see "
                           "`python -m pydoc eagerflow.job_config`.")
        c.add_argument("--config", required=True, help="a .json (or .yaml) config file")
        if name == "train":
            c.add_argument("--no-progress", action="store_true", help="no progress bar")
        else:
            c.add_argument("--checkpoint", default=None,
                           help="a checkpoint prefix (default: the newest in model_dir)")
    sub.add_parser("serve", help="the TensorFlow-Serving-compatible model server "
                   "(tensorflow_model_server's flags; see `eagerflow serve --help`)",
                   add_help=False)
    t = sub.add_parser("tape-demo", help="train a small CTR model with the gradient tape alone")
    t.add_argument("--steps", type=int, default=300)
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--seed", type=int, default=0)
    return parser, sub


def _run_config_command(args, sub_parser):
    """``train``/``evaluate``: a bad config is a usage error (exit status 2, the message
    naming the bad key), as argparse reports a bad flag."""
    from . import job, job_config
    try:
        cfg = job_config.load(args.config)
        if args.command == "train":
            res = job.train(cfg, progress=not args.no_progress)
            print(f"trained {cfg['model']} to global step {res['global_step']} in "
                  f"{res['seconds']:.1f}s; checkpoint {res['checkpoint']}")
        else:
            print(json.dumps(job.evaluate(cfg, args.checkpoint), indent=1, sort_keys=True))
    except job_config.ConfigError as e:
        sub_parser.error(str(e))


def main(argv=None):
    parser, sub = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from .serving.cli import main as serve_main
        return serve_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command in ("train", "evaluate"):
        _run_config_command(args, sub.choices[args.command])
        return 0
    if args.steps <= 0 or args.batch_size <= 0:
        parser.error("--steps and --batch-size must be positive")
    if args.command == "quickstart":
        if args.rows < args.batch_size:
            parser.error("--rows (--examples) must be at least --batch-size")
        from .quickstart import run
        run(args.rows, args.steps, args.batch_size, args.seed, args.workdir,
            progress=not args.no_progress, model=args.model, model_dir=args.model_dir)
    else:
        quickstart(args.steps, args.batch_size, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
