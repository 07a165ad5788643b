"""Writes about needs: intake, acceptance, whistling to departments (吹哨), check-in (报到),
returns (退单), transfer, merge, resolution, follow-up and rating (回访), reopening.

Every transition is one service: keyword-only, ``@transaction.atomic``, the need row locked
with ``SELECT … FOR UPDATE`` so that two staff acting at once cannot both win (the loser gets
``Conflict``, a 409), the actor's capability checked at the need's place, one ``NeedEvent``
written (the timeline, and the raw facts of the three rates, rolled up in the same
transaction), and notifications enqueued as jobs inside the transaction, so nothing is sent
for a write that rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM, is_system, require, scope_for, user_of
from linli.core.errors import Conflict
from linli.core.notify import notify
from linli.core.text import looks_gbk_damaged, normalize
from linli.needs import rates
from linli.needs.capabilities import NeedCap
from linli.needs.models import (
    ACTIVE_DISPATCH,
    NEXT_LEVEL,
    OPEN_STATUSES,
    Category,
    Channel,
    Dispatch,
    DispatchStatus,
    EventKind,
    HandlingLevel,
    Level,
    LimitUnit,
    Need,
    NeedEvent,
    NeedReporter,
    Rating,
    RatingChannel,
    Satisfaction,
    Status,
    Urgency,
)
from linli.needs.photos import PhotoUpload, photos_attach
from linli.needs.selectors import may_submit_at
from linli.people.identity import normalize_phone
from linli.people.models import Department, Person
from linli.places.models import Place, PlaceKind, path_len
from linli.places.selectors import ancestor
from linli.workdays.services import add_limit

MAX_TEXT = 2000
#: Default limits for a need that has no category yet (an ordinary request, Beijing's rule).
DEFAULT_RESPONSE = (1, LimitUnit.WORKDAYS)
DEFAULT_CHECKIN = (1, LimitUnit.WORKDAYS)
DEFAULT_RESOLUTION = (7, LimitUnit.WORKDAYS)
#: Emergencies are counted in clock hours whatever the category says.
EMERGENCY_RESPONSE_HOURS = 2
EMERGENCY_RESOLUTION_HOURS = 24
#: After an escalation the next level gets this long to resolve.
ESCALATION_LIMIT = (3, LimitUnit.WORKDAYS)
#: A resolved need nobody rated within this many days is closed without a rating.
UNRATED_CLOSE_DAYS = 7

_COMMUNITY_DEPTH = path_len(PlaceKind.COMMUNITY)
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


def _community_path(path: str) -> str:
    return path[:_COMMUNITY_DEPTH]


def _event(
    need: Need,
    kind: str,
    *,
    actor: Any,
    at: dt.datetime,
    from_status: str = "",
    department: Department | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> NeedEvent:
    actor_obj = user_of(actor)
    event = NeedEvent.objects.create(
        need=need,
        kind=kind,
        at=at,
        actor=actor_obj,
        actor_name=str(actor_obj) if actor_obj else "system",
        department=department,
        from_status=from_status,
        to_status=need.status,
        note=note,
        data=data or {},
        place_path=need.place_path,
        district_id=need.district_id,
    )
    rates.rollup_event(event)
    Need.objects.filter(pk=need.pk).update(updated_at=at)
    need.updated_at = at
    return event


def _notify(need: Need, kind: str, **extra: Any) -> None:
    """Put the step's notification in the outbox, inside the transaction (it goes out only if
    this commits); its recipients and message are in ``needs.notifications``."""
    notify(f"needs.{kind}", need=need.pk, **extra)


def _locked(need: Need | int) -> Need:
    pk = need.pk if isinstance(need, Need) else need
    locked = Need.objects.select_for_update(of=("self",)).select_related("category", "place").filter(pk=pk).first()
    if locked is None:
        raise ValidationError(_("诉求不存在"))
    return locked


def _expect(need: Need, statuses: Iterable[str], message: str) -> None:
    if need.status not in set(statuses):
        raise Conflict(
            _("%(message)s(当前状态：%(status)s)") % {"message": message, "status": need.get_status_display()}
        )


def _limits(category: Category | None, urgency: str) -> dict[str, tuple[int, str]]:
    limits: dict[str, tuple[int, str]]
    if category is None:
        limits = {"response": DEFAULT_RESPONSE, "checkin": DEFAULT_CHECKIN, "resolution": DEFAULT_RESOLUTION}
    else:
        limits = {
            "response": (category.response_limit, category.response_unit),
            "checkin": (category.checkin_limit, category.checkin_unit),
            "resolution": (category.resolution_limit, category.resolution_unit),
        }
    if urgency == Urgency.EMERGENCY:
        limits["response"] = (EMERGENCY_RESPONSE_HOURS, LimitUnit.HOURS)
        limits["checkin"] = (EMERGENCY_RESPONSE_HOURS, LimitUnit.HOURS)
        limits["resolution"] = (EMERGENCY_RESOLUTION_HOURS, LimitUnit.HOURS)
    return limits


def _due(start: dt.datetime, limit: tuple[int, str], city: Place | None) -> dt.datetime:
    return add_limit(start, limit[0], limit[1], city=city)


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


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("请描述您的诉求")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [_("内容过长(最多%(MAX_TEXT)s字)") % {"MAX_TEXT": MAX_TEXT}]})
    if looks_gbk_damaged(text):
        raise ValidationError({"text": [_("内容疑似乱码(编码错误)，请重新输入")]})
    return text


#: Channels that say staff took a need in, and the capability it takes to say so. Anyone may
#: report as a resident, through a building's QR code or through the API; a channel the actor
#: may not claim is set by the server (to the resident's own). Another app adds the channel it
#: brings needs in by (visits: ``register_channel``).
_CHANNEL_CAPABILITY: dict[str, str] = {
    Channel.STAFF: NeedCap.HANDLE_NEEDS,
    Channel.PATROL: NeedCap.HANDLE_NEEDS,
    Channel.MEETING: NeedCap.HANDLE_NEEDS,
    Channel.VISIT: NeedCap.HANDLE_NEEDS,
}


def register_channel(channel: str, capability: str) -> None:
    """Let actors holding ``capability`` at a place take needs in by ``channel`` there."""
    _CHANNEL_CAPABILITY[channel] = capability


def _permitted_channel(actor: Any, place: Place, channel: str) -> str:
    needed = _CHANNEL_CAPABILITY.get(channel)
    if needed is None or is_system(actor) or scope_for(actor).allows(needed, place.path):
        return channel
    return Channel.RESIDENT


def _point(lat: Any, lng: Any) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    try:
        la, lo = Decimal(str(lat)), Decimal(str(lng))
    except (ArithmeticError, ValueError) as exc:
        raise ValidationError({"lat": [_("坐标格式不正确")]}) from exc
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise ValidationError({"lat": [_("坐标超出范围")]})
    return la.quantize(Decimal("0.000001")), lo.quantize(Decimal("0.000001"))


# --- intake --------------------------------------------------------------------------------


def intake_check(*, text: str, phone: str = "", lat: Any = None, lng: Any = None) -> None:
    """What ``need_create`` will refuse whatever the place: an adapter checks it before it
    looks the place up, so that a bad request gets the same answer at any place."""
    _check_text(text)
    if phone:
        normalize_phone(phone)
    _point(lat, lng)


@dataclass
class Reporter:
    """Who raised the need, when it is not the actor itself (staff entering it for someone)."""

    person: Person | None = None
    name: str = ""
    phone: str = ""


def need_create(
    *,
    actor: Any,
    text: str,
    place: Place | None = None,
    lat: Any = None,
    lng: Any = None,
    address_string: str = "",
    category_code: str | None = None,
    channel: str = Channel.RESIDENT,
    urgency: str = Urgency.NORMAL,
    reporter: Reporter | None = None,
    photos: Sequence[PhotoUpload] = (),
    api_client: Any = None,
    now: dt.datetime | None = None,
) -> Need:
    """Take in a need: locate it to a grid, suggest its category (staff confirm later unless a
    category is given by staff), compute its deadlines, record the reporter and the
    ``submitted`` event with the duplicate candidates found, and tell the grid.

    Residents report in their own community; staff anywhere in their scope. Either ``place``
    or a point (``lat``/``lng``, WGS-84) that falls inside a grid's boundary is required.
    """
    from linli.needs import triage

    now = _now(now)
    text = _check_text(text)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("未知的来源渠道")]})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": [_("未知的紧急程度")]})
    la, lo = _point(lat, lng)
    grid = triage.locate_grid(place=place, lat=la, lng=lo)
    if place is None:
        if grid is None:
            raise ValidationError({"place": [_("请选择地点，或给出位于网格内的坐标")]})
        place = grid
    if place.kind in (PlaceKind.CITY, PlaceKind.DISTRICT, PlaceKind.COUNTY, PlaceKind.STREET, PlaceKind.TOWN):
        raise ValidationError({"place": [_("请选择社区、网格、楼栋或住户")]})
    if not may_submit_at(actor, place):
        raise PermissionDenied(_("不能在此地点反映诉求"))
    channel = _permitted_channel(actor, place, channel)
    city, district = _city_and_district(place)
    category = None
    confirmed = False
    suggestions: list[tuple[str, float]] = []
    if category_code:
        category = category_for(category_code, city=city)
        confirmed = is_system(actor) or scope_for(actor).allows(NeedCap.HANDLE_NEEDS, place.path)
    else:
        suggestions = triage.suggest_categories(text)
        if suggestions:
            category = Category.objects.filter(code=suggestions[0][0], active=True).first()
    duplicates = triage.find_duplicates(text, place=place, lat=la, lng=lo)
    person = reporter.person if reporter else None
    if reporter is None and not is_system(actor):
        person = getattr(actor, "person", None)
    phone = ""
    if reporter and reporter.phone:
        phone = normalize_phone(reporter.phone)
    elif person is not None:
        phone = person.phone
    limits = _limits(category, urgency)
    level = Level.COMMUNITY if category and category.level == HandlingLevel.COMMUNITY else Level.GRID
    with transaction.atomic():
        need = Need(
            text=text,
            text_search=normalize(text),
            category=category,
            category_confirmed=confirmed,
            place=place,
            place_path=place.path,
            grid=grid,
            district=district,
            lat=la,
            lng=lo,
            address_string=(address_string or "")[:200],
            channel=channel,
            urgency=urgency,
            level=level,
            submitted_by=user_of(actor),
            api_client=api_client,
            created_at=now,
            updated_at=now,
            response_due=_due(now, limits["response"], city),
            resolution_due=_due(now, limits["resolution"], city),
        )
        # the database enforces the check constraints; validating them here costs a query each
        need.full_clean(
            exclude=["place", "grid", "district", "category", "api_client", "submitted_by"], validate_constraints=False
        )
        need.save()
        NeedReporter.objects.create(
            need=need,
            person=person,
            user=getattr(person, "user", None) if person else None,
            name=(reporter.name if reporter and reporter.name else (person.name if person else ""))[:60],
            phone=phone,
            joined_at=now,
        )
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor)
        _event(
            need,
            EventKind.SUBMITTED,
            actor=actor,
            at=now,
            data={
                "channel": channel,
                "suggested": [[code, round(score, 3)] for code, score in suggestions],
                "duplicates": [[pk, round(score, 3)] for pk, score in duplicates],
            },
        )
        _notify(need, "submitted")
    return need


# --- handling by the grid or community ------------------------------------------------------


def need_accept(*, actor: Any, need: Need | int, now: dt.datetime | None = None) -> Need:
    """Accept (受理) a submitted need: the response. Two staff accepting at once: one wins,
    the other gets ``Conflict``."""
    now = _now(now)
    with transaction.atomic():
        need = _locked(need)
        require(actor, NeedCap.HANDLE_NEEDS, need.place)
        _expect(need, [Status.SUBMITTED], _("该诉求已被受理"))
        _accept(need, actor=actor, now=now)
    return need


def _accept(need: Need, *, actor: Any, now: dt.datetime) -> None:
    before = need.status
    first = need.accepted_at is None
    need.status = Status.ACCEPTED
    if first:
        need.accepted_at = now
    need.save(update_fields=["status", "accepted_at"])
    on_time = bool(need.response_due is None or now <= need.response_due)
    _event(need, EventKind.ACCEPTED, actor=actor, at=now, from_status=before, data={"first": first, "on_time": on_time})
    _notify(need, "accepted")


def need_categorise(*, actor: Any, need: Need | int, category_code: str, now: dt.datetime | None = None) -> Need:
    """Confirm or correct the category (it trains the next classifier version)."""
    now = _now(now)
    with transaction.atomic():
        need = _locked(need)
        require(actor, NeedCap.HANDLE_NEEDS, need.place)
        _expect(need, OPEN_STATUSES, _("已办结的诉求不能改类别"))
        category = category_for(category_code, city=_city_of(need.place))
        before = need.category.code if need.category else ""
        need.category, need.category_confirmed = category, True
        need.save(update_fields=["category", "category_confirmed"])
        _event(
            need,
            EventKind.CATEGORISED,
            actor=actor,
            at=now,
            from_status=need.status,
            data={"from": before, "to": category.code},
        )
    return need


def department_in_reach(department: Department, need: Need) -> bool:
    """A department answers whistles from inside the area it serves."""
    return need.place_path.startswith(department.place.path)


def need_whistle(
    *, actor: Any, need: Need | int, departments: Sequence[Department], note: str = "", now: dt.datetime | None = None
) -> list[Dispatch]:
    """Whistle 吹哨 the need to one or more departments. The first department whistled (ever,
    among those not returned) leads 首接负责. Each gets a check-in and a resolution deadline
    from the category's limits. A submitted need is accepted by the same act."""
    now = _now(now)
    if not departments:
        raise ValidationError({"departments": [_("请选择至少一个部门")]})
    with transaction.atomic():
        need = _locked(need)
        require(actor, NeedCap.HANDLE_NEEDS, need.place)
        _expect(need, OPEN_STATUSES, _("该诉求已办结，不能吹哨"))
        if need.status == Status.SUBMITTED:
            _accept(need, actor=actor, now=now)
        city = _city_of(need.place)
        limits = _limits(need.category, need.urgency)
        active = {d.department_id for d in need.dispatches.filter(status__in=ACTIVE_DISPATCH)}
        has_lead = need.dispatches.filter(is_lead=True).exclude(status=DispatchStatus.RETURNED).exists()
        created: list[Dispatch] = []
        for department in departments:
            if not department_in_reach(department, need):
                raise ValidationError({"departments": [_("%(name)s不服务该地点") % {"name": department.name}]})
            if department.pk in active:
                raise Conflict(_("已向%(name)s吹哨") % {"name": department.name})
            dispatch = Dispatch.objects.create(
                need=need,
                department=department,
                is_lead=not has_lead,
                whistled_at=now,
                whistled_by=user_of(actor),
                checkin_due=_due(now, limits["checkin"], city),
                resolution_due=_due(now, limits["resolution"], city),
                note=note[:1000],
            )
            has_lead = True
            active.add(department.pk)
            created.append(dispatch)
        before = need.status
        need.status = Status.WHISTLED
        need.resolution_due = (
            max(d.resolution_due for d in created)
            if need.resolution_due is None
            else max([need.resolution_due, *(d.resolution_due for d in created)])
        )
        need.save(update_fields=["status", "resolution_due"])
        for dispatch in created:
            _event(
                need,
                EventKind.WHISTLED,
                actor=actor,
                at=now,
                from_status=before,
                department=dispatch.department,
                note=note,
                data={"lead": dispatch.is_lead, "dispatch": dispatch.pk},
            )
            _notify(need, "whistled", dispatch=dispatch.pk)
    return created


def need_resolve(
    *,
    actor: Any,
    need: Need | int,
    result: str,
    photos: Sequence[PhotoUpload] = (),
    now: dt.datetime | None = None,
) -> Need:
    """The grid or community resolved the need itself. Needs whistled to departments are
    resolved by the departments (``dispatch_resolve``)."""
    now = _now(now)
    result = _check_result(result)
    with transaction.atomic():
        need = _locked(need)
        require(actor, NeedCap.HANDLE_NEEDS, need.place)
        _expect(need, [Status.SUBMITTED, Status.ACCEPTED], _("该诉求不在本级办理中"))
        if need.status == Status.SUBMITTED:
            _accept(need, actor=actor, now=now)
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor, stage="result")
        _finish(need, actor=actor, now=now, result=result)
    return need


def _finish(need: Need, *, actor: Any, now: dt.datetime, result: str) -> None:
    before = need.status
    need.status, need.resolved_at, need.result = Status.RESOLVED, now, result[:4000]
    need.save(update_fields=["status", "resolved_at", "result"])
    on_time = need.resolution_due is None or now <= need.resolution_due
    _event(need, EventKind.RESOLVED, actor=actor, at=now, from_status=before, note=result, data={"on_time": on_time})
    _notify(need, "resolved")


# --- departments: check in, resolve, return ---------------------------------------------------


def _lock_dispatch(dispatch: Dispatch | int) -> tuple[Dispatch, Need]:
    pk = dispatch.pk if isinstance(dispatch, Dispatch) else dispatch
    found = Dispatch.objects.select_related("department", "department__place").filter(pk=pk).first()
    if found is None:
        raise ValidationError(_("派单不存在"))
    need = _locked(found.need_id)
    found = (
        Dispatch.objects.select_for_update(of=("self",)).select_related("department", "department__place").get(pk=pk)
    )
    return found, need


def require_liaison(actor: Any, dispatch: Dispatch, need: Need) -> None:
    """Only a liaison of the dispatch's department (or a system admin) works it."""
    if is_system(actor):
        return
    scope = scope_for(actor)
    if scope.everything:
        return
    for grant in scope.grants:
        if grant.department_id == dispatch.department_id and need.place_path.startswith(grant.path):
            return
    raise PermissionDenied(_("只有承办部门的联络人可以操作"))


def dispatch_checkin(*, actor: Any, dispatch: Dispatch | int, now: dt.datetime | None = None) -> Dispatch:
    """The department checks in 报到: it has seen the whistle and takes the work on."""
    now = _now(now)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        if dispatch.status != DispatchStatus.WHISTLED:
            raise Conflict(_("已报到或已结束"))
        dispatch.status, dispatch.checked_in_at = DispatchStatus.CHECKED_IN, now
        dispatch.checked_in_by = user_of(actor)
        dispatch.save(update_fields=["status", "checked_in_at", "checked_in_by"])
        _event(
            need,
            EventKind.CHECKED_IN,
            actor=actor,
            at=now,
            from_status=need.status,
            department=dispatch.department,
            data={"on_time": now <= dispatch.checkin_due, "dispatch": dispatch.pk},
        )
    return dispatch


def dispatch_resolve(
    *,
    actor: Any,
    dispatch: Dispatch | int,
    result: str,
    photos: Sequence[PhotoUpload] = (),
    now: dt.datetime | None = None,
) -> Dispatch:
    """The department finished its part. When no department is still working, the need is
    resolved with the lead department's result."""
    now = _now(now)
    result = _check_result(result)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        if dispatch.status == DispatchStatus.WHISTLED:
            dispatch_checkin(actor=actor, dispatch=dispatch, now=now)
            dispatch.refresh_from_db()
        if dispatch.status != DispatchStatus.CHECKED_IN:
            raise Conflict(_("该派单不在办理中"))
        dispatch.status, dispatch.resolved_at, dispatch.result = DispatchStatus.RESOLVED, now, result[:4000]
        dispatch.save(update_fields=["status", "resolved_at", "result"])
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor, stage="result")
        on_time = now <= dispatch.resolution_due
        _event(
            need,
            EventKind.RESOLVED,
            actor=actor,
            at=now,
            from_status=need.status,
            department=dispatch.department,
            note=result,
            data={"on_time": on_time, "dispatch": dispatch.pk},
        )
        if not need.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
            lead = need.dispatches.filter(status=DispatchStatus.RESOLVED).order_by("-is_lead", "resolved_at").first()
            _finish(need, actor=actor, now=now, result=lead.result if lead else result)
    return dispatch


def dispatch_return(*, actor: Any, dispatch: Dispatch | int, reason: str, now: dt.datetime | None = None) -> Dispatch:
    """The department asks to return 退单 the need (not ours, wrong place…); the community
    approves or rejects."""
    now = _now(now)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": [_("请说明退单理由(至少4个字)")]})
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require_liaison(actor, dispatch, need)
        if dispatch.status not in (DispatchStatus.WHISTLED, DispatchStatus.CHECKED_IN):
            raise Conflict(_("该派单不能退回"))
        dispatch.status, dispatch.return_reason = DispatchStatus.RETURN_REQUESTED, reason[:1000]
        dispatch.save(update_fields=["status", "return_reason"])
        _event(
            need,
            EventKind.RETURN_REQUESTED,
            actor=actor,
            at=now,
            from_status=need.status,
            department=dispatch.department,
            note=reason,
            data={"dispatch": dispatch.pk},
        )
        _notify(need, "return_requested", dispatch=dispatch.pk)
    return dispatch


def dispatch_return_decide(
    *, actor: Any, dispatch: Dispatch | int, approve: bool, note: str = "", now: dt.datetime | None = None
) -> Dispatch:
    """The community approves a return (the department is released; when none is left, the
    need comes back to the community) or rejects it (the department keeps working)."""
    now = _now(now)
    with transaction.atomic():
        dispatch, need = _lock_dispatch(dispatch)
        require(actor, NeedCap.DECIDE_RETURNS, need.place)
        if dispatch.status != DispatchStatus.RETURN_REQUESTED:
            raise Conflict(_("没有待审批的退单"))
        before = need.status
        if approve:
            dispatch.status = DispatchStatus.RETURNED
            dispatch.save(update_fields=["status"])
            if not need.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
                if need.dispatches.filter(status=DispatchStatus.RESOLVED).exists():
                    lead = need.dispatches.filter(status=DispatchStatus.RESOLVED).order_by("-is_lead").first()
                    assert lead is not None
                    _event(
                        need,
                        EventKind.RETURN_APPROVED,
                        actor=actor,
                        at=now,
                        from_status=before,
                        department=dispatch.department,
                        note=note,
                        data={"dispatch": dispatch.pk},
                    )
                    _finish(need, actor=actor, now=now, result=lead.result)
                    return dispatch
                need.status = Status.ACCEPTED
                need.save(update_fields=["status"])
            kind = EventKind.RETURN_APPROVED
        else:
            dispatch.status = DispatchStatus.CHECKED_IN if dispatch.checked_in_at else DispatchStatus.WHISTLED
            dispatch.save(update_fields=["status"])
            kind = EventKind.RETURN_REJECTED
        _event(
            need,
            kind,
            actor=actor,
            at=now,
            from_status=before,
            department=dispatch.department,
            note=note,
            data={"dispatch": dispatch.pk},
        )
        _notify(need, kind, dispatch=dispatch.pk)
    return dispatch


# --- transfer and merge ------------------------------------------------------------------------


def need_transfer(
    *, actor: Any, need: Need | int, place: Place, note: str = "", now: dt.datetime | None = None
) -> Need:
    """Transfer 转办 the need to another place (another grid or community): the actor must be
    able to handle needs at both."""
    from linli.needs import triage

    now = _now(now)
    with transaction.atomic():
        need = _locked(need)
        require(actor, NeedCap.HANDLE_NEEDS, need.place)
        require(actor, NeedCap.HANDLE_NEEDS, place)
        _expect(
            need,
            [Status.SUBMITTED, Status.ACCEPTED],
            _("只能转办未吹哨的在办诉求"),
        )
        if place.kind not in (
            PlaceKind.COMMUNITY,
            PlaceKind.VILLAGE,
            PlaceKind.GRID,
            PlaceKind.BUILDING,
            PlaceKind.COURTYARD,
            PlaceKind.HOUSEHOLD,
        ):
            raise ValidationError({"place": [_("请选择社区、网格、楼栋或住户")]})
        if place.pk == need.place_id:
            raise ValidationError({"place": [_("已在该地点")]})
        old = need.place
        need.place, need.place_path = place, place.path
        need.grid = triage.locate_grid(place=place)
        need.district = ancestor(place, PlaceKind.DISTRICT)
        need.save(update_fields=["place", "place_path", "grid", "district"])
        _event(
            need,
            EventKind.TRANSFERRED,
            actor=actor,
            at=now,
            from_status=need.status,
            note=note,
            data={"from": old.code, "to": place.code},
        )
        _notify(need, "transferred", place=place.code)
    return need


def need_merge(*, actor: Any, duplicate: Need | int, into: Need | int, now: dt.datetime | None = None) -> Need:
    """Merge a duplicate into another open need of the same community: its reporters join
    (热度 goes up), each of them follows and rates the surviving need."""
    now = _now(now)
    dup_pk = duplicate.pk if isinstance(duplicate, Need) else duplicate
    into_pk = into.pk if isinstance(into, Need) else into
    if dup_pk == into_pk:
        raise ValidationError({"into": [_("不能与自身合并")]})
    with transaction.atomic():
        # lock both rows in a fixed order so that two crossing merges cannot deadlock
        first, second = sorted([dup_pk, into_pk])
        locked = {
            n.pk: n
            for n in Need.objects.select_for_update(of=("self",))
            .select_related("place")
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise ValidationError(_("诉求不存在"))
        dup, target = locked[dup_pk], locked[into_pk]
        require(actor, NeedCap.HANDLE_NEEDS, dup.place)
        require(actor, NeedCap.HANDLE_NEEDS, target.place)
        # a duplicate is merged before it is accepted (at triage), so that it counts once in
        # the rates: received and responded are both the surviving need's
        _expect(dup, [Status.SUBMITTED], _("只能合并尚未受理的诉求"))
        _expect(target, OPEN_STATUSES, _("只能合并到在办的诉求"))
        if dup.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
            raise Conflict(_("该诉求已吹哨，不能合并"))
        if _community_path(dup.place_path) != _community_path(target.place_path):
            raise ValidationError({"into": [_("只能合并同一社区的诉求")]})
        existing_people = set(target.reporters.exclude(person=None).values_list("person_id", flat=True))
        existing_users = set(target.reporters.exclude(user=None).values_list("user_id", flat=True))
        moved = 0
        for rep in dup.reporters.all():
            if (rep.person_id and rep.person_id in existing_people) or (rep.user_id and rep.user_id in existing_users):
                continue
            NeedReporter.objects.create(
                need=target,
                person_id=rep.person_id,
                user_id=rep.user_id,
                name=rep.name,
                phone=rep.phone,
                joined_at=now,
                original_need_id=dup.pk,
            )
            moved += 1
        target.heat = target.reporters.count()
        target.save(update_fields=["heat"])
        before = dup.status
        dup.status, dup.merged_into = Status.MERGED, target
        dup.save(update_fields=["status", "merged_into"])
        _event(dup, EventKind.MERGED, actor=actor, at=now, from_status=before, data={"into": target.pk})
        _event(
            target,
            EventKind.JOINED,
            actor=actor,
            at=now,
            from_status=target.status,
            data={"from": dup.pk, "reporters": moved},
        )
    return target


# --- follow-up and rating ------------------------------------------------------------------------


def _departments_of(need: Need) -> list[int]:
    return sorted(set(need.dispatches.filter(status=DispatchStatus.RESOLVED).values_list("department_id", flat=True)))


def need_rate(
    *,
    actor: Any,
    need: Need | int,
    reporter: NeedReporter | int | None = None,
    resolved: bool,
    satisfaction: str,
    comment: str = "",
    channel: str = RatingChannel.APP,
    now: dt.datetime | None = None,
) -> Rating:
    """A reporter rates a resolved need (回访). A reporter rates for themselves (``reporter``
    found from the actor); staff with the handling capability record a phone follow-up for
    any reporter (``channel='phone'``); a rating link carries its reporter (``actor=SYSTEM``).

    When every reporter has answered: an unsatisfied answer reopens the need once, and after
    that escalates it one level up (to the street first); otherwise the need is closed.
    """
    now = _now(now)
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": [_("请选择满意程度")]})
    if channel not in RatingChannel.values or channel == RatingChannel.DEFAULT:
        raise ValidationError({"channel": [_("未知的回访方式")]})
    with transaction.atomic():
        need = _locked(need)
        rep = _reporter_for(actor, need, reporter, channel)
        _expect(need, [Status.RESOLVED], _("该诉求尚未办结，暂不能评价"))
        round_ = need.reopen_count + 1
        if Rating.objects.filter(need=need, reporter=rep, round=round_).exists():
            raise Conflict(_("您已评价过"))
        rating = Rating.objects.create(
            need=need,
            reporter=rep,
            round=round_,
            resolved=bool(resolved),
            satisfaction=satisfaction,
            comment=(comment or "")[:1000],
            channel=channel,
            recorded_by=user_of(actor) if channel == RatingChannel.PHONE else None,
            at=now,
        )
        _event(
            need,
            EventKind.RATED,
            actor=actor,
            at=now,
            from_status=need.status,
            note=rating.comment,
            data={
                "resolved": rating.resolved,
                "satisfaction": satisfaction,
                "departments": _departments_of(need),
                "channel": channel,
                "round": round_,
            },
        )
        answers = list(Rating.objects.filter(need=need, round=round_).values_list("satisfaction", flat=True))
        if len(answers) >= need.reporters.count():
            if Satisfaction.UNSATISFIED in answers:
                _reopen(need, actor=actor, now=now)
            else:
                _close(need, actor=actor, now=now, data={"round": round_})
    return rating


def _reporter_for(actor: Any, need: Need, reporter: NeedReporter | int | None, channel: str) -> NeedReporter:
    if reporter is not None:
        pk = reporter.pk if isinstance(reporter, NeedReporter) else reporter
        rep = need.reporters.filter(pk=pk).first()
        if rep is None:
            raise ValidationError({"reporter": [_("不是该诉求的反映人")]})
        if not is_system(actor) and rep.user_id != getattr(actor, "pk", None):
            if channel != RatingChannel.PHONE:
                raise PermissionDenied(_("只能评价自己反映的诉求"))
            require(actor, NeedCap.HANDLE_NEEDS, need.place)
        return rep
    if is_system(actor):
        raise ValidationError({"reporter": [_("缺少反映人")]})
    rep = need.reporters.filter(user=actor).first()
    if rep is None and getattr(actor, "person", None) is not None:
        rep = need.reporters.filter(person=actor.person).first()
    if rep is None:
        raise PermissionDenied(_("只能评价自己反映的诉求"))
    return rep


def _reopen(need: Need, *, actor: Any, now: dt.datetime) -> None:
    before = need.status
    city = _city_of(need.place)
    if need.reopen_count == 0:
        need.reopen_count = 1
        need.status = Status.ACCEPTED
        need.resolution_due = _due(now, _limits(need.category, need.urgency)["resolution"], city)
        need.save(update_fields=["status", "reopen_count", "resolution_due"])
        _event(need, EventKind.REOPENED, actor=actor, at=now, from_status=before)
        _notify(need, "reopened")
        return
    higher = NEXT_LEVEL.get(need.level) or None
    if higher is None:
        # nowhere higher to go: closed as unsatisfied, the rating stands in the rates
        _close(need, actor=actor, now=now, data={"unsatisfied": True})
        return
    need.reopen_count += 1
    need.status = Status.ACCEPTED
    need.level = max(higher, Level.STREET, key=_level_rank)
    need.resolution_due = _due(now, ESCALATION_LIMIT, city)
    need.save(update_fields=["status", "reopen_count", "level", "resolution_due"])
    _event(
        need,
        EventKind.ESCALATED,
        actor=actor,
        at=now,
        from_status=before,
        data={"to": need.level, "why": "unsatisfied"},
    )
    _notify(need, "escalated")


def _level_rank(level: str) -> int:
    return [Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT].index(Level(level))


def _close(need: Need, *, actor: Any, now: dt.datetime, data: dict[str, Any]) -> None:
    before = need.status
    need.status, need.closed_at = Status.CLOSED, now
    need.save(update_fields=["status", "closed_at"])
    _event(need, EventKind.CLOSED, actor=actor, at=now, from_status=before, data=data)


def needs_close_unrated(*, now: dt.datetime | None = None, days: int = UNRATED_CLOSE_DAYS) -> int:
    """Close resolved needs whose reporters did not all answer within ``days`` of resolution.
    The answers given count; the missing ones do not enter the rates (docs/rates.md)."""
    now = _now(now)
    cutoff = now - dt.timedelta(days=days)
    closed = 0
    for pk in Need.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            need = _locked(pk)
            if need.status != Status.RESOLVED:
                continue
            round_ = need.reopen_count + 1
            answers = list(Rating.objects.filter(need=need, round=round_).values_list("satisfaction", flat=True))
            if Satisfaction.UNSATISFIED in answers:
                _reopen(need, actor=SYSTEM, now=now)
            else:
                _close(
                    need,
                    actor=SYSTEM,
                    now=now,
                    data={"unrated": need.reporters.count() - len(answers), "round": round_},
                )
            closed += 1
    return closed


def need_escalate(*, need: Need | int, why: str, now: dt.datetime | None = None, actor: Any = SYSTEM) -> Need:
    """Move the need one level up (grid → community → street → district) with a fresh
    resolution deadline. Used by the deadline sweep; the caller holds the transaction."""
    now = _now(now)
    need = _locked(need)
    higher = NEXT_LEVEL.get(need.level)
    if higher is None:
        return need
    before = need.status
    need.level = higher
    # the next level gets at least ESCALATION_LIMIT, never less than the need already had
    fresh = _due(now, ESCALATION_LIMIT, _city_of(need.place))
    need.resolution_due = max(fresh, need.resolution_due) if need.resolution_due else fresh
    need.save(update_fields=["level", "resolution_due"])
    _event(need, EventKind.ESCALATED, actor=actor, at=now, from_status=before, data={"to": higher, "why": why})
    _notify(need, "escalated")
    return need
