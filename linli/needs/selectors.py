"""Reads about needs, always through the actor's scope.

Staff see the needs of the places where they may view needs; department liaisons see the
needs whistled to their department inside the area of their grant; everyone sees the needs
they reported themselves. ``access_need`` returns 404 for anything else.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from linli.core.access import Actor, get_or_404, is_system, scope_for
from linli.core.text import normalize
from linli.needs.capabilities import NeedCap
from linli.needs.models import (
    ACTIVE_DISPATCH,
    OPEN_STATUSES,
    Category,
    Dispatch,
    EventKind,
    Need,
    NeedEvent,
    NeedReporter,
    Rating,
)
from linli.needs.rates import day_bounds
from linli.people.capabilities import PeopleCap
from linli.people.models import Department
from linli.places.models import Place, PlaceKind, ancestor_path, path_len

_COMMUNITY_DEPTH = path_len(PlaceKind.COMMUNITY)
_BUILDING_DEPTH = path_len(PlaceKind.BUILDING)


def may_submit_at(actor: Actor, place: Place) -> bool:
    """Residents and carers report needs anywhere in their community (the lamp outside, the
    drain of the next building), but at a household only their own; staff anywhere in their
    scope. ``actor=SYSTEM`` is the system."""
    if is_system(actor):
        return True
    scope = scope_for(actor)
    if scope.everything or scope.allows(NeedCap.HANDLE_NEEDS, place.path):
        return True
    if place.kind == PlaceKind.HOUSEHOLD and not scope.allows(PeopleCap.VIEW_PEOPLE, place.path):
        return False
    if scope.allows(NeedCap.SUBMIT_NEED, place.path):
        return True
    # a resident's reach to report extends to the whole of its community
    communities = {
        ancestor_path(p, PlaceKind.COMMUNITY) for p in scope.paths(NeedCap.SUBMIT_NEED) if len(p) >= _COMMUNITY_DEPTH
    }
    return ancestor_path(place.path, PlaceKind.COMMUNITY) in communities


def intake_place(actor: Actor, code: str | None) -> Place | None:
    """The place a need may be reported at, named by a code the client sent: ``None`` both
    when no place has the code and when the actor may not report there, so that an answer
    never confirms a place outside the actor's reach."""
    if not code:
        return None
    place: Place | None = Place.objects.filter(code=str(code)[:64]).first()
    if place is None or not may_submit_at(actor, place):
        return None
    return place


def shown_places(actor: Actor, needs: list[Need]) -> dict[int, Place]:
    """Where each need is shown to ``actor``: its own place for those who may see the people
    or the needs there, else its building (a department sees 5栋, not the reporter's flat, as
    Open311 does). One query at most."""
    scope = scope_for(actor)
    shown: dict[int, Place] = {}
    hidden: dict[int, str] = {}
    for need in needs:
        path = need.place_path
        if len(path) > _BUILDING_DEPTH and not (
            scope.allows(NeedCap.VIEW_NEEDS, path) or scope.allows(PeopleCap.VIEW_PEOPLE, path)
        ):
            hidden[need.pk] = path[:_BUILDING_DEPTH]
        else:
            shown[need.pk] = need.place
    if hidden:
        buildings = {p.path: p for p in Place.objects.filter(path__in=set(hidden.values()))}
        for pk, path in hidden.items():
            shown[pk] = buildings[path]
    return shown


def public_need_list(*, place: Place | None = None) -> QuerySet[Need]:
    """The needs anyone may read without an account (Open311 without a key): those of public
    categories only (no disputes, no personal help); the projection that hides personal data
    is the reader's (``open311.views._request_row(public=True)``)."""
    qs = Need.objects.filter(category__public=True).select_related("category", "grid")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    return qs.order_by("-created_at", "-id")


def need_list(
    *,
    actor: Actor,
    status: str | list[str] | None = None,
    category: str | None = None,
    place: Place | None = None,
    due_before: dt.datetime | None = None,
    overdue: bool = False,
    department_id: int | None = None,
    q: str | None = None,
    mine: bool = False,
    level: str | None = None,
) -> QuerySet[Need]:
    qs = Need.objects.visible(actor, NeedCap.VIEW_NEEDS).select_related("category", "place", "grid")
    if mine:
        qs = qs.filter(
            Exists(NeedReporter.objects.filter(need_id=OuterRef("pk"), user_id=getattr(actor, "pk", 0) or 0))
        )
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else status)
    if category:
        qs = qs.filter(category__code=category)
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if due_before is not None:
        qs = qs.filter(resolution_due__lt=due_before)
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, resolution_due__lt=timezone.now())
    if department_id is not None:
        qs = qs.filter(Exists(Dispatch.objects.filter(need_id=OuterRef("pk"), department_id=department_id)))
    if level:
        qs = qs.filter(level=level)
    if q:
        key = normalize(q)
        if key.isdigit():
            qs = qs.filter(Q(pk=int(key)) | Q(text_search__contains=key))
        else:
            qs = qs.filter(text_search__contains=key)
    return qs


def overdue_received_list(*, actor: Actor, place: Place, start: dt.date, end: dt.date) -> QuerySet[Need]:
    """The needs the three rates count as 超期 for ``place`` over the days ``start``–``end``
    (Asia/Shanghai): received there in those days (their submission, wherever a transfer
    took them since), not merged away, and past a deadline of their own (response or
    resolution) at some time, resolved since or not. Those still open come first, the
    most overdue first."""
    lower, upper = day_bounds(start, end)
    events = NeedEvent.objects.filter(need=OuterRef("pk"))
    received = events.filter(kind=EventKind.SUBMITTED, at__gte=lower, at__lt=upper, place_path__startswith=place.path)
    went_overdue = events.filter(kind=EventKind.OVERDUE, department__isnull=True)
    merged = events.filter(kind=EventKind.MERGED)
    return (
        need_list(actor=actor)
        .filter(Exists(received), Exists(went_overdue))
        .exclude(Exists(merged))
        .annotate(
            finished=Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("finished", "resolution_due", "id")
    )


def access_need(actor: Actor, need_id: int | str) -> Need:
    return get_or_404(need_list(actor=actor), need_id, "need")


def need_timeline(*, need: Need) -> QuerySet[NeedEvent]:
    return need.events.select_related("department").order_by("at", "id")


def need_detail_prefetch(qs: QuerySet[Need]) -> QuerySet[Need]:
    return qs.prefetch_related(
        Prefetch("dispatches", queryset=Dispatch.objects.select_related("department").order_by("whistled_at", "id")),
        "reporters",
        "photos",
    )


def dispatch_list(*, actor: Actor, status: str | list[str] | None = None, active: bool = False) -> QuerySet[Dispatch]:
    """The dispatches of the departments the actor is a liaison of (inside its grants),
    or of the places where it may view needs."""
    qs = Dispatch.objects.visible(actor, NeedCap.VIEW_NEEDS).select_related(
        "need", "need__category", "need__place", "department"
    )
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else status)
    if active:
        qs = qs.filter(status__in=ACTIVE_DISPATCH)
    return qs.order_by("checkin_due", "id")


def access_dispatch(actor: Actor, dispatch_id: int | str) -> Dispatch:
    return get_or_404(dispatch_list(actor=actor), dispatch_id, "dispatch")


def category_list(*, city: Place | None = None, active: bool = True) -> QuerySet[Category]:
    qs = Category.objects.all()
    if active:
        qs = qs.filter(active=True)
    if city is not None:
        own = set(Category.objects.filter(city=city).values_list("code", flat=True))
        qs = qs.filter(Q(city=city) | Q(city__isnull=True) & ~Q(code__in=own))
    else:
        qs = qs.filter(city__isnull=True)
    return qs.order_by("code")


def departments_in_reach(*, place_path: str) -> QuerySet[Department]:
    """The departments that answer whistles from this place: those serving it or an
    ancestor (``services.department_in_reach`` for one department)."""
    prefixes = [place_path[:n] for n in range(Place.steplen, len(place_path) + 1, Place.steplen)]
    return Department.objects.select_related("place").filter(place__path__in=prefixes).order_by("place__path", "code")


def reporters_to_rate(*, need: Need) -> list[NeedReporter]:
    """The reporters who have not answered the current follow-up round yet."""
    answered = set(Rating.objects.filter(need=need, round=need.reopen_count + 1).values_list("reporter_id", flat=True))
    return [r for r in need.reporters.all() if r.pk not in answered]


def can_handle(actor: Actor, need: Need) -> bool:
    return scope_for(actor).allows(NeedCap.HANDLE_NEEDS, need.place_path)
