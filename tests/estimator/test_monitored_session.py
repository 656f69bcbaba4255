"""TF1-style programs: MonitoredTrainingSession with hooks and checkpoints (train, stop,
resume), Scaffold.init_fn, Supervisor/basic_train_loop, write_graph, errors."""
import os

import numpy as np
import pytest
from google.protobuf import text_format

import eagerflow as ef
from eagerflow import summary, train
from eagerflow.io.tfrecord import tf_record_iterator
from eagerflow.saved_model.graph_pb2 import GraphDef
from eagerflow.variables import VariableStore, get_variable, zeros_initializer


def _program(ckpt_dir, last_step, hooks=()):
    """A TF1 program: variables, a step function, a monitored session loop."""
    w = get_variable("w", [2], initializer=zeros_initializer())
    step = train.get_or_create_global_step()
    target = ef.constant([1.0, -2.0])

    def train_step():
        loss = lambda: ef.reduce_sum(ef.square(w - target))  # noqa: E731
        train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        return {"loss": loss(), "step": step}

    results = []
    with train.MonitoredTrainingSession(
            checkpoint_dir=ckpt_dir, save_checkpoint_steps=5, save_summaries_steps=2,
            log_step_count_steps=5,
            hooks=[train.StopAtStepHook(last_step=last_step)] + list(hooks)) as sess:
        while not sess.should_stop():
            results.append(sess.run(train_step))
    return w, step, results


def test_trains_stops_and_resumes(tmp_path):
    d = str(tmp_path)
    with VariableStore().as_default():
        w, step, res = _program(d, 12)
        assert int(step.numpy()) == 12 and len(res) == 12
        assert res[-1]["loss"] < res[0]["loss"] and int(res[-1]["step"]) == 12
        w12 = w.numpy().copy()
    assert os.path.basename(train.latest_checkpoint(d)) == "model.ckpt-12"
    with VariableStore().as_default():  # a new process: restored, then 8 more steps
        w, step, res = _program(d, 20)
        assert len(res) == 8 and int(step.numpy()) == 20
        assert np.abs(w.numpy() - [1.0, -2.0]).max() < np.abs(w12 - [1.0, -2.0]).max()
    from eagerflow import summary
    summary.FileWriterCache.clear()
    tags = {v.tag for f in summary.event_files(d) for e in summary.summary_iterator(f)
            for v in e.summary.value}
    assert {"loss", "global_step/sec"} <= tags


def test_scaffold_init_fn_runs_only_without_checkpoint(tmp_path):
    calls = []
    with VariableStore().as_default():
        get_variable("v", [1], initializer=zeros_initializer())
        train.get_or_create_global_step()
        sc = train.Scaffold(init_fn=lambda scaffold, sess: calls.append("init"))
        with train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), scaffold=sc,
                                            save_checkpoint_steps=1) as sess:
            sess.run(lambda: None)
        with train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), scaffold=sc) as sess:
            pass
    assert calls == ["init"]


def test_end_of_input_stops_cleanly_and_closed_session_errors():
    from eagerflow.io.errors import OutOfRangeError
    batches = iter([1, 2, 3])
    seen = []

    def step():
        seen.append(next(batches))  # StopIteration ends the loop, as OutOfRangeError does

    with VariableStore().as_default():
        with train.MonitoredTrainingSession() as sess:
            while not sess.should_stop():
                sess.run(step)
        assert seen == [1, 2, 3]
        with pytest.raises(RuntimeError, match="closed Session"):
            sess.run(step)
        with train.MonitoredTrainingSession() as sess:
            raise OutOfRangeError("end of input")  # suppressed, as TF's session does
        with pytest.raises(TypeError, match="cannot fetch"):
            with train.MonitoredTrainingSession() as sess:
                sess.run([object()])


def test_run_step_fn_and_fetch_structures():
    with VariableStore().as_default():
        v = get_variable("v", [2], initializer=zeros_initializer())
        with train.SingularMonitoredSession() as sess:
            out = sess.run({"v": v, "c": lambda: ef.constant(3.0)})
            assert out["v"].tolist() == [0.0, 0.0] and float(out["c"]) == 3.0
            got = sess.run_step_fn(lambda ctx: ctx.run_with_hooks(lambda: ef.constant(1.0)))
            assert float(got) == 1.0


def test_fetching_a_train_op_gives_none_as_tf1(tmp_path):
    # TF1's ``_, loss = sess.run([train_op, loss])`` with the train op made by a step callable
    with VariableStore().as_default():
        w = get_variable("w", [1], initializer=zeros_initializer())
        gs = train.get_or_create_global_step()
        opt = train.GradientDescentOptimizer(0.25)
        loss = lambda: ef.reduce_sum(ef.square(w - 1.0))  # noqa: E731
        out = []
        with train.MonitoredTrainingSession(
                checkpoint_dir=str(tmp_path), save_checkpoint_steps=2,
                hooks=[train.StopAtStepHook(last_step=3)]) as sess:
            while not sess.should_stop():
                out.append(sess.run({"train_op": lambda: opt.minimize(loss, global_step=gs),
                                     "w": w}))
        assert [o["train_op"] for o in out] == [None] * 3
        assert [round(float(o["w"][0]), 4) for o in out] == [0.5, 0.75, 0.875]
        assert int(gs.numpy()) == 3
        assert os.path.basename(train.latest_checkpoint(str(tmp_path))) == "model.ckpt-3"
        with train.SingularMonitoredSession() as sess:
            assert sess.run(lambda: opt.minimize(loss)) is None


def test_supervisor_basic_train_loop(tmp_path):
    with VariableStore().as_default():
        step = train.get_or_create_global_step()
        sv = train.Supervisor(logdir=str(tmp_path), save_model_secs=0)

        def train_step_fn(sess, inc):
            step.assign_add(inc)
            if int(step.numpy()) >= 6:
                sv.request_stop()
        train.basic_train_loop(sv, train_step_fn, args=(2,))
        assert int(step.numpy()) == 6


def test_write_graph(tmp_path):
    w = ef.Variable([[2.0]], name="w")

    @ef.function(input_signature=[ef.TensorSpec([None, 1], ef.float32, name="x")])
    def f(x):
        return {"y": x @ w}
    # TF's GraphDef: text format, and binary that parses back to the same message
    path = train.write_graph(f, str(tmp_path), "graph.pbtxt")
    g = text_format.Parse(open(path).read(), GraphDef())
    assert [(n.name, n.op, list(n.input)) for n in g.node] == [
        ("x", "Placeholder", []), ("variables/w", "VariableV2", []),
        ("matmul_0", "matmul", ["x", "variables/w"]), ("y", "Identity", ["matmul_0"])]
    assert g.node[0].attr["dtype"].s == b"float32" and g.node[0].attr["shape"].s == b"[-1, 1]"
    binary = train.write_graph(f, str(tmp_path), "graph.pb", as_text=False)
    assert GraphDef.FromString(open(binary, "rb").read()) == g
    assert train.write_graph(g, str(tmp_path / "again"), "g.pb", as_text=False)
    with pytest.raises(TypeError, match="write_graph"):
        train.write_graph(42, str(tmp_path), "x")


def test_graph_def_of_multi_output_ops_and_constants():
    @ef.function(input_signature=[ef.TensorSpec([None, 4], ef.float32, name="x")])
    def f(x):
        a, b = ef.split(x, 2, axis=1)
        return {"s": b - a, "c": ef.constant([1.0, 2.0])}
    g = f.get_concrete_function().as_graph_def()
    nodes = {n.name: n for n in g.node}
    split = next(n for n in g.node if n.op == "split")
    sub = next(n for n in g.node if n.op == "subtract")
    assert list(sub.input) == [f"{split.name}:1", split.name]  # b is output 1, a output 0
    assert list(split.input)[0] == "x"
    assert nodes["s"].op == "Identity" and list(nodes["s"].input) == [sub.name]
    assert nodes[nodes["c"].input[0]].op == "Const"  # an output that is a constant


def test_file_writer_add_graph_for_tensorboard(tmp_path):
    @ef.function(input_signature=[ef.TensorSpec([None], ef.float32, name="x")])
    def f(x):
        return ef.nn.relu(x)
    w = summary.FileWriter(str(tmp_path), graph=f)
    w.add_graph(f.get_concrete_function().as_graph_def().SerializeToString(), global_step=3)
    w.close()
    events = [summary.Event.FromString(r)
              for r in tf_record_iterator(summary.event_files(str(tmp_path))[0])]
    graphs = [GraphDef.FromString(e.graph_def) for e in events if e.HasField("graph_def")]
    assert len(graphs) == 2 and graphs[0] == graphs[1] and events[-1].step == 3
    assert [n.op for n in graphs[0].node] == ["Placeholder", "relu", "Identity"]
    with pytest.raises(TypeError, match="add_graph"):
        summary.FileWriter(str(tmp_path)).add_graph(42)
