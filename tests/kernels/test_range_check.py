"""check_in_range: raises at once on the CPU, through check_errors on the GPU."""
import re

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
    before = np.array([[0.0, 1.0], [bad, 0.5]], np.float32)
    v = xp.asarray(before)
    kernels.clear_errors()
    on_gpu = backend.get_backend() == "cupy"
    lo, hi = np.nanmin(before), np.nanmax(before)
    text = re.escape("labels must be 0 or 1, got values in [?, ?] (checked on the GPU: "
                     "element 2 is outside [0, 1])" if on_gpu
                     else f"labels must be 0 or 1, got values in [{lo}, {hi}]")
    with pytest.raises(ValueError, match=text):
        check_in_range(v, 0, 1, "labels must be 0 or 1, got values in [{lo}, {hi}]")
        kernels.check_errors()
    kernels.check_errors()  # reported once
    np.testing.assert_array_equal(backend.to_numpy(v), before)  # values untouched (NaN too)
