"""Backend selection, dtype policy, host<->device copies, memory stats."""
import os
import subprocess
import sys

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend


def test_asarray_dtype_policy():
    assert backend.asarray([1.0]).dtype == np.float32
    assert backend.asarray([1, 2]).dtype == np.int32  # TF: Python ints are int32
    assert backend.asarray([1, 2**40]).dtype == np.int64  # unless one does not fit
    assert backend.asarray(np.array([1.0])).dtype == np.float64
    assert backend.asarray([1], dtype="float64").dtype == np.float64
    assert backend.asarray(["x"]).dtype == object


def test_to_numpy_and_to_device_roundtrip():
    a = np.arange(5.0)
    d = backend.to_device(a)
    assert backend.array_module(d) is backend.xp()
    np.testing.assert_array_equal(backend.to_numpy(d), a)
    assert backend.to_numpy(np.float32(2)).shape == ()


def test_set_backend_errors():
    with pytest.raises(ValueError, match="backend must be one of"):
        ef.set_backend("tpu")
    if not backend.gpu_available():
        with pytest.raises(RuntimeError, match="cupy backend needs CuPy"):
            ef.set_backend("cupy")
        assert ef.get_backend() == "numpy"


def test_set_backend_numpy_then_restore():
    before = ef.get_backend()
    try:
        ef.set_backend("numpy")
        assert ef.constant([1.0]).backend == "numpy"
    finally:
        ef.set_backend(before)


def test_environment_variable_selects_and_validates():
    env = dict(os.environ, EAGERFLOW_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", "import eagerflow as ef; print(ef.get_backend())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
    env["EAGERFLOW_BACKEND"] = "bogus"
    bad = subprocess.run([sys.executable, "-c", "import eagerflow"], env=env,
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "EAGERFLOW_BACKEND must be one of" in bad.stderr


def test_memory_stats_and_synchronize():
    stats = ef.memory_stats()
    assert stats["backend"] == ef.get_backend()
    assert stats["used_bytes"] >= 0 and stats["total_bytes"] >= stats["used_bytes"]
    backend.synchronize()


def test_dtype_names():
    assert ef.as_dtype("float32") is ef.float32
    assert ef.as_dtype(float) == np.float32 and ef.as_dtype(int) == np.int64
    assert ef.as_dtype(bool) == np.bool_ and ef.as_dtype(str) == object
    assert ef.bool == np.bool_ and ef.string == object


@pytest.mark.gpu
@pytest.mark.skipif(backend.get_backend() != "cupy", reason="needs the cupy backend")
def test_copy_to_device_moves_numbers_and_keeps_strings_on_the_host():
    from eagerflow.backend import transfer
    arrays = [np.arange(3.0), np.array(["a", "b"]), np.array([b"a"]),
              np.array([b"x"], dtype=object), np.zeros((0, 2), np.int64), "not an array"]
    out = transfer.copy_to_device(arrays)
    assert [type(a).__module__.split(".")[0] for a in out[:5]] == \
        ["cupy", "numpy", "numpy", "numpy", "cupy"]
    assert out[5] == "not an array"
    np.testing.assert_array_equal(backend.to_numpy(out[0]), [0.0, 1.0, 2.0])
