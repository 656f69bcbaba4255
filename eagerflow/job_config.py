"""The config file of ``eagerflow train --config`` and ``eagerflow evaluate --config``: a
canned CTR model trained on your own TFRecord, CSV or Parquet files with declared feature
columns.

The file is JSON (``.json``), or YAML (``.yaml``/``.yml``) when PyYAML is installed
(``pip install 'eagerflow[yaml]'``). Relative paths are relative to the config file's
directory; file entries may be glob patterns. Keys (``*`` = required)::

    model*          "wide_deep" | "deepfm" | "dcn"            (see eagerflow.ctr_models)
    model_dir*      checkpoint directory; training resumes from it
    format*         "tfrecord" (tf.train.Example records) | "csv" (with a header) | "parquet"
    label*          the label column / feature name (0/1 clicks)
    features*       list of feature objects, below
    train_files     files for `train` (required there)
    eval_files      files for `evaluate` (required there)
    label_dtype     "int64" (default) | "float32": how a TFRecord stores the label
    crosses         [{"keys": ["C1", "C2"], "hash_bucket_size": 10000}, ...]: wide-part
                    crosses of hash_bucket / vocabulary features
    batch_size      default 1024
    steps           the global step to train to (default 1000); rerunning `train` after a
                    crash resumes to the same result, raise it to train longer
    eval_steps      batches to evaluate (default: all of eval_files)
    hidden_units    DNN layer sizes, default [128, 64]
    embedding_dim   default embedding size of categorical features, default 8
    learning_rate   the DNN's Adagrad learning rate (all of DeepFM's and DCN's), default
                    the model's (eagerflow.ctr_models.DEFAULT_LEARNING_RATES)
    shuffle_buffer  training examples in the shuffle buffer, default 10000 (0: no shuffle);
                    Parquet shuffles windows of this many rows, each one on its own
    seed            model and shuffle seed, default 0
    save_checkpoints_steps  default 100

Feature objects (``key`` and ``type`` required)::

    {"type": "numeric", "key": "I1", "default": 0.0, "normalizer": "log1p" | "none"}
    {"type": "bucketized", "key": "I2", "boundaries": [0, 1, 10, 100], "default": 0.0}
    {"type": "hash_bucket", "key": "C1", "hash_bucket_size": 10000,
     "dtype": "string" | "int64", "embedding_dim": 8}
    {"type": "vocabulary", "key": "C2", "vocabulary": ["a", "b"], "num_oov_buckets": 1,
     "embedding_dim": 8}
    {"type": "identity", "key": "C3", "num_buckets": 100, "embedding_dim": 8}

Missing numeric values (absent, empty CSV fields, Parquet nulls) become ``default``.
Every error names the bad key and the accepted values.

Example:
    >>> cfg = validate({"model": "dcn", "model_dir": "m", "format": "csv", "label": "y",
    ...                 "features": [{"type": "numeric", "key": "x"}]})
    >>> cfg["batch_size"], cfg["hidden_units"]
    (1024, [128, 64])
    >>> validate({"model": "xgb"})
    Traceback (most recent call last):
    ...
    eagerflow.job_config.ConfigError: config: model must be one of 'wide_deep', 'deepfm', 'dcn'; got 'xgb'
"""
import glob
import json
import os

from .ctr_models import MODELS

__all__ = ["ConfigError", "load", "validate", "FORMATS", "FEATURE_TYPES"]

FORMATS = ("tfrecord", "csv", "parquet")
LABEL_DTYPES = ("int64", "float32")
NORMALIZERS = ("none", "log1p")

_POSITIVE_INT = "a positive integer"


def _is_pos_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# key -> (default, check, description); default _REQUIRED means the key must be given
_REQUIRED = object()
TOP_KEYS = {
    "model": (_REQUIRED, lambda v: v in MODELS, MODELS),
    "model_dir": (_REQUIRED, lambda v: isinstance(v, str) and v, "a directory path"),
    "format": (_REQUIRED, lambda v: v in FORMATS, FORMATS),
    "label": (_REQUIRED, lambda v: isinstance(v, str) and v, "a column name"),
    "features": (_REQUIRED, lambda v: isinstance(v, list) and v, "a non-empty list"),
    "train_files": (None, lambda v: _is_files(v), "a file name or a list of them"),
    "eval_files": (None, lambda v: _is_files(v), "a file name or a list of them"),
    "label_dtype": ("int64", lambda v: v in LABEL_DTYPES, LABEL_DTYPES),
    "crosses": ([], lambda v: isinstance(v, list), "a list of cross objects"),
    "batch_size": (1024, _is_pos_int, _POSITIVE_INT),
    "steps": (1000, _is_pos_int, _POSITIVE_INT),
    "eval_steps": (None, _is_pos_int, _POSITIVE_INT),
    "hidden_units": ([128, 64], lambda v: isinstance(v, list) and v and
                     all(_is_pos_int(u) for u in v), "a non-empty list of positive integers"),
    "embedding_dim": (8, _is_pos_int, _POSITIVE_INT),
    "learning_rate": (None, lambda v: _is_number(v) and v > 0, "a positive number"),
    "shuffle_buffer": (10_000, lambda v: isinstance(v, int) and v >= 0,
                       "a non-negative integer"),
    "seed": (0, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "save_checkpoints_steps": (100, _is_pos_int, _POSITIVE_INT),
}

_NUMBER = (lambda v: _is_number(v), "a number")
_EMB = (lambda v: _is_pos_int(v), _POSITIVE_INT)
# feature type -> {key: (default, check, description)}; "key" and "type" are common
FEATURE_TYPES = {
    "numeric": {"default": (0.0,) + _NUMBER,
                "normalizer": ("none", lambda v: v in NORMALIZERS, NORMALIZERS)},
    "bucketized": {"boundaries": (_REQUIRED, lambda v: isinstance(v, list) and v and
                                  all(_is_number(b) for b in v) and
                                  all(a < b for a, b in zip(v, v[1:])),
                                  "a non-empty, strictly increasing list of numbers"),
                   "default": (0.0,) + _NUMBER},
    "hash_bucket": {"hash_bucket_size": (_REQUIRED, _is_pos_int, _POSITIVE_INT),
                    "dtype": ("string", lambda v: v in ("string", "int64"),
                              ("string", "int64")),
                    "embedding_dim": (None,) + _EMB},
    "vocabulary": {"vocabulary": (_REQUIRED, lambda v: isinstance(v, list) and v and
                                  len(set(map(str, v))) == len(v),
                                  "a non-empty list of distinct values"),
                   "num_oov_buckets": (1, lambda v: isinstance(v, int) and v >= 0,
                                       "a non-negative integer"),
                   "embedding_dim": (None,) + _EMB},
    "identity": {"num_buckets": (_REQUIRED, _is_pos_int, _POSITIVE_INT),
                 "embedding_dim": (None,) + _EMB},
}
CATEGORICAL_TYPES = ("hash_bucket", "vocabulary", "identity")
_CROSS_KEYS = {"keys": (_REQUIRED, lambda v: isinstance(v, list) and len(v) >= 2,
                        "a list of at least 2 feature keys"),
               "hash_bucket_size": (_REQUIRED, _is_pos_int, _POSITIVE_INT)}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the bad key."""


def _is_files(v):
    return isinstance(v, str) and v or isinstance(v, list) and v and \
        all(isinstance(f, str) and f for f in v)


def _accepted(desc):
    if isinstance(desc, tuple):
        return "one of " + ", ".join(repr(d) for d in desc)
    return desc


def _fill(obj, schema, where, common=()):
    """``obj`` checked against ``schema`` with defaults filled in (a new dict); ``common``
    names keys the caller has taken out already (listed as accepted in errors)."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(schema))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; accepted keys: "
                          f"{', '.join(list(common) + sorted(schema))}")
    out = {}
    for key, (default, check, desc) in schema.items():
        if key not in obj or obj[key] is None:
            if default is _REQUIRED:
                raise ConfigError(f"{where}: missing required key {key!r} ({_accepted(desc)})")
            out[key] = default
            continue
        if not check(obj[key]):
            raise ConfigError(f"{where}: {key} must be {_accepted(desc)}; got {obj[key]!r}")
        out[key] = obj[key]
    return out


def _feature(obj, i):
    where = f"features[{i}]"
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected an object, got {type(obj).__name__}")
    kind = obj.get("type")
    if kind not in FEATURE_TYPES:
        raise ConfigError(f"{where}: type must be one of "
                          f"{', '.join(repr(t) for t in FEATURE_TYPES)}; got {kind!r}")
    key = obj.get("key")
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{where}: missing required key 'key' (the column / feature name)")
    rest = {k: v for k, v in obj.items() if k not in ("type", "key")}
    out = _fill(rest, FEATURE_TYPES[kind], f"{where} ({kind} {key!r})", ("type", "key"))
    out.update(type=kind, key=key)
    return out


def _cross(obj, i, kinds):
    where = f"crosses[{i}]"
    out = _fill(obj, _CROSS_KEYS, where)
    for k in out["keys"]:
        if kinds.get(k) not in ("hash_bucket", "vocabulary"):
            raise ConfigError(f"{where}: key {k!r} must name a hash_bucket or vocabulary "
                              f"feature; declared: {', '.join(sorted(kinds))}")
    return out


def validate(raw, base_dir=None):
    """Checks a config dict and fills in the defaults; returns a new dict.

    Args:
        raw: the parsed config file.
        base_dir: relative paths are joined to it (the config file's directory).

    Raises:
        ConfigError: naming the first bad key and the accepted values.
    """
    cfg = _fill(raw, TOP_KEYS, "config")
    cfg["features"] = [_feature(f, i) for i, f in enumerate(cfg["features"])]
    kinds = {}
    for f in cfg["features"]:
        if f["key"] in kinds:
            raise ConfigError(f"features: key {f['key']!r} is declared twice")
        kinds[f["key"]] = f["type"]
    if cfg["label"] in kinds:
        raise ConfigError(f"label {cfg['label']!r} is also declared as a feature")
    cfg["crosses"] = [_cross(c, i, kinds) for i, c in enumerate(cfg["crosses"])]
    if cfg["model"] == "deepfm":
        dims = {f["embedding_dim"] or cfg["embedding_dim"] for f in cfg["features"]
                if f["type"] in CATEGORICAL_TYPES}
        if len(dims) > 1:
            raise ConfigError(f"model 'deepfm' needs one embedding_dim for every categorical "
                              f"feature; got {sorted(dims)}")
    if base_dir is not None:
        cfg["model_dir"] = os.path.join(base_dir, cfg["model_dir"])
        for key in ("train_files", "eval_files"):
            if cfg[key] is not None:
                names = [cfg[key]] if isinstance(cfg[key], str) else cfg[key]
                cfg[key] = [os.path.join(base_dir, n) for n in names]
    return cfg


def files_for(cfg, key):
    """The files of ``cfg[key]`` (``train_files``/``eval_files``), globs expanded.

    Raises:
        ConfigError: when the key is missing or a pattern matches nothing.
    """
    names = cfg.get(key)
    if not names:
        raise ConfigError(f"config: {key} is required for this command (a file name or a "
                          f"list of them)")
    names = [names] if isinstance(names, str) else names
    out = []
    for name in names:
        matches = sorted(glob.glob(name))
        if not matches:
            raise ConfigError(f"config: {key}: no file matches {name!r}")
        out += matches
    return out


def _parse_text(text, path):
    ext = os.path.splitext(path)[1].lower()
    if ext in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(f"{path}: reading YAML needs PyYAML (pip install pyyaml); "
                              "or write the config as JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if ext != ".json":
        raise ConfigError(f"{path}: config files must end in .json, .yaml or .yml")
    try:
        return json.loads(text)
    except ValueError as e:
        raise ConfigError(f"{path}: not valid JSON: {e}") from None


def load(path):
    """Reads, checks and completes a config file (see the module docstring).

    Raises:
        ConfigError: for an unreadable file or a bad key.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    return validate(_parse_text(text, path), os.path.dirname(os.path.abspath(path)))
