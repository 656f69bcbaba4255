"""``python -m eagerflow.serving``: see :mod:`eagerflow.serving.cli`."""
import sys

from eagerflow.serving.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
