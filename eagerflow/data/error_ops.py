"""``ignore_errors`` and ``assert_cardinality`` (TF's IgnoreErrors and
AssertCardinality dataset kernels).

``ignore_errors`` drops an element whose production raised an exception (a map function,
a parser, a reader) and asks the input for the next one; the end of the input ends it.

``assert_cardinality(n)`` reports ``n`` as its cardinality and checks while iterating: an
input that ends early, or yields an element beyond ``n``, raises TF's
``FailedPreconditionError``.

Example:
    >>> from eagerflow.data import Dataset
    >>> it = iter(Dataset.range(3).assert_cardinality(5))
    >>> [int(next(it)) for _ in range(3)]
    [0, 1, 2]
    >>> next(it)
    Traceback (most recent call last):
    ...
    eagerflow.errors.FailedPreconditionError: Input dataset was expected to contain 5 elements but contained only 3 elements.
"""
import logging
import numbers

from eagerflow.io.errors import FailedPreconditionError

from .dataset import INFINITE, Cardinality
from .transforms import _SameCount, _Unary, _UpIter

__all__ = ["IgnoreErrorsDataset", "AssertCardinalityDataset", "FailedPreconditionError"]

log = logging.getLogger("eagerflow")


class IgnoreErrorsDataset(_SameCount, _Unary):
    """The input's elements, without those whose production raised an exception.

    Its cardinality is the input's, as in TF's kernel."""

    def __init__(self, input_dataset, log_warning=False):
        super().__init__(input_dataset)
        self._log = bool(log_warning)

    def _infer_spec(self):
        return self._input.element_spec

    def _make(self, peek=False):
        return _IgnoreErrorsIter(self._input._make(peek), self._log)


class _IgnoreErrorsIter(_UpIter):
    def __init__(self, up, log_warning):
        super().__init__(up)
        self.log = log_warning

    def __next__(self):
        last = None
        while True:
            try:
                return next(self.up)
            except StopIteration:
                raise
            except Exception as e:  # noqa: BLE001 - TF ignores every error status
                if e is last:
                    raise StopIteration from None  # an input stuck on one error cannot go on
                last = e
                if self.log:
                    log.warning("Error raised with error message %s", e)


def _element_string(n):
    if n == INFINITE:
        return "an infinite number of elements"
    return f"{n} element{'s' if n != 1 else ''}"


class AssertCardinalityDataset(_Unary):
    """The input's elements; cardinality ``expected_cardinality``, checked while
    iterating."""

    def __init__(self, input_dataset, expected_cardinality):
        super().__init__(input_dataset)
        n = expected_cardinality
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            n = getattr(n, "numpy", lambda: n)()
            if getattr(n, "ndim", 1) != 0 or getattr(n, "dtype", None) is None or \
                    n.dtype.kind not in "iu":
                raise TypeError(f"assert_cardinality: expected_cardinality must be an int "
                                f"(or INFINITE_CARDINALITY = -1), got {expected_cardinality!r}")
        self._n = int(n)

    def _infer_spec(self):
        return self._input.element_spec

    def cardinality(self):
        return Cardinality(self._n)

    def _make(self, peek=False):
        return _AssertCardinalityIter(self._input._make(peek), self._n)


class _AssertCardinalityIter(_UpIter):
    def __init__(self, up, n):
        super().__init__(up)
        self.n, self.count = n, 0

    def __next__(self):
        try:
            elem = next(self.up)
        except StopIteration:
            if self.count != self.n:
                raise FailedPreconditionError(
                    f"Input dataset was expected to contain {_element_string(self.n)} but "
                    f"contained only {_element_string(self.count)}.") from None
            raise
        self.count += 1
        if self.n != INFINITE and self.count > self.n:
            raise FailedPreconditionError(
                f"Input dataset was expected to contain {_element_string(self.n)} but "
                f"contained at least {_element_string(self.count)}.")
        return elem

    def save(self):
        return {"up": self.up.save(), "count": self.count}

    def restore(self, state):
        self.up.restore(state["up"])
        self.count = int(state["count"])
