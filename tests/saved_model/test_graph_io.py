"""``write_graph``: the GraphDef file is written atomically (no temporary file left behind,
an old file kept whole when the write fails), and a bad argument is named."""
import os

import pytest
from google.protobuf import text_format

import eagerflow as ef
from eagerflow.saved_model.graph_io import write_graph
from eagerflow.saved_model.graph_pb2 import GraphDef
from eagerflow.train import checkpoint_state


def _fn():
    return ef.function(lambda x: x * 2.0,
                       input_signature=[ef.TensorSpec([None], ef.float32, name="x")])


def test_text_and_binary_files_and_no_temporary_left(tmp_path):
    logdir = tmp_path / "new" / "dir"  # created
    text = write_graph(_fn(), str(logdir), "graph.pbtxt")
    binary = write_graph(_fn(), str(logdir), "graph.pb", as_text=False)
    g = text_format.Parse(open(text).read(), GraphDef())
    assert GraphDef.FromString(open(binary, "rb").read()) == g
    assert any(n.op == "multiply" for n in g.node)
    assert sorted(os.listdir(logdir)) == ["graph.pb", "graph.pbtxt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = write_graph(GraphDef(), str(tmp_path), "graph.pb", as_text=False)
    old = open(path, "rb").read()

    def failing_replace(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(checkpoint_state.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_graph(_fn(), str(tmp_path), "graph.pb", as_text=False)
    assert os.listdir(tmp_path) == ["graph.pb"] and open(path, "rb").read() == old


def test_bad_argument_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"^write_graph: pass an ef\.function with an "
                                        r"input_signature, a concrete function or a GraphDef, "
                                        r"got int$"):
        write_graph(42, str(tmp_path), "graph.pb")
