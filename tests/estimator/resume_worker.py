"""A training run for the kill-and-resume test: ``python resume_worker.py MODEL_DIR MAX_STEPS
SLEEP_S``. Wide & Deep (Ftrl + Adagrad slots, dropout) on a shuffled in-memory click log;
every call resumes from the newest checkpoint of MODEL_DIR. ``SLEEP_S`` slows each step so
the test's SIGKILL lands mid-run."""
import sys
import time

import numpy as np

import eagerflow as ef
from eagerflow import estimator as est
from eagerflow import feature_column as fc
from eagerflow.data import Dataset


def input_fn():
    rng = np.random.default_rng(3)  # the data itself is fixed; the shuffle is seeded
    n = 400
    x = rng.standard_normal((n, 2)).astype(np.float32)
    cat = np.array([b"c%d" % i for i in rng.integers(0, 20, n)], dtype=object)
    y = (x[:, :1] + (rng.random((n, 1)) < 0.3) > 0.5).astype(np.float32)
    ds = Dataset.from_tensor_slices(({"x": x, "cat": cat}, y))
    return ds.shuffle(64).repeat().batch(16).map(lambda f, l: (f, l)).prefetch(2)


class SlowDown(ef.train.SessionRunHook):
    def __init__(self, seconds):
        self.seconds = seconds

    def after_run(self, run_context, run_values):
        time.sleep(self.seconds)


def main(model_dir, max_steps, sleep_s):
    cat = fc.categorical_column_with_hash_bucket("cat", 16)
    x = fc.numeric_column("x", shape=(2,))
    config = est.RunConfig(model_dir=model_dir, tf_random_seed=11, save_checkpoints_steps=4,
                           keep_checkpoint_max=3, log_step_count_steps=None,
                           save_summary_steps=None)
    model = est.DNNLinearCombinedClassifier(
        linear_feature_columns=[x, cat], dnn_feature_columns=[x, fc.embedding_column(cat, 3)],
        dnn_hidden_units=[8], dnn_dropout=0.2, config=config)
    model.train(input_fn, max_steps=max_steps, hooks=[SlowDown(sleep_s)])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
