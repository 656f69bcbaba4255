"""The Estimator's GPU input feeder (a thread that reads batches ahead and copies them to
the device): checkpoints still record the position of the last batch trained on, and a
run resumed from one continues exactly. On the CPU backend the feeder is off, so these
tests switch it on with a host "device" copy."""
import threading

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import estimator as est
from eagerflow.data import Dataset
from eagerflow.estimator import input_position
from eagerflow.estimator.input_position import STATE_NAME
from eagerflow.train import load_checkpoint

R = np.random.default_rng(3)
X = R.standard_normal((96, 4)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)


class _HostAsDevice:
    """backend.transfer with the copy done on the host (the feeder's logic, no GPU)."""
    copies = 0

    @staticmethod
    def device_transfer_active():
        return True

    @classmethod
    def copy_to_device(cls, arrays):
        cls.copies += 1
        return [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]


@pytest.fixture(params=[False, True], ids=["direct", "feeder"])
def feeder(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(input_position, "_transfer", _HostAsDevice)
    return request.param


def input_fn():
    return Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(32, seed=4).repeat().batch(8)


def model_fn(features, labels, mode):
    logits = ef.layers.dense(features["x"], 1, name="out")
    loss = ef.reduce_mean(ef.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                                  logits=logits))
    train_op = ef.train.GradientDescentOptimizer(0.1).minimize(
        loss, global_step=ef.train.get_global_step())
    return est.EstimatorSpec(mode, loss=loss, train_op=train_op)


class _CrashAt(ef.train.SessionRunHook):
    def __init__(self, step):
        self.step, self.n = step, 0

    def after_run(self, run_context, run_values):
        self.n += 1
        if self.n == self.step:
            raise RuntimeError("simulated crash")


def _estimator(d):
    return est.Estimator(model_fn, config=est.RunConfig(
        model_dir=str(d), tf_random_seed=1, save_checkpoints_steps=3,
        log_step_count_steps=None, save_summary_steps=None))


def test_crash_and_resume_equals_an_uninterrupted_run(tmp_path, feeder):
    whole = _estimator(tmp_path / "whole")
    whole.train(input_fn, max_steps=12)
    crashed = _estimator(tmp_path / "crashed")
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.train(input_fn, max_steps=12, hooks=[_CrashAt(8)])
    ckpt = crashed.latest_checkpoint()
    assert ckpt.endswith("-6")
    # the position saved at step 6 is that of the 6th batch, not of the read-ahead
    assert load_checkpoint(ckpt).get_extra_state(STATE_NAME) is not None
    crashed.train(input_fn, max_steps=12)
    for name in whole.get_variable_names():
        np.testing.assert_array_equal(crashed.get_variable_value(name),
                                      whole.get_variable_value(name), err_msg=name)
    if feeder:
        assert _HostAsDevice.copies > 0
    assert not [t for t in threading.enumerate() if t.name == "eagerflow-input-feeder"]


def test_saved_positions_equal_with_and_without_the_feeder(tmp_path, monkeypatch):
    def saved(d, with_feeder):
        if with_feeder:
            monkeypatch.setattr(input_position, "_transfer", _HostAsDevice)
        e = _estimator(d)
        with pytest.raises(RuntimeError):
            e.train(input_fn, max_steps=20, hooks=[_CrashAt(11)])
        return load_checkpoint(e.latest_checkpoint()).get_extra_state(STATE_NAME)

    assert saved(tmp_path / "a", False) == saved(tmp_path / "b", True)


def test_input_errors_reach_the_training_thread(tmp_path, feeder):
    def bad_input():
        yield {"x": X[:8]}, Y[:8]
        yield {"x": X[:8]}, Y[:8]
        raise ValueError("broken record")

    with pytest.raises(ValueError, match="broken record"):
        _estimator(tmp_path).train(bad_input, steps=5)
