"""Reminders of meetings (会前提醒): an hourly sweep reminds each invitee, once, during the day
before their meeting (between 08:00 and 21:00 local time); one invited less than a day
ahead had the reminder in the invitation. It re-enqueues itself, like the visits' sweep.

Each meeting's reminders are claimed (``SELECT … FOR UPDATE SKIP LOCKED`` of the rows not
reminded yet, then marked) in the transaction that queues their notifications: a second
sweep running at the same moment skips the rows taken and sends nothing twice. Those who said
they would not come are not reminded."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.timezone import get_default_timezone
from django_tasks import task

from linli.core.notify import notify
from linli.core.tasks import schedule_next
from linli.deliberation.models import Invitation, MeetingStatus, Rsvp
from linli.deliberation.notifications.meetings import BATCH

SWEEP_SECONDS = 3600
#: How long before a meeting its invitees are reminded.
AHEAD = dt.timedelta(hours=24)
#: Local hours [start, end) in which reminders are sent.
SEND_FROM = dt.time(8, 0)
SEND_UNTIL = dt.time(21, 0)


def within_hours(now: dt.datetime) -> bool:
    return SEND_FROM <= now.astimezone(get_default_timezone()).time() < SEND_UNTIL


def meeting_reminders_sweep(*, now: dt.datetime | None = None) -> int:
    """Remind the invitees of meetings starting within the next day; returns how many."""
    now = now or timezone.now()
    if not within_hours(now):
        return 0
    due = Invitation.objects.filter(
        reminded_at__isnull=True,
        meeting__status=MeetingStatus.PLANNED,
        meeting__starts_at__gt=now,
        meeting__starts_at__lte=now + AHEAD,
    ).exclude(rsvp=Rsvp.NO)
    meetings = sorted(set(due.values_list("meeting_id", flat=True)))
    reminded = 0
    for meeting_id in meetings:
        with transaction.atomic():
            ids = sorted(
                Invitation.objects.filter(
                    pk__in=due.filter(meeting_id=meeting_id).values("pk"), reminded_at__isnull=True
                )
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
            Invitation.objects.filter(pk__in=ids).update(reminded_at=now)
            for start in range(0, len(ids), BATCH):
                notify("deliberation.meeting_reminder", meeting=meeting_id, invitations=ids[start : start + BATCH])
        reminded += len(ids)
    return reminded


@task()
def sweep_meeting_reminders() -> dict[str, int]:
    """Remind the invitees of tomorrow's meetings; then schedule the next sweep."""
    reminded = meeting_reminders_sweep()
    schedule_next(sweep_meeting_reminders, run_after=timezone.now() + dt.timedelta(seconds=SWEEP_SECONDS))
    return {"reminded": reminded}
