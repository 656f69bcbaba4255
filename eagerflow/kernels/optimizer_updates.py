"""Fused optimizer updates: one kernel per variable, dense or on a set of unique rows.

Each update rule (TF1's ``Apply*`` / ``SparseApply*`` functors) is written once as a C body
for the GPU and once as a numba element function for the CPU. The dense form runs over
every element; the sparse form runs over the rows ``indices`` (unique, already summed by the
caller, as TF's ``_deduplicate_indexed_slices`` does) of a ``(num_rows, d)`` view.

- CPU twin: numba ``prange`` loops (each element/row written by one thread). Updates of
  fewer than ``_PARALLEL_MIN`` elements run on the calling thread alone (numba's thread
  count set to 1 for that launch): a parallel region ends in a barrier that, when other
  processes hold the cores, waits out scheduler ticks (measured 3-11 ms for a 400-element
  bias on a busy 2-core host, against 3 us on one thread; ``bench/NOTES.md``).
- GPU twin: a CuPy ``ElementwiseKernel`` per rule, dtype and form, compiled lazily and
  memoized (the sparse form addresses rows through ``raw`` arrays).

The learning rate (and Adam's beta powers) arrive as 1-element arrays on the device, so a
schedule evaluated on the device never forces a host sync; the other hyperparameters are
host scalars.

Example:
    >>> import numpy as np
    >>> var, acc = np.ones(3, np.float32), np.full(3, 0.1, np.float32)
    >>> apply_dense("adagrad", var, (acc,), np.ones(3, np.float32), np.array([0.1], np.float32))
    >>> [round(float(x), 4) for x in var]
    [0.9047, 0.9047, 0.9047]
"""

import numba
import numpy as np
from numba import njit, prange

from eagerflow import backend
from eagerflow.backend import _cupy
from eagerflow.errors import InvalidArgumentIndexError

from . import _cuda, device_errors, optimizer_updates_vec
from .scatter_add import INDEX_PAD, INDEX_PAD_SRC, scatter_add_new
from ._numba import PARALLEL_LOCK

__all__ = ["RULES", "INDEX_PAD", "deduplicate_rows", "apply_dense", "apply_sparse", "apply_dense_cpu", "apply_sparse_cpu",
           "apply_dense_gpu", "apply_sparse_gpu"]

# rule -> (slot names, hyperparameter names after lr, C body). In the body, `v` is the
# variable element, slots are named as listed, `g` the gradient, `lr` the learning rate.
RULES = {
    "sgd": ((), (), "v -= lr * g;"),
    "momentum": (("a",), ("momentum", "nesterov"), """
        a = a * momentum + g;
        if (nesterov != 0) v -= g * lr + a * momentum * lr; else v -= a * lr;"""),
    "adagrad": (("a",), (), """
        a += g * g;
        v -= g * lr * rsqrt(a);"""),
    "proximal_adagrad": (("a",), ("l1", "l2"), """
        a += g * g;
        T lr_t = lr * rsqrt(a);
        T prox = v - g * lr_t;
        if (l1 > 0) {
            T m = fabs(prox) - lr_t * l1;
            v = (prox > 0 ? 1 : (prox < 0 ? -1 : 0)) * (m > 0 ? m : 0) / (1 + l2 * lr_t);
        } else {
            v = prox / (1 + l2 * lr_t);
        }"""),
    "adadelta": (("a", "u"), ("rho", "eps"), """
        a = a * rho + g * g * (1 - rho);
        T upd = sqrt(u + eps) * rsqrt(a + eps) * g;
        u = u * rho + upd * upd * (1 - rho);
        v -= upd * lr;"""),
    "adam": (("m", "s"), ("b1p", "b2p", "beta1", "beta2", "eps"), """
        T alpha = lr * sqrt(1 - b2p) / (1 - b1p);
        m += (g - m) * (1 - beta1);
        s += (g * g - s) * (1 - beta2);
        v -= m * alpha / (sqrt(s) + eps);"""),
    "rmsprop": (("ms", "mom"), ("rho", "momentum", "eps"), """
        ms += (g * g - ms) * (1 - rho);
        mom = mom * momentum + g * lr / sqrt(ms + eps);
        v -= mom;"""),
    "centered_rmsprop": (("mg", "ms", "mom"), ("rho", "momentum", "eps"), """
        ms += (g * g - ms) * (1 - rho);
        mg += (g - mg) * (1 - rho);
        mom = mom * momentum + g * lr * rsqrt(ms - mg * mg + eps);
        v -= mom;"""),
    "ftrl": (("a", "lin"), ("l1", "l2", "l2_shrinkage", "lr_power"), """
        T na = a + g * g;
        T gs = g + 2 * l2_shrinkage * v;
        T pn = (lr_power == (T)-0.5) ? sqrt(na) : pow(na, -lr_power);
        T po = (lr_power == (T)-0.5) ? sqrt(a) : pow(a, -lr_power);
        lin += gs - (pn - po) / lr * v;
        T clipped = lin < -l1 ? -l1 : (lin > l1 ? l1 : lin);
        T y = pn / lr + 2 * l2;
        v = (fabs(lin) > l1) ? (clipped - lin) / y : (T)0;
        a = na;"""),
}
# INDEX_PAD rows (deduplicate_rows adds them on the GPU; padded IndexedSlices carry them)
# are skipped by the sparse kernels.
# Adam's beta powers travel as arrays like lr (they live in device variables).
_ARRAY_HYPER = {"b1p", "b2p"}
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------------------------------
# CPU: numba element functions (return the new values) and their dense/sparse drivers.
# h holds [lr, hyper...] in the variable's dtype.

@njit(cache=True, inline="always")
def _sgd(v, g, h):
    return v - h[0] * g


@njit(cache=True, inline="always")
def _momentum(v, a, g, h):
    a = a * h[1] + g
    if h[2] != 0:
        v = v - (g * h[0] + a * h[1] * h[0])
    else:
        v = v - a * h[0]
    return v, a


@njit(cache=True, inline="always")
def _adagrad(v, a, g, h):
    a = a + g * g
    return v - g * h[0] / np.sqrt(a), a


@njit(cache=True, inline="always")
def _proximal_adagrad(v, a, g, h):
    a = a + g * g
    lr_t = h[0] / np.sqrt(a)
    prox = v - g * lr_t
    if h[1] > 0:
        m = np.abs(prox) - lr_t * h[1]
        v = np.sign(prox) * max(m, 0) / (1 + h[2] * lr_t)
    else:
        v = prox / (1 + h[2] * lr_t)
    return v, a


@njit(cache=True, inline="always")
def _adadelta(v, a, u, g, h):
    one = h.dtype.type(1)
    a = a * h[1] + g * g * (one - h[1])
    upd = np.sqrt(u + h[2]) / np.sqrt(a + h[2]) * g
    u = u * h[1] + upd * upd * (one - h[1])
    return v - upd * h[0], a, u


@njit(cache=True, inline="always")
def _adam(v, m, s, g, h):
    # h: lr, b1p, b2p, beta1, beta2, eps, alpha (precomputed by the driver)
    one = h.dtype.type(1)
    m = m + (g - m) * (one - h[3])
    s = s + (g * g - s) * (one - h[4])
    return v - m * h[6] / (np.sqrt(s) + h[5]), m, s


@njit(cache=True, inline="always")
def _rmsprop(v, ms, mom, g, h):
    one = h.dtype.type(1)
    ms = ms + (g * g - ms) * (one - h[1])
    mom = mom * h[2] + g * h[0] / np.sqrt(ms + h[3])
    return v - mom, ms, mom


@njit(cache=True, inline="always")
def _centered_rmsprop(v, mg, ms, mom, g, h):
    one = h.dtype.type(1)
    ms = ms + (g * g - ms) * (one - h[1])
    mg = mg + (g - mg) * (one - h[1])
    mom = mom * h[2] + g * h[0] / np.sqrt(ms - mg * mg + h[3])
    return v - mom, mg, ms, mom


@njit(cache=True, inline="always")
def _ftrl(v, a, lin, g, h):
    lr, l1, l2, shrink, p = h[0], h[1], h[2], h[3], h[4]
    na = a + g * g
    gs = g + 2 * shrink * v
    if p == -0.5:
        pn, po = np.sqrt(na), np.sqrt(a)
    else:
        pn, po = na ** -p, a ** -p
    lin = lin + gs - (pn - po) / lr * v
    if np.abs(lin) > l1:
        clipped = min(max(lin, -l1), l1)
        v = (clipped - lin) / (pn / lr + 2 * l2)
    else:
        v = v * 0
    return v, na, lin


@njit(cache=True, parallel=True)
def _dense0(kind, v, g, h):
    for i in prange(v.shape[0]):
        v[i] = _sgd(v[i], g[i], h)


@njit(cache=True, parallel=True)
def _dense1(kind, v, a, g, h):
    for i in prange(v.shape[0]):
        if kind == 1:
            v[i], a[i] = _momentum(v[i], a[i], g[i], h)
        elif kind == 2:
            v[i], a[i] = _adagrad(v[i], a[i], g[i], h)
        else:
            v[i], a[i] = _proximal_adagrad(v[i], a[i], g[i], h)


@njit(cache=True, parallel=True)
def _dense2(kind, v, a, b, g, h):
    for i in prange(v.shape[0]):
        if kind == 4:
            v[i], a[i], b[i] = _adadelta(v[i], a[i], b[i], g[i], h)
        elif kind == 5:
            v[i], a[i], b[i] = _adam(v[i], a[i], b[i], g[i], h)
        elif kind == 6:
            v[i], a[i], b[i] = _rmsprop(v[i], a[i], b[i], g[i], h)
        else:
            v[i], a[i], b[i] = _ftrl(v[i], a[i], b[i], g[i], h)


@njit(cache=True, parallel=True)
def _dense3(kind, v, a, b, c, g, h):
    for i in prange(v.shape[0]):
        v[i], a[i], b[i], c[i] = _centered_rmsprop(v[i], a[i], b[i], c[i], g[i], h)


@njit(cache=True, parallel=True)
def _sparse0(kind, v, idx, g, h):
    d = g.shape[1]
    for r in prange(idx.shape[0]):
        row = idx[r]
        for j in range(d):
            v[row, j] = _sgd(v[row, j], g[r, j], h)


@njit(cache=True, parallel=True)
def _sparse1(kind, v, a, idx, g, h):
    d = g.shape[1]
    for r in prange(idx.shape[0]):
        row = idx[r]
        for j in range(d):
            if kind == 1:
                v[row, j], a[row, j] = _momentum(v[row, j], a[row, j], g[r, j], h)
            elif kind == 2:
                v[row, j], a[row, j] = _adagrad(v[row, j], a[row, j], g[r, j], h)
            else:
                v[row, j], a[row, j] = _proximal_adagrad(v[row, j], a[row, j], g[r, j], h)


@njit(cache=True, parallel=True)
def _sparse2(kind, v, a, b, idx, g, h):
    d = g.shape[1]
    for r in prange(idx.shape[0]):
        row = idx[r]
        for j in range(d):
            if kind == 4:
                v[row, j], a[row, j], b[row, j] = _adadelta(v[row, j], a[row, j], b[row, j],
                                                            g[r, j], h)
            elif kind == 5:
                v[row, j], a[row, j], b[row, j] = _adam(v[row, j], a[row, j], b[row, j],
                                                        g[r, j], h)
            elif kind == 6:
                v[row, j], a[row, j], b[row, j] = _rmsprop(v[row, j], a[row, j], b[row, j],
                                                           g[r, j], h)
            else:
                v[row, j], a[row, j], b[row, j] = _ftrl(v[row, j], a[row, j], b[row, j],
                                                        g[r, j], h)


@njit(cache=True, parallel=True)
def _sparse3(kind, v, a, b, c, idx, g, h):
    d = g.shape[1]
    for r in prange(idx.shape[0]):
        row = idx[r]
        for j in range(d):
            v[row, j], a[row, j], b[row, j], c[row, j] = _centered_rmsprop(
                v[row, j], a[row, j], b[row, j], c[row, j], g[r, j], h)


_KIND = {"sgd": 0, "momentum": 1, "adagrad": 2, "proximal_adagrad": 3, "adadelta": 4,
         "adam": 5, "rmsprop": 6, "ftrl": 7, "centered_rmsprop": 8}
_DENSE = (_dense0, _dense1, _dense2, _dense3)
_SPARSE = (_sparse0, _sparse1, _sparse2, _sparse3)
# Below this many updated elements the launch runs on one thread (as embedding_bag's and
# scatter_add's serial twins do).
_PARALLEL_MIN = 1 << 18


def _launch(fn, work, *args):
    # the kernels are compiled parallel, so even a one-thread launch enters the threading
    # layer: the lock is held either way
    with PARALLEL_LOCK:  # shared by every module's parallel kernels (_numba)
        if work >= _PARALLEL_MIN:
            fn(*args)
            return
        # numba's thread count is per calling thread: one worker, no pool wake-up/barrier
        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            fn(*args)
        finally:
            numba.set_num_threads(previous)


def _check(rule, var, slots, grad, hyper):
    if rule not in RULES:
        raise ValueError(f"unknown optimizer update {rule!r}; known: {', '.join(RULES)}")
    names, hnames, _ = RULES[rule]
    if len(slots) != len(names):
        raise ValueError(f"{rule}: expected {len(names)} slots, got {len(slots)}")
    missing = set(hnames) - set(hyper)
    if missing:
        raise ValueError(f"{rule}: missing hyperparameters {sorted(missing)}")
    if var.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{rule}: variables must be float32 or float64, got {var.dtype}")
    for s in (var,) + tuple(slots):
        if not s.flags.c_contiguous:
            raise ValueError(f"{rule}: variable and slot buffers must be C-contiguous")
        if s.shape != var.shape or s.dtype != var.dtype:
            raise ValueError(f"{rule}: slot of shape {s.shape} {s.dtype} does not match the "
                             f"variable's {var.shape} {var.dtype}")


def _host_h(rule, dtype, lr, hyper):
    _, hnames, _ = RULES[rule]
    vals = [float(np.asarray(lr).reshape(-1)[0])]
    for n in hnames:
        x = hyper[n]
        vals.append(float(np.asarray(x).reshape(-1)[0]) if n in _ARRAY_HYPER else float(x))
    if rule == "adam":
        lr0, b1p, b2p = vals[0], vals[1], vals[2]
        vals.append(lr0 * np.sqrt(1 - b2p) / (1 - b1p))
    return np.asarray(vals, dtype=dtype)


def apply_dense_cpu(rule, var, slots, grad, lr, **hyper):
    """CPU twin of :func:`apply_dense` (NumPy arrays)."""
    _check(rule, var, slots, grad, hyper)
    if grad.shape != var.shape:
        raise ValueError(f"{rule}: gradient of shape {grad.shape} does not match the "
                         f"variable's {var.shape}")
    h = _host_h(rule, var.dtype, lr, hyper)
    g = np.ascontiguousarray(grad, dtype=var.dtype).reshape(-1)
    flat = [var.reshape(-1)] + [s.reshape(-1) for s in slots]
    _launch(_DENSE[len(slots)], g.shape[0], _KIND[rule], *flat, g, h)


def apply_sparse_cpu(rule, var, slots, indices, grad, lr, **hyper):
    """CPU twin of :func:`apply_sparse` (NumPy arrays)."""
    _check(rule, var, slots, grad, hyper)
    rows = var.shape[0] if var.ndim else 1
    d = var.size // max(rows, 1)
    idx = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
    if grad.size != idx.shape[0] * d:
        raise ValueError(f"{rule}: sparse gradient of shape {grad.shape} does not match "
                         f"{idx.shape[0]} rows of the variable's {var.shape}")
    g = np.ascontiguousarray(grad, dtype=var.dtype).reshape(idx.shape[0], d)
    if idx.shape[0] and idx.min() == INDEX_PAD:
        keep = idx != INDEX_PAD
        idx, g = idx[keep], g[keep]
    if idx.shape[0] == 0:
        return
    if idx.min() < 0 or idx.max() >= rows:
        bad = int(idx[(idx < 0) | (idx >= rows)][0])
        raise InvalidArgumentIndexError(f"{rule}: row index {bad} is out of range [0, {rows})")
    h = _host_h(rule, var.dtype, lr, hyper)
    tables = [var.reshape(rows, d)] + [s.reshape(rows, d) for s in slots]
    _launch(_SPARSE[len(slots)], g.size, _KIND[rule], *tables, idx, g, h)


# ---------------------------------------------------------------------------------------
# GPU: ElementwiseKernels generated from the C bodies.

_gpu_kernels = {}


def _gpu_layout(rule):
    """(slot names, body, array hyperparameter names, scalar names) of the GPU kernels."""
    names, hnames, body = RULES[rule]
    scalars = [n for n in hnames if n not in _ARRAY_HYPER]
    arrays = ["lr"] + [n for n in hnames if n in _ARRAY_HYPER]
    if rule == "adam":
        # lr_t is the same for every element: computed once (see _gpu_args), which spares
        # each element a sqrt and a division
        arrays = ["alpha"]
        body = body.replace("T alpha = lr * sqrt(1 - b2p) / (1 - b1p);", "")
    return names, body, arrays, scalars


def _gpu_kernel(rule, dtype, sparse):
    key = (rule, np.dtype(dtype).name, sparse)
    kern = _gpu_kernels.get(key)
    if kern is not None:
        return kern
    cp = _cupy.load()
    names, body, arrays, scalars = _gpu_layout(rule)
    pre = "".join(f"const T {n} = {n}_arr[0];\n" for n in arrays)
    sc = "".join(f", T {n}" for n in scalars)
    ar = "".join(f", raw T {n}_arr" for n in arrays)
    if not sparse:
        in_params = "T g" + ar + sc
        out_params = ", ".join(["T v"] + [f"T {n}" for n in names])
        code = pre + body
    else:
        in_params = "T g, raw int64 idx, int64 d, int64 nrows, raw uint64 err" + ar + sc
        out_params = ", ".join(["raw T v_tab"] + [f"raw T {n}_tab" for n in names])
        refs = "".join(f"T& {n} = {n}_tab[o];\n" for n in ["v"] + list(names))
        code = ("const long long r = idx[i / d];\n"
                "if (r >= 0 && r < nrows) {\n"
                "const long long o = r * d + i % d;\n" + refs + pre + body + "\n}"
                " else if (r != EF_INDEX_PAD && i % d == 0) {\n"
                "  ef_report((unsigned long long*)&err[0], 1ULL, r, nrows, (long long)(i / d));\n}")
    kern = cp.ElementwiseKernel(in_params, out_params, code,
                                f"ef_{'sparse_' if sparse else ''}{rule}_{key[1]}",
                                preamble=device_errors.REPORT_SRC + INDEX_PAD_SRC if sparse
                                else "")
    _gpu_kernels[key] = kern
    return kern


_alpha_kernel = []


def _gpu_args(rule, var, lr, hyper):
    cp = _cupy.load()
    _, hnames, _ = RULES[rule]
    arrays = [cp.asarray(lr, dtype=var.dtype).reshape(1)]
    arrays += [cp.asarray(hyper[n], dtype=var.dtype).reshape(1) for n in hnames
               if n in _ARRAY_HYPER]
    if rule == "adam":
        if not _alpha_kernel:
            _alpha_kernel.append(cp.ElementwiseKernel(
                "T lr, T b1p, T b2p", "T alpha", "alpha = lr * sqrt(1 - b2p) / (1 - b1p)",
                "ef_adam_alpha"))
        arrays = [_alpha_kernel[0](*arrays)]
    scalars = [var.dtype.type(hyper[n]) for n in hnames if n not in _ARRAY_HYPER]
    return arrays, scalars


def apply_dense_gpu(rule, var, slots, grad, lr, **hyper):
    """GPU twin of :func:`apply_dense` (CuPy arrays); never synchronises."""
    _check(rule, var, slots, grad, hyper)
    if grad.shape != var.shape:
        raise ValueError(f"{rule}: gradient of shape {grad.shape} does not match the "
                         f"variable's {var.shape}")
    cp = _cupy.load()
    g = cp.ascontiguousarray(grad.astype(var.dtype, copy=False))
    arrays, scalars = _gpu_args(rule, var, lr, hyper)
    if optimizer_updates_vec.vector_ok(var, [g, var, *slots]):
        names, body, anames, snames = _gpu_layout(rule)
        optimizer_updates_vec.apply_dense_vec(rule, var.dtype, names, body, anames, snames,
                                              var, slots, g, arrays, scalars)
        return
    _gpu_kernel(rule, var.dtype, False)(g, *arrays, *scalars, var, *slots)


def apply_sparse_gpu(rule, var, slots, indices, grad, lr, **hyper):
    """GPU twin of :func:`apply_sparse` (CuPy arrays); indices must be unique.

    Rows with index :data:`INDEX_PAD` are skipped; other out-of-range rows are skipped and
    recorded in the device error flag (:func:`eagerflow.kernels.check_errors` raises it).
    """
    _check(rule, var, slots, grad, hyper)
    cp = _cupy.load()
    rows = var.shape[0] if var.ndim else 1
    d = var.size // max(rows, 1)
    idx = cp.ascontiguousarray(indices.astype(cp.int64, copy=False).reshape(-1))
    if grad.size != idx.shape[0] * d:
        raise ValueError(f"{rule}: sparse gradient of shape {grad.shape} does not match "
                         f"{idx.shape[0]} rows of the variable's {var.shape}")
    if idx.shape[0] == 0:
        return
    g = cp.ascontiguousarray(grad.astype(var.dtype, copy=False)).reshape(idx.shape[0], d)
    arrays, scalars = _gpu_args(rule, var, lr, hyper)
    _gpu_kernel(rule, var.dtype, True)(g, idx, np.int64(d), np.int64(rows),
                                       device_errors.error_flag(), *arrays, *scalars, var,
                                       *slots)


def apply_dense(rule, var, slots, grad, lr, **hyper):
    """Applies one dense update of ``rule`` in place to ``var`` and its ``slots``.

    Args:
        rule: a key of :data:`RULES` (``'adam'``, ``'adagrad'``, ``'ftrl'``...).
        var: the variable's buffer (float32/float64, C-contiguous); updated in place.
        slots: the slot buffers in the order :data:`RULES` names them; updated in place.
        grad: gradient of ``var``'s shape.
        lr: the learning rate: a 1-element array (or a float).
        **hyper: the rule's other hyperparameters (``beta1=...``).

    Raises:
        ValueError: on shape/slot mismatches or missing hyperparameters.
    """
    if backend.array_module(var) is np:
        return apply_dense_cpu(rule, var, slots, grad, lr, **hyper)
    return apply_dense_gpu(rule, var, slots, grad, lr, **hyper)


def apply_sparse(rule, var, slots, indices, grad, lr, **hyper):
    """Applies ``rule`` to the rows ``indices`` of ``var`` (and its slots) only.

    Args:
        indices: unique row indices, shape ``(n,)``.
        grad: the rows' gradients, shape ``(n, *var.shape[1:])`` (duplicates summed).
        Other arguments as :func:`apply_dense`.

    Raises:
        IndexError: on the CPU, for an index out of range (nothing is written).
    """
    if backend.array_module(var) is np:
        return apply_sparse_cpu(rule, var, slots, indices, grad, lr, **hyper)
    return apply_sparse_gpu(rule, var, slots, indices, grad, lr, **hyper)


def deduplicate_rows(indices, values, num_rows=None):
    """Sums the rows of duplicate indices (TF's ``_deduplicate_indexed_slices``).

    Args:
        indices: integer array ``(n,)``.
        values: rows ``(n, *trailing)``.
        num_rows: the table's row count, when known (lets the GPU sort 32-bit keys).

    Returns:
        ``(unique_indices, summed_rows)``. On the CPU the exact unique indices. On the GPU,
        without a host synchronisation: ``n`` entries, the unique indices first (sorted)
        and then :data:`INDEX_PAD` padding with zero rows, which :func:`apply_sparse`
        skips.
    """
    idx = indices.reshape(-1)
    vals = values.reshape((idx.shape[0],) + tuple(values.shape[indices.ndim:]))
    n = idx.shape[0]
    if backend.array_module(vals) is np:
        if vals.dtype in _FLOATS and vals.ndim == 2 and idx.dtype.kind in "iu":
            return _dedupe_cpu(idx, vals)
        uniq, inv = np.unique(idx, return_inverse=True)
        if uniq.shape[0] == n:
            return idx, vals
        return uniq, scatter_add_new(inv.reshape(-1), vals, uniq.shape[0])
    cp = _cupy.load()
    idx = idx.astype(cp.int64, copy=False)  # int32 ids (Python lists are int32, as in TF)
    if n == 0:
        return idx, vals
    flags_k, scatter_k = _dedupe_kernels()
    # 32-bit keys halve the radix-sort passes when every index fits; INDEX_PAD (whose low
    # 32 bits are 0) must not become row 0's key, so pads take the key -1
    keys = _pad_keys_32(idx) if num_rows is not None and num_rows < 2 ** 31 else idx
    order = cp.argsort(keys)
    first = flags_k(keys, order, size=n)
    seg = cp.cumsum(first)
    uniq = cp.full(n, INDEX_PAD, dtype=cp.int64)
    seg_of = cp.empty(n, dtype=cp.int64)
    scatter_k(idx, order, seg, uniq, seg_of, size=n)
    return uniq, scatter_add_new(seg_of, vals, n)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, nogil=True, boundscheck=False)
def _dedupe_hash(idx, vals, uniq, summed):
    """Open addressing over a power-of-two table of at least 2n slots (Fibonacci hashing):
    each index's first occurrence takes the next output row, later ones add into it, in
    the input's order (the sums of a scatter-add, bit for bit). Returns the row count."""
    n, d = vals.shape
    bits = 1
    while (1 << bits) < 2 * n:
        bits += 1
    mask = (1 << bits) - 1
    slots = np.full(1 << bits, -1, np.int64)
    shift = np.uint64(64 - bits)
    m = 0
    for i in range(n):
        key = idx[i]
        h = np.int64((np.uint64(key) * np.uint64(11400714819323198485)) >> shift)
        while True:
            s = slots[h]
            if s < 0:
                slots[h] = m
                uniq[m] = key
                for j in range(d):
                    summed[m, j] = vals[i, j]
                m += 1
                break
            if uniq[s] == key:
                for j in range(d):
                    summed[s, j] += vals[i, j]
                break
            h = (h + 1) & mask
    return m


def _dedupe_cpu(idx, vals):
    """``deduplicate_rows`` on the CPU in one pass (no sort): the unique indices in order of
    first occurrence. ~10x faster than ``np.unique`` + a scatter for a batch's 4096 ids."""
    n = idx.shape[0]
    uniq = np.empty(n, dtype=np.int64)
    summed = np.empty(vals.shape, dtype=vals.dtype)
    m = _dedupe_hash(idx.astype(np.int64, copy=False), np.ascontiguousarray(vals), uniq,
                     summed)
    if m == n:
        return idx, vals
    return uniq[:m], summed[:m]


_dedupe = []


def _pad_keys_32(idx):
    return _cuda.elementwise("int64 x", "int32 k", "k = x == EF_INDEX_PAD ? -1 : (int)x",
                             "ef_dedupe_keys32", preamble=INDEX_PAD_SRC)(idx)


def _dedupe_kernels():
    if not _dedupe:
        cp = _cupy.load()
        flags = cp.ElementwiseKernel(
            "raw K keys, raw int64 order", "int64 f",
            "f = (i == 0 || keys[order[i]] != keys[order[i - 1]]) ? 1 : 0",
            "ef_dedupe_flags")
        # seg is the inclusive count of first occurrences: the unique slot is seg - 1
        scatter = cp.ElementwiseKernel(
            "raw int64 idx, raw int64 order, raw int64 seg", "raw int64 uniq, raw int64 seg_of",
            "const long long p = order[i]; const long long s = seg[i] - 1;"
            " uniq[s] = idx[p]; seg_of[p] = s;",
            "ef_dedupe_scatter")
        _dedupe.extend((flags, scatter))
    return _dedupe
