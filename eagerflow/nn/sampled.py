"""Candidate samplers and sampled losses (``tf.nn.nce_loss``, ``sampled_softmax_loss``).

Sampling happens on the host (the candidates are few); the logits are built with
``embedding_lookup`` (so the class weights get ``IndexedSlices`` gradients) and core ops.
"""
import collections
import math

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor, _wrap
from ..backend import random as _random
from ._common import as_float_tensor, to_tensor
from .cross_entropy import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits
from .embedding import embedding_lookup

__all__ = ["log_uniform_candidate_sampler", "uniform_candidate_sampler",
           "fixed_unigram_candidate_sampler", "nce_loss", "sampled_softmax_loss",
           "compute_sampled_logits", "CandidateSamplerResult"]

CandidateSamplerResult = collections.namedtuple(
    "CandidateSamplerResult", ["sampled_candidates", "true_expected_count",
                               "sampled_expected_count"])


def _host_rng(seed):
    """A NumPy generator seeded from the op's generator, so TF's seed rules apply."""
    gen = _random.generator(seed, backend="numpy")
    return np.random.default_rng(int(gen.integers(0, 2 ** 62, (), np.int64)))


def _true_classes(true_classes, num_true, opname):
    t = true_classes._data if isinstance(true_classes, Tensor) else np.asarray(true_classes)
    t = np.asarray(backend.to_numpy(t))
    if t.dtype.kind not in "iu":
        raise TypeError(f"{opname}: true_classes must be integers, got dtype {t.dtype}")
    if t.ndim != 2 or t.shape[1] != num_true:
        raise ValueError(f"{opname}: true_classes must have shape (batch, num_true={num_true}), "
                         f"got {t.shape}")
    return t.astype(np.int64)


def _sample(probs_fn, draw_fn, true_classes, num_true, num_sampled, unique, range_max, seed,
            opname):
    t = _true_classes(true_classes, num_true, opname)
    if num_sampled < 0 or range_max < 1:
        raise ValueError(f"{opname}: num_sampled must be >= 0 and range_max >= 1")
    if unique and num_sampled > range_max:
        raise ValueError(f"{opname}: num_sampled ({num_sampled}) must be <= range_max "
                         f"({range_max}) when unique=True")
    rng = _host_rng(seed)
    if unique:
        picked, seen, tries = [], set(), 0
        while len(picked) < num_sampled:
            batch = draw_fn(rng, max(num_sampled - len(picked), 1) * 2)
            for c in batch.tolist():
                tries += 1
                if c not in seen:
                    seen.add(c)
                    picked.append(c)
                    if len(picked) == num_sampled:
                        break
        sampled = np.asarray(picked, np.int64)

        def expected(p):
            if tries == num_sampled:  # no draw was rejected (TF's ExpectedCountHelper)
                return p * num_sampled
            # the probability of appearing at least once in `tries` draws
            return -np.expm1(tries * np.log1p(-np.minimum(p, 1.0 - 1e-12)))
    else:
        sampled = draw_fn(rng, num_sampled).astype(np.int64)
        tries = num_sampled

        def expected(p):
            return p * num_sampled
    f32 = np.float32
    res = CandidateSamplerResult(
        _wrap(backend.to_device(sampled)),
        _wrap(backend.to_device(expected(probs_fn(t)).astype(f32))),
        _wrap(backend.to_device(expected(probs_fn(sampled)).astype(f32))))
    return res


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                  seed=None, name=None):
    """Samples classes with the Zipfian ``P(k) = log((k + 2) / (k + 1)) / log(range_max + 1)``.

    Args:
        true_classes: int ``(batch, num_true)``.
        num_true, num_sampled, range_max: ints; classes are in ``[0, range_max)``.
        unique: sample without replacement (expected counts then account for the tries).
        seed: op seed.

    Returns:
        ``CandidateSamplerResult(sampled_candidates (num_sampled,), true_expected_count
        (batch, num_true), sampled_expected_count (num_sampled,))``.

    Example:
        >>> from eagerflow import nn
        >>> r = nn.log_uniform_candidate_sampler([[0]], 1, 3, True, 10, seed=1)
        >>> r.sampled_candidates.shape
        TensorShape([3])
    """
    log_range = math.log(range_max + 1)

    def probs(c):
        c = np.asarray(c, np.float64)
        return (np.log(c + 2.0) - np.log(c + 1.0)) / log_range

    def draw(rng, n):
        v = np.floor(np.exp(rng.random(n) * log_range)).astype(np.int64) - 1
        return np.clip(v, 0, range_max - 1)

    return _sample(probs, draw, true_classes, num_true, num_sampled, unique, range_max, seed,
                   "log_uniform_candidate_sampler")


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                              seed=None, name=None):
    """Samples classes uniformly from ``[0, range_max)`` (see the log-uniform sampler)."""
    def probs(c):
        return np.full(np.shape(c), 1.0 / range_max)

    def draw(rng, n):
        return rng.integers(0, range_max, n, dtype=np.int64)

    return _sample(probs, draw, true_classes, num_true, num_sampled, unique, range_max, seed,
                   "uniform_candidate_sampler")


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max,
                                    vocab_file="", distortion=1.0, num_reserved_ids=0,
                                    num_shards=1, shard=0, unigrams=(), seed=None, name=None):
    """Samples classes from given unigram counts raised to ``distortion``.

    ``unigrams`` (or ``vocab_file``, one ``word,count`` or count per line) gives the counts
    of ids ``num_reserved_ids ..``; reserved ids have probability 0. Sharding keeps the ids
    ``i`` with ``i % num_shards == shard``.
    """
    if vocab_file:
        counts = []
        with open(vocab_file, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    counts.append(float(line.rsplit(",", 1)[-1]))
    else:
        counts = [float(u) for u in unigrams]
    weights = np.zeros(range_max)
    counts = np.asarray(counts, np.float64) ** float(distortion)
    end = min(range_max, num_reserved_ids + counts.shape[0])
    weights[num_reserved_ids:end] = counts[:end - num_reserved_ids]
    if num_shards > 1:
        weights[np.arange(range_max) % num_shards != shard] = 0.0
    if weights.sum() <= 0:
        raise ValueError("fixed_unigram_candidate_sampler: unigrams must have a positive sum "
                         "over range_max")
    p = weights / weights.sum()

    def probs(c):
        c = np.asarray(c, np.int64)
        return np.where((c >= 0) & (c < range_max), p[np.clip(c, 0, range_max - 1)], 0.0)

    def draw(rng, n):
        return rng.choice(range_max, size=n, p=p).astype(np.int64)

    return _sample(probs, draw, true_classes, num_true, num_sampled, unique, range_max, seed,
                   "fixed_unigram_candidate_sampler")


def compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                           num_true=1, sampled_values=None, subtract_log_q=True,
                           remove_accidental_hits=False, partition_strategy="mod",
                           seed=None):
    """Logits ``(batch, num_true + num_sampled)`` and labels of the sampled losses.

    The true classes come first (label ``1 / num_true`` each), then the sampled ones
    (label 0). With ``subtract_log_q`` each logit has ``log(expected count)`` subtracted;
    with ``remove_accidental_hits`` a sampled class equal to a true class of that row gets
    the float32 minimum added, as TF does.
    """
    x = as_float_tensor(inputs, "compute_sampled_logits", "inputs")
    if x.ndim != 2:
        raise ValueError(f"sampled losses: inputs must be (batch, dim), got {tuple(x.shape)}")
    lab = _true_classes(labels, num_true, "sampled losses")
    if lab.shape[0] != x.shape[0]:
        raise ValueError(f"sampled losses: labels have {lab.shape[0]} rows but inputs have "
                         f"{x.shape[0]}")
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(lab, num_true, num_sampled, True,
                                                       num_classes, seed=seed)
    sampled, true_exp, sampled_exp = sampled_values
    sampled_h = np.asarray(backend.to_numpy(sampled._data if isinstance(sampled, Tensor)
                                            else np.asarray(sampled))).astype(np.int64)
    b, s = lab.shape[0], sampled_h.shape[0]
    all_ids = np.concatenate([lab.reshape(-1), sampled_h])
    ids_t = _wrap(backend.to_device(all_ids))
    all_w = embedding_lookup(weights, ids_t, partition_strategy)            # (B*T + S, dim)
    all_b = embedding_lookup(biases, ids_t, partition_strategy)             # (B*T + S,)
    dim = x.shape[1]
    true_w = ops.reshape(all_w[:b * num_true], (b, num_true, dim))
    sampled_w = all_w[b * num_true:]
    true_logits = ops.reduce_sum(ops.expand_dims(x, 1) * true_w, axis=2) + \
        ops.reshape(all_b[:b * num_true], (b, num_true))
    sampled_logits = ops.matmul(x, sampled_w, transpose_b=True) + all_b[b * num_true:]
    if remove_accidental_hits:
        hits = (lab[:, :, None] == sampled_h[None, None, :]).any(axis=1)   # (B, S)
        mask = np.where(hits, np.finfo(np.float32).min, 0.0).astype(x.dtype)
        sampled_logits = sampled_logits + _wrap(backend.to_device(mask))
    if subtract_log_q:
        true_logits = true_logits - ops.log(ops.cast(to_tensor(true_exp), x.dtype))
        sampled_logits = sampled_logits - ops.log(ops.cast(to_tensor(sampled_exp), x.dtype))
    logits = ops.concat([true_logits, sampled_logits], axis=1)
    lbl = np.concatenate([np.full((b, num_true), 1.0 / num_true), np.zeros((b, s))], axis=1)
    return logits, _wrap(backend.to_device(lbl.astype(x.dtype)))


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
             sampled_values=None, remove_accidental_hits=False, partition_strategy="mod",
             name="nce_loss", seed=None):
    """Noise-contrastive estimation loss per example (``tf.nn.nce_loss``).

    Args:
        weights: class embeddings ``(num_classes, dim)`` or a list of shards.
        biases: ``(num_classes,)``.
        labels: int ``(batch, num_true)``.
        inputs: ``(batch, dim)``.
        num_sampled: negatives per batch (shared by all rows).
        num_classes: the number of classes.
        sampled_values: a ``CandidateSamplerResult`` to use instead of sampling (default:
            ``log_uniform_candidate_sampler(unique=True)``).

    Returns:
        ``(batch,)``: the sum over true and sampled classes of the logistic losses.

    Example:
        >>> import eagerflow as ef
        >>> from eagerflow import nn
        >>> loss = nn.nce_loss(ef.ones((10, 4)), ef.zeros((10,)), [[1], [2]], ef.ones((2, 4)),
        ...                    num_sampled=3, num_classes=10)
        >>> loss.shape
        TensorShape([2])
    """
    logits, lbl = compute_sampled_logits(weights, biases, labels, inputs, num_sampled,
                                         num_classes, num_true, sampled_values, True,
                                         remove_accidental_hits, partition_strategy, seed)
    return ops.reduce_sum(sigmoid_cross_entropy_with_logits(labels=lbl, logits=logits), axis=1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                         num_true=1, sampled_values=None, remove_accidental_hits=True,
                         partition_strategy="mod", name="sampled_softmax_loss", seed=None):
    """Sampled softmax loss per example (``tf.nn.sampled_softmax_loss``).

    Arguments as :func:`nce_loss`; accidental hits are removed by default.

    Returns:
        ``(batch,)``: softmax cross-entropy over the true and sampled classes.
    """
    logits, lbl = compute_sampled_logits(weights, biases, labels, inputs, num_sampled,
                                         num_classes, num_true, sampled_values, True,
                                         remove_accidental_hits, partition_strategy, seed)
    return softmax_cross_entropy_with_logits(labels=ops.stop_gradient(lbl), logits=logits)
