"""``ef.debugging`` (tf.debugging) and the TF1 top-level asserts: pass silently, fail with
TF's error class and message."""
import doctest

import numpy as np
import pytest

import eagerflow as ef
from eagerflow import debugging as dbg
from eagerflow.errors import InvalidArgumentError
from tests.gradcheck import check_grads, to_numpy


def test_docstring_examples():
    assert doctest.testmod(dbg, optionflags=doctest.ELLIPSIS).failed == 0


# --- binary asserts -------------------------------------------------------------------------
@pytest.mark.parametrize("fn, x, y", [
    (dbg.assert_equal, [1, 2], [1, 2]), (dbg.assert_none_equal, [1, 2], [3, 4]),
    (dbg.assert_less, [1, 2], [2, 3]), (dbg.assert_less_equal, [1, 2], [1, 2]),
    (dbg.assert_greater, [2, 3], [1, 2]), (dbg.assert_greater_equal, [2, 3], [2, 3]),
])
def test_binary_asserts_pass_and_return_none(fn, x, y):
    assert fn(ef.constant(x), ef.constant(y)) is None
    assert fn(ef.constant(x), y) is None  # a Python value takes the tensor's dtype
    assert fn(ef.constant([x, x]), ef.constant(y)) is None  # broadcasting
    assert fn(ef.zeros((0,)), ef.zeros((0,))) is None  # empty: trivially true


@pytest.mark.parametrize("fn, sym, x, y", [
    (dbg.assert_equal, "==", [1, 2, 3], [1, 5, 3]),
    (dbg.assert_none_equal, "!=", [1, 2, 3], [4, 2, 6]),
    (dbg.assert_less, "<", [1, 5, 3], [2, 2, 4]),
    (dbg.assert_less_equal, "<=", [1, 5, 3], [1, 2, 3]),
    (dbg.assert_greater, ">", [2, 2, 4], [1, 5, 3]),
    (dbg.assert_greater_equal, ">=", [1, 2, 3], [1, 5, 3]),
])
def test_binary_asserts_fail_with_tfs_message(fn, sym, x, y):
    with pytest.raises(InvalidArgumentError) as err:
        fn(ef.constant(x), ef.constant(y))
    lines = str(err.value).split("\n")
    assert lines == [f"Condition x {sym} y did not hold.", "Indices of first 1 different values:",
                     "[[1]]", "Corresponding x values:", f"[{x[1]}]",
                     "Corresponding y values:", f"[{y[1]}]", "First 3 elements of x:",
                     str(np.array(x, np.int32)), "First 3 elements of y:",
                     str(np.array(y, np.int32))]


def test_binary_assert_message_summarize_and_shapes():
    x, y = ef.constant([[1.0, 2.0], [3.0, 4.0]]), ef.constant([[1.0, 0.0], [0.0, 4.0]])
    with pytest.raises(InvalidArgumentError) as err:
        dbg.assert_equal(x, y, message="custom", summarize=1)
    lines = str(err.value).split("\n")
    assert lines[0] == "custom" and lines[1] == "Condition x == y did not hold."
    assert lines[2] == "Indices of first 1 different values:" and lines[3] == "[[0 1]]"
    assert lines[-1] == "[1.]"  # summarize=1: one element of y
    with pytest.raises(InvalidArgumentError) as err:  # scalars: no index section
        dbg.assert_less(ef.constant(3), ef.constant(2))
    assert str(err.value) == ("Condition x < y did not hold.\nFirst 1 elements of x:\n[3]\n"
                              "First 1 elements of y:\n[2]")
    with pytest.raises(InvalidArgumentError) as err:
        dbg.assert_equal(ef.constant([1, 2]), ef.constant([3, 4]), summarize=0)
    assert str(err.value) == "Condition x == y did not hold."
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
        dbg.assert_equal(ef.constant([1, 2]), ef.constant([1, 2, 3]))
    with pytest.raises(InvalidArgumentError, match="cannot compute Equal as input #1"
                                                   r"\(zero-based\) was expected to be a int32 "
                                                   "tensor but is a float tensor"):
        dbg.assert_equal(ef.constant([1]), ef.constant([1.0]))
    nan = ef.constant([float("nan")])
    assert dbg.assert_equal(nan, nan) is None  # the same tensor short-circuits, as in TF
    with pytest.raises(InvalidArgumentError):
        dbg.assert_equal(nan, ef.constant([float("nan")]))


def test_assert_none_equal_takes_summarize_third():
    with pytest.raises(InvalidArgumentError) as err:
        dbg.assert_none_equal(ef.constant([1, 2, 3, 4]), ef.constant([1, 2, 3, 4]), 2)
    assert "First 2 elements of x:" in str(err.value)


# --- unary asserts ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, sym, good, bad", [
    (dbg.assert_negative, "< 0", [-1, -2], [1, -2, 3]),
    (dbg.assert_positive, "> 0", [1, 2], [1, -2, 3]),
    (dbg.assert_non_negative, ">= 0", [0, 2], [1, -2, 3]),
    (dbg.assert_non_positive, "<= 0", [0, -2], [1, -2, 3]),
])
def test_unary_asserts(fn, sym, good, bad):
    assert fn(ef.constant(good)) is None and fn(ef.zeros((0,), ef.int32)) is None
    with pytest.raises(InvalidArgumentError) as err:
        fn(ef.constant(bad))
    assert str(err.value) == (f"\nCondition x {sym} did not hold element-wise:\n"
                              "x (shape=(3,) dtype=int32) = \n['1', '-2', '3']")
    with pytest.raises(InvalidArgumentError) as err:
        fn(ef.constant(bad, dtype=ef.float32), message="m", summarize=1)
    assert str(err.value).split("\n")[0] == "m.  " and str(err.value).endswith("['1.0', '...']")


# --- assert_near / Assert -------------------------------------------------------------------------
def test_assert_near():
    assert dbg.assert_near(ef.constant([1.0, 2.0]), ef.constant([1.0, 2.0 + 1e-7])) is None
    assert dbg.assert_near(ef.constant([1.0]), [1.05], atol=0.1) is None
    assert dbg.assert_near(ef.constant([100.0]), [101.0], rtol=0.02) is None
    with pytest.raises(InvalidArgumentError) as err:
        dbg.assert_near(ef.constant([1.0, 2.0]), ef.constant([1.0, 2.5]), message="close")
    text = str(err.value)
    assert text.startswith("Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                           "Summarized data: close.  \nx and y not equal to tolerance rtol = "
                           "tf.Tensor(1.1920929e-06, shape=(), dtype=float32)")
    assert text.endswith("x (shape=(2,) dtype=float32) = \n1.0, 2.0\n"
                         "y (shape=(2,) dtype=float32) = \n1.0, 2.5")
    with pytest.raises(InvalidArgumentError):  # NaN is never near
        dbg.assert_near(ef.constant([float("nan")]), ef.constant([float("nan")]))
    with pytest.raises(ValueError, match="float or complex"):
        dbg.assert_near(ef.constant([1]), ef.constant([1]))


def test_assert_op():
    assert dbg.Assert(True, ["x"]) is None and dbg.Assert(ef.constant(True), []) is None
    with pytest.raises(InvalidArgumentError) as err:
        dbg.Assert(ef.constant(False), ["bad value:", ef.constant([1, 2, 3, 4]), 7])
    assert str(err.value) == ("Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                              "Summarized data: bad value:\n1, 2, 3, ...\n7")
    with pytest.raises(InvalidArgumentError, match=r"Summarized data: 1, 2, 3, 4$"):
        dbg.Assert(False, [ef.constant([1, 2, 3, 4])], summarize=-1)
    with pytest.raises(InvalidArgumentError, match="scalar"):
        dbg.Assert(ef.constant([True, True]), [])
    assert ef.Assert is dbg.Assert


# --- ranks, types, scalars, shapes -------------------------------------------------------------------
def test_rank_asserts():
    x = ef.zeros((2, 3))
    assert dbg.assert_rank(x, 2) is None and dbg.assert_rank(x, ef.constant(2)) is None
    with pytest.raises(ValueError) as err:
        dbg.assert_rank(ef.constant([1.0, 2.0]), 2)
    assert str(err.value) == "Tensor  must have rank 2.  Received rank 1, shape (2,)"
    with pytest.raises(ValueError, match=r"^msg\.  Tensor  must have rank 0"):
        dbg.assert_rank(x, 0, message="msg")
    with pytest.raises(ValueError, match="Rank must be a scalar"):
        dbg.assert_rank(x, [2])
    assert dbg.assert_rank_at_least(x, 1) is None
    with pytest.raises(ValueError, match=r"must have rank at least 3.  Received rank 2, "
                                         r"shape \(2, 3\)"):
        dbg.assert_rank_at_least(x, 3)
    assert dbg.assert_rank_in(x, [1, 2]) is None
    with pytest.raises(ValueError, match=r"must have rank in \(0, 1\).  Received rank 2"):
        dbg.assert_rank_in(x, (0, 1))
    assert dbg.assert_rank(ef.SparseTensor([[0, 1]], [1.0], [2, 2]), 2) is None


def test_type_integer_scalar_asserts():
    assert dbg.assert_type(ef.constant(1.0), ef.float32) is None
    assert dbg.assert_type(ef.constant(1.0), "float32") is None
    with pytest.raises(TypeError, match="^tensor must be of type tf.int32; got tf.float32$"):
        dbg.assert_type(ef.constant([1.0]), ef.int32)
    with pytest.raises(TypeError, match=r"^m\.  tensor must be of type tf.bool"):
        dbg.assert_type(ef.constant(21), ef.bool, message="m")
    assert dbg.assert_integer(ef.constant([1, 2], dtype=ef.uint8)) is None
    with pytest.raises(TypeError, match='Expected "x" to be integer type.  Found: tensor of '
                                        "dtype <dtype: 'float32'>"):
        dbg.assert_integer(ef.constant([1.0]))
    with pytest.raises(TypeError):
        dbg.assert_integer(ef.constant([True]))
    assert dbg.assert_scalar(ef.constant(3)) is None
    with pytest.raises(ValueError, match=r"^Expected scalar shape, saw shape: \(2,\)\.$"):
        dbg.assert_scalar(ef.constant([1, 2]))
    t = ef.constant(5)
    assert ef.assert_scalar(t) is t  # TF1's assert_scalar returns the tensor


def test_assert_shapes():
    n, q, d = 10, 3, 7
    x, y = ef.zeros([n, q]), ef.ones([n, d])
    param, scalar = ef.Variable([1.0, 2.0, 3.0]), 1.0
    assert dbg.assert_shapes([(x, ("N", "Q")), (y, ("N", "D")), (param, ("Q",)),
                              (scalar, ())]) is None
    with pytest.raises(ValueError) as err:
        dbg.assert_shapes([(x, ("N", "D")), (y, ("N", "D"))])
    assert str(err.value) == ("Specified by tensor shape=(10, 3) dtype=float32 dimension 1.  "
                              "Tensor shape=(10, 7) dtype=float32 dimension 1 must have size "
                              "3.  Received size 7, shape (10, 7)")
    with pytest.raises(ValueError, match=r"^m\.  Specified explicitly.  Tensor shape=\(10, 3\) "
                                         r"dtype=float32 dimension 0 must have size 4"):
        dbg.assert_shapes([(x, (4, "."))], message="m")
    assert dbg.assert_shapes([(x, ("*", 3)), (ef.zeros((5, 2, 3)), (..., "Q")),
                              (x, (None, "3")), (y, None)]) is None
    with pytest.raises(ValueError, match="must have rank 3"):
        dbg.assert_shapes([(x, ("a", "b", "c"))])
    with pytest.raises(ValueError, match="only allowed as the first entry"):
        dbg.assert_shapes([(x, ("N", "*"))])
    with pytest.raises(ValueError, match="must be an iterable"):
        dbg.assert_shapes([(x, 3)])
    with pytest.raises(ValueError, match="dimension -1 must have size 4"):
        dbg.assert_shapes([(x, ("*", 4))])


# --- numerics and predicates -------------------------------------------------------------------
def test_check_numerics():
    x = ef.constant([1.0, 2.0])
    assert dbg.check_numerics(x, "m") is x and dbg.assert_all_finite(x, "m") is x
    for vals, status in (([1.0, float("nan")], "NaN"), ([float("-inf")], "Inf"),
                         ([float("nan"), float("inf")], "Inf and NaN")):
        with pytest.raises(InvalidArgumentError, match=f"^bad loss : Tensor had {status} values$"):
            dbg.check_numerics(ef.constant(vals), "bad loss")
    with pytest.raises(InvalidArgumentError, match="NaN"):
        dbg.check_numerics(ef.constant([float("nan")], dtype=ef.float16), "h")
    with pytest.raises(InvalidArgumentError, match="Inf"):
        dbg.assert_all_finite(ef.constant([float("inf")], dtype=ef.float64), "d")
    with pytest.raises(InvalidArgumentError, match="allowed values: bfloat16, half, float"):
        dbg.check_numerics(ef.constant([1, 2]), "ints")
    check_grads(lambda t: dbg.check_numerics(t * t, "sq"), np.array([1.0, -2.0, 3.0]))
    v = ef.Variable([1.0])
    out = dbg.check_numerics(v, "v")
    assert not isinstance(out, ef.Variable) and to_numpy(out).tolist() == [1.0]


def test_is_numeric_and_misc_predicates():
    assert dbg.is_numeric_tensor(ef.constant([1.0])) and dbg.is_numeric_tensor(ef.constant(1))
    assert dbg.is_numeric_tensor(ef.Variable(1.0))
    assert not dbg.is_numeric_tensor(ef.constant(True))
    assert not dbg.is_numeric_tensor(ef.constant("s")) and not dbg.is_numeric_tensor(1.0)
    assert dbg.assert_proper_iterable((1, 2)) is None
    for bad in (ef.constant([1]), "abc", np.zeros(2), 3):
        with pytest.raises(TypeError):
            dbg.assert_proper_iterable(bad)
    assert dbg.assert_same_float_dtype() == ef.float32
    assert dbg.assert_same_float_dtype([ef.constant(1.0, dtype=ef.float64), None]) == ef.float64
    with pytest.raises(ValueError, match="same type"):
        dbg.assert_same_float_dtype([ef.constant(1.0), ef.constant(1.0, dtype=ef.float64)])
    with pytest.raises(ValueError, match="floating point"):
        dbg.assert_same_float_dtype([ef.constant(1)])


# --- TF1 top-level aliases ------------------------------------------------------------------------
def test_top_level_tf1_aliases():
    assert ef.assert_equal is dbg.assert_equal_v1 and ef.assert_rank is dbg.assert_rank_v1
    assert ef.check_numerics is dbg.check_numerics and ef.assert_type is dbg.assert_type
    assert ef.compat.v1.assert_less is dbg.assert_less_v1
    x = ef.constant([1, 2])
    # TF1: data third (printed instead of the default message)
    with pytest.raises(InvalidArgumentError) as err:
        ef.assert_equal(x, ef.constant([1, 3]), ["values:", x], message="prefix")
    assert str(err.value) == "prefix\nvalues:\n['1', '2']"
    # TF2 spelling at the top level: a string third argument is the message
    with pytest.raises(InvalidArgumentError, match="^custom\nCondition x < y"):
        ef.assert_less(x, ef.constant([0, 0]), "custom")
    with pytest.raises(ValueError, match=r"^msg\.  Tensor  must have rank 3"):
        ef.assert_rank(x, 3, "msg")
    with pytest.raises(InvalidArgumentError, match="^m.  \nCondition x > 0"):
        ef.assert_positive(ef.constant([-1]), "m")
    with pytest.raises(InvalidArgumentError, match="not equal to tolerance"):
        ef.assert_near(ef.constant([1.0]), ef.constant([2.0]), 1e-3, 1e-3, None, 2, "m")
    for name in ("assert_greater", "assert_greater_equal", "assert_less_equal", "assert_none_equal",
                 "assert_negative", "assert_non_negative", "assert_non_positive",
                 "assert_rank_at_least", "assert_rank_in", "assert_integer", "is_numeric_tensor"):
        assert callable(getattr(ef, name))
    assert ef.assert_greater_equal(x, 1) is None and ef.assert_rank_at_least(x, 1) is None
