"""``Sequential``: layers called one after another, inside the container's variable scope.

Example:
    >>> import eagerflow as ef
    >>> from eagerflow.layers import Dense, Dropout
    >>> from eagerflow.variables import VariableStore
    >>> with VariableStore().as_default():
    ...     model = Sequential([Dense(8, activation="relu"), Dropout(0.5), Dense(1)])
    ...     model(ef.ones((4, 3)), training=True).shape
    TensorShape([4, 1])
"""
import inspect

from .base import Layer

__all__ = ["Sequential"]


class Sequential(Layer):
    """A stack of layers; ``training`` reaches the layers whose ``call`` accepts it.

    Variables are named ``<sequential scope>/<layer scope>/<name>``
    (``sequential/dense/kernel``).
    """

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers = []
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        """Appends a layer (or any callable of one tensor)."""
        if not callable(layer):
            raise TypeError(f"Sequential.add: expected a layer, got {type(layer).__name__}")
        self.layers.append(layer)

    def pop(self):
        if not self.layers:
            raise TypeError("Sequential.pop: there are no layers")
        return self.layers.pop()

    def call(self, inputs, training=False):
        x = inputs
        for layer in self.layers:
            call = layer.call if isinstance(layer, Layer) else layer
            try:
                takes = "training" in inspect.signature(call).parameters
            except (TypeError, ValueError):
                takes = False
            x = layer(x, training=training) if takes else layer(x)
        return x

    @property
    def variables(self):
        out = []
        for layer in self.layers:
            out.extend(getattr(layer, "variables", ()))
        return out

    weights = variables

    @property
    def losses(self):
        """Its own losses then its layers' (Keras collects sublayers' losses)."""
        out = list(super().losses)
        for layer in self.layers:
            out.extend(getattr(layer, "losses", ()))
        return out

    def summary_rows(self):
        """(layer name, class, parameter count) for each layer."""
        return [(getattr(layer, "name", repr(layer)), type(layer).__name__,
                 layer.count_params() if isinstance(layer, Layer) else 0)
                for layer in self.layers]
