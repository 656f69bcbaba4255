"""TF's DType API on Tensor.dtype and ef.float32...: TF's attribute values, equality and
hashing as the NumPy dtype, and NumPy/backend arrays taking a DType wherever a dtype goes."""
import pickle

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend


@pytest.mark.parametrize("dt,name,floating,integer,unsigned,size,enum", [
    (ef.float32, "float32", True, False, False, 4, 1),
    (ef.float64, "float64", True, False, False, 8, 2),
    (ef.int32, "int32", False, True, False, 4, 3),
    (ef.uint8, "uint8", False, True, True, 1, 4),
    (ef.int64, "int64", False, True, False, 8, 9),
    (ef.bool, "bool", False, False, True, 1, 10),
    (ef.bfloat16, "bfloat16", True, False, False, 2, 14),
    (ef.float16, "float16", True, False, False, 2, 19),
    (ef.string, "string", False, False, False, 1, 7),
    (ef.complex64, "complex64", False, False, False, 8, 8),
])
def test_dtype_attributes_are_tfs(dt, name, floating, integer, unsigned, size, enum):
    assert dt.name == name and str(dt) == f"<dtype: '{name}'>" and repr(dt) == f"tf.{name}"
    assert dt.is_floating is floating and dt.is_integer is integer
    assert dt.is_unsigned is unsigned and dt.size == size and dt.as_datatype_enum == enum
    assert dt.base_dtype is dt and dt.is_compatible_with(dt)
    assert ef.as_dtype(name) is dt and ef.as_dtype(enum) is dt


def test_limits_and_numpy_types():
    assert ef.int32.max == 2**31 - 1 and ef.int32.min == -2**31
    assert ef.uint8.limits == (0, 255) and ef.bool.max is True
    assert ef.float32.max == np.finfo(np.float32).max
    assert float(ef.bfloat16.max) == pytest.approx(3.3895e38, rel=1e-3)
    assert ef.float32.as_numpy_dtype is np.float32 and ef.int64.as_numpy_dtype is np.int64
    assert ef.complex64.real_dtype is ef.float32 and ef.complex128.real_dtype is ef.float64
    assert ef.complex64.is_complex and not ef.float32.is_complex
    with pytest.raises(TypeError, match="minimum/maximum"):
        ef.string.max


def test_tensor_dtype_is_a_dtype_equal_to_numpys():
    t = ef.constant([1.0, 2.0])
    assert isinstance(t.dtype, ef.DType) and t.dtype is ef.float32
    assert t.dtype == np.float32 and t.dtype == np.dtype("float32") and t.dtype == "float32"
    assert np.dtype("float32") == t.dtype and t.dtype != ef.float64 and t.dtype != np.int32
    assert {np.dtype("float32"): "x"}[t.dtype] == "x" and hash(t.dtype) == hash(np.dtype("f4"))
    assert t.dtype.kind == "f" and t.dtype.itemsize == 4  # NumPy's attributes forwarded
    assert ef.constant(["a"]).dtype is ef.string and ef.constant(["a"]).dtype == object
    assert ef.Variable(1).dtype is ef.int32
    assert ef.SparseTensor([[0]], [1.0], [2]).dtype is ef.float32
    assert ef.TensorSpec([2], ef.float64).dtype is ef.float64


def test_numpy_and_the_backend_take_a_dtype():
    xp = backend.xp()
    assert np.zeros(2, ef.int32).dtype == np.int32
    assert np.arange(3).astype(ef.float16).dtype == np.float16
    assert xp.zeros(2, dtype=ef.float64).dtype == np.float64
    assert ef.cast(ef.constant([1.5]), ef.int32).numpy().tolist() == [1]
    assert ef.zeros([2], dtype=ef.bfloat16).dtype is ef.bfloat16
    assert np.issubdtype(ef.float32, np.floating)


def test_messages_format_the_plain_name_and_dtypes_are_immutable_and_pickle():
    assert f"{ef.float32}" == "float32" and f"{ef.string:>8}" == "  string"
    with pytest.raises(AttributeError, match="immutable"):
        ef.float32.foo = 1
    assert pickle.loads(pickle.dumps(ef.float32)) is ef.float32
    assert pickle.loads(pickle.dumps(ef.bfloat16)) is ef.bfloat16
    with pytest.raises(TypeError):
        ef.as_dtype("not-a-dtype")
