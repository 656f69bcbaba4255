"""TF's dtypes for Python values: ints convert to int32 (int64 when a value does not fit),
floats to float32; ops given only Python values convert them that way; integer reductions
keep their dtype; shape/size/rank are int32 unless ``out_type`` says otherwise; ``range``
infers the widest argument type. Expected dtypes are TF 2.x's (``tf.constant(1).dtype`` is
int32, ``tf.shape(x).dtype`` int32, ``tf.range(5).dtype`` int32, ``tf.argmax`` int64)."""
import numpy as np
import pytest

import eagerflow as ef


@pytest.mark.parametrize("value,dtype", [
    (1, np.int32), ([1, 2], np.int32), ([[1], [2]], np.int32), (2**31 - 1, np.int32),
    (-2**31, np.int32), (2**31, np.int64), ([1, -2**31 - 1], np.int64), (1.5, np.float32),
    ([1, 2.5], np.float32), (True, np.bool_), ([], np.float32),
    (np.int64(1), np.int64), (np.array([1], np.int16), np.int16), (np.float64(1.0), np.float64),
])
def test_constant_converts_python_values_as_tf(value, dtype):
    t = ef.constant(value)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(value))


def test_convert_to_tensor_and_explicit_dtype():
    assert ef.convert_to_tensor([3, 4]).dtype == np.int32
    assert ef.convert_to_tensor([3, 4], dtype=ef.int64).dtype == np.int64
    assert ef.constant(7, dtype=ef.int64).dtype == np.int64


@pytest.mark.parametrize("fn,dtype,expected", [
    (lambda: ef.reduce_sum([1, 2]), np.int32, 3),
    (lambda: ef.reduce_prod([2, 3]), np.int32, 6),
    (lambda: ef.cumsum([1, 2]), np.int32, [1, 3]),
    (lambda: ef.stack([1, 2]), np.int32, [1, 2]),
    (lambda: ef.concat([[1], [2]], 0), np.int32, [1, 2]),
    (lambda: ef.zeros_like([1, 2]), np.int32, [0, 0]),
    (lambda: ef.ones_like([1.0, 2.0]), np.float32, [1.0, 1.0]),
    (lambda: ef.tile([1], [2]), np.int32, [1, 1]),
    (lambda: ef.maximum(1, 2), np.int32, 2),
    (lambda: ef.maximum([1, 2], 3), np.int32, [3, 3]),
    (lambda: ef.add([1.0, 2.0], 1), np.float32, [2.0, 3.0]),
    (lambda: ef.abs(-3.5), np.float32, 3.5),
    (lambda: ef.where([True, False], [1, 2], [3, 4]), np.int32, [1, 4]),
    (lambda: ef.fill([2], 3), np.int32, [3, 3]),
])
def test_ops_on_python_values_only(fn, dtype, expected):
    out = fn()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), expected)


def test_python_values_next_to_a_tensor_take_its_dtype():
    x = ef.constant([1.0, 2.0])
    assert (x + [1, 2]).dtype == np.float32
    assert ef.add(x, [1, 2]).dtype == np.float32
    i64 = ef.constant([1, 2], dtype=ef.int64)
    assert (i64 + 1).dtype == np.int64 and (i64 * [2, 3]).dtype == np.int64


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.int64])
def test_integer_reductions_keep_their_dtype(dtype):
    x = ef.constant(np.array([[1, 2], [3, 4]], dtype))
    for fn, ref in ((ef.reduce_sum, np.sum), (ef.reduce_prod, np.prod)):
        for axis in (None, 0, 1):
            out = fn(x, axis=axis)
            assert out.dtype == dtype
            np.testing.assert_array_equal(out.numpy(), ref(x.numpy(), axis=axis).astype(dtype))


def test_integer_sum_wraps_in_its_dtype_as_tf():
    # TF's int32 sum overflows in int32 (NumPy would widen to int64)
    x = ef.constant(np.array([2**31 - 1, 1], np.int32))
    assert ef.reduce_sum(x).numpy() == np.array([2**31 - 1, 1], np.int32).sum(dtype=np.int32)


def test_bool_sum_is_unchanged():
    assert ef.reduce_sum(ef.constant([True, True])).numpy() == 2


def test_shape_size_rank_are_int32_unless_out_type():
    x = ef.zeros([2, 3])
    assert ef.shape(x).dtype == np.int32 and ef.shape(x).numpy().tolist() == [2, 3]
    assert ef.shape(x, out_type=ef.int64).dtype == np.int64
    assert ef.size(x).dtype == np.int32 and int(ef.size(x)) == 6
    assert ef.size(x, out_type=ef.int64).dtype == np.int64
    assert ef.rank(x).dtype == np.int32 and int(ef.rank(x)) == 2
    assert ef.shape(ef.zeros([0])).numpy().tolist() == [0]


@pytest.mark.parametrize("args,kwargs,dtype,expected", [
    ((5,), {}, np.int32, [0, 1, 2, 3, 4]),
    ((1, 7, 2), {}, np.int32, [1, 3, 5]),
    ((1.0, 2.0, 0.5), {}, np.float32, [1.0, 1.5]),
    ((1, 2.5), {}, np.float32, [1.0, 2.0]),
    ((2**31, 2**31 + 2), {}, np.int64, [2**31, 2**31 + 1]),
    ((3,), {"dtype": ef.int64}, np.int64, [0, 1, 2]),
    ((3,), {"dtype": ef.float64}, np.float64, [0.0, 1.0, 2.0]),
    ((0,), {}, np.int32, []),
])
def test_range_infers_the_widest_argument_type(args, kwargs, dtype, expected):
    out = ef.range(*args, **kwargs)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), expected)


def test_range_takes_tensor_argument_dtypes():
    assert ef.range(ef.constant(4, dtype=ef.int64)).dtype == np.int64
    assert ef.range(ef.constant(1.0, dtype=ef.float64), 3).dtype == np.float64
    assert ef.range(ef.constant(3)).dtype == np.int32
    with pytest.raises(ValueError, match="delta"):
        ef.range(0, 3, 0)


def test_argmax_and_where_stay_int64_as_tf():
    assert ef.argmax(ef.constant([1.0, 3.0])).dtype == np.int64
    assert ef.where(ef.constant([True, False])).dtype == np.int64
