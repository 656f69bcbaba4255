"""``tf.data.Options``: per-pipeline settings that flow through transformations.

A dataset's options are those of its inputs, merged in input order, then (for
``with_options``) the options given. Merging follows TF's ``merge_options``: a value left
at its default never overrides, and when two objects set an option differently the later
one wins (with a logged warning). ``Dataset.options()`` returns an immutable copy.

eagerflow records every option; the ones with an effect here are none yet (``deterministic``
is kept for TF code that reads it back; an explicit ``deterministic=`` argument of
``map``/``interleave`` still decides their order).

Example:
    >>> from eagerflow.data import Dataset
    >>> options = Options()
    >>> options.deterministic = False
    >>> options.threading.private_threadpool_size = 4
    >>> ds = Dataset.range(42).with_options(options).map(lambda x: x + 1).batch(2)
    >>> ds.options().deterministic, ds.options().threading.private_threadpool_size
    (False, 4)
"""
import enum
import logging

from .transforms import _SameCount, _Unary, _UpIter

__all__ = ["Options", "ThreadingOptions", "OptimizationOptions", "DistributeOptions",
           "AutotuneOptions", "AutoShardPolicy", "ExternalStatePolicy", "merge_options",
           "OptionsDataset"]

log = logging.getLogger("eagerflow")


class AutoShardPolicy(enum.IntEnum):
    """How a distribution strategy shards the input (TF's values)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class ExternalStatePolicy(enum.Enum):
    """How to treat external state when a pipeline is serialized (TF's values)."""

    WARN = 0
    IGNORE = 1
    FAIL = 2


def _option(name, ty, doc, default_factory=lambda: None):
    """A type-checked property stored in ``self._options`` (TF's ``create_option``)."""

    def get(self):
        if name not in self._options:
            self._options[name] = default_factory()
        return self._options[name]

    def set(self, value):
        if not isinstance(value, ty):
            raise TypeError(f'Property "{name}" must be of type {ty}, got: {value!r} '
                            f"(type: {type(value)})")
        self._options[name] = value

    return property(get, set, None, doc)


class OptionsBase:
    """A set of options: unknown names are refused, values are type-checked, and
    options returned by ``Dataset.options()`` are read-only."""

    def __init__(self):
        object.__setattr__(self, "_options", {})
        object.__setattr__(self, "_mutable", True)

    def __eq__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n)
                   for n in set(self._options) | set(other._options))

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __setattr__(self, name, value):
        if not self._mutable:
            raise ValueError("Mutating `tf.data.Options()` returned by "
                             "`tf.data.Dataset.options()` has no effect. Use "
                             "`tf.data.Dataset.with_options(options)` to set or update "
                             "dataset options.")
        if not hasattr(self, name):
            raise AttributeError(f"Cannot set the property {name} on "
                                 f"{type(self).__name__}.")
        object.__setattr__(self, name, value)

    def _set_mutable(self, mutable):
        object.__setattr__(self, "_mutable", mutable)
        for name, attr in vars(type(self)).items():  # nested namespaces too, as TF does
            if isinstance(attr, property):
                value = getattr(self, name)
                if isinstance(value, OptionsBase):
                    value._set_mutable(mutable)

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in sorted(self._options.items())
                         if v is not None)
        return f"{type(self).__name__}({body})"


class ThreadingOptions(OptionsBase):
    """``options.threading``: ``private_threadpool_size`` and
    ``max_intra_op_parallelism`` (recorded; eagerflow sizes its own thread pools)."""

    max_intra_op_parallelism = _option(
        "max_intra_op_parallelism", int,
        "If set, it overrides the maximum degree of intra-op parallelism.")
    private_threadpool_size = _option(
        "private_threadpool_size", int,
        "If set, the dataset will use a private threadpool of the given size (0: the "
        "number of CPU cores).")


class OptimizationOptions(OptionsBase):
    """``options.experimental_optimization``: TF's graph-rewrite switches. Accepted and
    recorded; eagerflow runs pipelines as written."""

    apply_default_optimizations = _option(
        "apply_default_optimizations", bool, "Whether to apply default graph optimizations.")
    filter_fusion = _option("filter_fusion", bool, "Whether to fuse filters.")
    map_and_batch_fusion = _option("map_and_batch_fusion", bool,
                                   "Whether to fuse map and batch.")
    map_and_filter_fusion = _option("map_and_filter_fusion", bool,
                                    "Whether to fuse map and filter.")
    map_fusion = _option("map_fusion", bool, "Whether to fuse maps.")
    map_parallelization = _option("map_parallelization", bool,
                                  "Whether to parallelize stateless maps.")
    noop_elimination = _option("noop_elimination", bool,
                               "Whether to eliminate no-op transformations.")
    parallel_batch = _option("parallel_batch", bool,
                             "Whether to parallelize copying of batch elements.")
    shuffle_and_repeat_fusion = _option("shuffle_and_repeat_fusion", bool,
                                        "Whether to fuse shuffle and repeat.")


class DistributeOptions(OptionsBase):
    """``options.experimental_distribute``: ``auto_shard_policy`` (default
    ``AutoShardPolicy.AUTO``) and ``num_devices``."""

    auto_shard_policy = _option(
        "auto_shard_policy", AutoShardPolicy, "The type of sharding to use.",
        default_factory=lambda: AutoShardPolicy.AUTO)
    num_devices = _option("num_devices", int,
                          "The number of devices attached to this input pipeline.")


class AutotuneOptions(OptionsBase):
    """``options.autotune``: ``enabled``, ``cpu_budget``, ``ram_budget`` (recorded)."""

    enabled = _option("enabled", bool, "Whether to tune performance knobs automatically.")
    cpu_budget = _option("cpu_budget", int, "The CPU budget for autotuning.")
    ram_budget = _option("ram_budget", int, "The RAM budget for autotuning, in bytes.")


class Options(OptionsBase):
    """``tf.data.Options``: set attributes, then ``ds.with_options(options)``.

    ``experimental_deterministic`` and ``experimental_threading`` are TF's deprecated
    aliases of ``deterministic`` and ``threading``.

    Example:
        >>> o = Options()
        >>> o.experimental_deterministic = False
        >>> o.deterministic
        False
        >>> o.experimental_distribute.auto_shard_policy = AutoShardPolicy.DATA
        >>> o.deterministic = 0
        Traceback (most recent call last):
        ...
        TypeError: Property "deterministic" must be of type <class 'bool'>, got: 0 (type: <class 'int'>)
    """

    autotune = _option("autotune", AutotuneOptions, "The autotuning options.",
                       default_factory=AutotuneOptions)
    deterministic = _option(
        "deterministic", bool,
        "Whether the outputs need to be produced in deterministic order. If None, "
        "defaults to True.")
    experimental_distribute = _option("experimental_distribute", DistributeOptions,
                                      "The distribution strategy options.",
                                      default_factory=DistributeOptions)
    experimental_external_state_policy = _option(
        "experimental_external_state_policy", ExternalStatePolicy,
        "How to handle external state when serializing a dataset.")
    experimental_optimization = _option("experimental_optimization", OptimizationOptions,
                                        "The optimization options.",
                                        default_factory=OptimizationOptions)
    experimental_slack = _option("experimental_slack", bool,
                                 "Whether to introduce slack in the last prefetch.")
    threading = _option("threading", ThreadingOptions, "The threading options.",
                        default_factory=ThreadingOptions)

    _ALIASES = {"experimental_deterministic": "deterministic",
                "experimental_threading": "threading"}

    def __getattribute__(self, name):
        alias = Options._ALIASES.get(name)
        if alias is not None:
            return getattr(self, alias)
        return super().__getattribute__(name)

    def __setattr__(self, name, value):
        super().__setattr__(Options._ALIASES.get(name, name), value)

    def merge(self, options):
        """A new Options: ``self`` updated with the values ``options`` sets (its value
        wins where both set an option differently)."""
        return merge_options(self, options)


def merge_options(*options_list):
    """Merges options objects of one type into a new one; later values win (TF's
    ``options_lib.merge_options``)."""
    if not options_list:
        raise ValueError("At least one options should be provided")
    result_type = type(options_list[0])
    for options in options_list:
        if not isinstance(options, result_type):
            raise TypeError(f"Could not merge incompatible options of type "
                            f"{type(options)} and {result_type}.")
    if not isinstance(options_list[0], OptionsBase):
        raise TypeError(f"All options to be merged should inherit from `OptionsBase` but "
                        f"found option of type {type(options_list[0])} which does not.")
    default = result_type()
    result = result_type()
    for options in options_list:
        for name in list(options._options):
            this, that = getattr(result, name), getattr(options, name)
            if that == getattr(default, name):
                continue
            if this == getattr(default, name):
                setattr(result, name, _copy(that))
            elif isinstance(this, OptionsBase):
                setattr(result, name, merge_options(this, that))
            elif this != that:
                log.warning("Changing the value of option %s from %r to %r.", name, this, that)
                setattr(result, name, that)
    return result


def _copy(value):
    return merge_options(value) if isinstance(value, OptionsBase) else value


class OptionsDataset(_SameCount, _Unary):
    """``with_options``: the input's elements, with ``options`` merged into the input's."""

    def __init__(self, input_dataset, options):
        super().__init__(input_dataset)
        if not isinstance(options, Options):
            raise TypeError(f"with_options: options must be a tf.data.Options, got "
                            f"{type(options).__name__}")
        self._options = merge_options(options)  # a private copy: later edits don't leak

    def _infer_spec(self):
        return self._input.element_spec

    def _merged_options(self):
        return merge_options(super()._merged_options(), self._options)

    def _make(self, peek=False):
        return _PassIter(self._input._make(peek))


class _PassIter(_UpIter):
    def __next__(self):
        return next(self.up)

