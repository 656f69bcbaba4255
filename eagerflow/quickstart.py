"""The main job: synthetic click log -> TFRecord -> feature columns -> Wide & Deep through
the Estimator -> evaluation (AUC, log loss) -> predictions.

Run it with ``eagerflow quickstart``. It uses the GPU when there is one.
"""
import logging
import os
import sys
import tempfile
import time

import numpy as np

__all__ = ["run", "feature_columns", "column_set", "input_fn", "split_label"]


def column_set(num_numeric=13, num_categorical=26, embedding_dim=8, max_buckets=10_000):
    """The synthetic click log's columns by role (:class:`~eagerflow.ctr_models.ColumnSet`):
    log-scaled numerics, hashed categoricals (embedded for the deep part, one-hot plus three
    crosses for the wide part: the pairs whose interaction the log's generator plants)."""
    from eagerflow import feature_column as fc
    from eagerflow.ctr_models import ColumnSet
    from eagerflow.datasets import synthetic_ctr as ctr

    numeric = [fc.numeric_column(k, default_value=0.0, normalizer_fn=scaled_log1p)
               for k in ctr.NUMERIC_KEYS[:num_numeric]]
    cats = [fc.categorical_column_with_hash_bucket(k, min(max_buckets, 2 * v))
            for k, v in zip(ctr.CATEGORICAL_KEYS[:num_categorical], ctr.VOCAB_SIZES)]
    crosses = [fc.crossed_column([ctr.CATEGORICAL_KEYS[a], ctr.CATEGORICAL_KEYS[b]], 10_000)
               for a, b in ((0, 1), (2, 5), (3, 4)) if b < num_categorical]
    return ColumnSet(numeric, cats, [embedding_dim] * len(cats), crosses)


def log1p(x):
    """``log(1 + max(x, 0))``: a normalizer for counts (they span decades)."""
    import eagerflow as ef
    return ef.log1p(ef.maximum(x, 0.0))


def scaled_log1p(x):
    """``log(1 + max(x, 0)) / 4``: the quickstart's numeric normalizer. The log-counts reach
    ~12; a quarter of them is about unit scale, which DNN inputs want and DCN's cross layers
    need: each layer multiplies by the input, so three make a degree-4 polynomial of it, and
    with raw log-counts DCN trains stably only at learning rates too small to learn the log
    in three epochs (held-out AUC 0.72 instead of 0.79 on a 20,000-row log)."""
    import eagerflow as ef
    return ef.log1p(ef.maximum(x, 0.0)) * 0.25


def feature_columns(num_numeric=13, num_categorical=26, embedding_dim=8, max_buckets=10_000):
    """Wide & Deep columns for the synthetic click log, as ``(wide, deep)``."""
    cols = column_set(num_numeric, num_categorical, embedding_dim, max_buckets)
    return cols.wide, cols.deep


def input_fn(files, batch_size, columns, epochs=None, shuffle=False, seed=0,
             label_key=None, label_dtype="int64", shuffle_buffer=None):
    """A ``tf.data`` pipeline: TFRecord -> batch -> parse_example (the columns' spec, as a
    served model parses) -> (features, label).

    Args:
        files: TFRecord files of ``tf.train.Example``.
        batch_size: examples per batch.
        columns: the feature columns to parse for.
        epochs: passes over the files (None: forever).
        shuffle: shuffle records with a ``shuffle_buffer`` buffer.
        seed: the shuffle's seed.
        label_key: the label's feature name (default: the synthetic log's ``label``).
        label_dtype: how the label is stored, ``'int64'`` or ``'float32'``.
        shuffle_buffer: records in the shuffle buffer (default ``10 * batch_size``).

    Example:
        >>> from eagerflow import feature_column as fc
        >>> fn = input_fn(["clicks.tfrecord"], 512, [fc.numeric_column("I1")], epochs=1)
        >>> callable(fn)
        True
    """
    from eagerflow import data
    from eagerflow import feature_column as fc
    from eagerflow.datasets import synthetic_ctr as ctr
    from eagerflow.io import FixedLenFeature, parse_example
    label_key = label_key or ctr.LABEL_KEY
    spec = fc.make_parse_example_spec(columns)
    spec[label_key] = FixedLenFeature([], label_dtype)

    def parse(serialized):
        return parse_example(serialized, spec)

    def fn():
        ds = data.TFRecordDataset(files)
        if shuffle:
            ds = ds.shuffle(shuffle_buffer or 10 * batch_size, seed=seed)
        ds = ds.repeat(epochs).batch(batch_size)
        return ds.map(split_label(label_key, parse), num_parallel_calls=2).prefetch(2)
    return fn


def split_label(label_key, parse=None):
    """A map function ``batch -> (features, label)``: ``parse`` (if given) turns the batch
    into a feature dict, whose ``label_key`` entry becomes a float32 ``(batch, 1)`` label."""
    def split(batch):
        feats = dict(parse(batch) if parse is not None else batch)
        label = np.asarray(feats.pop(label_key)).astype(np.float32).reshape(-1, 1)
        return feats, label
    return split


def _held_out_bayes_auc(total, n_eval, seed):
    from eagerflow.datasets import synthetic_ctr as ctr
    cols = ctr.generate(total, seed=seed, with_probabilities=True)
    y, p = cols[ctr.LABEL_KEY][-n_eval:], cols["_prob"][-n_eval:]
    return ctr.auc(y, p)


_MODEL_NAMES = {"wide_deep": "Wide & Deep", "deepfm": "DeepFM", "dcn": "DCN"}


def run(num_examples=100_000, steps=300, batch_size=1024, seed=0, workdir=None, out=None,
        progress=True, model="wide_deep", model_dir=None):
    """Runs the walk-through; returns the evaluation metrics dict.

    Args:
        num_examples: training rows to generate (a sixth more are held out).
        steps: training steps added to the model (a rerun on ``model_dir`` adds more).
        batch_size: examples per step.
        seed: the data's and the model's seed.
        workdir: where the data, the model and the export go (default: a new temporary
            directory).
        out: where the report goes (default: stdout).
        progress: show the training progress bar.
        model: ``'wide_deep'``, ``'deepfm'`` or ``'dcn'`` (:mod:`eagerflow.ctr_models`).
        model_dir: the model's checkpoint directory (default: ``<workdir>/model``).

    Example (the command line's form):
        ``eagerflow quickstart --rows 20000 --steps 50 --model dcn --model-dir /tmp/dcn``
    """
    import eagerflow as ef
    from eagerflow import estimator as est
    from eagerflow.ctr_models import MODELS, build_estimator
    from eagerflow import feature_column as fc
    from eagerflow import saved_model
    from eagerflow.datasets import synthetic_ctr as ctr

    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    out = out or sys.stdout
    logging.getLogger("eagerflow").setLevel(logging.WARNING)
    workdir = workdir or tempfile.mkdtemp(prefix="eagerflow-quickstart-")
    os.makedirs(workdir, exist_ok=True)
    say = lambda msg: print(msg, file=out, flush=True)  # noqa: E731
    say(f"eagerflow quickstart — backend: {ef.get_backend()}, working directory: {workdir}")

    t0 = time.perf_counter()
    # one click log (one planted model), dealt into 6 contiguous shards: 5 train, 1 held out
    total = num_examples * 6 // 5
    files, _ = ctr.write_tfrecord(os.path.join(workdir, "clicks"), total, seed=seed,
                                  num_shards=6)
    train_files, eval_files = files[:5], files[5:]
    n_eval = total - num_examples
    bayes = _held_out_bayes_auc(total, n_eval, seed)
    say(f"1. wrote {num_examples:,} training and {n_eval:,} evaluation tf.train.Examples "
        f"(13 numeric + 26 categorical features) as TFRecord in {time.perf_counter() - t0:.1f}s;"
        f" the planted model's AUC on the evaluation set is {bayes:.4f}")

    cols = column_set()
    config = est.RunConfig(model_dir=model_dir or os.path.join(workdir, "model"),
                           tf_random_seed=seed, save_checkpoints_steps=max(steps // 2, 1),
                           log_step_count_steps=100)
    estimator = build_estimator(model, cols, hidden_units=[128, 64], config=config)
    t0 = time.perf_counter()
    hooks = [est.ProgressBarHook(total_steps=steps, desc=f"2. training {_MODEL_NAMES[model]}",
                                 disable=None if progress else True, batch_size=batch_size)]
    estimator.train(input_fn(train_files, batch_size, cols.all, shuffle=True, seed=seed),
                    steps=steps, hooks=hooks)
    dt = time.perf_counter() - t0
    say(f"2. trained {steps} steps of batch {batch_size} in {dt:.1f}s "
        f"({steps * batch_size / dt:,.0f} examples/s); checkpoint {estimator.latest_checkpoint()}")

    t0 = time.perf_counter()
    res = estimator.evaluate(input_fn(eval_files, batch_size, cols.all, epochs=1))
    say(f"3. evaluation on {n_eval:,} held-out examples: AUC {res['auc']:.4f} (planted model "
        f"{bayes:.4f}), log loss {res['average_loss']:.4f}, accuracy {res['accuracy']:.4f} "
        f"({time.perf_counter() - t0:.1f}s)")

    preds = estimator.predict(input_fn(eval_files, 4, cols.all, epochs=1))
    rows = [next(preds) for _ in range(3)]
    say("4. predicted click probabilities for the first evaluation examples: " +
        ", ".join(f"{float(r['logistic'][0]):.3f}" for r in rows))

    t0 = time.perf_counter()
    spec = fc.make_parse_example_spec(cols.all)
    export = estimator.export_saved_model(os.path.join(workdir, "export"),
                                          est.build_parsing_serving_input_receiver_fn(spec)
                                          ).decode()
    signatures = ", ".join(sorted(saved_model.load(export).signatures))
    say(f"5. exported a SavedModel to {export} (signatures: {signatures}) in "
        f"{time.perf_counter() - t0:.1f}s")
    res["bayes_auc"] = bayes
    res["export_dir"] = export

    answer = serve_and_predict(os.path.dirname(export), eval_files, say)
    res["served_predictions"] = answer
    return res


def serve_and_predict(export_base, files, say, name="ctr", count=3):
    """Starts the TF-Serving-compatible server on 127.0.0.1, POSTs serialized Examples to the
    REST predict API as a TF Serving client would, prints and returns the answer."""
    import base64
    import json
    import urllib.request

    from eagerflow.data import TFRecordDataset
    from eagerflow.serving import ModelServer
    records = [bytes(np.asarray(r).item()) for r in TFRecordDataset(files).take(count)]
    # the predict signature: every output (serving_default is the classify view, as TF's)
    body = json.dumps({"signature_name": "predict",
                       "instances": [{"b64": base64.b64encode(r).decode()}
                                     for r in records]}).encode()
    t0 = time.perf_counter()
    with ModelServer.for_model(name, export_base) as srv:
        url = f"http://127.0.0.1:{srv.rest_port}/v1/models/{name}:predict"
        req = urllib.request.Request(url, data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
    probs = [p["logistic"][0] for p in answer["predictions"]]
    say(f"6. served the export with the TensorFlow-Serving-compatible server and POSTed "
        f"{count} serialized tf.Examples to {url}: click probabilities "
        + ", ".join(f"{p:.3f}" for p in probs) + f" ({time.perf_counter() - t0:.1f}s; "
        "the server has stopped)")
    return answer
