"""Eager control flow with TF's contract: cond, case, switch_case, while_loop, map_fn,
vectorized_map, foldl/foldr, py_function, numpy_function, print, get_static_value,
ensure_shape, identity_n. Expected values are TF's documented ones; gradients are checked
against finite differences in float64."""
import collections
import doctest
import logging
import sys

import numpy as np
import pytest

import eagerflow as ef
from eagerflow.errors import InvalidArgumentError
from eagerflow.ops import control_flow
from tests.gradcheck import check_grads, tensor, to_numpy

RNG = np.random.default_rng(7)


def _x(*shape):
    return RNG.standard_normal(shape)


def test_docstring_examples():
    assert doctest.testmod(control_flow, optionflags=doctest.ELLIPSIS).failed == 0


# --- cond -------------------------------------------------------------------------------------
def test_cond_runs_only_the_selected_branch():
    calls = []
    x, y = ef.constant(2), ef.constant(5)

    def f1():
        calls.append("t")
        return x * 7

    def f2():
        calls.append("f")
        return y + 3
    assert int(ef.cond(x < y, f1, f2)) == 14 and calls == ["t"]
    assert int(ef.cond(False, f1, f2)) == 8 and calls == ["t", "f"]
    assert int(ef.cond(ef.constant(1), f1, f2)) == 14  # a numeric scalar, as eager TF


def test_cond_is_strict_and_keeps_structure():
    out = ef.cond(True, lambda: [ef.constant(1.0)], lambda: [ef.constant(2.0)])
    assert isinstance(out, list) and len(out) == 1
    out = ef.cond(ef.constant(False), lambda: {"a": 1}, lambda: {"a": ef.constant(3)})
    assert int(out["a"]) == 3


def test_cond_errors():
    with pytest.raises(TypeError, match="'true_fn' argument required"):
        ef.cond(True, None, lambda: 1)
    with pytest.raises(TypeError, match="'false_fn' argument required"):
        ef.cond(True, lambda: 1)
    with pytest.raises(TypeError, match="'true_fn' must be callable"):
        ef.cond(True, 1, lambda: 1)
    with pytest.raises(TypeError, match="'false_fn' must be callable"):
        ef.cond(True, lambda: 1, 2)
    with pytest.raises(InvalidArgumentError, match=r"pred must be a scalar.*\[2\]"):
        ef.cond(ef.constant([True, False]), lambda: 1, lambda: 2)
    with pytest.raises(ValueError):  # InvalidArgumentError is a ValueError
        ef.cond(ef.constant([True]), lambda: 1, lambda: 2)
    with pytest.raises(TypeError, match="pred"):
        ef.cond(ef.constant("yes"), lambda: 1, lambda: 2)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_gradient(sign):
    def f(x, w):
        return ef.cond(ef.reduce_sum(x) * sign > -100.0 * sign,
                       lambda: ef.sin(x) * w, lambda: x * x * w)
    check_grads(f, _x(3), _x(3), order=2)


# --- case -------------------------------------------------------------------------------------
def test_case_picks_the_first_true_predicate_or_the_default():
    x, y, z = ef.constant(1), ef.constant(2), ef.constant(0)
    pairs = [(x < y, lambda: ef.constant(17)), (x > z, lambda: ef.constant(23))]
    assert int(ef.case(pairs, default=lambda: ef.constant(-1))) == 17
    pairs = [(x > y, lambda: ef.constant(17)), (x > z, lambda: ef.constant(23))]
    assert int(ef.case(pairs, default=lambda: ef.constant(-1))) == 23
    pairs = [(x > y, lambda: ef.constant(17)), (x < z, lambda: ef.constant(23))]
    assert int(ef.case(pairs, default=lambda: ef.constant(-1))) == -1
    # without a default the last pair is it, guarded by its predicate
    assert int(ef.case([(x > y, lambda: 1), (x > z, lambda: ef.constant(5))])) == 5


def test_case_unpacks_singletons_unless_strict():
    pairs = [(ef.constant(True), lambda: [ef.constant(4)])]
    assert int(ef.case(pairs)) == 4
    assert isinstance(ef.case(pairs, strict=True), list)


def test_case_errors():
    t, f = ef.constant(True), ef.constant(False)
    with pytest.raises(InvalidArgumentError, match="None of conditions evaluated as True"):
        ef.case([(f, lambda: 1), (f, lambda: 2)])
    with pytest.raises(InvalidArgumentError, match="exclusive=True"):
        ef.case([(t, lambda: 1), (t, lambda: 2)], default=lambda: 3, exclusive=True)
    assert ef.case([(f, lambda: 1), (t, lambda: 2)], exclusive=True) == 2
    with pytest.raises(TypeError, match="must be a Tensor"):
        ef.case([(True, lambda: 1)])
    with pytest.raises(TypeError, match="type bool"):
        ef.case([(ef.constant(1), lambda: 1)])
    with pytest.raises(TypeError, match="2-tuple"):
        ef.case([(t, lambda: 1, 3)])
    with pytest.raises(TypeError, match="list, tuple, or dict"):
        ef.case(t)
    with pytest.raises(TypeError, match="callable"):
        ef.case([(t, 5)])
    with pytest.raises(ValueError, match="Unordered dictionaries"):
        ef.case({1: lambda: 1})


def test_case_gradient():
    def f(x):
        s = ef.reduce_sum(x)
        return ef.case([(s > 100.0, lambda: x * 0.0), (s > -100.0, lambda: ef.exp(x) * x)],
                       default=lambda: x)
    check_grads(f, _x(4))


# --- switch_case ------------------------------------------------------------------------------
@pytest.mark.parametrize("fns", [
    [lambda: ef.constant(17), lambda: ef.constant(31)],
    {1: lambda: ef.constant(31), 0: lambda: ef.constant(17)},
    [(1, lambda: ef.constant(31)), (0, lambda: ef.constant(17))],
])
def test_switch_case_forms_and_out_of_range(fns):
    pick = lambda i, **kw: int(ef.switch_case(ef.constant(i), fns, **kw))  # noqa: E731
    assert pick(0) == 17 and pick(1) == 31
    assert pick(7) == 31 and pick(-1) == 31  # no default: the last branch, as TF
    assert pick(2, default=lambda: ef.constant(-1)) == -1
    assert pick(-3, default=lambda: ef.constant(-1)) == -1
    assert int(ef.switch_case(ef.constant(1, dtype=ef.int64), fns)) == 31


def test_switch_case_errors():
    fns = [lambda: 1, lambda: 2]
    with pytest.raises(TypeError, match="must be a Tensor"):
        ef.switch_case(1, fns)
    with pytest.raises(TypeError, match="integer Tensor"):
        ef.switch_case(ef.constant(1.0), fns)
    with pytest.raises(ValueError, match="at least one"):
        ef.switch_case(ef.constant(0), [])
    with pytest.raises(ValueError, match=r"contiguous range of \[0 to 2\) but found \{0,2\}"):
        ef.switch_case(ef.constant(0), {0: fns[0], 2: fns[1]})
    with pytest.raises(TypeError, match="key must be a Python `int`"):
        ef.switch_case(ef.constant(0), [("a", fns[0])])
    with pytest.raises(InvalidArgumentError, match="scalar"):
        ef.switch_case(ef.constant([0, 1]), fns)


def test_switch_case_gradient():
    def f(x):
        return ef.switch_case(ef.constant(1), [lambda: x, lambda: ef.tanh(x) * x])
    check_grads(f, _x(2, 3))


# --- while_loop -------------------------------------------------------------------------------
def test_while_loop_tf_examples():
    r = ef.while_loop(lambda i: ef.less(i, 10), lambda i: (ef.add(i, 1),), [ef.constant(0)])
    assert isinstance(r, list) and int(r[0]) == 10
    # a body returning a bare value for a single loop variable is accepted
    r = ef.while_loop(lambda i: i < 10, lambda i: i + 1, [ef.constant(0)])
    assert isinstance(r, list) and int(r[0]) == 10
    Pair = collections.namedtuple("Pair", "j, k")
    ijk = (ef.constant(0), Pair(ef.constant(1), ef.constant(2)))
    i, p = ef.while_loop(lambda i, p: i < 10, lambda i, p: (i + 1, Pair(p.j + p.k, p.j - p.k)),
                         ijk)
    j, k = 1, 2
    for _ in range(10):
        j, k = j + k, j - k
    assert int(i) == 10 and isinstance(p, Pair) and (int(p.j), int(p.k)) == (j, k)


def test_while_loop_shapes_may_change_and_python_values_become_tensors():
    i, m = ef.while_loop(lambda i, m: i < 3, lambda i, m: [i + 1, ef.concat([m, m], 0)],
                         [0, ef.ones((2, 2))], shape_invariants=[None, ef.TensorShape([None, 2])])
    assert isinstance(i, ef.Tensor) and i.dtype == ef.int32 and int(i) == 3
    assert m.shape == (16, 2)
    out = ef.while_loop(lambda x: x < 0, lambda x: x, [5.0])  # never runs
    assert out[0].dtype == ef.float32 and float(out[0]) == 5.0


def test_while_loop_single_and_dict_loop_vars():
    assert int(ef.while_loop(lambda x: x < 5, lambda x: x + 2, ef.constant(0))) == 6
    out = ef.while_loop(lambda d: d["a"] < 3, lambda d: {"a": d["a"] + 1, "b": d["b"] * 2},
                        {"a": ef.constant(0), "b": ef.constant(1.0)})
    assert int(out["a"]) == 3 and float(out["b"]) == 8.0


def test_while_loop_maximum_iterations():
    calls = []

    def body(i):
        calls.append(1)
        return (i + 1,)
    r = ef.while_loop(lambda i: i < 100, body, (ef.constant(0),), maximum_iterations=4)
    assert isinstance(r, tuple) and int(r[0]) == 4 and len(calls) == 4
    r = ef.while_loop(lambda i: i < 2, body, [ef.constant(0)],
                      maximum_iterations=ef.constant(50))
    assert int(r[0]) == 2
    assert int(ef.while_loop(lambda i: True, body, [0], maximum_iterations=0)[0]) == 0


def test_while_loop_errors():
    with pytest.raises(TypeError, match="'cond' must be callable"):
        ef.while_loop(1, lambda i: i, [0])
    with pytest.raises(TypeError, match="'body' must be callable"):
        ef.while_loop(lambda i: i < 1, 1, [0])
    with pytest.raises(TypeError, match="parallel_iterations"):
        ef.while_loop(lambda i: i < 1, lambda i: i, [0], parallel_iterations=0)
    with pytest.raises(ValueError, match="'loop_vars' must be provided"):
        ef.while_loop(lambda: False, lambda: (), [])
    with pytest.raises(ValueError, match="'maximum_iterations' must be a scalar"):
        ef.while_loop(lambda i: i < 1, lambda i: i, [0], maximum_iterations=[1, 2])
    with pytest.raises(ValueError, match="same nested structure"):
        ef.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1,), [ef.constant(0), 1])
    with pytest.raises(ValueError, match="same nested structure"):
        ef.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1, [j, j]), [0, 1])
    with pytest.raises(InvalidArgumentError, match="scalar"):
        ef.while_loop(lambda x: x < 3, lambda x: x + 1, [ef.constant([0, 1])])


def test_while_loop_gradient_and_back_prop_false():
    def f(x, w):
        _, y = ef.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, ef.sin(y) * w + y),
                             [ef.constant(0), x])
        return y
    check_grads(f, _x(3), _x(3), order=2)
    x = tensor(_x(3))
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * y), [0, x],
                          back_prop=False)[1]
    assert tape.gradient(ef.reduce_sum(y), x) is None


# --- map_fn -----------------------------------------------------------------------------------
def test_map_fn_tf_examples():
    np.testing.assert_array_equal(
        to_numpy(ef.map_fn(lambda t: ef.reduce_sum(t), ef.constant([[1, 2, 3], [4, 5, 6]]))),
        [6, 15])
    # multi-arity: a tuple of elems, a single output of another dtype
    out = ef.map_fn(lambda t: ef.cast(t[0], ef.float32) * t[1],
                    (ef.constant([1, 2, 3]), ef.constant([0.5, 1.0, 1.5])),
                    fn_output_signature=ef.float32)
    np.testing.assert_allclose(to_numpy(out), [0.5, 2.0, 4.5])
    # multiple outputs of different dtypes
    a, b = ef.map_fn(lambda x: (x, -x * 2.0), ef.constant([1.0, 2.0]),
                     fn_output_signature=(ef.float32, ef.TensorSpec([], ef.float32)))
    np.testing.assert_array_equal(to_numpy(b), [-2.0, -4.0])
    d = ef.map_fn(lambda e: {"s": e["x"] + e["y"], "p": e["x"] * e["y"]},
                  {"x": ef.constant([1, 2]), "y": ef.constant([3, 4])},
                  fn_output_signature={"s": ef.int32, "p": ef.int32})
    assert to_numpy(d["s"]).tolist() == [4, 6] and to_numpy(d["p"]).tolist() == [3, 8]
    # TF1's dtype= spelling, and a bool result
    out = ef.map_fn(lambda x: x > 1.5, ef.constant([1.0, 2.0]), dtype=ef.bool)
    assert out.dtype == ef.bool and to_numpy(out).tolist() == [False, True]


def test_map_fn_python_results_take_the_expected_dtype():
    out = ef.map_fn(lambda x: 1, ef.constant([1.0, 2.0]))
    assert out.dtype == ef.float32 and to_numpy(out).tolist() == [1.0, 1.0]
    s = ef.map_fn(lambda s: s, ef.constant(["a", "bc"]))
    assert s.dtype == ef.string and to_numpy(s).tolist() == ["a", "bc"]


def test_map_fn_empty_elems():
    out = ef.map_fn(lambda x: x * 2, ef.zeros((0, 3), dtype=ef.int64))
    assert out.shape == (0,) and out.dtype == ef.int64  # TF eager: unknown element shape
    out = ef.map_fn(lambda x: x, ef.zeros((0, 3)), fn_output_signature=ef.int32)
    assert out.shape == (0,) and out.dtype == ef.int32
    out = ef.map_fn(lambda x: x, ef.zeros((0, 3)),
                    fn_output_signature=ef.TensorSpec([3], ef.float64))
    assert out.shape == (0, 3) and out.dtype == ef.float64


def test_map_fn_errors():
    with pytest.raises(InvalidArgumentError, match="TensorArray dtype is float32 but Op is "
                                                   "trying to write dtype bool"):
        ef.map_fn(lambda x: x > 0, ef.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        ef.map_fn(lambda x: x, ef.constant(1.0))
    with pytest.raises(ValueError, match="1\\+ dimensional"):
        ef.map_fn(lambda x: x, [1, 2, 3])  # a list is a nest of three scalars, as in TF
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        ef.map_fn(lambda e: e[0], (ef.zeros(2), ef.zeros(3)))
    with pytest.raises(ValueError, match="same nested structure"):
        ef.map_fn(lambda e: e[0] + e[1], (ef.zeros(2), ef.zeros(2)))  # TF: needs a signature
    with pytest.raises(ValueError, match="not compatible with the element shape"):
        ef.map_fn(lambda x: ef.zeros((int(x),)), ef.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="does not contain any Tensors"):
        ef.map_fn(lambda x: x, [])
    with pytest.raises(TypeError, match="callable"):
        ef.map_fn(3, ef.zeros(2))


def test_map_fn_gradient():
    def f(x, w):
        return ef.map_fn(lambda row: ef.reduce_sum(row * row) * row + w, x)
    check_grads(f, _x(4, 3), _x(3), order=2)

    def g(x, y):
        return ef.map_fn(lambda e: (e[0] * e[1], ef.sin(e[0])), (x, y))
    check_grads(g, _x(3, 2), _x(3, 2))


def test_map_fn_back_prop_false():
    x = tensor(_x(3))
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.map_fn(lambda v: v * v, x, back_prop=False)
    assert tape.gradient(ef.reduce_sum(y), x) is None


# --- vectorized_map -----------------------------------------------------------------------------
def test_vectorized_map_matches_a_loop():
    x = _x(5, 3)
    out = ef.vectorized_map(lambda r: (ef.reduce_sum(r), r > 0, ef.constant(7)), tensor(x))
    np.testing.assert_allclose(to_numpy(out[0]), x.sum(1))
    np.testing.assert_array_equal(to_numpy(out[1]), x > 0)
    assert to_numpy(out[2]).tolist() == [7] * 5  # loop-invariant outputs are broadcast
    empty = ef.vectorized_map(lambda r: (r * 2, ef.reduce_sum(r)), ef.zeros((0, 3)))
    assert empty[0].shape == (0, 3) and empty[1].shape == (0,)
    with pytest.raises(ValueError, match="not compatible"):
        ef.vectorized_map(lambda e: e, (ef.zeros(2), ef.zeros(3)))


def test_vectorized_map_gradient():
    check_grads(lambda x: ef.vectorized_map(lambda r: ef.matvec(ef.ones((2, 3), ef.float64),
                                                                r * r), x), _x(4, 3))


# --- foldl / foldr ----------------------------------------------------------------------------
def test_fold_tf_examples():
    elems = ef.constant([1, 2, 3, 4, 5, 6])
    assert int(ef.foldl(lambda a, x: a + x, elems)) == 21
    assert int(ef.foldr(lambda a, x: a + x, elems)) == 21
    assert int(ef.foldl(lambda a, x: a * 10 + x, ef.constant([1, 2, 3]))) == 123
    assert int(ef.foldr(lambda a, x: a * 10 + x, ef.constant([1, 2, 3]))) == 321
    assert int(ef.foldr(lambda a, x: a * 10 + x, ef.constant([1, 2, 3]), initializer=9)) == 9321
    # nested elems and a nested accumulator
    acc = ef.foldl(lambda a, e: (a[0] + e[0], a[1] * e[1]),
                   (ef.constant([1, 2, 3]), ef.constant([2.0, 3.0, 4.0])),
                   initializer=(ef.constant(0), ef.constant(1.0)))
    assert int(acc[0]) == 6 and float(acc[1]) == 24.0


def test_fold_empty_and_errors():
    out = ef.foldl(lambda a, x: a + x, ef.zeros((0,)), initializer=2.5)
    assert isinstance(out, ef.Tensor) and float(out) == 2.5
    with pytest.raises(InvalidArgumentError, match="array size is: 0"):
        ef.foldl(lambda a, x: a + x, ef.zeros((0,)))
    with pytest.raises(InvalidArgumentError, match="array size is: 0"):
        ef.foldr(lambda a, x: a + x, ef.zeros((0, 2)))
    with pytest.raises(ValueError, match="same nested structure"):
        ef.foldl(lambda a, x: (a, x), ef.zeros(3), initializer=ef.constant(0.0))
    with pytest.raises(ValueError, match="scalars"):
        ef.foldl(lambda a, x: a + x, ef.constant(1.0))
    with pytest.raises(TypeError, match="callable"):
        ef.foldr(None, ef.zeros(3))


def test_fold_gradients():
    check_grads(lambda x, c: ef.foldl(lambda a, r: a * r + ef.sin(r), x, initializer=c),
                _x(4, 2), _x(2), order=2)
    check_grads(lambda x: ef.foldr(lambda a, r: ef.tanh(a) * r, x), _x(5, 3))


# --- py_function / numpy_function ---------------------------------------------------------------
def test_py_function_converts_results_to_tout():
    out = ef.py_function(lambda a, b: a * b, [ef.constant(3.0), 2.0], ef.float32)
    assert isinstance(out, ef.Tensor) and float(out) == 6.0
    outs = ef.py_function(lambda a: (a + 1, np.array([1.5, 2.5]), 7), [ef.constant(1.0)],
                          [ef.float32, ef.float32, ef.int64])
    assert isinstance(outs, list) and [o.dtype for o in outs] == [ef.float32, ef.float32,
                                                                   ef.int64]
    assert to_numpy(outs[1]).tolist() == [1.5, 2.5]
    seen = []
    assert ef.py_function(lambda x: seen.append(type(x)), ef.constant(1), []) == []
    assert seen == [ef.Tensor]  # a single Tensor inp; func sees eager Tensors
    v = ef.Variable(2.0)
    assert float(ef.py_function(lambda x: x * 2, [v], ef.float32)) == 4.0


def test_py_function_decorator_form():
    @ef.py_function(Tout=ef.float32)
    def double(x):
        return x * 2
    assert float(double(ef.constant(1.5))) == 3.0


def test_py_function_errors():
    with pytest.raises(InvalidArgumentError, match="requested dtype int32"):
        ef.py_function(lambda a: a, [ef.constant(1.0)], ef.int32)
    with pytest.raises(InvalidArgumentError, match="returned 2 value"):
        ef.py_function(lambda a: (a, a), [ef.constant(1.0)], [ef.float32])
    with pytest.raises(InvalidArgumentError, match="int32"):
        ef.py_function(lambda: 1.5, [], ef.int32)
    with pytest.raises(RuntimeError, match="variable"):
        v = ef.Variable(1.0)
        ef.py_function(lambda: v, [], ef.float32)
    with pytest.raises(ValueError, match="Expected func to be callable"):
        ef.py_function(3, [], ef.float32)


def test_py_function_is_differentiable():
    def f(x, y):
        return ef.py_function(lambda a, b: ef.sin(a) * b + a * a, [x, y], ef.float64)
    check_grads(f, _x(3), _x(3))


def test_numpy_function():
    seen = []

    def fn(x, y):
        seen.append((type(x), type(y)))
        return np.sinh(x).astype(np.float32), x.shape[0] + y
    a, b = ef.numpy_function(fn, [ef.constant([0.0, 1.0]), ef.constant(np.int64(3))],
                             [ef.float32, ef.int64])
    assert seen == [(np.ndarray, np.ndarray)]
    np.testing.assert_allclose(to_numpy(a), np.sinh([0.0, 1.0]), rtol=1e-6)
    assert b.dtype == ef.int64 and int(b) == 5
    s = ef.numpy_function(lambda: np.array(["x", "yz"]), [], ef.string)
    assert s.dtype == ef.string and list(to_numpy(s)) == ["x", "yz"]


def test_numpy_function_dtype_is_strict_as_in_tf():
    with pytest.raises(InvalidArgumentError,
                       match="0-th value returned by pyfunc_0 is double, but expects float"):
        ef.numpy_function(lambda x: x * np.float64(2), [ef.constant(1.0)], ef.float32)
    with pytest.raises(InvalidArgumentError, match="is int64, but expects int32"):
        ef.numpy_function(lambda: 3, [], ef.int32)
    with pytest.raises(InvalidArgumentError, match="returns 1 values, but expects to see 2"):
        ef.numpy_function(lambda: np.float32(1), [], [ef.float32, ef.float32])


def test_numpy_function_has_no_gradient():
    x = tensor(_x(3))
    with ef.GradientTape() as tape:
        tape.watch(x)
        y = ef.numpy_function(lambda a: a * 2, [x], ef.float64)
    assert tape.gradient(ef.reduce_sum(y), x) is None


# --- print --------------------------------------------------------------------------------------
def test_print_formats_like_tf(capsys):
    ef.print(ef.range(10))
    assert capsys.readouterr().err == "[0 1 2 ... 7 8 9]\n"
    t = ef.range(10)
    ef.print("tensors:", t, {2: t * 2}, output_stream=sys.stdout)
    assert capsys.readouterr().out == "tensors: [0 1 2 ... 7 8 9] {2: [0 2 4 ... 14 16 18]}\n"
    ef.print(ef.range(2), ef.range(2) * 2, output_stream=sys.stderr, sep=",")
    assert capsys.readouterr().err == "[0 1],[0 2]\n"
    ef.print(ef.constant([[1, 2], [3, 4]]), summarize=-1, end="!")
    assert capsys.readouterr().err == "[[1 2]\n [3 4]]!"
    ef.print(ef.range(10), summarize=None)
    assert capsys.readouterr().err == "[0 1 2 ... 7 8 9]\n"
    ef.print(ef.range(10), summarize=-1)
    assert capsys.readouterr().err == "[0 1 2 3 4 5 6 7 8 9]\n"


def test_print_strings_floats_and_structures(capsys):
    ef.print(ef.constant("hello"))  # a lone string scalar prints raw
    assert capsys.readouterr().err == "hello\n"
    ef.print("a", ef.constant(["x", "y"]), ["s", ef.constant(1.5)], ef.constant([True, False]))
    assert capsys.readouterr().err == "a [\"x\" \"y\"] ['s', 1.5] [1 0]\n"
    ef.print(ef.constant(1 / 3), ef.constant(0.1), ef.constant(1 / 3, dtype=ef.float64), 5)
    assert capsys.readouterr().err == "0.333333343 0.1 0.33333333333333331 5\n"
    ef.print(ef.SparseTensor([[0, 1]], [2.0], [2, 2]))
    assert capsys.readouterr().err == "'SparseTensor(indices=[[0 1]], values=[2], shape=[2 2])'\n"
    ef.print({"b": ef.constant(1), "a": 2}, collections.OrderedDict([("z", 1), ("y", 2)]))
    # an OrderedDict prints as Python's repr of it (which changed in Python 3.12)
    ordered = collections.OrderedDict([("y", 2), ("z", 1)])
    assert capsys.readouterr().err == f"{{'a': 2, 'b': 1}} {ordered!r}\n"


def test_print_to_a_file_a_logger_and_bad_streams(tmp_path, caplog):
    path = tmp_path / "out.txt"
    ef.print("x", ef.constant([1, 2]), output_stream=f"file://{path}")
    ef.print("y", output_stream=f"file://{path}")
    assert path.read_text() == "x [1 2]\ny\n"
    with caplog.at_level(logging.INFO):
        ef.print("logged", ef.constant(3), output_stream=logging.info)
    assert "logged 3" in caplog.text
    with pytest.raises(ValueError, match="Unsupported output stream"):
        ef.print("x", output_stream="stdout")
    with pytest.raises(ValueError, match="Unsupported output stream"):
        ef.print("x", output_stream=42)
    assert ef.print is ef.print_


# --- get_static_value / ensure_shape / identity_n --------------------------------------------------
def test_get_static_value():
    v = ef.get_static_value(ef.constant([1, 2]))
    assert isinstance(v, np.ndarray) and v.tolist() == [1, 2]
    obj = [1, 2]
    assert ef.get_static_value(obj) is obj and ef.get_static_value(3) == 3
    assert ef.get_static_value(ef.Variable([1.0])) is None
    assert ef.get_static_value(ef.SparseTensor([[0]], [1.0], [2])) is None


def test_ensure_shape():
    x = ef.constant([[1, 2, 3], [4, 5, 6]])
    for shape in ([2, 3], [None, 3], [2, None], (2, -1), ef.TensorShape([2, 3]), None):
        assert ef.ensure_shape(x, shape) is x
    with pytest.raises(InvalidArgumentError, match=r"Shape of tensor x \[2,3\] is not "
                                                   r"compatible with expected shape \[5\]\."):
        ef.ensure_shape(x, [5])
    with pytest.raises(ValueError, match=r"expected shape \[\?,4\]"):
        ef.ensure_shape(x, [None, 4])
    check_grads(lambda t: ef.ensure_shape(t * t, [3, None]), _x(3, 2))


def test_identity_n():
    a, b = ef.constant([1.0]), ef.constant(2)
    out = ef.identity_n([a, b])
    assert len(out) == 2 and out[0] is not a and to_numpy(out[1]) == 2
    check_grads(lambda x, y: ef.identity_n([x * y, ef.exp(x)]), _x(3), _x(3))
    with pytest.raises(TypeError, match="list of tensors"):
        ef.identity_n(a)


def test_variables_are_read_and_get_gradients():
    v = ef.Variable([1.0, 2.0])
    with ef.GradientTape() as tape:
        _, y = ef.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * y), [0, v])
        m = ef.map_fn(lambda e: e * 3.0, v)
        loss = ef.reduce_sum(y) + ef.reduce_sum(m)
    assert not isinstance(y, ef.Variable)
    # d/dv sum(v**4) + 3 * sum(v) = 4 v**3 + 3
    np.testing.assert_allclose(to_numpy(tape.gradient(loss, v)), [7.0, 35.0])
    v.assign([5.0, 5.0])  # the results are snapshots
    assert to_numpy(y).tolist() == [1.0, 16.0]


# --- scan ----------------------------------------------------------------------------------
def test_scan_matches_cumulative_numpy_references():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(to_numpy(ef.scan(lambda a, v: a + v, tensor(x))), np.cumsum(x))
    np.testing.assert_allclose(to_numpy(ef.scan(lambda a, v: a + v, tensor(x), reverse=True)),
                               np.cumsum(x[::-1])[::-1])
    got = ef.scan(lambda a, v: a * v, tensor(x), initializer=tensor(np.array(2.0)))
    np.testing.assert_allclose(to_numpy(got), 2.0 * np.cumprod(x))


def test_scan_tf_docs_fibonacci_with_a_tuple_accumulator():
    # tf.scan's docs: fibonacci = scan(lambda a, _: (a[1], a[0] + a[1]), elems, init=(0, 1))
    elems = ef.constant([1, 1, 1, 1, 1, 1])
    a, b = ef.scan(lambda acc, _: (acc[1], acc[0] + acc[1]), elems,
                   initializer=(ef.constant(0), ef.constant(1)))
    assert a.numpy().tolist() == [1, 1, 2, 3, 5, 8]
    assert b.numpy().tolist() == [1, 2, 3, 5, 8, 13]


def test_scan_nested_elems_and_empty_input():
    elems = (ef.constant([1.0, 2.0]), ef.constant([10.0, 20.0]))
    out = ef.scan(lambda acc, e: acc + e[0] * e[1], elems, initializer=ef.constant(0.0))
    assert out.numpy().tolist() == [10.0, 50.0]
    empty = ef.scan(lambda a, v: a + v, ef.zeros([0, 3]), initializer=ef.zeros([3]))
    assert tuple(empty.shape) == (0, 3) and empty.dtype == np.float32
    with pytest.raises(InvalidArgumentError, match="index 0"):
        ef.scan(lambda a, v: a + v, ef.zeros([0]))
    with pytest.raises(TypeError):
        ef.scan("not callable", ef.zeros([2]))


def test_scan_gradients_float64():
    def f(x, w):
        return ef.scan(lambda a, v: a * w + v, x, initializer=ef.zeros_like(w))
    check_grads(f, np.random.default_rng(3).standard_normal((4, 2)),
                np.random.default_rng(4).standard_normal(2), order=2)


def test_scan_back_prop_false_stops_gradients():
    w = ef.Variable([2.0])
    with ef.GradientTape() as tape:
        out = ef.scan(lambda a, v: a * w + v, ef.constant([[1.0], [2.0]]),
                      initializer=ef.constant([0.0]), back_prop=False)
        loss = ef.reduce_sum(out)
    assert tape.gradient(loss, w) is None
