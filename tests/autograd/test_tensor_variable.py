"""Tensor and Variable behaviour: properties, conversions, DLPack, assignment."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow.autograd.registry import Op, get, register
from tests.gradcheck import tensor, to_numpy


def test_constant_defaults_and_shapes():
    assert ef.constant(1.5).dtype == np.float32
    assert ef.constant(3).dtype == np.int32 and ef.constant(-2**31 - 1).dtype == np.int64
    assert ef.constant([1.0, 2.0], dtype=ef.float64).dtype == np.float64
    assert ef.constant(np.float64(2.0)).dtype == np.float64
    assert ef.constant(True).dtype == np.bool_
    assert ef.constant(["a", "b"]).dtype == object
    np.testing.assert_array_equal(to_numpy(ef.constant(2.0, shape=(2, 2))), [[2, 2], [2, 2]])
    assert ef.constant([1, 2, 3, 4], shape=[2, 2]).shape == (2, 2)
    with pytest.raises(ValueError, match="cannot be reshaped"):
        ef.constant([1, 2, 3], shape=[2, 2])
    with pytest.raises(TypeError, match="not understood"):
        ef.constant(1.0, dtype="float99")


def test_tensor_protocols():
    x = ef.constant([[1.0, 2.0], [3.0, 4.0]])
    assert x.ndim == 2 and x.size == 4 and len(x) == 2 and x.shape.as_list() == [2, 2]
    assert [to_numpy(r).tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert to_numpy(x.T).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert x.astype(ef.int32).dtype == np.int32
    assert float(ef.constant(2.5)) == 2.5 and int(ef.constant(7)) == 7
    assert bool(ef.constant(True))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="unhashable"):
        hash(x)
    assert x.ref() == x.ref() and len({x.ref(), x.ref()}) == 1 and x.ref().deref() is x
    assert "ef.Tensor: shape=(2, 2), dtype=float32" in repr(x)
    assert f"{ef.constant(1.25):.1f}" == "1.2"
    with pytest.raises(TypeError, match="0-d"):
        len(ef.constant(1.0))
    assert ef.is_tensor(x) and not ef.is_tensor(np.ones(2))
    assert x.device.startswith("cpu" if ef.get_backend() == "numpy" else "gpu")


def test_numpy_interop_on_cpu():
    if ef.get_backend() != "numpy":
        x = ef.constant([1.0])
        with pytest.raises(TypeError, match="implicit conversion"):
            np.asarray(x)
        return
    x = ef.constant([1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_dlpack_roundtrip_shares_memory():
    """With torch (CPU or CUDA, matching the backend) when it is installed, else NumPy."""
    try:
        import torch
    except ImportError:
        torch = None
    x = ef.constant([1.0, 2.0])
    if torch is not None:
        t = torch.from_dlpack(x)
        t[0] = 5.0  # shared memory: the tensor sees the write
        assert to_numpy(x)[0] == 5.0
        src = torch.arange(3.0, device="cuda" if ef.get_backend() == "cupy" else "cpu")
        back = ef.from_dlpack(src)
        assert back.backend == ef.get_backend() and to_numpy(back).tolist() == [0.0, 1.0, 2.0]
    elif ef.get_backend() == "numpy":
        view = np.from_dlpack(x)
        view[0] = 5.0
        assert to_numpy(x)[0] == 5.0


def test_dlpack_from_numpy():
    a = np.arange(4.0)
    x = ef.from_dlpack(a) if ef.get_backend() == "numpy" else None
    if x is not None:
        assert np.shares_memory(x.numpy(), a)
    y = np.from_dlpack(ef.constant([1.0, 2.0])) if ef.get_backend() == "numpy" else None
    if y is not None:
        assert y.tolist() == [1.0, 2.0]


def test_variable_assign_family():
    v = ef.Variable([1.0, 2.0], name="w")
    buf = v.data
    assert v.name == "w" and v.trainable
    v.assign([5.0, 6.0])
    v.assign_add(tensor(np.array([1.0, 1.0], np.float32)))
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(to_numpy(v), [5.5, 6.5])
    assert v.data is buf  # in place: optimizers and CUDA graphs keep the same buffer
    snap = v.read_value()
    ident = ef.identity(v)
    v.assign([0.0, 0.0])
    assert to_numpy(snap).tolist() == [5.5, 6.5] and to_numpy(ident).tolist() == [5.5, 6.5]
    with pytest.raises(ValueError, match=r"does not match the variable's shape \(2,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected"):
        ef.Variable(np.ones(3), shape=(2,))
    assert ef.Variable(lambda: np.zeros(2)).shape == (2,)
    src = np.ones(2)
    w = ef.Variable(src)
    w.assign_add([1.0, 1.0])
    assert src.tolist() == [1.0, 1.0]  # a variable never aliases its initial value
    assert "ef.Variable 'w'" in repr(v)


def test_registry_rejects_duplicates_and_unknown_names():
    with pytest.raises(ValueError, match="already registered"):
        register("add", lambda xp, a: a)
    with pytest.raises(KeyError, match="no op named 'nope'"):
        get("nope")
    assert isinstance(get("add"), Op) and "add" in repr(get("add"))
