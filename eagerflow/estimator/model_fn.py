"""``ModeKeys``, ``EstimatorSpec`` and the by-name call of a user's ``model_fn``."""
import collections
import inspect

from ..autograd.tensor import Tensor
from ..train.session_run_hook import SessionRunHook

__all__ = ["ModeKeys", "EstimatorSpec", "call_model_fn", "model_fn_args"]


class ModeKeys:
    """The three modes a ``model_fn`` is called in (TF's string values)."""
    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


_MODES = (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT)
_FIELDS = ["mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs",
           "training_chief_hooks", "training_hooks", "scaffold", "evaluation_hooks",
           "prediction_hooks"]


def _check_hooks(name, hooks):
    hooks = tuple(hooks or ())
    for h in hooks:
        if not isinstance(h, SessionRunHook):
            raise TypeError(f"EstimatorSpec: {name} must be SessionRunHook instances, got "
                            f"{type(h).__name__}")
    return hooks


class EstimatorSpec(collections.namedtuple("EstimatorSpec", _FIELDS)):
    """What ``model_fn`` returns (``tf.estimator.EstimatorSpec``).

    Required per mode: TRAIN ``loss`` and ``train_op``; EVAL ``loss``; PREDICT
    ``predictions``. ``loss`` must be a scalar. ``eval_metric_ops`` maps names to
    ``(value, update_op)`` pairs or metric objects.

    Example:
        >>> import eagerflow as ef
        >>> spec = EstimatorSpec(ModeKeys.PREDICT, predictions={"y": ef.constant([1.0])})
        >>> spec.mode
        'infer'
    """

    def __new__(cls, mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None,
                export_outputs=None, training_chief_hooks=None, training_hooks=None,
                scaffold=None, evaluation_hooks=None, prediction_hooks=None):
        if mode not in _MODES:
            raise ValueError(f"EstimatorSpec: mode must be one of {_MODES}, got {mode!r}")
        if mode == ModeKeys.TRAIN and (loss is None or train_op is None):
            raise ValueError("EstimatorSpec: loss and train_op must be provided in TRAIN mode")
        if mode == ModeKeys.EVAL and loss is None:
            raise ValueError("EstimatorSpec: loss must be provided in EVAL mode")
        if mode == ModeKeys.PREDICT and predictions is None:
            raise ValueError("EstimatorSpec: predictions must be provided in PREDICT mode")
        if loss is not None:
            if not isinstance(loss, Tensor):
                raise TypeError(f"EstimatorSpec: loss must be a Tensor, got {type(loss).__name__}")
            if loss.size != 1:
                raise ValueError(f"EstimatorSpec: loss must be a scalar, got shape "
                                 f"{tuple(loss.shape)}")
        if predictions is not None and not isinstance(predictions, (Tensor, dict)):
            raise TypeError("EstimatorSpec: predictions must be a Tensor or a dict of Tensors")
        metrics = dict(eval_metric_ops or {})
        for k, v in metrics.items():
            if not (isinstance(v, tuple) and len(v) == 2) and not hasattr(v, "result"):
                raise TypeError(f"EstimatorSpec: eval_metric_ops[{k!r}] must be a "
                                "(value, update_op) tuple or a metric object")
        return super().__new__(
            cls, mode, predictions, loss, train_op, metrics, export_outputs,
            _check_hooks("training_chief_hooks", training_chief_hooks),
            _check_hooks("training_hooks", training_hooks), scaffold,
            _check_hooks("evaluation_hooks", evaluation_hooks),
            _check_hooks("prediction_hooks", prediction_hooks))


_ALLOWED = ("features", "labels", "mode", "params", "config")


def model_fn_args(model_fn):
    """The argument names of ``model_fn``, checked against TF's contract."""
    params = inspect.signature(model_fn).parameters
    names = [n for n, p in params.items()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if "features" not in names:
        raise ValueError(f"model_fn ({model_fn}) must include features argument.")
    unknown = [n for n in names if n not in _ALLOWED and params[n].default is params[n].empty]
    if unknown:
        raise ValueError(f"model_fn ({model_fn}) has following not expected args: {unknown}")
    return names


def call_model_fn(model_fn, features, labels, mode, params, config):
    """Calls ``model_fn`` passing only the arguments it declares, by name; checks the spec."""
    names = model_fn_args(model_fn)
    values = {"features": features, "labels": labels, "mode": mode, "params": params,
              "config": config}
    if "labels" not in names and labels is not None and mode != ModeKeys.PREDICT:
        raise ValueError("model_fn does not take labels, but input_fn returns labels.")
    spec = model_fn(**{n: values[n] for n in names if n in values})
    if not isinstance(spec, EstimatorSpec):
        raise TypeError(f"model_fn must return an EstimatorSpec, got {type(spec).__name__}")
    if spec.mode != mode:
        raise ValueError(f"model_fn returned an EstimatorSpec for mode {spec.mode!r} when "
                         f"called in mode {mode!r}")
    return spec
