"""Reads about needs, always through the actor's scope.

Staff see the needs of the places where they may view needs; department liaisons see the
needs whistled to their department inside the area of their grant; everyone sees the needs
they reported themselves. ``access_need`` returns 404 for anything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from linli.core.access import Actor, Role, account_id, get_or_404, is_system, scope_for, under
from linli.core.text import normalize
from linli.core.timeline import name_actors
from linli.needs.capabilities import NeedCap
from linli.needs.models import (
    ACTIVE_DISPATCH,
    OPEN_STATUSES,
    Category,
    Dispatch,
    DispatchStatus,
    EventKind,
    Level,
    Need,
    NeedEvent,
    NeedPhoto,
    NeedReporter,
    PhotoStage,
    Rating,
    RatingChannel,
    Status,
)
from linli.needs.rates import day_bounds
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name
from linli.people.models import Department
from linli.places.models import Place, PlaceKind, ancestor_path, ancestor_paths, joined_names, path_len
from linli.places.selectors import ancestor

_STREET_DEPTH = path_len(PlaceKind.STREET)
_COMMUNITY_DEPTH = path_len(PlaceKind.COMMUNITY)
_GRID_DEPTH = path_len(PlaceKind.GRID)
_BUILDING_DEPTH = path_len(PlaceKind.BUILDING)
_ABOVE_COMMUNITY = (PlaceKind.CITY, PlaceKind.DISTRICT, PlaceKind.COUNTY, PlaceKind.STREET, PlaceKind.TOWN)


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


#: At most this many buildings are offered in the report form's picker of one community.
PICKER_BUILDINGS = 600


@dataclass
class ReportPlaces:
    """What the report form offers as "where is the problem": the reporter's flat and
    building, every building and courtyard of the community grouped by grid, and the
    community itself (a road, a square: with a point on the map); ``chosen`` is preselected,
    and ``extra`` is it when none of the offers is (a grid, another household for staff)."""

    community: Place | None
    chosen: Place | None
    home: Place | None = None
    home_building: Place | None = None
    groups: list[tuple[str, list[Place]]] = field(default_factory=list)
    extra: Place | None = None


def keeps_point(place: Place) -> bool:
    """Whether a report's point is kept with it at ``place``: only at a road or square of the
    community (the community, or a grid), never with a home — the phone's position at home is
    the reporter's whereabouts."""
    return place.kind in (PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID)


def default_report_place(actor: Actor, *, named: Place | None, home: Place | None) -> Place | None:
    """Where a new report starts: the place a QR code named, else the place of the actor's last
    report (where it may still report), else its home."""
    if named is not None:
        return named
    user_id = scope_for(actor).user_id
    if user_id is not None:
        last = Need.objects.filter(submitted_by_id=user_id).select_related("place").order_by("-created_at").first()
        where: Place | None = last.place if last is not None else None
        if where is not None and where.kind not in _ABOVE_COMMUNITY and may_submit_at(actor, where):
            return where
    if home is not None and home.kind not in _ABOVE_COMMUNITY:
        return home
    # staff without a home here: the first community (or their own grid) where they may report
    paths = sorted(scope_for(actor).paths(NeedCap.SUBMIT_NEED))
    for path in paths:
        first: Place | None = (
            Place.objects.filter(
                path__startswith=path, kind__in=(PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID)
            )
            .order_by("path")
            .first()
        ) or Place.objects.filter(path=path).exclude(kind__in=_ABOVE_COMMUNITY).first()
        if first is not None:
            return first
    return None


def report_places(actor: Actor, *, chosen: Place | None, home: Place | None) -> ReportPlaces:
    """The picker of the report form around ``chosen`` (its community). Two queries."""
    if chosen is None or len(chosen.path) < _COMMUNITY_DEPTH:
        return ReportPlaces(community=None, chosen=chosen, extra=chosen)
    community_path = chosen.path[:_COMMUNITY_DEPTH]
    rows = list(
        Place.objects.filter(
            path__startswith=community_path,
            kind__in=(PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD),
        ).order_by("path")[: PICKER_BUILDINGS + 50]
    )
    community = next((p for p in rows if p.path == community_path), None)
    grid_names = {p.path: p.name for p in rows if p.kind == PlaceKind.GRID}
    groups: dict[str, list[Place]] = {}
    for p in rows:
        if p.kind in (PlaceKind.BUILDING, PlaceKind.COURTYARD):
            groups.setdefault(grid_names.get(p.path[: path_len(PlaceKind.GRID)], ""), []).append(p)
    picker = ReportPlaces(community=community, chosen=chosen, groups=list(groups.items()))
    if home is not None and home.path.startswith(community_path):
        picker.home = home
        building_path = home.path[:_BUILDING_DEPTH]
        picker.home_building = next((p for p in rows if p.path == building_path and p.pk != home.pk), None)
    offered = {p.pk for p in rows if p.kind in (PlaceKind.BUILDING, PlaceKind.COURTYARD)}
    offered |= {p.pk for p in (community, picker.home) if p is not None}
    if chosen.pk not in offered:
        picker.extra = chosen
    return picker


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


def _waiting_for_rating(account: int) -> Exists:
    """A need (the outer query's) that ``account`` reported and has not rated in its current
    follow-up round."""
    answered = Rating.objects.filter(reporter_id=OuterRef("pk"), round=OuterRef(OuterRef("reopen_count")) + 1)
    return Exists(NeedReporter.objects.filter(need_id=OuterRef("pk"), user_id=account).exclude(Exists(answered)))


def needs_to_rate(*, actor: Actor) -> QuerySet[Need]:
    """The reader's own resolved needs that wait for its answer in the current follow-up round
    (the ``rate`` verb of ``workflow.verbs_for``): its home page's to-do and ``/needs/mine/?show=rate``."""
    account = account_id(actor)
    if account is None:
        return Need.objects.none()
    return need_list(actor=actor, mine=True, status=Status.RESOLVED).filter(_waiting_for_rating(account))


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


def dispatch_list(
    *,
    actor: Actor,
    status: str | list[str] | None = None,
    active: bool = False,
    overdue: bool = False,
    now: dt.datetime | None = None,
) -> QuerySet[Dispatch]:
    """The dispatches of the departments the actor is a liaison of (inside its grants),
    or of the places where it may view needs. ``overdue``: those past the deadline of the
    step they wait for (the check-in, then the resolution)."""
    qs = Dispatch.objects.visible(actor, NeedCap.VIEW_NEEDS).select_related(
        "need", "need__category", "need__place", "department"
    )
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else status)
    if active:
        qs = qs.filter(status__in=ACTIVE_DISPATCH)
    if overdue:
        now = now or timezone.now()
        qs = qs.filter(
            Q(status=DispatchStatus.WHISTLED, checkin_due__lt=now)
            | Q(status=DispatchStatus.CHECKED_IN, resolution_due__lt=now)
        )
    return qs.order_by("checkin_due", "id")


def access_dispatch(actor: Actor, dispatch_id: int | str) -> Dispatch:
    return get_or_404(dispatch_list(actor=actor), dispatch_id, "dispatch")


@dataclass(frozen=True)
class JobCard:
    """What a department is told of one dispatch 派单 (its job card): where to go, down to
    the building and never the flat (``spot``), the street and community and the community's
    office phone to call, the need's photos and the whistle's note, and the steps of this
    dispatch alone (not the need's other departments)."""

    dispatch: Dispatch
    street: Place | None
    community: Place | None
    spot: Place
    address: str
    photos: list[NeedPhoto]
    events: list[NeedEvent]


def dispatch_card(*, actor: Actor, dispatch_id: int | str) -> JobCard:
    """The job card of a dispatch the actor may see (``access_dispatch``: its department's
    liaisons, and the staff of the place); 404 for any other. Its steps name who took them as
    the actor understands it (``core.timeline.name_actors``). Six queries."""
    dispatch = access_dispatch(actor, dispatch_id)
    need = dispatch.need
    path = need.place_path
    spot_path = path[:_BUILDING_DEPTH]
    wanted = {path[:_STREET_DEPTH], path[:_COMMUNITY_DEPTH], spot_path}
    found = {p.path: p for p in Place.objects.filter(path__in=wanted)}
    street, community = found.get(path[:_STREET_DEPTH]), found.get(path[:_COMMUNITY_DEPTH])
    spot = found.get(spot_path, need.place)
    # an address a visitor follows: street, community, building (a grid is no address)
    names = [p.name for p in (street, community, spot) if p is not None and p.kind != PlaceKind.GRID]
    photos = list(need.photos.filter(stage=PhotoStage.INTAKE).order_by("created_at", "id"))
    events = list(need.events.filter(data__dispatch=dispatch.pk).select_related("department").order_by("at", "id"))
    name_actors(events, reader=actor, path=path)
    return JobCard(
        dispatch=dispatch,
        street=street,
        community=community,
        spot=spot,
        address=joined_names(names),
        photos=photos,
        events=events,
    )


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
    return (
        Department.objects.select_related("place")
        .filter(place__path__in=ancestor_paths(place_path))
        .order_by("place__path", "code")
    )


def whistle_departments(*, actor: Actor) -> QuerySet[Department]:
    """The departments the actor may whistle needs of its places to (the workbench's bulk
    whistle): those serving a place where it handles needs, an ancestor of one (a city's
    water company for a grid worker) or a place below one. Each need is checked again
    (``services.department_in_reach``)."""
    roots = scope_for(actor).roots(NeedCap.HANDLE_NEEDS)
    found = Department.objects.select_related("place").order_by("place__path", "code")
    if roots is None:
        return found
    if not roots:
        return found.none()
    above = {path for root in roots for path in ancestor_paths(root)}
    return found.filter(Q(place__path__in=above) | under(roots, "place__path"))


#: What the community usually whistles a category to: the catalogue's department kind, or the
#: departments its earlier needs of that category went to.
SUGGESTED_BY_CATALOGUE = "catalogue"
SUGGESTED_BY_HISTORY = "history"


def suggested_departments(*, need: Need, departments: list[Department]) -> dict[int, str]:
    """Which of ``departments`` (those in reach of the need) its category usually goes to,
    best first, each with why (``SUGGESTED_BY_*``): those of the kind the dispatch catalogue
    names for the category, then those the community's other needs of the category were
    whistled to and not returned, the most often first. Empty without a category. One query."""
    category = need.category
    if category is None or not departments:
        return {}
    history = dict(
        Dispatch.objects.filter(
            need__category__code=category.code,
            need__place_path__startswith=need.place_path[:_COMMUNITY_DEPTH],
            department_id__in=[d.pk for d in departments],
        )
        .exclude(status=DispatchStatus.RETURNED)
        .exclude(need_id=need.pk)
        .values_list("department_id")
        .annotate(n=Count("id"))
        .values_list("department_id", "n")
    )
    kind = category.department_kind
    ranked = sorted(
        (d for d in departments if (kind and d.kind == kind) or history.get(d.pk)),
        # the catalogue's kind first, then the most used, then the nearest (deepest) department
        key=lambda d: (not (kind and d.kind == kind), -history.get(d.pk, 0), -len(d.place.path), d.code),
    )
    return {d.pk: SUGGESTED_BY_CATALOGUE if kind and d.kind == kind else SUGGESTED_BY_HISTORY for d in ranked}


#: The kinds of place a need may be transferred to from the picker (a household is reached
#: through its building).
_TRANSFER_AREAS = (PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID)
_TRANSFER_SPOTS = (PlaceKind.BUILDING, PlaceKind.COURTYARD)


def transfer_targets(*, actor: Actor, need: Need) -> list[tuple[str, str]]:
    """Where ``actor`` may transfer ``need`` (转办), as (code, label) for the picker: the
    communities and grids of the need's street and the buildings of its grid, where the actor
    handles needs, but not the need's own place. Two queries."""
    path = need.place_path
    condition = Q(path__startswith=path[:_STREET_DEPTH], kind__in=_TRANSFER_AREAS)
    if len(path) >= _GRID_DEPTH:
        condition |= Q(path__startswith=path[:_GRID_DEPTH], kind__in=_TRANSFER_SPOTS)
    places = list(
        Place.objects.visible(actor, NeedCap.HANDLE_NEEDS)
        .filter(condition)
        .exclude(pk=need.place_id)
        .only("code", "name", "kind", "path")
        .order_by("path")[:500]
    )
    communities = {p.path[:_COMMUNITY_DEPTH] for p in places if len(p.path) > _COMMUNITY_DEPTH}
    names = dict(Place.objects.filter(path__in=communities).values_list("path", "name")) if communities else {}
    # a grid or building is named with its community (two communities both have a 第一网格)
    return [(p.code, joined_names([names.get(p.path[:_COMMUNITY_DEPTH], ""), p.name])) for p in places]


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
    rated this round yet (``needs_to_rate``; the lists show 请评价). One subquery, whatever
    the page's length."""
    account = account_id(actor)
    if account is None:
        return qs.annotate(rating_due=Value(False))
    return qs.annotate(
        rating_due=Case(
            When(status=Status.RESOLVED, then=_waiting_for_rating(account)),
            default=Value(False),
            output_field=BooleanField(),
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
