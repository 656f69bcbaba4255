"""``RunConfig``: where and how often an Estimator checkpoints, logs and summarises."""
__all__ = ["RunConfig"]


class RunConfig:
    """Run settings (``tf.estimator.RunConfig``) with TF's defaults.

    ``save_checkpoints_secs`` defaults to 600 only when neither it nor
    ``save_checkpoints_steps`` is given; giving both is an error.

    Example:
        >>> RunConfig(save_checkpoints_steps=100).save_checkpoints_secs is None
        True
    """

    _DEFAULT_SECS = 600

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=None, save_checkpoints_secs=_DEFAULT_SECS,
                 session_config=None, keep_checkpoint_max=5,
                 keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None, experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200, checkpoint_save_graph_def=True,
                 capture_step=False):
        secs_given = save_checkpoints_secs is not RunConfig._DEFAULT_SECS
        if save_checkpoints_steps is not None and secs_given and save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_steps and "
                             "save_checkpoints_secs.")
        if save_checkpoints_steps is not None and not secs_given:
            save_checkpoints_secs = None
        for name, val in (("save_checkpoints_steps", save_checkpoints_steps),
                          ("save_checkpoints_secs", save_checkpoints_secs),
                          ("log_step_count_steps", log_step_count_steps)):
            if val is not None and val <= 0:
                raise ValueError(f"RunConfig: {name} must be positive, got {val}")
        if keep_checkpoint_max is not None and keep_checkpoint_max < 0:
            raise ValueError(f"RunConfig: keep_checkpoint_max must be >= 0, got "
                             f"{keep_checkpoint_max}")
        self.model_dir = model_dir
        self.tf_random_seed = tf_random_seed
        self.save_summary_steps = save_summary_steps
        self.save_checkpoints_steps = save_checkpoints_steps
        self.save_checkpoints_secs = save_checkpoints_secs
        self.session_config = session_config
        self.keep_checkpoint_max = keep_checkpoint_max
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.log_step_count_steps = log_step_count_steps
        self.train_distribute = train_distribute
        self.eval_distribute = eval_distribute
        self.device_fn = device_fn
        self.protocol = protocol
        self.experimental_distribute = experimental_distribute
        self.session_creation_timeout_secs = session_creation_timeout_secs
        self.checkpoint_save_graph_def = checkpoint_save_graph_def
        if not isinstance(capture_step, bool):
            raise TypeError(f"RunConfig: capture_step must be a bool, got {capture_step!r}")
        # eagerflow's own: the training step replays as a CUDA graph on the GPU (ef.function)
        self.capture_step = capture_step
        self.task_type = "worker"
        self.num_ps_replicas = 0
        self.master = ""
        self.cluster_spec = None
        self._place_in_job()

    def _place_in_job(self):
        """Chief, task id and worker count: from ``train_distribute`` (duck-typed: an
        ``ef.distribute`` strategy, which lives above the estimator), else one process."""
        strategy = self.train_distribute
        self.is_chief = True if strategy is None else bool(strategy.is_chief)
        self.task_id = 0 if strategy is None else int(strategy.worker_index)
        self.num_worker_replicas = 1 if strategy is None else int(strategy.num_workers)

    def replace(self, **kwargs):
        """A copy with some settings changed (``RunConfig.replace``)."""
        import copy
        new = copy.copy(self)
        if "save_checkpoints_steps" in kwargs and kwargs["save_checkpoints_steps"] is not None \
                and "save_checkpoints_secs" not in kwargs:
            kwargs["save_checkpoints_secs"] = None
        for k, v in kwargs.items():
            if not hasattr(self, k):
                raise ValueError(f"RunConfig.replace: unknown setting {k!r}")
            setattr(new, k, v)
        new._place_in_job()
        if new.save_checkpoints_steps is not None and new.save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_steps and "
                             "save_checkpoints_secs.")
        return new

    def __repr__(self):
        return (f"RunConfig(model_dir={self.model_dir!r}, tf_random_seed={self.tf_random_seed}, "
                f"save_checkpoints_steps={self.save_checkpoints_steps}, "
                f"save_checkpoints_secs={self.save_checkpoints_secs}, "
                f"keep_checkpoint_max={self.keep_checkpoint_max}, "
                f"log_step_count_steps={self.log_step_count_steps})")
