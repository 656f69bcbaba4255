"""Fidelity audit of the learning-rate schedules and of gradient clipping against TF's source:
keras/optimizer_v2/learning_rate_schedule.py and legacy_learning_rate_decay.py (the
``tf.compat.v1.train.*_decay`` functions), and tensorflow/python/ops/clip_ops.py.

Expected values are transcriptions of TF's formulas (in TF's dtype, float32, where the
point is TF's rounding), not eagerflow's output.
"""
import collections
import math

import numpy as np
import pytest

import eagerflow as ef
import eagerflow.train as train
from eagerflow.train.clipping import clip_by_average_norm
from tests.gradcheck import tensor, to_numpy

f32 = np.float32


def step_tensor(step, dtype=np.int64):
    return tensor(np.array(step, dtype))


# --- schedules ------------------------------------------------------------------------------

def test_schedules_compute_in_float32_like_tf():
    # TF: global_step_recomp = cast(step, float32); p = floor(step / decay_steps). Cast to
    # float32, step 19_999_999 rounds to 20_000_000 (float32 spacing is 2 there), so p = 2.
    s = f32(19_999_999)
    p = np.floor(s / f32(10_000_000))
    want = f32(1.0) * np.power(f32(0.5), p)
    sched = train.ExponentialDecay(1.0, 10_000_000, 0.5, staircase=True)
    got = sched(step_tensor(19_999_999))
    assert got.dtype == np.float32
    assert float(to_numpy(got)) == float(want) == 0.25
    # inverse_time_decay: 1 / (1 + 1 * float32(16_777_217)) = 1 / 16_777_217 in float32
    # arithmetic is 2 ** -24 exactly (TF), not 1 / 16_777_218
    gs = ef.Variable(np.int64(16_777_217), trainable=False, name="gs_audit_it")
    got = float(train.inverse_time_decay(1.0, gs, 1, 1.0)())
    want = f32(1.0) / (f32(1.0) + f32(1.0) * (f32(16_777_217) / f32(1.0)))
    assert got == float(want) == 2.0 ** -24


def test_schedule_dtype_follows_the_initial_learning_rate():
    # TF: "a scalar Tensor of the same type as initial_learning_rate"
    for cls, args in [(train.ExponentialDecay, (10, 0.5)), (train.InverseTimeDecay, (10, 0.5)),
                      (train.PolynomialDecay, (10,)), (train.CosineDecay, (10,)),
                      (train.CosineDecayRestarts, (10,)), (train.LinearCosineDecay, (10,))]:
        assert cls(np.float64(0.1), *args)(step_tensor(3)).dtype == np.float64, cls
        assert cls(0.1, *args)(step_tensor(3)).dtype == np.float32, cls
    got = train.ExponentialDecay(np.float64(0.1), 10, 0.5)(step_tensor(3))
    assert float(to_numpy(got)) == 0.1 * 0.5 ** 0.3  # exact in float64


def test_schedule_classes_take_tf_names_and_configs():
    s = train.ExponentialDecay(0.1, 10, 0.5, staircase=True, name="lr")
    assert (s.initial_learning_rate, s.decay_steps, s.decay_rate, s.staircase, s.name) == \
        (0.1, 10, 0.5, True, "lr")
    assert s.get_config() == {"initial_learning_rate": 0.1, "decay_steps": 10,
                              "decay_rate": 0.5, "staircase": True, "name": "lr"}
    configs = {
        train.PiecewiseConstantDecay: {"boundaries": [5], "values": [1.0, 0.5], "name": "p"},
        train.PolynomialDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                "end_learning_rate": 0.01, "power": 2.0, "cycle": True,
                                "name": "p"},
        train.InverseTimeDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                 "decay_rate": 0.5, "staircase": False, "name": "i"},
        train.CosineDecay: {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1,
                            "name": "c"},
        train.CosineDecayRestarts: {"initial_learning_rate": 0.1, "first_decay_steps": 10,
                                    "t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1, "name": "r"},
        train.LinearCosineDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                  "num_periods": 0.5, "alpha": 0.0, "beta": 0.001,
                                  "name": "l"},
        train.NoisyLinearCosineDecay: {"initial_learning_rate": 0.1, "decay_steps": 10,
                                       "initial_variance": 1.0, "variance_decay": 0.55,
                                       "num_periods": 0.5, "alpha": 0.0, "beta": 0.001,
                                       "name": "n"},
    }
    for cls, config in configs.items():
        s = cls(**config)
        assert s.get_config() == config, cls
        assert cls.from_config(s.get_config()).get_config() == config, cls


def test_piecewise_constant_returns_the_values_dtype():
    # TF: values are converted with convert_to_tensor (Python ints -> int32) and returned
    s = train.PiecewiseConstantDecay([5, 10], [3, 2, 1])
    out = s(step_tensor(7))
    assert out.dtype == np.int32 and int(to_numpy(out)) == 2
    out = train.PiecewiseConstantDecay([5], [np.float64(0.5), np.float64(0.25)])(step_tensor(9))
    assert out.dtype == np.float64 and float(to_numpy(out)) == 0.25


def test_tf1_piecewise_constant_dtype_checks():
    gs = ef.Variable(np.int64(3), trainable=False, name="gs_audit_pc")
    # Python int boundaries (int32) are promoted to an int64 x; step <= boundary is earlier
    f = train.piecewise_constant(gs, [3, 6], [1.0, 0.5, 0.25])
    assert float(f()) == 1.0
    with pytest.raises(ValueError, match="Boundaries"):
        train.piecewise_constant(gs, [3.0, 6.0], [1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="Boundaries"):
        train.piecewise_constant(tensor(np.float32(3.0)), [3, 6], [1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="Values must have elements all with the same dtype"):
        train.piecewise_constant(gs, [3, 6], [1.0, 0.5, 1])
    with pytest.raises(ValueError, match="Values must have elements all with the same dtype"):
        train.piecewise_constant_decay(gs, [3], [np.float64(1.0), 0.5])
    # a float x with float boundaries is fine
    f = train.piecewise_constant(tensor(np.float32(3.5)), [3.0, 6.0], [1.0, 0.5, 0.25])
    assert float(f()) == 0.5


def test_tf1_decay_functions_with_tf_names():
    gs = ef.Variable(np.int64(15), trainable=False, name="gs_audit_names")
    # TF1 natural_exp_decay is ExponentialDecay with the rate exp(-decay_rate) (float32)
    rate = np.exp(f32(-0.5))
    want = f32(0.1) * np.power(rate, np.floor(f32(15) / f32(10)))
    assert float(train.natural_exp_decay(0.1, gs, 10, 0.5, staircase=True, name="n")()) == \
        pytest.approx(float(want), rel=1e-7)
    # polynomial cycle: decay_steps * ceil(step / decay_steps)
    want = (0.1 - 0.01) * (1 - 15 / 20) ** 2 + 0.01
    assert float(train.polynomial_decay(0.1, gs, 10, 0.01, power=2.0, cycle=True,
                                        name="p")) == pytest.approx(want, rel=1e-6)


# --- clipping -------------------------------------------------------------------------------

def test_clip_by_value_order_and_tf_doc_examples():
    # TF: t_min = minimum(t, clip_value_max); t_max = maximum(t_min, clip_value_min)
    t = tensor(np.array([[-10.0, -1.0, 0.0], [0.0, 2.0, 10.0]], np.float32))
    np.testing.assert_array_equal(to_numpy(train.clip_by_value(t, -1, 1)),
                                  [[-1, -1, 0], [0, 1, 1]])
    t = tensor(np.array([[-1, 0.0, 10.0], [-1, 0, 10]], np.float32))
    np.testing.assert_array_equal(
        to_numpy(train.clip_by_value(t, np.array([[2], [1]], np.float32), 100)),
        [[2, 2, 10], [1, 1, 10]])
    # clip_value_min > clip_value_max: TF's maximum, applied last, gives clip_value_min
    x = tensor(np.array([1.0, 5.0], np.float32))
    np.testing.assert_array_equal(to_numpy(train.clip_by_value(x, 3.0, 2.0)), [3.0, 3.0])


def test_clip_by_value_errors():
    t = tensor(np.array([[-1, 0.0, 10.0], [-1, 0, 10]], np.float32))
    # "Broadcasting fails, intentionally, if you would expand the dimensions of t"
    with pytest.raises(ValueError):
        train.clip_by_value(t, np.array([[[2, 1]]], np.float32), 100)
    with pytest.raises(ValueError):
        train.clip_by_value(t, -1.0, np.ones((4, 2, 3), np.float32))
    # "It throws a TypeError if you try to clip an int to a float value"
    with pytest.raises(TypeError):
        train.clip_by_value(tensor(np.array([[1, 2], [3, 4]], np.int32)), -3.1, 3.1)


def test_clip_by_norm_negative_clip_norm_is_zero():
    # TF: "If a negative clip_norm is provided, it will be treated as zero"
    t = tensor(np.array([3.0, 4.0], np.float32))
    np.testing.assert_array_equal(to_numpy(train.clip_by_norm(t, -2.0)), [0.0, 0.0])
    np.testing.assert_array_equal(
        to_numpy(train.clip_by_norm(t, tensor(np.float32(-2.0)))), [0.0, 0.0])
    # TF's doc example
    got = train.clip_by_norm(tensor(np.array([[1, 2, 3, 4, 5]], np.float32)), 2.0)
    v = np.array([[1, 2, 3, 4, 5]], np.float32)
    np.testing.assert_allclose(to_numpy(got), v * 2.0 / np.sqrt((v * v).sum()), rtol=1e-6)


def test_clip_by_norm_rejects_a_broadcasting_clip_norm():
    # TF: values.shape.assert_is_compatible_with((values * clip_norm).shape)
    t = tensor(np.array([3.0, 4.0], np.float32))
    with pytest.raises(ValueError):
        train.clip_by_norm(t, np.ones((3, 2), np.float32))


def test_clip_by_average_norm():
    # TF: t * clip_norm * minimum(rsqrt(sum(t * t)) * size(t), 1 / clip_norm)
    v = np.array([[3.0, 4.0], [0.0, 12.0]], np.float32)
    for clip in (1.0, 2.0, 100.0):
        want = v * clip * min(1 / np.sqrt((v * v).sum()) * v.size, 1 / clip)
        got = clip_by_average_norm(tensor(v), clip)
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-6)
    # the average norm (|t| / n = 13 / 4) is below 10: unchanged
    np.testing.assert_allclose(to_numpy(clip_by_average_norm(tensor(v), 10.0)), v, rtol=1e-6)


def test_clip_by_global_norm_accepts_any_sequence():
    # TF: isinstance(t_list, collections_abc.Sequence) and not a str
    a = tensor(np.array([3.0, 4.0], np.float32))
    seq = collections.UserList([a, None])
    out, norm = train.clip_by_global_norm(seq, 1.0)
    assert float(to_numpy(norm)) == 5.0 and out[1] is None
    np.testing.assert_allclose(to_numpy(out[0]), [0.6, 0.8], rtol=1e-6)
    assert float(to_numpy(train.global_norm(seq))) == 5.0
    with pytest.raises(TypeError):
        train.clip_by_global_norm("ab", 1.0)
    # use_norm is returned as given, and scales every entry: t * clip / max(use_norm, clip)
    out, norm = train.clip_by_global_norm([a], 2.0, use_norm=tensor(np.float32(10.0)))
    assert float(to_numpy(norm)) == 10.0
    np.testing.assert_allclose(to_numpy(out[0]), [0.6, 0.8], rtol=1e-6)
    # a NaN norm makes every entry NaN
    out, _ = train.clip_by_global_norm([a], 1.0, use_norm=tensor(np.float32(math.nan)))
    assert np.isnan(to_numpy(out[0])).all()


# --- per-step work: numbers stay kernel arguments (no host-to-device copies) ----------------
class _NoNumberArrays:
    """NumPy, except that ``asarray`` of a Python or NumPy number fails: on the GPU that
    would be a host-to-device copy in every training step."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def asarray(value, *args, **kwargs):
        if isinstance(value, (bool, int, float, np.generic)):
            raise AssertionError(f"array made from the number {value!r}")
        return np.asarray(value, *args, **kwargs)


@pytest.mark.parametrize("make", [
    lambda: train.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    lambda: train.InverseTimeDecay(0.1, 10, 0.5),
    lambda: train.NaturalExpDecay(0.1, 10, 0.5),
    lambda: train.PiecewiseConstantDecay([5, 10], [0.1, 0.01, 0.001]),
    lambda: train.PolynomialDecay(0.1, 10, cycle=True),
    lambda: train.CosineDecay(0.1, 10, alpha=0.1),
    lambda: train.CosineDecayRestarts(0.1, 10),
    lambda: train.LinearCosineDecay(0.1, 10),
    lambda: train.LinearWarmup(train.ExponentialDecay(0.1, 10, 0.5), 5),
])
def test_schedules_turn_no_number_into_an_array(make):
    sched = make()
    for step in (0, 3, 7, 25):
        s = np.asarray(step, np.int64)
        got = np.asarray(sched._compute(_NoNumberArrays(), s))
        want = to_numpy(sched(step_tensor(step)))
        assert got.dtype == want.dtype
        # the host computation against the device's: CUDA's expf may differ in the last bit
        np.testing.assert_allclose(float(got), float(want), rtol=2e-7)


def test_clipping_turns_no_number_into_a_tensor(monkeypatch):
    import eagerflow.train.clipping as clipping
    real = clipping.convert_to_tensor

    def no_numbers(value, *args, **kwargs):
        if isinstance(value, (bool, int, float, np.generic)):
            raise AssertionError(f"tensor made from the number {value!r}")
        return real(value, *args, **kwargs)
    grads = [tensor(np.array([3.0, 4.0], f32)), None, tensor(np.array([[12.0]], f32))]
    monkeypatch.setattr(clipping, "convert_to_tensor", no_numbers)
    clipped, norm = train.clip_by_global_norm(grads, 6.5)
    by_norm = train.clip_by_norm(grads[0], 2.5)
    by_avg = clip_by_average_norm(grads[0], 1.0)
    # TF's formulas in float32
    n = f32(13.0)
    scale = f32(6.5) * min(f32(1) / n, f32(1) / f32(6.5))
    assert float(to_numpy(norm)) == 13.0 and clipped[1] is None
    assert to_numpy(clipped[0]).tolist() == (np.array([3.0, 4.0], f32) * scale).tolist()
    assert to_numpy(by_norm).tolist() == (np.array([3.0, 4.0], f32) * f32(2.5) / f32(5.0)).tolist()
    assert np.allclose(to_numpy(by_avg), [1.2, 1.6])
