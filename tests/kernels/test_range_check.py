"""check_in_range: raises at once on the CPU, through check_errors on the GPU."""
import numpy as np
import pytest

from eagerflow import backend, kernels
from eagerflow.kernels.range_check import check_in_range


def test_values_in_range_pass(xp):
    check_in_range(xp.asarray(np.array([0.0, 1.0, 0.5], np.float32)), 0, 1, "bad {lo} {hi}")
    check_in_range(xp.asarray(np.zeros(0, np.float32)), 0, 1, "bad")
    kernels.check_errors()


@pytest.mark.parametrize("bad", [2.0, -1.0, np.nan])
def test_out_of_range_and_nan_are_errors(xp, bad):
    v = xp.asarray(np.array([[0.0, 1.0], [bad, 0.0]], np.float32))
    kernels.clear_errors()
    with pytest.raises(ValueError, match="range|got values"):
        check_in_range(v, 0, 1, "labels must be 0 or 1, got values in [{lo}, {hi}]")
        kernels.check_errors()
    kernels.check_errors()  # reported once
    if backend.get_backend() == "cupy":
        np.testing.assert_array_equal(backend.to_numpy(v)[1, 1], 0.0)  # values untouched
