"""What every stage of a need shares: its limits and due dates, the lock on its row, the step
on its timeline and the notification of it, and the checks of what staff type."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor
from linli.core.notify import notify
from linli.core.timeline import record_event
from linli.needs.catalogue import URGENCY_DEFAULTS
from linli.needs.models import (
    Category,
    Need,
    NeedEvent,
    Urgency,
)
from linli.people.models import Department
from linli.places.models import Place, PlaceKind, path_len
from linli.places.selectors import ancestor
from linli.workdays.models import LimitUnit
from linli.workdays.services import add_limit

#: Default limits for a need that has no category yet (an ordinary request, Beijing's rule).
DEFAULT_RESPONSE = (1, LimitUnit.WORKDAYS)
DEFAULT_CHECKIN = (1, LimitUnit.WORKDAYS)
DEFAULT_RESOLUTION = (7, LimitUnit.WORKDAYS)
#: The limits of a 特急 need whose category gives none (the default catalogue's): clock hours.
EMERGENCY_RESPONSE_HOURS = URGENCY_DEFAULTS[Urgency.EMERGENCY][0][0]
EMERGENCY_RESOLUTION_HOURS = URGENCY_DEFAULTS[Urgency.EMERGENCY][2][0]
#: The deadlines a need and its dispatches run against, in the order of the catalogue's limits.
LIMIT_KINDS = ("response", "checkin", "resolution")
#: After an escalation the next level gets this long to resolve.
ESCALATION_LIMIT = (3, LimitUnit.WORKDAYS)
#: A resolved need nobody rated within this many days is closed without a rating.
UNRATED_CLOSE_DAYS = 7

_DISTRICT_DEPTH = path_len(PlaceKind.DISTRICT)
_CITY_DEPTH = Place.steplen


# --- helpers ------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _city_of(place: Place) -> Place | None:
    return ancestor(place, PlaceKind.CITY)


def _city_and_district(place: Place) -> tuple[Place | None, Place | None]:
    """Both ancestors a need is filed under, in one query (intake is a hot path)."""
    paths = {place.path[:depth] for depth in (_CITY_DEPTH, _DISTRICT_DEPTH) if len(place.path) >= depth}
    found = {p.path: p for p in Place.objects.filter(path__in=paths)}
    return found.get(place.path[:_CITY_DEPTH]), found.get(place.path[:_DISTRICT_DEPTH])


def record_need_event(
    need: Need,
    kind: str,
    *,
    actor: Actor,
    at: dt.datetime,
    from_status: str = "",
    department: Department | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> NeedEvent:
    """The step on the need's timeline (``core.timeline.record_event``: the rates are rolled
    up by the timeline's hook in the same transaction), and the need's ``updated_at``."""
    event = record_event(
        need,
        kind,
        actor=actor,
        at=at,
        note=note,
        data=data,
        department=department,
        from_status=from_status,
        to_status=need.status,
        district_id=need.district_id,
    )
    Need.objects.filter(pk=need.pk).update(updated_at=at)
    need.updated_at = at
    assert isinstance(event, NeedEvent)
    return event


def notify_need(need: Need, kind: str, **extra: Any) -> None:
    """Put the step's notification in the outbox, inside the transaction (it goes out only if
    this commits); its recipients and message are in ``needs.notifications``."""
    notify(f"needs.{kind}", need=need.pk, **extra)


def lock_need(need: Need | int) -> Need:
    pk = need.pk if isinstance(need, Need) else need
    locked: Need | None = (
        Need.objects.select_for_update(of=("self",)).select_related("category", "place").filter(pk=pk).first()
    )
    if locked is None:
        raise ValidationError(_("诉求不存在"))
    return locked


def _limits(category: Category | None, urgency: str) -> dict[str, list[tuple[int, str]]]:
    """The limits of each deadline (response, check-in, resolution) of a need of ``category``
    and ``urgency``: the category's own, and for 紧急 and 特急 also those the catalogue gives
    for the urgency (the category's, else the default catalogue's). A deadline is the earliest
    of its limits (``_due``): an urgency shortens a deadline and never lengthens it."""
    own: list[tuple[int, str]]
    if category is None:
        own = [DEFAULT_RESPONSE, DEFAULT_CHECKIN, DEFAULT_RESOLUTION]
    else:
        own = [
            (category.response_limit, category.response_unit),
            (category.checkin_limit, category.checkin_unit),
            (category.resolution_limit, category.resolution_unit),
        ]
    urgent: list[tuple[int, str]] = []
    if urgency in URGENCY_DEFAULTS:
        given = (category.urgency_limits if category is not None else {}).get(urgency)
        urgent = [(int(a), str(u)) for a, u in given] if given else list(URGENCY_DEFAULTS[urgency])
    return {kind: [own[n], *urgent[n : n + 1]] for n, kind in enumerate(LIMIT_KINDS)}


def _due(start: dt.datetime, limits: list[tuple[int, str]], city: Place | None) -> dt.datetime:
    """The deadline ``limits`` after ``start``: the earliest of them, in working days or
    clock hours (``workdays.services.add_limit``)."""
    return min(add_limit(start, amount, unit, city=city) for amount, unit in limits)


def category_for(code: str, *, city: Place | None) -> Category:
    """The active category ``code`` of the city's catalogue (or the default catalogue)."""
    found = (
        Category.objects.filter(code=code, active=True)
        .filter(Q(city=city) | Q(city__isnull=True) if city else Q(city__isnull=True))
        .order_by("city_id")  # the city's own row before the default (NULLs sort last)
        .first()
    )
    if found is None:
        raise ValidationError({"category": [_("未知的诉求类别「%(code)s」") % {"code": code}]})
    return found


def _check_result(result: str) -> str:
    result = (result or "").strip()
    if not result:
        raise ValidationError({"result": [_("请填写办理结果")]})
    return result
