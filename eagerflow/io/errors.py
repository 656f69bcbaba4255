"""TensorFlow's error classes for input pipelines: :mod:`eagerflow.errors`' (kept at this
path for the modules and users that import them from here)."""
from ..errors import (AlreadyExistsError, DataLossError, FailedPreconditionError,  # noqa: F401
                      InvalidArgumentError, NotFoundError, OpError, OutOfRangeError)

__all__ = ["OpError", "InvalidArgumentError", "DataLossError", "OutOfRangeError",
           "NotFoundError", "AlreadyExistsError", "FailedPreconditionError"]
