"""``RunConfig``: where and how often an Estimator checkpoints, logs and summarises.

Follows tensorflow_estimator/python/estimator/run_config.py: the defaults, the
``save_checkpoints_*`` rules, ``_validate_properties``, ``replace`` and the ``TF_CONFIG``
environment variable (``cluster`` / ``task``) for the distributed properties.
"""
import copy
import json
import os

__all__ = ["RunConfig", "TaskType", "ClusterSpec"]

_USE_DEFAULT = object()  # TF's sentinel: "not given" differs from an explicit value

# TF's _SAVE_CKPT_ERR (with eagerflow's older wording kept after it)
_SAVE_CKPT_ERR = ("`save_checkpoints_steps` and `save_checkpoints_secs` cannot be both set. "
                  "(Can not provide both save_checkpoints_steps and save_checkpoints_secs.)")

# TF's _DEFAULT_REPLACEABLE_LIST, plus eagerflow's own capture_step
_DEFAULT_REPLACEABLE_LIST = [
    "model_dir", "tf_random_seed", "save_summary_steps", "save_checkpoints_steps",
    "save_checkpoints_secs", "session_config", "keep_checkpoint_max",
    "keep_checkpoint_every_n_hours", "log_step_count_steps", "train_distribute", "device_fn",
    "protocol", "eval_distribute", "experimental_distribute",
    "experimental_max_worker_delay_secs", "session_creation_timeout_secs",
    "checkpoint_save_graph_def", "capture_step",
]


class TaskType:
    MASTER = "master"
    PS = "ps"
    WORKER = "worker"
    CHIEF = "chief"
    EVALUATOR = "evaluator"


class ClusterSpec:
    """The part of ``tf.train.ClusterSpec`` RunConfig needs: job name -> task addresses."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        spec = {}
        for job, tasks in dict(cluster or {}).items():
            if isinstance(tasks, dict):
                spec[job] = {int(i): a for i, a in tasks.items()}
            else:
                spec[job] = dict(enumerate(tasks))
        self._spec = spec

    def __bool__(self):
        return bool(self._spec)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._spec == other._spec

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return f"ClusterSpec({self.as_dict()})"

    @property
    def jobs(self):
        return list(self._spec)

    def num_tasks(self, job_name):
        return len(self._spec[job_name])

    def job_tasks(self, job_name):
        tasks = self._spec[job_name]
        if not tasks:
            return []
        out = [None] * (max(tasks) + 1)
        for i, addr in tasks.items():
            out[i] = addr
        return out

    def as_dict(self):
        out = {}
        for job, tasks in self._spec.items():
            if tasks and sorted(tasks) == list(range(len(tasks))):
                out[job] = [tasks[i] for i in range(len(tasks))]
            else:
                out[job] = dict(tasks)
        return out


def _validate_properties(cfg):
    """TF's ``_validate_properties`` (same conditions and messages)."""
    def check(name, cond, message):
        value = getattr(cfg, name)
        if value is not None and not cond(value):
            raise ValueError(message)

    check("model_dir", lambda d: d, "model_dir should be non-empty")
    check("save_summary_steps", lambda s: s >= 0, "save_summary_steps should be >= 0")
    check("save_checkpoints_steps", lambda s: s >= 0, "save_checkpoints_steps should be >= 0")
    check("save_checkpoints_secs", lambda s: s >= 0, "save_checkpoints_secs should be >= 0")
    check("keep_checkpoint_max", lambda k: k >= 0, "keep_checkpoint_max should be >= 0")
    check("keep_checkpoint_every_n_hours", lambda h: h > 0,
          "keep_checkpoint_every_n_hours should be > 0")
    check("log_step_count_steps", lambda n: n > 0, "log_step_count_steps should be > 0")
    check("tf_random_seed", lambda s: isinstance(s, int) or _is_np_int(s),
          "tf_random_seed must be integer.")
    check("experimental_max_worker_delay_secs", lambda d: isinstance(d, int),
          "experimental_max_worker_delay_secs must be an integer if set.")
    check("session_creation_timeout_secs", lambda t: t > 0,
          "session_creation_timeout_secs should be > 0")
    check("device_fn", callable, 'device_fn must be callable with exactly one argument "op".')
    check("protocol", lambda p: p in (None, "grpc", "grpc+verbs"),
          "protocol should be grpc or grpc+verbs")
    if not isinstance(cfg.capture_step, bool):
        raise TypeError(f"RunConfig: capture_step must be a bool, got {cfg.capture_step!r}")


def _is_np_int(v):
    import numpy as np
    return isinstance(v, np.integer)


def _get_model_dir(tf_config, model_dir):
    """TF's ``_get_model_dir``: ``TF_CONFIG['model_dir']`` fills in (and must agree)."""
    if model_dir == "":
        raise ValueError("model_dir should be non-empty.")
    in_config = tf_config.get("model_dir")
    if in_config == "":
        raise ValueError("model_dir in TF_CONFIG should be non-empty.")
    if in_config and model_dir and in_config != model_dir:
        raise ValueError(
            "`model_dir` provided in RunConfig construct, if set, must have the same value "
            f"as the model_dir in TF_CONFIG. model_dir: {model_dir}\n"
            f'TF_CONFIG["model_dir"]: {in_config}.\n')
    return model_dir or in_config


def _read_only(name, doc=None):
    """TF's ``RunConfig`` property ``name``: reads ``_<name>``, has no setter."""
    attr = "_" + name
    return property(lambda self: getattr(self, attr), doc=doc or f"The {name} setting.")


class RunConfig:
    """Run settings (``tf.estimator.RunConfig``) with TF's defaults.

    ``save_checkpoints_secs`` defaults to 600 only when neither it nor
    ``save_checkpoints_steps`` is given; giving one leaves the other None, and giving both
    (not None) is an error. As in TF the settings are read-only properties: assigning one
    raises AttributeError; :meth:`replace` returns a changed, validated copy.

    Example:
        >>> RunConfig(save_checkpoints_steps=100).save_checkpoints_secs is None
        True
    """

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=_USE_DEFAULT, save_checkpoints_secs=_USE_DEFAULT,
                 session_config=None, keep_checkpoint_max=5,
                 keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None, experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True,
                 capture_step=False):
        # TF's RunConfig.__init__: 600 s only when neither is given; the one not given is
        # None; both given (not None) -> ValueError
        if save_checkpoints_steps is _USE_DEFAULT and save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_steps, save_checkpoints_secs = None, 600
        elif save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_secs = None
        elif save_checkpoints_steps is _USE_DEFAULT:
            save_checkpoints_steps = None
        elif save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError(_SAVE_CKPT_ERR)
        tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        if hasattr(model_dir, "__fspath__"):
            model_dir = os.fspath(model_dir)
        self._model_dir = _get_model_dir(tf_config, model_dir)
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = save_checkpoints_steps
        self._save_checkpoints_secs = save_checkpoints_secs
        self._session_config = session_config
        self._keep_checkpoint_max = keep_checkpoint_max
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = log_step_count_steps
        self._train_distribute = train_distribute
        self._eval_distribute = eval_distribute
        self._device_fn = device_fn
        self._protocol = protocol
        self._experimental_distribute = experimental_distribute
        self._experimental_max_worker_delay_secs = experimental_max_worker_delay_secs
        self._session_creation_timeout_secs = session_creation_timeout_secs
        self._checkpoint_save_graph_def = checkpoint_save_graph_def
        # eagerflow's own: the training step replays as a CUDA graph on the GPU (ef.function)
        self._capture_step = capture_step
        _validate_properties(self)
        self._tf_config = tf_config
        self._place_in_job()

    def _place_in_job(self):
        """Chief, task and worker count: from ``train_distribute`` (duck-typed: an
        ``ef.distribute`` strategy, which lives above the estimator), else from the
        ``TF_CONFIG`` environment variable as TF reads it, else one local process."""
        strategy = self.train_distribute
        if strategy is not None:
            self._cluster_spec = ClusterSpec({})
            self._task_type = TaskType.WORKER
            self._is_chief = bool(strategy.is_chief)
            self._task_id = int(strategy.worker_index)
            self._num_worker_replicas = int(strategy.num_workers)
            self._num_ps_replicas = 0
            self._global_id_in_cluster = self.task_id
            self._master = self._evaluation_master = ""
            self._service = None
            return
        self._init_from_tf_config(self._tf_config)

    def _init_from_tf_config(self, tf_config):
        """TF's ``_init_distributed_setting_from_environment_var`` (chief clusters; the
        legacy ``master`` job included)."""
        service = tf_config.get("service")
        if service is not None and not isinstance(service, dict):
            raise TypeError(f'If "service" is set in TF_CONFIG, it must be a dict. Given '
                            f"{type(service)}")
        self._service = service
        self._cluster_spec = ClusterSpec(tf_config.get("cluster", {}))
        task_env = tf_config.get("task", {})
        if not self.cluster_spec:  # local mode
            self._task_type = task_env.get("type", TaskType.WORKER)
            self._task_id = int(task_env.get("index", 0))
            self._global_id_in_cluster = 0
            if self.task_type != TaskType.WORKER:
                raise ValueError('If "cluster" is not set in TF_CONFIG, task type must be '
                                 "WORKER.")
            if self.task_id != 0:
                raise ValueError('If "cluster" is not set in TF_CONFIG, task index must be 0.')
            self._master = tf_config.get("session_master", "")
            self._evaluation_master = tf_config.get("eval_session_master", "")
            self._is_chief = True
            self._num_ps_replicas = 0
            self._num_worker_replicas = 1
            return
        cluster = self.cluster_spec
        chief = TaskType.MASTER if TaskType.MASTER in cluster.jobs else TaskType.CHIEF
        if chief == TaskType.MASTER and TaskType.CHIEF in cluster.jobs:
            raise ValueError("If `master` node exists in `cluster`, job `chief` is not "
                             "supported.")
        self._task_type, self._task_id = _validate_task(cluster, task_env, chief)
        if chief == TaskType.MASTER and self._task_type == TaskType.EVALUATOR:
            raise ValueError("If `master` node exists in `cluster`, task_type `evaluator` "
                             "is not supported.")
        self._evaluation_master = (tf_config.get("eval_session_master", "")
                                   if self._task_type == TaskType.EVALUATOR else "")
        if self._task_type == TaskType.EVALUATOR:  # not part of the training cluster
            self._cluster_spec = ClusterSpec({})
            self._master = ""
            self._num_ps_replicas = 0
            self._num_worker_replicas = 0
            self._global_id_in_cluster = None
        else:
            self._master = _session_master(cluster, self._task_type, self._task_id, tf_config)
            self._num_ps_replicas = len(cluster.as_dict().get(TaskType.PS, []))
            self._num_worker_replicas = (len(cluster.as_dict().get(TaskType.WORKER, [])) +
                                         len(cluster.as_dict().get(chief, [])))
            self._global_id_in_cluster = _global_id(cluster, self._task_type, self._task_id,
                                                    chief)
        self._is_chief = self._task_type == chief

    def replace(self, **kwargs):
        """A copy with some settings changed (TF's ``RunConfig.replace``): only the
        replaceable settings; setting one of ``save_checkpoints_steps`` /
        ``save_checkpoints_secs`` (not None) clears the other, setting both is an error."""
        new = copy.copy(self)  # TF deep-copies; a strategy (train_distribute) is shared here
        for key, value in kwargs.items():
            if key not in _DEFAULT_REPLACEABLE_LIST:
                raise ValueError(f"Replacing {key} is not supported. Allowed properties are "
                                 f"{_DEFAULT_REPLACEABLE_LIST}.")
            setattr(new, "_" + key, value)  # TF's _replace: property "foo" holds "_foo"
        # TF's _validate_save_ckpt_with_replaced_keys
        steps, secs = new.save_checkpoints_steps, new.save_checkpoints_secs
        if "save_checkpoints_steps" in kwargs and "save_checkpoints_secs" in kwargs:
            if steps is not None and secs is not None:
                raise ValueError(_SAVE_CKPT_ERR)
        elif "save_checkpoints_steps" in kwargs and steps is not None:
            new._save_checkpoints_secs = None
        elif "save_checkpoints_secs" in kwargs and secs is not None:
            new._save_checkpoints_steps = None
        _validate_properties(new)
        if "train_distribute" in kwargs:
            new._place_in_job()
        return new

    # TF's properties: read-only (assigning one raises AttributeError); change a setting
    # with replace(), which validates it
    model_dir = _read_only("model_dir")
    tf_random_seed = _read_only("tf_random_seed")
    save_summary_steps = _read_only("save_summary_steps")
    save_checkpoints_steps = _read_only("save_checkpoints_steps")
    save_checkpoints_secs = _read_only("save_checkpoints_secs")
    session_config = _read_only("session_config")
    keep_checkpoint_max = _read_only("keep_checkpoint_max")
    keep_checkpoint_every_n_hours = _read_only("keep_checkpoint_every_n_hours")
    log_step_count_steps = _read_only("log_step_count_steps")
    train_distribute = _read_only("train_distribute", "Optional strategy for training.")
    eval_distribute = _read_only("eval_distribute", "Optional strategy for evaluation.")
    device_fn = _read_only("device_fn")
    protocol = _read_only("protocol", "The optional protocol value.")
    experimental_distribute = _read_only("experimental_distribute")
    experimental_max_worker_delay_secs = _read_only("experimental_max_worker_delay_secs")
    session_creation_timeout_secs = _read_only("session_creation_timeout_secs")
    checkpoint_save_graph_def = _read_only("checkpoint_save_graph_def")
    capture_step = _read_only("capture_step", "eagerflow's: the training step replays as "
                                              "a CUDA graph on the GPU.")
    cluster_spec = _read_only("cluster_spec")
    task_type = _read_only("task_type")
    task_id = _read_only("task_id")
    is_chief = _read_only("is_chief")
    master = _read_only("master")
    evaluation_master = _read_only("evaluation_master")
    num_ps_replicas = _read_only("num_ps_replicas")
    num_worker_replicas = _read_only("num_worker_replicas")
    global_id_in_cluster = _read_only("global_id_in_cluster",
                                      "The global id in the training cluster (chief 0).")
    service = _read_only("service", "The platform defined (in TF_CONFIG) service dict.")

    def __repr__(self):
        return (f"RunConfig(model_dir={self.model_dir!r}, tf_random_seed={self.tf_random_seed}, "
                f"save_checkpoints_steps={self.save_checkpoints_steps}, "
                f"save_checkpoints_secs={self.save_checkpoints_secs}, "
                f"keep_checkpoint_max={self.keep_checkpoint_max}, "
                f"log_step_count_steps={self.log_step_count_steps})")


def _validate_task(cluster, task_env, chief):
    """TF's ``_validate_task_type_and_task_id``."""
    if chief not in cluster.jobs:
        raise ValueError(f'If "cluster" is set in TF_CONFIG, it must have one "{chief}" node.')
    if len(cluster.job_tasks(chief)) > 1:
        raise ValueError(f'The "cluster" in TF_CONFIG must have only one "{chief}" node.')
    task_type = task_env.get("type")
    task_id = task_env.get("index")
    if not task_type:
        raise ValueError('If "cluster" is set in TF_CONFIG, task type must be set.')
    if task_id is None:
        raise ValueError('If "cluster" is set in TF_CONFIG, task index must be set.')
    task_id = int(task_id)
    if task_id < 0:
        raise ValueError("Task index must be non-negative number.")
    if task_type == TaskType.EVALUATOR:
        return task_type, task_id
    if task_type not in cluster.jobs:
        raise ValueError(f"{task_type} is not a valid task_type in the cluster_spec:\n"
                         f"{cluster}\n\nNote that these values may be coming from the "
                         "TF_CONFIG environment variable.")
    if not 0 <= task_id < len(cluster.job_tasks(task_type)):
        raise ValueError(f"{task_id} is not a valid task_id for task_type {task_type} in the "
                         f"cluster_spec:\n{cluster}\n\nNote that these values may be coming "
                         "from the TF_CONFIG environment variable.")
    return task_type, task_id


def _session_master(cluster, task_type, task_id, tf_config):
    """TF's ``_get_session_master``."""
    if "session_master" in tf_config:
        return tf_config["session_master"]
    jobs = cluster.jobs
    if len(jobs) == 1 and len(cluster.job_tasks(jobs[0])) == 1:
        return ""
    return "grpc://" + cluster.job_tasks(task_type)[task_id]


def _global_id(cluster, task_type, task_id, chief):
    """TF's ``_get_global_id_in_cluster``: chief 0, other jobs sorted by name, ps last."""
    order = [chief] + [t for t in sorted(cluster.jobs) if t not in (chief, TaskType.PS)]
    if TaskType.PS in cluster.jobs:
        order.append(TaskType.PS)
    next_id = 0
    for t in order:
        if t == task_type:
            return next_id + task_id
        next_id += len(cluster.job_tasks(t))
    raise RuntimeError(f"Internal Error: `task_type` ({task_type}) is not in cluster_spec "
                       f"({cluster}).")
