"""keep_host_memory: glibc keeps freed blocks in the heap for reuse instead of returning
them to the kernel. Runs in a child process (the setting is process-wide and permanent)."""
import os
import subprocess
import sys

import pytest

CHILD = r"""
import numpy as np
from eagerflow import backend

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

def retained():
    r0 = rss()
    a = np.empty(48 * 2 ** 20 // 8)
    a[:] = 1.0
    del a
    return rss() - r0

before = retained()
ok = backend.keep_host_memory()
assert backend.keep_host_memory() is ok  # idempotent
after = retained()
print(ok, before, after)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_keep_host_memory_keeps_freed_blocks():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ok, before, after = out.stdout.split()
    if ok != "True":
        pytest.skip("not glibc")
    # by default a freed 48 MiB block goes back to the kernel; with the setting it stays
    assert int(before) < 8 * 2 ** 20
    assert int(after) > 40 * 2 ** 20
