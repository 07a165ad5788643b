"""Writes of the visits app: care assignments, visit policies, visits, night rounds, opinions.

Each service is one transaction, checks the actor's permission, and takes ``now=`` so that the
demo and tests can write history with a simulated clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM, Actor, require, scope_for, user_of
from linli.core.audit import audit_record
from linli.core.models import AuditEntry
from linli.core.photos import PhotoUpload, clean_photo
from linli.needs.models import Channel, Urgency
from linli.people.capabilities import PeopleCap
from linli.people.models import Household, HouseholdMember, Membership, Person
from linli.places.models import Place, PlaceKind, path_len
from linli.places.selectors import community_of
from linli.visits.capabilities import CARER_ROLES, VisitCap
from linli.visits.models import (
    DEFAULT_POLICIES,
    POLICY_TARGETS,
    CareAssignment,
    HouseholdCare,
    NightRound,
    Opinion,
    OpinionStatus,
    Visit,
    VisitKind,
    VisitPolicy,
    VisitTag,
)
from linli.visits.selectors import coverage_rows

#: Roles that may be a household's carer (包保人).
#: A visit may be logged up to this long after it happened (a phone that was offline for days).
MAX_BACKDATE = dt.timedelta(days=60)
#: Clock skew tolerated between a phone and the server.
FUTURE_SKEW = dt.timedelta(minutes=5)
#: The same visitor logging the same kind of visit to the same household within this window is
#: a duplicate (a double tap, or the same visit typed twice).
DUPLICATE_WINDOW = dt.timedelta(minutes=30)
MAX_TEXT = 2000
GRID_PATH_LEN = path_len(PlaceKind.GRID)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _user(actor: Actor) -> Any:
    return user_of(actor)


def _check_text(value: str, field: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError({field: [_("最多%(limit)s个字") % {"limit": limit}]})
    return value


# --- care assignments (包保) ---------------------------------------------------------------------


def carer_memberships(place: Place) -> Q:
    """Active carer roles that reach ``place``: held at its grid (at the place itself when it lies
    above grid level), at a place inside that, or at a place above it."""
    path = place.path[:GRID_PATH_LEN]
    above = [path[:n] for n in range(Place.steplen, len(path), Place.steplen)]
    return Q(role__in=CARER_ROLES, ended_at__isnull=True) & (Q(place__path__startswith=path) | Q(place__path__in=above))


def is_carer_for(person: Person, household: Household) -> bool:
    """Whether ``person`` may be ``household``'s carer: they hold a carer role at the household's
    grid, a place inside it, or a place above it."""
    return Membership.objects.filter(carer_memberships(household.place), person=person).exists()


def care_assign(
    *, actor: Actor, household: Household, carer: Person, now: dt.datetime | None = None, reason: str = ""
) -> CareAssignment:
    """Make ``carer`` responsible for ``household``, ending its current carer's assignment (kept
    as history). Assigning the current carer again changes nothing."""
    now = _now(now)
    require(actor, VisitCap.MANAGE_CARE, household.place)
    if not is_carer_for(carer, household):
        raise ValidationError({"carer": [_("%(name)s不是该网格的党员中心户或楼栋长") % {"name": carer.name}]})
    reason = _check_text(reason, "reason", 200)
    with transaction.atomic():
        current = CareAssignment.objects.select_for_update().filter(household=household, ended_at__isnull=True).first()
        if current is not None and current.carer_id == carer.pk:
            return current
        if current is not None:
            _end(current, actor=actor, now=now, reason=reason or _("改派"))
        assignment = CareAssignment.objects.create(
            household=household,
            carer=carer,
            started_at=now,
            assigned_by=_user(actor),
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            target=assignment,
            place=household.place,
            reason=reason,
            changes={"carer": carer.pk, "previous": current.carer_id if current else None},
        )
    return assignment


def _end(assignment: CareAssignment, *, actor: Actor, now: dt.datetime, reason: str) -> None:
    assignment.ended_at = max(now, assignment.started_at)
    assignment.end_reason = reason[:200]
    assignment.ended_by = _user(actor)
    assignment.save(update_fields=["ended_at", "end_reason", "ended_by"])


def care_end(
    *, actor: Actor, assignment: CareAssignment, reason: str, now: dt.datetime | None = None
) -> CareAssignment:
    """End an assignment without a successor (the household then has no carer)."""
    now = _now(now)
    household = Household.objects.select_related("place").get(pk=assignment.household_id)
    require(actor, VisitCap.MANAGE_CARE, household.place)
    reason = _check_text(reason, "reason", 200)
    with transaction.atomic():
        locked = CareAssignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.ended_at is not None:
            return locked
        _end(locked, actor=actor, now=now, reason=reason)
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, target=locked, place=household.place, reason=reason)
    return locked


def carer_handover(
    *, actor: Actor, carer: Person, to: Person | None, reason: str, now: dt.datetime | None = None
) -> int:
    """A carer leaves: end all their assignments and, with ``to``, hand the households over to
    another carer. All or nothing: if any of the households lies outside what the actor may
    manage, nothing moves (``PermissionDenied``). Returns how many households moved."""
    now = _now(now)
    with transaction.atomic():
        rows = list(
            CareAssignment.objects.select_for_update(of=("self",)).held_by(carer.pk).select_related("household__place")
        )
        for row in rows:
            if to is None:
                care_end(actor=actor, assignment=row, reason=reason, now=now)
            else:
                care_assign(actor=actor, household=row.household, carer=to, now=now, reason=reason)
    return len(rows)


# --- policies -----------------------------------------------------------------------------------


def policy_set(
    *,
    actor: Actor,
    community: Place,
    target: str,
    interval_days: int,
    night_only: bool = False,
    active: bool = True,
) -> VisitPolicy:
    """Create or change a community's visit policy for one kind of household. The first change
    copies the defaults in, so that the community keeps following the rest of them."""
    if community.kind not in (PlaceKind.COMMUNITY, PlaceKind.VILLAGE):
        raise ValidationError({"community": [_("走访频次按社区设置")]})
    require(actor, VisitCap.MANAGE_VISIT_POLICY, community)
    if target not in dict(POLICY_TARGETS):
        raise ValidationError({"target": [_("未知的住户类别")]})
    try:
        days = int(interval_days)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"interval_days": [_("请输入天数")]}) from exc
    if not 1 <= days <= 366:
        raise ValidationError({"interval_days": [_("间隔须在1到366天之间")]})
    with transaction.atomic():
        Place.objects.select_for_update().filter(pk=community.pk).first()
        if not VisitPolicy.objects.filter(community=community).exists():
            VisitPolicy.objects.bulk_create(
                [
                    VisitPolicy(community=community, target=t, interval_days=d, night_only=n, updated_by=_user(actor))
                    for t, d, n in DEFAULT_POLICIES
                ]
            )
        policy, _unused = VisitPolicy.objects.update_or_create(
            community=community,
            target=target,
            defaults={
                "interval_days": days,
                "night_only": bool(night_only),
                "active": bool(active),
                "updated_by": _user(actor),
            },
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            target=policy,
            place=community,
            changes={"target": target, "interval_days": days, "night_only": bool(night_only), "active": bool(active)},
        )
    return policy


def policies_of(community: Place) -> list[tuple[str, int, bool]]:
    """The policies a community follows: its own active ones, or the defaults if it has none."""
    rows = list(
        VisitPolicy.objects.filter(community=community).values_list("target", "interval_days", "night_only", "active")
    )
    if not rows:
        return list(DEFAULT_POLICIES)
    return [(t, d, n) for t, d, n, a in rows if a]


def household_care_set(*, actor: Actor, household: Household, out_by_day: bool) -> HouseholdCare:
    """Mark a household as out by day (it then needs night visits) or not."""
    require(actor, VisitCap.MANAGE_CARE, household.place)
    with transaction.atomic():
        care, _unused = HouseholdCare.objects.select_for_update().get_or_create(household=household)
        if care.out_by_day != bool(out_by_day):
            care.out_by_day = bool(out_by_day)
            care.save(update_fields=["out_by_day"])
            audit_record(
                actor=actor,
                action=AuditEntry.Action.UPDATE,
                target=household,
                place=household.place,
                field="out_by_day",
                changes={"out_by_day": care.out_by_day},
            )
    return care


# --- visits -------------------------------------------------------------------------------------


@dataclass
class RaiseNeed:
    """A need raised from the doorstep, in the same screen as the visit."""

    text: str
    category_code: str | None = None
    urgent: bool = False


def may_log_visit(actor: Actor, household: Household) -> bool:
    """Staff of the place may log a visit to any household there; a carer only to the
    households assigned to them."""
    scope = scope_for(actor)
    path = household.place.path
    if scope.everything or scope.allows(VisitCap.VIEW_VISITS, path):
        return True
    if not scope.allows(VisitCap.LOG_VISITS, path) or scope.person_id is None:
        return False
    return CareAssignment.objects.held_by(scope.person_id).filter(household=household).exists()


def _check_visited_at(visited_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    if timezone.is_naive(visited_at):
        raise ValidationError({"visited_at": [_("走访时间须带时区")]})
    if visited_at > now + FUTURE_SKEW:
        raise ValidationError({"visited_at": [_("走访时间不能晚于现在")]})
    if visited_at < now - MAX_BACKDATE:
        raise ValidationError({"visited_at": [_("只能补登%(days)s天内的走访") % {"days": MAX_BACKDATE.days}]})
    return visited_at


def visit_log(
    *,
    actor: Actor,
    household: Household,
    kind: str,
    visited_at: dt.datetime | None = None,
    met_person: Person | None = None,
    met_other: str = "",
    heard: str = "",
    tags: Sequence[str] = (),
    policy_topic: str = "",
    needs_help: bool = False,
    not_at_home: bool = False,
    refused: bool = False,
    photo: PhotoUpload | None = None,
    raise_need: RaiseNeed | None = None,
    client_key: str = "",
    now: dt.datetime | None = None,
) -> Visit:
    """Log a visit to a household; with ``raise_need``, raise a need (channel = visit) through
    the needs services in the same transaction.

    ``client_key`` is the phone's idempotency key: sending the same visit again returns the
    visit already logged (``visit.replayed`` is then true) instead of a second one. A visit in the
    future, older than 60 days, or a second one of the same kind by the same visitor within 30
    minutes is refused.
    """
    from linli.needs.services import Reporter, need_create

    now = _now(now)
    visited_at = _check_visited_at(visited_at or now, now)
    client_key = (client_key or "").strip()
    if len(client_key) > 64:
        raise ValidationError({"client_key": [_("最长64个字符")]})
    user = _user(actor)
    if client_key and user is not None:
        existing = Visit.objects.filter(recorded_by=user, client_key=client_key).first()
        if existing is not None:
            existing.replayed = True  # type: ignore[attr-defined]
            return existing
    visitor = getattr(user, "person", None) if user else None
    if visitor is None:
        raise PermissionDenied(_("只有登记在册的人员可以登记走访"))
    if not may_log_visit(actor, household):
        raise PermissionDenied(_("该住户不在您的包保范围内，不能登记走访"))
    if kind not in VisitKind.values:
        raise ValidationError({"kind": [_("未知的走访类型")]})
    if not_at_home and refused:
        raise ValidationError({"refused": [_("不在家与拒绝走访只能选一项")]})
    bad_tags = [t for t in tags if t not in VisitTag.values]
    if bad_tags:
        raise ValidationError({"tags": [_("未知的标记")]})
    heard = _check_text(heard, "heard")
    met_other = _check_text(met_other, "met_other", 60)
    policy_topic = _check_text(policy_topic, "policy_topic", 120)
    if VisitTag.OPINION_HEARD in tags and not heard:
        raise ValidationError({"heard": [_("反映心声时请写下听到的内容")]})
    if met_person is not None and not HouseholdMember.objects.filter(household=household, person=met_person).exists():
        raise ValidationError({"met_person": [_("此人不是该户成员")]})
    if not_at_home and (met_person is not None or met_other):
        raise ValidationError({"met_person": [_("不在家时不能填写见到的人")]})
    cleaned_photo = clean_photo(photo) if photo is not None else None
    with transaction.atomic():
        care, _unused = HouseholdCare.objects.select_for_update().get_or_create(household=household)
        if client_key:
            existing = Visit.objects.filter(recorded_by=user, client_key=client_key).first()
            if existing is not None:
                existing.replayed = True  # type: ignore[attr-defined]
                return existing
        if Visit.objects.filter(
            household=household,
            visitor=visitor,
            kind=kind,
            # a knock on a closed door does not make coming back and meeting the family a duplicate
            not_at_home=bool(not_at_home),
            visited_at__gt=visited_at - DUPLICATE_WINDOW,
            visited_at__lt=visited_at + DUPLICATE_WINDOW,
        ).exists():
            raise ValidationError({"visited_at": [_("30分钟内已登记过同一类走访，请勿重复登记")]})
        need = None
        if raise_need is not None and raise_need.text.strip():
            reporter_person = met_person or _head_of(household)
            need = need_create(
                actor=actor,
                text=raise_need.text,
                place=household.place,
                category_code=raise_need.category_code or None,
                channel=Channel.VISIT,
                urgency=Urgency.URGENT if (raise_need.urgent or needs_help) else Urgency.NORMAL,
                reporter=Reporter(person=reporter_person) if reporter_person else None,
                now=now,
            )
        visit = Visit(
            household=household,
            visitor=visitor,
            recorded_by=user,
            kind=kind,
            visited_at=visited_at,
            recorded_at=now,
            met_person=met_person,
            met_other=met_other,
            heard=heard,
            tags=list(dict.fromkeys(tags)),
            policy_topic=policy_topic,
            needs_help=bool(needs_help),
            not_at_home=bool(not_at_home),
            refused=bool(refused),
            need=need,
            night_round=_round_for(household, visited_at) if kind == VisitKind.NIGHT else None,
            client_key=client_key,
        )
        if cleaned_photo is not None:
            data, ext, _w, _h = cleaned_photo
            visit.photo.save(f"visit-{household.pk}.{ext}", ContentFile(data), save=False)
        visit.save()
        if visit.counts:
            fields = []
            if care.last_visit_at is None or visited_at > care.last_visit_at:
                care.last_visit_at = visited_at
                fields.append("last_visit_at")
            if kind == VisitKind.NIGHT and (care.last_night_visit_at is None or visited_at > care.last_night_visit_at):
                care.last_night_visit_at = visited_at
                fields.append("last_night_visit_at")
            if fields:
                care.save(update_fields=fields)
        if VisitTag.OPINION_HEARD in visit.tags:
            community = community_of(household.place)
            Opinion.objects.create(visit=visit, community=community, text=heard)
        # who recorded what about which household (never what was heard: the trail is read
        # by the community's secretaries, the notes by those who may see the household)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            target=visit,
            place=household.place,
            changes={
                "kind": kind,
                "tags": visit.tags,
                "met_person": met_person.pk if met_person else None,
                "need": need.pk if need else None,
                "photo": cleaned_photo is not None,
            },
        )
    visit.replayed = False  # type: ignore[attr-defined]
    return visit


def _head_of(household: Household) -> Person | None:
    link = HouseholdMember.objects.filter(household=household, relation="head").select_related("person").first()
    return link.person if link else None


def _round_for(household: Household, at: dt.datetime) -> NightRound | None:
    return (
        NightRound.objects.filter(households=household, starts_at__lte=at, ends_at__gte=at)
        .order_by("starts_at")
        .first()
    )


def visits_refresh_care(households: Iterable[int] | None = None) -> int:
    """Recompute ``HouseholdCare.last_visit_at`` / ``last_night_visit_at`` from the visits
    (after a bulk load, or to check the kept values). Returns the rows written."""
    from django.db import connection

    where = ""
    params: list[Any] = []
    if households is not None:
        ids = list(households)
        where = "WHERE v.household_id = ANY(%s)"
        params.append(ids)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO visits_householdcare (household_id, out_by_day, last_visit_at, last_night_visit_at)
            SELECT v.household_id, false,
                   max(v.visited_at) FILTER (WHERE NOT v.not_at_home),
                   max(v.visited_at) FILTER (WHERE NOT v.not_at_home AND v.kind = 'night')
              FROM visits_visit v {where}
             GROUP BY v.household_id
            ON CONFLICT (household_id) DO UPDATE
               SET last_visit_at = EXCLUDED.last_visit_at,
                   last_night_visit_at = EXCLUDED.last_night_visit_at
            """,  # noqa: S608
            params,
        )
        changed: int = cur.rowcount
        return changed


# --- night rounds (夜访) ---------------------------------------------------------------------------


def night_round_create(
    *,
    actor: Actor,
    place: Place,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    members: Sequence[Person],
    households: Sequence[Household] | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> NightRound:
    """Schedule a night round for a grid, building or courtyard. Without ``households``, it plans
    the out-by-day households of the place that are due or overdue for a night visit,
    vulnerable ones first."""
    now = _now(now)
    if place.kind not in (PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD, PlaceKind.COMMUNITY):
        raise ValidationError({"place": [_("请选择社区、网格、楼栋或院落")]})
    require(actor, VisitCap.MANAGE_CARE, place)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("结束时间须晚于开始时间")]})
    if ends_at - starts_at > dt.timedelta(hours=12):
        raise ValidationError({"ends_at": [_("一次夜访最长12小时")]})
    if not members:
        raise ValidationError({"members": [_("请选择夜访小组成员")]})
    note = _check_text(note, "note", 200)
    scope = scope_for(actor)
    outside = [m.name for m in members if not scope.allows(PeopleCap.VIEW_PEOPLE, m.place.path)]
    if outside:
        raise ValidationError(
            {"members": [_("%(outside)s不在您的管辖范围内") % {"outside": gettext("、").join(outside)}]}
        )
    if households is None:
        rows = coverage_rows(actor=SYSTEM, place=place, now=starts_at, night_only=True)
        planned_ids = [r.household_id for r in rows if r.status in ("never", "overdue", "due_soon")]
    else:
        bad = [h for h in households if not h.place.path.startswith(place.path)]
        if bad:
            raise ValidationError({"households": [_("所选住户不在该地点")]})
        planned_ids = [h.pk for h in households]
    with transaction.atomic():
        night = NightRound.objects.create(
            place=place,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            created_by=_user(actor),
        )
        night.members.set(members)
        night.households.set(planned_ids)
    return night


# --- opinions heard (向上报告居民心声) -------------------------------------------------------------


def opinion_decide(*, actor: Actor, opinion: Opinion, status: str, note: str = "") -> Opinion:
    """The secretary marks an opinion heard as a meeting topic, or as answered."""
    if status not in OpinionStatus.values:
        raise ValidationError({"status": [_("未知的状态")]})
    community = Place.objects.get(pk=opinion.community_id)
    require(actor, VisitCap.MANAGE_VISIT_POLICY, community)
    note = _check_text(note, "status_note", 200)
    with transaction.atomic():
        locked = Opinion.objects.select_for_update().get(pk=opinion.pk)
        locked.status, locked.status_note, locked.decided_by = status, note, _user(actor)
        locked.save(update_fields=["status", "status_note", "decided_by", "updated_at"])
    return locked


def carers_of(place: Place) -> list[Person]:
    """People who may be carers at a place, by the rule of ``is_carer_for``."""
    return list(
        Person.objects.filter(memberships__in=Membership.objects.filter(carer_memberships(place)))
        .distinct()
        .order_by("name", "id")
    )
