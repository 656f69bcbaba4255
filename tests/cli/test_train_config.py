"""``eagerflow train --config`` / ``eagerflow evaluate --config`` on TFRecord, CSV and
Parquet files of the synthetic click log, and the errors bad configs give."""
import json
import os

import pytest

from eagerflow import cli, job_config
from eagerflow.datasets import synthetic_ctr as ctr
from eagerflow.train import latest_checkpoint, load_checkpoint

FEATURES = [
    {"type": "numeric", "key": "I1", "normalizer": "log1p"},
    {"type": "numeric", "key": "I2", "default": 1.0, "normalizer": "log1p"},
    {"type": "bucketized", "key": "I5", "boundaries": [1, 10, 100, 1000]},
    {"type": "hash_bucket", "key": "C1", "hash_bucket_size": 40},
    {"type": "hash_bucket", "key": "C2", "hash_bucket_size": 60},
    {"type": "hash_bucket", "key": "C3", "hash_bucket_size": 200},
]


def _config(tmp_path, fmt, model, train_files, eval_files, **extra):
    cfg = {"model": model, "model_dir": "model", "format": fmt, "label": ctr.LABEL_KEY,
           "train_files": train_files, "eval_files": eval_files, "features": FEATURES,
           "crosses": [{"keys": ["C1", "C2"], "hash_bucket_size": 500}],
           "batch_size": 128, "steps": 12, "save_checkpoints_steps": 5,
           "hidden_units": [16], "embedding_dim": 4, "learning_rate": 0.01,
           "shuffle_buffer": 256}
    cfg.update(extra)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def _train_then_evaluate(path, capsys):
    assert cli.main(["train", "--config", path, "--no-progress"]) == 0
    assert "to global step 12" in capsys.readouterr().out
    assert cli.main(["evaluate", "--config", path]) == 0
    return json.loads(capsys.readouterr().out)


def _check(tmp_path, metrics):
    model_dir = str(tmp_path / "model")
    assert metrics["global_step"] == 12
    for key in ("auc", "accuracy", "average_loss", "loss"):
        assert key in metrics, metrics
    assert 0.0 <= metrics["auc"] <= 1.0 and metrics["average_loss"] > 0
    ckpt = latest_checkpoint(model_dir)
    assert ckpt.endswith("model.ckpt-12") and load_checkpoint(ckpt).global_step == 12
    assert os.path.isdir(os.path.join(model_dir, "eval"))


def test_tfrecord_wide_deep(tmp_path, capsys):
    files, _ = ctr.write_tfrecord(str(tmp_path / "clicks.tfrecord"), 2400, num_shards=4)
    path = _config(tmp_path, "tfrecord", "wide_deep", [str(tmp_path / "clicks-0000[0-2]*")],
                   files[3:])
    metrics = _train_then_evaluate(path, capsys)
    _check(tmp_path, metrics)
    names = load_checkpoint(latest_checkpoint(str(tmp_path / "model"))).get_variable_to_shape_map()
    assert any("C1_X_C2" in n for n in names)  # the declared cross is in the wide part
    # a rerun trains to the same global step: nothing to do
    assert cli.main(["train", "--config", path, "--no-progress"]) == 0
    assert "to global step 12" in capsys.readouterr().out


def test_csv_deepfm(tmp_path, capsys):
    ctr.write_csv(str(tmp_path / "train.csv"), 1500, seed=1)
    evals = ctr.write_csv(str(tmp_path / "eval.csv"), 500, seed=2)
    path = _config(tmp_path, "csv", "deepfm", "train.csv", evals)  # relative to the config
    _check(tmp_path, _train_then_evaluate(path, capsys))


def test_parquet_dcn(tmp_path, capsys):
    ctr.write_parquet(str(tmp_path / "train.parquet"), 1500, seed=1)
    ctr.write_parquet(str(tmp_path / "eval.parquet"), 500, seed=2)
    path = _config(tmp_path, "parquet", "dcn", "train.parquet", ["eval.parquet"],
                   eval_steps=2)
    _check(tmp_path, _train_then_evaluate(path, capsys))


def _error(tmp_path, capsys, command="train", **changes):
    cfg = {"model": "wide_deep", "model_dir": "m", "format": "csv", "label": "label",
           "train_files": "missing-*.csv", "eval_files": "missing.csv",
           "features": [{"type": "numeric", "key": "I1"}]}
    cfg.update(changes)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--config", str(path)])
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("changes, message", [
    ({"model": "xgboost"}, "model must be one of 'wide_deep', 'deepfm', 'dcn'; got 'xgboost'"),
    ({"format": "avro"}, "format must be one of 'tfrecord', 'csv', 'parquet'"),
    ({"label": None}, "missing required key 'label'"),
    ({"batch_sz": 3}, "unknown key 'batch_sz'; accepted keys: batch_size"),
    ({"steps": 0}, "steps must be a positive integer; got 0"),
    ({"hidden_units": [8, -1]}, "hidden_units must be a non-empty list of positive integers"),
    ({"features": []}, "features must be a non-empty list"),
    ({"features": [{"type": "embedding", "key": "C1"}]},
     "features[0]: type must be one of 'numeric', 'bucketized', 'hash_bucket'"),
    ({"features": [{"type": "hash_bucket", "key": "C1"}]},
     "features[0] (hash_bucket 'C1'): missing required key 'hash_bucket_size'"),
    ({"features": [{"type": "hash_bucket", "key": "C1", "hash_bucket_size": 9,
                    "bucket_size": 3}]},
     "unknown key 'bucket_size'; accepted keys: type, key, dtype"),
    ({"features": [{"type": "numeric", "key": "I1", "normalizer": "zscore"}]},
     "normalizer must be one of 'none', 'log1p'; got 'zscore'"),
    ({"features": [{"type": "bucketized", "key": "I1", "boundaries": [3, 1]}]},
     "boundaries must be a non-empty, strictly increasing list of numbers"),
    ({"features": [{"type": "numeric", "key": "I1"}, {"type": "numeric", "key": "I1"}]},
     "key 'I1' is declared twice"),
    ({"features": [{"type": "numeric", "key": "label"}]}, "label 'label' is also declared"),
    ({"crosses": [{"keys": ["I1", "C9"], "hash_bucket_size": 10}]},
     "crosses[0]: key 'I1' must name a hash_bucket or vocabulary feature"),
    ({"model": "deepfm", "features": [
        {"type": "hash_bucket", "key": "C1", "hash_bucket_size": 9, "embedding_dim": 4},
        {"type": "hash_bucket", "key": "C2", "hash_bucket_size": 9}]},
     "model 'deepfm' needs one embedding_dim for every categorical feature; got [4, 8]"),
    ({}, "train_files: no file matches"),
    ({"train_files": None}, "train_files is required for this command"),
])
def test_bad_configs_name_the_key_and_the_accepted_values(tmp_path, capsys, changes, message):
    err = _error(tmp_path, capsys, **changes)
    assert message in err, err
    assert err.startswith("usage: eagerflow train")


def test_bad_files_and_missing_columns(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("label,I2\n1,3\n0,4\n")
    err = _error(tmp_path, capsys, train_files="t.csv")
    assert "no column 'I1' (label or feature key); the file's columns are: label, I2" in err
    err = _error(tmp_path, capsys, command="evaluate", eval_files="t.csv")
    assert "has no checkpoint to evaluate" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", str(bad)])
    assert "bad.json: not valid JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", str(tmp_path / "nope.json")])
    assert "cannot read config file" in capsys.readouterr().err
    txt = tmp_path / "job.toml"
    txt.write_text("")
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", str(txt)])
    assert "config files must end in .json, .yaml or .yml" in capsys.readouterr().err


def test_yaml_configs_load_when_pyyaml_is_installed(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("model: dcn\nmodel_dir: m\nformat: csv\nlabel: y\n"
                    "features:\n  - {type: numeric, key: x}\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        with pytest.raises(job_config.ConfigError, match="reading YAML needs PyYAML"):
            job_config.load(str(path))
        return
    cfg = job_config.load(str(path))
    assert cfg["model"] == "dcn" and cfg["model_dir"] == str(tmp_path / "m")


def test_quickstart_flags(tmp_path, capsys):
    """--rows/--model/--model-dir reach the run (a DCN on a tiny log, to one checkpoint)."""
    assert cli.main(["quickstart", "--rows", "1024", "--steps", "4", "--batch-size", "256",
                     "--model", "dcn", "--model-dir", str(tmp_path / "dcn"),
                     "--workdir", str(tmp_path / "work"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2. trained 4 steps" in out and "6. served the export" in out
    assert latest_checkpoint(str(tmp_path / "dcn")).endswith("model.ckpt-4")
    with pytest.raises(SystemExit):
        cli.main(["quickstart", "--model", "lightgbm"])
    assert "invalid choice: 'lightgbm' (choose from" in capsys.readouterr().err


def _epochs_of_ids(cfg, files, rows, epochs):
    """The ``id`` feature of the training input, split into epochs of ``rows`` rows."""
    import numpy as np
    from eagerflow import job
    it = iter(job.input_fn(cfg, files, training=True)())
    got = []
    while len(got) < rows * epochs:
        features, label = next(it)
        assert label.shape[1:] == (1,)
        got += np.asarray(features["id"]).astype(int).tolist()
    return [got[i * rows:(i + 1) * rows] for i in range(epochs)]


def test_parquet_window_shuffle_sees_every_row_once_per_epoch(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    files = []
    for i, (lo, hi) in enumerate([(0, 700), (700, 1000)]):  # windows stop at file ends
        files.append(str(tmp_path / f"part{i}.parquet"))
        pq.write_table(pa.table({"id": [float(r) for r in range(lo, hi)],
                                 "label": [r % 2 for r in range(lo, hi)]}),
                       files[-1], row_group_size=128)
    cfg = job_config.validate({"model": "dcn", "model_dir": "m", "format": "parquet",
                               "label": "label", "features": [{"type": "numeric", "key": "id"}],
                               "batch_size": 64, "shuffle_buffer": 300, "seed": 3})
    epochs = _epochs_of_ids(cfg, files, 1000, 3)
    for ids in epochs:
        assert sorted(ids) == list(range(1000))  # every row exactly once
        assert ids != list(range(1000))
    assert epochs[0] != epochs[1] != epochs[2]  # a new order each epoch
    assert _epochs_of_ids(cfg, files, 1000, 3) == epochs  # the seed makes it reproducible


_MINIMAL = {"model": "dcn", "model_dir": "m", "format": "csv", "label": "y"}


@pytest.mark.parametrize("feature, message", [
    ("x", r"^features\[0\]: expected an object, got str$"),
    ({"type": "numeric"},
     r"^features\[0\]: missing required key 'key' \(the column / feature name\)$"),
    ({"type": "numeric", "key": ""},
     r"^features\[0\]: missing required key 'key' \(the column / feature name\)$"),
])
def test_bad_feature_entries(feature, message):
    with pytest.raises(job_config.ConfigError, match=message):
        job_config.validate(dict(_MINIMAL, features=[feature]))


def test_invalid_yaml_names_the_file(tmp_path):
    pytest.importorskip("yaml")
    path = tmp_path / "job.yaml"
    path.write_text("model: dcn\nfeatures: [{type: numeric\n")
    with pytest.raises(job_config.ConfigError, match=r"job\.yaml: not valid YAML: "):
        job_config.load(str(path))
