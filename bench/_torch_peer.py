"""The PyTorch peer of the benchmarks: imported when installed (and, for a GPU run, when it
sees CUDA); the benchmarks print no peer column otherwise."""


def load_torch(on_gpu):
    """``torch``, or None when it is missing or (``on_gpu``) has no CUDA device."""
    try:
        import torch
    except ImportError:
        return None
    if on_gpu and not torch.cuda.is_available():
        return None
    return torch
