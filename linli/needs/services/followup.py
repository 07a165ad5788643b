"""After resolution: the reporters rate it (回访), an unsatisfied rating reopens it, an unrated
one closes after a week, and an overdue one escalates to the next level."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM, Actor, account_id, is_system, require, user_of
from linli.core.errors import Conflict
from linli.needs.models import (
    NEXT_LEVEL,
    DispatchStatus,
    EventKind,
    Level,
    Need,
    NeedReporter,
    Rating,
    RatingChannel,
    Satisfaction,
    Status,
)
from linli.needs.services.common import (
    ESCALATION_LIMIT,
    UNRATED_CLOSE_DAYS,
    _city_of,
    _due,
    _limits,
    _now,
    lock_need,
    notify_need,
    record_need_event,
)
from linli.needs.workflow import AUTOMATIC, NEED, expect

# --- follow-up and rating ------------------------------------------------------------------------


def _departments_of(need: Need) -> list[int]:
    return sorted(set(need.dispatches.filter(status=DispatchStatus.RESOLVED).values_list("department_id", flat=True)))


def need_rate(
    *,
    actor: Actor,
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
        need = lock_need(need)
        rep = _reporter_for(actor, need, reporter, channel)
        expect(need, NEED["phone-rate" if channel == RatingChannel.PHONE else "rate"])
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
        record_need_event(
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
                "reporter": rep.pk,  # who answered, also when the system records it (an SMS link)
            },
        )
        answers = list(Rating.objects.filter(need=need, round=round_).values_list("satisfaction", flat=True))
        if len(answers) >= need.reporters.count():
            if Satisfaction.UNSATISFIED in answers:
                _reopen(need, actor=actor, now=now)
            else:
                _close(need, actor=actor, now=now, data={"round": round_})
    return rating


def _reporter_for(actor: Actor, need: Need, reporter: NeedReporter | int | None, channel: str) -> NeedReporter:
    if reporter is not None:
        pk = reporter.pk if isinstance(reporter, NeedReporter) else reporter
        rep = need.reporters.filter(pk=pk).first()
        if rep is None:
            raise ValidationError({"reporter": [_("不是该诉求的反映人")]})
        if not is_system(actor) and rep.user_id != getattr(actor, "pk", None):
            if channel != RatingChannel.PHONE:
                raise PermissionDenied(_("只能评价自己反映的诉求"))
            require(actor, NEED["phone-rate"].capability, need.place)
        return rep
    if is_system(actor):
        raise ValidationError({"reporter": [_("缺少反映人")]})
    account = account_id(actor)
    rep = need.reporters.filter(user_id=account).first() if account is not None else None
    person = getattr(actor, "person", None)
    if rep is None and person is not None:
        rep = need.reporters.filter(person=person).first()
    if rep is None:
        raise PermissionDenied(_("只能评价自己反映的诉求"))
    return rep


def _reopen(need: Need, *, actor: Actor, now: dt.datetime) -> None:
    expect(need, AUTOMATIC["reopen"])
    before = need.status
    city = _city_of(need.place)
    if need.reopen_count == 0:
        need.reopen_count = 1
        need.status = Status.ACCEPTED
        need.resolution_due = _due(now, _limits(need.category, need.urgency)["resolution"], city)
        need.save(update_fields=["status", "reopen_count", "resolution_due"])
        record_need_event(need, EventKind.REOPENED, actor=actor, at=now, from_status=before)
        notify_need(need, "reopened")
        return
    higher = NEXT_LEVEL.get(need.level) or None
    if higher is None:
        # nowhere higher to go: closed as unsatisfied, the rating stands in the rates
        _close(need, actor=actor, now=now, data={"unsatisfied": True})
        return
    need.reopen_count += 1
    need.status = Status.ACCEPTED
    need.level = max(higher, Level.STREET, key=_level_rank)
    need.resolution_due = _due(now, [ESCALATION_LIMIT], city)
    need.save(update_fields=["status", "reopen_count", "level", "resolution_due"])
    record_need_event(
        need,
        EventKind.ESCALATED,
        actor=actor,
        at=now,
        from_status=before,
        data={"to": need.level, "why": "unsatisfied"},
    )
    notify_need(need, "escalated", to=higher)


def _level_rank(level: str) -> int:
    return [Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT].index(Level(level))


def _close(need: Need, *, actor: Actor, now: dt.datetime, data: dict[str, Any]) -> None:
    expect(need, AUTOMATIC["close"])
    before = need.status
    need.status, need.closed_at = Status.CLOSED, now
    need.save(update_fields=["status", "closed_at"])
    record_need_event(need, EventKind.CLOSED, actor=actor, at=now, from_status=before, data=data)


def needs_close_unrated(*, now: dt.datetime | None = None, days: int = UNRATED_CLOSE_DAYS) -> int:
    """Close resolved needs whose reporters did not all answer within ``days`` of resolution.
    The answers given count; the missing ones do not enter the rates (docs/rates.md)."""
    now = _now(now)
    cutoff = now - dt.timedelta(days=days)
    closed = 0
    for pk in Need.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff).values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            need = lock_need(pk)
            if need.status not in AUTOMATIC["close"].sources:  # rated or reopened meanwhile
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


def need_escalate(*, need: Need | int, why: str, now: dt.datetime | None = None, actor: Actor = SYSTEM) -> Need:
    """Move the need one level up (grid → community → street → district) with a fresh
    resolution deadline. Used by the deadline sweep; the caller holds the transaction."""
    now = _now(now)
    need = lock_need(need)
    higher = NEXT_LEVEL.get(need.level)
    if higher is None or need.status not in AUTOMATIC["escalate"].sources:
        return need  # nowhere higher, or no longer open (the sweep's deadline came too late)
    before = need.status
    need.level = higher
    # the next level gets at least ESCALATION_LIMIT, never less than the need already had
    fresh = _due(now, [ESCALATION_LIMIT], _city_of(need.place))
    need.resolution_due = max(fresh, need.resolution_due) if need.resolution_due else fresh
    need.save(update_fields=["level", "resolution_due"])
    record_need_event(
        need, EventKind.ESCALATED, actor=actor, at=now, from_status=before, data={"to": higher, "why": why}
    )
    notify_need(need, "escalated", to=higher)
    return need
