"""Shape ops: NumPy references, gradients, errors."""
import numpy as np
import pytest

import eagerflow as ef
from tests.gradcheck import GradCase, run_case, tensor, to_numpy

R = np.random.default_rng(2)


def rand(*shape):
    return R.uniform(-2, 2, size=shape)


GRAD_CASES = [
    GradCase("reshape", lambda x: ef.reshape(x, (4, -1)) * 2.0, rand(2, 6), order=2),
    GradCase("transpose", lambda x: ef.transpose(x, (2, 0, 1)), rand(2, 3, 4)),
    GradCase("concat", lambda x, y: ef.concat([x, y, x], axis=1), rand(2, 3), rand(2, 1),
             order=2),
    GradCase("split", lambda x: ef.split(x, [1, 3], axis=1)[1] * ef.split(x, 2, axis=0)[0][:, :3],
             rand(2, 4)),
    GradCase(["tile"], lambda x: ef.tile(x, (2, 3)), rand(2, 2)),
    GradCase("pad", lambda x: ef.pad(x, [[1, 2], [0, 1]]), rand(2, 3)),
    GradCase("pad", lambda x: ef.pad(x, [[2, 1], [1, 2]], mode="REFLECT"), rand(3, 4),
             id="pad-reflect"),
    GradCase("pad", lambda x: ef.pad(x, [[2, 1], [0, 0]], mode="SYMMETRIC"), rand(3, 2),
             id="pad-symmetric"),
    GradCase("broadcast_to", lambda x: ef.broadcast_to(x, (3, 2, 4)), rand(2, 1)),
    GradCase("reverse", lambda x: ef.reverse(x, [0, 1]) * x, rand(2, 3)),
    GradCase(["reshape", "concat"], lambda x: ef.stack([x, x * x], axis=1), rand(3, 2)),
    GradCase(["split"], lambda x: ef.unstack(x, axis=1)[2], rand(3, 4), id="unstack"),
    GradCase("conj", lambda x: ef.ops.array._conj(x) * x, rand(3)),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=repr)
def test_grad(case):
    run_case(case)


def test_forward_matches_numpy():
    a = rand(2, 3, 4)
    x = tensor(a)
    checks = [
        (ef.reshape(x, (6, -1)), a.reshape(6, -1)),
        (ef.transpose(x), a.transpose()),
        (ef.transpose(x, [1, 0, 2]), a.transpose(1, 0, 2)),
        (ef.expand_dims(x, -1), a[..., None]),
        (ef.expand_dims(x, 0), a[None]),
        (ef.squeeze(ef.expand_dims(x, 1), axis=1), a),
        (ef.concat([x, x], axis=-1), np.concatenate([a, a], -1)),
        (ef.stack([x, x], axis=1), np.stack([a, a], 1)),
        (ef.tile(x, [1, 2, 1]), np.tile(a, [1, 2, 1])),
        (ef.pad(x, [[0, 0], [1, 1], [2, 0]], constant_values=3.0),
         np.pad(a, [(0, 0), (1, 1), (2, 0)], constant_values=3.0)),
        (ef.slice(x, [0, 1, 1], [2, -1, 2]), a[0:2, 1:, 1:3]),
        (ef.broadcast_to(ef.constant(a[0, 0]), (3, 4)), np.broadcast_to(a[0, 0], (3, 4))),
        (ef.reverse(x, [1]), a[:, ::-1]),
        (ef.matrix_transpose(x), a.swapaxes(-1, -2)),
    ]
    for got, want in checks:
        np.testing.assert_array_equal(to_numpy(got), want)
    parts = ef.split(x, [1, -1], axis=2)
    assert [p.shape for p in parts] == [(2, 3, 1), (2, 3, 3)]
    assert len(ef.unstack(x, axis=1)) == 3
    assert to_numpy(ef.shape(x)).tolist() == [2, 3, 4]
    assert int(ef.rank(x)) == 3 and int(ef.size(x)) == 24
    assert x.shape.as_list() == [2, 3, 4] and x.shape.num_elements() == 24


def test_errors_name_the_problem():
    x = tensor(rand(2, 3))
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\)"):
        ef.reshape(x, (4, 2))
    with pytest.raises(ValueError, match="at most one dimension may be -1"):
        ef.reshape(x, (-1, -1))
    with pytest.raises(ValueError, match="not a permutation"):
        ef.transpose(x, (0, 0))
    with pytest.raises(ValueError, match="cannot squeeze axis 1 of size 3"):
        ef.squeeze(x, axis=1)
    with pytest.raises(ValueError, match="differ outside axis"):
        ef.concat([x, tensor(rand(3, 3))], axis=1)
    with pytest.raises(ValueError, match="same rank"):
        ef.concat([x, tensor(rand(3))], axis=0)
    with pytest.raises(ValueError, match="cannot be split into 4 equal parts"):
        ef.split(x, 4, axis=1)
    with pytest.raises(ValueError, match="mode must be one of"):
        ef.pad(x, [[1, 1], [1, 1]], mode="WRAP")
    with pytest.raises(ValueError, match="cannot broadcast"):
        ef.broadcast_to(x, (3, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        ef.slice(x, [1, 0], [2, 1])
    with pytest.raises(ValueError, match="multiples has 1 entries"):
        ef.tile(x, [2])
    with pytest.raises(TypeError, match="same dtype"):
        ef.concat([x, tensor(np.ones((2, 3), np.float32))], axis=0)


def test_empty_tensors():
    e = tensor(np.zeros((0, 4)))
    assert ef.reshape(e, (0, 2, 2)).shape == (0, 2, 2)
    assert ef.concat([e, e], axis=0).shape == (0, 4)
    assert ef.unstack(e) == []


def test_device_copy_roundtrip_and_gradient():
    from tests.gradcheck import check_grads
    x = tensor(rand(3))
    h = x.cpu()
    assert h.backend == "numpy"
    np.testing.assert_array_equal(to_numpy(h), to_numpy(x))
    with pytest.raises(ValueError, match="backend must be"):
        ef.ops.array.to_device(x, "tpu")
    back = ef.get_backend()  # the result returns to the backend under test
    check_grads(lambda t: ef.ops.array.to_device(t.cpu() * 2.0, back), rand(3),
                expect_ops=("device_copy",))


GRAD_CASES.append(GradCase(
    "device_copy", lambda x: ef.ops.array.to_device(ef.ops.array.to_device(x, "numpy") * x.cpu(),
                                                    ef.get_backend()), rand(3)))


def test_sequence_mask_matches_numpy_and_traces():
    lengths = np.array([[0, 3], [5, 1]])
    got = to_numpy(ef.sequence_mask(tensor(lengths), 4))
    np.testing.assert_array_equal(got, np.arange(4) < lengths[..., None])
    assert got.dtype == np.bool_ and got.shape == (2, 2, 4)
    f = to_numpy(ef.sequence_mask([2, 0, 1], dtype=ef.float32))  # maxlen = max(lengths)
    assert f.dtype == np.float32 and f.tolist() == [[1, 1], [0, 0], [1, 0]]
    assert to_numpy(ef.sequence_mask(np.zeros(0, np.int64))).shape == (0, 0)
    with pytest.raises(TypeError, match="sequence_mask: lengths must be integers"):
        ef.sequence_mask(tensor(np.array([1.5])), 2)
    with pytest.raises(ValueError, match="maxlen must be >= 0"):
        ef.sequence_mask([1], -1)
    from eagerflow.saved_model.tracer import trace_graph
    graph, consts, _, _ = trace_graph(lambda n: ef.sequence_mask(n, 6, dtype=ef.float32),
                                      lambda b: (tensor(np.arange(b) % 7),))
    assert [n["op"] for n in graph["nodes"]] == ["sequence_mask"] and not consts


def test_tf1_top_level_spellings():
    assert ef.to_float(tensor(np.array([1, 2]))).dtype == np.float32
    assert ef.to_double(tensor(np.array([1]))).dtype == np.float64
    assert ef.to_int32(tensor(np.array([1.7]))).dtype == np.int32
    assert to_numpy(ef.to_int64(tensor(np.array([1.7, -1.7])))).tolist() == [1, -1]
    ef.set_random_seed(5)
    a = to_numpy(ef.random_normal((3,), seed=1))
    ef.random.set_seed(5)
    np.testing.assert_array_equal(a, to_numpy(ef.random.normal((3,), seed=1)))
    u = to_numpy(ef.random_uniform((1000,), minval=2.0, maxval=3.0, seed=2))
    assert u.min() >= 2.0 and u.max() < 3.0
    assert np.abs(to_numpy(ef.truncated_normal((1000,), seed=3))).max() <= 2.0
    assert sorted(to_numpy(ef.random_shuffle(tensor(np.arange(5)), seed=4)).tolist()) == \
        [0, 1, 2, 3, 4]
    assert to_numpy(ef.multinomial(tensor(np.array([[-1e9, 0.0]])), 3, seed=6)).tolist() == \
        [[1, 1, 1]]
    assert float(to_numpy(ef.norm(tensor(np.array([3.0, 4.0]))))) == 5.0
    assert float(to_numpy(ef.trace(tensor(np.eye(3))))) == 3.0


def test_tf1_graph_helpers_are_eager_no_ops():
    import eagerflow.variables as vs
    with vs.VariableStore().as_default():
        x = tensor(np.ones((4, 2)))
        with ef.name_scope("block") as scope, ef.device("/gpu:0"):
            assert scope == "block/"
            y = ef.layers.batch_normalization(x, training=True, name="bn")
            with ef.control_dependencies(ef.get_collection(ef.GraphKeys.UPDATE_OPS)):
                z = ef.identity(y * 2.0)
            v = vs.get_variable("v", [1])
        assert v.name == "v"  # name_scope does not name variables, as in TF1
        assert ef.group(y, z) is None and ef.no_op() is None
        np.testing.assert_allclose(to_numpy(z), to_numpy(y) * 2.0)
    with ef.name_scope(None, default_name="d") as scope:
        assert scope == "d/"
    with pytest.raises(TypeError, match="control_inputs must be a list"):
        with ef.control_dependencies(3):
            pass
