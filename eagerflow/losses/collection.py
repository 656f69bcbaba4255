"""TF1's loss collection (``tf.compat.v1.losses.add_loss``, ``get_losses``,
``get_regularization_loss(es)``, ``get_total_loss``).

TF1 builds a graph once, so every ``tf.losses.*`` call adds its loss to the ``LOSSES``
collection a single time and ``get_total_loss()`` sums them. Executing eagerly, TF keeps the
collection empty ("holding on to a loss when executing eagerly is indistinguishable from
leaking memory"). eagerflow does both, by context:

- inside an entered variable store (``with store.as_default():`` -- what the Estimator does
  around every ``model_fn`` call, where TensorFlow builds a graph), losses are collected,
  and each entry starts an empty collection: a ``model_fn`` sees the losses of its own call,
  never those of earlier steps, and they are released with the call;
- at the top level (no store entered), ``add_loss`` keeps nothing, as TF2 eager does.

Losses a user adds with ``tf.add_to_collection(GraphKeys.LOSSES, loss)`` are kept by the
store as any collection and are returned too.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow import losses
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     _ = losses.mean_squared_error([1.0, 2.0], [1.0, 4.0])
    ...     _ = losses.absolute_difference([1.0], [3.0])
    ...     float(losses.get_total_loss().numpy())
    4.0
"""
import re
import weakref

from .. import ops
from ..autograd.tensor import constant
from ..variables import store as _store
from ..variables.store import GraphKeys

__all__ = ["add_loss", "get_losses", "get_regularization_losses", "get_regularization_loss",
           "get_total_loss"]

# root VariableScope of a store entry -> {collection key: [(name, loss), ...]}; the root
# scope lives as long as the entry, so a record goes away with the model_fn call
_RECORDS = weakref.WeakKeyDictionary()


def _entry_record(create):
    state = _store._state()
    if not state.stores:
        return None  # top level: TF2 eager keeps no loss collection
    root = state.scopes[0]
    rec = _RECORDS.get(root)
    if rec is None and create:
        rec = _RECORDS[root] = {}
    return rec


def _scoped_name(scope):
    """``<enclosing variable scope>/<scope>/value``, TF's name for a reduced loss."""
    prefix = _store.get_variable_scope().name
    name = str(scope).strip("/") if scope else "loss"
    return f"{prefix}/{name}/value" if prefix else f"{name}/value"


def add_loss(loss, loss_collection=GraphKeys.LOSSES, _name=None):
    """Adds ``loss`` to ``loss_collection`` (``tf.compat.v1.losses.add_loss``).

    Nothing is kept when ``loss_collection`` is falsy or when no variable store is entered
    (TF's eager behaviour); see the module docstring.
    """
    if not loss_collection:
        return
    rec = _entry_record(create=True)
    if rec is None:
        return
    rec.setdefault(loss_collection, []).append(
        (_name if _name is not None else _scoped_name(None), loss))


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    """The losses of ``loss_collection`` (``tf.compat.v1.losses.get_losses``).

    Args:
        scope: keep only the losses whose name (``<variable scope>/<loss scope>/value``)
            matches this regular expression from its start (``re.match``, as TF).
        loss_collection: the collection key.

    Returns:
        A list of Tensors, in the order they were added.
    """
    out = []
    for item in _store.get_default_store().get_collection(loss_collection):
        name = getattr(item, "name", "") or ""
        if scope is None or re.match(scope, name):
            out.append(item)
    rec = _entry_record(create=False)
    for name, loss in (rec or {}).get(loss_collection, ()):
        if scope is None or re.match(scope, name):
            out.append(loss)
    return out


def get_regularization_losses(scope=None):
    """The regularization losses (``tf.compat.v1.losses.get_regularization_losses``)."""
    return _store.get_regularization_losses(scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """Their sum, or a float32 0.0 when there is none
    (``tf.compat.v1.losses.get_regularization_loss``)."""
    losses = get_regularization_losses(scope)
    if losses:
        return ops.add_n(losses)
    return constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """``add_n`` of :func:`get_losses` and, by default, the regularization losses
    (``tf.compat.v1.losses.get_total_loss``).

    Raises:
        ValueError: when there is no loss to add (TF's ``add_n`` of an empty list).
    """
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + list(get_regularization_losses(scope=scope))
    if not losses:
        raise ValueError("get_total_loss: no losses to add; inputs must be an iterable of at "
                         "least one Tensor/IndexedSlices with the same dtype and shape")
    return ops.add_n(losses)
