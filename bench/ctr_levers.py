"""A/B of the CPU-path levers on the DeepFM-like step of ``bench/train_ctr.py``.

Each lever can be switched off in-process (monkeypatched back to the previous code), so the
variants run interleaved in one process on the same model and data: per variant the median
(over rounds) of the per-phase times of ``EfRunner.phases``. Levers:

- ``relu``: fused ``relu``/``relu_grad`` kernels (off: ``where(x > 0, x, zeros_like(x))``).
- ``opt1``: optimizer updates under ``_PARALLEL_MIN`` elements on one numba thread (off:
  every update a parallel region).
- ``fm``: ``ef.nn.fm_interaction`` fused op (off: the composition with ``reduce_sum``).
- ``bias_relu``: ``ef.nn.relu_layer`` with the bias add and ReLU in one pass (off:
  ``relu(matmul + bias)``).

Usage: PYTHONPATH=. python bench/ctr_levers.py [--layout tables] [--opt adam] [--rounds 4]
       (set OPENBLAS_NUM_THREADS / NUMBA_NUM_THREADS in the environment to pin threads)
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import train_ctr as T  # noqa: E402

import eagerflow as ef  # noqa: E402
from eagerflow import ops  # noqa: E402
from eagerflow.kernels import optimizer_updates as ou  # noqa: E402
from eagerflow.nn import activation as act  # noqa: E402

FUSED_RELU = act._relu
PAR_MIN = ou._PARALLEL_MIN
FUSED_FM = ef.nn.fm_interaction
FUSED_LAYER = ef.nn.relu_layer


def old_layer(x, w, b):
    return ef.nn.relu(ef.matmul(x, w) + b)


def old_fm(e):
    s = ef.reduce_sum(e, axis=1)
    return 0.5 * ef.reduce_sum(s * s - ef.reduce_sum(e * e, axis=1), axis=1, keepdims=True)


def old_relu(x):
    return ops.where(x > 0, x, ops.zeros_like(x))


def set_levers(relu, opt1, fm=True, bias_relu=True):
    act._relu = FUSED_RELU if relu else old_relu
    ou._PARALLEL_MIN = PAR_MIN if opt1 else 0
    ef.nn.fm_interaction = FUSED_FM if fm else old_fm
    ef.nn.relu_layer = FUSED_LAYER if bias_relu else old_layer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layout", default="tables")
    p.add_argument("--opt", default="adam")
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=3)
    a = p.parse_args()
    tables, mlp = T.init_weights()
    r = T.EfRunner(tables, mlp, T.make_batches(a.batch), a.layout, a.opt)
    variants = {"baseline": (False, False, False, False),
                "+relu": (True, False, False, False), "+opt1": (False, True, False, False),
                "+relu+opt1": (True, True, False, False),
                "+relu+opt1+fm": (True, True, True, False),
                "+all (+bias_relu)": (True, True, True, True)}
    for v in variants.values():
        set_levers(*v)
        r.step()
    res = {k: [] for k in variants}
    for _ in range(a.rounds):
        for k, v in variants.items():
            set_levers(*v)
            res[k].append(r.phases(a.steps))
    set_levers(True, True, True, True)
    print(f"layout {a.layout}, optimizer {a.opt}, batch {a.batch}: median over {a.rounds} "
          f"rounds of the per-round median of {a.steps} steps, ms")
    names = list(res["baseline"][0])
    print(f"{'variant':<18}" + "".join(f"{n:>22}" for n in names) + f"{'sum':>8}")
    for k, rows in res.items():
        med = [statistics.median(r_[n] for r_ in rows) * 1e3 for n in names]
        print(f"{k:<18}" + "".join(f"{m:>22.1f}" for m in med) + f"{sum(med):>8.1f}")


if __name__ == "__main__":
    main()
