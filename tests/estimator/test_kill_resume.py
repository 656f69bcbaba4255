"""Kill-and-resume: a training process SIGKILLed at random steps, restarted each time, ends
with exactly the variables (model, optimizer slots, global step) of an uninterrupted run,
because each checkpoint carries the input iterator's and the random generators' positions."""
import os
import signal
import subprocess
import sys
import time

import numpy as np

from eagerflow import estimator as est
from eagerflow.train import latest_checkpoint, load_checkpoint
from eagerflow.train.saver import extra_state_path

WORKER = os.path.join(os.path.dirname(__file__), "resume_worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_STEPS = 40


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT, EAGERFLOW_BACKEND="numpy", NUMBA_NUM_THREADS="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _start(model_dir, sleep_s):
    return subprocess.Popen([sys.executable, WORKER, str(model_dir), str(MAX_STEPS),
                             str(sleep_s)], env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _saved_step(model_dir):
    ckpt = latest_checkpoint(str(model_dir))
    return -1 if ckpt is None else int(load_checkpoint(ckpt).global_step)


def _kill_after_checkpoint(model_dir, at_least, rng):
    """Starts the worker, waits until a checkpoint at step >= at_least exists, then kills it
    with SIGKILL after a random fraction of a checkpoint interval."""
    proc = _start(model_dir, sleep_s=0.03)
    deadline = time.monotonic() + 60
    while _saved_step(model_dir) < at_least:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.1))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    proc.stderr.close()
    return _saved_step(model_dir)


def _run_to_end(model_dir):
    proc = _start(model_dir, sleep_s=0.0)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]


def _variables(model_dir):
    reader = load_checkpoint(str(model_dir))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_sigkilled_training_resumes_to_the_uninterrupted_result(tmp_path):
    rng = np.random.default_rng(2026)
    killed = tmp_path / "killed"
    steps_at_kill = []
    for target in sorted(rng.choice(np.arange(4, MAX_STEPS - 8), 3, replace=False)):
        steps_at_kill.append(_kill_after_checkpoint(killed, max(target, _saved_step(killed) + 1),
                                                    rng))
    assert steps_at_kill == sorted(steps_at_kill) and steps_at_kill[-1] < MAX_STEPS
    # a crashed run's newest checkpoint carries the input position it will resume from
    assert os.path.exists(extra_state_path(latest_checkpoint(str(killed)), "input"))
    _run_to_end(killed)
    clean = tmp_path / "clean"
    _run_to_end(clean)

    got, want = _variables(killed), _variables(clean)
    assert sorted(got) == sorted(want)
    assert any("/Ftrl" in k for k in got) and any("Adagrad" in k for k in got)  # slots too
    assert int(got["global_step"]) == MAX_STEPS
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-7, err_msg=name)
    # a normal return drops the position: the next train() call restarts input_fn (TF)
    assert not os.path.exists(extra_state_path(latest_checkpoint(str(killed)), "input"))
    # the restarted processes rotated the killed ones' checkpoints (keep_checkpoint_max=3)
    assert len(list(killed.glob("model.ckpt-*.index"))) == 3
    assert len(list(killed.glob("model.ckpt-*.json"))) <= 2


def test_resume_without_the_input_position_differs(tmp_path):
    """The position matters (so the test above can fail): a crashed run resumed with its
    input restarted (the position file removed) ends elsewhere than an uninterrupted run."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    assert _kill_after_checkpoint(killed, 12, np.random.default_rng(0)) >= 12
    os.remove(extra_state_path(latest_checkpoint(str(killed)), "input"))
    _run_to_end(killed)
    _run_to_end(clean)
    got, want = _variables(killed), _variables(clean)
    assert int(got["global_step"]) == int(want["global_step"]) == MAX_STEPS
    assert any(not np.allclose(got[k], want[k]) for k in want)


def test_changed_pipeline_starts_from_the_beginning(tmp_path, caplog):
    """A saved position is applied only to a pipeline with the same recipe fingerprint."""
    import eagerflow as ef
    from eagerflow.data import Dataset
    from eagerflow.estimator.input_position import STATE_NAME

    def model_fn(features, labels, mode):
        w = ef.get_variable("w", [1, 1], initializer=ef.zeros_initializer())
        loss = ef.reduce_mean(ef.square(features["x"] @ w - labels))
        opt = ef.train.GradientDescentOptimizer(0.1)
        return est.EstimatorSpec(mode, loss=loss, train_op=opt.minimize(
            loss, global_step=ef.train.get_global_step()))

    x = np.arange(8, dtype=np.float32).reshape(-1, 1)

    def make(batch):
        return lambda: Dataset.from_tensor_slices(({"x": x}, 2 * x)).repeat().batch(batch)

    config = est.RunConfig(model_dir=str(tmp_path), save_checkpoints_steps=1)
    e = est.Estimator(model_fn, config=config)

    class Crash(ef.train.SessionRunHook):
        def after_run(self, run_context, run_values):
            if int(run_values.results) >= 3:
                raise KeyboardInterrupt  # an abrupt end: no end(), the position stays

        def before_run(self, run_context):
            return ef.train.SessionRunArgs(ef.train.get_global_step())
    try:
        e.train(make(2), max_steps=10, hooks=[Crash()])
    except KeyboardInterrupt:
        pass
    saved = load_checkpoint(e.latest_checkpoint()).get_extra_state(STATE_NAME)
    assert saved is not None and saved["fingerprint"]
    with caplog.at_level("WARNING", logger="eagerflow"):
        e.train(make(4), max_steps=5)
    assert "input pipeline differs" in caplog.text
    assert _saved_step(tmp_path) == 5
