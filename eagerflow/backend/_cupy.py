"""CuPy access. The only module of eagerflow that imports cupy (kernels/ use it via here)."""

_cupy = None
_error = None


def load():
    """Imports cupy and checks that a GPU is visible; returns the module or raises."""
    global _cupy, _error
    if _cupy is not None:
        return _cupy
    if _error is not None:
        raise _error
    try:
        import cupy  # noqa: PLC0415  (the one place cupy is imported)
        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            raise RuntimeError("no CUDA device is visible")
    except Exception as e:  # ImportError, CUDARuntimeError, RuntimeError
        _error = RuntimeError(
            "the cupy backend needs CuPy (pip install 'eagerflow[cuda12]' or "
            "'eagerflow[cuda13]') and a visible NVIDIA GPU; "
            f"it is not usable here: {type(e).__name__}: {e}")
        raise _error from e
    _cupy = cupy
    return cupy


def available():
    """True when cupy imports and at least one GPU is visible."""
    try:
        load()
        return True
    except RuntimeError:
        return False


def loaded():
    """The cupy module if it was already loaded, else None (never imports it)."""
    return _cupy
