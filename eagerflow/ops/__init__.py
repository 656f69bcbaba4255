"""The core op library, re-exported at the top level with TensorFlow's names.

Importing this package also installs the Tensor operators (``+ - * / // % ** @``,
comparisons, ``[]``), which live here rather than in ``autograd`` so that imports point one
way: ops build on autograd, never the reverse.
"""
from ..autograd.registry import get as _get
from ..autograd.tensor import Tensor as _Tensor
from . import array, control, creation, indexing, math, products, random, reduce, scan, segment
from . import control_flow, manip, math_extra, space_batch, tensor_scatter
from .control_flow import *  # noqa: F401,F403
from .manip import *  # noqa: F401,F403
from .space_batch import *  # noqa: F401,F403
from .tensor_scatter import *  # noqa: F401,F403
from .math_extra import TOP_LEVEL as _math_extra_top
from .control import control_dependencies, device, group, name_scope, no_op
from .creation import eye, fill, linspace, ones, range, zeros
from .indexing import (batch_gather, boolean_mask, gather, gather_nd, getitem, one_hot,
                       scatter_nd, strided_slice, take_along_axis)
from .math import *  # noqa: F401,F403
from .math import __all__ as _math_all
from .math import _run_binary, _run_unary
from .products import einsum, matmul, matvec, tensordot
from .reduce import (argmax, argmin, count_nonzero, reduce_all, reduce_any, reduce_logsumexp,
                     reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_std, reduce_sum,
                     reduce_variance)
from .scan import argsort, cumprod, cumsum, sort, unique, unique_with_counts
from .segment import (bincount, segment_max, segment_mean, segment_min, segment_sqrt_n,
                      segment_sum, unsorted_segment_max, unsorted_segment_mean,
                      unsorted_segment_min, unsorted_segment_sqrt_n, unsorted_segment_sum)
from .array import (broadcast_to, concat, expand_dims, matrix_transpose, pad, rank, reshape,
                    reverse, sequence_mask, shape, size, slice, split, squeeze, stack, tile,
                    transpose, unstack)

__all__ = list(_math_all) + [
    "control_dependencies", "device", "group", "name_scope", "no_op",
    "eye", "fill", "linspace", "ones", "range", "zeros", "batch_gather", "boolean_mask",
    "gather", "gather_nd", "getitem", "one_hot", "scatter_nd", "strided_slice",
    "take_along_axis", "einsum",
    "matmul", "matvec", "tensordot", "argmax", "argmin", "count_nonzero", "reduce_all",
    "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_std", "reduce_sum", "reduce_variance", "argsort", "cumprod",
    "cumsum", "sort", "unique", "unique_with_counts", "bincount", "segment_max",
    "segment_mean", "segment_min", "segment_sqrt_n", "segment_sum", "unsorted_segment_max",
    "unsorted_segment_mean", "unsorted_segment_min", "unsorted_segment_sqrt_n",
    "unsorted_segment_sum", "broadcast_to", "concat", "expand_dims", "matrix_transpose",
    "pad", "rank", "reshape", "reverse", "sequence_mask", "shape", "size", "slice", "split",
    "squeeze",
    "stack", "tile", "transpose", "unstack", "array", "creation", "indexing", "math", "products",
    "random", "reduce", "scan", "segment",
] + list(control_flow.__all__) + list(manip.__all__) + list(space_batch.__all__) + \
    list(tensor_scatter.__all__) + list(_math_extra_top)
globals().update({_n: getattr(math_extra, _n) for _n in _math_extra_top})


def _install_operators():
    ops = {name: _get(name) for name in (
        "add", "subtract", "multiply", "divide", "floordiv", "floormod", "pow", "equal",
        "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
        "logical_or", "logical_xor")}
    neg, absop, lnot = _get("negative"), _get("abs"), _get("logical_not")

    def binop(op):
        def fwd(self, other):
            return _run_binary(op, self, other)

        def rev(self, other):
            return _run_binary(op, other, self)
        return fwd, rev

    for dunder, name in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                         ("truediv", "divide"), ("floordiv", "floordiv"), ("mod", "floormod"),
                         ("pow", "pow"), ("and", "logical_and"), ("or", "logical_or"),
                         ("xor", "logical_xor")):
        f, r = binop(ops[name])
        setattr(_Tensor, f"__{dunder}__", f)
        setattr(_Tensor, f"__r{dunder}__", r)
    for dunder, name in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"),
                         ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
        setattr(_Tensor, f"__{dunder}__", binop(ops[name])[0])
    _Tensor.__neg__ = lambda self: _run_unary(neg, self)
    _Tensor.__pos__ = lambda self: self
    _Tensor.__abs__ = lambda self: _run_unary(absop, self)
    _Tensor.__invert__ = lambda self: _run_unary(lnot, self)
    _Tensor.__matmul__ = lambda self, other: matmul(self, other)
    _Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
    _Tensor.__getitem__ = getitem
    _Tensor.T = property(lambda self: transpose(self))
    _Tensor.astype = lambda self, dtype: math.cast(self, dtype)
    _Tensor.cpu = lambda self: array.to_device(self, "numpy")
    _Tensor.gpu = lambda self: array.to_device(self, "cupy")
    _Tensor.__hash__ = _Tensor.__dict__["__hash__"]  # == is elementwise; keep unhashable


_install_operators()
