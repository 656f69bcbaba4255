"""``tf.compat.v1`` / ``v2`` paths: migrated TF1 code runs with ``import eagerflow as tf``."""
import doctest

import numpy as np
import pytest

import eagerflow as tf
from tests.gradcheck import to_numpy


def test_v1_and_v2_names_are_eagerflows():
    v1, v2 = tf.compat.v1, tf.compat.v2
    assert v1.train.AdamOptimizer is tf.train.AdamOptimizer
    assert v1.feature_column.input_layer is tf.feature_column.input_layer
    assert v1.layers.dense is tf.layers.dense
    assert v1.estimator.DNNLinearCombinedClassifier is tf.estimator.DNNLinearCombinedClassifier
    assert v1.metrics.auc is tf.metrics.auc and v1.losses.log_loss is tf.losses.log_loss
    assert v1.get_variable is tf.get_variable and v1.variable_scope is tf.variable_scope
    assert v1.nn.relu is tf.nn.relu and v2.nn.dropout is tf.nn.dropout
    assert v2.data.Dataset is tf.data.Dataset
    with pytest.raises(AttributeError, match="no_such_thing"):
        v1.no_such_thing  # noqa: B018


def test_v1_dropout_takes_keep_prob_second():
    """TF1's tf.nn.dropout(x, keep_prob): kept entries scaled by 1/keep_prob."""
    x = tf.ones((200, 50))
    y = to_numpy(tf.compat.v1.nn.dropout(x, 0.8, seed=3))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.8, rtol=1e-6)
    assert 0.75 < kept.mean() < 0.85  # ~80% kept, not ~20% as rate=0.8 would
    y2 = to_numpy(tf.compat.v1.nn.dropout(x, rate=0.25, seed=3))
    np.testing.assert_allclose(y2[y2 != 0], 1 / 0.75, rtol=1e-6)
    assert np.array_equal(to_numpy(tf.compat.v1.nn.dropout(x, 1.0)), to_numpy(x))


def test_graph_mode_switches_are_accepted_and_change_nothing():
    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.disable_v2_behavior()
    assert tf.compat.v1.executing_eagerly()
    assert float(to_numpy(tf.reduce_sum(tf.constant([1.0, 2.0])))) == 3.0


def test_docstring_examples():
    from eagerflow import compat
    assert doctest.testmod(compat).failed == 0
