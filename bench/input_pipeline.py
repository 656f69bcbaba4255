"""Input-pipeline benchmark: read + parse a TFRecord file of synthetic CTR Examples.

Pipeline (both sides): TFRecordDataset -> batch(B) -> map(parse_example, num_parallel_calls=T)
-> prefetch, over N Examples (1 int64 label + 13 float + 26 bytes features), warm page
cache. With ``--tf-python`` (a venv with tensorflow-cpu; not a project dependency) the same
pipeline runs under tf.data in a subprocess on the same file. Rounds alternate one pass of
each eagerflow and tf.data pipeline, so a busy neighbour slows both alike; the table gives
the best and the median over rounds.

    python bench/input_pipeline.py --records 1000000 --tf-python /tmp/tfvenv/bin/python
    python bench/input_pipeline.py --json

Never collected by pytest (no test_ prefix).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

TF_SCRIPT = r"""
import json, sys, time
import tensorflow as tf
path, batch, threads, passes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
spec = {"label": tf.io.FixedLenFeature([], tf.int64)}
spec.update({"I%d" % i: tf.io.FixedLenFeature([], tf.float32, default_value=0.0) for i in range(1, 14)})
spec.update({"C%d" % i: tf.io.FixedLenFeature([], tf.string, default_value="") for i in range(1, 27)})
def run(parse, numpy):
    ds = tf.data.TFRecordDataset(path).batch(batch)
    if parse:
        ds = ds.map(lambda s: tf.io.parse_example(s, spec), num_parallel_calls=threads)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    times = []
    for _ in range(passes):
        n = 0
        t = time.perf_counter()
        for b in ds:
            if parse:
                n += int(b["label"].shape[0])
                if numpy:
                    {k: v.numpy() for k, v in b.items()}
            else:
                n += int(b.shape[0])
        times.append(time.perf_counter() - t)
    return n, times
out = {"version": tf.__version__}
for name, parse, numpy in (("raw", False, False), ("parse", True, False), ("parse_numpy", True, True)):
    n, times = run(parse, numpy)
    out[name] = {"records": n, "times": times}
print("JSON" + json.dumps(out))
"""


def ours(path, batch, threads, passes, parse=True):
    from eagerflow.data import AUTOTUNE, TFRecordDataset
    from eagerflow.datasets import synthetic_ctr
    from eagerflow.io import parse_example
    spec = synthetic_ctr.feature_spec()
    ds = TFRecordDataset(path).batch(batch)
    if parse:
        ds = ds.map(lambda s: parse_example(s, spec), num_parallel_calls=threads)
    ds = ds.prefetch(AUTOTUNE)
    times, n = [], 0
    for _ in range(passes):
        n = 0
        t = time.perf_counter()
        for b in ds:
            n += len(b["label"]) if parse else len(b)
        times.append(time.perf_counter() - t)
    return n, times


def tf_pass(tf_python, path, batch, threads):
    """One pass of each tf.data pipeline in a TensorFlow subprocess (timed inside it)."""
    proc = subprocess.run([tf_python, "-c", TF_SCRIPT, path, str(batch), str(threads), "1"],
                          capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                               "CUDA_VISIBLE_DEVICES": ""})
    line = [l for l in proc.stdout.splitlines() if l.startswith("JSON")]
    if not line:
        print(proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit("the TensorFlow side failed")
    return json.loads(line[0][4:])


def parse_only(path, batch, reps=5):
    from eagerflow.data import TFRecordDataset
    from eagerflow.datasets import synthetic_ctr
    from eagerflow.io import parse_example
    spec = synthetic_ctr.feature_spec()
    b = next(iter(TFRecordDataset(path).batch(batch)))
    parse_example(b, spec)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        parse_example(b, spec)
        times.append(time.perf_counter() - t)
    return len(b), times


def row(name, n, times, cond):
    best, med = min(times), statistics.median(times)
    return {"name": name, "records": n, "best_s": best, "median_s": med,
            "records_per_s_best": n / best, "records_per_s_median": n / med, "conditions": cond}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=3, help="rounds (one pass of each pipeline)")
    ap.add_argument("--file", default="/tmp/eagerflow_bench/ctr_{n}.tfrecord")
    ap.add_argument("--tf-python", default=None, help="python of a venv with tensorflow-cpu")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from eagerflow.datasets import synthetic_ctr
    path = args.file.format(n=args.records)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        t = time.perf_counter()
        synthetic_ctr.write_tfrecord(path, args.records, seed=0)
        print(f"wrote {path} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    size = os.path.getsize(path)
    cond = (f"{args.records} records, {size / args.records:.0f} B/record, batch {args.batch}, "
            f"{args.threads} threads, {os.cpu_count()} cores, warm cache")
    # Rounds alternate the two frameworks (one pass of each pipeline per round), so that a
    # noisy neighbour slows both sides alike; best and median are over rounds.
    ours_raw, ours_parse, tf = [], [], None
    n_raw = n_parse = 0
    for _ in range(args.passes):
        n_raw, t = ours(path, args.batch, args.threads, 1, parse=False)
        ours_raw += t
        n_parse, t = ours(path, args.batch, args.threads, 1)
        ours_parse += t
        if args.tf_python:
            one = tf_pass(args.tf_python, path, args.batch, args.threads)
            if tf is None:
                tf = one
            else:
                for key in ("raw", "parse", "parse_numpy"):
                    tf[key]["times"] += one[key]["times"]
    rows = [row("eagerflow raw records (batch+prefetch)", n_raw, ours_raw, cond),
            row("eagerflow read+parse_example", n_parse, ours_parse, cond)]
    n, times = parse_only(path, args.batch)
    rows.append(row("eagerflow parse_example only (1 thread)", n, times, f"one batch of {n}"))
    if tf is not None:
        for key, name in (("raw", "tf.data raw records"), ("parse", "tf.data read+parse_example"),
                          ("parse_numpy", "tf.data read+parse_example+.numpy()")):
            rows.append(row(f"{name} (TF {tf['version']})", tf[key]["records"], tf[key]["times"],
                            cond))
    result = {"rows": rows}
    if tf is not None:
        ours_rate = rows[1]["records_per_s_best"]
        result["ratio_vs_tf_parse_best"] = ours_rate / rows[4]["records_per_s_best"]
        result["ratio_vs_tf_parse_numpy_best"] = ours_rate / rows[5]["records_per_s_best"]
        result["ratio_vs_tf_parse_median"] = (rows[1]["records_per_s_median"]
                                              / rows[4]["records_per_s_median"])
    if args.json:
        print(json.dumps(result, indent=1))
        return result
    print(f"{'pipeline':58s} {'best rec/s':>12s} {'median rec/s':>13s}")
    for r in rows:
        print(f"{r['name']:58s} {r['records_per_s_best']:12,.0f} {r['records_per_s_median']:13,.0f}")
    print(f"conditions: {cond}")
    if tf is not None:
        print(f"ratio eagerflow / tf.data (parse): best {result['ratio_vs_tf_parse_best']:.2f}x, "
              f"median {result['ratio_vs_tf_parse_median']:.2f}x; vs tf.data + .numpy() "
              f"(best): {result['ratio_vs_tf_parse_numpy_best']:.2f}x")
    return result


if __name__ == "__main__":
    main()
