"""ServerCore: models, their source polling, the manager, and the request operations.

The REST and gRPC front ends are thin: they decode a request into NumPy arrays, call
:meth:`ServerCore.predict` / :meth:`~ServerCore.classify` / :meth:`~ServerCore.regress` /
:meth:`~ServerCore.metadata` / :meth:`~ServerCore.status`, and encode the answer. Every failure
is a :class:`~eagerflow.serving.errors.ServingError` with TF Serving's code and message.

Example:
    >>> core = ServerCore([ModelConfig("m", "/models/m")], file_system_poll_wait_seconds=0)
    ... # doctest: +SKIP
    >>> core.start(); core.predict("m", inputs={"x": np.ones((2, 1), np.float32)})  # doctest: +SKIP
"""
import logging
import threading

import numpy as np

from .batching import BatchScheduler
from .config import ModelConfig  # noqa: F401  (doctest name)
from .errors import UNIMPLEMENTED, ServingError
from .events import log_event
from .loader import Loader
from .manager import AspiredVersionsManager
from .metrics import Metrics
from .policy import STATE_NAMES
from .source import poll_model
from .tensor_codec import dtype_enum, tf_type_name

__all__ = ["ServerCore", "PREDICT", "CLASSIFY", "REGRESS", "DEFAULT_SIGNATURE"]

PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
DEFAULT_SIGNATURE = "serving_default"


class ServerCore:
    """The model server minus its network front ends.

    Args:
        model_configs: list of :class:`~eagerflow.serving.config.ModelConfig`.
        loader: a :class:`~eagerflow.serving.loader.Loader` (default: eagerflow SavedModels).
        policy: ``"availability_preserving"`` (default) or ``"resource_preserving"``.
        file_system_poll_wait_seconds: float, re-scan base paths every N s; 0 scans once;
            < 0 never after start.
        batching: optional :class:`~eagerflow.serving.config.BatchingConfig`; enables
            request batching of Predict.
        max_num_load_retries: int, extra load attempts after a failure.
        load_retry_interval_s: float, seconds between load attempts.
        memory_limit_bytes: optional int, total estimated model memory allowed.
        metrics: optional :class:`~eagerflow.serving.metrics.Metrics`.
    """

    def __init__(self, model_configs, loader=None, policy="availability_preserving",
                 file_system_poll_wait_seconds=1.0, batching=None, max_num_load_retries=5,
                 load_retry_interval_s=60.0, memory_limit_bytes=None, metrics=None):
        self.loader = loader or Loader()
        self.batching = batching
        self.metrics = metrics or Metrics()
        self._poll_wait = float(file_system_poll_wait_seconds)
        self.manager = AspiredVersionsManager(
            self.loader, policy=policy, max_num_load_retries=max_num_load_retries,
            load_retry_interval_s=load_retry_interval_s, memory_limit_bytes=memory_limit_bytes,
            on_unload=self._on_unload)
        self._configs = {}
        self._names = frozenset()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.reload_config(model_configs, poll=False)

    # ------------------------------------------------------------------ config / polling
    @property
    def model_names(self):
        with self._lock:
            return sorted(self._configs)

    def is_served(self, name):
        """Whether ``name`` is a configured model (lock-free: read on every request)."""
        return name in self._names

    @property
    def model_configs(self):
        """The current :class:`~eagerflow.serving.config.ModelConfig` list."""
        with self._lock:
            return list(self._configs.values())

    def reload_config(self, model_configs, poll=True):
        """Serve exactly ``model_configs`` from now on (removed models are unloaded)."""
        new = {c.name: c for c in model_configs}
        if len(new) != len(model_configs):
            raise ServingError.invalid_argument("duplicate model name in the model config")
        with self._lock:
            removed = set(self._configs) - set(new)
            self._configs = new
            self._names = frozenset(new)
        for name in removed:
            log_event("model_removed", model=name)
            self.manager.set_aspired_versions(name, {})
        for c in new.values():
            self.manager.set_version_labels(c.name, c.version_labels)
        if poll:
            self.poll()

    def poll(self):
        """Scan every base path once and update the aspired versions."""
        with self._lock:
            configs = list(self._configs.values())
        for c in configs:
            versions = poll_model(c, self.loader.is_complete)
            if versions is not None:
                self.manager.set_aspired_versions(c.name, versions)

    def start(self, wait_for_models_s=60.0):
        """Poll once, wait for the first loads, then keep polling in the background.

        A negative ``file_system_poll_wait_seconds`` never polls (TF Serving's testing
        mode): versions then only come from :meth:`manager` calls.
        """
        if self._poll_wait < 0:
            return self
        self.poll()
        self.manager.wait_until_settled(wait_for_models_s)
        if self._poll_wait > 0:
            self._thread = threading.Thread(target=self._poll_loop, daemon=True,
                                            name="ef-serving-source")
            self._thread.start()
        return self

    def _poll_loop(self):
        while not self._stop.wait(self._poll_wait):
            try:
                self.poll()
            except Exception as e:  # the source must outlive a bad scan
                log_event("poll_failed", error=repr(e), level=logging.ERROR)

    def stop(self):
        """Stop polling and unload every model (waits for requests in flight)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.manager.stop()

    def _on_unload(self, servable):
        for sched in servable.extras.pop("batchers", {}).values():
            sched.stop()

    # ------------------------------------------------------------------ requests
    def _check_model(self, name):
        if not name:
            raise ServingError.invalid_argument("Missing ModelSpec")

    def acquire(self, name, version=None, label=None):
        """A reference-counted handle of the requested servable (see the manager)."""
        self._check_model(name)
        return self.manager.acquire(name, version, label)

    @staticmethod
    def find_signature(servable, signature_name, rest=False):
        key = signature_name or DEFAULT_SIGNATURE
        sigs = servable.signatures
        if key not in sigs:
            if rest:
                raise ServingError.invalid_argument(
                    f'Serving signature name: "{key}" not found in signature def')
            raise ServingError.failed_precondition(f'Serving signature key "{key}" not found.')
        return key, sigs[key]

    def _scheduler(self, servable, key, sig):
        batchers = servable.extras.get("batchers", {})
        sched = batchers.get(key)
        if sched is None:
            with self._lock:  # one scheduler (and its threads) per signature
                batchers = servable.extras.setdefault("batchers", {})
                sched = batchers.get(key)
                if sched is None:
                    sched = batchers[key] = BatchScheduler(
                        sig, self.batching,
                        on_batch=lambda n, m=servable.name: self.metrics.observe_batch(m, n))
        return sched

    @staticmethod
    def _model_error(e):
        """The ServingError a client sees for an exception raised by the model."""
        if isinstance(e, ServingError):
            return e
        if isinstance(e, MemoryError):
            return ServingError.resource_exhausted("Out of memory running the model")
        msg = str(e).strip() or type(e).__name__  # the model rejected the inputs
        return ServingError.invalid_argument(msg.splitlines()[0][:2000])

    def _call(self, servable, key, sig, inputs):
        try:
            if self.batching is not None:
                out = self._scheduler(servable, key, sig).run(inputs)
            else:
                out = sig(**inputs)
        except Exception as e:
            raise self._model_error(e) from None
        return {k: np.asarray(v) for k, v in out.items()}

    def _prepare_predict(self, servable, signature_name, inputs, output_filter, rest,
                         check_dtypes):
        key, sig = self.find_signature(servable, signature_name, rest)
        if callable(inputs):  # REST decodes JSON against the signature it will run
            inputs = inputs(sig)
        if sig.method_name not in (PREDICT, CLASSIFY, REGRESS):
            raise ServingError.invalid_argument(
                f"Expected prediction signature method_name to be one of {{{PREDICT}, "
                f"{CLASSIFY}, {REGRESS}}}. Was: {sig.method_name}")
        given, expected = set(inputs), set(sig.inputs)
        if given != expected:
            raise ServingError.invalid_argument(
                f"input size does not match signature: {len(given)}!={len(expected)} "
                f"len({{{','.join(sorted(given))}}}) != "
                f"len({{{','.join(sorted(expected))}}}). Sent extra: "
                f"{{{','.join(sorted(given - expected))}}}. Missing but required: "
                f"{{{','.join(sorted(expected - given))}}}.")
        if check_dtypes:
            for i, k in enumerate(sorted(inputs)):
                want, got = np.dtype(sig.inputs[k].dtype), inputs[k].dtype
                if want != got and not (want.kind in "OSU" and got.kind in "OSU"):
                    raise ServingError.invalid_argument(
                        f"Expects arg[{i}] to be {tf_type_name(dtype_enum(want))} but "
                        f"{tf_type_name(dtype_enum(got))} is provided")
        wanted = list(output_filter or ())
        if len(set(wanted)) != len(wanted):
            dup = next(a for a in wanted if wanted.count(a) > 1)
            raise ServingError.invalid_argument(f"duplicate output tensor alias: {dup}")
        for a in wanted:
            if a not in sig.outputs:
                raise ServingError.invalid_argument(
                    f"output tensor alias not found in signature: {a} Outputs expected "
                    f"to be in the set {{{','.join(sorted(sig.outputs))}}}.")
        return key, sig, inputs, wanted

    def predict(self, name, version=None, label=None, signature_name="", inputs=None,
                output_filter=(), rest=False, check_dtypes=False):
        """Run a Predict.

        Args:
            inputs: dict alias -> array, or a callable ``(signature) -> dict`` run once the
                servable is held.

        Returns:
            ``(outputs dict alias -> array, version, signature key)``.
        """
        with self.acquire(name, version, label) as servable:
            key, sig, inputs, wanted = self._prepare_predict(
                servable, signature_name, inputs, output_filter, rest, check_dtypes)
            out = self._call(servable, key, sig, inputs)
            if wanted:
                out = {a: out[a] for a in wanted}
            return out, servable.version, key

    async def predict_async(self, name, version=None, label=None, signature_name="",
                            inputs=None, output_filter=(), rest=False):
        """:meth:`predict` for an asyncio caller: with batching on, the request waits for
        its batch without holding a thread."""
        with self.acquire(name, version, label) as servable:
            key, sig, inputs, wanted = self._prepare_predict(
                servable, signature_name, inputs, output_filter, rest, False)
            try:
                if self.batching is not None:
                    out = await self._scheduler(servable, key, sig).run_async(inputs)
                else:
                    out = sig(**inputs)
            except Exception as e:
                raise self._model_error(e) from None
            out = {k: np.asarray(v) for k, v in out.items()}
            if wanted:
                out = {a: out[a] for a in wanted}
            return out, servable.version, key

    @staticmethod
    def _examples_signature(servable, signature_name, method,
                            missing="No signature was found with the name: "):
        """``(key, signature)`` of a classify/regress request, checked as TF's
        classifier.cc / regressor.cc do (REST and gRPC alike)."""
        key = signature_name or DEFAULT_SIGNATURE
        sig = servable.signatures.get(key)
        if sig is None:
            raise ServingError.invalid_argument(f"{missing}{key}")
        what = "classification" if method == CLASSIFY else "regression"
        if sig.method_name != method:
            raise ServingError.invalid_argument(
                f"Expected {what} signature method_name to be {method}. Was: "
                f"{sig.method_name}")
        if set(sig.inputs) != {"inputs"}:
            raise ServingError.invalid_argument(
                f"Expected one input Tensor named 'inputs' in the {what} signature, got "
                f"{sorted(sig.inputs)}")
        if np.dtype(sig.inputs["inputs"].dtype).kind not in "OSU":
            raise ServingError.invalid_argument(
                f"The {what} signature's 'inputs' must be DT_STRING (serialized "
                "tf.Example)")
        return key, sig

    def _examples_call(self, name, version, label, signature_name, serialized, method, rest):
        with self.acquire(name, version, label) as servable:
            key, sig = self._examples_signature(servable, signature_name, method)
            out = self._call(servable, key, sig, {"inputs": serialized})
            return out, servable.version, key

    def classify(self, name, version=None, label=None, signature_name="", serialized=None,
                 rest=False):
        """Classify serialized Examples.

        Returns:
            ``(results, version, signature key)``: results is a list (one per example) of
            lists of ``(label, score)``.
        """
        out, v, key = self._examples_call(name, version, label, signature_name, serialized,
                                          CLASSIFY, rest)
        return self._classifications(out, len(serialized)), v, key

    @staticmethod
    def _classifications(out, n):
        """Per example, the ``(label, score)`` list of a classify signature's outputs."""
        classes, scores = out.get("classes"), out.get("scores")
        if classes is None and scores is None:
            raise ServingError.invalid_argument(
                "Expected classification signature outputs to contain at least one of "
                "'classes' or 'scores'")
        arrs = [a for a in (classes, scores) if a is not None]
        for i, a in enumerate(arrs):
            if a.ndim == 1:
                arrs[i] = a.reshape(-1, 1)
            if arrs[i].ndim != 2 or arrs[i].shape[0] != n:
                raise ServingError.invalid_argument(
                    f"Expected Tensor shape: [{n} num_classes] but got {list(a.shape)}")
        if classes is not None and scores is not None and arrs[0].shape != arrs[1].shape:
            raise ServingError.invalid_argument(
                f"Tensors class and score should match in shape: {list(arrs[0].shape)} vs "
                f"{list(arrs[1].shape)}")
        c = arrs[0] if classes is not None else None
        s = arrs[-1].astype(np.float32) if scores is not None else None
        k = arrs[0].shape[1]
        results = []
        for i in range(n):
            row = []
            for j in range(k):
                lab = c[i, j] if c is not None else b""
                lab = lab.decode("utf-8", "replace") if isinstance(lab, bytes) else str(lab)
                row.append((lab, s[i, j] if s is not None else np.float32(0)))
            results.append(row)
        return results

    def regress(self, name, version=None, label=None, signature_name="", serialized=None,
                rest=False):
        """Regress serialized Examples: ``(float32 array (n,), version, signature key)``."""
        out, v, key = self._examples_call(name, version, label, signature_name, serialized,
                                          REGRESS, rest)
        return self._regressions(out, len(serialized)), v, key

    @staticmethod
    def _regressions(out, n):
        """The float32 (n,) values of a regress signature's outputs."""
        if "outputs" not in out:
            raise ServingError.invalid_argument(
                "No regression outputs found in the signature (expected an output named "
                "'outputs')")
        y = out["outputs"]
        if not (y.shape == (n,) or y.shape == (n, 1)):
            raise ServingError.invalid_argument(
                f"Expected output Tensor shape to be either [{n}] or [{n}, 1] but got "
                f"{list(y.shape)}")
        return y.reshape(n).astype(np.float32)

    def multi_inference(self, tasks, serialized):
        """Run several classify/regress signatures of one model on the same Examples
        (TF Serving's MultiInference, multi_inference.cc).

        Args:
            tasks: list of ``(name, version, label, signature_name, method_name)``; the
                servable is the first task's.
            serialized: (n,) object array of serialized tf.Examples.

        Returns:
            ``(version, [(signature key, method_name, results)])`` in task order: results
            as :meth:`classify` or :meth:`regress` give them.
        """
        name, version, label = tasks[0][:3] if tasks else ("", None, None)
        with self.acquire(name, version, label) as servable:
            checked, input_name = [], None
            for task_name, _, _, signature_name, method in tasks:
                if not task_name:
                    raise ServingError.invalid_argument(
                        "Found ModelSpec with an empty model name.")
                if task_name != name:
                    raise ServingError.invalid_argument(
                        "All ModelSpecs in a MultiInferenceRequest must access the same "
                        "model name.")
                key = signature_name or DEFAULT_SIGNATURE
                if any(k == key for k, _, _ in checked):
                    raise ServingError.invalid_argument(
                        f"Duplicate evaluation of signature: {key}")
                if method not in (CLASSIFY, REGRESS):
                    if key not in servable.signatures:
                        raise ServingError.invalid_argument(
                            f"Requested signature not found in model graph: {key}")
                    raise ServingError(UNIMPLEMENTED,
                                       f"Unsupported signature method_name: {method}")
                key, sig = self._examples_signature(
                    servable, key, method, "Requested signature not found in model graph: ")
                if input_name is not None and sig.inputs["inputs"].name != input_name:
                    raise ServingError.invalid_argument(
                        "Input tensor must be the same for all Signatures.")
                input_name = sig.inputs["inputs"].name
                checked.append((key, sig, method))
            results = []
            for key, sig, method in checked:
                out = self._call(servable, key, sig, {"inputs": serialized})
                res = (self._classifications(out, len(serialized)) if method == CLASSIFY
                       else self._regressions(out, len(serialized)))
                results.append((key, method, res))
            return servable.version, results

    def metadata(self, name, version=None, label=None):
        """``(version, {signature key: signature})`` of an AVAILABLE servable."""
        with self.acquire(name, version, label) as servable:
            return servable.version, dict(servable.signatures)

    def status(self, name, version=None, label=None):
        """``[(version, state name, error code, error message)]``, highest version first.

        Raises:
            ServingError: NOT_FOUND for an unknown model or version.
        """
        self._check_model(name)
        if label is not None:
            version = self.manager.resolve_version(name, label=label)
        states = self.manager.version_states(name)
        if version is not None:
            states = [s for s in states if s[0] == version]
            if not states:
                raise ServingError.not_found(
                    f"Could not find version {version} of model {name}")
        elif not states:
            raise ServingError.not_found(f"Could not find any versions of model {name}")
        return [(v, STATE_NAMES[st], err.code if err else 0, err.message if err else "")
                for v, st, err in states]
