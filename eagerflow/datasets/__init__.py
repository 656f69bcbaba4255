"""Built-in data sets: the synthetic Criteo-shaped click log (:mod:`.synthetic_ctr`)."""
from . import synthetic_ctr

__all__ = ["synthetic_ctr"]
