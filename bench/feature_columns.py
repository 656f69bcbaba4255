"""Feature-column transform throughput on the full Criteo-shaped column set.

Columns: 13 numeric (log1p normalizer), 13 bucketized, 26 hashed categoricals, 10 crosses,
26 embeddings (dim 16). Rows: the synthetic click log, parsed as a served model parses it
(`make_parse_example_spec`). Two figures per batch size: the id/dense transforms alone
(what the host must do per batch), and `input_layer` + `linear_model` with the embedding
lookups. The GPU figure to beat is the training step's consumption rate (anchors: torch's
DeepFM at 0.41-0.65 M samples/s at B=4096, 4.5 M at B=65536).

Usage: python bench/feature_columns.py [--batch 4096] [--repeats 5] [--json]
"""
import argparse
import json
import statistics
import time

import numpy as np

import eagerflow as ef
import eagerflow.feature_column as fc
from eagerflow import backend
from eagerflow.datasets import synthetic_ctr as ctr
from eagerflow.io import parse_example
from eagerflow.variables import VariableStore


def columns():
    def log1p(x):
        return ef.log1p(ef.maximum(x, 0.0))
    numeric = [fc.numeric_column(k, default_value=0.0, normalizer_fn=log1p)
               for k in ctr.NUMERIC_KEYS]
    buckets = [fc.bucketized_column(fc.numeric_column(k, default_value=0.0),
                                    [0, 1, 2, 4, 8, 16, 64, 256, 1024])
               for k in ctr.NUMERIC_KEYS]
    cats = [fc.categorical_column_with_hash_bucket(k, min(2 * v, 100_000))
            for k, v in zip(ctr.CATEGORICAL_KEYS, ctr.VOCAB_SIZES)]
    crosses = [fc.crossed_column([ctr.CATEGORICAL_KEYS[i], ctr.CATEGORICAL_KEYS[i + 1]], 100_000)
               for i in range(0, 20, 2)]
    embeddings = [fc.embedding_column(c, 16) for c in cats]
    return numeric, buckets, cats, crosses, embeddings


def make_batch(batch, seed=0):
    from eagerflow.datasets import _encode  # noqa: F401  (ensures the encoder is compiled)
    import tempfile
    import os
    d = tempfile.mkdtemp()
    files, _ = ctr.write_tfrecord(os.path.join(d, "b"), batch, seed=seed)
    from eagerflow.data import TFRecordDataset
    records = next(iter(TFRecordDataset(files).batch(batch)))
    return records


def transforms(features, numeric, buckets, cats, crosses):
    cache = fc.FeatureTransformationCache(features)
    outs = [c.get_dense_tensor(cache) for c in numeric]
    outs += [c.get_sparse_tensors(cache).id_tensor for c in buckets + cats + crosses]
    return outs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[4096])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    numeric, buckets, cats, crosses, embeddings = columns()
    spec = fc.make_parse_example_spec(numeric + buckets + cats + crosses + embeddings)
    rows = []
    for batch in args.batch:
        records = make_batch(batch)
        features = parse_example(records, spec)
        store = VariableStore()

        def full():
            with store.as_default():
                a = fc.input_layer(features, numeric + buckets + embeddings)
                b = fc.linear_model(features, cats + crosses)
            backend.synchronize()
            return a, b

        def ids_only():
            transforms(features, numeric, buckets, cats, crosses)
            backend.synchronize()

        def parse_and_ids():
            transforms(parse_example(records, spec), numeric, buckets, cats, crosses)
            backend.synchronize()

        for name, fn in (("transforms (ids + numeric)", ids_only),
                         ("parse_example + transforms", parse_and_ids),
                         ("input_layer + linear_model", full)):
            fn()
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            rows.append({"batch": batch, "case": name, "ms": round(med * 1e3, 2),
                         "rows_per_s": round(batch / med)})
    meta = {"backend": backend.get_backend(), "numpy": np.__version__}
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=1))
        return
    print(f"feature-column throughput, backend={meta['backend']}")
    print(f"{'batch':>7}  {'case':<30}{'ms':>10}{'rows/s':>14}")
    for r in rows:
        print(f"{r['batch']:>7}  {r['case']:<30}{r['ms']:>10.2f}{r['rows_per_s']:>14,}")


if __name__ == "__main__":
    main()
