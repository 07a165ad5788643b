"""The deadline sweep: due-soon reminders and one-level-up escalation of overdue work.

Each action is its own transaction that first inserts a ``DeadlineAction`` row keyed by
(need, dispatch, deadline, action, due time). The unique constraint makes every action
happen exactly once: a worker killed mid-run rolls back the action it was in (the next run
does it again), and an action that committed is never repeated, by this worker or another
running at the same time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_tasks import task

from linli.core.access import SYSTEM
from linli.core.tasks import schedule_next
from linli.needs import services
from linli.needs.models import (
    DeadlineAction,
    DeadlineKind,
    Dispatch,
    DispatchStatus,
    EventKind,
    Need,
    Status,
)

REMIND_WITHIN = dt.timedelta(hours=4)
BATCH = 500


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0
    closed_unrated: int = 0
    done: list[tuple[int, int | None, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Due:
    need_id: int
    dispatch_id: int | None
    deadline: str
    action: str
    due_at: dt.datetime


def _not_done(qs: QuerySet[Any], *, deadline: str, action: str, due_field: str, dispatch: bool) -> QuerySet[Any]:
    done = DeadlineAction.objects.filter(deadline=deadline, action=action, due_at=OuterRef(due_field))
    if dispatch:
        done = done.filter(dispatch_id=OuterRef("pk"))
    else:
        done = done.filter(need_id=OuterRef("pk"), dispatch__isnull=True)
    return qs.filter(~Exists(done))


def _candidates(now: dt.datetime, remind_within: dt.timedelta) -> Iterator[_Due]:
    soon = now + remind_within
    esc, rem = DeadlineAction.Action.ESCALATE, DeadlineAction.Action.REMIND
    need_rules = [
        (Status.SUBMITTED, "response_due", DeadlineKind.RESPONSE),
        (None, "resolution_due", DeadlineKind.RESOLUTION),
    ]
    for status, due_field, deadline in need_rules:
        base = Need.objects.filter(status__in=[status] if status else [Status.ACCEPTED, Status.WHISTLED])
        for action, cond in (
            (esc, {f"{due_field}__lt": now}),
            (rem, {f"{due_field}__gte": now, f"{due_field}__lt": soon}),
        ):
            qs = _not_done(base.filter(**cond), deadline=deadline, action=action, due_field=due_field, dispatch=False)
            for pk, due in qs.order_by(due_field).values_list("pk", due_field)[:BATCH]:
                yield _Due(pk, None, deadline, action, due)
    dispatch_rules = [
        ([DispatchStatus.WHISTLED], "checkin_due", DeadlineKind.CHECKIN),
        ([DispatchStatus.WHISTLED, DispatchStatus.CHECKED_IN], "resolution_due", DeadlineKind.RESOLUTION),
    ]
    for statuses, due_field, deadline in dispatch_rules:
        base_d = Dispatch.objects.filter(status__in=statuses)
        for action, cond in (
            (esc, {f"{due_field}__lt": now}),
            (rem, {f"{due_field}__gte": now, f"{due_field}__lt": soon}),
        ):
            qs_d = _not_done(
                base_d.filter(**cond), deadline=deadline, action=action, due_field=due_field, dispatch=True
            )
            for pk, need_id, due in qs_d.order_by(due_field).values_list("pk", "need_id", due_field)[:BATCH]:
                yield _Due(need_id, pk, deadline, action, due)


def _act(item: _Due, now: dt.datetime) -> bool:
    """One action in one transaction; False when it was already done (by anyone)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                DeadlineAction.objects.create(
                    need_id=item.need_id,
                    dispatch_id=item.dispatch_id,
                    deadline=item.deadline,
                    action=item.action,
                    due_at=item.due_at,
                    done_at=now,
                )
        except IntegrityError:
            return False
        need = services.lock_need(item.need_id)
        department = None
        if item.dispatch_id is not None:
            department = Dispatch.objects.select_related("department").get(pk=item.dispatch_id).department
        remind = item.action == DeadlineAction.Action.REMIND
        services.record_need_event(
            need,
            EventKind.REMINDED if remind else EventKind.OVERDUE,
            actor=SYSTEM,
            at=now,
            from_status=need.status,
            department=department,
            data={"deadline": item.deadline, "due": item.due_at.isoformat()},
        )
        if remind:
            services.notify_need(need, "due_soon", deadline=item.deadline, dispatch=item.dispatch_id)
        else:
            services.need_escalate(need=need, why=f"overdue:{item.deadline}", now=now)
    return True


def deadlines_sweep(
    *,
    now: dt.datetime | None = None,
    remind_within: dt.timedelta = REMIND_WITHIN,
    after_each: Callable[[_Due], None] | None = None,
) -> SweepResult:
    """Remind of deadlines due within ``remind_within`` and escalate the overdue ones, each
    exactly once; then close resolved needs nobody rated in time. ``after_each`` is called
    after each committed action (the tests use it to kill a run half-way)."""
    now = now or timezone.now()
    result = SweepResult()
    for item in list(_candidates(now, remind_within)):
        if _act(item, now):
            if item.action == DeadlineAction.Action.REMIND:
                result.reminded += 1
            else:
                result.escalated += 1
            result.done.append((item.need_id, item.dispatch_id, item.deadline, item.action))
            if after_each is not None:
                after_each(item)
    result.closed_unrated = services.needs_close_unrated(now=now)
    return result


#: How often the worker sweeps.
SWEEP_SECONDS = 60


@task()
def sweep_deadlines() -> dict[str, int]:
    """Remind, escalate, close unrated needs; then schedule the next sweep (a periodic task
    the needs app registers with the worker)."""
    result = deadlines_sweep()
    schedule_next(sweep_deadlines, run_after=timezone.now() + dt.timedelta(seconds=SWEEP_SECONDS))
    return {"reminded": result.reminded, "escalated": result.escalated, "closed_unrated": result.closed_unrated}
