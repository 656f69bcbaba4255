"""Candidate samplers and the sampled losses (with fixed sampled candidates)."""
import numpy as np
import pytest
from scipy import special

import eagerflow as ef
import eagerflow.nn as nn
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(21)
NC, DIM, B = 12, 4, 3
WTS = R.standard_normal((NC, DIM))
BIAS = R.standard_normal(NC)
INP = R.standard_normal((B, DIM))
LAB = np.array([[1, 4], [7, 2], [0, 11]])
SAMPLED = np.array([4, 5, 9])                    # 4 is a true class of row 0
TRUE_EXP = R.uniform(0.1, 0.9, (B, 2))
SAMP_EXP = R.uniform(0.1, 0.9, 3)


def fixed():
    return nn.CandidateSamplerResult(tensor(SAMPLED), tensor(TRUE_EXP), tensor(SAMP_EXP))


def ref_logits(remove_hits):
    true = np.einsum("bd,btd->bt", INP, WTS[LAB]) + BIAS[LAB] - np.log(TRUE_EXP)
    samp = INP @ WTS[SAMPLED].T + BIAS[SAMPLED] - np.log(SAMP_EXP)
    if remove_hits:
        hits = (LAB[:, :, None] == SAMPLED[None, None, :]).any(1)
        samp = samp + np.where(hits, np.finfo(np.float32).min, 0.0)
    logits = np.concatenate([true, samp], 1)
    labels = np.concatenate([np.full((B, 2), 0.5), np.zeros((B, 3))], 1)
    return logits, labels


def test_nce_loss_reference():
    got = nn.nce_loss(tensor(WTS), tensor(BIAS), LAB, tensor(INP), 3, NC, num_true=2,
                      sampled_values=fixed())
    x, z = ref_logits(False)
    want = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).sum(1)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)


def test_sampled_softmax_loss_reference_removes_accidental_hits():
    got = nn.sampled_softmax_loss(tensor(WTS), tensor(BIAS), LAB, tensor(INP), 3, NC,
                                  num_true=2, sampled_values=fixed())
    x, z = ref_logits(True)
    want = -(z * special.log_softmax(x, axis=1)).sum(1)
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)
    keep = nn.sampled_softmax_loss(tensor(WTS), tensor(BIAS), LAB, tensor(INP), 3, NC,
                                   num_true=2, sampled_values=fixed(),
                                   remove_accidental_hits=False)
    x2, _ = ref_logits(False)
    np.testing.assert_allclose(to_numpy(keep), -(z * special.log_softmax(x2, axis=1)).sum(1),
                               rtol=1e-12)


def test_sharded_weights_equal_unsharded():
    shards = [tensor(WTS[p::3]) for p in range(3)]
    a = nn.nce_loss(shards, tensor(BIAS), LAB, tensor(INP), 3, NC, num_true=2,
                    sampled_values=fixed())
    b = nn.nce_loss(tensor(WTS), tensor(BIAS), LAB, tensor(INP), 3, NC, num_true=2,
                    sampled_values=fixed())
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12)


def test_weight_gradient_is_indexed_slices():
    w = ef.Variable(tensor(WTS))
    with ef.GradientTape() as t:
        loss = ef.reduce_sum(nn.sampled_softmax_loss(w, tensor(BIAS), LAB, tensor(INP), 3, NC,
                                                     num_true=2, sampled_values=fixed()))
    assert isinstance(t.gradient(loss, w), ef.IndexedSlices)


GRAD_CASES = [
    GradCase(["embedding_lookup"], lambda w, b, x: nn.nce_loss(
        w, b, LAB, x, 3, NC, num_true=2, sampled_values=fixed()), WTS, BIAS, INP,
        id="nce_loss"),
    GradCase(["embedding_lookup"], lambda w, b, x: nn.sampled_softmax_loss(
        w, b, LAB, x, 3, NC, num_true=2, sampled_values=fixed()), WTS, BIAS, INP,
        id="sampled_softmax_loss"),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


@pytest.mark.parametrize("sampler", ["log_uniform", "uniform"])
@pytest.mark.parametrize("unique", [True, False])
def test_samplers_shapes_range_and_seed(sampler, unique):
    fn = getattr(nn, f"{sampler}_candidate_sampler")
    ef.random.set_seed(4)
    a = fn(LAB, 2, 8, unique, NC, seed=3)
    ef.random.set_seed(4)
    b = fn(LAB, 2, 8, unique, NC, seed=3)
    s = to_numpy(a.sampled_candidates)
    np.testing.assert_array_equal(s, to_numpy(b.sampled_candidates))
    assert s.shape == (8,) and s.min() >= 0 and s.max() < NC
    assert a.true_expected_count.shape == (B, 2) and a.sampled_expected_count.shape == (8,)
    if unique:
        assert len(set(s.tolist())) == 8
        assert (to_numpy(a.sampled_expected_count) <= 1.0).all()
    else:
        p = (np.log(s + 2.0) - np.log(s + 1.0)) / np.log(NC + 1) if sampler == "log_uniform" \
            else np.full(8, 1.0 / NC)
        np.testing.assert_allclose(to_numpy(a.sampled_expected_count), p * 8, rtol=1e-6)


def test_log_uniform_distribution():
    r = nn.log_uniform_candidate_sampler(LAB, 2, 20000, False, NC, seed=1)
    counts = np.bincount(to_numpy(r.sampled_candidates), minlength=NC) / 20000
    p = (np.log(np.arange(NC) + 2.0) - np.log(np.arange(NC) + 1.0)) / np.log(NC + 1)
    np.testing.assert_allclose(counts, p, atol=0.015)


def test_fixed_unigram_sampler():
    r = nn.fixed_unigram_candidate_sampler(LAB, 2, 5000, False, NC, distortion=0.5,
                                           num_reserved_ids=2, unigrams=[4.0] * 5 + [0.0] * 5,
                                           seed=2)
    s = to_numpy(r.sampled_candidates)
    assert s.min() >= 2 and s.max() <= 6
    counts = np.bincount(s, minlength=NC)[2:7] / 5000
    np.testing.assert_allclose(counts, 0.2, atol=0.03)
    np.testing.assert_allclose(to_numpy(r.true_expected_count)[0], [0.0, 0.2 * 5000])


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_true"):
        nn.uniform_candidate_sampler(LAB, 1, 3, True, NC)
    with pytest.raises(ValueError, match="unique"):
        nn.uniform_candidate_sampler(LAB, 2, NC + 1, True, NC)
    with pytest.raises(ValueError, match="rows"):
        nn.nce_loss(tensor(WTS), tensor(BIAS), LAB[:2], tensor(INP), 3, NC, num_true=2)


def test_default_sampler_runs():
    loss = nn.sampled_softmax_loss(tensor(WTS), tensor(BIAS), LAB[:, :1], tensor(INP), 5, NC,
                                   seed=9)
    assert loss.shape == (B,) and np.isfinite(to_numpy(loss)).all()
