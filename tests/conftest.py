"""Shared fixtures. Every test runs on the backend chosen by EAGERFLOW_BACKEND (numpy in CI,
cupy on the GPU machine); tests marked ``gpu`` need the cupy backend."""
import numpy as np
import pytest

import eagerflow as ef
from eagerflow import backend


def pytest_collection_modifyitems(config, items):
    if backend.get_backend() != "cupy":
        return
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))


@pytest.fixture(autouse=True)
def _fresh_seed():
    ef.random.set_seed(None)
    yield
    if backend.get_backend() == "cupy":
        # a GPU error a failing test recorded and never checked is that test's, not the
        # next one's (the flag is per process)
        ef.kernels.clear_errors()


@pytest.fixture
def xp():
    """The array module of the backend under test."""
    return backend.xp()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
