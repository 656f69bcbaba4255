"""TensorFlow Serving's ``half_plus_two`` reference model, rebuilt as an eagerflow export
with the same signatures, tensor names, dtypes and values (serving spec §6)."""
import os

import numpy as np

from ..autograd.variable import Variable
from ..data.structure import TensorSpec
from ..io.parsing_config import FixedLenFeature
from .function import function
from .parsing import parse_example_op
from .save import write_export

__all__ = ["write_half_plus_two"]

PREDICT = "tensorflow/serving/predict"
REGRESS = "tensorflow/serving/regress"
CLASSIFY = "tensorflow/serving/classify"
_SPEC = {"x": FixedLenFeature([1], np.float32), "x2": FixedLenFeature([1], np.float32, 0.0)}


def _examples(batch):
    from ..io import Example, Feature, Features, FloatList
    ex = Example(features=Features(feature={"x": Feature(float_list=FloatList(value=[1.0]))}))
    return [np.array([ex.SerializeToString()] * batch, dtype=object)]


def write_half_plus_two(export_dir, assets_dir=None):
    """Writes half_plus_two to ``export_dir`` (e.g. ``<base>/00000123``); returns the path.

    ``y = 0.5 x + 2``, ``y2 = 0.5 x + 3``, ``y3 = 0.5 x2 + 3``, with TF Serving's signatures
    ``serving_default``, ``regress_x_to_y``, ``regress_x_to_y2``, ``regress_x2_to_y3`` and
    ``classify_x_to_y``, and ``assets/foo.txt``.
    """
    a, b, c = (Variable(np.float32(v), name=n) for n, v in (("a", 0.5), ("b", 2.0), ("c", 3.0)))
    a2 = Variable(np.float32(0.5), name="a2")
    c2 = Variable(np.float32(3.0), name="c2")
    x_spec = TensorSpec([None, 1], np.float32, name="x")
    ex_spec = TensorSpec([None], object, name="tf_example")

    @function(input_signature=[x_spec], method_name=PREDICT)
    def serving_default(x):
        return {"y": a * x + b}

    @function(input_signature=[ex_spec], sample_inputs=_examples, method_name=REGRESS)
    def regress_x_to_y(tf_example):
        return {"outputs": a * parse_example_op(tf_example, _SPEC)["x"] + b}

    @function(input_signature=[ex_spec], sample_inputs=_examples, method_name=REGRESS)
    def regress_x_to_y2(tf_example):
        return {"outputs": a * parse_example_op(tf_example, _SPEC)["x"] + c}

    @function(input_signature=[TensorSpec([None, 1], np.float32, name="x2")],
              method_name=REGRESS)
    def regress_x2_to_y3(x2):
        return {"outputs": a2 * x2 + c2}

    @function(input_signature=[ex_spec], sample_inputs=_examples, method_name=CLASSIFY)
    def classify_x_to_y(tf_example):
        return {"scores": a * parse_example_op(tf_example, _SPEC)["x"] + b}

    sigs = {"serving_default": serving_default, "regress_x_to_y": regress_x_to_y,
            "regress_x_to_y2": regress_x_to_y2, "regress_x2_to_y3": regress_x2_to_y3,
            "classify_x_to_y": classify_x_to_y}
    concretes = {}
    aliases = {"regress_x_to_y": ("inputs", "y:0"), "regress_x_to_y2": ("inputs", "y2:0"),
               "regress_x2_to_y3": ("inputs", "y3:0"), "classify_x_to_y": ("inputs", "y:0"),
               "serving_default": ("x", "y:0")}
    for key, fn in sigs.items():
        cf = fn.get_concrete_function()
        in_alias, out_name = aliases[key]
        cf.input_names = [in_alias]
        cf.tensor_names = {in_alias: f"{cf.input_specs[0].name}:0"}
        cf.output_names = {alias: out_name for alias in cf.output_aliases}
        concretes[key] = cf
    tmp_asset = None
    assets = {}
    if assets_dir is None:
        import tempfile
        tmp_asset = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        tmp_asset.write("asset-file-contents")
        tmp_asset.close()
        assets["foo.txt"] = tmp_asset.name
    try:
        return write_export(export_dir, concretes, assets=assets)
    finally:
        if tmp_asset is not None:
            os.unlink(tmp_asset.name)
