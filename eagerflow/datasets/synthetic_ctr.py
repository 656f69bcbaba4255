"""A Criteo-shaped synthetic click log with a planted ground truth.

Each row has a binary ``label``, 13 numeric features ``I1``..``I13`` (heavy-tailed counts,
some negative, each with its own missing rate) and 26 categorical features ``C1``..``C26``
(8-hex-digit tokens, Zipf-distributed ranks, vocabularies from 10 to 1,000,000, with
missing values). The click probability is ``sigmoid(logit)`` of a planted model: per-token
effects, log-count effects and a few feature crosses. Since the probability is known, the
Bayes AUC (the best any model can reach) is reported, so a trained model's AUC means
something. Everything is a deterministic function of ``seed``: row ``i`` is the same
whatever ``num_examples`` or file format is asked for.

The planted model is built so that its signal can be learned from a log of ~1e5 rows, as
in real click logs, where a rare id's click rate is close to its field's average:

* Token effects shrink with rarity: the token of frequency rank ``r`` (ranks are
  log-uniform, so rank ``r`` has frequency ~``1 / ((r + 1) ln(vocab))``) has effect
  ``w_j * u / (1 + r / 8)`` with ``u`` a unit-variance pseudo-random draw. A
  1,000,000-value field thus carries most of its signal in its few hundred head tokens,
  each seen tens to thousands of times in 100,000 rows, not in the ~1e5 ids seen once.
  (Equal effects on every token, as before, put much of the logit's variance on
  ids seen once or never, which no model can learn: even an oracle knowing every seen
  token's effect stopped ~0.05 AUC short of Bayes.)
* The three pairwise crosses join low/moderate-cardinality fields (C1 x C2, C3 x C6,
  C4 x C5) and decay with both tokens' rarity likewise.
* A missing count has the effect of a zero count: parsing fills a missing numeric with
  0.0 (``feature_spec``), and the planted model hides no signal behind that fill.
* One smooth numeric interaction (``tanh((I1 - I3) / 20)``) is left for the deep parts.

With seed 0 the Bayes AUC is ~0.84 and an L2 logistic regression on the exact tokens,
crosses and log-counts of 100,000 rows gets within ~0.01 of it on held-out rows; the data
keeps Criteo's shape (keys, vocabulary sizes, Zipf ranks, missing rates, heavy tails).

Example:
    >>> cols = generate(1000, seed=0)
    >>> sorted(cols)[:3], cols["C1"].dtype, cols["I1"].dtype
    (['C1', 'C10', 'C11'], dtype('O'), dtype('float32'))
    >>> 0.5 < bayes_auc(2000, seed=0) < 1.0
    True
"""
import os
import zlib

import numpy as np

from eagerflow.io._framing import _TABLES
from eagerflow.io.tfrecord import _compression_name
from eagerflow.io.parsing_config import FixedLenFeature

from . import _encode

__all__ = ["NUMERIC_KEYS", "CATEGORICAL_KEYS", "LABEL_KEY", "VOCAB_SIZES", "generate",
           "feature_spec", "bayes_auc", "auc", "write_tfrecord", "write_csv", "write_parquet"]

LABEL_KEY = "label"
NUMERIC_KEYS = [f"I{i}" for i in range(1, 14)]
CATEGORICAL_KEYS = [f"C{i}" for i in range(1, 27)]
VOCAB_SIZES = [int(round(v)) for v in np.geomspace(10, 1_000_000, 26)]
_NUM_MISSING = np.array([.45, .0, .2, .2, .03, .22, .04, .0, .04, .45, .04, .77, .2])
_CAT_MISSING = np.array([0, 0, .03, .03, 0, .12, 0, 0, 0, .03, 0, .03, 0, 0, 0, .03, 0, 0,
                         .44, .44, .03, .76, 0, .03, .44, .44])
# Categorical pairs with an interaction effect: low/moderate-cardinality fields only
# (10 x 16, 25 x 100, 40 x 63 values), whose frequent pairs a click log of ~1e5 rows shows.
_CROSSES = [(0, 1), (2, 5), (3, 4)]
_TOKEN_SCALE = 0.7  # field j's token effects have standard deviation 0.7 / (1 + 0.08 j) ...
_CROSS_SCALE = 0.6  # ... and a cross's 0.6, before the rarity factor
_RARITY_RANK = 8.0  # a token of frequency rank r has its effect scaled by 1 / (1 + r / 8)


def _rarity(r):
    """The effect scale of frequency rank ``r``: 1 for the most frequent token, 1/2 at rank
    8, ~1/100 at rank 800; rare ids barely move the click probability."""
    return 1.0 / (1.0 + np.maximum(r, 0) / _RARITY_RANK)


_CHUNK = 16384  # rows are generated in full chunks, so row i never depends on N
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x):
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _hash(seed, j, r):
    with np.errstate(over="ignore"):
        return _mix(np.uint64(seed * 1_000_003 + j * 7919 + 1) * np.uint64(0x9E3779B97F4A7C15)
                    + np.asarray(r, dtype=np.uint64))


def _effect(seed, j, r):
    """A deterministic pseudo-normal effect per (feature, rank), in about [-1.7, 1.7]."""
    u = (_hash(seed, j, r) >> np.uint64(11)).astype(np.float64) / 2.0 ** 53
    return (u - 0.5) * 3.4641  # uniform with unit variance


def _chunk(seed, c, n):
    """Columns, ranks and probabilities of rows [c*_CHUNK, c*_CHUNK + n)."""
    label, num, ranks, prob = _full_chunk(seed, c)
    if n == _CHUNK:
        return label, num, ranks, prob
    return (label[:n], {k: v[:n] for k, v in num.items()}, {k: v[:n] for k, v in ranks.items()},
            prob[:n])


def _full_chunk(seed, c):
    n = _CHUNK
    rng = np.random.default_rng([seed, c])
    ranks, num = {}, {}
    logit = np.full(n, -1.6)
    for j in range(13):
        scale = 2.0 + 0.6 * j
        v = np.floor(rng.lognormal(mean=scale * 0.5, sigma=1.2 + 0.05 * j, size=n))
        if j == 1:
            v -= 3.0  # like Criteo's I2, which has negative values
        miss = rng.random(n) < _NUM_MISSING[j]
        z = np.log1p(np.maximum(v, 0)) - scale * 0.5
        w = 0.35 * (1 if j % 3 else -1) / (1 + j * 0.15)
        logit += w * np.where(miss, -scale * 0.5, z)  # a missing count acts as a zero
        num[NUMERIC_KEYS[j]] = np.where(miss, np.nan, v).astype(np.float32)
    for j, vocab in enumerate(VOCAB_SIZES):
        u = rng.random(n)
        r = np.minimum(np.floor(np.exp(u * np.log(vocab + 1.0))) - 1, vocab - 1).astype(np.int64)
        miss = rng.random(n) < _CAT_MISSING[j]
        r[miss] = -1
        ranks[j] = r
        w = _TOKEN_SCALE / (1 + 0.08 * j)
        logit += np.where(miss, 0.0, w * _effect(seed, j, np.maximum(r, 0)) * _rarity(r))
    for a, b in _CROSSES:
        ok = (ranks[a] >= 0) & (ranks[b] >= 0)
        pair = ranks[a].astype(np.uint64) * np.uint64(VOCAB_SIZES[b]) + ranks[b].astype(np.uint64)
        scale = _CROSS_SCALE * _rarity(ranks[a]) * _rarity(ranks[b])
        logit += np.where(ok, scale * _effect(seed, 100 + a, pair), 0.0)
    logit += 0.6 * np.tanh(np.nan_to_num(num["I1"] - num["I3"]) / 20.0)  # a numeric cross
    prob = 1.0 / (1.0 + np.exp(-logit))
    label = (rng.random(n) < prob).astype(np.int64)
    return label, num, ranks, prob


def _tokens(seed, j, r):
    """(n, 8) uint8 hex digits of each rank's token; rows of missing ranks are zero."""
    h = (_hash(seed, 1000 + j, np.maximum(r, 0)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    digits = (h[:, None] >> np.arange(28, -1, -4, dtype=np.uint32)[None, :]) & 15
    out = np.where(digits < 10, digits + 48, digits + 87).astype(np.uint8)
    out[r < 0] = 0
    return out


def _rows(num_examples, seed):
    for c, start in enumerate(range(0, num_examples, _CHUNK)):
        n = min(_CHUNK, num_examples - start)
        yield c, n


def generate(num_examples, seed=0, with_probabilities=False):
    """The rows as columns: ``label`` int64, ``I*`` float32 (NaN = missing), ``C*`` object
    arrays of bytes (b"" = missing); plus ``_prob`` (true click probability) if asked."""
    parts = []
    for c, n in _rows(num_examples, seed):
        label, num, ranks, prob = _chunk(seed, c, n)
        cols = {LABEL_KEY: label, **num}
        for j, key in enumerate(CATEGORICAL_KEYS):
            toks = _tokens(seed, j, ranks[j])
            s = toks.view("S8").reshape(-1)
            cols[key] = s.astype(object)
        if with_probabilities:
            cols["_prob"] = prob
        parts.append(cols)
    if not parts:
        raise ValueError(f"num_examples must be >= 1, got {num_examples}")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def feature_spec():
    """The ``parse_example`` spec of the TFRecord files (missing -> 0.0 / b"")."""
    spec = {LABEL_KEY: FixedLenFeature([], "int64")}
    spec.update({k: FixedLenFeature([], "float32", default_value=0.0) for k in NUMERIC_KEYS})
    spec.update({k: FixedLenFeature([], "string", default_value="") for k in CATEGORICAL_KEYS})
    return spec


def auc(labels, scores):
    """ROC AUC by ranks (ties get average ranks)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), dtype=np.float64)
    bounds = np.flatnonzero(np.diff(s)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(s)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    npos = labels.sum()
    nneg = len(labels) - npos
    if npos == 0 or nneg == 0:
        raise ValueError("auc needs both classes")
    return float((ranks[labels].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def bayes_auc(num_examples, seed=0):
    """The AUC of the true click probabilities on the first ``num_examples`` rows."""
    labels, probs = [], []
    for c, n in _rows(num_examples, seed):
        label, _, _, prob = _chunk(seed, c, n)
        labels.append(label)
        probs.append(prob)
    return auc(np.concatenate(labels), np.concatenate(probs))


def _shard_paths(path, num_shards, suffix):
    if num_shards == 1:
        return [path]
    base = path[:-len(suffix)] if suffix and path.endswith(suffix) else path
    return [f"{base}-{i:05d}-of-{num_shards:05d}{suffix}" for i in range(num_shards)]


def write_tfrecord(path, num_examples, seed=0, num_shards=1, compression_type=None):
    """Writes the rows as tf.train.Example TFRecord files; returns the file names and
    the Bayes AUC as ``(files, bayes_auc)``.

    Rows are dealt to shards in contiguous ranges. Missing values are absent keys.
    """
    comp = _compression_name(compression_type)
    paths = _shard_paths(os.fspath(path), num_shards, ".tfrecord")
    bounds = np.linspace(0, num_examples, num_shards + 1).astype(np.int64)
    keys = [LABEL_KEY] + NUMERIC_KEYS + CATEGORICAL_KEYS
    keybuf = np.frombuffer("".join(keys).encode(), dtype=np.uint8)
    keyoffs = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)
    files = [open(p, "wb") for p in paths]
    comps = [None if not comp else zlib.compressobj(6, zlib.DEFLATED, 31 if comp == "GZIP" else 15)
             for _ in paths]
    labels, probs = [], []
    try:
        row = 0
        for c, n in _rows(num_examples, seed):
            label, num, ranks, prob = _chunk(seed, c, n)
            labels.append(label)
            probs.append(prob)
            numeric = np.stack([num[k] for k in NUMERIC_KEYS], axis=1)
            toks = np.stack([_tokens(seed, j, ranks[j]) for j in range(26)], axis=1)
            cat_ok = np.stack([ranks[j] >= 0 for j in range(26)], axis=1)
            data, ends = _encode.encode_chunk(label, numeric, toks, cat_ok, keybuf, keyoffs,
                                              _TABLES)
            # split the chunk's records over shards by global row index
            for s in range(num_shards):
                lo = max(bounds[s] - row, 0)
                hi = min(bounds[s + 1] - row, n)
                if lo >= hi:
                    continue
                a = 0 if lo == 0 else int(ends[lo - 1])
                blob = data[a:int(ends[hi - 1])].tobytes()
                files[s].write(comps[s].compress(blob) if comps[s] else blob)
            row += n
        for f, z in zip(files, comps):
            if z is not None:
                f.write(z.flush())
    finally:
        for f in files:
            f.close()
    return paths, auc(np.concatenate(labels), np.concatenate(probs))


def _arrow_chunks(num_examples, seed):
    import pyarrow as pa
    for c, n in _rows(num_examples, seed):
        label, num, ranks, _ = _chunk(seed, c, n)
        cols = {LABEL_KEY: pa.array(label)}
        for k in NUMERIC_KEYS:
            v = num[k]
            cols[k] = pa.array(v, mask=np.isnan(v))
        for j, k in enumerate(CATEGORICAL_KEYS):
            s = _tokens(seed, j, ranks[j]).view("S8").reshape(-1)
            cols[k] = pa.array(s.astype("U8"), mask=ranks[j] < 0)
        yield pa.table(cols)


def write_csv(path, num_examples, seed=0):
    """Writes the rows as one CSV file with a header (missing values are empty fields)."""
    import pyarrow.csv as pacsv
    writer = None
    try:
        for table in _arrow_chunks(num_examples, seed):
            if writer is None:
                writer = pacsv.CSVWriter(os.fspath(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return [os.fspath(path)]


def write_parquet(path, num_examples, seed=0, row_group_size=65536):
    """Writes the rows as one Parquet file (missing values are nulls)."""
    import pyarrow.parquet as pq
    writer = None
    try:
        for table in _arrow_chunks(num_examples, seed):
            if writer is None:
                writer = pq.ParquetWriter(os.fspath(path), table.schema)
            writer.write_table(table, row_group_size=row_group_size)
    finally:
        if writer is not None:
            writer.close()
    return [os.fspath(path)]
