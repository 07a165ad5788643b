"""Writes about needs, one module per stage: ``intake`` (a need comes in), ``handling`` (the
grid or community accepts, categorises, changes the urgency, whistles 吹哨, resolves,
transfers, merges), ``dispatch`` (departments check in 报到, resolve and return; the community
decides on returns) and ``followup`` (rating 回访, reopening, closing, escalation), over ``common``
(limits, the row lock, the timeline step, the notification).

Every transition is one service: keyword-only, in one transaction, the need row locked with
``SELECT … FOR UPDATE`` so that two staff acting at once cannot both win (the loser gets
``Conflict``, a 409), its source states checked against ``needs.workflow`` (the one table of
transitions), the actor's capability checked at the need's place, one step written on the
need's timeline (``core.timeline.record_event``; the rates are rolled up in the same
transaction), and notifications put in the outbox inside the transaction, so nothing is sent
for a write that rolled back.
"""

from __future__ import annotations

from linli.needs.services.common import (
    DEFAULT_CHECKIN,
    DEFAULT_RESOLUTION,
    DEFAULT_RESPONSE,
    EMERGENCY_RESOLUTION_HOURS,
    EMERGENCY_RESPONSE_HOURS,
    ESCALATION_LIMIT,
    UNRATED_CLOSE_DAYS,
    category_for,
    lock_need,
    notify_need,
    record_need_event,
)
from linli.needs.services.dispatch import (
    dispatch_checkin,
    dispatch_resolve,
    dispatch_return,
    dispatch_return_decide,
    require_liaison,
)
from linli.needs.services.followup import (
    need_escalate,
    need_rate,
    needs_close_unrated,
)
from linli.needs.services.handling import (
    department_in_reach,
    need_accept,
    need_categorise,
    need_merge,
    need_resolve,
    need_set_urgency,
    need_transfer,
    need_whistle,
)
from linli.needs.services.intake import (
    MAX_TEXT,
    Reporter,
    intake_check,
    need_create,
    register_channel,
)

__all__ = [
    "DEFAULT_CHECKIN",
    "DEFAULT_RESOLUTION",
    "DEFAULT_RESPONSE",
    "EMERGENCY_RESOLUTION_HOURS",
    "EMERGENCY_RESPONSE_HOURS",
    "ESCALATION_LIMIT",
    "MAX_TEXT",
    "UNRATED_CLOSE_DAYS",
    "Reporter",
    "category_for",
    "department_in_reach",
    "dispatch_checkin",
    "dispatch_resolve",
    "dispatch_return",
    "dispatch_return_decide",
    "intake_check",
    "lock_need",
    "need_accept",
    "need_categorise",
    "need_create",
    "need_escalate",
    "need_merge",
    "need_rate",
    "need_resolve",
    "need_set_urgency",
    "need_transfer",
    "need_whistle",
    "needs_close_unrated",
    "notify_need",
    "record_need_event",
    "register_channel",
    "require_liaison",
]
