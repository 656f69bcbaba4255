"""``tf.train.write_graph``: the traced op graph of a function as a ``GraphDef`` file."""
import os

from google.protobuf import text_format

from ..train.checkpoint_state import atomic_write
from .function import ConcreteFunction, Function
from .graph_pb2 import GraphDef
from .save import _concrete

__all__ = ["write_graph"]


def write_graph(graph_or_fn, logdir, name, as_text=True):
    """Writes the op graph an ``ef.function`` traces to, as TensorFlow's ``GraphDef``
    (``tf.train.write_graph``): protobuf text format when ``as_text``, binary otherwise.

    To see the graph in TensorBoard, put it into an event file instead:
    ``ef.summary.FileWriter(logdir).add_graph(fn)``.

    Args:
        graph_or_fn: an ``ef.function`` with an input signature, a concrete function, or a
            ``GraphDef``.
        logdir: the directory (created if missing).
        name: the file name (TF's convention: ``graph.pbtxt`` / ``graph.pb``).
        as_text: text format when True, serialized bytes otherwise.

    Returns:
        The path written.

    Example:
        >>> import tempfile, eagerflow as ef
        >>> f = ef.function(lambda x: x * 2.0,
        ...                 input_signature=[ef.TensorSpec([None], ef.float32, name="x")])
        >>> p = ef.train.write_graph(f, tempfile.mkdtemp(), "graph.pbtxt")
        >>> 'op: "multiply"' in open(p).read()
        True
    """
    if isinstance(graph_or_fn, (Function, ConcreteFunction)):
        graph_def = _concrete(graph_or_fn, name).as_graph_def()
    elif isinstance(graph_or_fn, GraphDef):
        graph_def = graph_or_fn
    else:
        raise TypeError("write_graph: pass an ef.function with an input_signature, a concrete "
                        f"function or a GraphDef, got {type(graph_or_fn).__name__}")
    path = os.path.join(os.fspath(logdir), name)
    data = (text_format.MessageToString(graph_def).encode("utf-8") if as_text
            else graph_def.SerializeToString())
    atomic_write(path, data)  # a reader never sees half a graph, even after a crash
    return path
