"""Reminders to carers of their overdue households (包保户到期提醒), found by the worker's
hourly sweep and sent through the notification outbox (``core.notify``).

A carer is reminded at most once per local day, and only between 09:00 and 20:00. Each reminder
is its own transaction that first inserts the ``VisitReminder(carer, day)`` row with
``ON CONFLICT DO NOTHING``: a second sweep, even one running at the same moment in another
worker, finds the row (or waits for the first transaction and then finds it) and queues nothing.
The notification is queued in that transaction and sent after it commits, with retries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext_lazy as _

from linli.core.notify import NotificationKind, Recipient, notify
from linli.people.models import Person
from linli.visits.models import VisitReminder
from linli.visits.selectors import CarerDue, overdue_by_carer

#: Local hours [start, end) in which carers may be sent a reminder.
SEND_FROM = dt.time(9, 0)
SEND_UNTIL = dt.time(20, 0)


def reminder_text(households: int, vulnerable: int) -> str:
    """The reminder's text (zh-Hans; the kinds below render it in the carer's language)."""
    values = {"households": households, "vulnerable": vulnerable}
    return (REMINDER_VULNERABLE if vulnerable else REMINDER).render(values)


def _carer(payload: dict[str, Any]) -> list[Recipient]:
    phone = Person.objects.filter(pk=payload["carer"]).values_list("phone", flat=True).first()
    return [Recipient(phone=phone)] if phone else []


REMINDER = NotificationKind(
    key="visits.reminder",
    text=_("【邻里】您包保的%(households)s户已到走访时间，请尽快上门走访。"),
    recipients=_carer,
    example={"households": 12, "vulnerable": 0},
)
REMINDER_VULNERABLE = NotificationKind(
    key="visits.reminder_vulnerable",
    text=_("【邻里】您包保的%(households)s户已到走访时间(其中%(vulnerable)s户为困难户)，请尽快上门走访。"),
    recipients=_carer,
    example={"households": 12, "vulnerable": 3},
)
KINDS = [REMINDER, REMINDER_VULNERABLE]


def within_hours(now: dt.datetime) -> bool:
    return SEND_FROM <= now.astimezone(get_default_timezone()).time() < SEND_UNTIL


def _claim(due: CarerDue, day: dt.date, now: dt.datetime) -> bool:
    """Insert today's reminder row for the carer; False when one exists (or is being written by
    a concurrent sweep, which this waits for)."""
    table = VisitReminder._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {table} (carer_id, day, overdue, sent_at) VALUES (%s, %s, %s, %s)
                ON CONFLICT (carer_id, day) DO NOTHING RETURNING id""",  # noqa: S608 (table name only)
            [due.carer_id, day, due.households, now],
        )
        return cur.fetchone() is not None


def reminders_sweep(*, now: dt.datetime | None = None) -> int:
    """Remind every carer with households overdue or never visited, once per local day and
    within sending hours. Returns how many carers were reminded (a carer without a phone
    number counts, though no message can reach them)."""
    now = now or timezone.now()
    if not within_hours(now):
        return 0
    day = now.astimezone(get_default_timezone()).date()
    dues = overdue_by_carer(now=now)
    done = set(
        VisitReminder.objects.filter(day=day, carer_id__in=[d.carer_id for d in dues]).values_list(
            "carer_id", flat=True
        )
    )
    todo = [d for d in dues if d.carer_id not in done]
    reminded = 0
    for due in todo:
        with transaction.atomic():
            if not _claim(due, day, now):
                continue
            if due.vulnerable:
                notify(
                    "visits.reminder_vulnerable",
                    carer=due.carer_id,
                    households=due.households,
                    vulnerable=due.vulnerable,
                )
            else:
                notify("visits.reminder", carer=due.carer_id, households=due.households, vulnerable=0)
        reminded += 1
    return reminded
