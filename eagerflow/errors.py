"""``tf.errors``: the error classes eagerflow raises where TensorFlow raises its own."""
from .io.errors import (AlreadyExistsError, DataLossError, FailedPreconditionError,
                        InvalidArgumentError, NotFoundError, OpError, OutOfRangeError)

__all__ = ["OpError", "InvalidArgumentError", "DataLossError", "OutOfRangeError",
           "NotFoundError", "AlreadyExistsError", "FailedPreconditionError"]
