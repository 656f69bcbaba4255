"""Session hooks for distributed training (Horovod's ``BroadcastGlobalVariablesHook``).

Example:
    >>> hook = BroadcastGlobalVariablesHook(root_rank=0)
    >>> hook.root_rank
    0
"""
from ..train.session_run_hook import SessionRunHook
from ..variables.store import get_default_store
from .gradients import broadcast_variables

__all__ = ["BroadcastGlobalVariablesHook"]


class BroadcastGlobalVariablesHook(SessionRunHook):
    """Broadcasts every variable of the default store from ``root_rank`` once the session
    is created, so all replicas start from the chief's (initial or restored) values."""

    def __init__(self, root_rank=0):
        self.root_rank = int(root_rank)

    def after_create_session(self, session, coord):
        broadcast_variables(get_default_store().variables(), root=self.root_rank)
