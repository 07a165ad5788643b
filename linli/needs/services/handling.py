"""The grid or community handles a need: accepts it, confirms its category, changes its
urgency, whistles it to departments (吹哨), resolves it itself, transfers it to another place or
merges a duplicate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, user_of
from linli.core.errors import Conflict
from linli.needs.models import (
    ACTIVE_DISPATCH,
    Dispatch,
    DispatchStatus,
    EventKind,
    Need,
    NeedReporter,
    Status,
    Urgency,
)
from linli.needs.photos import PhotoUpload, photos_attach
from linli.needs.services.common import (
    _check_result,
    _city_of,
    _due,
    _limits,
    _now,
    category_for,
    lock_need,
    notify_need,
    record_need_event,
)
from linli.needs.workflow import AUTOMATIC, MERGE_TARGET, NEED, expect, take
from linli.people.models import Department
from linli.places.models import Place, PlaceKind, ancestor_path
from linli.places.selectors import ancestor

# --- handling by the grid or community ------------------------------------------------------


def need_accept(*, actor: Actor, need: Need | int, now: dt.datetime | None = None) -> Need:
    """Accept (受理) a submitted need: the response. Two staff accepting at once: one wins,
    the other gets ``Conflict``."""
    now = _now(now)
    with transaction.atomic():
        need = lock_need(need)
        take(actor, need, NEED["accept"])
        _accept(need, actor=actor, now=now)
    return need


def _accept(need: Need, *, actor: Actor, now: dt.datetime) -> None:
    before = need.status
    first = need.accepted_at is None
    need.status = Status.ACCEPTED
    if first:
        need.accepted_at = now
    need.save(update_fields=["status", "accepted_at"])
    on_time = bool(need.response_due is None or now <= need.response_due)
    record_need_event(
        need, EventKind.ACCEPTED, actor=actor, at=now, from_status=before, data={"first": first, "on_time": on_time}
    )
    notify_need(need, "accepted")


def need_categorise(*, actor: Actor, need: Need | int, category_code: str, now: dt.datetime | None = None) -> Need:
    """Confirm or correct the category (it trains the next classifier version)."""
    now = _now(now)
    with transaction.atomic():
        need = lock_need(need)
        take(actor, need, NEED["categorise"])
        category = category_for(category_code, city=_city_of(need.place))
        before = need.category.code if need.category else ""
        need.category, need.category_confirmed = category, True
        need.save(update_fields=["category", "category_confirmed"])
        record_need_event(
            need,
            EventKind.CATEGORISED,
            actor=actor,
            at=now,
            from_status=need.status,
            data={"from": before, "to": category.code},
        )
    return need


def need_set_urgency(*, actor: Actor, need: Need | int, urgency: str, now: dt.datetime | None = None) -> Need:
    """Change how urgent an open need is (一般, 紧急, 特急) and recompute its running deadlines
    from the catalogue's limits for the new urgency (``common._limits``): each from when its
    clock started (the need came in, or was last reopened or escalated; a department was
    whistled), or from now when that is already past. The timeline says from what to what,
    and the new deadlines."""
    now = _now(now)
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": [_("未知的紧急程度")]})
    with transaction.atomic():
        need = lock_need(need)
        take(actor, need, NEED["urgency"])
        if urgency == need.urgency:
            raise ValidationError({"urgency": [_("紧急程度没有变化")]})
        before = need.urgency
        need.urgency = urgency
        city = _city_of(need.place)
        limits = _limits(need.category, urgency)

        def rerun(start: dt.datetime, kind: str) -> dt.datetime:
            due = _due(start, limits[kind], city)
            return due if due > now else _due(now, limits[kind], city)

        if need.status == Status.SUBMITTED:
            need.response_due = rerun(need.created_at, "response")
        restarted = (
            need.events.filter(kind__in=[EventKind.REOPENED, EventKind.ESCALATED])
            .order_by("-at")
            .values_list("at", flat=True)
            .first()
        )
        resolution = rerun(restarted or need.created_at, "resolution")
        for dispatch in need.dispatches.filter(status__in=ACTIVE_DISPATCH):
            if dispatch.status == DispatchStatus.WHISTLED:
                dispatch.checkin_due = rerun(dispatch.whistled_at, "checkin")
            dispatch.resolution_due = rerun(dispatch.whistled_at, "resolution")
            dispatch.save(update_fields=["checkin_due", "resolution_due"])
            resolution = max(resolution, dispatch.resolution_due)
        need.resolution_due = resolution
        need.save(update_fields=["urgency", "response_due", "resolution_due"])
        record_need_event(
            need,
            EventKind.URGENCY,
            actor=actor,
            at=now,
            from_status=need.status,
            data={
                "from": before,
                "to": urgency,
                "response_due": need.response_due.isoformat()
                if need.status == Status.SUBMITTED and need.response_due
                else None,
                "resolution_due": resolution.isoformat(),
            },
        )
    return need


def department_in_reach(department: Department, need: Need) -> bool:
    """A department answers whistles from inside the area it serves."""
    return need.place_path.startswith(department.place.path)


def need_whistle(
    *, actor: Actor, need: Need | int, departments: Sequence[Department], note: str = "", now: dt.datetime | None = None
) -> list[Dispatch]:
    """Whistle 吹哨 the need to one or more departments. The first department whistled (ever,
    among those not returned) leads 首接负责. Each gets a check-in and a resolution deadline
    from the category's limits. A submitted need is accepted by the same act."""
    now = _now(now)
    if not departments:
        raise ValidationError({"departments": [_("请选择至少一个部门")]})
    with transaction.atomic():
        need = lock_need(need)
        take(actor, need, NEED["whistle"])
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
            record_need_event(
                need,
                EventKind.WHISTLED,
                actor=actor,
                at=now,
                from_status=before,
                department=dispatch.department,
                note=note,
                data={"lead": dispatch.is_lead, "dispatch": dispatch.pk},
            )
            notify_need(need, "whistled", dispatch=dispatch.pk)
    return created


def need_resolve(
    *,
    actor: Actor,
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
        need = lock_need(need)
        take(actor, need, NEED["resolve"])
        if need.status == Status.SUBMITTED:
            _accept(need, actor=actor, now=now)
        if photos:
            photos_attach(need=need, uploads=photos, actor=actor, stage="result")
        _finish(need, actor=actor, now=now, result=result)
    return need


def _finish(need: Need, *, actor: Actor, now: dt.datetime, result: str) -> None:
    expect(need, AUTOMATIC["finish"])
    before = need.status
    need.status, need.resolved_at, need.result = Status.RESOLVED, now, result[:4000]
    need.save(update_fields=["status", "resolved_at", "result"])
    on_time = need.resolution_due is None or now <= need.resolution_due
    record_need_event(
        need, EventKind.RESOLVED, actor=actor, at=now, from_status=before, note=result, data={"on_time": on_time}
    )
    notify_need(need, "resolved")


# --- transfer and merge ------------------------------------------------------------------------


def need_transfer(
    *, actor: Actor, need: Need | int, place: Place, note: str = "", now: dt.datetime | None = None
) -> Need:
    """Transfer 转办 the need to another place (another grid or community): the actor must be
    able to handle needs at both."""
    from linli.needs import triage

    now = _now(now)
    with transaction.atomic():
        need = lock_need(need)
        take(actor, need, NEED["transfer"])
        require(actor, NEED["transfer"].capability, place)  # and at the place it goes to
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
        need.place = place  # its place_path follows (PlaceScoped.save)
        need.grid = triage.locate_grid(place=place)
        need.district = ancestor(place, PlaceKind.DISTRICT)
        need.save(update_fields=["place", "place_path", "grid", "district"])
        record_need_event(
            need,
            EventKind.TRANSFERRED,
            actor=actor,
            at=now,
            from_status=need.status,
            note=note,
            data={"from": old.code, "to": place.code},
        )
        notify_need(need, "transferred", place=place.code)
    return need


def need_merge(*, actor: Actor, duplicate: Need | int, into: Need | int, now: dt.datetime | None = None) -> Need:
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
        locked: dict[int, Need] = {
            n.pk: n
            for n in Need.objects.select_for_update(of=("self",))
            .select_related("place")
            .filter(pk__in=[first, second])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise ValidationError(_("诉求不存在"))
        dup, target = locked[dup_pk], locked[into_pk]
        require(actor, NEED["merge"].capability, dup.place)
        require(actor, MERGE_TARGET.capability, target.place)
        # a duplicate is merged before it is accepted (at triage), so that it counts once in
        # the rates: received and responded are both the surviving need's
        expect(dup, NEED["merge"])
        expect(target, MERGE_TARGET)
        if dup.dispatches.filter(status__in=ACTIVE_DISPATCH).exists():
            raise Conflict(_("该诉求已吹哨，不能合并"))
        if ancestor_path(dup.place_path, PlaceKind.COMMUNITY) != ancestor_path(target.place_path, PlaceKind.COMMUNITY):
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
        record_need_event(dup, EventKind.MERGED, actor=actor, at=now, from_status=before, data={"into": target.pk})
        record_need_event(
            target,
            EventKind.JOINED,
            actor=actor,
            at=now,
            from_status=target.status,
            data={"from": dup.pk, "reporters": moved},
        )
    return target
