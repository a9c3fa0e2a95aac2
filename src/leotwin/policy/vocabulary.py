"""The words of the policy model, defined once: region statuses, user classes, built-in plans.

Statuses (ARCHITECTURE.md, FACTS.md §4): ``active`` (service on), ``not_licensed`` (no licence,
P1), ``inactive`` (switched off), ``blacklisted`` (cells or regions served to nobody, P2),
``waitlisted`` ("Sold Out": only registered or home-country terminals, P8), ``test`` (a test
programme's accounts only).  A status's integer code is its index in :data:`STATUSES` (the
engine's arrays and the ``status_at_end`` column use those codes and names).

User classes are the hidden ground-truth label of scenario terminals (who really uses them),
from which enforcement metrics count unauthorized use blocked and legitimate use blocked.
"""

from __future__ import annotations

from typing import Literal

STATUSES = ("active", "not_licensed", "inactive", "blacklisted", "waitlisted", "test")
Status = Literal["active", "not_licensed", "inactive", "blacklisted", "waitlisted", "test"]
#: status name → integer code
STATUS_CODE = {s: k for k, s in enumerate(STATUSES)}
ACTIVE = "active"

USER_CLASSES = ("authorized", "civilian", "unauthorized")
UserClass = Literal["authorized", "civilian", "unauthorized"]

#: the built-in plans (``schema.DEFAULT_PLANS`` gives their rules; FACTS.md §4 P5)
PLAN_NAMES = ("residential", "roam", "maritime", "aviation", "government")
#: the plan of a terminal that names none
DEFAULT_PLAN = "residential"

#: H3 resolution of service cells (FACTS.md §2: Starlink's cells are H3 res-5 hexagons)
CELL_RES = 5
