"""TF1's initializer ops (no-ops eagerly, as tf.compat.v1 executing eagerly) and state ops
(assign/assign_add/assign_sub), at their TF1 top-level and compat.v1 names."""
import numpy as np
import pytest

import eagerflow as ef


@pytest.mark.parametrize("name", [
    "global_variables_initializer", "local_variables_initializer", "tables_initializer",
    "initialize_all_variables", "initialize_local_variables"])
def test_initializer_ops_are_no_ops(name):
    v = ef.Variable([1.0, 2.0])
    assert getattr(ef, name)() is None and getattr(ef.compat.v1, name)() is None
    assert v.numpy().tolist() == [1.0, 2.0]  # nothing was re-initialized


def test_variables_initializer_and_reports():
    v = ef.Variable([1.0])
    assert ef.variables_initializer([v]) is None
    assert bool(ef.is_variable_initialized(v).numpy()) is True
    assert ef.assert_variables_initialized([v]) is None
    r = ef.report_uninitialized_variables()
    assert tuple(r.shape) == (0,) and r.dtype == ef.string
    with pytest.raises(TypeError, match="ref must be a Variable"):
        ef.is_variable_initialized(ef.constant(1.0))


def test_assign_ops_write_the_variable_and_return_it():
    v = ef.Variable(np.array([1.0, 2.0], np.float32))
    assert ef.assign(v, [5.0, 6.0]) is v and v.numpy().tolist() == [5.0, 6.0]
    assert ef.assign_add(v, [1.0, 1.0]).numpy().tolist() == [6.0, 7.0]
    assert ef.compat.v1.assign_sub(v, ef.constant([2.0, 2.0])).numpy().tolist() == [4.0, 5.0]
    with pytest.raises(TypeError, match="assign: ref must be a Variable"):
        ef.assign(ef.constant([1.0]), [2.0])
    with pytest.raises((ValueError, TypeError)):
        ef.assign(v, [1.0, 2.0, 3.0])  # the shape must match
    assert v.numpy().tolist() == [4.0, 5.0]


def test_tf1_parsing_spec_names_are_io_s():
    assert ef.FixedLenFeature is ef.io.FixedLenFeature
    assert ef.VarLenFeature is ef.io.VarLenFeature
    assert ef.parse_single_example is ef.io.parse_single_example


def test_dtypes_namespace():
    assert ef.dtypes.float32 is ef.float32 and ef.dtypes.as_dtype("int64") is ef.int64
    assert ef.dtypes.cast(ef.constant([1.7, -1.7]), ef.dtypes.int32).numpy().tolist() == [1, -1]
    assert ef.dtypes.saturate_cast(ef.constant([300.0]), ef.dtypes.uint8).numpy().tolist() == [255]
    assert ef.dtypes.complex(ef.constant([1.0]), ef.constant([2.0])).dtype is ef.complex64
    assert isinstance(ef.dtypes.float32, ef.dtypes.DType)
