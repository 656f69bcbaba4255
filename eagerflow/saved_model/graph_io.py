"""``tf.train.write_graph``: the traced op graph of a function, written for inspection."""
import json
import os

from .function import ConcreteFunction, Function
from .save import _concrete

__all__ = ["write_graph"]


def write_graph(graph_or_fn, logdir, name, as_text=True):
    """Writes the op graph an ``ef.function`` traces to (``tf.train.write_graph``).

    Args:
        graph_or_fn: an ``ef.function`` with an input signature, a concrete function, or a
            graph dict.
        logdir: the directory (created if missing).
        name: the file name.
        as_text: indented JSON when True, compact UTF-8 JSON bytes otherwise.

    Returns:
        The path written.
    """
    if isinstance(graph_or_fn, (Function, ConcreteFunction)):
        cf = _concrete(graph_or_fn, name)
        graph = {"inputs": {a: i.to_json() for a, i in cf.inputs.items()},
                 "outputs": {a: i.to_json() for a, i in cf.outputs.items()},
                 "nodes": cf.graph["nodes"], "variables": sorted(cf.variables)}
    elif isinstance(graph_or_fn, dict):
        graph = graph_or_fn
    else:
        raise TypeError("write_graph: pass an ef.function, a concrete function or a graph "
                        f"dict, got {type(graph_or_fn).__name__}")
    os.makedirs(os.fspath(logdir), exist_ok=True)
    path = os.path.join(os.fspath(logdir), name)
    text = json.dumps(graph, indent=1 if as_text else None,
                      separators=None if as_text else (",", ":"))
    with open(path, "w" if as_text else "wb") as f:
        f.write(text if as_text else text.encode())
    return path
