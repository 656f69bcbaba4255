"""Request counts and latencies in Prometheus text format (``/monitoring/prometheus/metrics``).

Metric names follow TF Serving's (``:tensorflow:serving:request_count``,
``:tensorflow:serving:request_latency``, in microseconds).

Example:
    >>> m = Metrics()
    >>> m.observe_request("m", "predict", "REST", "OK", 1200.0)
    >>> 'request_count{model_name="m",status="OK"} 1' in m.render()
    True
"""
import bisect
import threading

__all__ = ["Metrics"]

# Microseconds: 10 us .. ~100 s, roughly x2.5 per bucket (TF Serving uses exponential ones).
LATENCY_BUCKETS_US = [10 * 2.5 ** i for i in range(18)]
BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]


def _esc(v):
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(d):
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in d) + "}"


def _num(x):
    return repr(float(x)) if isinstance(x, float) and x != int(x) else str(int(x))


class _Histogram:
    __slots__ = ("counts", "sum", "n")

    def __init__(self, nb):
        self.counts, self.sum, self.n = [0] * (nb + 1), 0.0, 0


class Metrics:
    """Thread-safe counters and histograms, rendered in the Prometheus text format."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = {}   # (model, status) -> count
        self._latency = {}    # (model, api, entrypoint) -> _Histogram
        self._batches = {}    # model -> _Histogram
        self.gauges = None    # optional callable -> [(name, help, [(labels, value)])]

    def observe_request(self, model, api, entrypoint, status, latency_us):
        """Count one request of ``model`` (``""`` when unknown) and record its latency."""
        with self._lock:
            k = (model, status)
            self._requests[k] = self._requests.get(k, 0) + 1
            h = self._latency.get((model, api, entrypoint))
            if h is None:
                h = self._latency[(model, api, entrypoint)] = _Histogram(
                    len(LATENCY_BUCKETS_US))
            h.counts[bisect.bisect_left(LATENCY_BUCKETS_US, latency_us)] += 1
            h.sum += latency_us
            h.n += 1

    def observe_batch(self, model, size):
        with self._lock:
            h = self._batches.get(model)
            if h is None:
                h = self._batches[model] = _Histogram(len(BATCH_BUCKETS))
            h.counts[bisect.bisect_left(BATCH_BUCKETS, size)] += 1
            h.sum += size
            h.n += 1

    @staticmethod
    def _hist_lines(name, labels, h, buckets, out):
        acc = 0
        for le, c in zip(buckets, h.counts):
            acc += c
            out.append(f"{name}_bucket{_labels(labels + [('le', _num(le))])} {acc}")
        out.append(f"{name}_bucket{_labels(labels + [('le', '+Inf')])} {h.n}")
        out.append(f"{name}_sum{_labels(labels)} {h.sum!r}")
        out.append(f"{name}_count{_labels(labels)} {h.n}")

    def render(self):
        """The Prometheus text exposition (version 0.0.4) of every metric."""
        out = []
        with self._lock:
            name = ":tensorflow:serving:request_count"
            out += [f"# HELP {name} The total number of requests.", f"# TYPE {name} counter"]
            for (model, status), n in sorted(self._requests.items()):
                out.append(f"{name}{_labels([('model_name', model), ('status', status)])} {n}")
            name = ":tensorflow:serving:request_latency"
            out += [f"# HELP {name} Distribution of wall time (in microseconds) for "
                    "Tensorflow Serving request.", f"# TYPE {name} histogram"]
            for (model, api, ep), h in sorted(self._latency.items()):
                self._hist_lines(name, [("model_name", model), ("API", api),
                                        ("entrypoint", ep)], h, LATENCY_BUCKETS_US, out)
            if self._batches:
                name = ":tensorflow:serving:batching_session:processed_batch_size"
                out += [f"# HELP {name} Sizes of the batches executed.",
                        f"# TYPE {name} histogram"]
                for model, h in sorted(self._batches.items()):
                    self._hist_lines(name, [("model_name", model)], h, BATCH_BUCKETS, out)
        if self.gauges is not None:
            for gname, help_, rows in self.gauges():
                out += [f"# HELP {gname} {help_}", f"# TYPE {gname} gauge"]
                for labels, v in rows:
                    out.append(f"{gname}{_labels(labels)} {v}")
        return "\n".join(out) + "\n"
