"""Reads about needs, always through the actor's scope.

Staff see the needs of the places where they may view needs; department liaisons see the
needs whistled to their department inside the area of their grant; everyone sees the needs
they reported themselves. ``access_need`` returns 404 for anything else.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from linli.core.access import Actor, Role, get_or_404, is_system, scope_for
from linli.core.text import normalize
from linli.core.timeline import name_actors
from linli.needs.capabilities import NeedCap
from linli.needs.models import (
    ACTIVE_DISPATCH,
    OPEN_STATUSES,
    Category,
    Dispatch,
    EventKind,
    Level,
    Need,
    NeedEvent,
    NeedReporter,
    Rating,
    RatingChannel,
    Status,
)
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name
from linli.people.models import Department
from linli.places.models import Place, PlaceKind, ancestor_path, path_len
from linli.places.selectors import ancestor

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


def access_need(actor: Actor, need_id: int | str) -> Need:
    return get_or_404(need_list(actor=actor), need_id, "need")


def need_timeline(*, need: Need) -> QuerySet[NeedEvent]:
    return need.events.select_related("department").order_by("at", "id")


def need_timeline_for(*, need: Need, reader: Actor) -> list[NeedEvent]:
    """The need's timeline as ``reader`` reads it: each event's ``actor_label`` says who took
    the step (``core.timeline.name_actors``): 我, 居民 张*, 网格员 李*, or 系统 for the sweeps. A
    rating sent from an SMS link is the reporter's, though the system recorded it. Uses the
    need's prefetched reporters when there are."""
    events = list(need_timeline(need=need))
    reporters = {r.pk: r for r in need.reporters.all()}

    def on_behalf(event: NeedEvent) -> tuple[int | None, str, str] | None:
        if event.kind != EventKind.RATED:
            return None
        reporter = reporters.get(event.data.get("reporter") or 0)
        if reporter is not None:
            return reporter.user_id, Role.RESIDENT, mask_name(reporter.name)
        return (None, Role.RESIDENT, "") if event.data.get("channel") == RatingChannel.SMS else None

    name_actors(events, reader=reader, path=need.place_path, on_behalf=on_behalf)
    return events


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


#: The place kind at which each handling level sits.
_LEVEL_KIND = {
    Level.COMMUNITY: PlaceKind.COMMUNITY,
    Level.STREET: PlaceKind.STREET,
    Level.DISTRICT: PlaceKind.DISTRICT,
}


def handled_by(need: Need) -> Place | None:
    """The place whose staff handle ``need`` at its level now: its grid, or the community,
    street or district above it (a village or town where there is no community or street).
    One query at most."""
    if need.level == Level.GRID:
        return need.grid
    kind = _LEVEL_KIND.get(Level(need.level))
    return ancestor(need.place, kind) if kind else None


def with_rating_due(qs: QuerySet[Need], *, actor: Actor) -> QuerySet[Need]:
    """Mark each need with ``rating_due``: resolved, and ``actor`` reported it and has not
    rated this round yet (the lists show 请评价). One subquery, whatever the page's length."""
    account = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    if account is None:
        return qs.annotate(rating_due=Value(False))
    answered = Rating.objects.filter(reporter_id=OuterRef("pk"), round=OuterRef(OuterRef("reopen_count")) + 1)
    mine = NeedReporter.objects.filter(need_id=OuterRef("pk"), user_id=account).filter(~Exists(answered))
    return qs.annotate(
        rating_due=Case(
            When(status=Status.RESOLVED, then=Exists(mine)), default=Value(False), output_field=BooleanField()
        )
    )


def reporter_of(actor: Actor, need: Need) -> NeedReporter | None:
    """``actor`` as a reporter of ``need`` (who raised it or joined it by a merged duplicate),
    else None. Uses the need's prefetched reporters when there are."""
    account = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    if account is None:
        return None
    return next((r for r in need.reporters.all() if r.user_id == account), None)


def is_reporter(actor: Actor, need: Need) -> bool:
    """Whether ``actor`` reported ``need`` or entered it (staff for a resident)."""
    return reporter_of(actor, need) is not None or (
        need.submitted_by_id is not None and need.submitted_by_id == getattr(actor, "pk", None)
    )


def can_handle(actor: Actor, need: Need) -> bool:
    return scope_for(actor).allows(NeedCap.HANDLE_NEEDS, need.place_path)
