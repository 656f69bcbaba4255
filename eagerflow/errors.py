"""``tf.errors``: the error classes eagerflow raises where TensorFlow raises its own.

They carry TF's class names and a ``.message`` so that code and tests written against
TensorFlow match them. This module imports nothing of eagerflow, so every layer (ops, io,
train...) may raise them.

Example:
    >>> from eagerflow.errors import DataLossError
    >>> DataLossError("corrupted record at 12").message
    'corrupted record at 12'
"""

__all__ = ["OpError", "InvalidArgumentError", "DataLossError", "OutOfRangeError",
           "NotFoundError", "AlreadyExistsError", "FailedPreconditionError",
           "PermissionDeniedError", "UnimplementedError"]


class OpError(Exception):
    """Base class of the TF-style errors; ``message`` holds the text."""

    def __init__(self, message, *args):
        super().__init__(message, *args)
        self.message = message

    def __str__(self):
        return self.message


class InvalidArgumentError(OpError, ValueError):
    """Bad data or a bad argument value (``tf.errors.InvalidArgumentError``)."""


class DataLossError(OpError, IOError):
    """Corrupt or truncated data in a file (``tf.errors.DataLossError``)."""


class OutOfRangeError(OpError):
    """The end of a sequence, raised by TF1-style ``get_next()``."""


class NotFoundError(OpError, FileNotFoundError):
    """A file or pattern that does not exist (``tf.errors.NotFoundError``)."""


class AlreadyExistsError(OpError, FileExistsError):
    """Something being created exists already (``tf.errors.AlreadyExistsError``)."""


class FailedPreconditionError(OpError):
    """A state the operation needs does not hold (``tf.errors.FailedPreconditionError``):
    a lookup table whose keys repeat, a dataset of another size than asserted."""


class PermissionDeniedError(OpError, PermissionError):
    """No permission, or a file used in a mode it was not opened for (``tf.io.gfile``)."""


class UnimplementedError(OpError, OSError):
    """An operation eagerflow does not implement (e.g. a remote file system scheme)."""


class InvalidArgumentIndexError(InvalidArgumentError, IndexError):
    """An index out of range: TF's ``InvalidArgumentError`` (``indices[0] = 5 is not in
    [0, 3)``), and Python's ``IndexError`` for code that catches that."""
