"""Model server configuration: ``ModelServerConfig`` text files and single-model flags.

The text file is TF Serving's (``--model_config_file``), parsed with protobuf
``text_format`` into the generated ``tensorflow.serving.ModelServerConfig`` and turned into
plain :class:`ModelConfig` objects the rest of the server uses.

Example:
    >>> cfg = parse_model_server_config('''model_config_list { config {
    ...   name: "m" base_path: "/models/m" model_platform: "tensorflow"
    ...   model_version_policy { specific { versions: 1 versions: 2 } } } }''')
    >>> cfg[0].policy, cfg[0].versions
    ('specific', (1, 2))
"""
import dataclasses
import re

from .errors import ServingError

__all__ = ["ModelConfig", "BatchingConfig", "parse_model_server_config",
           "read_model_server_config", "parse_batching_parameters", "validate_model_name",
           "parse_monitoring_config"]

# Model names become path components and metric labels: keep them to safe characters.
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def validate_model_name(name):
    """Raise ``ServingError`` (INVALID_ARGUMENT) unless ``name`` is a safe model name."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise ServingError.invalid_argument(f"Invalid model name: {name!r}")
    return name


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """One served model (``tensorflow.serving.ModelConfig``).

    Args:
        name: str, the model name clients use.
        base_path: str, the directory holding ``<version>/`` subdirectories.
        policy: ``"latest"``, ``"all"`` or ``"specific"``.
        num_versions: int, N of ``latest`` (0 means 1).
        versions: tuple of int, the versions of ``specific``.
        version_labels: dict label -> version.
        model_platform: str, kept for compatibility ("tensorflow").
    """

    name: str
    base_path: str
    policy: str = "latest"
    num_versions: int = 1
    versions: tuple = ()
    version_labels: dict = dataclasses.field(default_factory=dict)
    model_platform: str = "tensorflow"

    def __post_init__(self):
        validate_model_name(self.name)
        if self.policy not in ("latest", "all", "specific"):
            raise ValueError(f"policy must be 'latest', 'all' or 'specific', got {self.policy!r}")
        if not self.base_path:
            raise ValueError(f"model {self.name!r} needs a base_path")

    def __hash__(self):
        return hash((self.name, self.base_path, self.policy, self.num_versions, self.versions,
                     tuple(sorted(self.version_labels.items()))))


@dataclasses.dataclass(frozen=True)
class BatchingConfig:
    """TF Serving's ``BatchingParameters`` (defaults as ``--enable_batching`` uses them).

    Args:
        max_batch_size: int, most rows (dim-0 entries) merged into one call.
        batch_timeout_micros: int, how long a partly filled batch waits for more requests.
        num_batch_threads: int, batches executed at once.
        max_enqueued_batches: int, queued batches before requests get UNAVAILABLE.
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    num_batch_threads: int = 1
    max_enqueued_batches: int = 1000000


def _pb():
    from .protos import model_server_config_pb2
    return model_server_config_pb2


def configs_from_proto(msg):
    """A list of :class:`ModelConfig` from a ``ModelServerConfig`` message."""
    if msg.WhichOneof("config") == "custom_model_config":
        raise ValueError("custom_model_config is not supported; use model_config_list")
    out, seen = [], set()
    for c in msg.model_config_list.config:
        if c.name in seen:
            raise ValueError(f"duplicate model name {c.name!r} in the model config")
        seen.add(c.name)
        pol = c.model_version_policy
        which = pol.WhichOneof("policy_choice") or "latest"
        out.append(ModelConfig(
            name=c.name, base_path=c.base_path, policy=which,
            num_versions=max(1, pol.latest.num_versions) if which == "latest" else 1,
            versions=tuple(pol.specific.versions) if which == "specific" else (),
            version_labels=dict(c.version_labels), model_platform=c.model_platform or
            "tensorflow"))
    return out


def parse_model_server_config(text):
    """Parse a text-format ``ModelServerConfig`` into a list of :class:`ModelConfig`.

    Raises:
        ValueError: the text does not parse or names a model twice.
    """
    from google.protobuf import text_format
    msg = _pb().ModelServerConfig()
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as e:
        raise ValueError(f"invalid ModelServerConfig text: {e}") from None
    return configs_from_proto(msg)


def read_model_server_config(path):
    """:func:`parse_model_server_config` of the file at ``path``."""
    with open(path, encoding="utf-8") as f:
        return parse_model_server_config(f.read())


def parse_batching_parameters(text):
    """A :class:`BatchingConfig` from a text-format ``BatchingParameters`` message."""
    from google.protobuf import text_format
    msg = _pb().BatchingParameters()
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as e:
        raise ValueError(f"invalid BatchingParameters text: {e}") from None
    base = BatchingConfig()
    kw = {}
    for f in ("max_batch_size", "batch_timeout_micros", "num_batch_threads",
              "max_enqueued_batches"):
        if msg.HasField(f):
            kw[f] = int(getattr(msg, f).value)
            if kw[f] < 0 or (kw[f] == 0 and f != "batch_timeout_micros"):
                raise ValueError(f"batching parameter {f} must be positive, got {kw[f]}")
    return dataclasses.replace(base, **kw)


def parse_monitoring_config(text):
    """The Prometheus path of a text-format ``MonitoringConfig`` (None when disabled)."""
    from google.protobuf import text_format
    msg = _pb().MonitoringConfig()
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as e:
        raise ValueError(f"invalid MonitoringConfig text: {e}") from None
    pc = msg.prometheus_config
    if not pc.enable:
        return None
    path = pc.path or "/monitoring/prometheus/metrics"
    if not path.startswith("/"):
        raise ValueError(f"prometheus_config.path must start with '/', got {path!r}")
    return path
