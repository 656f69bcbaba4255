"""The global step's host copy: hooks read it after every step without a device sync."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend
from eagerflow.autograd.variable import Variable
from eagerflow.backend import transfer
from eagerflow.train import get_or_create_global_step
from eagerflow.train.basic_session_run_hooks import (CheckpointSaverHook, StepCounterHook,
                                                     StopAtStepHook)
from eagerflow.train.session_run_hook import HookRunner
from eagerflow.summary import SummarySaverHook
from eagerflow.variables import VariableStore


def _device_value(v):
    return int(np.asarray(backend.to_numpy(v._data)))


def test_host_copy_follows_integer_writes_and_refills_after_others():
    with VariableStore().as_default():
        gs = get_or_create_global_step()
        assert int(gs.numpy()) == 0
        gs.assign_add(3)
        gs.assign_sub(1)
        assert gs._host == 2 and int(gs.numpy()) == 2 == _device_value(gs)
        gs.assign(np.int64(7))
        assert gs._host == 7 == _device_value(gs)
        # a value only the device holds drops the copy; the next read refills it
        gs.assign(ef.constant(11, dtype="int64"))
        assert gs._host is not None and not isinstance(gs._host, int)
        assert int(gs.numpy()) == 11 and gs._host == 11
        gs.assign_add(ef.constant(2, dtype="int64"))
        assert int(gs.numpy()) == 13 == _device_value(gs)
        # a new buffer (a restore) also refills
        gs._set_array(backend.asarray(np.int64(40)))
        assert int(gs.numpy()) == 40 and ef.train.global_step(None, gs) == 40


def test_numpy_of_the_global_step_is_a_snapshot():
    with VariableStore().as_default():
        gs = get_or_create_global_step()
        before = gs.numpy()
        gs.assign_add(1)
        assert int(before) == 0 and int(gs.numpy()) == 1
        assert gs.numpy().dtype == np.int64 and gs.numpy().shape == ()


def test_only_scalar_number_variables_keep_a_host_copy():
    with pytest.raises(TypeError, match="only a scalar integer or float variable"):
        Variable(np.zeros(2, np.int64), name="v")._mirror_on_host()
    with pytest.raises(TypeError, match="bool"):
        Variable(np.bool_(True), name="b")._mirror_on_host()
    plain = Variable(np.int64(5), name="plain")  # not asked: no copy kept
    plain.assign_add(1)
    assert plain._host is None and int(plain.numpy()) == 6


def test_step_hooks_do_not_read_the_device(tmp_path, monkeypatch):
    """Stop, checkpoint, step-counter and summary hooks read the step from the host copy:
    the only device reads left are the checkpoint saves themselves."""
    with VariableStore().as_default():
        gs = get_or_create_global_step()
        w = ef.Variable(np.ones(2, np.float32), name="w")
        writer = ef.summary.FileWriter(str(tmp_path / "s"))
        hooks = [StopAtStepHook(last_step=12),
                 CheckpointSaverHook(str(tmp_path), save_steps=5),
                 StepCounterHook(every_n_steps=4, summary_writer=writer),
                 SummarySaverHook(save_steps=100, summary_writer=writer, summary_op={})]
        runner = HookRunner(hooks)
        runner.begin()
        runner.after_create_session()
        reads = []
        real = backend.to_numpy

        def counting(a):
            if getattr(a, "shape", None) == () and np.dtype(a.dtype).kind in "iu":
                reads.append(a)
            return real(a)
        monkeypatch.setattr(backend, "to_numpy", counting)
        steps = 0
        while not runner.should_stop():
            def step():
                w.assign_add(np.ones(2, np.float32))
                gs.assign_add(1)
                return {"loss": ef.reduce_sum(w), "global_step": gs}
            runner.run_step(step)
            steps += 1
        monkeypatch.setattr(backend, "to_numpy", real)
        runner.end()
        assert steps == 12 and _device_value(gs) == 12
        # the saves at steps 5 and 10 write the step's device value into their files
        assert len(reads) == 2, f"{len(reads)} device reads of an integer scalar"
        assert ef.train.latest_checkpoint(str(tmp_path)).endswith("-12")


def test_a_captured_step_keeps_the_host_copy_current():
    """ef.function replays (CUDA graphs on the GPU) run no Python: the captured `+= 1`
    is applied to the host copy at each replay."""
    with VariableStore().as_default():
        gs = get_or_create_global_step()
        w = ef.Variable(np.zeros(3, np.float32), name="w")

        @ef.function
        def step(x):
            w.assign_add(x)
            gs.assign_add(1)
            return ef.reduce_sum(w)
        x = ef.constant(np.ones(3, np.float32))
        for i in range(1, 8):
            step(x)
            assert int(gs.numpy()) == i
        assert _device_value(gs) == 7
        np.testing.assert_allclose(w.numpy(), np.full(3, 7.0, np.float32))


def test_on_replay_outside_a_capture_is_an_error():
    from eagerflow.backend import cuda_graph
    with pytest.raises(RuntimeError, match="only during a capture"):
        cuda_graph.on_replay(lambda: None)


def test_read_async_gives_the_value_of_its_time():
    a = backend.asarray(np.arange(4, dtype=np.float32))
    r = transfer.read_async(a)
    a += 1  # queued after the copy: not in the result
    np.testing.assert_array_equal(r.result(), np.arange(4, dtype=np.float32))
    assert r.ready() and isinstance(r.result(), np.ndarray)
    empty = transfer.read_async(backend.asarray(np.zeros((0, 3), np.int32)))
    assert empty.result().shape == (0, 3)


def test_a_float_host_copy_rounds_as_the_device_does():
    v = Variable(np.float32(1.0), name="f")._mirror_on_host()
    assert float(v.numpy()) == 1.0  # the first read fills the copy
    for _ in range(10):
        v.assign_add(0.1)
    assert v._host is not None and v._host == float(backend.to_numpy(v._data))
    v.assign(2 ** 0.5)
    assert v._host == float(np.float32(2 ** 0.5)) == float(backend.to_numpy(v._data))
    v.assign_add(ef.constant(np.float32(1)))  # a device value: the copy is refilled on read
    assert float(v.numpy()) == float(np.float32(2 ** 0.5) + np.float32(1))
    i = Variable(np.int64(3), name="i")._mirror_on_host()
    i.numpy()
    i.assign_add(1)
    i.assign_sub(np.int32(2))
    assert int(i.numpy()) == 2 == int(backend.to_numpy(i._data))
