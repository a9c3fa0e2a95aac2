"""Service policy: the append-only log, the state as of any time, decisions with reasons,
detection rules and enforcement metrics."""

from leotwin.policy.engine import PolicyEngine
from leotwin.policy.load import LoadedPolicy, load_policy
from leotwin.policy.reasons import Reason, reason_names
from leotwin.policy.run import enforcement, run_policy
from leotwin.policy.state import PolicyState, as_of

__all__ = ["LoadedPolicy", "PolicyEngine", "PolicyState", "Reason", "as_of", "enforcement",
           "load_policy", "reason_names", "run_policy"]
