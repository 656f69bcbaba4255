"""A traced op graph as TensorFlow's ``GraphDef``, the format ``tf.train.write_graph`` writes
and TensorBoard's Graphs tab draws.

Each input becomes a ``Placeholder`` node, each recorded op a node named ``<op>_<k>`` whose
``input`` lists the nodes that feed it (``name:i`` for the i-th output of a multi-output op),
variables become ``VariableV2`` nodes and constants and literals ``Const`` nodes (values are
not stored: the graph is for inspection), and each signature output an ``Identity`` node
named by its alias. Op attributes are kept as JSON strings.

Example:
    >>> import eagerflow as ef
    >>> f = ef.function(lambda x: ef.nn.relu(x) * 2.0,
    ...                 input_signature=[ef.TensorSpec([None, 3], ef.float32, name="x")])
    >>> [(n.name, n.op) for n in to_graph_def(f.get_concrete_function()).node]
    [('x', 'Placeholder'), ('relu_0', 'relu'), ('lit_0', 'Const'), ('multiply_1', 'multiply'), ('output_0', 'Identity')]
"""
import json

from ..backend.dtypes import tf_name
from .graph_pb2 import AttrValue, GraphDef

__all__ = ["to_graph_def"]

_PRODUCER = 1  # TF's GraphDef versions.producer; any value renders


def _attr_text(value):
    return AttrValue(s=json.dumps(value, sort_keys=True, default=str).encode())


def to_graph_def(cf):
    """The ``GraphDef`` of a concrete function (``ef.function(...).get_concrete_function()``).

    Args:
        cf: a ``ConcreteFunction`` (or anything with its ``graph``, ``input_names``,
            ``input_specs`` and ``output_aliases``).

    Returns:
        A ``GraphDef`` protobuf message.
    """
    gd = GraphDef()
    gd.versions.producer = _PRODUCER
    tensor_names = {}
    for t, (alias, spec) in enumerate(zip(cf.input_names, cf.input_specs)):
        node = gd.node.add(name=alias, op="Placeholder")
        node.attr["dtype"].CopyFrom(AttrValue(s=tf_name(spec.dtype).encode()))
        shape = None if spec.shape is None else [-1 if d is None else d for d in spec.shape]
        node.attr["shape"].CopyFrom(_attr_text(shape))
        tensor_names[t] = alias
    leaves, literals = {}, 0

    def leaf(ref):
        nonlocal literals
        kind, key = next(iter(ref.items()))
        if kind == "lit":  # each literal use is its own node, as TF's Const per constant
            name, literals = f"lit_{literals}", literals + 1
            gd.node.add(name=name, op="Const").attr["value"].CopyFrom(_attr_text(key))
            return name
        if (kind, key) not in leaves:
            name = f"variables/{key}" if kind == "var" else f"const_{key}"
            gd.node.add(name=name, op="VariableV2" if kind == "var" else "Const")
            leaves[(kind, key)] = name
        return leaves[(kind, key)]

    def ref_name(ref):
        return tensor_names[ref["t"]] if "t" in ref else leaf(ref)

    for k, n in enumerate(cf.graph["nodes"]):
        inputs = [ref_name(r) for r in n["inputs"]]
        name = f"{n['op']}_{k}"
        node = gd.node.add(name=name, op=n["op"], input=inputs)
        for key, value in n["attrs"].items():
            node.attr[key].CopyFrom(_attr_text(value))
        for i, t in enumerate(n["outputs"]):
            tensor_names[t] = f"{name}:{i}" if n["multi"] and i else name
    for alias, ref in zip(cf.graph["output_aliases"], cf.graph["outputs"]):
        gd.node.add(name=alias, op="Identity", input=[ref_name(ref)])
    return gd
