"""Starting ``mpiexec -n N python -m tests.distribute.workers ...`` from a test."""
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def mpiexec():
    """The ``mpiexec`` of the mpich wheel beside this Python, else one on PATH. Missing
    is a failure, not a skip: CI installs it with the ``dev`` extra."""
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.fail("mpiexec not found beside the Python interpreter nor on PATH: "
                    "pip install 'eagerflow[distributed]' (mpi4py and mpich)")
    return found


def run_workers(scenarios, out_dir, n=2, timeout=90, **env_vars):
    """Runs the scenarios on ``n`` processes; returns ``(CompletedProcess, seconds)``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **env_vars)
    cmd = [mpiexec(), "-n", str(n), sys.executable, "-m", "tests.distribute.workers",
           ",".join(scenarios), str(out_dir)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc, time.monotonic() - start
